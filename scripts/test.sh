#!/usr/bin/env bash
# The full test suite (what `make test` and CI run), after `scripts/setup.sh
# test` and the Python venv: the Rust tests (all, the ignored ones included),
# the Python package's pytest suite, then 20 s of fuzzing per input reader.
#
# The two large builds run side by side first: the tests' build (stable, dev
# profile) and the fuzz targets' (nightly, release, with cargo-fuzz's install
# when missing). Each leaves one of the two cores idle for long stretches
# (one crate's front end, linking), so together they finish sooner than one
# after the other. The tests then run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
fuzz_log=target/fuzz-build.log
scripts/fuzz.sh --build-only >"$fuzz_log" 2>&1 &
fuzz_build=$!
test_build=0
cargo test --no-run || test_build=$?
fuzz_status=0
wait "$fuzz_build" || fuzz_status=$?
if [ "$fuzz_status" -ne 0 ]; then
  tail -40 "$fuzz_log" >&2
  echo "test: the fuzz targets' build failed (log $fuzz_log)" >&2
  exit 1
fi
[ "$test_build" -eq 0 ] || exit "$test_build"
GRIDSIM_PYTHON="$PWD/.venv/bin/python" cargo test -- --include-ignored
MATURIN_PEP517_ARGS="--profile dev" .venv/bin/pip install --quiet ./python
.venv/bin/python -m pytest -q python/tests
scripts/fuzz.sh 20

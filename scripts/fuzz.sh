#!/usr/bin/env bash
# Bounded fuzzing of every input reader (cargo-fuzz, libFuzzer, nightly
# toolchain): the MATPOWER interpreter, the native network reader, the
# pandapower JSON importer, the
# scenario builder, the profile and element readers, the region file
# and its sampling. Seed corpora are made
# from the shipped files each run (nothing copied into the repository);
# what libFuzzer adds is kept in target/fuzz-corpus between runs.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 30 s, all)
#
# A crash, a timeout (10 s for one input) or an input using more than 4 GB
# fails the run; the input is left in fuzz/artifacts/<target>/ — add it to
# tests/ as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(matpower native pandapower scenario profiles elements region)

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz: the nightly toolchain is not installed (rustup toolchain install nightly); cannot fuzz" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  # A debug build of the wrapper (it only calls cargo): 29 s instead of 47.
  echo "fuzz: installing cargo-fuzz (once, about a minute)" >&2
  cargo install cargo-fuzz --locked --quiet --debug
fi

seeds() {
  local t="$1" dir="target/fuzz-corpus/$1"
  mkdir -p "$dir"
  case "$t" in
    matpower) cp networks/*.m networks/simbench-*/network.m "$dir/" 2>/dev/null || true
              for f in networks/simbench-*/network.m; do cp "$f" "$dir/$(basename "$(dirname "$f")").m"; done ;;
    native)   cp networks/*.toml tests/data/networks/*_edits.toml "$dir/" ;;
    pandapower) cp tests/data/pandapower/cigre_lv.json tests/data/pandapower/edge_cases.json \
                  tests/data/pandapower/unsupported.json "$dir/" ;;
    scenario) cp scenarios/*.toml "$dir/" ;;
    region)   cp regions/*.toml "$dir/" ;;
    profiles) for f in networks/simbench-*/profiles.csv.gz; do
                name="$dir/$(basename "$(dirname "$f")")"
                gzip -dc "$f" | head -200 > "$name.csv"
                gzip -c "$name.csv" > "$name.csv.gz"; done ;;
    elements) for f in networks/simbench-*/elements.csv; do
                head -40 "$f" > "$dir/$(basename "$(dirname "$f")").csv"; done ;;
  esac
  echo "$dir"
}

# 16 codegen units instead of cargo-fuzz's 1: the fuzz build takes about a
# minute less on 2 cores (5 min 17 s from scratch instead of 6 min 17 s),
# the targets run a little slower. Build and run must pass the same options,
# or the run builds again.
fuzz_opts=(-s none --codegen-units 16)
cargo +nightly fuzz build "${fuzz_opts[@]}"
mkdir -p target/fuzz-logs

# One target: fuzz it for $secs s, print libFuzzer's final statistics; on a
# crash, a timeout or too much memory print the log's end and fail.
fuzz_one() {
  local t="$1" corpus log status=0
  corpus="$(seeds "$t")"
  log="target/fuzz-logs/$t.log"
  echo "fuzz: $t for $secs s (seed corpus $(ls "$corpus" | wc -l) inputs in $corpus)" >&2
  cargo +nightly fuzz run "${fuzz_opts[@]}" "$t" "$corpus" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" | sed "s/^/  $t /" >&2 || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/ (log $log)" >&2
    return 1
  fi
}

# As many targets at once as there are cores (each libFuzzer process uses
# one): on 2 cores the 7 targets take 4 rounds of $secs s instead of 7.
jobs="$(nproc 2>/dev/null || echo 1)"
failed=0
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  pids=()
  for t in "${targets[@]:i:jobs}"; do
    fuzz_one "$t" & pids+=("$!")
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
done
[ "$failed" -eq 0 ] || { echo "fuzz: a target failed (above)" >&2; exit 1; }
echo "fuzz: all targets ran $secs s each without a crash" >&2

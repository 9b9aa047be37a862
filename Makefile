# Two entry points for newcomers (see README.md). Both install what is missing first.
.PHONY: setup setup-test venv run test fuzz bench bench-compare lint python

setup:
	@./scripts/setup.sh

# What the tests need besides: Chromium for the report's browser test.
setup-test:
	@./scripts/setup.sh test

# Python test client (xarray, h5netcdf, pandas, h5py; pinned) that proves
# results files read with no glue. Installs from the Python package index.
.venv/.installed: tests/python/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet -r tests/python/requirements.txt
	touch .venv/.installed

venv: .venv/.installed

# The main job: the shipped rural year-long study (6 variants, the base included) and its comparison.
run: setup
	cargo run --release --quiet -- run scenarios/rural_chp_renewables.toml --out results/rural.h5 --force
	cargo run --release --quiet -- compare results/rural.h5

# The full test suite (the command CI runs), including the Python client test,
# the Python package's tests, then 20 s of fuzzing per input reader (cargo-fuzz
# on the nightly toolchain). `cargo test` names the Python package (which has
# no Rust tests) so that the crates it shares with gridsim get the same
# features as in the Python build, which then (in the dev profile, whose
# settings the test profile inherits) reuses the gridsim library and
# dependencies just built (2 min less in CI).
test: setup-test venv
	GRIDSIM_PYTHON=$(CURDIR)/.venv/bin/python cargo test --workspace --exclude gridsim-benches -- --include-ignored
	MATURIN_PEP517_ARGS="--profile dev" .venv/bin/pip install --quiet ./python
	.venv/bin/python -m pytest -q python/tests
	scripts/fuzz.sh 20

# The Python package into the venv, optimised (as `pip install ./python` builds it).
python: venv
	.venv/bin/pip install ./python

# Longer fuzzing: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 300
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: setup
	cargo bench -p gridsim-benches

# Side by side with power-grid-model on the SimBench MV urban year (own venv, ~5 min;
# installs power-grid-model and its dependencies from the Python package index).
bench-compare: setup
	tools/bench/compare_pgm.sh --repeats 5

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

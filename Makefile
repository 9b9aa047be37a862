# Two entry points for newcomers (see README.md). Both install what is missing first.
.PHONY: setup run test bench lint

setup:
	@./scripts/setup.sh

# The main job on the shipped default network.
run: setup
	cargo run --release --quiet -- pf networks/case33bw.m

# The full test suite (the command CI runs).
test: setup
	cargo test

bench: setup
	cargo bench --bench powerflow

lint: setup
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

#!/usr/bin/env bash
# Side-by-side benchmark: gridsim vs power-grid-model on a SimBench year.
# Installs what it needs (system packages via scripts/setup.sh, a Python venv with
# power-grid-model in .venv-bench), builds gridsim in release mode, then runs
# tools/bench/compare_pgm.py. Extra arguments go to the Python script
# (e.g. --repeats 7 --json bench.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
VENV=.venv-bench
if ! "$VENV/bin/python" -c "import power_grid_model, power_grid_model_io, simbench, h5py" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet power-grid-model==1.12.110 power-grid-model-io==1.3.38 \
        pandapower==3.5.6 simbench==1.6.3 numpy==2.4.6 pandas==2.3.3 h5py==3.16.0
fi
cargo build --release --quiet
exec "$VENV/bin/python" tools/bench/compare_pgm.py --gridsim target/release/gridsim "$@"

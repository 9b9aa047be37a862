#!/usr/bin/env bash
# Installs the system packages gridsim needs on Debian, only when missing.
# Safe to run repeatedly; does nothing when everything is present.
# `setup.sh test` also installs what the test suite needs (Chromium, which
# renders the HTML report in the browser test; Slurm and munge, which
# tests/shards.rs starts as a single-node cluster).
set -euo pipefail
need=(libhdf5-dev pkg-config)
# libhdf5-dev: HDF5 results (hdf5-metno crate; its libhdf5_hl for dimension
# scales); pkg-config: lets hdf5-sys find it
[ "${1:-}" = "test" ] && need+=(chromium slurm-wlm munge)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${need[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
python3 -c "import venv, ensurepip" 2>/dev/null || { echo "setup: installing python3-venv" >&2; ${SUDO:-} apt-get update -qq; ${SUDO:-} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
# The test suite's builds (tests, the Python package, the fuzz targets) need
# about 5 GB of disk in a fresh clone: say so up front rather than fail
# half-way through with "No space left on device".
if [ "${1:-}" = "test" ]; then
  free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
  if [ "${free_kb:-0}" -lt 6000000 ]; then
    echo "setup: warning: only $((free_kb / 1024)) MiB free here; make test needs about 5 GB" >&2
  fi
fi

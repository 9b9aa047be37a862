#!/usr/bin/env bash
# Results-file size per --series choice: a year of SimBench MV urban (quick
# path, float32, no compression), as README "Results file" quotes it.
# Usage: tools/bench/series_sizes.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
net=networks/simbench-mv-urban
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for series in all bus,line,transformer bus line transformer load totals; do
  out="$dir/s.h5"
  ./target/release/gridsim run --quiet --force --series "$series" \
    --network "$net/network.m" --elements "$net/elements.csv" \
    --profiles "$net/profiles.csv.gz" --out "$out" >/dev/null 2>&1
  printf '%-22s %8.1f MB\n' "$series" "$(echo "$(stat -c %s "$out") / 1000000" | bc -l)"
done

#!/bin/bash
# Benchmark of `gridsim region` (not a timed test): regions/bench_700.toml —
# 700 feeders of four archetypes × 10 years × 3 programmes, 1000 samples —
# at 1 and 2 threads, median of 3 runs each (interleaved), with the cost per
# feeder-year. Usage: tools/bench/region_bench.sh [REGION.toml]
set -euo pipefail
cd "$(dirname "$0")/../.."
region=${1:-regions/bench_700.toml}
cargo build --release --quiet
bin=target/release/gridsim
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
declare -A times mems
for rep in 1 2 3; do
  for t in 1 2; do
    s=$( { /usr/bin/time -f "%e %M" "$bin" region "$region" --threads "$t" > /dev/null; } 2>&1 | tail -1)
    times[$t]+="${s%% *} "
    mems[$t]=${s##* }
  done
done
feeder_years=$(python3 - "$region" <<'PY'
import sys, tomllib
r = tomllib.load(open(sys.argv[1], "rb"))
def central(v):
    if isinstance(v, dict):
        return v.get("mode", (v["low"] + v["high"]) / 2)
    return v
n = sum(central(a["feeders"]) for a in r["archetype"])
print(n * (r["years"][1] - r["years"][0] + 1))
PY
)
for t in 1 2; do
  med=$(echo ${times[$t]} | tr ' ' '\n' | sort -g | sed -n 2p)
  per=$(python3 -c "print(f'{$med / $feeder_years * 1000:.2f}')")
  echo "$t thread(s): ${med} s (runs: ${times[$t]}); ${feeder_years} feeder-years: ${per} ms per feeder-year; peak memory ${mems[$t]} kB"
done

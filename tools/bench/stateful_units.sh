#!/usr/bin/env bash
# A scenario whose units have state (two heat-led CHP units with heat
# buffers, a peak-shaving battery, a PV park) against the same SimBench MV
# rural year without units: the time gridsim reports for solving and writing
# the year, median of REPEATS (default 5) runs after a warm-up, at 1 and 2
# threads, and the ratio. Usage: tools/bench/stateful_units.sh [GRIDSIM] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=${1:-target/release/gridsim}
repeats=${2:-5}
[ -x "$exe" ] || cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_once() {
    rm -f "$out/o.h5"
    "$exe" run "tools/bench/$1.toml" --out "$out/o.h5" --threads "$2" 2>&1 |
        sed -n 's/.*solved and written in \([0-9.]*\) s.*/\1/p'
}
for threads in 1 2; do
    for s in mv_rural_no_units mv_rural_pv_chp_battery; do
        run_once "$s" "$threads" >/dev/null
        eval "t_${s}=\$(for _ in \$(seq $repeats); do run_once $s $threads; done | median)"
    done
    printf '%d thread(s): no units %s s, PV + CHP + battery %s s, ratio %.2f\n' "$threads" \
        "$t_mv_rural_no_units" "$t_mv_rural_pv_chp_battery" \
        "$(echo "$t_mv_rural_pv_chp_battery / $t_mv_rural_no_units" | bc -l)"
done

#!/usr/bin/env bash
# Two benchmark scenarios (tools/bench/A.toml and B.toml) side by side: the
# time gridsim reports for solving and writing each, median of REPEATS
# (default 5) runs after a warm-up, at 1 and 2 threads, and the ratio B / A.
# Usage: tools/bench/ratio.sh A B [GRIDSIM] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
a=$1
b=$2
exe=${3:-target/release/gridsim}
repeats=${4:-5}
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
    run_once "$a" "$threads" >/dev/null
    run_once "$b" "$threads" >/dev/null
    ta=$(for _ in $(seq "$repeats"); do run_once "$a" "$threads"; done | median)
    tb=$(for _ in $(seq "$repeats"); do run_once "$b" "$threads"; done | median)
    printf '%d thread(s): %s %s s, %s %s s, ratio %.2f\n' "$threads" "$a" "$ta" "$b" "$tb" \
        "$(echo "$tb / $ta" | bc -l)"
done

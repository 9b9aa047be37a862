#!/usr/bin/env bash
# Two gridsim builds on the same run, interleaved round by round (A then B),
# so that the machine's drift hits both alike: the "solved and written" time
# each reports, the medians over ROUNDS, and the median of the per-round
# ratios B / A. Use it for before/after claims (copy the old binary away
# before rebuilding).
#
#   tools/bench/ab.sh ROUNDS OLD_GRIDSIM NEW_GRIDSIM -- RUN_ARGS...
#
# RUN_ARGS are `gridsim run`'s arguments without --out (a temporary file is
# added and deleted before every run), e.g.
#   tools/bench/ab.sh 10 /tmp/gridsim.old target/release/gridsim -- \
#       --network F/network.m --elements F/elements.csv --profiles F/profiles.csv.gz \
#       --steps 672 --tol 1e-8 --series bus --threads 1
set -euo pipefail
[ "$#" -ge 4 ] && [ "$4" = "--" ] || { sed -n '2,14p' "$0" >&2; exit 2; }
rounds=$1
a=$2
b=$3
shift 4
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run_once() {
    rm -f "$out/o.h5"
    "$1" run "${@:2}" --out "$out/o.h5" 2>&1 |
        sed -n 's/.*solved and written in \([0-9.]*\) s.*/\1/p'
}
for _ in $(seq "$rounds"); do
    ta=$(run_once "$a" "$@")
    tb=$(run_once "$b" "$@")
    [ -n "$ta" ] && [ -n "$tb" ] || { echo "ab: a run failed" >&2; exit 1; }
    echo "$ta $tb"
done | awk '
    { a[NR] = $1; b[NR] = $2; r[NR] = $2 / $1; print }
    function median(x, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t }
        return n % 2 ? x[(n+1)/2] : (x[n/2] + x[n/2+1]) / 2
    }
    END {
        n = NR
        printf "A median %.3f s, B median %.3f s, median of the %d ratios B/A %.3f\n",
            median(a, n), median(b, n), n, median(r, n)
    }'

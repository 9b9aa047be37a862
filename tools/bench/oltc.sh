#!/usr/bin/env bash
# Tap changers: the main job's four PV parks under Q(U) and P(U) with the
# tap changers of both substation transformers (OLTC, set-point 1.0 p.u.)
# against the same parks without them (tools/bench/ratio.sh: solve and
# write, medians, 1 and 2 threads). Usage: tools/bench/oltc.sh [GRIDSIM] [REPEATS]
exec "$(dirname "$0")/ratio.sh" mv_rural_pv_parks_qu_pu mv_rural_pv_parks_qu_pu_oltc "$@"

#!/usr/bin/env bash
# The main job's four 3 MWp PV parks under Q(U) and P(U) against the same
# parks without control, SimBench MV rural year (tools/bench/ratio.sh: solve
# and write, medians, 1 and 2 threads). Usage: tools/bench/inverter_curves.sh [GRIDSIM] [REPEATS]
exec "$(dirname "$0")/ratio.sh" mv_rural_pv_parks mv_rural_pv_parks_qu_pu "$@"

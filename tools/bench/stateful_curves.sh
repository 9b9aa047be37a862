#!/usr/bin/env bash
# Units with state beside Q(U) and P(U): the units of stateful_units.sh with
# the PV park under Q(U) and P(U) (1.04-1.07 p.u.), in lanes, against the
# same with the tap changers of both substation transformers, solved ahead
# (tools/bench/ratio.sh: solve and write, medians, 1 and 2 threads).
# Usage: tools/bench/stateful_curves.sh [GRIDSIM] [REPEATS]
exec "$(dirname "$0")/ratio.sh" mv_rural_pv_chp_battery_curves mv_rural_pv_chp_battery_curves_oltc "$@"

#!/usr/bin/env bash
# Units with state and tap changers: the SimBench MV rural year with a PV
# park, two heat-led CHP units with heat buffers and a peak-shaving battery,
# with the tap changers of both substation transformers (OLTC, set-point
# 1.0 p.u.) against the same units without them (tools/bench/ratio.sh:
# solve and write, medians, 1 and 2 threads).
# Usage: tools/bench/stateful_oltc.sh [GRIDSIM] [REPEATS]
exec "$(dirname "$0")/ratio.sh" mv_rural_pv_chp_battery mv_rural_pv_chp_battery_oltc "$@"

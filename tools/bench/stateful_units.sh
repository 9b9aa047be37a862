#!/usr/bin/env bash
# A scenario whose units have state (two heat-led CHP units with heat
# buffers, a peak-shaving battery, a PV park) against the same SimBench MV
# rural year without units (tools/bench/ratio.sh: solve and write, medians,
# 1 and 2 threads). Usage: tools/bench/stateful_units.sh [GRIDSIM] [REPEATS]
exec "$(dirname "$0")/ratio.sh" mv_rural_no_units mv_rural_pv_chp_battery "$@"

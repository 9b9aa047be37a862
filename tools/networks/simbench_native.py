"""Writes networks/simbench-lv-rural1/network.toml: SimBench 1-LV-rural1--0-sw in gridsim's native
format with every line and transformer in engineering units (length, ohm/km, nF/km, ampacity, the
SimBench type name as `std_type`), so that a cost catalogue can price reconductoring, parallel cables
and transformer upgrades on it.

Run from the repository root with the pinned tools:
    python3 -m venv /tmp/ppvenv && /tmp/ppvenv/bin/pip install pandapower==3.5.6 simbench==1.6.3
    /tmp/ppvenv/bin/python tools/networks/simbench_native.py

Buses are numbered as in the folder's network.m and element table (bus_map.csv: MATPOWER bus =
pandapower index + 1), so `elements.csv` and `profiles.csv.gz` apply unchanged. Loads are the
base snapshot's; generators are written as negative loads, as network.m holds them, so that an
element table replaces both (tests/networks.rs checks that this file and network.m give the same
power flow).
"""
import csv
from pathlib import Path

import simbench as sb

ROOT = Path(__file__).resolve().parents[2]
GRID = "1-LV-rural1--0-sw"
FOLDER = ROOT / "networks/simbench-lv-rural1"


def q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def num(x):
    return repr(float(x))


def main():
    net = sb.get_simbench_net(GRID)
    with open(FOLDER / "bus_map.csv") as f:
        bus_no = {int(r["pp_bus"]): int(r["matpower_bus"]) for r in csv.DictReader(f)}
    out = [
        f"# SimBench {GRID} (base snapshot) in engineering units, written by tools/networks/simbench_native.py",
        "# from simbench 1.6.3 / pandapower 3.5.6. Bus ids are the MATPOWER numbers of network.m and",
        "# elements.csv beside this file; generators appear as negative loads (as in network.m), so an",
        "# element table replaces all of them. SimBench data: ODbL 1.0, see networks/README.md.",
        "",
        "[network]",
        f'name = "simbench_lv_rural1_lines"',
        f"description = {q('SimBench ' + GRID + ' base snapshot with line and transformer data in engineering units')}",
        f"source = {q('SimBench v1 (ODbL 1.0), via simbench 1.6.3 and pandapower 3.5.6; see networks/README.md')}",
        "base_mva = 1.0",
        "frequency_hz = 50.0",
        "",
    ]
    for i, b in net.bus.iterrows():
        if i not in bus_no:
            continue
        out += ["[[bus]]", f'id = "{bus_no[i]}"', f"name = {q(b['name'])}",
                f"vn_kv = {num(b.vn_kv)}", "vmin_pu = 0.9", "vmax_pu = 1.1", ""]
    for _, e in net.ext_grid.iterrows():
        out += ["[[ext_grid]]", f"id = {q(e['name'])}", f'bus = "{bus_no[e.bus]}"',
                f"vm_pu = {num(e.vm_pu)}", f"va_degree = {num(e.va_degree)}", ""]
    for _, l in net.line.iterrows():
        out += ["[[line]]", f"id = {q(l['name'])}", f'from = "{bus_no[l.from_bus]}"',
                f'to = "{bus_no[l.to_bus]}"', f"length_km = {num(l.length_km)}",
                f"r_ohm_per_km = {num(l.r_ohm_per_km)}", f"x_ohm_per_km = {num(l.x_ohm_per_km)}",
                f"c_nf_per_km = {num(l.c_nf_per_km)}", f"max_i_ka = {num(l.max_i_ka)}",
                f"std_type = {q(l.std_type)}", f"in_service = {str(bool(l.in_service)).lower()}", ""]
    for _, t in net.trafo.iterrows():
        out += ["[[transformer]]", f"id = {q(t['name'])}", f'hv_bus = "{bus_no[t.hv_bus]}"',
                f'lv_bus = "{bus_no[t.lv_bus]}"', f"sn_mva = {num(t.sn_mva)}",
                f"vn_hv_kv = {num(t.vn_hv_kv)}", f"vn_lv_kv = {num(t.vn_lv_kv)}",
                f"vk_percent = {num(t.vk_percent)}", f"vkr_percent = {num(t.vkr_percent)}",
                f"pfe_kw = {num(t.pfe_kw)}", f"i0_percent = {num(t.i0_percent)}",
                f"shift_degree = {num(t.shift_degree)}", f"tap_side = {q(t.tap_side)}",
                f"tap_pos = {num(t.tap_pos)}", f"tap_neutral = {num(t.tap_neutral)}",
                f"tap_min = {num(t.tap_min)}", f"tap_max = {num(t.tap_max)}",
                f"tap_step_percent = {num(t.tap_step_percent)}", 'tap_changer_type = "ratio"', ""]
    for kind, table, sign in (("load", net.load, 1.0), ("sgen", net.sgen, -1.0)):
        for _, e in table.iterrows():
            if not e.in_service:
                continue
            p, qv = sign * e.p_mw * e.scaling, sign * e.q_mvar * e.scaling
            out += ["[[load]]", f"id = {q(e['name'])}", f'bus = "{bus_no[e.bus]}"',
                    f"p_mw = {num(p)}", f"q_mvar = {num(qv)}", ""]
    (FOLDER / "network.toml").write_text("\n".join(out))
    print("wrote", FOLDER / "network.toml")


if __name__ == "__main__":
    main()

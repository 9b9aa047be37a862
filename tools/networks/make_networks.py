"""Writes the native network files in networks/ that derive from published data.

Run once from the repository root with the project venv (pandapower installed):
    .venv/bin/pip install pandapower==3.5.6
    .venv/bin/python tools/networks/make_networks.py

- ieee33.toml, ieee69.toml: Baran & Wu feeders from the MATPOWER 8.1 case files
  (tests/data/matpower/cases/case33bw.m, case69.m), whose branch data are in ohms and
  loads in kW before the files' own unit conversion.
- cigre_mv_der.toml, cigre_lv.toml: CIGRE TB 575 benchmarks as transcribed in
  pandapower.networks.create_cigre_network_mv(with_der="all") / create_cigre_network_lv().
The reference results are made by reference.py.
"""
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def matrix(text, name):
    m = re.search(r"mpc\." + name + r"\s*=\s*\[(.*?)\];", text, re.S)
    rows = []
    for line in m.group(1).splitlines():
        line = line.split("%")[0].strip().rstrip(";")
        if line:
            rows.append([float(x) for x in line.split()])
    return rows


def baran_wu(case, out, title, source):
    text = (ROOT / f"tests/data/matpower/cases/{case}.m").read_text()
    bus = matrix(text, "bus")
    branch = matrix(text, "branch")
    vn = bus[0][9]
    o = [f"# {title}", f"# Source: {source}", f"# Converted from MATPOWER 8.1 {case}.m (branch data in ohms, loads in kW there).",
         "# Published branch impedances are per branch in ohms: each line is written as 1 km",
         "# with r/x in ohm/km equal to the branch's ohms. No line charging.", "",
         "[network]", f"name = {q(case)}", f"source = {q(source)}", "base_mva = 10.0", "frequency_hz = 50.0", ""]
    for b in bus:
        o += ["[[bus]]", f'id = "{int(b[0])}"', f"vn_kv = {vn}", ""]
    o += ["[[ext_grid]]", 'id = "substation"', f'bus = "{int(bus[0][0])}"', "vm_pu = 1.0", ""]
    for k, br in enumerate(branch):
        o += ["[[line]]", f'id = "L{k + 1}"', f'from = "{int(br[0])}"', f'to = "{int(br[1])}"', "length_km = 1.0",
              f"r_ohm_per_km = {br[2]!r}", f"x_ohm_per_km = {br[3]!r}"]
        if br[10] == 0:
            o.append("in_service = false  # tie switch, normally open")
        o.append("")
    for b in bus:
        if b[2] or b[3]:
            o += ["[[load]]", f'id = "D{int(b[0])}"', f'bus = "{int(b[0])}"', f"p_mw = {b[2] / 1e3!r}",
                  f"q_mvar = {b[3] / 1e3!r}", ""]
    (ROOT / "networks" / out).write_text("\n".join(o))


def cigre(kind):
    import pandapower.networks as pn
    if kind == "mv":
        net = pn.create_cigre_network_mv(with_der="all")
        out, title = "cigre_mv_der.toml", "CIGRE MV benchmark (European configuration) with all DER"
    else:
        net = pn.create_cigre_network_lv()
        out, title = "cigre_lv.toml", "CIGRE LV benchmark (European configuration): residential, industrial, commercial feeders"
    src = ("CIGRE Task Force C6.04.02, 'Benchmark Systems for Network Integration of Renewable and "
           "Distributed Energy Resources', Technical Brochure 575, 2014; data as in pandapower 3.5.6 "
           f"pandapower.networks.create_cigre_network_{kind}()")
    o = [f"# {title}", f"# Source: {src}", "# Written by tools/networks/make_networks.py.", "",
         "[network]", f"name = {q('cigre_' + kind)}", f"source = {q(src)}", "base_mva = 1.0", "frequency_hz = 50.0", ""]
    name = net.bus.name
    for i, b in net.bus.iterrows():
        o += ["[[bus]]", f"id = {q(b['name'])}", f"vn_kv = {b.vn_kv!r}"]
        geo = b.get("geo") if "geo" in net.bus.columns else None
        if isinstance(geo, str):
            import json
            x, y = json.loads(geo)["coordinates"][:2]
            o += [f"x = {float(x)!r}", f"y = {float(y)!r}"]
        o.append("")
    for i, e in net.ext_grid.iterrows():
        o += ["[[ext_grid]]", f'id = "grid"', f"bus = {q(name[e.bus])}", f"vm_pu = {e.vm_pu!r}", f"va_degree = {e.va_degree!r}",
              f"sc_mva = {float(e.s_sc_max_mva)!r}", ""]
    for i, l in net.line.iterrows():
        o += ["[[line]]", f"id = {q(l['name'])}", f"from = {q(name[l.from_bus])}", f"to = {q(name[l.to_bus])}",
              f"length_km = {l.length_km!r}", f"type = {q(l.std_type)}", ""]
    for i, t in net.trafo.iterrows():
        o += ["[[transformer]]", f"id = {q(t['name'])}", f"hv_bus = {q(name[t.hv_bus])}", f"lv_bus = {q(name[t.lv_bus])}",
              f"sn_mva = {t.sn_mva!r}", f"vn_hv_kv = {t.vn_hv_kv!r}", f"vn_lv_kv = {t.vn_lv_kv!r}",
              f"vk_percent = {t.vk_percent!r}", f"vkr_percent = {t.vkr_percent!r}",
              f"pfe_kw = {t.pfe_kw!r}", f"i0_percent = {t.i0_percent!r}", f"shift_degree = {t.shift_degree!r}", ""]
    for i, s in net.switch.iterrows():
        sid = s["name"] if isinstance(s["name"], str) and s["name"] else f"switch {i}"
        o += ["[[switch]]", f"id = {q(sid)}", f"bus = {q(name[s.bus])}"]
        if s.et == "l":
            o.append(f"line = {q(net.line.name[s.element])}")
        elif s.et == "t":
            o.append(f"transformer = {q(net.trafo.name[s.element])}")
        else:
            o.append(f"to_bus = {q(name[s.element])}")
        o += [f"closed = {'true' if s.closed else 'false'}", ""]
    for i, l in net.load.iterrows():
        cls = "residential" if l["name"].startswith("Load R") else ("industrial" if l["name"].startswith("Load I") else "commercial")
        o += ["[[load]]", f"id = {q(l['name'])}", f"bus = {q(name[l.bus])}", f"p_mw = {l.p_mw!r}", f"q_mvar = {l.q_mvar!r}",
              f'class = "{cls}"', ""]
    for i, s in net.sgen.iterrows():
        t = s["type"]
        if t == "PV":
            o += ["[[pv]]", f"id = {q(s['name'])}", f"bus = {q(name[s.bus])}", f"kwp = {s.p_mw * 1000!r}", f"p_mw = {s.p_mw!r}", ""]
        elif t == "WP":
            o += ["[[wind]]", f"id = {q(s['name'])}", f"bus = {q(name[s.bus])}", f"rated_mw = {s.p_mw!r}", 'turbine_class = "II"', ""]
        else:
            tech, el, th, fuel = {
                "CHP diesel": ("diesel", 0.40, 0.45, "diesel"),
                "Fuel cell": ("fuel_cell", 0.45, 0.40, "natural_gas"),
                "Residential fuel cell": ("fuel_cell", 0.45, 0.40, "natural_gas"),
            }[t]
            o += [f"# {t}: efficiencies are gridsim's technology defaults (TB 575 gives ratings only)",
                  "[[chp]]", f"id = {q(s['name'])}", f"bus = {q(name[s.bus])}", f'technology = "{tech}"',
                  f"rated_mw = {s.p_mw!r}", f"eta_el = {el}", f"eta_th = {th}", f'fuel = "{fuel}"', ""]
    for i, s in net.storage.iterrows():
        o += ["# battery energy is not given in TB 575: 2 h of rated power assumed",
              "[[storage]]", f"id = {q(s['name'])}", f"bus = {q(name[s.bus])}", f"capacity_mwh = {2 * s.max_p_mw!r}",
              f"power_mw = {s.max_p_mw!r}", f"p_mw = {s.p_mw!r}  # charging in the base case, as in pandapower", ""]
    (ROOT / "networks" / out).write_text("\n".join(o))


if __name__ == "__main__":
    baran_wu("case33bw", "ieee33.toml", "IEEE 33-bus distribution feeder (12.66 kV)",
             "M. E. Baran and F. F. Wu, Network reconfiguration in distribution systems for loss reduction and "
             "load balancing, IEEE Trans. Power Delivery 4(2), 1401-1407, 1989")
    baran_wu("case69", "ieee69.toml", "IEEE 69-bus distribution feeder (12.66 kV)",
             "M. E. Baran and F. F. Wu, Optimal capacitor placement on radial distribution systems, "
             "IEEE Trans. Power Delivery 4(1), 725-734, 1989")
    cigre("mv")
    cigre("lv")
    print("written", file=sys.stderr)

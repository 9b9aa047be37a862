"""pandapower networks as JSON files (pandapower.to_json) with pandapower's own power-flow results,
for gridsim's pandapower import tests.

Run from the repository root with the pinned pandapower (the same venv as reference.py):
    .venv/bin/pip install pandapower==3.5.6 simbench==1.6.3
    .venv/bin/python tools/networks/pandapower_json.py
Writes tests/data/pandapower/<name>.json (the network) and <name>.result.json (bus vm/va by bus name,
slack power, losses of lines, transformers and impedance switches, res_line / res_trafo rows by
element name). pandapower's defaults (trafo_model "t",
voltage-dependent loads), Newton-Raphson to 1e-11 MVA, voltage angles calculated.
"""
import gzip
import json
import math
import sys
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/pandapower"
OPTS = dict(algorithm="nr", tolerance_mva=1e-11, calculate_voltage_angles=True, max_iteration=50)


def edge_cases():
    """Hand-made: an open transformer switch, an open line end, scaled and ZIP loads, out-of-service
    elements, a PV and a wind sgen, a shunt rated at another voltage, a storage unit, tapped transformers,
    parallel and derated transformers, a line with shunt conductance and derating."""
    net = pp.create_empty_network(name="edge cases", sn_mva=1.0)
    hv = pp.create_bus(net, 20.0, name="HV")
    b = [pp.create_bus(net, 0.4, name=f"LV{i}") for i in range(6)]
    pp.create_ext_grid(net, hv, vm_pu=1.02, va_degree=0.0, name="grid")
    t1 = pp.create_transformer(net, hv, b[0], "0.4 MVA 20/0.4 kV", name="T1", tap_pos=-1)
    t2 = pp.create_transformer(net, hv, b[1], "0.25 MVA 20/0.4 kV", name="T2", tap_pos=2)
    pp.create_switch(net, hv, t2, et="t", closed=False, name="T2 open")
    l1 = pp.create_line(net, b[0], b[2], 0.3, "NAYY 4x150 SE", name="L1")
    pp.create_line(net, b[2], b[3], 0.2, "NAYY 4x50 SE", name="L2", parallel=2)
    l3 = pp.create_line(net, b[3], b[4], 0.25, "NAYY 4x50 SE", name="L3")
    pp.create_line(net, b[0], b[1], 0.4, "NAYY 4x120 SE", name="L4 to T2 side")
    pp.create_line(net, b[4], b[5], 0.1, "NAYY 4x50 SE", name="L5 out", in_service=False)
    pp.create_switch(net, b[4], l3, et="l", closed=False, name="L3 open end")
    pp.create_switch(net, b[0], b[1], et="b", closed=False, name="coupler open")
    pp.create_load(net, b[2], p_mw=0.05, q_mvar=0.02, scaling=0.8, name="scaled")
    pp.create_load(net, b[3], p_mw=0.04, q_mvar=0.01, const_z_p_percent=30, const_z_q_percent=30,
                   const_i_p_percent=20, const_i_q_percent=20, name="zip")
    pp.create_load(net, b[1], p_mw=0.03, q_mvar=0.01, name="behind T2")
    pp.create_load(net, b[3], p_mw=0.5, q_mvar=0.1, in_service=False, name="out of service")
    # pandapower applies a bus's load voltage dependence to all its PQ elements (sgens too):
    # the ZIP load has a bus of its own (README "Bring your own network").
    pp.create_sgen(net, b[0], p_mw=0.02, q_mvar=0.0, sn_mva=0.025, type="PV", name="roof PV")
    pp.create_sgen(net, b[2], p_mw=0.01, sn_mva=0.02, type="WP", name="small wind")
    pp.create_sgen(net, b[2], p_mw=0.03, type="PV", scaling=0.0, name="PV off by scaling")
    pp.create_shunt(net, b[0], q_mvar=-0.01, p_mw=0.0005, vn_kv=0.42, name="capacitor")
    pp.create_storage(net, b[1], p_mw=0.01, max_e_mwh=0.05, sn_mva=0.02, name="battery")
    # Two T1 units in parallel, derated; a line with shunt conductance and a derated ampacity.
    net.trafo.loc[t1, ["parallel", "df"]] = [2, 0.9]
    net.line.loc[l1, ["g_us_per_km", "df"]] = [5.0, 0.8]
    return net


def taps_and_switches():
    """Hand-made: tap changers pandapower models — a tap between steps, an
    asymmetric phase shifter (Ratio with a step angle), ideal phase shifters by
    degree and by percent, taps on the LV side, a transformer without a tap
    changer type (no tap effect in pandapower 3) — a closed bus-bus switch with
    an impedance, and scaled sgens and gens."""
    net = pp.create_empty_network(name="taps and switches", sn_mva=1.0)
    hv = pp.create_bus(net, 20.0, name="HV")
    lv = [pp.create_bus(net, 0.4, name=f"LV{i}") for i in range(7)]
    pp.create_ext_grid(net, hv, vm_pu=1.01, name="grid")
    specs = [
        ("between steps", dict(tap_pos=1.5)),
        ("asymmetric shifter", dict(tap_pos=3, tap_step_degree=30.0)),
        ("ideal by degree", dict(tap_pos=-2, tap_changer_type="Ideal", tap_step_percent=float("nan"),
                                 tap_step_degree=5.0)),
        ("ideal by percent", dict(tap_pos=2, tap_changer_type="Ideal")),
        ("LV taps", dict(tap_pos=-1.25, tap_side="lv")),
        ("no tap type", dict(tap_pos=2, tap_changer_type=None)),
    ]
    for i, (name, cols) in enumerate(specs):
        t = pp.create_transformer(net, hv, lv[i], "0.4 MVA 20/0.4 kV", name=name)
        for c, v in cols.items():
            net.trafo.loc[t, c] = v
        pp.create_load(net, lv[i], p_mw=0.12, q_mvar=0.04, name=f"load {name}")
    pp.create_switch(net, lv[0], lv[6], et="b", closed=True, z_ohm=0.02, name="switch with impedance")
    pp.create_load(net, lv[6], p_mw=0.05, q_mvar=0.01, name="behind the switch")
    pp.create_sgen(net, lv[1], p_mw=0.06, sn_mva=0.1, type="PV", scaling=0.5, name="half-scaled PV")
    pp.create_sgen(net, lv[2], p_mw=0.04, type="CHP", scaling=1.5, name="scaled CHP sgen")
    pp.create_gen(net, lv[3], p_mw=0.05, vm_pu=1.0, scaling=0.8, name="scaled gen")
    return net


def simbench(code):
    """A SimBench grid as the simbench package builds it (its profiles dropped)."""
    import simbench as sb
    net = sb.get_simbench_net(code)
    net.profiles = {}
    return net


def ieee_european_lv_balanced():
    """The IEEE European LV test feeder with each asymmetric load as the balanced load of its
    three phases' sum (gridsim solves balanced three-phase grids)."""
    net = pn.ieee_european_lv_asymmetric()
    for i in net.asymmetric_load.index:
        a = net.asymmetric_load.loc[i]
        pp.create_load(net, a.bus, p_mw=a.p_a_mw + a.p_b_mw + a.p_c_mw,
                       q_mvar=a.q_a_mvar + a.q_b_mvar + a.q_c_mvar, name=str(a["name"]),
                       in_service=bool(a.in_service))
    net.asymmetric_load.drop(net.asymmetric_load.index, inplace=True)
    return net


NETWORKS = {
    "dickert_lv": lambda: pn.create_dickert_lv_network(feeders_range="middle", linetype="cable",
                                                       customer="multiple", case="good",
                                                       trafo_type_name="0.4 MVA 20/0.4 kV"),
    "lv_schutterwald": pn.lv_schutterwald,
    "ieee_european_lv_balanced": ieee_european_lv_balanced,
    "cigre_mv_der": lambda: pn.create_cigre_network_mv(with_der="all"),
    "cigre_lv": pn.create_cigre_network_lv,
    "kerber_landnetz_kabel_2": pn.create_kerber_landnetz_kabel_2,
    "kerber_dorfnetz": pn.create_kerber_dorfnetz,
    "mv_oberrhein": pn.mv_oberrhein,
    "edge_cases": edge_cases,
    "taps_and_switches": taps_and_switches,
    "simbench_lv_rural1": lambda: simbench("1-LV-rural1--0-sw"),
    "simbench_mv_semiurb": lambda: simbench("1-MV-semiurb--0-sw"),
}


def ids(table, kind):
    """gridsim's ids of pandapower elements: the names where unique and non-empty, else '<kind> <index>'."""
    names = [None if n is None or (isinstance(n, float) and math.isnan(n)) else str(n) for n in table.name]
    unique = all(n is not None and n.strip() for n in names) and len(set(names)) == len(names)
    return {i: (names[k] if unique else f"{kind} {i}") for k, i in enumerate(table.index)}


def rows(elements, res, cols, kind):
    out = {}
    key = ids(elements, kind)
    for i in elements.index:
        if not bool(elements.in_service[i]) or math.isnan(res.at[i, cols[0]]):
            continue
        out[key[i]] = {c: float(res.at[i, c]) for c in cols if not math.isnan(res.at[i, c])}
    return out


def unsupported():
    """Elements gridsim does not model: a three-winding transformer, an impedance, a
    tabular tap changer. Its import must fail, listing each (no results file)."""
    net = pp.create_empty_network(name="unsupported")
    b = [pp.create_bus(net, kv, name=f"B{i}") for i, kv in enumerate([110.0, 20.0, 10.0, 20.0])]
    pp.create_ext_grid(net, b[0])
    pp.create_transformer3w(net, b[0], b[1], b[2], "63/25/38 MVA 110/20/10 kV", name="T3W")
    pp.create_impedance(net, b[1], b[3], rft_pu=0.01, xft_pu=0.02, sn_mva=10, name="Z1")
    t = pp.create_transformer(net, b[0], b[3], "25 MVA 110/20 kV", name="T2x")
    net.trafo.loc[t, "tap_changer_type"] = "Tabular"
    return net


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "unsupported.json").write_text(pp.to_json(unsupported()))
    for name, make in NETWORKS.items():
        net = make()
        text = pp.to_json(net)
        if len(text) > 1_000_000:  # large grids gzipped (gridsim reads .json.gz)
            (OUT / f"{name}.json.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            (OUT / f"{name}.json").write_text(text)
        pp.runpp(net, **OPTS)
        res = {
            "network": name,
            "solver": f"pandapower {pp.__version__} runpp (defaults: trafo_model t, voltage-dependent loads)",
            "options": OPTS,
            "python": sys.version.split()[0],
            "converged": bool(net.converged),
            "bus": {ids(net.bus, "bus")[i]: [float(net.res_bus.vm_pu[i]), float(net.res_bus.va_degree[i])]
                    for i in net.bus.index if not math.isnan(net.res_bus.vm_pu[i])},
            "p_slack_mw": float(net.res_ext_grid.p_mw.sum()),
            "q_slack_mvar": float(net.res_ext_grid.q_mvar.sum()),
            # Lines, transformers and closed bus-bus switches with an impedance.
            "p_loss_mw": float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
                               + (net.res_switch.p_from_mw + net.res_switch.p_to_mw).fillna(0.0).sum()
                               if "p_from_mw" in net.res_switch else
                               net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()),
            "line": rows(net.line, net.res_line, ["p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "i_ka", "loading_percent"], "line"),
            "trafo": rows(net.trafo, net.res_trafo, ["p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "loading_percent"], "trafo"),
        }
        out = json.dumps(res, indent=1)
        if len(out) > 200_000:
            (OUT / f"{name}.result.json.gz").write_bytes(gzip.compress(out.encode(), mtime=0))
        else:
            (OUT / f"{name}.result.json").write_text(out)
        print(name, len(net.bus), "buses", "converged" if net.converged else "NOT converged", file=sys.stderr)

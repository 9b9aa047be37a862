"""Computes the pandapower reference solutions of the native networks in networks/.

Run once from the repository root with the project venv:
    .venv/bin/pip install pandapower==3.5.6
    .venv/bin/python tools/networks/reference.py
Writes tests/data/networks/<name>.json with the solver, versions and options: bus voltages, slack
power, losses, and pandapower's res_line / res_trafo / res_load rows keyed by element name.

- cigre_mv_der, cigre_lv: pandapower's own network functions (independent of our files).
- cn_rural_10kv, cn_urban_10kv_ring: our TOML files translated to pandapower elements
  (create_line_from_parameters, create_transformer_from_parameters, ...), so that pandapower's
  component models check gridsim's conversion of engineering units.
- cn_rural_10kv_edited, cn_urban_10kv_ring_edited: the networks with the grid edits of
  tests/data/networks/<name>_edits.toml applied here (remove, set, add, line types, as
  README "Variants that change the grid" defines them), so that gridsim's edits are checked by an
  implementation it does not share; line voltage regulators become pandapower transformers
  (1:1, taps on the LV = regulated side).
- simbench_lv_rural1_lines: SimBench 1-LV-rural1--0-sw as simbench.get_simbench_net builds it
  (buses renamed to the MATPOWER numbers of networks/simbench-lv-rural1/bus_map.csv), the reference
  of networks/simbench-lv-rural1/network.toml (`reference.py simbench`; needs simbench==1.6.3 too).
Options: Newton-Raphson, tolerance_mva 1e-11, trafo_model "pi", calculate_voltage_angles.
"""
import json
import math
import sys
import tomllib
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn

ROOT = Path(__file__).resolve().parents[2]
OPTS = dict(algorithm="nr", tolerance_mva=1e-11, trafo_model="pi", calculate_voltage_angles=True, max_iteration=50)


def apply_edits(d, edits):
    """A scenario's [grid] table applied to a parsed network file: remove, set, add, line types."""
    for kind, ids in edits.get("remove", {}).items():
        d[kind] = [e for e in d.get(kind, []) if e["id"] not in ids]
    for kind, by_id in edits.get("set", {}).items():
        for ident, fields in by_id.items():
            (e,) = [e for e in d[kind] if e["id"] == ident]
            e.update(fields)
    for kind, items in edits.get("add", {}).items():
        d.setdefault(kind, []).extend(items)
    d.setdefault("line_types", {}).update(edits.get("line_types", {}))
    return d


def from_toml(path, edits=None):
    d = tomllib.loads(path.read_text())
    if edits is not None:
        d = apply_edits(d, edits)
    lib = tomllib.loads((ROOT / "src/network/native/line_types.toml").read_text())["types"]
    lib.update(d.get("line_types", {}))
    f = d["network"].get("frequency_hz", 50.0)
    net = pp.create_empty_network(name=d["network"]["name"], f_hz=f, sn_mva=d["network"].get("base_mva", 1.0))
    bus = {}
    for b in d.get("bus", []):
        bus[b["id"]] = pp.create_bus(net, vn_kv=b["vn_kv"], name=b["id"])
    lines = {}
    for l in d.get("line", []):
        t = lib[l["type"]] if "type" in l else l
        lines[l["id"]] = pp.create_line_from_parameters(
            net, bus[l["from"]], bus[l["to"]], length_km=l["length_km"], r_ohm_per_km=t["r_ohm_per_km"],
            x_ohm_per_km=t["x_ohm_per_km"], c_nf_per_km=t.get("c_nf_per_km", 0.0), max_i_ka=t.get("max_i_ka", math.nan),
            parallel=l.get("parallel", 1), in_service=l.get("in_service", True), name=l["id"])
    trafos = {}
    for t in d.get("transformer", []):
        shift = t.get("shift_degree")
        if shift is None:
            vg = t.get("vector_group", "")
            digits = "".join(c for c in vg if c.isdigit())
            shift = 30.0 * int(digits) if digits else 0.0
        trafos[t["id"]] = pp.create_transformer_from_parameters(
            net, bus[t["hv_bus"]], bus[t["lv_bus"]], sn_mva=t["sn_mva"], vn_hv_kv=t["vn_hv_kv"], vn_lv_kv=t["vn_lv_kv"],
            vk_percent=t["vk_percent"], vkr_percent=t["vkr_percent"], pfe_kw=t.get("pfe_kw", 0.0),
            i0_percent=t.get("i0_percent", 0.0), shift_degree=shift, tap_side=t.get("tap_side", "hv"),
            tap_neutral=t.get("tap_neutral", 0), tap_min=t.get("tap_min", 0), tap_max=t.get("tap_max", 0),
            tap_step_percent=t.get("tap_step_percent", 0.0), tap_pos=t.get("tap_pos", 0),
            tap_changer_type="Ratio", name=t["id"])
    for r in d.get("regulator", []):
        vn = net.bus.vn_kv[bus[r["from"]]]
        rp, xp = r.get("r_percent", 0.01), r.get("x_percent", 0.01)
        trafos[r["id"]] = pp.create_transformer_from_parameters(
            net, bus[r["from"]], bus[r["to"]], sn_mva=r["sn_mva"], vn_hv_kv=vn, vn_lv_kv=vn,
            vk_percent=math.hypot(rp, xp), vkr_percent=rp, pfe_kw=0.0, i0_percent=0.0, shift_degree=0.0,
            tap_side="lv", tap_neutral=0, tap_min=r.get("tap_min", -16), tap_max=r.get("tap_max", 16),
            tap_step_percent=r.get("tap_step_percent", 0.625), tap_pos=r.get("tap_pos", 0),
            tap_changer_type="Ratio", name=r["id"])
    for s in d.get("switch", []):
        if "line" in s:
            pp.create_switch(net, bus[s["bus"]], lines[s["line"]], et="l", closed=s.get("closed", True), name=s["id"])
        elif "transformer" in s:
            pp.create_switch(net, bus[s["bus"]], trafos[s["transformer"]], et="t", closed=s.get("closed", True), name=s["id"])
        else:
            pp.create_switch(net, bus[s["bus"]], bus[s["to_bus"]], et="b", closed=s.get("closed", True), name=s["id"])
    for l in d.get("load", []):
        if "q_mvar" in l:
            q = l["q_mvar"]
        elif "power_factor" in l:
            pf = l["power_factor"]
            q = l["p_mw"] * math.sqrt(1 - pf * pf) / pf
        else:
            q = 0.0
        z = l.get("zip", {"z": 0.0, "i": 0.0, "p": 1.0})
        pp.create_load(net, bus[l["bus"]], p_mw=l["p_mw"], q_mvar=q, name=l["id"],
                       const_z_p_percent=100 * z["z"], const_i_p_percent=100 * z["i"],
                       const_z_q_percent=100 * z["z"], const_i_q_percent=100 * z["i"])
    for s in d.get("shunt", []):
        # gridsim: b_mvar injected (capacitor > 0); pandapower: q_mvar consumed.
        pp.create_shunt(net, bus[s["bus"]], q_mvar=-s.get("b_mvar", 0.0), p_mw=s.get("g_mw", 0.0), name=s["id"])
    for e in d.get("ext_grid", []):
        pp.create_ext_grid(net, bus[e["bus"]], vm_pu=e.get("vm_pu", 1.0), va_degree=e.get("va_degree", 0.0), name=e["id"])
    for c in d.get("chp", []):
        pp.create_sgen(net, bus[c["bus"]], p_mw=c.get("p_mw", c["rated_mw"]), q_mvar=c.get("q_mvar", 0.0), name=c["id"])
    for p in d.get("pv", []):
        pp.create_sgen(net, bus[p["bus"]], p_mw=p.get("p_mw", p["kwp"] / 1000), q_mvar=p.get("q_mvar", 0.0), name=p["id"])
    for w in d.get("wind", []):
        pp.create_sgen(net, bus[w["bus"]], p_mw=w.get("p_mw", w["rated_mw"]), q_mvar=w.get("q_mvar", 0.0), name=w["id"])
    for s in d.get("storage", []):
        pp.create_storage(net, bus[s["bus"]], p_mw=s.get("p_mw", 0.0), max_e_mwh=s["capacity_mwh"], q_mvar=s.get("q_mvar", 0.0), name=s["id"])
    return net


LINE_COLS = ["p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "pl_mw", "ql_mvar",
             "i_from_ka", "i_to_ka", "i_ka", "loading_percent"]
TRAFO_COLS = ["p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "pl_mw", "ql_mvar",
              "i_hv_ka", "i_lv_ka", "loading_percent"]


def table(elements, res, cols):
    """Result rows of the in-service elements, keyed by element name."""
    out = {}
    for i in elements.index:
        if not bool(elements.in_service[i]):
            continue
        # NaN (e.g. the loading of a line without ampacity) is left out: JSON has no NaN.
        out[str(elements.name[i])] = {c: float(res.at[i, c]) for c in cols if not math.isnan(res.at[i, c])}
    return out


def solve(net, name, how):
    pp.runpp(net, **OPTS)
    res = {
        "network": name,
        "how": how,
        "solver": f"pandapower {pp.__version__} runpp",
        "options": {k: v for k, v in OPTS.items()},
        "python": sys.version.split()[0],
        "converged": bool(net.converged),
        "bus": {str(net.bus.name[i]): [float(net.res_bus.vm_pu[i]), float(net.res_bus.va_degree[i])] for i in net.bus.index},
        "p_slack_mw": float(net.res_ext_grid.p_mw.sum()),
        "q_slack_mvar": float(net.res_ext_grid.q_mvar.sum()),
        "p_loss_mw": float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()),
        "line": table(net.line, net.res_line, LINE_COLS),
        "trafo": table(net.trafo, net.res_trafo, TRAFO_COLS),
        "load": table(net.load, net.res_load, ["p_mw", "q_mvar"]),
    }
    out = ROOT / "tests/data/networks" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(name, "converged" if net.converged else "NOT converged", res["p_loss_mw"], file=sys.stderr)


def simbench_lv_rural1():
    import csv
    import simbench as sb
    net = sb.get_simbench_net("1-LV-rural1--0-sw")
    with open(ROOT / "networks/simbench-lv-rural1/bus_map.csv") as f:
        number = {int(r["pp_bus"]): r["matpower_bus"] for r in csv.DictReader(f)}
    net.bus["name"] = [number.get(i, f"unused {i}") for i in net.bus.index]
    solve(net, "simbench_lv_rural1_lines", "simbench.get_simbench_net('1-LV-rural1--0-sw'), buses named by bus_map.csv")


if __name__ == "__main__":
    if sys.argv[1:] == ["simbench"]:
        simbench_lv_rural1()
        sys.exit()
    solve(pn.create_cigre_network_mv(with_der="all"), "cigre_mv_der", "pandapower.networks.create_cigre_network_mv(with_der='all')")
    solve(pn.create_cigre_network_lv(), "cigre_lv", "pandapower.networks.create_cigre_network_lv()")
    for n in ["cn_rural_10kv", "cn_urban_10kv_ring", "cigre_mv_der", "cigre_lv", "ieee33", "ieee69"]:
        net = from_toml(ROOT / "networks" / f"{n}.toml")
        solve(net, n if n.startswith(("cn_", "ieee")) else n + "_from_toml", f"networks/{n}.toml translated element by element")
    for n in ["cn_rural_10kv", "cn_urban_10kv_ring"]:
        edits = tomllib.loads((ROOT / f"tests/data/networks/{n}_edits.toml").read_text())
        net = from_toml(ROOT / f"networks/{n}.toml", edits)
        solve(net, f"{n}_edited", f"networks/{n}.toml with tests/data/networks/{n}_edits.toml applied by this script")

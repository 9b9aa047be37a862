#!/usr/bin/env python3
"""gridsim versus power-grid-model, side by side, on a SimBench year.

Grid and data: SimBench 1-MV-urban--0-sw with its full-year profiles (35,136 steps of
15 min). gridsim reads the copy shipped in networks/simbench-mv-urban (exported from the
same SimBench data); power-grid-model (PGM) gets the grid from the `simbench` package,
converted by power-grid-model-io, and the same profiles as batch update arrays.

What is timed, per configuration, median of --repeats runs after one warm-up run:

* PGM: `calculate_power_flow(symmetric, error_tolerance 1e-8, max_iterations 20,
  calculation_method=M, threading=T)` with node u_pu output only. Conversion, model
  construction and building the update arrays are not timed.
* gridsim, "run": the time gridsim reports from starting its solver threads (the HDF5
  file is created meanwhile) through solving every step and writing every result (bus
  vm/va/p/q, branch flows/currents/loading as float32 by default, or float64; grid
  totals float64) to closing the file (tolerance 1e-8 on the power mismatch). Reading
  the inputs is reported separately, like PGM's conversion.
* gridsim, "cli": wall time of the whole `gridsim run` process, inputs included.

"1 thread" pins the process (Python with PGM, or gridsim with its writer thread) to one
CPU with sched_setaffinity/taskset; "2 threads" allows two. The output file is deleted
before each gridsim run (outside the timing), as a fresh output path would be.

Accuracy printed at the end: gridsim's stored |V| against the pandapower reference
(tests/data/simbench, first 1,344 steps) and against PGM's u_pu for the whole year.

Usage (tools/bench/compare_pgm.sh sets up the venv and builds gridsim):
    python tools/bench/compare_pgm.py --gridsim target/release/gridsim [--repeats 5]
"""
import argparse
import copy
import gzip
import importlib.metadata as md
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[2]
CODE = "1-MV-urban--0-sw"
GRID = ROOT / "networks" / "simbench-mv-urban"
REF = ROOT / "tests" / "data" / "simbench" / CODE / "reference.csv.gz"
TWO_VARIANTS = ROOT / "tools" / "bench" / "mv_urban_two_variants.toml"
N_YEAR = 35136


# --------------------------------------------------------------------------- PGM side


def fixed_get_pp_attr(self, table, attribute, expected_type=None, default=None):
    """power-grid-model-io 1.3.x reads pandapower columns with `dtype is np.dtype("O")`,
    which is False for object columns under numpy 2.4; it then applies np.isnan to strings.
    Same lookup with an equality test on the dtype."""
    data = self.pp_input_data[table]
    dtype = expected_type if expected_type is not None else (
        type(default) if default is not None else "O")
    if attribute not in data:
        if default is None:
            raise KeyError(f"No '{attribute}' value for '{table}'.")
        return np.array([default], dtype=dtype)
    column = data[attribute]
    missing = np.equal(column, None) if column.dtype == np.dtype("O") else np.isnan(column)
    if any(missing):
        column = column.fillna(value=default, inplace=False)
    return column.to_numpy(dtype=dtype, copy=True)


def pgm_setup(code=CODE, n_steps=N_YEAR):
    """Builds the PGM model and the update data of SimBench grid `code`'s first
    `n_steps` steps (not timed)."""
    import pandapower  # noqa: F401  (imported for simbench)
    import simbench
    from power_grid_model import ComponentType, DatasetType, PowerGridModel, initialize_array
    from power_grid_model_io.converters import PandaPowerConverter
    from power_grid_model_io.converters import pandapower_converter

    pandapower_converter.PandaPowerConverter._get_pp_attr = fixed_get_pp_attr
    net = simbench.get_simbench_net(code)
    # pandapower 3 ignores tap_pos without a tap changer type; PGM always applies it.
    taps = net.trafo.tap_pos.notna() & net.trafo.tap_changer_type.isna()
    net.trafo.loc[taps, "tap_changer_type"] = "Ratio"
    conv_net = copy.deepcopy(net)
    conv_net.load["type"] = "wye"  # SimBench leaves it empty; the converter needs it
    # SimBench trafos have shift 150 deg (clock 5) but no vector group.
    conv_net.trafo["vector_group"] = [
        "YNd5" if "YNd5" in str(s) else "Dyn5" for s in conv_net.trafo.std_type]
    conv = PandaPowerConverter()
    data, _ = conv.load_input_data(conv_net)
    # An ideal source like pandapower's ext_grid (PGM's default sk is 1e10 VA).
    data[ComponentType.source]["sk"] = 1e20
    loads = data[ComponentType.sym_load]
    cp_ids = conv.idx[("load", "const_power")].loc[net.load.index].values
    keep = np.isin(loads["id"], cp_ids)
    # SimBench loads are constant power: the converter's Z and I parts are all zero.
    assert np.all(loads["p_specified"][~keep] == 0)
    data[ComponentType.sym_load] = loads[keep]
    gen_ids = conv.idx[("sgen", None)].loc[net.sgen.index].values
    node_ids = conv.idx[("bus", None)].loc[net.bus.index].values

    absolute = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    p_load = absolute[("load", "p_mw")][net.load.index].values[:n_steps]
    q_load = absolute[("load", "q_mvar")][net.load.index].values[:n_steps]
    p_sgen = absolute[("sgen", "p_mw")][net.sgen.index].values[:n_steps]
    upd_load = initialize_array(DatasetType.update, ComponentType.sym_load, (n_steps, len(cp_ids)))
    upd_load["id"] = cp_ids[None, :]
    upd_load["p_specified"] = p_load * 1e6
    upd_load["q_specified"] = q_load * 1e6
    upd_gen = initialize_array(DatasetType.update, ComponentType.sym_gen, (n_steps, len(gen_ids)))
    upd_gen["id"] = gen_ids[None, :]
    upd_gen["p_specified"] = p_sgen * 1e6
    upd_gen["q_specified"] = net.sgen.q_mvar.values[None, :] * 1e6
    model = PowerGridModel(data)
    update = {ComponentType.sym_load: upd_load, ComponentType.sym_gen: upd_gen}
    return model, update, node_ids, net


def pgm_run(model, update, method, threads):
    from power_grid_model import CalculationMethod, ComponentType
    t = time.perf_counter()
    out = model.calculate_power_flow(
        symmetric=True, error_tolerance=1e-8, max_iterations=20,
        calculation_method=CalculationMethod[method], update_data=update,
        threading=-1 if threads == 1 else threads,
        output_component_types={ComponentType.node: ["id", "u_pu"]})
    return time.perf_counter() - t, out


# ----------------------------------------------------------------------- gridsim side


RUN_RE = re.compile(r"solved and written in ([0-9.]+) s")
READ_RE = re.compile(r"inputs read in ([0-9.]+) s")


def gridsim_run(exe, threads, out, extra, scenario=None):
    cpus = "0" if threads == 1 else "0,1"
    if scenario is None:
        inputs = ["--network", str(GRID / "network.m"), "--elements", str(GRID / "elements.csv"),
                  "--profiles", str(GRID / "profiles.csv.gz")]
    else:
        inputs = [str(scenario)]
    if out.exists():
        out.unlink()
    cmd = ["taskset", "-c", cpus, str(exe), "run", *inputs, "--out", str(out),
           "--threads", str(threads), "--quiet", "--tol", "1e-8", *extra]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"gridsim failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    run = float(RUN_RE.search(p.stderr).group(1))
    read = float(READ_RE.search(p.stderr).group(1))
    return run, wall, read


def median_of(fn, repeats):
    fn()  # warm-up: page cache, JIT, CPU frequency
    return [fn() for _ in range(repeats)]


def fmt(xs):
    return f"{statistics.median(xs):.3f}"


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gridsim", default=str(ROOT / "target" / "release" / "gridsim"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--methods", default="iterative_current,newton_raphson")
    ap.add_argument("--json", help="also write the raw times here")
    args = ap.parse_args()
    exe = Path(args.gridsim)
    methods = args.methods.split(",")
    raw = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "repeats": args.repeats}
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
    raw["versions"] = {"gridsim": version, "python": platform.python_version(),
                       **{p: md.version(p) for p in ["power-grid-model", "power-grid-model-io",
                                                      "pandapower", "simbench", "numpy"]}}
    print(f"machine: {raw['machine']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in raw["versions"].items()))
    print(f"grid: SimBench {CODE}, {N_YEAR} steps, median of {args.repeats} runs after a warm-up\n")

    print("setting up PGM (conversion and update arrays, not timed) ...", flush=True)
    model, update, node_ids, net = pgm_setup()
    tmp = Path(tempfile.mkdtemp(prefix="gridsim-bench-"))
    out = tmp / "year.h5"
    rows = []
    pgm_u = None
    for threads in (1, 2):
        os.sched_setaffinity(0, {0} if threads == 1 else {0, 1})
        pgm = {}
        for m in methods:
            ts = median_of(lambda: pgm_run(model, update, m, threads)[0], args.repeats)
            pgm[m] = ts
            raw[f"pgm_{m}_{threads}"] = ts
            print(f"  PGM {m:<18} {threads} thread(s): median {fmt(ts)} s", flush=True)
        if pgm_u is None:
            pgm_u = pgm_run(model, update, methods[0], threads)[1]
        os.sched_setaffinity(0, set(range(os.cpu_count())))
        for label, extra in (("f32 (default)", []), ("f64", ["--precision", "f64"])):
            res = median_of(lambda: gridsim_run(exe, threads, out, extra), args.repeats)
            run = [r[0] for r in res]
            wall = [r[1] for r in res]
            raw[f"gridsim_{label.split()[0]}_{threads}"] = {"run": run, "cli": wall,
                                                            "read": [r[2] for r in res]}
            print(f"  gridsim {label:<13} {threads} thread(s): run {fmt(run)} s, cli {fmt(wall)} s",
                  flush=True)
            rows.append((threads, label, statistics.median(run), statistics.median(wall),
                         {m: statistics.median(v) for m, v in pgm.items()}))

    print("\ntwo scenarios (tools/bench/mv_urban_two_variants.toml), 1 -> 2 threads:")
    two = {}
    for threads in (1, 2):
        res = median_of(lambda: gridsim_run(exe, threads, out, [], TWO_VARIANTS), args.repeats)
        two[threads] = statistics.median(r[0] for r in res)
        raw[f"gridsim_two_scenarios_{threads}"] = [r[0] for r in res]
        print(f"  {threads} thread(s): run {two[threads]:.3f} s", flush=True)
    print(f"  speed-up: {two[1] / two[2]:.2f}x")

    # Accuracy of the stored results: the default (float32) and float64.
    for label, extra in (("float32 (default)", []), ("float64", ["--precision", "f64"])):
        gridsim_run(exe, 2, out, extra)
        accuracy(out, label, methods, pgm_u, net, node_ids, raw)

    print("\n| threads | gridsim output | gridsim run s | gridsim cli s | "
          + " | ".join(f"PGM {m} s | ratio run | ratio cli" for m in methods) + " |")
    print("|---|---|---|---|" + "---|---|---|" * len(methods))
    for threads, label, run, wall, pgm in rows:
        cells = [f"{pgm[m]:.3f} | {pgm[m] / run:.1f} | {pgm[m] / wall:.1f}" for m in methods]
        print(f"| {threads} | {label} | {run:.3f} | {wall:.3f} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    out.unlink(missing_ok=True)


def accuracy(out, label, methods, pgm_u, net, node_ids, raw):
    """Max |dVm| of the stored |V| against pandapower (reference steps) and PGM (year)."""
    import h5py
    with h5py.File(out, "r") as f:
        vm = f["scenarios/default/bus/vm_pu"][...].astype(float)
        order = {int(b): k for k, b in enumerate(f["scenarios/default/bus/id"][...])}
    with gzip.open(REF, "rt") as fh:
        header = fh.readline().strip().split(",")
        ref = np.loadtxt(fh, delimiter=",", usecols=range(2, len(header)), dtype=float)
    vm_cols = [i - 2 for i, h in enumerate(header) if h.startswith("vm_")]
    ref_vm = ref[:, vm_cols]
    d_ref = np.nanmax(np.abs(vm[: ref_vm.shape[0]] - ref_vm))
    # PGM nodes are pandapower buses; bus_map.csv gives each one's row in network.m.
    bus_map = np.genfromtxt(GRID / "bus_map.csv", delimiter=",", names=True, dtype=None,
                            encoding="utf-8")
    mp_bus = {int(r["pp_bus"]): int(r["matpower_bus"]) for r in bus_map}
    from power_grid_model import ComponentType
    u = pgm_u[ComponentType.node]
    pos = {int(i): k for k, i in enumerate(u["id"][0])}
    cols_pgm, cols_gs = [], []
    for pp_bus, pgm_id in zip(net.bus.index, node_ids):
        cols_pgm.append(pos[int(pgm_id)])
        cols_gs.append(order[mp_bus[int(pp_bus)]])
    d_pgm = np.nanmax(np.abs(vm[:, cols_gs] - u["u_pu"][:, cols_pgm]))
    raw[f"max_dvm_vs_pandapower_{label.split()[0]}"] = float(d_ref)
    raw[f"max_dvm_vs_pgm_{label.split()[0]}"] = float(d_pgm)
    print(f"accuracy of the stored |V| ({label}): vs pandapower reference ({ref_vm.shape[0]} "
          f"steps) {d_ref:.2e} p.u.; vs PGM {methods[0]} (whole year) {d_pgm:.2e} p.u.")


if __name__ == "__main__":
    main()

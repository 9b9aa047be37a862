#!/usr/bin/env python3
"""`gridsim pf` on synthetic radial feeders of growing size, side by side with
power-grid-model's Newton-Raphson and iterative current on the same grid.

For each size N (default 1,000, 10,000 and 100,000 buses) the feeder is made by
tools/bench/synthetic_feeder.py (seed 1) in a temporary folder. Timed, median of
--repeats runs after a warm-up:

* gridsim "process": wall time of the whole `gridsim pf FEEDER/network.m --format
  json` process (reading and parsing the case file, building, solving, writing
  the JSON results to a pipe);
* gridsim "solve": the `solve_time_s` it reports (math model, Newton with the
  symbolic analysis, element results), like PGM's call below;
* PGM (if `power_grid_model` imports): `calculate_power_flow` on a model built
  from the same data (nodes, lines with r, x, c per line, an ideal source
  sk = 1e20 VA, constant-power loads), symmetric, tolerance 1e-8, node output
  only; the model's construction is not timed.

Also prints the largest |Vm| difference between gridsim and PGM's Newton, so that
both are seen to solve the same grid.

With --steps K (e.g. 672, a week), the feeders' time series instead: the whole
`gridsim run --network ... --elements ... --profiles ... --threads T` process
(every per-element series written to HDF5 as f32) against PGM's batch
calculation of the same K steps (update arrays of every load's P and Q built
from the same profiles, not timed), iterative current and Newton, at 1 and 2
threads (pinned as in compare_pgm.py). --series bus keeps the bus series only
(|V|, angle, P, Q of every bus, plus grid totals and KPIs), the nearest to PGM's
node-voltage output here; --own-profiles gives every load profile columns of
its own (synthetic_feeder.py --own-profiles), as smart-meter data would. Usage
(tools/bench/compare_pgm.sh's venv has power-grid-model):
    .venv-bench/bin/python tools/bench/pf_scaling.py [--gridsim target/release/gridsim]
        [--sizes 1000,10000,100000] [--repeats 5] [--steps 672 [--series bus] [--own-profiles]]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gridsim_pf(exe, case):
    t = time.perf_counter()
    p = subprocess.run([str(exe), "pf", str(case), "--format", "json"], capture_output=True,
                       text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"gridsim pf failed: {p.stderr}")
    out = json.loads(p.stdout)
    return wall, out["solve_time_s"], out


def pgm_model(feeder):
    import numpy as np
    from power_grid_model import ComponentType, DatasetType, LoadGenType, PowerGridModel
    from power_grid_model import initialize_array

    n = feeder["buses"]
    vn = feeder["vn_kv"] * 1e3
    node = initialize_array(DatasetType.input, ComponentType.node, n)
    node["id"] = np.arange(1, n + 1)
    node["u_rated"] = vn
    lines = np.array(feeder["lines"])
    line = initialize_array(DatasetType.input, ComponentType.line, len(lines))
    line["id"] = np.arange(n + 1, n + 1 + len(lines))
    line["from_node"] = lines[:, 0].astype(int)
    line["to_node"] = lines[:, 1].astype(int)
    line["from_status"] = 1
    line["to_status"] = 1
    km = lines[:, 2]
    line["r1"] = feeder["r_ohm_per_km"] * km
    line["x1"] = feeder["x_ohm_per_km"] * km
    line["c1"] = feeder["c_nf_per_km"] * 1e-9 * km
    line["tan1"] = 0.0
    line["i_n"] = 1e3
    source = initialize_array(DatasetType.input, ComponentType.source, 1)
    source["id"] = 3 * n
    source["node"] = 1
    source["status"] = 1
    source["u_ref"] = 1.0
    source["sk"] = 1e20
    load = initialize_array(DatasetType.input, ComponentType.sym_load, n - 1)
    load["id"] = np.arange(4 * n, 5 * n - 1)
    load["node"] = np.arange(2, n + 1)
    load["status"] = 1
    load["type"] = LoadGenType.const_power
    load["p_specified"] = feeder["p_mw"] * 1e6
    load["q_specified"] = feeder["q_mvar"] * 1e6
    return PowerGridModel({ComponentType.node: node, ComponentType.line: line,
                           ComponentType.source: source, ComponentType.sym_load: load})


def pgm_pf(model, method):
    from power_grid_model import CalculationMethod, ComponentType
    t = time.perf_counter()
    out = model.calculate_power_flow(
        symmetric=True, error_tolerance=1e-8, max_iterations=20,
        calculation_method=CalculationMethod[method],
        output_component_types={ComponentType.node: ["id", "u_pu"]})
    return time.perf_counter() - t, out


def series_case(d, steps):
    """PGM batch update arrays for the feeder in folder `d`: every load's P and Q
    over `steps` steps (rated value x profile factor, as gridsim computes them)."""
    import csv
    import gzip

    import numpy as np
    from power_grid_model import ComponentType, DatasetType, initialize_array
    with gzip.open(d / "profiles.csv.gz", "rt") as f:
        r = csv.reader(f)
        head = next(r)
        rows = [list(map(float, row[2:])) for _, row in zip(range(steps), r)]
    prof = np.array(rows)
    col = {h: k for k, h in enumerate(head[2:])}
    with open(d / "elements.csv") as f:
        els = list(csv.DictReader(f))
    n = len(els)
    feeder = json.loads((d / "feeder.json").read_text())
    ids = np.arange(4 * feeder["buses"], 4 * feeder["buses"] + n)
    upd = initialize_array(DatasetType.update, ComponentType.sym_load, (steps, n))
    upd["id"] = ids[None, :]
    p = np.array([float(e["p_mw"]) for e in els])
    q = np.array([float(e["q_mvar"]) for e in els])
    pc = [col[e["p_profile_col"]] for e in els]
    qc = [col[e["q_profile_col"]] for e in els]
    upd["p_specified"] = prof[:, pc] * p[None, :] * 1e6
    upd["q_specified"] = prof[:, qc] * q[None, :] * 1e6
    return {ComponentType.sym_load: upd}


def pgm_series(model, update, method, threads):
    from power_grid_model import CalculationMethod, ComponentType
    t = time.perf_counter()
    model.calculate_power_flow(
        symmetric=True, error_tolerance=1e-8, max_iterations=20,
        calculation_method=CalculationMethod[method], update_data=update,
        threading=-1 if threads == 1 else threads,
        output_component_types={ComponentType.node: ["id", "u_pu"]})
    return time.perf_counter() - t


def gridsim_series(exe, d, steps, threads, out, series):
    out.unlink(missing_ok=True)
    cmd = ["taskset", "-c", "0" if threads == 1 else "0,1", str(exe), "run", "--network",
           str(d / "network.m"), "--elements", str(d / "elements.csv"), "--profiles",
           str(d / "profiles.csv.gz"), "--out", str(out), "--threads", str(threads),
           "--steps", str(steps), "--quiet", "--tol", "1e-8", "--series", series]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"gridsim run failed: {p.stderr}")
    return time.perf_counter() - t


def series_table(a, tmp, sizes):
    import os
    print(f"| buses | steps | gridsim whole process 1 / 2 thr s | µs per bus-step (1 thr) "
          "| PGM IC 1 / 2 thr s | ratio IC 1 / 2 | PGM NR 1 / 2 thr s | ratio NR 1 / 2 |")
    print("|---:|---:|---|---:|---|---|---|---|")
    out = Path(tmp) / "series.h5"
    for n in sizes:
        d = Path(tmp) / f"series{n}"
        own = ["--own-profiles"] if a.own_profiles else []
        subprocess.run([sys.executable, str(ROOT / "tools/bench/synthetic_feeder.py"),
                        "--buses", str(n), "--steps", str(a.steps), *own, str(d)], check=True)
        model = pgm_model(json.loads((d / "feeder.json").read_text()))
        update = series_case(d, a.steps)
        g, ic, nr = {}, {}, {}
        for t in (1, 2):
            g[t] = median(lambda: gridsim_series(a.gridsim, d, a.steps, t, out, a.series), a.repeats)
            os.sched_setaffinity(0, {0} if t == 1 else {0, 1})
            ic[t] = median(lambda: pgm_series(model, update, "iterative_current", t), a.repeats)
            nr[t] = median(lambda: pgm_series(model, update, "newton_raphson", t), a.repeats)
            os.sched_setaffinity(0, set(range(os.cpu_count())))
        print(f"| {n:,} | {a.steps} | {g[1]:.3f} / {g[2]:.3f} | {g[1] / n / a.steps * 1e6:.3f} "
              f"| {ic[1]:.3f} / {ic[2]:.3f} | {ic[1] / g[1]:.1f} / {ic[2] / g[2]:.1f} "
              f"| {nr[1]:.3f} / {nr[2]:.3f} | {nr[1] / g[1]:.1f} / {nr[2] / g[2]:.1f} |",
              flush=True)
    out.unlink(missing_ok=True)


def median(fn, repeats):
    fn()
    return statistics.median(fn() for _ in range(repeats))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gridsim", default=str(ROOT / "target" / "release" / "gridsim"))
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=0,
                    help="time series of this many steps instead of single power flows")
    ap.add_argument("--series", default="all",
                    help="with --steps: gridsim's --series (all, the default, writes every "
                         "element's series; bus writes what PGM outputs here and more)")
    ap.add_argument("--own-profiles", action="store_true",
                    help="with --steps: a pair of profile columns per load")
    a = ap.parse_args()
    try:
        import power_grid_model  # noqa: F401
        have_pgm = True
    except ImportError:
        have_pgm = False
        print("power_grid_model not installed: gridsim only", file=sys.stderr)
    if a.steps > 0:
        if not have_pgm:
            sys.exit("--steps needs power_grid_model")
        with tempfile.TemporaryDirectory() as tmp:
            series_table(a, tmp, [int(x) for x in a.sizes.split(",")])
        return
    print("| buses | gridsim process s | gridsim solve s | solve µs per bus "
          "| PGM Newton s | PGM iterative current s | PGM NR / gridsim solve | max abs dVm (vs PGM NR) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in a.sizes.split(",")):
            d = Path(tmp) / f"feeder{n}"
            subprocess.run([sys.executable, str(ROOT / "tools/bench/synthetic_feeder.py"),
                            "--buses", str(n), "--steps", "4", str(d)], check=True)
            case = d / "network.m"
            wall = median(lambda: gridsim_pf(a.gridsim, case)[0], a.repeats)
            solve = median(lambda: gridsim_pf(a.gridsim, case)[1], a.repeats)
            cells = [f"{n:,}", f"{wall:.3f}", f"{solve:.4f}", f"{solve / n * 1e6:.2f}"]
            if have_pgm:
                feeder = json.loads((d / "feeder.json").read_text())
                model = pgm_model(feeder)
                nr = median(lambda: pgm_pf(model, "newton_raphson")[0], a.repeats)
                ic = median(lambda: pgm_pf(model, "iterative_current")[0], a.repeats)
                from power_grid_model import ComponentType
                u = pgm_pf(model, "newton_raphson")[1][ComponentType.node]["u_pu"]
                vm = gridsim_pf(a.gridsim, case)[2]["bus"]["vm_pu"]
                dv = max(abs(x - y) for x, y in zip(vm, u))
                cells += [f"{nr:.4f}", f"{ic:.4f}", f"{nr / solve:.1f}", f"{dv:.1e}"]
            else:
                cells += ["–"] * 4
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

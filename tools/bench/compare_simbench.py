#!/usr/bin/env python3
"""gridsim versus power-grid-model on every SimBench base grid, a year each, as a
user runs them: the whole `gridsim run` process against PGM's batch power flow.

For each SimBench code (default: the ten base grids, scenario 0), the grid comes
from the `simbench` package (1.6.3). PGM gets it as tools/bench/compare_pgm.py
builds it (power-grid-model-io conversion with its documented fixes; the year's
loads and generators as batch update arrays; not timed). gridsim gets the same
pandapower net, saved with `pandapower.to_json` (after the same tap fix) without
its loads and generators, an element table giving each of them at its bus with
its SimBench profile columns, and SimBench's profile factors as a gzipped CSV
(exported once into --cache, not timed): value = rating × factor, the product
PGM's update arrays hold. Timed, median of --repeats runs after a warm-up:

* gridsim: wall time of the whole `gridsim run NET.json --elements ... --profiles
  ... --out OUT.h5 --threads T` process (reading the gzipped profiles and the JSON
  grid, building, solving every step, writing every per-element series as f32 and
  the totals to HDF5), output deleted before each run; also the input-reading
  time it reports;
* PGM: `calculate_power_flow` (iterative current and Newton-Raphson, tolerance
  1e-8, node u_pu output only) with the model and updates in memory.

"1 thread" pins the process to CPU 0 (taskset for gridsim, sched_setaffinity for
PGM); "2 threads" allows CPUs 0 and 1. --series bus times gridsim writing the bus
series only (|V|, angle, P, Q of every bus, with the grid totals and KPIs), the
nearest to PGM's node-voltage output. Also printed: the largest |Vm| difference
between gridsim's stored f32 voltages and PGM's Newton over the year; and the
floor no process reading these inputs can beat: decompressing the gzipped
profiles alone (zlib in memory, the file already read; median of 3), with the
largest ratio to PGM's iterative current that floor leaves ("ceiling").

Usage (tools/bench/compare_pgm.sh builds the venv .venv-bench and gridsim):
    .venv-bench/bin/python tools/bench/compare_simbench.py [--codes 1-MV-urban--0-sw,...]
        [--repeats 3] [--gridsim target/release/gridsim] [--cache target/simbench-export]
        [--series all|bus]
"""
import argparse
import os
import zlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_pgm  # noqa: E402  (the PGM side, shared)

ROOT = Path(__file__).resolve().parents[2]
CODES = ["1-LV-rural1--0-sw", "1-LV-rural2--0-sw", "1-LV-rural3--0-sw", "1-LV-semiurb4--0-sw",
         "1-LV-semiurb5--0-sw", "1-LV-urban6--0-sw", "1-MV-rural--0-sw", "1-MV-semiurb--0-sw",
         "1-MV-urban--0-sw", "1-MV-comm--0-sw"]
N_YEAR = compare_pgm.N_YEAR


def gridsim_bus_ids(net):
    """The id gridsim's pandapower import gives each bus: its name where unique in
    the table, else `bus K`."""
    names = net.bus.name.astype(str)
    counts = names.value_counts()
    return {i: (n if counts[n] == 1 and n not in ("", "nan", "None") else f"bus {i}")
            for i, n in zip(net.bus.index, names)}


def export(net, folder):
    """net.json (the grid without its loads and generators), elements.csv (each
    load and generator at its bus with its SimBench profile columns, as
    networks/simbench-*/elements.csv) and profiles.csv.gz (SimBench's own
    profile factors) of `net` (already tap-fixed)."""
    import copy

    import pandapower as pp
    import pandas as pd
    if (folder / "done").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    grid = copy.deepcopy(net)
    # The element table brings the loads and generators (a PV sgen in the JSON
    # would become a weather-driven PV unit).
    grid.load = grid.load.iloc[0:0]
    grid.sgen = grid.sgen.iloc[0:0]
    pp.to_json(grid, str(folder / "net.json"))
    ids = gridsim_bus_ids(net)
    rows = ["kind,name,bus,p_mw,q_mvar,p_profile_col,q_profile_col"]
    for i, ld in net.load.iterrows():
        p, q = ld.p_mw * ld.scaling, ld.q_mvar * ld.scaling
        rows.append(f'load,load {i},"{ids[ld.bus]}",{p!r},{q!r},'
                    f'{ld.profile}_pload,{ld.profile}_qload')
    for i, sg in net.sgen.iterrows():
        p, q = sg.p_mw * sg.scaling, float(sg.q_mvar)
        rows.append(f'sgen,sgen {i},"{ids[sg.bus]}",{p!r},{q!r},{sg.profile},')
    (folder / "elements.csv").write_text("\n".join(rows) + "\n")
    tables = [t.drop(columns="time") for k, t in net.profiles.items() if len(t) and k != "storage"]
    df = pd.concat(tables, axis=1).iloc[:N_YEAR]
    df.insert(0, "time", pd.date_range("2016-01-01", periods=len(df), freq="15min")
              .strftime("%Y-%m-%dT%H:%M:%S"))
    df.to_csv(folder / "profiles.csv.gz", index=False,
              compression={"method": "gzip", "compresslevel": 6})
    (folder / "done").write_text("ok\n")


RUN_READ = "inputs read in "


def gridsim_run(exe, folder, threads, out, series="all"):
    cpus = "0" if threads == 1 else "0,1"
    out.unlink(missing_ok=True)
    cmd = ["taskset", "-c", cpus, str(exe), "run", "--network", str(folder / "net.json"),
           "--elements", str(folder / "elements.csv"), "--profiles",
           str(folder / "profiles.csv.gz"), "--out", str(out), "--threads", str(threads),
           "--quiet", "--tol", "1e-8", "--series", series]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"gridsim failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    read = float(p.stderr.split(RUN_READ)[1].split()[0])
    return wall, read


def gunzip_s(path, repeats=3):
    """Seconds to decompress a gzip file held in memory (zlib), median."""
    data = Path(path).read_bytes()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        zlib.decompressobj(wbits=31).decompress(data)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def accuracy(out, net, node_ids, pgm_u):
    """Largest |Vm| difference, gridsim's stored f32 |V| vs PGM Newton, whole year."""
    import h5py
    from power_grid_model import ComponentType
    ids = gridsim_bus_ids(net)
    with h5py.File(out, "r") as f:
        g = f["scenarios"][list(f["scenarios"].keys())[0]]["bus"]
        names = [x.decode() if isinstance(x, bytes) else str(x) for x in g["name"][...]]
        col = {n: k for k, n in enumerate(names)}
        vm = g["vm_pu"][...].astype(float)
    u = pgm_u[ComponentType.node]
    pos = {int(i): k for k, i in enumerate(u["id"][0])}
    worst = 0.0
    for pp_bus, pgm_id in zip(net.bus.index, node_ids):
        k = col.get(ids[pp_bus])
        if k is not None:
            worst = max(worst, float(np.nanmax(np.abs(vm[:, k] - u["u_pu"][:, pos[int(pgm_id)]]))))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gridsim", default=str(ROOT / "target" / "release" / "gridsim"))
    ap.add_argument("--codes", default=",".join(CODES))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache", default=str(ROOT / "target" / "simbench-export"))
    ap.add_argument("--series", default="all",
                    help="gridsim's --series in the timed runs: all (the default, every "
                         "element's series) or e.g. bus (the bus series, nearest to PGM's "
                         "node output here)")
    a = ap.parse_args()
    med = statistics.median
    print(f"machine: {compare_pgm.machine()}; median of {a.repeats} after a warm-up; "
          f"gridsim --series {a.series}", flush=True)
    print("| SimBench grid (year, 15 min) | PGM nodes | gridsim whole process 1 / 2 thr s "
          "| of which reading inputs s | PGM IC 1 / 2 thr s | ratio IC 1 / 2 thr "
          "| PGM NR 1 / 2 thr s | ratio NR 1 / 2 thr | max abs dVm vs PGM NR "
          "| gunzip alone s | ceiling IC 1 / 2 thr |")
    print("|---|---:|---|---:|---|---|---|---|---:|---:|---|")
    tmp = Path(tempfile.mkdtemp(prefix="gridsim-sb-"))
    out = tmp / "year.h5"
    for code in a.codes.split(","):
        model, update, node_ids, net = compare_pgm.pgm_setup(code, N_YEAR)
        folder = Path(a.cache) / code
        export(net, folder)
        gs, pgm = {}, {}
        for threads in (1, 2):
            runs = [gridsim_run(a.gridsim, folder, threads, out, a.series) for _ in range(a.repeats + 1)][1:]
            gs[threads] = (med(r[0] for r in runs), med(r[1] for r in runs))
            os.sched_setaffinity(0, {0} if threads == 1 else {0, 1})
            for m in ("iterative_current", "newton_raphson"):
                ts = compare_pgm.median_of(
                    lambda: compare_pgm.pgm_run(model, update, m, threads)[0], a.repeats)
                pgm[(m, threads)] = med(ts)
            os.sched_setaffinity(0, set(range(os.cpu_count())))
        pgm_u = compare_pgm.pgm_run(model, update, "newton_raphson", 2)[1]
        gridsim_run(a.gridsim, folder, 2, out)
        dv = accuracy(out, net, node_ids, pgm_u)
        floor = gunzip_s(folder / "profiles.csv.gz")
        ic = [pgm[("iterative_current", t)] for t in (1, 2)]
        nr = [pgm[("newton_raphson", t)] for t in (1, 2)]
        g = [gs[t][0] for t in (1, 2)]
        print(f"| {code} | {len(net.bus)} | {g[0]:.3f} / {g[1]:.3f} | {gs[2][1]:.3f} "
              f"| {ic[0]:.3f} / {ic[1]:.3f} | {ic[0] / g[0]:.1f} / {ic[1] / g[1]:.1f} "
              f"| {nr[0]:.3f} / {nr[1]:.3f} | {nr[0] / g[0]:.1f} / {nr[1] / g[1]:.1f} "
              f"| {dv:.1e} | {floor:.3f} | {ic[0] / floor:.1f} / {ic[1] / floor:.1f} |",
              flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

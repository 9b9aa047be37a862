"""Reads a gridsim results file the way a user would: h5py and pandas, no glue.

Usage: read_results.py RESULTS.h5
Prints a JSON summary; exits non-zero (with a message) on any problem.
"""
import json
import sys

import h5py
import numpy as np
import pandas as pd


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


path = sys.argv[1]
f = h5py.File(path, "r")
for a in ("gridsim_version", "created", "command_line", "scenario_file_sha256"):
    if a not in f.attrs:
        fail(f"root attribute {a} missing")
    if not isinstance(f.attrs[a], str):
        fail(f"root attribute {a} is not a str: {type(f.attrs[a])}")

names = list(f["scenario_names"].asstr()[:])
datasets = []
f.visititems(lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
summary = {"scenarios": names, "datasets": len(datasets), "frames": {}}
for name in names:
    g = f[f"scenarios/{name}"]
    time = pd.to_datetime(g["time"].asstr()[:])
    n = len(time)
    converged = g["grid/converged"][:].astype(bool)
    for group, id_name in (("bus", "id"), ("branch", "id"), ("unit", "id")):
        ids = g[f"{group}/{id_name}"]
        cols = list(ids.asstr()[:]) if ids.dtype.kind == "O" else list(ids[:])
        for key, ds in g[group].items():
            if key == id_name or ds.ndim == 1:
                continue  # descriptors: id, technology, bus
            if "unit" not in ds.attrs:
                fail(f"{name}/{group}/{key} has no unit attribute")
            if ds.shape != (n, len(cols)):
                fail(f"{name}/{group}/{key} shape {ds.shape} != ({n}, {len(cols)})")
            df = pd.DataFrame(ds[:], index=time, columns=cols)
            bad = df[converged].isna().all(axis=1).sum() if len(cols) else 0
            if key in ("vm_pu", "va_degree", "p_mw") and bad:
                fail(f"{name}/{group}/{key}: {bad} converged steps are all NaN")
            summary["frames"][f"{name}/{group}/{key}"] = list(df.shape)
    grid = pd.DataFrame({k: v[:] for k, v in g["grid"].items()}, index=time)
    if grid.shape[0] != n:
        fail("grid frame length")
    kpi = dict(g["kpi"].attrs)
    if not np.isclose(kpi["steps"], converged.sum()):
        fail("kpi steps != converged steps")
    summary[f"{name}/loss_mwh"] = float(kpi["loss_mwh"])
    summary[f"{name}/loss_check_mwh"] = float(grid["p_loss_mw"][converged].sum() * (time[1] - time[0]).total_seconds() / 3600 if n > 1 else 0)
    summary[f"{name}/vm_min"] = float(pd.DataFrame(g["bus/vm_pu"][:]).min().min())
print(json.dumps(summary))

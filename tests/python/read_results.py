"""Reads a gridsim results file the way a user would: xarray, pandas and
h5py, no glue.

Usage: read_results.py RESULTS.h5
Opens every group of every scenario with xarray (h5netcdf engine) and checks
real coordinates (UTC times decoded from CF units, element ids), units,
attribute types and the stored scenario text; prints a JSON summary; exits
non-zero (with a message) on any problem.
"""
import hashlib
import json
import sys

import h5py
import numpy as np
import pandas as pd
import xarray as xr


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


path = sys.argv[1]
f = h5py.File(path, "r")
for a in ("gridsim_version", "created", "command_line", "scenario_file_sha256",
          "scenario_file_text", "series", "series_precision", "series_compression"):
    if not isinstance(f.attrs.get(a), str):
        fail(f"root attribute {a} missing or not a str: {type(f.attrs.get(a))}")
if int(f.attrs["layout_version"]) != 2:
    fail("layout_version")
text = f.attrs["scenario_file_text"]
if text and hashlib.sha256(text.encode()).hexdigest() != f.attrs["scenario_file_sha256"]:
    fail("scenario_file_text does not hash to scenario_file_sha256")

names = list(f["scenario_names"].asstr()[:])
summary = {"scenarios": names, "series": f.attrs["series"], "frames": {}, "variables": 0}
GROUPS = ("bus", "line", "transformer", "load", "unit", "grid")
for name in names:
    g = f[f"scenarios/{name}"]
    for a, kind in (("step_seconds", np.integer), ("n_steps", np.integer),
                    ("utc_offset_h", np.floating)):
        if not isinstance(g.attrs[a], kind):
            fail(f"{name}: attribute {a} is {type(g.attrs[a])}")
    if not isinstance(g.attrs["description"], str):
        fail(f"{name}: description")
    for a, v in g["run"].attrs.items():
        if not isinstance(v, np.integer):
            fail(f"{name}/run: {a} is {type(v)}, expected an integer count")
    step = int(g.attrs["step_seconds"])
    n = int(g.attrs["n_steps"])
    # The local start with its offset, as UTC: what xarray's times must be.
    start_utc = pd.Timestamp(g.attrs["start"]).tz_convert("UTC").tz_localize(None)
    expected_time = start_utc + pd.to_timedelta(np.arange(n) * step, unit="s")
    frames = {}
    for group in GROUPS:
        ds = xr.open_dataset(path, group=f"scenarios/{name}/{group}", engine="h5netcdf",
                             phony_dims="sort")
        phony = [d for d in ds.dims if str(d).startswith("phony")]
        if phony:
            fail(f"{name}/{group}: dimensions without coordinates {phony}")
        if group != "grid" and "id" not in ds.coords:
            fail(f"{name}/{group}: no id coordinate")
        for key, var in ds.data_vars.items():
            summary["variables"] += 1
            if var.dims and var.dims[0] == "time":
                if "unit" not in var.attrs:
                    fail(f"{name}/{group}/{key} has no unit attribute")
                frames[f"{group}/{key}"] = var.to_pandas()
        if "time" in ds.dims:
            if ds["time"].dtype.kind != "M":
                fail(f"{name}/{group}: time is {ds['time'].dtype}, not datetimes")
            if not (pd.DatetimeIndex(ds["time"].values) == expected_time).all():
                fail(f"{name}/{group}: times differ from start + k * step in UTC")
        elif group == "grid":
            fail(f"{name}/grid has no time")
        ds.close()
    for key, df in frames.items():
        summary["frames"][f"{name}/{key}"] = list(df.shape)
    grid = pd.DataFrame({k[5:]: v for k, v in frames.items() if k.startswith("grid/")})
    converged = grid["converged"].astype(bool)
    if "bus/vm_pu" in frames:
        bad = frames["bus/vm_pu"][converged].isna().all(axis=1).sum()
        if bad:
            fail(f"{name}/bus/vm_pu: {bad} converged steps are all NaN")
    kpi = dict(g["kpi"].attrs)
    if not np.isclose(kpi["steps"], converged.sum()):
        fail("kpi steps != converged steps")
    hours = step / 3600
    summary[f"{name}/loss_mwh"] = float(kpi["loss_mwh"])
    summary[f"{name}/loss_check_mwh"] = float(grid["p_loss_mw"][converged].sum() * hours)
    if "load/p_mw" in frames:
        kinds = xr.open_dataset(path, group=f"scenarios/{name}/load", engine="h5netcdf")["kind"]
        drawn = frames["load/p_mw"].loc[:, (kinds == "load").values].sum(axis=1)
        summary[f"{name}/load_mwh"] = float(drawn.sum() * hours)
        summary[f"{name}/load_check_mwh"] = float(grid["p_load_mw"].sum() * hours)
print(json.dumps(summary))

"""Results files as xarray and pandas."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import pandas as pd
import xarray as xr


class Results:
    """A gridsim results file: one xarray DataTree per scenario, KPIs as a DataFrame.

    ``results[name]`` is the scenario's tree: groups ``bus``, ``line``,
    ``transformer``, ``load``, ``unit`` and ``grid``, each a Dataset with a
    ``time`` coordinate (UTC) and an ``id`` coordinate (element ids), the
    unit of every variable in its ``unit`` attribute. ``kpis`` has one row
    per scenario, one column per KPI; ``attrs`` the file's root attributes
    (version, command line, scenario text and hash, ...).
    """

    def __init__(self, path: str | os.PathLike, load: bool = False):
        self.path = Path(path)
        with h5py.File(self.path, "r") as f:
            self.scenarios = list(f["scenario_names"].asstr()[:])
            self.attrs = {k: _plain(v) for k, v in f.attrs.items()}
            rows = {}
            for name in self.scenarios:
                g = f[f"scenarios/{name}/kpi"]
                rows[name] = {k: _plain(v) for k, v in g.attrs.items()}
        self.kpis = pd.DataFrame.from_dict(rows, orient="index")
        self.kpis.index.name = "scenario"
        self._trees: dict[str, xr.DataTree] = {}
        if load:
            for name in self.scenarios:
                self._trees[name] = self._open(name).load()
                self._trees[name].close()

    def _open(self, name: str) -> xr.DataTree:
        return xr.open_datatree(self.path, group=f"scenarios/{name}", engine="h5netcdf",
                                phony_dims="sort")

    def __getitem__(self, name: str) -> xr.DataTree:
        if name not in self.scenarios:
            raise KeyError(f"{self.path}: no scenario '{name}' (scenarios: {', '.join(self.scenarios)})")
        if name not in self._trees:
            self._trees[name] = self._open(name)
        return self._trees[name]

    def __iter__(self):
        return iter(self.scenarios)

    def __len__(self) -> int:
        return len(self.scenarios)

    def close(self) -> None:
        """Closes the open trees."""
        for t in self._trees.values():
            t.close()

    def __enter__(self) -> "Results":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<gridsim.Results {self.path} ({', '.join(self.scenarios)})>"


def _plain(v):
    if isinstance(v, bytes):
        return v.decode()
    if hasattr(v, "item") and getattr(v, "shape", None) == ():
        return v.item()
    return v


def open_results(path: str | os.PathLike, load: bool = False) -> Results:
    """Opens a results file (``gridsim run`` or :func:`gridsim.run`); with
    ``load`` every series is read into memory at once."""
    return Results(path, load=load)

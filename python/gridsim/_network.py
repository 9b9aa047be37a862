"""Networks as pandas tables (the native format's element kinds) and power flow."""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _gridsim

#: pandapower's names for gridsim's element kinds, usable as attributes.
ALIASES = {"trafo": "transformer", "gen": "generator"}


def _clean(value: Any) -> Any:
    """A table cell as JSON: NaN/None dropped (the field's default), numpy
    scalars as Python, whole floats as integers (pandas turns an integer
    column with a missing cell into floats; gridsim reads integers where it
    wants floats, not the reverse)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


class Network:
    """A network as tables, one pandas DataFrame per element kind.

    The kinds and columns are those of gridsim's native network format
    (README, "Native format"): ``bus``, ``line``, ``transformer`` (also
    ``trafo``), ``regulator``, ``switch``, ``branch`` (per-unit branches of a
    MATPOWER case), ``load``, ``shunt``, ``ext_grid``, ``generator`` (also
    ``gen``), ``chp``, ``pv``, ``wind``, ``storage``. Edit the frames (values,
    rows) and pass the network to :func:`power_flow`; a missing value (NaN)
    takes the field's default. ``header`` holds the ``[network]`` table
    (name, base_mva, frequency_hz, ...).
    """

    def __init__(self, header: dict, tables: dict[str, pd.DataFrame],
                 line_types: dict | None = None, source: str | None = None):
        self.header = dict(header)
        self.tables = dict(tables)
        self.line_types = dict(line_types or {})
        self.source = source

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        kind = ALIASES.get(name, name)
        if kind in tables:
            return tables[kind]
        raise AttributeError(f"network has no element kind '{name}' (kinds: {', '.join(tables)})")

    @property
    def kinds(self) -> list[str]:
        """The element kinds present."""
        return list(self.tables)

    def copy(self) -> "Network":
        """A deep copy (frames copied)."""
        return Network(copy.deepcopy(self.header),
                       {k: v.copy(deep=True) for k, v in self.tables.items()},
                       copy.deepcopy(self.line_types), self.source)

    def to_dict(self) -> dict:
        """The network in the native format's schema (what gridsim reads)."""
        d: dict[str, Any] = {"network": {k: _clean(v) for k, v in self.header.items() if _clean(v) is not None}}
        if self.line_types:
            d["line_types"] = self.line_types
        for kind, df in self.tables.items():
            rows = []
            for rec in df.to_dict(orient="records"):
                rows.append({k: _clean(v) for k, v in rec.items() if _clean(v) is not None})
            d[kind] = rows
        return d

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {len(v)}" for k, v in self.tables.items())
        return f"<gridsim.Network '{self.header.get('name', '')}' ({parts})>"


def read_network(path: str | os.PathLike) -> Network:
    """Reads a network file gridsim reads (MATPOWER ``.m``, native ``.toml``,
    pandapower ``.json``) into tables."""
    path = os.fspath(path)
    doc = json.loads(_gridsim.network_json(path))
    header = doc.pop("network", {})
    line_types = doc.pop("line_types", {})
    tables = {kind: pd.DataFrame.from_records(rows) for kind, rows in doc.items()}
    return Network(header, tables, line_types, source=path)


@dataclass
class PowerFlowResult:
    """A converged power flow: pandapower-style result tables and the solve's figures.

    ``res_bus`` (vm_pu, va_degree), ``res_line`` (p/q at both ends, pl_mw,
    ql_mvar, i_ka, loading_percent), ``res_trafo``, ``res_load``,
    ``res_gen``, ``res_branch`` (all branches in file order), each indexed by
    element id; numeric columns are NumPy arrays handed over from Rust.
    """

    converged: bool
    iterations: int
    max_mismatch_pu: float
    total_loss_mw: float
    shunt_p_mw: float
    solve_time_s: float
    res_bus: pd.DataFrame
    res_line: pd.DataFrame
    res_trafo: pd.DataFrame
    res_load: pd.DataFrame
    res_gen: pd.DataFrame
    res_branch: pd.DataFrame
    extra: dict = field(default_factory=dict)


def _frame(cols: dict) -> pd.DataFrame:
    cols = dict(cols)
    ids = cols.pop("id")
    return pd.DataFrame(cols, index=pd.Index(ids, name="id"))


def power_flow(net: Network | str | os.PathLike, tol: float = 1e-8, max_iter: int = 20,
               flat_start: bool = False) -> PowerFlowResult:
    """Newton–Raphson power flow of a :class:`Network` or a network file.

    ``tol`` is the largest power mismatch accepted, p.u.; ``max_iter`` the
    most iterations; ``flat_start`` starts from 1 p.u. instead of the file's
    voltages. Raises :class:`NotConvergedError` when it does not converge.
    """
    if isinstance(net, Network):
        # Messages name the tables, not the file they came from (whose lines
        # they no longer match); its folder still holds its line_types file.
        base = Path(net.source).with_suffix("") if net.source else Path("network")
        label = f"{base} (Python tables).toml"
        d = _gridsim.solve_tables(json.dumps(net.to_dict()), label, float(tol), int(max_iter),
                                  bool(flat_start))
    else:
        d = _gridsim.solve_file(os.fspath(net), float(tol), int(max_iter), bool(flat_start))
    t = d.pop("tables")
    return PowerFlowResult(res_bus=_frame(t["bus"]), res_line=_frame(t["line"]),
                           res_trafo=_frame(t["trafo"]), res_load=_frame(t["load"]),
                           res_gen=_frame(t["gen"]), res_branch=_frame(t["branch"]), **d)

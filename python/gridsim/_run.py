"""Scenario runs from TOML files or Python dicts."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from . import _gridsim
from ._results import Results, open_results


def _jsonable(value: Any, where: str = "scenario dict") -> Any:
    """A scenario dict as JSON (tuples as lists; numpy scalars as Python);
    None and non-finite numbers are errors naming their key."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if value is None:
        raise _gridsim.GridsimError(f"{where}: None is not a value (leave the key out for its default)")
    if isinstance(value, float) and not math.isfinite(value):
        raise _gridsim.GridsimError(f"{where}: {value} is not a finite number")
    return value


def run(scenario: str | os.PathLike | Mapping[str, Any], out: str | os.PathLike | None = None,
        threads: int | None = None, steps: int | None = None, base_dir: str | os.PathLike | None = None,
        force: bool = False) -> Results | str:
    """Runs every scenario of a study, as ``gridsim run`` does.

    ``scenario`` is a scenario file's path or a dict in the same schema (as
    ``tomllib.load`` reads one; relative paths in it start at ``base_dir``,
    default the current folder). With ``out`` the results are written there
    (an existing file only with ``force``) and the run's summary text is
    returned; without, they are written to a temporary file, read into
    memory and returned as :class:`Results`. ``threads`` defaults to all
    cores; ``steps`` shortens the period.
    """
    threads = int(threads or os.cpu_count() or 1)
    kwargs: dict[str, Any] = {"steps": steps}
    if isinstance(scenario, Mapping):
        kwargs["scenario_json"] = json.dumps(_jsonable(scenario))
        kwargs["base_dir"] = os.fspath(base_dir or os.getcwd())
    else:
        kwargs["path"] = os.fspath(scenario)
    if out is not None:
        return _gridsim.run(os.fspath(out), threads, bool(force), **kwargs)
    with tempfile.TemporaryDirectory(prefix="gridsim-") as tmp:
        path = Path(tmp) / "results.h5"
        _gridsim.run(os.fspath(path), threads, False, **kwargs)
        return open_results(path, load=True)

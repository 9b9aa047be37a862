"""Type hints of the Rust extension (gridsim._gridsim)."""

from typing import Any

class GridsimError(Exception):
    """An input gridsim cannot use, or a run that failed; the message names the file, line, element and field."""

class NotConvergedError(GridsimError):
    """The power flow did not converge (the message gives the iterations and the last mismatch)."""

def network_json(path: str) -> str:
    """The native format's tables of a network file (any format gridsim reads), as JSON text."""

def solve_file(path: str, tol: float, max_iter: int, flat_start: bool) -> dict[str, Any]:
    """Power flow of a network file: summary figures and ``tables`` of result columns."""

def solve_tables(
    tables_json: str, label: str, tol: float, max_iter: int, flat_start: bool
) -> dict[str, Any]:
    """Power flow of a network given as the native format's tables (JSON)."""

def run(
    out: str,
    threads: int,
    force: bool,
    path: str | None = None,
    scenario_json: str | None = None,
    base_dir: str | None = None,
    steps: int | None = None,
) -> str:
    """Runs a scenario file or scenario JSON into the HDF5 file ``out``; returns the summary text."""

def version() -> str:
    """The gridsim version of the extension."""

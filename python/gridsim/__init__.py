"""gridsim from Python: read a network as pandas tables, edit and solve it,
run year-long scenarios (TOML files or Python dicts) and open their results
as xarray.

    >>> import gridsim
    >>> net = gridsim.read_network("networks/ieee33.toml")
    >>> net.load["p_mw"] *= 1.2
    >>> res = gridsim.power_flow(net)
    >>> res.res_bus["vm_pu"].min()

Everything runs in the gridsim Rust library in this process (no
subprocess); solves and runs release the GIL. Errors are
:class:`GridsimError` (:class:`NotConvergedError` for a power flow that
does not converge) with the messages the command line prints.
"""

from ._gridsim import GridsimError, NotConvergedError
from ._gridsim import version as _version
from ._network import Network, PowerFlowResult, power_flow, read_network
from ._results import Results, open_results
from ._run import run

__version__ = _version()

__all__ = [
    "GridsimError",
    "NotConvergedError",
    "Network",
    "PowerFlowResult",
    "Results",
    "open_results",
    "power_flow",
    "read_network",
    "run",
]

"""icnet — internal-customer network analysis.

Model a company as a directed network of ``provider → client`` service
relations weighted by satisfaction and delay; find bottlenecks, conflict
cycles and retaliation spirals; say who should do what about it.

Examples
--------
>>> import icnet
>>> net = icnet.datasets.toy()
>>> net.level
'person'
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version as _version

from . import datasets, errors, io
from .errors import EmptyNetworkError, IcnetError, IcnetWarning, ParameterError, SchemaError
from .network import ServiceNetwork, from_events, from_process_log
from . import _dask  # noqa: F401  registers engine="dask" (imports dask only when used)

from_edges = ServiceNetwork.from_edges
from_networkx = ServiceNetwork.from_networkx

try:
    __version__ = _version("icnet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# public functions living in submodules that may import heavier dependencies;
# resolved on first use so `import icnet` stays light and never imports matplotlib
_LAZY = {
    "service_quality": "icnet.analysis.quality",
    "agreement_compliance": "icnet.analysis.agreements",
    "bottlenecks": "icnet.analysis.bottlenecks",
    "critical_path": "icnet.analysis.bottlenecks",
    "conflict_cycles": "icnet.analysis.conflicts",
    "balance": "icnet.analysis.conflicts",
    "dyad_census": "icnet.analysis.conflicts",
    "retaliation_spirals": "icnet.analysis.spirals",
    "reciprocity_test": "icnet.analysis.reciprocity",
    "spiral_timeline": "icnet.analysis.spirals",
    "health": "icnet.analysis.health",
    "actions": "icnet.analysis.actions",
    "what_if": "icnet.analysis.actions",
    "report": "icnet.reporting",
    "pingpong": "icnet.analysis.handovers",
    "reassignments": "icnet.analysis.handovers",
    "escalations": "icnet.analysis.handovers",
    "holding_times": "icnet.analysis.handovers",
    "handover_actions": "icnet.analysis.handovers",
    "handover_summary": "icnet.analysis.handovers",
    "read_xes": "icnet._xes",
    "read_tickets": "icnet._xes",
}
_SUBMODULES = {"synth", "plot", "analysis", "privacy", "cli", "reporting", "worktime"}

__all__ = [
    "ServiceNetwork", "from_events", "from_edges", "from_networkx", "from_process_log", "io",
    "datasets", "errors",
    "IcnetError", "SchemaError", "EmptyNetworkError", "ParameterError", "IcnetWarning",
    "__version__", *sorted(_LAZY), *sorted(_SUBMODULES),
]


def __getattr__(name: str):
    if name in _LAZY:
        obj = getattr(import_module(_LAZY[name]), name)
        globals()[name] = obj
        return obj
    if name in _SUBMODULES:
        mod = import_module(f"icnet.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'icnet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

"""placement — where should our servers be?

Pick the sites (cloud regions, local zones, green-field datacenters) to open and the users each
serves, minimising latency and cost, solved to proven optimality.

Submodules are imported on first use, so ``import placement as pl`` is cheap::

    import placement as pl
    sites = pl.catalog.sites(providers=["aws", "gcp"])
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from placement.errors import InfeasibleError, PlacementError, SolverError, ValidationError

__version__ = "0.1.0"

# the library logs (progress, notes) to the "placement" logger and never prints; applications
# decide where the records go (the command line sends them to stderr)
logging.getLogger("placement").addHandler(logging.NullHandler())

_SUBMODULES = {
    "catalog",
    "costs",
    "demand",
    "geo",
    "latency",
    "orlib",
    "problem",
    "refresh",
    "report",
    "result",
    "scenarios",
    "solve",
    "validate",
    "workload",
}
_LAZY_NAMES = {"Problem": "problem", "Result": "result"}

__all__ = [
    "InfeasibleError",
    "PlacementError",
    "Problem",
    "Result",
    "SolverError",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"placement.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"placement.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'placement' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | _SUBMODULES)

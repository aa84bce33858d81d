"""Helpers shared by scenarios, sweeps, frontiers and robustness (copies use ``Problem.replace``)."""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from placement.errors import ValidationError
from placement.problem import Problem
from placement.validate import validate_latency_table

__all__ = ["PROBLEM_KEYS", "check_problem_keys", "full_latency_table", "with_full_latency"]

#: Constructor arguments of Problem other than the tables (the keys a scenario or grid may set).
PROBLEM_KEYS: frozenset[str] = frozenset(
    k
    for k in inspect.signature(Problem.__init__).parameters
    if k not in ("self", "sites", "demand", "latency", "cost_model")
)


def check_problem_keys(keys: Any, where: str) -> None:
    """Raise a ValidationError naming the keys that are not Problem arguments."""
    unknown = sorted(set(keys) - PROBLEM_KEYS)
    if unknown:
        raise ValidationError(
            f"unknown Problem argument(s): {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(PROBLEM_KEYS))}",
            table=where,
            field=unknown[0],
        )


def full_latency_table(base: Problem) -> pd.DataFrame:
    """The unpruned latency table of ``base`` (every pair its latency source gives).

    :meth:`Problem.latency_table` prunes pairs beyond the hard SLA; a sweep that loosens the SLA
    needs the unpruned table, which this computes once (or returns the base's own DataFrame).
    """
    source = base.latency
    if source is None:
        from placement import latency as latency_mod

        source = latency_mod.default_model()
    table = source if isinstance(source, pd.DataFrame) else source.table(base.demand, base.sites)
    return validate_latency_table(
        table, site_ids=base.sites["site_id"], demand_ids=base.demand["demand_id"]
    ).reset_index(drop=True)


def with_full_latency(base: Problem) -> Problem:
    """``base`` with its unpruned latency table computed and validated once.

    Copies made from it with :meth:`Problem.replace` (the points of a sweep, a frontier or a
    robustness study) keep the table and skip its validation as long as they keep the base's
    sites and demand (validating 500,000 pairs again took a third of a world-scale sweep point).
    """
    shared = base.replace(latency=full_latency_table(base))
    shared._latency_checked = True
    return shared

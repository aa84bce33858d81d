"""Helpers shared by scenarios, sweeps, frontiers and robustness (copies use ``Problem.replace``)."""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from placement.errors import ValidationError
from placement.problem import Problem

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
    """The unpruned latency table of ``base`` (every pair its latency source gives), validated.

    :meth:`Problem.latency_table` prunes pairs beyond the hard SLA; a sweep that loosens the SLA
    needs the unpruned table, which this computes once (or returns the base's own DataFrame).
    """
    return base.with_full_latency().latency


def with_full_latency(base: Problem) -> Problem:
    """``base`` with its unpruned latency table computed and validated once.

    Same as :meth:`Problem.with_full_latency`: copies made from it with
    :meth:`Problem.replace` (the points of a sweep, a frontier or a robustness study) keep the
    table and skip its validation as long as they keep the base's sites and demand.
    """
    return base.with_full_latency()

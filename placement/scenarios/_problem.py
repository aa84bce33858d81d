"""Rebuilding a :class:`~placement.problem.Problem` with overrides, without mutating it.

``Problem`` has no ``replace``/``copy`` method; every constructor argument is stored under its own
name as a public attribute, so a copy is ``Problem(**{name: getattr(base, name)}, **overrides)``.
"""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from placement.errors import ValidationError
from placement.problem import Problem
from placement.validate import validate_latency_table

__all__ = ["full_latency_table", "problem_kwargs", "rebuild"]


def _init_names() -> list[str]:
    params = inspect.signature(Problem.__init__).parameters
    return [k for k in params if k != "self"]


#: Constructor arguments of Problem other than the tables (the keys a scenario may override).
PROBLEM_KEYS: frozenset[str] = frozenset(
    k for k in _init_names() if k not in ("sites", "demand", "latency", "cost_model")
)


def problem_kwargs(base: Problem) -> dict[str, Any]:
    """Every constructor argument of ``base`` (tables included) read from its attributes."""
    out: dict[str, Any] = {}
    for name in _init_names():
        value = getattr(base, name)
        if isinstance(value, pd.DataFrame):
            value = value.copy()
        elif isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = list(value)
        out[name] = value
    return out


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


def rebuild(base: Problem, **overrides: Any) -> Problem:
    """A new Problem equal to ``base`` except for ``overrides`` (validated by the constructor)."""
    kwargs = problem_kwargs(base)
    kwargs.update(overrides)
    sites = kwargs.pop("sites")
    demand = kwargs.pop("demand")
    return Problem(sites, demand, **kwargs)


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

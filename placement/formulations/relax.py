"""Relaxation first: a fast exact solver on the problem without its restricting constraints.

Percentile SLA, capacity (split or single-sourced), budget and per-provider limits only remove
solutions: with them dropped, the problem (the *relaxation*) has every solution of the original
and the same objective. So

* the relaxation's proven bound is a bound of the original, and an infeasible relaxation proves
  the original infeasible;
* when the relaxation's optimum meets the dropped constraints it is an optimum of the original,
  with the relaxation's bound as its proof.

When a fast exact solver covers the relaxation (:func:`relaxation` returns it and the dropped
features), :func:`placement.formulations.registry.solve_data` solves it first and only falls
back to the PuLP model when its optimum breaks a dropped constraint; the PuLP model then gets
that optimum's open sites as its MIP start and keeps the relaxation's bound when its own is
weaker (``Solution.bound`` is the larger of the two, both valid).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from placement.formulations.contract import Solution, active_features
from placement.formulations.data import ModelData

__all__ = ["RESTRICTIONS", "relaxation", "violations"]

#: Features that only remove solutions (dropping them gives a relaxation, same objective).
RESTRICTIONS: tuple[str, ...] = (
    "sla_share",
    "capacity",
    "single_sourcing",
    "budget",
    "max_per_provider",
)

_TOL = 1e-9  # relative slack of the checks (the PuLP model's rows are exact in the same sense)


def relaxation(data: ModelData) -> tuple[ModelData, tuple[str, ...]] | None:
    """``data`` without its restricting constraints, and the features dropped (None if none).

    Only for the objectives whose value does not depend on those constraints' fields (all of
    them here: the median, center, cost and weighted objectives read neither the capacity,
    the budget nor the limits).
    """
    active = active_features(data)
    dropped = tuple(f for f in RESTRICTIONS if f in active)
    if not dropped or data.objective in ("coverage", "set-cover"):
        return None
    relaxed = dataclasses.replace(
        data,
        sla_share=None,
        capacity=None,
        single_sourcing=False,
        budget_usd=None,
        max_per_provider={},
    )
    return relaxed, dropped


def violations(data: ModelData, sol: Solution) -> list[str]:
    """The restricting constraints of ``data`` that the solution ``sol`` breaks (in words).

    ``sol`` must have been found on (a relaxation of) ``data``: same pairs and sites.
    """
    if sol.open_mask is None:
        return ["no solution"]
    out: list[str] = []
    rows = np.asarray(sol.rows, dtype=float).reshape(-1, 4)
    primary = rows[rows[:, 1] == 1]
    pair = primary[:, 0].astype(np.int64)
    share = primary[:, 3]
    demand = primary[:, 2].astype(np.int64)
    served = data.weight[demand] * share
    total = data.total_weight
    if data.sla_share is not None and data.sla_ms is not None:
        within = served[data.latency_ms[pair] <= data.sla_ms + 1e-9].sum()
        if within < data.sla_share * total * (1 - _TOL):
            out.append(
                f"percentile SLA: {within / total:.4%} within {data.sla_ms:g} ms, "
                f"{data.sla_share:.4%} needed"
            )
    if data.capacity is not None:
        load = np.bincount(data.pair_j[pair], weights=served, minlength=data.n_sites)
        over = load > data.capacity * (1 + _TOL) + _TOL
        if over.any():
            out.append(f"capacity: {int(over.sum())} site(s) over")
    if data.single_sourcing and (data.capacity is not None or data.sla_share is not None):
        if ((rows[:, 3] > _TOL) & (rows[:, 3] < 1 - _TOL)).any():
            out.append("single sourcing: a demand point is split")
    if data.budget_usd is not None:
        j = data.pair_j[pair]
        cost = float(data.fixed_usd[sol.open_mask].sum())
        cost += float(
            (data.variable_usd_per_unit[j] * served + data.pair_cost_usd[pair] * share).sum()
        )
        if cost > data.budget_usd * (1 + _TOL) + _TOL:
            out.append(f"budget: {cost:,.0f} USD a year over {data.budget_usd:,.0f}")
    for code, limit in sorted(data.max_per_provider.items()):
        n = int(sol.open_mask[data.provider == code].sum())
        if n > limit:
            out.append(f"provider limit: {n} sites of provider {code} over {limit}")
    return out

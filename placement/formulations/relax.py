"""Relaxation first: a fast exact solver on the problem without its restricting constraints.

Percentile SLA, capacity (split or single-sourced), budget and per-provider limits only remove
solutions: with them dropped, the problem (the *relaxation*) has every solution of the original
and the same objective. So

* the relaxation's proven bound is a bound of the original, and an infeasible relaxation proves
  the original infeasible;
* when the relaxation's optimum meets the dropped constraints it is an optimum of the original,
  with the relaxation's bound as its proof; so is the same optimum with open sites swapped for
  co-located *twins* (same latency to every demand point) of another provider when that brings
  it within the provider limits (:func:`twin_repair`).

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

__all__ = ["RESTRICTIONS", "relaxation", "twin_repair", "violations"]

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


def twin_repair(data: ModelData, sol: Solution) -> Solution | None:
    """The same solution with open sites swapped for twins so that provider limits hold.

    Two sites are twins when every demand point may use both or neither as its primary, at the
    same latency (co-located regions of two providers often are). Swapping an open site for a
    closed twin keeps every assignment's latency, so a median or center objective (redundancy 1,
    no cost terms) keeps its value. Returns the repaired solution when the swaps bring every
    provider within its limit and nothing else breaks (checked again with :func:`violations`,
    objective recomputed), else None.
    """
    if (
        sol.open_mask is None
        or not data.max_per_provider
        or data.redundancy != 1
        or data.objective not in ("median", "center")
    ):
        return None
    lat = np.full((data.n_demand, data.n_sites), np.inf)
    ok = data.primary_ok
    lat[data.pair_i[ok], data.pair_j[ok]] = data.latency_ms[ok]
    _, column_class = np.unique(lat.T, axis=0, return_inverse=True)
    column_class = column_class.ravel()
    open_mask = sol.open_mask.copy()
    count = {code: int(open_mask[data.provider == code].sum()) for code in data.max_per_provider}

    def room(code: int) -> bool:
        limit = data.max_per_provider.get(code)
        return limit is None or count.get(code, int(open_mask[data.provider == code].sum())) < limit

    moved: dict[int, int] = {}
    for code, limit in sorted(data.max_per_provider.items()):
        for j in np.flatnonzero(open_mask & (data.provider == code)):
            if count[code] <= limit:
                break
            if data.must_open[j]:
                continue
            twins = np.flatnonzero((column_class == column_class[j]) & ~open_mask & ~data.forbidden)
            for t in twins:
                other = int(data.provider[t])
                if other != code and room(other):
                    open_mask[j], open_mask[t] = False, True
                    count[code] -= 1
                    if other in count:
                        count[other] += 1
                    moved[int(j)] = int(t)
                    break
    if not moved:
        return None
    pair_of = {
        (int(i), int(j)): int(p)
        for p, (i, j) in enumerate(zip(data.pair_i, data.pair_j, strict=True))
        if ok[p]
    }
    rows = []
    for p, r, i, share in sol.rows:
        j = moved.get(int(data.pair_j[p]))
        rows.append((p if j is None else pair_of[(int(i), j)], r, i, share))
    repaired = dataclasses.replace(sol, open_mask=open_mask, rows=rows)
    if violations(data, repaired):
        return None
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    pairs = arr[:, 0].astype(np.int64)
    if data.objective == "median":
        value = float(
            (data.weight[arr[:, 2].astype(np.int64)] * arr[:, 3] * data.latency_ms[pairs]).sum()
        )
        value /= data.total_weight
    else:
        value = float(data.latency_ms[pairs].max())
    if sol.objective is None or not np.isclose(value, sol.objective, rtol=1e-9, atol=1e-12):
        return None
    return repaired

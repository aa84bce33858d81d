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
from collections.abc import Callable

import numpy as np

from placement.formulations.contract import Solution, active_features
from placement.formulations.data import ModelData

__all__ = [
    "CAPACITY_MARGIN",
    "RESTRICTIONS",
    "PercentileLagrange",
    "capacity_applies",
    "capacity_incumbent",
    "capacity_redundant_incumbent",
    "percentile_applies",
    "percentile_lagrange",
    "relaxation",
    "twin_repair",
    "violations",
]

#: Features that only remove solutions (dropping them gives a relaxation, same objective).
RESTRICTIONS: tuple[str, ...] = (
    "sla_share",
    "capacity",
    "single_sourcing",
    "budget",
    "max_per_provider",
)

_COVERAGE_CHECK_MS = 64.0  # penalty after which the least share outside the SLA is computed
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


def violations(data: ModelData, sol: Solution, tol: float = _TOL) -> list[str]:
    """The restricting constraints of ``data`` that the solution ``sol`` breaks (in words).

    ``sol`` must have been found on (a relaxation of) ``data``: same pairs and sites. ``tol``
    is the relative slack of each row (the registry's post-check of every fast answer,
    :func:`~placement.formulations.verify.broken_constraints`, passes a looser one).
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
        if within < data.sla_share * total * (1 - tol):
            out.append(
                f"percentile SLA: {within / total:.4%} within {data.sla_ms:g} ms, "
                f"{data.sla_share:.4%} needed"
            )
    if data.capacity is not None:
        load = np.bincount(data.pair_j[pair], weights=served, minlength=data.n_sites)
        over = load > data.capacity * (1 + tol) + tol
        if over.any():
            out.append(f"capacity: {int(over.sum())} site(s) over")
    if data.single_sourcing and (data.capacity is not None or data.sla_share is not None):
        if ((rows[:, 3] > tol) & (rows[:, 3] < 1 - tol)).any():
            out.append("single sourcing: a demand point is split")
    if data.budget_usd is not None:
        j = data.pair_j[pair]
        cost = float(data.fixed_usd[sol.open_mask].sum())
        cost += float(
            (data.variable_usd_per_unit[j] * served + data.pair_cost_usd[pair] * share).sum()
        )
        if cost > data.budget_usd * (1 + tol) + tol:
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


@dataclasses.dataclass(frozen=True)
class PercentileLagrange:
    """Result of :func:`percentile_lagrange`.

    Attributes
    ----------
    solution : Solution or None
        The best open set found that meets the percentile SLA (nearest-site assignment,
        objective the mean latency in ms), with ``bound``; None when none was found.
    bound : float
        The best Lagrangian lower bound (``-inf`` when no subproblem was solved to its proof).
    multipliers : list of float
        The penalties tried (ms per unit share outside the SLA), in order.
    solves : int
        Number of p-median subproblems solved.
    infeasible : bool
        True when the p-median of 0/1 costs (1 beyond ``sla_ms``) proves that no open set of
        the allowed size serves ``sla_share`` within ``sla_ms``.
    """

    solution: Solution | None
    bound: float
    multipliers: list[float]
    solves: int
    infeasible: bool = False


def percentile_applies(data: ModelData) -> bool:
    """True when :func:`percentile_lagrange` covers ``data``.

    A median objective with redundancy 1 whose only restricting constraint is the percentile
    SLA (single sourcing changes nothing there: the nearest-site assignment is never split).
    """
    others = ("capacity", "budget", "max_per_provider")
    active = active_features(data)
    return (
        data.objective == "median"
        and data.redundancy == 1
        and data.sla_share is not None
        and data.sla_ms is not None
        and not any(f in active for f in others)
    )


def percentile_lagrange(
    data: ModelData,
    pmedian: Callable[[np.ndarray, np.ndarray | None, float], tuple[np.ndarray, float] | None],
    *,
    deadline: float,
    max_solves: int = 12,
) -> PercentileLagrange:
    """Lagrangian relaxation of the percentile SLA, solved by a fast exact p-median solver.

    With ``u_i(S)`` = 1 when demand ``i``'s nearest open site of ``S`` is beyond ``sla_ms`` and
    ``U(S) = Σ_i (w_i / W) u_i(S)`` the share outside the SLA, every feasible ``S`` has
    ``U(S) ≤ 1 − q`` (``q = sla_share``), so for any penalty ``λ ≥ 0``::

        f(S) ≥ f(S) + λ (U(S) − (1 − q)) ≥ P(λ) − λ (1 − q),

    where ``P(λ)`` is the p-median optimum of the latency matrix with ``λ`` added to every
    pair beyond ``sla_ms`` (serving each demand from its nearest open site by that matrix costs
    no more than from its nearest by latency). ``g(λ) = P(λ) − λ (1 − q)`` is concave; it is
    maximised by Kelley's cutting planes in one dimension (each subproblem's optimum ``S_k``
    gives the supporting line ``f_k + λ (U_k − (1 − q))``), starting from ``λ = 0`` (the plain
    p-median) and doubling ``λ`` until a subproblem's optimum meets the SLA (from ``λ = 64``
    on, one p-median of 0/1 costs — 1 beyond ``sla_ms`` — gives the least share outside the SLA
    that the allowed number of sites leaves: above ``1 − q`` it proves the problem infeasible,
    else its optimum is one more line). Every such optimum,
    re-assigned to its nearest sites by latency (which maximises the share within the SLA for
    that open set), is a feasible solution: the best is returned with the best bound. When they
    meet within the proof tolerance the solution is optimal; otherwise both are valid, and the
    caller hands them to the PuLP model as its start and bound.

    Parameters
    ----------
    data : ModelData
        A problem of :func:`percentile_applies`.
    pmedian : callable
        ``pmedian(matrix, initial_open_mask, time_left_s)`` solves the p-median of ``matrix``
        (demand × site, ``inf`` where not allowed, weights the shares ``w_i / W``) with ``data``'s
        site count and fixings, returning ``(open_mask, proven_bound)`` or None when it stopped
        without a proven bound.
    deadline : float
        ``time.perf_counter()`` value after which no subproblem is started.
    max_solves : int
        At most this many subproblems.

    Returns
    -------
    PercentileLagrange
    """
    import math
    import time

    from placement.formulations._gap import is_proven
    from placement.formulations.data import nearest_assignments

    total = data.total_weight
    share = data.weight / total
    lat = np.full((data.n_demand, data.n_sites), np.inf)
    ok = data.primary_ok
    lat[data.pair_i[ok], data.pair_j[ok]] = data.latency_ms[ok]
    outside = lat > data.sla_ms + 1e-9  # inf pairs stay inf whatever is added
    slack = 1.0 - float(data.sla_share)

    def evaluate(mask: np.ndarray) -> tuple[float, float]:
        """Mean latency and share outside the SLA with every demand at its nearest open site."""
        d = np.where(mask[None, :], lat, np.inf).min(axis=1)
        return float(share @ d), float(share[d > data.sla_ms + 1e-9].sum())

    lines: list[tuple[float, float]] = []  # (value at λ = 0, slope)
    best_bound = -np.inf
    best: tuple[float, np.ndarray] | None = None
    tried: list[float] = []
    coverage_checked = False
    mask: np.ndarray | None = None
    lam = 0.0
    while len(tried) < max_solves and time.perf_counter() < deadline:
        got = pmedian(np.where(outside, lat + lam, lat), mask, deadline - time.perf_counter())
        tried.append(lam)
        if got is None:
            break
        mask, p_bound = got
        best_bound = max(best_bound, p_bound - lam * slack)
        f, u = evaluate(mask)
        lines.append((f, u - slack))
        if u <= slack * (1 + _TOL) + _TOL and (best is None or f < best[0]):
            best = (f, mask.copy())
        if best is not None and is_proven(best[0], best_bound):
            break
        pos = [ln for ln in lines if ln[1] > 0]
        neg = [ln for ln in lines if ln[1] <= 0]
        if not neg:  # no subproblem optimum meets the SLA yet: a larger penalty
            if lam >= _COVERAGE_CHECK_MS and not coverage_checked:
                # the least share outside the SLA that p sites leave: a p-median of 0/1 costs
                coverage_checked = True
                got = pmedian(
                    np.where(outside, 1.0, np.where(np.isinf(lat), np.inf, 0.0)),
                    None,
                    deadline - time.perf_counter(),
                )
                tried.append(math.inf)
                if got is None:
                    break
                mask, u_bound = got
                if u_bound > slack * (1 + _TOL) + _TOL:
                    return PercentileLagrange(None, math.inf, tried, len(tried), infeasible=True)
                f, u = evaluate(mask)
                lines.append((f, u - slack))
                if u <= slack * (1 + _TOL) + _TOL and (best is None or f < best[0]):
                    best = (f, mask.copy())
                if u - slack <= 0:
                    lam = _kelley(lines)
                    continue
            lam = max(2.0 * lam, 16.0)
            if lam > 1e6:
                break
            continue
        if not pos:
            break  # the plain p-median meets it (the caller would not be here)
        # Kelley: the λ where the lowest lines of positive and of non-positive slope cross
        lam_new = _kelley(lines)
        if any(abs(lam_new - t) <= 1e-9 * max(1.0, t) for t in tried):
            break
        lam = lam_new
    if best is None:
        return PercentileLagrange(None, float(best_bound), tried, len(tried))
    f, open_mask = best
    rows = [(p, r, i, 1.0) for p, r, i in nearest_assignments(data, open_mask)]
    bound = float(min(best_bound, f))
    sol = Solution(
        status="optimal" if is_proven(f, bound) else "feasible",
        objective=f,
        bound=bound if np.isfinite(bound) else None,
        open_mask=open_mask.copy(),
        rows=rows,
    )
    if violations(data, sol):  # pragma: no cover - evaluate() checked the same share
        return PercentileLagrange(None, float(best_bound), tried, len(tried))
    return PercentileLagrange(sol, float(best_bound), tried, len(tried))


def _kelley(lines: list[tuple[float, float]]) -> float:
    """The maximiser over ``λ ≥ 0`` of the lower envelope of the lines ``a + b λ``."""
    # the envelope's maximum lies where a line of positive slope meets one of non-positive slope
    best_lam, best_val = 0.0, -np.inf
    for a1, b1 in lines:
        for a2, b2 in lines:
            if b1 > 0 >= b2 and b1 != b2:
                lam = (a2 - a1) / (b1 - b2)
                if lam < 0:
                    continue
                val = min(a + b * lam for a, b in lines)
                if val > best_val:
                    best_lam, best_val = lam, val
    return float(best_lam)


def capacity_applies(data: ModelData) -> bool:
    """True when :func:`capacity_incumbent` covers ``data``: median, redundancy 1, a capacity."""
    return data.objective == "median" and data.redundancy == 1 and data.capacity is not None


#: Relative margin kept below every capacity by the incumbent's transportation LPs, so that the
#: LP solver's feasibility tolerance (1e-7 on O(1) rows) never carries a load over a capacity.
CAPACITY_MARGIN = 1e-6


def capacity_incumbent(
    data: ModelData, start: np.ndarray, *, deadline: float, budget_s: float
) -> Solution | None:
    """A capacity-feasible solution near the open set ``start`` (split allocation, median).

    The relaxation's optimum usually overloads a site or two. Its open set is evaluated by the
    transportation LP (each demand's shares over the open sites, capacities
    ``cap_j (1 − CAPACITY_MARGIN)``, cost ``(w_i / W) d_ij``) and improved by drop / add / swap
    moves within the site count, first improvement taken (the local search of
    :mod:`placement.formulations.cfl`, with zero fixed costs), for at most ``budget_s`` seconds.
    With ``single_sourcing`` every demand point then goes whole to the site of its largest
    share, and points of an overloaded site move, least extra latency first, to the nearest
    open site with room (:func:`_single_source`). The result is a feasible solution (checked
    with :func:`violations`, objective the mean latency of its shares), an upper bound and the
    PuLP model's start; None when none is found.
    """
    import math
    import time

    from placement.formulations.cfl import _Transport

    usable = data.usable_primary()
    pos = np.flatnonzero(usable)
    pi, pj = data.pair_i[pos], data.pair_j[pos]
    total = data.total_weight
    share = data.weight / total
    cap = np.asarray(data.capacity, dtype=float) / total * (1.0 - CAPACITY_MARGIN)
    cost = share[pi] * data.latency_ms[pos]
    ev = _Transport(pi, pj, share, cap, cost, np.zeros(data.n_sites), data.n_demand, data.n_sites)
    lo = data.min_sites if data.min_sites is not None else -math.inf
    hi = data.max_sites if data.max_sites is not None else math.inf
    if data.n_sites_exact is not None:
        lo = hi = data.n_sites_exact
    stop = min(deadline, time.perf_counter() + budget_s)
    value, y, z = ev.local_search(
        start.astype(float), data.must_open, ~data.forbidden, lo, hi, stop, budget_s=budget_s
    )
    if y is None or z is None or not math.isfinite(value) or not lo <= y.sum() <= hi:
        return None
    if data.single_sourcing:
        z = _single_source(data, pos, z, y > 0.5, cap * total)
        if z is None:
            return None
    keep = z > 1e-9
    rows = [
        (int(p), 1, int(i), float(min(1.0, s)))
        for p, i, s in zip(pos[keep], pi[keep], z[keep], strict=True)
    ]
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    served = np.bincount(arr[:, 2].astype(np.int64), weights=arr[:, 3], minlength=data.n_demand)
    if np.abs(served - 1.0).max() > 1e-6:
        return None  # a demand point not fully served within the LP's tolerance
    pairs = arr[:, 0].astype(np.int64)
    objective = float(
        (share[arr[:, 2].astype(np.int64)] * arr[:, 3] * data.latency_ms[pairs]).sum()
    )
    sol = Solution(status="feasible", objective=objective, open_mask=y > 0.5, rows=rows)
    return None if violations(data, sol) else sol


def capacity_redundant_incumbent(
    data: ModelData, start: np.ndarray, *, deadline: float, budget_s: float
) -> Solution | None:
    """A capacity-feasible solution with backups near the open set ``start`` (median).

    Capacities bound the primary load only. Two primary assignments are tried, both single
    sourced: ``start`` itself with every demand point at its nearest site and the points of an
    overloaded site moved to the nearest site with room (:func:`_single_source`), and the
    result of :func:`capacity_incumbent` on the problem without backups (which may change the
    open set). Every demand point then gets, at each backup rank, its nearest open site allowed
    as a backup in a failure domain none of its earlier sites uses. Whole assignments are a
    special case of split ones, so the better of the two (checked with :func:`violations`,
    objective the mean primary latency plus ``backup_weight`` times that of the backups) is
    feasible either way; None when neither finds room for the primaries and a backup for
    every demand point.
    """
    from placement.formulations.data import nearest_assignments

    if data.objective != "median" or data.redundancy < 2 or data.capacity is None:
        return None
    primary_view = dataclasses.replace(data, redundancy=1, single_sourcing=True)
    found: list[Solution] = []
    pos = np.flatnonzero(data.primary_ok & ~data.forbidden[data.pair_j])
    nearest = [p for p, r, _i in nearest_assignments(primary_view, start) if r == 1]
    z = np.zeros(len(pos))
    z[np.searchsorted(pos, nearest)] = 1.0
    cap = np.asarray(data.capacity, dtype=float) * (1.0 - CAPACITY_MARGIN)
    z1 = _single_source(primary_view, pos, z, start, cap)
    if z1 is not None:
        rows = [(int(p), 1, int(data.pair_i[p]), 1.0) for p in pos[z1 > 0.5]]
        found.append(_with_backups(data, start, rows))
    first = capacity_incumbent(primary_view, start, deadline=deadline, budget_s=budget_s)
    if first is not None and first.open_mask is not None:
        found.append(_with_backups(data, first.open_mask, first.rows))
    ok = [sol for sol in found if sol is not None and not violations(data, sol)]
    return min(ok, key=lambda sol: sol.objective) if ok else None


def _with_backups(
    data: ModelData, open_mask: np.ndarray, primary_rows: list[tuple[int, int, int, float]]
) -> Solution | None:
    """Whole primaries ``primary_rows`` plus each demand point's nearest allowed backups."""
    usable = data.backup_ok & open_mask[data.pair_j]
    cand = np.flatnonzero(usable)
    cand = cand[np.lexsort((data.pair_j[cand], data.latency_ms[cand], data.pair_i[cand]))]
    bounds = np.searchsorted(data.pair_i[cand], np.arange(data.n_demand + 1))
    rows = [(int(p), 1, int(i), 1.0) for p, _r, i, _s in primary_rows]
    used = {int(i): {int(data.domain[data.pair_j[p]])} for p, _r, i, _s in rows}
    if len(used) != data.n_demand:
        return None
    share = data.weight / data.total_weight
    objective = float(sum(share[i] * data.latency_ms[p] for p, _r, i, _s in rows))
    for r in range(2, data.redundancy + 1):
        for i in range(data.n_demand):
            for q in cand[bounds[i] : bounds[i + 1]]:
                g = int(data.domain[data.pair_j[q]])
                if g not in used[i]:
                    used[i].add(g)
                    rows.append((int(q), r, i, 1.0))
                    objective += data.backup_weight * share[i] * float(data.latency_ms[q])
                    break
            else:
                return None
    return Solution(status="feasible", objective=objective, open_mask=open_mask.copy(), rows=rows)


def _single_source(
    data: ModelData, pos: np.ndarray, z: np.ndarray, open_mask: np.ndarray, cap: np.ndarray
) -> np.ndarray | None:
    """Shares ``z`` over the pairs ``pos`` made whole (0/1) within ``cap`` (users), or None."""
    pi, pj = data.pair_i[pos], data.pair_j[pos]
    lat = data.latency_ms[pos]
    n = data.n_demand
    # the pair of each demand's largest share (ties: nearer, then lower site index)
    order = np.lexsort((pj, lat, -z, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]]
    chosen = np.full(n, -1, dtype=np.int64)
    chosen[pi[order][first]] = order[first]
    if (chosen < 0).any():
        return None
    w = data.weight
    load = np.bincount(pj[chosen], weights=w, minlength=data.n_sites)
    alive = open_mask[pj]
    cand = np.flatnonzero(alive)
    cand = cand[np.lexsort((pj[cand], lat[cand], pi[cand]))]
    bounds = np.searchsorted(pi[cand], np.arange(n + 1))
    by_i = [cand[bounds[i] : bounds[i + 1]] for i in range(n)]
    for j in np.flatnonzero(load > cap):
        members = np.flatnonzero(pj[chosen] == j)
        moves = []
        for i in members:
            for q in by_i[i]:
                if pj[q] != j:
                    moves.append((lat[q] - lat[chosen[i]], int(i), int(q)))
                    break
        for _, i, _q in sorted(moves):
            if load[j] <= cap[j]:
                break
            for q in by_i[i]:  # nearest other open site with room
                k = pj[q]
                if k != j and load[k] + w[i] <= cap[k]:
                    load[j] -= w[i]
                    load[k] += w[i]
                    chosen[i] = q
                    break
        if load[j] > cap[j]:
            return None
    out = np.zeros(len(pos))
    out[chosen] = 1.0
    return out

"""A median under a budget whose serving cost depends on the assignment, by a Lagrangian on it.

When the sites' variable costs differ (each provider's egress price, an energy price per site),
who serves whom changes the cost, so the budget ``C(x) = Σ F_j y_j + Σ_p (V_j w_i + C_p) x_p ≤ B``
is no longer a row on the sites alone (that case is :mod:`~placement.formulations.budget`'s).
Relaxing it with a multiplier ``μ ≥ 0`` leaves

    L(μ) = min_x  M(x) + μ (C(x) − B)   =   μ · min_x [C(x) + M(x) / μ]  −  μ B,

with ``M`` the demand-weighted mean latency: the inner minimum is the weighted objective with a
latency weight ``λ = 1 / μ`` USD per ms, which :mod:`~placement.formulations.lagrangian` proves
in seconds at world scale (as the cost objective it equals). Every ``L(μ)`` computed from that
solve's proven *bound* is a lower bound of the budget problem (the budget's optimum pays at
most ``B``, so its penalty term is ≤ 0). ``L`` is concave in ``μ``; it is maximised by bisection
on ``log λ`` over the sign of ``C(x*) − B`` (the subgradient). Every inner solution that meets the
budget is an incumbent, as is its open set with every point at its nearest site when that also
fits, with its points assigned by the assignment LP under the budget
(:func:`assign_within_budget`); drops, adds and swaps among the sites the inner solves opened
improve the best.

The best multiplier's bound stays below the optimum (a duality gap: the integer problem is not
convex; 2.0 % on the world instance). A branch and bound over the sites closes it
(:func:`_branch_and_bound`): the budget stays relaxed at the best multiplier, the assignment rows
are relaxed too (:mod:`~placement.formulations.lagrangian`'s bound of the weighted problem at that
weight, its multipliers improved at every node), and the budget acts inside each node through
the count of sites it leaves room for (the forced sites' fixed costs plus every point's cheapest
serving cost leave room for so many of the cheapest further fixed costs); a node with no room
left is its forced set, valued exactly. The bisection hands over at a 2 % bracket
(:data:`BRANCH_TOL`) or after :data:`BISECTION_SHARE` of the time. The answer is the best
incumbent with the best bound: optimal when they meet (the tree exhausted), else ``feasible``
with its gap; ``infeasible`` when the bound exceeds the slowest pair's latency (no mean within
the budget can).

World instance (``constraints_bench.py``'s ``budget_egress``: 3,039 points x 169 regions, at most
12 sites, 150 ms, 230 M$ a year, each provider's egress price on 1 GB per user): 8 weighted
solves, the root shuts 139 sites, about 270 nodes; optimal 35.0500 ms in about 15 CPU s (the
dual alone: feasible 35.3059, gap 2.0 %). The command line's instance (6,194 points, the user
latency model) takes 6-10 CPU s per weighted solve and about 0.5 s per node: at a 60-s limit it
ends ``feasible`` (benchmarks/README.md, round 11).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from placement.formulations._gap import is_proven, rel_gap
from placement.formulations.budget import budget_counts, serving_usd
from placement.formulations.contract import active_features
from placement.formulations.data import ModelData

__all__ = [
    "BudgetLagrangeResult",
    "budget_lagrange_applies",
    "budget_lagrange_condition",
    "solve_budget_lagrange",
]

#: Inner weighted solves at most (bisection steps plus the bracketing ones).
MAX_SOLVES = 24
#: Factor of the latency weight between the bracketing solves (far from the budget's weight the
#: inner solves are slower: 27 s at 8x on the world instance, 2-4 s near it).
BRACKET_STEP = 3.0
#: Relative width of the latency-weight bracket at which the bisection stops.
BISECTION_TOL = 1e-3
#: The bracket's relative width at which the bisection hands over to the branch and bound (its
#: node bounds need a multiplier near the best, not the best).
BRANCH_TOL = 2e-2
#: Share of the time given that the weighted solves may take before the branch and bound (on the
#: command line's instance one takes 6-10 CPU s).
BISECTION_SHARE = 0.5
#: Swap passes of the final local search at most.
MAX_SWAP_PASSES = 20
#: Share of the time left that one inner solve may take.
SOLVE_TIME_SHARE = 0.35
#: Subgradient steps of the branch and bound's root bound per round of site closing.
ROOT_ITERATIONS = 500
#: Rounds of the root (each shuts the sites its bound prices out and goes on without them).
ROOT_ROUNDS = 4
#: Sites the root's swap search tries (those whose forced opening raises its bound least).
ROOT_POOL = 32
#: Subgradient steps of a node's bound, from its parent's multipliers.
NODE_ITERATIONS = 150
#: Constraints the inner weighted solver handles (besides the costs and the budget itself).
_HANDLED = frozenset(
    {
        "pair_rules",
        "must_open",
        "forbidden",
        "n_sites",
        "max_sites",
        "min_sites",
        "pair_cost",
        "fixed_cost",
        "variable_cost",
        "budget",
    }
)


def budget_lagrange_condition(data: ModelData) -> str | None:
    """None when the budget's serving cost depends on the assignment, else why this solver
    does not apply (``fast-budget-median`` does: the budget is a row on the sites).

    The condition of ``budget-lagrangian``'s
    :class:`~placement.formulations.contract.Capabilities` (its features say the rest).
    """
    if serving_usd(data) is not None:
        return "budget: the serving cost does not depend on the assignment (fast-budget-median)"
    return None


def budget_lagrange_applies(data: ModelData) -> bool:
    """True for a median with redundancy 1 under a budget whose serving cost depends on the
    assignment (:func:`~placement.formulations.budget.serving_usd` is None), with no other
    constraint than the SLA's pairs, the site count and fixings."""
    return (
        data.objective == "median"
        and data.redundancy == 1
        and data.budget_usd is not None
        and set(active_features(data)) <= _HANDLED
        and serving_usd(data) is None
    )


@dataclass(frozen=True)
class BudgetLagrangeResult:
    """Result of :func:`solve_budget_lagrange` (objective and bound in ms of mean latency)."""

    status: str
    objective: float | None
    bound: float
    open_mask: np.ndarray | None
    rows: list[tuple[int, int, int, float]]
    stats: dict[str, Any] = field(default_factory=dict)


def _evaluate(data: ModelData, mask: np.ndarray, rows: list) -> tuple[float, float]:
    """(mean latency ms, annual cost USD) of an assignment's rows."""
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    p = arr[:, 0].astype(np.int64)
    i = arr[:, 2].astype(np.int64)
    share = arr[:, 3]
    w = data.weight.astype(float)
    mean = float((w[i] * share * data.latency_ms[p]).sum() / w.sum())
    serve = data.variable_usd_per_unit[data.pair_j[p]] * w[i] + data.pair_cost_usd[p]
    return mean, float(data.fixed_usd[mask].sum() + (serve * share).sum())


def assign_within_budget(
    data: ModelData, mask: np.ndarray, budget: float, iters: int = 60
) -> tuple[float, list[tuple[int, int, int, float]]] | None:
    """The least mean latency of open set ``mask`` with its serving cost within ``budget``.

    For a fixed open set this is a linear program with one coupling row (the budget): each
    point goes to the pair minimising ``m_p + ν c_p`` (``m`` its mean-latency share, ``c`` its
    serving cost), with ``ν`` found by bisection, and the points on which the two assignments at
    the bracketing ``ν`` differ move to the latency side by best ratio until the budget is used,
    the last one split (a share, as the model allows). Returns ``(mean latency ms, rows)`` or
    None when even the cheapest assignment breaks the budget (or a point has no open site).
    """
    mask = np.asarray(mask, dtype=bool)
    ok = data.primary_ok & mask[data.pair_j] & ~data.forbidden[data.pair_j]
    pos = np.flatnonzero(ok)
    pi = data.pair_i[pos].astype(np.int64)
    order = np.lexsort((pos, pi))
    pos, pi = pos[order], pi[order]
    if len(pos) == 0 or len(np.unique(pi)) < data.n_demand:
        return None
    w = data.weight.astype(float)
    m = w[pi] * data.latency_ms[pos] / w.sum()
    c = data.variable_usd_per_unit[data.pair_j[pos]] * w[pi] + data.pair_cost_usd[pos]
    room = budget - float(data.fixed_usd[mask].sum())

    def pick(nu: float) -> np.ndarray:
        # per point, the pair minimising m + nu c (ties: cheaper, then lower position)
        key = np.lexsort((c, m + nu * c, pi))
        first = np.r_[True, pi[key][1:] != pi[key][:-1]]
        return key[first]

    cheap = pick(1e30)
    if float(c[cheap].sum()) > room * (1 + 1e-12) + 1e-9:
        return None
    fast = pick(0.0)
    if float(c[fast].sum()) <= room:
        chosen, shares = fast, np.ones(len(fast))
    else:
        lo, hi = 0.0, 1.0
        while float(c[pick(hi)].sum()) > room and hi < 1e30:
            hi *= 16.0
        for _ in range(iters):
            mid = math.sqrt(lo * hi) if lo > 0 else hi / 16.0
            if float(c[pick(mid)].sum()) > room:
                lo = mid
            else:
                hi = mid
        a_hi, a_lo = pick(hi), pick(lo)  # feasible, infeasible (one pair per point each)
        chosen, shares = a_hi.copy(), np.ones(len(a_hi))
        diff = np.flatnonzero(a_hi != a_lo)
        dm = m[a_hi[diff]] - m[a_lo[diff]]  # latency saved by moving to a_lo
        dc = c[a_lo[diff]] - c[a_hi[diff]]  # cost added
        left = room - float(c[a_hi].sum())
        for k in np.argsort(-(dm / np.maximum(dc, 1e-300)), kind="stable"):
            if dm[k] <= 0:
                break
            if dc[k] <= left:
                chosen[diff[k]] = a_lo[diff[k]]
                left -= dc[k]
            else:
                f = max(0.0, left / dc[k])
                if f > 1e-9:
                    shares[diff[k]] = 1.0 - f
                    chosen = np.r_[chosen, a_lo[diff[k]]]
                    shares = np.r_[shares, f]
                break
    rows = [(int(pos[k]), 1, int(pi[k]), float(sh)) for k, sh in zip(chosen, shares, strict=True)]
    return float((m[chosen] * shares).sum()), rows


def solve_budget_lagrange(
    data: ModelData,
    *,
    deadline: float,
    start_mask: np.ndarray | None = None,
    threads: int | None = None,
    branch_and_bound: bool = True,
) -> BudgetLagrangeResult:
    """Maximise the budget's Lagrangian dual over ``μ`` (module docstring).

    Parameters
    ----------
    data : ModelData
        A problem of :func:`budget_lagrange_applies`.
    deadline : float
        ``time.perf_counter()`` value at which the search stops with what it has.
    start_mask : numpy.ndarray of bool, optional
        An open set tried first as an incumbent (valued by :func:`assign_within_budget`).
    threads : int, optional
        HiGHS threads of the inner solves.
    branch_and_bound : bool
        Close the duality gap the multiplier leaves by :func:`_branch_and_bound` (False: the
        Lagrangian dual and the swaps alone, the solver of session 11).
    """
    from placement.formulations.lagrangian import solve_lagrangian

    budget = float(data.budget_usd)  # type: ignore[arg-type]
    bare = dataclasses.replace(data, budget_usd=None)
    t0 = time.perf_counter()
    handover = t0 + BISECTION_SHARE * (deadline - t0) if math.isfinite(deadline) else math.inf
    best: dict[str, Any] = {"obj": math.inf, "mask": None, "rows": []}
    lb = -math.inf
    stats: dict[str, Any] = {"solves": 0, "weights": []}
    masks: list[np.ndarray] = []  # the inner solves' open sets
    prev: list[Any] = []  # the last inner solve's (open set, rows)

    seen: set[bytes] = set()

    def offer(mask: np.ndarray) -> None:
        """The open set with its best assignment within the budget (the assignment LP's: no
        worse than any other assignment of the set, the inner solves' own included)."""
        key = mask.tobytes()
        if key in seen:
            return
        seen.add(key)
        got = assign_within_budget(data, mask, budget)
        if got is not None and got[0] < best["obj"] - 1e-12:
            best.update(obj=got[0], mask=mask.copy(), rows=got[1])

    if start_mask is not None:
        offer(np.asarray(start_mask, dtype=bool))

    def inner(weight: float) -> float | None:
        """Solve the weighted problem at latency weight ``weight``; the cost of its answer."""
        nonlocal lb
        now = time.perf_counter()
        left = deadline - now
        if left <= 0 or stats["solves"] >= MAX_SOLVES:
            return None
        if (
            branch_and_bound
            and now > handover
            and best["mask"] is not None
            and "best_weight" in stats
        ):
            return None  # the rest of the time is the branch and bound's
        wdata = dataclasses.replace(
            bare, objective="weighted", latency_weight_usd_per_ms=float(weight)
        )
        start = None
        if prev:  # the last inner answer, valued at this weight: the MIP's start and cut-off
            mean, cost = _evaluate(data, prev[0], prev[1])
            start = (prev[0], prev[1], cost + weight * mean)
        res = solve_lagrangian(
            wdata, deadline=now + SOLVE_TIME_SHARE * left + 1.0, incumbent=start, threads=threads
        )
        stats["solves"] += 1
        stats["weights"].append(float(weight))
        if res.status == "infeasible":
            lb = math.inf  # no open set serves every point at all
            return None
        if res.bound is not None and math.isfinite(res.bound):
            got = (float(res.bound) - budget) / weight
            if got > lb:
                lb = got
                stats["best_weight"] = float(weight)
        if res.open_mask is None or not res.rows:
            return None
        mask = np.asarray(res.open_mask, dtype=bool)
        masks.append(mask)
        prev[:] = [mask, list(res.rows)]
        offer(mask)
        return _evaluate(data, mask, res.rows)[1]

    # the latency weight at which cost and latency weigh alike, then bracket the budget's
    # crossing: `hi` (latency first) breaks the budget, `lo` (cost first) meets it
    mean0 = float(np.median(data.latency_ms)) or 1.0
    weight = budget / mean0
    cost = inner(weight)
    lo = hi = None
    while cost is not None and (lo is None or hi is None):
        if cost > budget:
            hi = weight
            if lo is None:
                weight /= BRACKET_STEP
        else:
            lo = weight
            if hi is None:
                weight *= BRACKET_STEP
        if lo is not None and hi is not None:
            break
        if weight < 1e-12 or weight > 1e18:
            break
        cost = inner(weight)
    # bisection on log weight, while the bound does not prove the incumbent
    while (
        lo is not None
        and hi is not None
        and not is_proven(best["obj"], lb)
        and hi / lo > 1.0 + (BRANCH_TOL if branch_and_bound else BISECTION_TOL)
    ):
        weight = math.sqrt(lo * hi)
        cost = inner(weight)
        if cost is None:
            break
        if cost > budget:
            hi = weight
        else:
            lo = weight
    if best["mask"] is not None and not is_proven(best["obj"], lb):
        pool = np.zeros(data.n_sites, dtype=bool)
        for m in masks:
            pool |= m
        _swap_search(data, best, offer, pool, deadline, stats)
    stats["dual_bound"] = lb
    if (
        branch_and_bound
        and best["mask"] is not None
        and "best_weight" in stats
        and math.isfinite(lb)
        and not is_proven(best["obj"], lb)
    ):
        lb = max(lb, _branch_and_bound(data, best, offer, stats["best_weight"], deadline, stats))
    stats["gap"] = rel_gap(best["obj"], lb) if math.isfinite(best["obj"]) else None
    worst = float(data.latency_ms[data.usable_primary()].max(initial=0.0))
    if lb > worst * (1 + 1e-9) + 1e-9:
        # every solution within the budget would average more than the slowest pair: none is
        lb = math.inf
    if lb == math.inf:
        return BudgetLagrangeResult("infeasible", None, math.inf, None, [], stats)
    if best["mask"] is None:
        return BudgetLagrangeResult("no_solution", None, lb, None, [], stats)
    bound = min(lb, best["obj"])
    status = "optimal" if is_proven(best["obj"], bound) else "feasible"
    return BudgetLagrangeResult(status, best["obj"], bound, best["mask"], best["rows"], stats)


def _swap_search(
    data: ModelData,
    best: dict[str, Any],
    offer: Any,
    pool: np.ndarray,
    deadline: float,
    stats: dict[str, Any],
) -> None:
    """Best-improvement drops, adds and swaps of the incumbent's open sites with the sites of
    ``pool`` (first those the inner solves opened, near the budget's multiplier; then every site
    the branch and bound's root leaves), within the count limits, each set valued by
    :func:`assign_within_budget`."""
    pool = pool & ~data.forbidden
    lo, hi = budget_counts(data)
    moves = 0
    for _ in range(MAX_SWAP_PASSES):
        cur = best["mask"].copy()
        before = best["obj"]
        ins = np.flatnonzero(pool & ~cur)
        outs = np.flatnonzero(cur & ~data.must_open)
        count = int(cur.sum())
        # drops (a site's fixed cost buys better assignments), adds, then swaps
        cands = [([a], []) for a in outs if count > lo]
        cands += [([], [b]) for b in ins if count < hi]
        cands += [([a], [b]) for a in outs for b in ins]
        for drop, add in cands:
            if time.perf_counter() > deadline:
                stats["swap_moves"] = stats.get("swap_moves", 0) + moves
                return
            cand = cur.copy()
            cand[drop], cand[add] = False, True
            offer(cand)
        if best["obj"] >= before - 1e-12:
            break
        moves += 1
    stats["swap_moves"] = stats.get("swap_moves", 0) + moves


def _branch_and_bound(
    data: ModelData,
    best: dict[str, Any],
    offer: Any,
    weight: float,
    deadline: float,
    stats: dict[str, Any],
) -> float:
    """A branch and bound over the sites whose node bound is the Lagrangian bound of the node's
    restricted problem; a lower bound of the budget problem (the incumbent's value when the tree
    is exhausted).

    The budget stays relaxed with the multiplier of the best dual bound, ``μ = 1 / weight``;
    the assignment rows are relaxed too, with multipliers ``u`` of the weighted problem at that
    weight (:mod:`~placement.formulations.lagrangian`'s bound, in its scaled units): for every
    open set ``y`` of the node and every assignment within the budget,

        mean latency  ≥  mean + μ (cost − B)  ≥  μ (scale · (Σ_i u_i + min_y Σ_j v_j y_j) − B),

    the ``min`` over the node's fixings (sites forced open, sites shut) and its count limit. That
    count limit is where the budget acts inside a node: every open set pays its forced sites'
    fixed costs and at least each point's cheapest serving cost over the sites not shut, so at
    most as many further sites as the cheapest of their fixed costs fit in what is left. When
    none fits (or the count is full) the node is its forced set alone, valued exactly by
    :func:`assign_within_budget`. A node's ``u`` is improved from its parent's by
    :data:`NODE_ITERATIONS` subgradient steps; the subproblem's open set, valued, is an
    incumbent; the node branches on the site of least ``v_j`` the subproblem opens beyond the
    forced ones (else on the least of the rest): forced open, then shut. Best bound first.

    At the root, rounds of :data:`ROOT_ITERATIONS` steps shut every site whose forced opening
    alone lifts the bound above the incumbent (no better solution opens it) and go on over the
    pairs of the sites left; after the first round the swap search runs over the :data:`ROOT_POOL` of them whose
    opening raises the bound least.
    """
    import copy
    import heapq

    from placement.formulations._gap import OPTIMALITY_TOLERANCE
    from placement.formulations.lagrangian import (
        _Arrays,
        _start_multipliers,
        ascent,
        lagrangian_bound,
        weighted_as_cost,
    )

    t0 = time.perf_counter()
    budget = float(data.budget_usd)  # type: ignore[arg-type]
    wdata = weighted_as_cost(
        dataclasses.replace(
            data, budget_usd=None, objective="weighted", latency_weight_usd_per_ms=weight
        )
    )

    def arrays(shut: np.ndarray) -> Any:
        return _Arrays(dataclasses.replace(wdata, forbidden=wdata.forbidden | shut))

    def to_ms(arr: Any, value: float) -> float:
        """A bound of the weighted problem (scaled) as a bound of the mean latency."""
        return (value * arr.scale - budget) / weight if math.isfinite(value) else value

    def target(arr: Any) -> float:
        """The scaled weighted value whose bound proves the incumbent (the ascent's stop, with
        its tolerance taken above, so that a stop proves it in ms too)."""
        t = (weight * best["obj"] + budget) / arr.scale
        return t + 1.01 * OPTIMALITY_TOLERANCE * abs(t)

    closed = np.zeros(data.n_sites, dtype=bool)
    arr = arrays(closed)
    x_inc = np.zeros(len(arr.pos))
    rows = np.asarray(best["rows"], dtype=float).reshape(-1, 4)
    np.add.at(x_inc, np.searchsorted(arr.pos, rows[:, 0].astype(np.int64)), rows[:, 3])
    u = _start_multipliers(arr, x_inc, 0.0)
    root = -math.inf
    for k in range(ROOT_ROUNDS):
        val, u, _rho, _it, _theta = ascent(
            arr, u, 0.0, target(arr), deadline, max_iter=ROOT_ITERATIONS
        )
        root = max(root, to_ms(arr, val))
        if is_proven(best["obj"], root) or time.perf_counter() > deadline:
            break
        _l, _rc, v, _y, _x = lagrangian_bound(arr, u, 0.0)
        base, _ = arr.choose(v)
        shut = closed.copy()
        rise = np.full(data.n_sites, math.inf)
        for j in np.flatnonzero(arr.openable & ~arr.must):
            rise[j] = arr.choose(v, force_open=int(j))[0] - base
            shut[j] = to_ms(arr, val + rise[j]) > best["obj"]
        if k == 0:  # the swaps over the sites left, the least priced out first
            pool = np.zeros(data.n_sites, dtype=bool)
            pool[np.argsort(rise, kind="stable")[:ROOT_POOL]] = True
            _swap_search(data, best, offer, pool & ~shut, deadline, stats)
        if shut.sum() == closed.sum():
            break
        old = arr.scale
        closed = shut
        arr = arrays(closed)
        u = u * (old / arr.scale)
    stats.update(bb_root=root, bb_closed=int(closed.sum()), bb_pairs=len(arr.pos))
    w = data.weight.astype(float)
    serve = data.variable_usd_per_unit[arr.pj] * w[arr.pi] + data.pair_cost_usd[arr.pos]
    fixed = data.fixed_usd.astype(float)
    lo = arr.lo
    heap: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray]] = [
        (root, 0, arr.must.copy(), ~arr.openable, u)
    ]
    floor = math.inf  # the least bound of the nodes pruned
    nodes = leaves = 0
    while heap and time.perf_counter() <= deadline:
        bound, _, must, shut, u = heapq.heappop(heap)
        if is_proven(best["obj"], bound):
            floor = min(floor, bound)
            continue
        nodes += 1
        allowed = ~shut
        ok = allowed[arr.pj]
        cheapest = np.full(arr.n, math.inf)
        np.minimum.at(cheapest, arr.pi[ok], serve[ok])
        room = budget * (1 + 1e-12) - float(fixed[must].sum()) - float(cheapest.sum())
        if not room >= 0:
            continue  # no assignment within the budget (or a point without a site)
        free = np.flatnonzero(allowed & ~must)
        extra = int(np.searchsorted(np.cumsum(np.sort(fixed[free])), room, side="right"))
        hi = min(arr.hi, int(must.sum()) + extra)
        if hi <= int(must.sum()):
            leaves += 1  # no further site fits: the forced set alone
            if int(must.sum()) >= lo:
                offer(must)
            continue
        node = copy.copy(arr)
        node.must, node.openable, node.hi = must, allowed, hi
        val, u = _node_bound(node, u, target(node), deadline)
        bound = max(bound, to_ms(node, val))
        if not is_proven(best["obj"], bound):
            _l, _rc, v, y, _x = lagrangian_bound(node, u, 0.0)
            if y.any():
                offer(y)
        if is_proven(best["obj"], bound):
            floor = min(floor, bound)
            continue
        pick = np.flatnonzero(y & ~must)
        if len(pick) == 0:
            pick = free
        j = int(pick[np.argmin(v[pick])])
        opened, closed_j = must.copy(), shut.copy()
        opened[j], closed_j[j] = True, True
        heapq.heappush(heap, (bound, 2 * nodes, opened, shut, u))
        heapq.heappush(heap, (bound, 2 * nodes + 1, must, closed_j, u))
    stats.update(bb_nodes=nodes, bb_leaves=leaves, bb_left=len(heap), bb_s=time.perf_counter() - t0)
    return min([floor, best["obj"]] + [h[0] for h in heap])


def _node_bound(
    node: Any, u: np.ndarray, target: float, deadline: float
) -> tuple[float, np.ndarray]:
    """The Lagrangian bound of a node's restricted problem (``node``: the weighted problem's
    arrays with the node's forced sites, shut sites and count limit), scaled, with its
    multipliers: :data:`NODE_ITERATIONS` subgradient steps from ``u`` towards ``target``."""
    from placement.formulations.lagrangian import ascent

    val, u, _rho, _it, _theta = ascent(
        node, u.copy(), 0.0, target, deadline, max_iter=NODE_ITERATIONS
    )
    return val, u

"""Facility location by a Lagrangian bound and a reduced MIP (no PuLP model).

For the median and cost objectives (and the weighted one, which is a cost objective with a
latency penalty: :func:`weighted_as_cost`) with redundancy 1 and any of a capacity (split or single
sourced), a percentile SLA and a site count: the problems whose PuLP model on the world instance
(226k pairs) takes 20-75 s to build under load and whose LP relaxation (226k linking rows) does
not end within a minute (HiGHS's dual simplex: 120 s and still short of the optimum).

Model
-----
``y_j`` (site open), ``x_p`` (share of demand ``i(p)`` served by site ``j(p)``), minimising
``Σ F_j y_j + Σ c_p x_p`` subject to

    Σ_{p∋i} x_p = 1                      every demand i                   (u_i, free)
    Σ_{p∋j} a_p x_p ≤ y_j                every site j, a_p = w_i / cap_j   (kept, see below)
    Σ_{p within sla_ms} s_i x_p ≥ q      the percentile SLA, s_i = w_i / W (ρ ≥ 0)
    0 ≤ x_p ≤ y_j                        linking
    lo ≤ Σ_j y_j ≤ hi, fixings           site count, must-open and forbidden sites

with ``c_p = s_i d_p`` (median: the mean latency in ms) or the annual cost of the PuLP model
(cost objective, divided by a reference cost to be O(1) and multiplied back in the result).

Lagrangian bound
----------------
Relaxing the assignment rows with ``u`` and the percentile row with ``ρ`` leaves, for every
open set ``y``, ``L(y) = Σ_i u_i + ρ q + Σ_j y_j v_j`` with

    rc_p = c_p − u_i − ρ s_i [p within],    v_j = F_j + min { Σ_{p∋j} rc_p x_p }

over ``0 ≤ x ≤ 1`` (and the site's capacity row, a continuous knapsack, when there is one);
its minimum over the site count and fixings (the smallest ``v_j``) is a lower bound of every
feasible solution for *any* ``u`` and ``ρ ≥ 0``. It is computed in numpy over every pair and
maximised by subgradient ascent (Polyak steps towards the incumbent, :func:`ascent`); its
supremum is the LP bound with the strong linking rows. Single sourcing only shrinks the feasible
set, so the same bound holds for it.

Reduced MIP (no capacity)
-------------------------
Without a capacity any feasible ``(y, x)`` costs at least ``LB + Σ_p max(0, rc_p) x_p`` plus the
extra ``v`` its open set pays over the minimum, and an optimal ``x`` can be taken 0/1 (every
demand point whole at its cheapest open pair; with a percentile SLA that is its nearest, which
serves it within the SLA if any open site does). So with an incumbent of value ``UB`` every
solution of cost ``≤ UB`` uses no pair of ``rc_p > UB − LB`` and opens no site whose forced
opening raises ``L`` by more than ``UB − LB``; HiGHS's branch and bound on the model without
them, started from the incumbent, then proves the optimum of the whole problem: it is the
smaller of ``UB`` and the reduced model's optimum, and ``min(UB, HiGHS's bound)`` is a bound.
The ascent hands over when the gap is under :data:`MIP_GAP`. HiGHS's open set is re-assigned to
the cheapest pairs (over every pair), which costs no more than its shares.

With a capacity (``lagrangian_exact`` False) a split solution may use a pair of large reduced cost
for a small share, so no pair can be dropped: there is no reduced MIP. Instead (without a
percentile SLA) the strong LP is solved over a growing set of sites and priced by this bound
(:mod:`~placement.formulations.cfl_lp`: the bound is ``L(u)`` of the LP's demand duals, the LP's
optimum when the site pricing ends) and its nearly integral ``y`` rounded by transportation LPs,
which replaces the given incumbent when better; with the LP proven, HiGHS's MIP over the sites
that reduced-cost fixing leaves gets the time left (a proof when it ends), else the ascent goes
on from the LP's ``u``. The result is the best incumbent with the best bound.

Uncapacitated cost problems without an incumbent get one by add / drop / swap descent
(:func:`local_search`) from the Lagrangian subproblem's open set, repeated as the ascent goes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from placement._highs import new_highs
from placement.formulations._gap import is_proven, rel_gap
from placement.formulations.contract import active_features
from placement.formulations.data import ModelData

__all__ = [
    "LagrangianResult",
    "lagrangian_applies",
    "lagrangian_exact",
    "solve_lagrangian",
    "weighted_as_cost",
]

#: Features this solver handles (besides the objective's own costs).
_HANDLED = frozenset(
    {
        "pair_rules",
        "must_open",
        "forbidden",
        "n_sites",
        "max_sites",
        "min_sites",
        "capacity",
        "single_sourcing",
        "sla_share",
        "pair_cost",
        "fixed_cost",
        "variable_cost",
        "latency_penalty",
    }
)
#: Relative gap between the incumbent and the Lagrangian bound at which the ascent hands over
#: to the reduced MIP (on the world instance's cost case about 15,000 of 226k pairs are left, 1 s).
MIP_GAP = 2e-2


def weighted_as_cost(data: ModelData) -> ModelData:
    """The weighted objective with one site per point, written as the cost objective.

    With redundancy 1, ``Σ F y + Σ (V w_i + C_p) z_p + λ Σ (w_i / W) d_p z_p`` (cost plus ``λ``
    times the demand-weighted mean latency) is, term by term, the cost objective with a latency
    penalty of ``λ / W`` USD per unit of demand and ms: the same objective value for every
    solution, so the same optimum and bound. Any other ``data`` is returned as it is.
    """
    if data.objective != "weighted" or data.redundancy != 1:
        return data
    return dataclasses.replace(
        data,
        objective="cost",
        latency_penalty_usd_per_unit_ms=data.latency_weight_usd_per_ms / data.total_weight,
        latency_weight_usd_per_ms=0.0,
    )


def lagrangian_applies(data: ModelData) -> bool:
    """True when :func:`solve_lagrangian` covers ``data``.

    Median, cost or weighted objective (as :func:`weighted_as_cost`), redundancy 1, and no
    constraint beyond a capacity (split or single sourced), a percentile SLA, a site count and
    fixings.
    """
    data = weighted_as_cost(data)
    if data.redundancy != 1 or data.objective not in ("median", "cost"):
        return False
    return set(active_features(data)) <= _HANDLED


def lagrangian_exact(data: ModelData) -> bool:
    """True when the reduced MIP of :func:`solve_lagrangian` proves the optimum (module docstring).

    False with a capacity: the result is then the incumbent with the Lagrangian bound.
    """
    return data.capacity is None


@dataclass(frozen=True)
class LagrangianResult:
    """Result of :func:`solve_lagrangian`.

    Attributes
    ----------
    status : str
        ``"optimal"`` (bound proves the objective within the project's tolerance),
        ``"feasible"``, ``"infeasible"`` (the LP over every pair is infeasible) or
        ``"no_solution"``.
    objective : float or None
        Value of the returned solution in the problem's units (mean ms or USD a year).
    bound : float
        Proven lower bound (``-inf`` if none).
    open_mask : numpy.ndarray of bool or None
        Open sites.
    rows : list of (pair index, rank, demand index, share)
        Primary shares of every demand point.
    lp_bound : float
        The best Lagrangian bound of the ascent (``-inf`` if none).
    stats : dict
        Rounds, pairs in the LP and the MIP, sites closed, seconds of each phase.
    """

    status: str
    objective: float | None
    bound: float
    open_mask: np.ndarray | None
    rows: list[tuple[int, int, int, float]] = field(default_factory=list)
    lp_bound: float = -math.inf
    stats: dict[str, Any] = field(default_factory=dict)


class _Arrays:
    """The usable pairs of ``data`` and the scaled coefficients of the model."""

    def __init__(self, data: ModelData) -> None:
        usable = data.usable_primary()
        if data.capacity is not None:
            usable &= np.asarray(data.capacity, dtype=float)[data.pair_j] > 0
        self.pos = pos = np.flatnonzero(usable)
        self.pi = pi = data.pair_i[pos].astype(np.int64)
        self.pj = pj = data.pair_j[pos].astype(np.int64)
        self.n, self.m = data.n_demand, data.n_sites
        w = data.weight.astype(float)
        total = float(w.sum())
        self.s = w / total
        lat = data.latency_ms[pos].astype(float)
        if data.objective == "median":
            cost = self.s[pi] * lat
            fixed = np.zeros(self.m)
            self.scale = 1.0
        else:
            cost = (
                data.variable_usd_per_unit[pj] * w[pi]
                + data.pair_cost_usd[pos]
                + data.latency_penalty_usd_per_unit_ms * w[pi] * lat
            ).astype(float)
            fixed = data.fixed_usd.astype(float).copy()
            # the cheapest service of all demand (O(1) objective in the solver)
            cheapest = np.full(self.n, np.inf)
            np.minimum.at(cheapest, pi, cost)
            ref = float(np.sum(cheapest[np.isfinite(cheapest)])) + float(np.min(fixed, initial=0))
            self.scale = ref if ref > 0 else 1.0
        self.cost = cost / self.scale
        self.fixed = fixed / self.scale
        self.cap = None if data.capacity is None else np.asarray(data.capacity, dtype=float)
        self.a = None if self.cap is None else w[pi] / self.cap[pj]
        self.within = None
        self.q = 0.0
        if data.sla_share is not None and data.sla_ms is not None:
            self.within = lat <= data.sla_ms + 1e-9
            self.q = float(data.sla_share)
        self.must = data.must_open.copy()
        self.openable = ~data.forbidden
        lo = data.min_sites if data.min_sites is not None else 0
        hi = data.max_sites if data.max_sites is not None else self.m
        if data.n_sites_exact is not None:
            lo = hi = data.n_sites_exact
        self.lo, self.hi = int(lo), int(min(hi, self.m))
        self.total = total

    def reduced(self, u: np.ndarray, rho: float) -> np.ndarray:
        """Reduced costs ``c_p − u_i − ρ s_i [within]`` of every usable pair."""
        rc = self.cost - u[self.pi]
        if self.within is not None and rho > 0:
            rc = rc - rho * self.s[self.pi] * self.within
        return rc

    def site_values(self, rc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``v_j`` (``inf`` for sites that cannot open) and the shares ``x_p`` an open site takes.

        Without capacities a site takes every pair of negative reduced cost; with them, the
        continuous knapsack ``min Σ rc_p x_p, Σ a_p x_p ≤ 1, 0 ≤ x ≤ 1`` (most negative
        ``rc_p / a_p`` first, the last one split).
        """
        x = np.zeros(len(rc))
        neg = np.flatnonzero(rc < 0)
        if self.a is None:
            x[neg] = 1.0
        elif len(neg):
            a = self.a[neg]
            # a pair of zero weight takes no capacity: first, whole
            order = np.lexsort((rc[neg] / np.maximum(a, 1e-300), self.pj[neg]))
            pj, a = self.pj[neg][order], a[order]
            cs = np.cumsum(a)
            first = np.r_[True, pj[1:] != pj[:-1]]
            offset = np.maximum.accumulate(np.where(first, cs - a, 0.0))
            used = cs - offset  # load of the site after taking this pair whole
            take = np.clip((1.0 - (used - a)) / np.maximum(a, 1e-300), 0.0, 1.0)
            take[a <= 0] = 1.0
            x[neg[order]] = take
        v = self.fixed + np.bincount(self.pj, weights=rc * x, minlength=self.m)
        return np.where(self.openable, v, np.inf), x

    def choose(
        self, v: np.ndarray, force_open: int = -1, force_closed: int = -1
    ) -> tuple[float, np.ndarray]:
        """``min Σ v_j y_j`` over the site count and fixings, and its ``y`` (``inf`` if none)."""
        must = self.must.copy()
        allowed = self.openable.copy()
        y = np.zeros(self.m, dtype=bool)
        if force_open >= 0:
            if not allowed[force_open]:
                return math.inf, y
            must[force_open] = True
        if force_closed >= 0:
            if must[force_closed]:
                return math.inf, y
            allowed[force_closed] = False
        k_must = int(must.sum())
        free = np.flatnonzero(allowed & ~must)
        free = free[np.argsort(v[free], kind="stable")]
        if k_must > self.hi or k_must + len(free) < self.lo:
            return math.inf, y
        need = max(0, self.lo - k_must)
        room = self.hi - k_must
        take = need + int(np.count_nonzero(v[free[need:room]] < 0))
        y[must] = True
        y[free[:take]] = True
        return float(v[y].sum()), y


def lagrangian_bound(
    arr: _Arrays, u: np.ndarray, rho: float
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The Lagrangian bound (scaled units), reduced costs, ``v``, the subproblem's y and x."""
    rc = arr.reduced(u, rho)
    v, x = arr.site_values(rc)
    val, y = arr.choose(v)
    return float(u.sum() + rho * arr.q + val), rc, v, y, x


def ascent(
    arr: _Arrays,
    u: np.ndarray,
    rho: float,
    ub: float,
    deadline: float,
    *,
    max_iter: int = 3000,
    theta: float = 1.0,
    verbose: bool = False,
) -> tuple[float, np.ndarray, float, int, float]:
    """Subgradient ascent of the Lagrangian bound (Polyak steps towards ``ub``).

    Returns the best bound, its multipliers ``(u, ρ)``, the iterations run and the last step
    factor ``theta`` (to go on from there). Stops early when the bound proves ``ub``.
    """
    best = (-math.inf, u.copy(), rho)
    stall = 0
    target = ub if math.isfinite(ub) else None
    it = 0
    for it in range(1, max_iter + 1):
        lb, _rc, _v, y, x = lagrangian_bound(arr, u, rho)
        if lb > best[0] + 1e-12 * max(1.0, abs(lb)):
            if lb > best[0] + 1e-6 * max(1.0, abs(lb)):
                stall = 0
            best = (lb, u.copy(), rho)
        else:
            stall += 1
        if stall >= 40:
            theta, stall = theta / 2.0, 0
            u, rho = best[1].copy(), best[2]
        if theta < 1e-5 or time.perf_counter() > deadline:
            break
        if target is not None and is_proven(target, best[0]):
            break
        xs = x * y[arr.pj]
        g = 1.0 - np.bincount(arr.pi, weights=xs, minlength=arr.n)
        g_rho = 0.0
        if arr.within is not None:
            g_rho = arr.q - float((arr.s[arr.pi] * xs)[arr.within].sum())
            if rho <= 0 and g_rho < 0:
                g_rho = 0.0
        norm = float(g @ g + g_rho * g_rho)
        if norm <= 1e-18:
            break  # the subproblem's solution is feasible: its bound is the LP's
        gap = (target if target is not None else lb + 0.05 * max(1.0, abs(lb))) - lb
        step = theta * max(gap, 1e-9 * max(1.0, abs(lb))) / norm
        u = u + step * g
        rho = max(0.0, rho + step * g_rho)
        if verbose and it % 200 == 0:
            print(f"lagrangian: ascent {it} bound {best[0] * arr.scale:.9g} theta {theta:g}")
    return best[0], best[1], best[2], it, theta


def _model(arr: _Arrays, keep: np.ndarray) -> Any:
    """The HiGHS model over the pairs ``keep`` (sorted): columns ``y`` then those pairs.

    Rows: assignment, the percentile SLA (when set), the site count and the linking rows
    ``x_p − y_j ≤ 0``. Only for problems without a capacity (:func:`lagrangian_exact`).
    """
    import highspy
    import scipy.sparse as sp

    h = new_highs(output_flag=False)
    m, n, k = arr.m, arr.n, len(keep)
    inf = highspy.kHighsInf
    h.addVars(m + k, np.zeros(m + k), np.ones(m + k))
    h.changeColsCost(m + k, np.arange(m + k, dtype=np.int32), np.r_[arr.fixed, arr.cost[keep]])
    col = m + np.arange(k)
    rows, vals, cols = [arr.pi[keep]], [np.ones(k)], [col]
    lower, upper = [np.ones(n)], [np.ones(n)]
    next_row = n
    if arr.within is not None:
        hit = np.flatnonzero(arr.within[keep])
        rows.append(np.full(len(hit), next_row))
        vals.append(arr.s[arr.pi[keep[hit]]])
        cols.append(col[hit])
        lower.append([arr.q])
        upper.append([inf])
        next_row += 1
    rows.append(np.full(m, next_row))
    vals.append(np.ones(m))
    cols.append(np.arange(m))
    lower.append([float(arr.lo)])
    upper.append([float(arr.hi)])
    next_row += 1
    rows += [next_row + np.arange(k)] * 2
    vals += [np.ones(k), -np.ones(k)]
    cols += [col, arr.pj[keep]]
    lower.append(np.full(k, -inf))
    upper.append(np.zeros(k))
    mat = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row + k, m + k),
    )
    mat.sort_indices()
    h.addRows(
        mat.shape[0],
        np.concatenate(lower).astype(float),
        np.concatenate(upper).astype(float),
        mat.nnz,
        mat.indptr[:-1].astype(np.int32),
        mat.indices.astype(np.int32),
        mat.data.astype(float),
    )
    return h


def _start_multipliers(arr: _Arrays, x_inc: np.ndarray | None, rho: float) -> np.ndarray:
    """``u_i``: the incumbent's reduced price of serving ``i`` (else its second cheapest pair).

    With the percentile multiplier ``ρ``, the price ``c_p − ρ s_i [within]`` (so that the
    incumbent's pairs start at reduced cost 0).
    """
    if x_inc is not None:
        return np.bincount(
            arr.pi, weights=arr.reduced(np.zeros(arr.n), rho) * x_inc, minlength=arr.n
        )
    order = np.lexsort((arr.cost, arr.pi))
    start = np.searchsorted(arr.pi[order], np.arange(arr.n))
    count = np.bincount(arr.pi, minlength=arr.n)
    second = order[start + np.minimum(1, count - 1)]
    return arr.cost[second].copy()


def local_search(arr: _Arrays, y0: np.ndarray, deadline: float) -> tuple[float, np.ndarray] | None:
    """Best add / drop / swap descent of an open set (no capacity, no percentile SLA).

    Every demand point goes to its cheapest open pair; returns (scaled cost, open mask) or None.
    """
    # a large finite price for a pair that cannot be used (the search may pass through sets
    # that leave a demand point unserved; value() rejects them)
    big = 1e6 * (float(arr.cost.max(initial=0.0)) + float(arr.fixed.max(initial=0.0)) + 1.0)
    c = np.full((arr.n, arr.m), big)
    c[arr.pi, arr.pj] = arr.cost
    c[:, ~arr.openable] = big
    y = y0.copy() & arr.openable | arr.must
    count = int(y.sum())
    if count < arr.lo:
        extra = np.flatnonzero(~y & arr.openable)[: arr.lo - count]
        y[extra] = True

    def value(mask: np.ndarray) -> float:
        if not mask.any():
            return math.inf
        d = c[:, mask].min(axis=1)
        return float(arr.fixed[mask].sum() + d.sum()) if (d < big).all() else math.inf

    best = value(y)
    while time.perf_counter() < deadline:
        k = int(y.sum())
        cur = c[:, y].min(axis=1) if k else np.full(arr.n, big)
        moves: list[tuple[float, int, int]] = []
        cand = np.flatnonzero(~y & arr.openable)
        if k < arr.hi and len(cand):  # add
            gain = np.minimum(c[:, cand], cur[:, None]).sum(axis=0) + arr.fixed[cand]
            q = int(np.argmin(gain))
            moves.append((float(gain[q] - cur.sum()), int(cand[q]), -1))
        opened = np.flatnonzero(y & ~arr.must)
        if len(opened):
            sub = c[:, y]
            part = np.partition(sub, 1, axis=1) if sub.shape[1] > 1 else np.full_like(sub, big)
            second = part[:, 1] if sub.shape[1] > 1 else part[:, 0]
            col_of = {int(j): t for t, j in enumerate(np.flatnonzero(y))}
            for j in opened:
                t = col_of[int(j)]
                without = np.where(sub[:, t] <= cur, second, cur)
                if k > arr.lo and (without < big).all():  # drop
                    moves.append((float(without.sum() - cur.sum() - arr.fixed[j]), -1, int(j)))
                if len(cand):  # swap j out, the best q in
                    gain = np.minimum(c[:, cand], without[:, None]).sum(axis=0) + arr.fixed[cand]
                    q = int(np.argmin(gain))
                    delta = float(gain[q] - arr.fixed[j] - cur.sum())
                    moves.append((delta, int(cand[q]), int(j)))
        if not moves:
            break
        delta, add, drop = min(moves)
        if delta >= -1e-12 * max(1.0, abs(best) if math.isfinite(best) else 1.0):
            break
        if add >= 0:
            y[add] = True
        if drop >= 0:
            y[drop] = False
        best = value(y)
    return (best, y) if math.isfinite(best) else None


def solve_lagrangian(
    data: ModelData,
    *,
    deadline: float,
    incumbent: tuple[np.ndarray, list[tuple[int, int, int, float]], float] | None = None,
    rho: float = 0.0,
    ascent_share: float = 0.5,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
) -> LagrangianResult:
    """Lagrangian certificate and reduced MIP (module docstring).

    Parameters
    ----------
    data : ModelData
        A problem of :func:`lagrangian_applies`.
    deadline : float
        ``time.perf_counter()`` value at which the solve stops with what it has.
    incumbent : (open_mask, rows, objective), optional
        A feasible solution (rows as in :class:`~placement.formulations.contract.Solution`),
        the upper bound of the reduction and the MIP's start. Without one (and without a
        capacity or percentile SLA) a local search finds one.
    rho : float
        Starting multiplier of the percentile SLA (scaled units per unit share).
    ascent_share : float
        Share of the time left that the subgradient ascent may use.
    gap_rel : float
        Relative gap at which HiGHS's branch and bound stops.
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Print the progress.

    Returns
    -------
    LagrangianResult
    """
    t0 = time.perf_counter()
    data = weighted_as_cost(data)  # the same objective, term by term
    arr = _Arrays(data)
    stats: dict[str, Any] = {"exact": lagrangian_exact(data)}
    covered = np.bincount(arr.pi, minlength=arr.n) > 0
    if not covered.all():
        return LagrangianResult("infeasible", None, math.inf, None, stats=stats)
    ub = math.inf
    inc_x: dict[int, float] = {}
    inc_mask = None
    x_inc = None
    if incumbent is not None:
        pos_of = {int(p): k for k, p in enumerate(arr.pos)}
        inc_mask, inc_rows, inc_obj = incumbent
        if all(r == 1 and int(p) in pos_of for p, r, _i, _s in inc_rows):
            inc_x = {pos_of[int(p)]: float(s) for p, _r, _i, s in inc_rows}
            x_inc = np.zeros(len(arr.pos))
            x_inc[list(inc_x)] = list(inc_x.values())
            ub = float(inc_obj) / arr.scale
        else:
            incumbent, inc_mask = None, None
    u = _start_multipliers(arr, x_inc, rho)
    stop = t0 + ascent_share * max(0.0, deadline - t0)
    if incumbent is None and arr.a is None and arr.within is None:
        _lb0, _rc, _v, y_sub, _x = lagrangian_bound(arr, u, 0.0)
        found = local_search(arr, y_sub, stop)
        if found is not None:
            ub, inc_mask = found
            x_inc = _cheapest(arr, inc_mask)
            inc_x = {int(k): 1.0 for k in np.flatnonzero(x_inc)}
            incumbent = (inc_mask, _rows(arr, np.flatnonzero(x_inc), x_inc[x_inc > 0]), 0.0)
            u = _start_multipliers(arr, x_inc, rho)
    stats["heuristic_s"] = time.perf_counter() - t0
    lb, iters, theta = -math.inf, 0, 1.0
    if arr.a is not None and arr.within is None:
        lb, u, ub, inc_mask, incumbent, x_inc = _capacity_lp_phase(
            arr, data, u, ub, inc_mask, incumbent, x_inc, t0, deadline, stats, verbose
        )
        if (math.isfinite(ub) and is_proven(ub, lb)) or stats.get("lp_proven"):
            # the ascent cannot pass the LP's optimum
            stats.update(iterations=0, ascent_s=time.perf_counter() - t0, rho=rho)
            lp_lb = stats.pop("lp_lagrangian", lb)
            return _result(arr, data, ub, inc_mask, incumbent, lb, lp_lb, stats)
    chunk = 250 if arr.a is None and arr.within is None else 3000
    while iters < 3000 and time.perf_counter() < stop:
        lb_k, u, rho, it, theta = ascent(
            arr, u, rho, ub, stop, max_iter=chunk, theta=theta, verbose=verbose
        )
        lb, iters = max(lb, lb_k), iters + it
        if arr.a is None and arr.within is None:
            # the Lagrangian subproblem's open set, improved: usually the optimum itself
            _lb, _rc, _v, y_sub, _x = lagrangian_bound(arr, u, rho)
            found = local_search(arr, y_sub, deadline)
            if found is not None and found[0] < ub - 1e-12 * max(1.0, abs(ub)):
                ub, inc_mask = found
                x_inc = _cheapest(arr, inc_mask)
                inc_x = {int(k): 1.0 for k in np.flatnonzero(x_inc)}
                incumbent = (inc_mask, _rows(arr, np.flatnonzero(x_inc), x_inc[x_inc > 0]), 0.0)
        if theta < 1e-5 or (math.isfinite(ub) and is_proven(ub, lb)):
            break
        if stats["exact"] and rel_gap(ub, lb) <= MIP_GAP:
            break  # close enough for a small reduced MIP
    stats.update(iterations=iters, ascent_s=time.perf_counter() - t0, rho=rho)
    if verbose:
        print(f"lagrangian: bound {lb * arr.scale:.9g} incumbent {ub * arr.scale:.9g} ({iters} it)")
    if not stats["exact"] or not math.isfinite(ub) or is_proven(ub * arr.scale, lb * arr.scale):
        return _result(arr, data, ub, inc_mask, incumbent, lb, lb, stats)
    # the reduced MIP: every solution of cost <= ub (0/1 shares) lies in it
    _lb, rc, v, _y, _x = lagrangian_bound(arr, u, rho)
    margin = (ub - lb) + 1e-9 * max(1.0, abs(ub))
    base, _ = arr.choose(v)
    closed = np.zeros(arr.m, dtype=bool)
    for j in np.flatnonzero(arr.openable & ~arr.must):
        closed[j] = arr.choose(v, force_open=int(j))[0] - base > margin
    keep = (rc <= margin) & ~closed[arr.pj]
    keep_idx = np.flatnonzero(keep)
    stats.update(mip_pairs=len(keep_idx), sites_closed=int(closed.sum()))
    if verbose:
        print(f"lagrangian: reduced MIP {len(keep_idx)} pairs, {int(closed.sum())} sites closed")
    lp_bound = lb
    mip = _mip(arr, keep_idx, closed, inc_mask, inc_x, threads, gap_rel, deadline, verbose)
    stats["mip_s"] = time.perf_counter() - t0 - stats["ascent_s"]
    if mip is not None:
        val, y_mip, x_mip, mip_bound, mip_optimal = mip
        stats["mip_optimal"] = mip_optimal
        if val < ub - 1e-12 * max(1.0, abs(ub)):
            ub = val
            inc_mask = y_mip
            incumbent = (inc_mask, _rows(arr, np.flatnonzero(x_mip), x_mip[x_mip > 0]), 0.0)
        # the optimum is min(first ub, the reduced model's optimum), and HiGHS's bound is one
        # of the reduced model's
        lb = max(lb, min(ub, mip_bound))
    return _result(arr, data, ub, inc_mask, incumbent, lb, lp_bound, stats)


#: With a capacity, the shares of the time left for the strong LP (site pricing) and, after it,
#: for its rounding (:mod:`~placement.formulations.cfl_lp`); the ascent gets the rest.
CAPACITY_LP_SHARE = 0.9
CAPACITY_ROUND_SHARE = 0.97


def _capacity_lp_phase(
    arr: _Arrays,
    data: ModelData,
    u: np.ndarray,
    ub: float,
    inc_mask: np.ndarray | None,
    incumbent: Any,
    x_inc: np.ndarray | None,
    t0: float,
    deadline: float,
    stats: dict[str, Any],
    verbose: bool,
) -> tuple[float, np.ndarray, float, np.ndarray | None, Any, np.ndarray | None]:
    """With a capacity: the strong LP's bound and rounding (:func:`~.cfl_lp.capacity_lp`).

    Returns the bound, the multipliers to go on from (the LP's when better), and the incumbent
    (scaled value, mask, as given to :func:`solve_lagrangian`, shares), replaced when the
    rounding beats it.
    """
    from placement.formulations.cfl_lp import capacity_lp

    left = max(0.0, deadline - t0) if math.isfinite(deadline) else 120.0
    got = capacity_lp(
        arr,
        data,
        u,
        inc_mask,
        ub,
        lp_deadline=t0 + CAPACITY_LP_SHARE * left,
        round_deadline=t0 + CAPACITY_ROUND_SHARE * left,
        deadline=deadline,
        verbose=verbose,
    )
    stats.update(got.stats, lp_lagrangian=got.lp_bound)
    lb = got.bound
    if got.u is not None:
        u = got.u
    if got.incumbent is not None:
        inc_mask, rows, obj = got.incumbent
        ub = obj / arr.scale
        incumbent = (inc_mask, rows, obj)
        x_inc = np.zeros(len(arr.pos))
        for p, _r, _i, s in rows:
            x_inc[np.searchsorted(arr.pos, p)] = s
    return lb, u, ub, inc_mask, incumbent, x_inc


def _cheapest(arr: _Arrays, mask: np.ndarray) -> np.ndarray:
    """0/1 shares: every demand point at its cheapest pair to an open site (ties: lower pair)."""
    ok = np.flatnonzero(mask[arr.pj])
    order = ok[np.lexsort((ok, arr.cost[ok], arr.pi[ok]))]
    head = np.r_[True, arr.pi[order][1:] != arr.pi[order][:-1]]
    x = np.zeros(len(arr.pos))
    x[order[head]] = 1.0
    return x


def _rows(arr: _Arrays, idx: np.ndarray, x: np.ndarray) -> list[tuple[int, int, int, float]]:
    """Rows of the shares ``x`` over the pairs ``idx`` (renormalised per demand point)."""
    x = np.clip(x, 0.0, 1.0)
    keep = x > 1e-9
    sums = np.bincount(arr.pi[idx[keep]], weights=x[keep], minlength=arr.n)
    share = x[keep] / sums[arr.pi[idx[keep]]]
    return [
        (int(arr.pos[p]), 1, int(arr.pi[p]), float(s))
        for p, s in zip(idx[keep], share, strict=True)
    ]


def _mip(
    arr: _Arrays,
    keep: np.ndarray,
    closed: np.ndarray,
    inc_mask: np.ndarray | None,
    inc_x: dict[int, float],
    threads: int | None,
    gap_rel: float,
    deadline: float,
    verbose: bool,
) -> tuple[float, np.ndarray, np.ndarray, float, bool] | None:
    """HiGHS branch and bound on the reduced model; (value, y, x, bound, proven) or None."""
    import highspy

    left = deadline - time.perf_counter()
    if left <= 0.05:
        return None
    h = _model(arr, keep)
    h.setOptionValue("output_flag", bool(verbose))
    if threads:
        h.setOptionValue("threads", int(threads))
    m = arr.m
    cols = keep
    yhi = (arr.openable & ~closed).astype(float)
    h.changeColsBounds(m, np.arange(m, dtype=np.int32), arr.must.astype(float), yhi)
    off = m
    integer = highspy.HighsVarType.kInteger
    h.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, integer))
    h.setOptionValue("mip_rel_gap", float(gap_rel))
    h.setOptionValue("mip_abs_gap", 1e-12)
    if inc_mask is not None and inc_x:
        xs = np.zeros(h.getNumCol())
        xs[:m] = inc_mask.astype(float)
        want = np.fromiter(inc_x.keys(), dtype=np.int64)
        where = np.minimum(np.searchsorted(cols, want), len(cols) - 1)
        if (cols[where] == want).all():
            xs[off + where] = np.fromiter(inc_x.values(), dtype=float)
            start = highspy.HighsSolution()
            start.col_value = list(xs)
            start.value_valid = True
            h.setSolution(start)
    if math.isfinite(deadline):
        h.setOptionValue("time_limit", max(0.01, deadline - time.perf_counter()))
    h.run()
    info = h.getInfo()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        # no solution of cost <= UB in the reduced model: nothing beats the incumbent
        return math.inf, np.zeros(m, dtype=bool), np.zeros(len(arr.pos)), math.inf, True
    if info.primal_solution_status != 2:
        return None
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else -math.inf
    # HiGHS's open set, every demand point at its cheapest open pair (of all pairs): that
    # costs no more than HiGHS's shares and, with a percentile SLA, serves the most within it
    y = np.asarray(h.getSolution().col_value)[:m] > 0.5
    xs = _cheapest(arr, y)
    served = np.bincount(arr.pi, weights=xs, minlength=arr.n)
    if not np.allclose(served, 1.0):
        return None
    if arr.within is not None:
        if float((arr.s[arr.pi] * xs)[arr.within].sum()) < arr.q * (1 - 1e-12):
            return None  # within HiGHS's tolerance only
    val = float(arr.fixed @ y + arr.cost @ xs)
    return val, y, xs, bound, optimal


def _result(
    arr: _Arrays,
    data: ModelData,
    ub: float,
    mask: np.ndarray | None,
    incumbent: Any,
    lb: float,
    lp_bound: float,
    stats: dict[str, Any],
) -> LagrangianResult:
    """The result in the problem's units (objective recomputed from the rows)."""
    stats = {**stats, "lp_bound": lp_bound * arr.scale}
    if incumbent is None or mask is None or not math.isfinite(ub):
        return LagrangianResult(
            "no_solution", None, lb * arr.scale, None, lp_bound=lp_bound * arr.scale, stats=stats
        )
    _m, rows, _obj = incumbent
    arr_rows = np.asarray(rows, dtype=float).reshape(-1, 4)
    pairs = arr_rows[:, 0].astype(np.int64)
    dem = arr_rows[:, 2].astype(np.int64)
    share = arr_rows[:, 3]
    if data.objective == "median":
        obj = float((arr.s[dem] * share * data.latency_ms[pairs]).sum())
    else:
        w = data.weight
        pc = (
            data.variable_usd_per_unit[data.pair_j[pairs]] * w[dem]
            + data.pair_cost_usd[pairs]
            + data.latency_penalty_usd_per_unit_ms * w[dem] * data.latency_ms[pairs]
        )
        obj = float(data.fixed_usd[mask].sum() + (pc * share).sum())
    bound = min(lb * arr.scale, obj) if math.isfinite(lb) else -math.inf
    status = "optimal" if is_proven(obj, bound) else "feasible"
    stats["gap"] = rel_gap(obj, bound)
    return LagrangianResult(
        status, obj, bound, np.asarray(mask, dtype=bool), list(rows), lp_bound * arr.scale, stats
    )

"""The strong LP bound and LP rounding of the capacitated median (world-scale capacity cases).

For :mod:`placement.formulations.lagrangian` with a capacity (redundancy 1, split or single
sourced). The model is the one of that module's docstring with the capacity rows
``Σ_{p∋j} a_p x_p ≤ y_j`` and the linking rows ``x_p ≤ y_j``:

    min Σ F_j y_j + Σ c_p x_p   s.t.   Σ_{p∋i} x_p = 1 (u_i),   Σ_{p∋j} a_p x_p ≤ y_j,
                                        0 ≤ x_p ≤ y_j ≤ 1,      lo ≤ Σ_j y_j ≤ hi.

Its LP over every pair (226k pairs and linking rows on the world instance) does not end within
two minutes in HiGHS. But its optimum opens few sites (13 of 169 on the world instance), so the
LP is solved over a growing set ``S`` of sites (every pair of those sites, all their linking
rows; one HiGHS model grown in place and re-solved warm): the LP with ``y_j = 0`` outside ``S``.

Bound
-----
Whatever ``S``, the demand duals ``u`` of that LP give the Lagrangian bound
``L(u) = Σ u_i + min_y Σ_j y_j v_j(u)`` of :func:`~placement.formulations.lagrangian.lagrangian_bound`
(each site's continuous knapsack over *all* its pairs): a lower bound of every feasible
solution for any ``u``, computed in numpy over every pair. It equals the LP over ``S`` exactly
when no site outside ``S`` prices out (``S`` then holds an optimum of the whole LP), and the
sites of smallest ``v_j`` that are not yet in ``S`` are the ones added (site pricing). The bound
reported is only ever an ``L(u)`` (over twin groups, below), so an unfinished loop still returns
a valid bound.

Rounding
--------
The LP's ``y`` is nearly integral (on the world instance 6 sites at 1 and 4 units spread over 7
sites). Every open set that keeps the sites at 1 and picks the rest among the fractional ones
(at most :data:`MAX_ROUNDINGS` of them) is evaluated by the transportation LP; the best one,
improved by swaps with sites of the LP's support and of small ``v_j``, is the incumbent
(on the world instance 29.16 from the LP alone; with the given incumbent as a further start,
28.9507).

Twin sites
----------
Sites with the same fixed cost, capacity and pairs (two providers' regions in one city: 30
groups of 2-3 among the 169 world sites) are one column ``0 ≤ Y ≤ k`` of the LP
(:func:`twin_groups`): the same LP value, no branching over the group's permutations. Its
Lagrangian part ``f(Y)`` keeps ``x_p ≤ 1`` over the group's pairs (:meth:`SiteLP.group_steps`),
which the bound of separate sites does not: at the grouped LP's duals only the grouped bound
meets the LP.

Site branch and bound
---------------------
With the LP proven and an incumbent of value ``UB``, reduced-cost fixing lowers each group's
most ``Y`` while forcing it raises the grouped Lagrangian bound at the LP's ``u`` above ``UB``
(world instance, ``UB`` = 28.950697: 117 of 169 sites closed). Branch and bound on ``Y``
(:func:`_site_bb`) then re-solves the LP over ``S`` per node (dual simplex from the last
basis; groups left that the node's bound opens join ``S``), bounds each node by the grouped
Lagrangian bound at its duals (valid for any ``u``), prunes within :data:`PRUNE_GAP` of the
incumbent and branches on the most fractional ``Y``, best bound first. Every solution better
than ``UB`` lies in the groups left, so the smallest bound of the open and pruned nodes (and
``UB``) is a bound. World instance: 28.950697 proven optimal in 9 nodes (about 5 CPU s; from
the rounding's 29.160866 alone, also 9 nodes, finding the optimum itself). HiGHS's own MIP on
the same grouped model took 143 CPU s (5 nodes, sub-MIP heuristics and strong branching); on
the single sites, 195 CPU s.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from placement._highs import new_highs, run_until
from placement.formulations._site_pricing import SITES_PER_ROUND, sites_to_add, start_sites

if TYPE_CHECKING:
    from placement.formulations.lagrangian import _Arrays

__all__ = ["SiteLP", "StrongLP", "capacity_lp", "round_lp"]

#: Most open sets the rounding evaluates by the transportation LP.
MAX_ROUNDINGS = 120


@dataclass(frozen=True)
class StrongLP:
    """Result of :meth:`SiteLP.solve`.

    Attributes
    ----------
    bound : float
        The best Lagrangian bound ``L(u)`` seen (scaled units, ``-inf`` if none).
    u : numpy.ndarray or None
        The multipliers of ``bound``.
    lp_value : float
        The last LP over ``S`` (an upper bound of the strong LP, equal when ``proven``).
    y : numpy.ndarray or None
        The last LP's ``y`` (0 outside ``S``).
    proven : bool
        True when ``bound`` equals the LP over ``S`` (the strong LP's optimum).
    rounds : int
        LPs solved.
    n_sites : int
        Sites in ``S``.
    """

    bound: float
    u: np.ndarray | None
    lp_value: float
    y: np.ndarray | None
    proven: bool
    rounds: int
    n_sites: int


class SiteLP:
    """The strong LP over a growing set of sites, one HiGHS model grown in place."""

    def __init__(self, arr: _Arrays) -> None:
        import highspy

        self.arr = arr
        self.inf = highspy.kHighsInf
        n = arr.n
        self.h = new_highs()
        self.h.setOptionValue("solver", "simplex")
        # rows 0..n-1 assignment (= 1), row n the site count
        lower = np.r_[np.ones(n), [float(arr.lo)]]
        upper = np.r_[np.ones(n), [float(arr.hi)]]
        self.h.addRows(
            n + 1, lower, upper, 0, np.zeros(n + 1, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        self.sites: list[int] = []
        self.in_s = np.zeros(arr.m, dtype=bool)
        #: column of each twin group's ``Y`` (keyed by the group's first site)
        self.ycol: dict[int, int] = {}
        self.by_site = np.argsort(arr.pj, kind="stable")
        self.site_start = np.searchsorted(arr.pj[self.by_site], np.arange(arr.m + 1))
        self.rep, self.members = twin_groups(arr, self.by_site, self.site_start)

    def add_sites(self, sites: list[int]) -> None:
        """Add the sites' twin groups (``Y``, pairs, capacity and linking rows) to ``S``."""
        arr, h = self.arr, self.h
        for j in sites:
            r = int(self.rep[j])
            if r in self.ycol:
                continue
            group = self.members[r]
            ps = self.by_site[self.site_start[r] : self.site_start[r + 1]]
            k = len(ps)
            y = h.getNumCol()
            size = float(len(group))
            lo = size if arr.must[r] else 0.0
            h.addCol(float(arr.fixed[r]), lo, size, 1, np.array([arr.n], np.int32), np.ones(1))
            x0 = h.getNumCol()
            if k:
                h.addCols(
                    k,
                    arr.cost[ps],
                    np.zeros(k),
                    np.ones(k),
                    k,
                    np.arange(k, dtype=np.int32),
                    arr.pi[ps].astype(np.int32),
                    np.ones(k),
                )
            xcols = x0 + np.arange(k, dtype=np.int32)
            # capacity row: Σ a_p x_p − Y ≤ 0
            h.addRow(
                -self.inf, 0.0, k + 1, np.r_[y, xcols].astype(np.int32), np.r_[-1.0, arr.a[ps]]
            )
            if k:  # linking rows x_p − Y ≤ 0
                idx = np.empty(2 * k, np.int32)
                idx[0::2], idx[1::2] = xcols, y
                val = np.empty(2 * k)
                val[0::2], val[1::2] = 1.0, -1.0
                h.addRows(
                    k,
                    np.full(k, -self.inf),
                    np.zeros(k),
                    2 * k,
                    (2 * np.arange(k)).astype(np.int32),
                    idx,
                    val,
                )
            self.ycol[r] = y
            self.in_s[group] = True
            self.sites.extend(int(g) for g in group)

    def spread(self, col: np.ndarray) -> np.ndarray:
        """``y`` over every site from the columns: a group's ``Y`` fills its sites in order.

        (``x_p`` of the group shared in proportion to ``y_j / Y``: an LP solution of the model
        over single sites of the same value.)
        """
        y = np.zeros(self.arr.m)
        for r, c in self.ycol.items():
            group = self.members[r]
            y[group] = np.clip(col[c] - np.arange(len(group)), 0.0, 1.0)
        return y

    def group_steps(self, rc: np.ndarray, reps: list[int], top: np.ndarray) -> list[np.ndarray]:
        """Each group's steps ``f(t) − f(t−1)``, ``t = 1..top``, of its Lagrangian part.

        ``f(Y) = F Y + min Σ rc_p x_p`` over ``Σ a_p x_p ≤ Y``, ``0 ≤ x_p ≤ min(1, Y)`` (the
        group's pairs, each demand point at most once: stronger than ``Y`` separate sites once
        ``Y > 1``), convex in ``Y``, so the steps do not decrease; the first is the site's
        ``v_j``.
        """
        arr = self.arr
        out = []
        for t, r in enumerate(reps):
            k = round(float(top[t]))
            if k <= 0:
                out.append(np.zeros(0))
                continue
            ps = self.by_site[self.site_start[r] : self.site_start[r + 1]]
            neg = ps[rc[ps] < 0]
            a = arr.a[neg]
            order = np.argsort(rc[neg] / np.maximum(a, 1e-300), kind="stable")
            r_s, a_s = rc[neg][order], a[order]
            before = np.cumsum(a_s) - a_s
            f = [0.0]
            for cap in range(1, k + 1):
                take = np.clip((cap - before) / np.maximum(a_s, 1e-300), 0.0, 1.0)
                take[a_s <= 0] = 1.0
                f.append(float(r_s @ take))
            out.append(np.diff(f) + float(arr.fixed[r]))
        return out

    def pick(self, steps: list[np.ndarray], bottom: np.ndarray, counts: bool = False) -> Any:
        """``min Σ f_G(Y_G)`` over integer ``bottom ≤ Y ≤ len(steps)`` and the site count
        (``inf`` if none): the forced steps, then the cheapest others (convex ``f``). With
        ``counts``, also the ``Y`` of that minimum."""
        arr = self.arr
        total, k_must, pool, owner = 0.0, 0, [], []
        for g, (st, b) in enumerate(zip(steps, bottom, strict=True)):
            b = round(float(b))
            if b > len(st):
                return (math.inf, None) if counts else math.inf
            total += float(st[:b].sum())
            k_must += b
            pool.append(st[b:])
            owner.append(np.full(len(st) - b, g))
        free = np.concatenate(pool) if pool else np.zeros(0)
        order = np.argsort(free, kind="stable")
        free = free[order]
        if k_must > arr.hi or k_must + len(free) < arr.lo:
            return (math.inf, None) if counts else math.inf
        need = max(0, arr.lo - k_must)
        room = arr.hi - k_must
        take_n = need + int(np.count_nonzero(free[need:room] < 0))
        value = total + float(free[:take_n].sum())
        if not counts:
            return value
        got = np.round(np.asarray(bottom, dtype=float)).astype(np.int64)
        if take_n:
            got += np.bincount(np.concatenate(owner)[order[:take_n]], minlength=len(steps))
        return value, got

    def all_groups(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Every group that can open: representatives, least and most ``Y``."""
        arr = self.arr
        reps = [r for r in sorted(self.members) if arr.openable[r]]
        size = np.array([len(self.members[r]) for r in reps], dtype=float)
        bottom = np.array([size[t] if arr.must[r] else 0.0 for t, r in enumerate(reps)])
        return reps, bottom, size

    def group_bound(self, u: np.ndarray, reps: list[int], lo: np.ndarray, hi: np.ndarray) -> float:
        """The Lagrangian bound of the model over the groups ``reps`` with ``lo ≤ Y ≤ hi``
        (demand rows dualised by ``u``; valid for any ``u``; :meth:`group_steps`)."""
        steps = self.group_steps(self.arr.reduced(u, 0.0), reps, hi)
        return float(u.sum()) + self.pick(steps, lo)

    def run(self, deadline: float) -> tuple[float, np.ndarray, np.ndarray] | str:
        """Solve the LP over ``S``: (value, demand duals u, y over every site), or its status
        ``"infeasible"`` (too few sites in ``S``) or ``"stopped"``."""
        status = run_until(self.h, deadline)
        if status != "optimal":
            return status
        sol = self.h.getSolution()
        u = np.asarray(sol.row_dual, dtype=float)[: self.arr.n].copy()
        y = self.spread(np.asarray(sol.col_value, dtype=float))
        return float(self.h.getInfo().objective_function_value), u, y

    def solve(
        self,
        start_sites: np.ndarray,
        deadline: float,
        u_best: np.ndarray | None = None,
        best: float = -math.inf,
        verbose: bool = False,
    ) -> StrongLP:
        """Site pricing until the bound meets the LP over ``S`` or ``deadline`` (module doc).

        ``u_best`` and ``best`` are the multipliers and bound to beat (the sites of smallest
        ``v_j`` at ``u_best`` join ``S`` while the LP over it is infeasible).
        """
        from placement.formulations._gap import is_proven
        from placement.formulations.lagrangian import lagrangian_bound

        arr = self.arr
        self.add_sites([int(j) for j in start_sites])
        lp_value, y_last, proven, rounds = math.inf, None, False, 0
        while time.perf_counter() < deadline:
            got = self.run(deadline)
            if got == "stopped":
                break
            if isinstance(got, str):  # infeasible over S: more sites
                v = np.where(arr.openable, 0.0, np.inf)
                if u_best is not None:
                    _lb, _rc, v, _y, _x = lagrangian_bound(arr, u_best, 0.0)
            else:
                rounds += 1
                lp_value, u, y_last = got
                _lb, _rc, v, _y, _x = lagrangian_bound(arr, u, 0.0)
                lb = self.group_bound(u, *self.all_groups())
                if lb > best:
                    best, u_best = lb, u
                if verbose:
                    print(
                        f"cfl_lp: round {rounds} sites {len(self.sites)} "
                        f"LP {lp_value * arr.scale:.9g} L(u) {lb * arr.scale:.9g} "
                        f"best {best * arr.scale:.9g}"
                    )
                if is_proven(lp_value, best):
                    proven = True
                    break
            new = sites_to_add(v, self.in_s, SITES_PER_ROUND, self.rep)
            if not new:
                break
            self.add_sites(new)
        return StrongLP(best, u_best, lp_value, y_last, proven, rounds, len(self.sites))


def round_lp(
    arr: _Arrays,
    y: np.ndarray,
    v: np.ndarray | None,
    deadline: float,
    verbose: bool = False,
    starts: tuple[np.ndarray, ...] = (),
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The best open set near the LP's ``y``: (scaled cost, open mask, shares z over the pairs).

    Sites at 1 stay open; the rest of the count is picked among the fractional ones (every
    combination, most-open first, at most :data:`MAX_ROUNDINGS`); the best of them and of
    ``starts`` (other open sets, e.g. the incumbent's) is improved by swaps (first improvement)
    of an open site, the least valuable first, for one of the LP's support or of the sites
    of smallest ``v`` at the prices ``u`` of the current set's transportation LP (``v`` of the
    LP's optimum ties dozens of sites at the count's dual, so it cannot rank them). Every set
    is valued by its transportation LP with capacities
    :data:`~placement.formulations.relax.CAPACITY_MARGIN` below.
    """
    from placement.formulations.cfl import _Transport
    from placement.formulations.lagrangian import lagrangian_bound
    from placement.formulations.relax import CAPACITY_MARGIN

    cap = arr.cap / arr.total * (1.0 - CAPACITY_MARGIN)
    ev = _Transport(arr.pi, arr.pj, arr.s, cap, arr.cost, arr.fixed, arr.n, arr.m)
    ev.keep_duals = True
    ones = np.flatnonzero((y > 1 - 1e-6) & arr.openable)
    ones = np.union1d(ones, np.flatnonzero(arr.must))
    frac = np.flatnonzero((y > 1e-6) & (y <= 1 - 1e-6) & arr.openable & ~arr.must)
    frac = frac[np.argsort(-y[frac], kind="stable")]
    val, mask = math.inf, None
    for k in range(max(arr.lo, len(ones)), arr.hi + 1):
        need = k - len(ones)
        if need < 0 or need > len(frac):
            continue
        for t, comb in enumerate(itertools.combinations(frac, need)):
            if t >= MAX_ROUNDINGS or time.perf_counter() > deadline:
                break
            cand = np.zeros(arr.m, dtype=bool)
            cand[ones] = True
            cand[list(comb)] = True
            cv = ev.evaluate(cand)[0]
            if cv < val:
                val, mask = cv, cand
    for start in starts:
        if start is not None and arr.lo <= int(start.sum()) <= arr.hi:
            cv = ev.evaluate(np.asarray(start, dtype=bool))[0]
            if cv < val:
                val, mask = cv, np.asarray(start, dtype=bool).copy()
    if mask is None:
        return None
    if verbose:
        print(f"cfl_lp: rounding {val * arr.scale:.9g} ({len(ev.cache)} open sets)")
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        price = v
        u_set = ev.duals.get(np.packbits(mask).tobytes())
        if u_set is not None:
            _lb, _rc, price, _y, _x = lagrangian_bound(arr, u_set, 0.0)
        cands = list(frac)
        if price is not None:
            cands += [int(j) for j in np.argsort(price, kind="stable")[: 3 * arr.hi]]
        cands = [j for j in dict.fromkeys(int(j) for j in cands) if arr.openable[j]]
        outs = np.flatnonzero(mask & ~arr.must)
        key = -price[outs] if price is not None else y[outs]
        for out in outs[np.argsort(key, kind="stable")]:
            for into in cands:
                if mask[into] or time.perf_counter() > deadline:
                    continue
                cand = mask.copy()
                cand[out], cand[into] = False, True
                cv = ev.evaluate(cand)[0]
                if cv < val - 1e-9 * max(1.0, abs(val)):
                    val, mask, improved = cv, cand, True
                    break
            if improved:
                break
    if verbose:
        print(f"cfl_lp: swaps {val * arr.scale:.9g} ({len(ev.cache)} open sets)")
    val, z = ev.evaluate(mask)
    return None if z is None else (val, mask, z)


def _whole_assignment(arr: _Arrays, mask: np.ndarray, deadline: float) -> np.ndarray | None:
    """The best single-sourced assignment to the open sites ``mask`` (HiGHS MIP), or None.

    Binary ``x_p`` over the pairs of open sites, each demand point on one, loads within the
    capacities less :data:`~placement.formulations.relax.CAPACITY_MARGIN`; its LP is the
    transportation LP, whose basic optimum splits at most ``|open| − 1`` points, so it is
    solved at the root (world instance: 13,595 pairs, 0.26 CPU s, 2e-9 above the split optimum).
    """
    import highspy
    import scipy.sparse as sp

    from placement.formulations.relax import CAPACITY_MARGIN

    left = deadline - time.perf_counter()
    if left <= 0.05:
        return None
    sel = np.flatnonzero(mask[arr.pj])
    k, n = len(sel), arr.n
    opened = np.flatnonzero(mask)
    row_of = np.full(arr.m, -1)
    row_of[opened] = np.arange(len(opened))
    a = sp.csc_matrix(
        (
            np.r_[np.ones(k), arr.a[sel]],
            (np.r_[arr.pi[sel], n + row_of[arr.pj[sel]]], np.r_[np.arange(k), np.arange(k)]),
        ),
        shape=(n + len(opened), k),
    )
    a.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, a.shape[0]
    lp.col_cost_ = arr.cost[sel]
    lp.col_lower_, lp.col_upper_ = np.zeros(k), np.ones(k)
    lp.row_lower_ = np.r_[np.ones(n), np.full(len(opened), -highspy.kHighsInf)]
    lp.row_upper_ = np.r_[np.ones(n), np.full(len(opened), 1.0 - CAPACITY_MARGIN)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    h = new_highs(time_limit=float(left), mip_rel_gap=1e-9)
    h.passModel(lp)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = np.zeros(len(arr.pi))
    x[sel] = np.round(np.asarray(h.getSolution().col_value))
    if not np.allclose(np.bincount(arr.pi, weights=x, minlength=n), 1.0):
        return None
    return x


def _incumbent(
    arr: _Arrays, data: Any, mask: np.ndarray, z: np.ndarray, deadline: float
) -> tuple[np.ndarray, list[tuple[int, int, int, float]], float] | None:
    """The shares ``z`` (split, or whole with ``single_sourcing``) as a checked incumbent."""
    from placement.formulations.contract import Solution
    from placement.formulations.lagrangian import _rows
    from placement.formulations.relax import CAPACITY_MARGIN, _single_source, violations

    if data.single_sourcing:
        whole = _whole_assignment(arr, mask, deadline)
        if whole is None:  # no MIP answer in time: the split shares made whole greedily
            whole = _single_source(data, arr.pos, z, mask, arr.cap * (1.0 - CAPACITY_MARGIN))
        if whole is None:
            return None
        z = whole
    idx = np.flatnonzero(z > 1e-9)
    rows = _rows(arr, idx, z[idx])
    sol = Solution(status="feasible", objective=0.0, open_mask=mask.copy(), rows=rows)
    if violations(data, sol):
        return None
    obj = float(arr.fixed @ mask) + float(
        sum(arr.cost[np.searchsorted(arr.pos, p)] * s for p, _r, _i, s in rows)
    )
    return mask.copy(), rows, obj


@dataclass(frozen=True)
class CapacityLP:
    """Result of :func:`capacity_lp`: the bound (with the site branch and bound's), the LP's
    multipliers and Lagrangian bound, and a better incumbent (or None)."""

    bound: float
    u: np.ndarray | None
    incumbent: tuple[np.ndarray, list[tuple[int, int, int, float]], float] | None
    stats: dict[str, Any]
    lp_bound: float = -math.inf


def capacity_lp(
    arr: _Arrays,
    data: Any,
    u: np.ndarray,
    inc_mask: np.ndarray | None,
    ub: float,
    *,
    lp_deadline: float,
    round_deadline: float,
    deadline: float = math.inf,
    verbose: bool = False,
) -> CapacityLP:
    """Strong LP bound by site pricing, then its rounding (module docstring).

    ``u`` are starting multipliers (their smallest-``v`` sites and the incumbent's open ones
    start ``S``); the incumbent (scaled objective, open mask, rows) is returned only when it
    beats ``ub`` and passes :func:`~placement.formulations.relax.violations`. The rounding's
    swaps also start from ``inc_mask``. With single sourcing the best open set's whole
    assignment is a HiGHS MIP (:func:`_whole_assignment`, until ``deadline``).
    """
    from placement.formulations.lagrangian import lagrangian_bound

    t0, c0 = time.perf_counter(), time.process_time()
    lb0, _rc, v0, _y, _x = lagrangian_bound(arr, u, 0.0)
    start = start_sites(v0, arr.hi, arr.must, inc_mask)
    site_lp = SiteLP(arr)
    res = site_lp.solve(np.array(start, dtype=np.int64), lp_deadline, u, lb0, verbose=verbose)
    stats: dict[str, Any] = {
        "lp_rounds": res.rounds,
        "lp_sites": res.n_sites,
        "lp_proven": res.proven,
        "lp_value": res.lp_value * arr.scale if math.isfinite(res.lp_value) else None,
        "lp_s": time.perf_counter() - t0,
        "lp_cpu_s": time.process_time() - c0,
    }
    found = None
    if res.y is not None:
        v = None
        if res.u is not None:
            _lb, _rc, v, _y, _x = lagrangian_bound(arr, res.u, 0.0)
        starts = () if inc_mask is None else (inc_mask,)
        if res.proven and math.isfinite(deadline):  # leave the branch and bound its share
            now = time.perf_counter()
            round_deadline = min(round_deadline, now + ROUND_SHARE_BEFORE_MIP * (deadline - now))
        got = round_lp(arr, res.y, v, round_deadline, verbose, starts)
        if got is not None:
            inc = _incumbent(arr, data, got[1], got[2], max(round_deadline, deadline))
            if inc is not None and (
                not math.isfinite(ub) or inc[2] / arr.scale < ub - 1e-12 * max(1.0, abs(ub))
            ):
                found = inc
            stats["rounding_objective"] = None if inc is None else inc[2]
    stats["rounding_s"] = time.perf_counter() - t0 - stats["lp_s"]
    bound = res.bound
    best_ub = ub if found is None else found[2] / arr.scale
    if res.proven and res.u is not None and math.isfinite(best_ub):
        # split shares: with single sourcing its bound is one of the single-sourced problem too
        mip = _site_bb(site_lp, res.u, best_ub, deadline, verbose)
        stats.update(mip.stats)
        bound = max(bound, mip.bound)
        if mip.mask is not None:
            inc = _incumbent(arr, data, mip.mask, _shares(arr, mip.mask), deadline)
            if inc is not None and inc[2] / arr.scale < best_ub - 1e-12 * max(1.0, abs(best_ub)):
                found = inc
    if verbose:
        print(
            f"cfl_lp: bound {bound * arr.scale:.9g}, incumbent "
            f"{'kept' if found is None else f'{found[2]:.9g}'}; {stats}"
        )
    return CapacityLP(bound, res.u, found, stats, res.bound)


#: With the strong LP proven, the share of the time left that the rounding may use before the
#: site branch and bound (:func:`_site_bb`) gets the rest (its swaps rarely beat the optimum
#: that the branch and bound finds itself).
ROUND_SHARE_BEFORE_MIP = 0.1


@dataclass(frozen=True)
class _SiteMip:
    bound: float
    mask: np.ndarray | None
    stats: dict[str, Any]


def _shares(arr: _Arrays, mask: np.ndarray) -> np.ndarray:
    """The transportation LP's shares of the open set ``mask`` (capacities a margin below)."""
    from placement.formulations.cfl import _Transport
    from placement.formulations.relax import CAPACITY_MARGIN

    cap = arr.cap / arr.total * (1.0 - CAPACITY_MARGIN)
    ev = _Transport(arr.pi, arr.pj, arr.s, cap, arr.cost, arr.fixed, arr.n, arr.m)
    _val, z = ev.evaluate(mask)
    return np.zeros(len(arr.pi)) if z is None else z


def twin_groups(
    arr: _Arrays, by_site: np.ndarray, site_start: np.ndarray
) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Sites that are interchangeable: the same fixed cost, capacity, must-open status and pairs
    (demand points and costs), e.g. two providers' regions in one city.

    Returns each site's group representative (its first site) and each representative's sites.
    Such a group of ``k`` sites is one column ``0 ≤ Y ≤ k`` of :class:`SiteLP` (the capacity
    and linking rows with ``Y`` on the right): the same LP value, and every integer ``Y`` is an
    open set of the group, so branching does not repeat itself over the group's permutations.
    """
    rep = np.arange(arr.m)
    members: dict[int, list[int]] = {}
    seen: dict[tuple[Any, ...], int] = {}
    cap = arr.cap if arr.cap is not None else np.zeros(arr.m)
    for j in range(arr.m):
        if not arr.openable[j]:
            members[j] = [j]
            continue
        ps = by_site[site_start[j] : site_start[j + 1]]
        ps = ps[np.argsort(arr.pi[ps], kind="stable")]
        key = (
            bool(arr.must[j]),
            float(arr.fixed[j]),
            float(cap[j]),
            arr.pi[ps].tobytes(),
            arr.cost[ps].tobytes(),
        )
        r = seen.setdefault(key, j)
        rep[j] = r
        members.setdefault(r, []).append(j)
    return rep, members


#: Relative gap under which a node of the site branch and bound is pruned (its bound is kept:
#: the reported bound is the smallest of them, so a result within it is still honest).
PRUNE_GAP = 1e-7


def _site_bb(lp: SiteLP, u: np.ndarray, ub: float, deadline: float, verbose: bool) -> _SiteMip:
    """Branch and bound on the twin groups' ``Y`` with the strong LP at every node.

    Reduced-cost fixing: each group's most ``Y`` is lowered while forcing it raises the grouped
    Lagrangian bound at the LP's ``u`` above ``ub`` (no solution beating the incumbent opens
    more). A node is the LP over ``S`` with bounds on the ``Y`` (dual simplex from the last
    basis); its bound is the grouped Lagrangian bound (:meth:`SiteLP.group_bound`) at the node
    LP's demand duals over every group left (valid whatever ``u``; equal to the node LP at its
    optimum unless a group outside ``S`` prices in, which then joins ``S`` and the node is
    re-solved). Nodes within :data:`PRUNE_GAP` of the incumbent are pruned, an integral ``Y``
    is valued by the transportation LP, else the most fractional ``Y`` is branched on (best
    bound first). The bound returned is the smallest over the open and pruned nodes (and
    ``ub``): ``ub``'s own when the tree ends (module docstring for the world figures).
    """
    import heapq

    arr, h = lp.arr, lp.h
    t0, c0 = time.perf_counter(), time.process_time()
    stats: dict[str, Any] = {}
    if deadline - t0 <= 0.5:
        return _SiteMip(-math.inf, None, stats)
    # reduced-cost fixing: the most Y of each group below which the bound stays <= ub
    g_reps, g_bottom, g_size = lp.all_groups()
    steps = lp.group_steps(arr.reduced(u, 0.0), g_reps, g_size)
    usum = float(u.sum())
    g_top = g_size.copy()
    for t in range(len(g_reps)):
        while g_top[t] > g_bottom[t]:
            forced = g_bottom.copy()
            forced[t] = g_top[t]
            if usum + lp.pick(steps, forced) <= ub:
                break
            g_top[t] -= 1
    # the groups left, in S or not (those join S when a node's bound prices them in)
    kept = [t for t in range(len(g_reps)) if g_top[t] > 0 or g_bottom[t] > 0]
    reps = [g_reps[t] for t in kept]
    top, bottom = g_top[kept], g_bottom[kept]
    gone = [c for r, c in lp.ycol.items() if r not in set(reps)]
    h.changeColsBounds(
        len(gone), np.array(gone, np.int32), np.zeros(len(gone)), np.zeros(len(gone))
    )
    stats.update(
        mip_sites=int(g_top.sum()),
        mip_groups=len(reps),
        sites_closed=int(g_size.sum() - g_top.sum()),
    )
    tol = PRUNE_GAP * max(1.0, abs(ub))
    best_mask: np.ndarray | None = None
    pruned_min = math.inf  # the smallest bound of a node pruned by it
    tie = itertools.count()
    # heap of (bound, tie, lower, upper) per open node
    heap: list[tuple[float, int, np.ndarray, np.ndarray]] = [(-math.inf, next(tie), bottom, top)]
    nodes = lps = priced = 0
    stopped = False
    while heap:
        parent_lb, _tie, lo, hi = heap[0]
        if parent_lb >= ub - tol:
            pruned_min = min(pruned_min, parent_lb)
            heapq.heappop(heap)
            continue
        if deadline - time.perf_counter() <= 0.05:
            stopped = True
            break
        heapq.heappop(heap)
        lp.add_sites([r for t, r in enumerate(reps) if lo[t] > 0])
        while True:  # the node's LP over S, then its bound over every group left
            inside = [t for t, r in enumerate(reps) if r in lp.ycol]
            cols = np.array([lp.ycol[reps[t]] for t in inside], dtype=np.int32)
            h.changeColsBounds(len(cols), cols, lo[inside], hi[inside])
            status = run_until(h, deadline)
            lps += 1
            if status != "optimal":
                break
            sol = h.getSolution()
            un = np.asarray(sol.row_dual, dtype=float)[: arr.n]
            value = float(h.getInfo().objective_function_value)
            steps = lp.group_steps(arr.reduced(un, 0.0), reps, hi)
            node_lb, counts = lp.pick(steps, lo, counts=True)
            node_lb += float(un.sum())
            # groups outside S that the bound opens: S misses the node LP's optimum
            out = [reps[t] for t in np.flatnonzero(counts > 0) if reps[t] not in lp.ycol]
            if not out or value - node_lb <= tol or node_lb >= ub - tol:
                break
            priced += len(out)
            lp.add_sites(out[:SITES_PER_ROUND])
        if status == "infeasible":
            nodes += 1
            continue
        if status != "optimal":
            heapq.heappush(heap, (parent_lb, next(tie), lo, hi))
            stopped = True
            break
        nodes += 1
        node_lb = max(parent_lb, node_lb)
        if verbose:
            print(
                f"cfl_lp: node {nodes} LP {value:.9g} bound {node_lb:.9g} "
                f"(simplex iterations {h.getInfo().simplex_iteration_count}, S {len(lp.ycol)})"
            )
        if node_lb >= ub - tol:
            pruned_min = min(pruned_min, node_lb)
            continue
        col = np.asarray(sol.col_value, dtype=float)
        ycol = np.array([col[lp.ycol[r]] if r in lp.ycol else 0.0 for r in reps])
        frac = np.abs(ycol - np.round(ycol))
        t = int(np.argmax(frac))
        if frac[t] <= 1e-6:  # integral: an open set, valued by its transportation LP
            mask = lp.spread(np.round(col)) > 0.5
            mask &= arr.openable
            val = _transport_value(arr, mask)
            if arr.lo <= int(mask.sum()) <= arr.hi and val < ub - 1e-12 * max(1.0, abs(ub)):
                ub, best_mask = val, mask
                tol = PRUNE_GAP * max(1.0, abs(ub))
            if node_lb < ub - tol:  # no better set in the node than this one
                pruned_min = min(pruned_min, node_lb)
            continue
        down_hi, up_lo = hi.copy(), lo.copy()
        down_hi[t] = math.floor(ycol[t])
        up_lo[t] = math.ceil(ycol[t])
        heapq.heappush(heap, (node_lb, next(tie), lo, down_hi))
        heapq.heappush(heap, (node_lb, next(tie), up_lo, hi))
    open_min = min((b for b, *_ in heap), default=math.inf)
    bound = min(ub, pruned_min, open_min)
    stats.update(
        mip_proven=not stopped,
        bb_nodes=nodes,
        bb_lps=lps,
        bb_priced=priced,
        mip_s=time.perf_counter() - t0,
        mip_cpu_s=time.process_time() - c0,
    )
    if verbose:
        print(f"cfl_lp: site branch and bound bound {bound:.9g}; {stats}")
    return _SiteMip(bound if math.isfinite(bound) else -math.inf, best_mask, stats)


def _transport_value(arr: _Arrays, mask: np.ndarray) -> float:
    """The transportation LP's value of the open set ``mask`` (capacities a margin below)."""
    from placement.formulations.cfl import _Transport
    from placement.formulations.relax import CAPACITY_MARGIN

    cap = arr.cap / arr.total * (1.0 - CAPACITY_MARGIN)
    ev = _Transport(arr.pi, arr.pj, arr.s, cap, arr.cost, arr.fixed, arr.n, arr.m)
    return float(ev.evaluate(mask)[0])

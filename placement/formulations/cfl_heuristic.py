"""Fast primal heuristic and cheap valid lower bounds for capacitated fixed-charge location.

Problem
-------
The problem of :mod:`placement.formulations.cfl` (split allocation, redundancy 1): open sites
``y_j ∈ {0, 1}`` and shares ``z_p ∈ [0, 1]`` of demand ``i(p)`` served by site ``j(p)``,
minimising

    Σ_j F_j y_j + Σ_p c_p z_p

subject to ``Σ_{p∋i} z_p = 1`` for every demand ``i``, ``Σ_{p∋j} w_i z_p ≤ cap_j y_j`` for every
site ``j``, must-open / forbidden sites and ``lo ≤ Σ_j y_j ≤ hi``. ``c_p`` is the annual cost of
serving *all* of demand ``i`` from ``j`` (for Beasley's instances the ``cost`` matrix itself),
``w_i`` the demand weight (capacity units), ``F_j`` the annual fixed cost.

Lower bound (valid for any multipliers)
---------------------------------------
Relaxing the assignment rows with multipliers ``u_i`` (Geoffrion & McBride 1978; Beasley 1988,
"An algorithm for solving large capacitated warehouse location problems", EJOR 33:314–325)
leaves, for every site, a continuous knapsack
``v_j(u) = min Σ_{p∋j} (c_p − u_i) z_p`` s.t. ``Σ w_i z_p ≤ cap_j``, ``0 ≤ z ≤ 1`` (greedy by
ratio), and a choice of open sites ``min Σ_j (F_j + v_j(u)) y_j`` over binary ``y`` with the
fixings, the site count, the cardinality cut ``Σ y_j ≥ K`` (the least number of sites that can
hold the total demand ``W``, valid for every integer solution) and the aggregate capacity
``Σ cap_j y_j ≥ W``; the latter is relaxed once more with a multiplier ``α ≥ 0`` (bisection on
``α``; with equal capacities the cut already implies it and ``α = 0``). Every step is a
relaxation, so

    L(u) = Σ_i u_i + max_α [α W + min_y Σ_j (F_j + v_j(u) − α cap_j) y_j]

is a lower bound on the optimum for *any* ``u``. With ``u_i = min_j c_ij`` all ``v_j`` vanish and
``L`` is the simple bound ``Σ_i min_j c_ij`` plus a lower bound on the least fixed cost of enough
sites (exact with equal capacities; :func:`simple_lower_bound`, 30–50 % below the optimum on
capa/capb/capc); a few hundred subgradient steps (Polyak step towards the best upper
bound, step factor halved when the bound stalls) take it to within a few tenths of a per cent of
the optimum on Beasley's capa/capb/capc. Only each demand's ``T`` cheapest pairs enter the
knapsacks and ``u_i`` is capped at the cost of its cheapest omitted pair, so every omitted pair
has a non-negative reduced cost and the restriction is exact.

Primal heuristic
----------------
The cost of an open set is its fixed cost plus the transportation LP over its pairs, solved
exactly by HiGHS on a restricted set of columns (each demand's ``r`` cheapest open pairs) with
pricing of the omitted ones until no reduced cost is negative (column generation; the full LP when
the restriction is infeasible). The first open set is the best of a few candidates: the sites in
increasing order of Lagrangian value ``F_j + v_j(u)`` at the best multipliers, opened until the
capacity holds ``W`` (and one or two more), the subproblem's own ``y`` made feasible the same way,
and the given ``initial_open`` (tried first). Then a first-improvement local search over drop /
add / swap moves, each priced from the current set's transportation LP before any is solved:
drop ``a`` costs ``−F_a`` plus moving ``a``'s shares to their next cheapest open site at the
capacity prices (the LP's duals); opening ``b`` saves the knapsack ``F_b + v_b(·)`` at the
multipliers "what each demand pays now" (for a swap, with ``a``'s demands at their new price;
for a pure add, the mean of that and the LP's duals). The ``tries`` best-priced moves are solved
exactly and the first strict improvement is taken; on Beasley's instances an improving swap, when
there is one, is nearly always among the first few. At the end an iterated local search restarts
the descent ``kicks`` times from the incumbent's best non-improving neighbours (the evaluated sets
are cached, so a descent does not walk back).

Schedule: half the subgradient steps, the starts and a descent, the other half of the steps
(Polyak target = the incumbent), new starts from the better multipliers, the iterated search.
With ``time_budget_s`` the phases end at 25 %, 70 % and 90 % of it at the latest.

Determinism
-----------
There is no randomness and ties go to the lowest index. Iteration counts are fixed
(``lagrange_iter``, ``tries``, ``max_moves``, ``kicks``); the optional ``time_budget_s`` only
*stops* phases early (checked between steps: a transportation LP, about 5–15 ms on a 100 × 1000
instance, is never interrupted), so a run that finishes inside its budget is reproducible and one
that is stopped by it depends on the machine's speed and load (``stopped_by_time`` says so). On
Beasley's capa/capb/capc a full run takes 0.4–0.9 s on a loaded 2-core machine.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from placement._highs import new_highs

__all__ = ["CflHeuristicResult", "cfl_heuristic", "simple_lower_bound"]

_REL_TOL = 1e-9


@dataclass(frozen=True)
class CflHeuristicResult:
    """Result of :func:`cfl_heuristic`.

    Attributes
    ----------
    objective_usd : float
        Annual cost of the returned solution (fixed + assignment), ``inf`` when none was found.
    open_sites : numpy.ndarray of int
        Sorted indices of the open sites (empty when none was found).
    share : numpy.ndarray of float, shape (n_pairs,)
        Share of each input pair in the solution (0 at closed sites; rows sum to 1 per demand).
    lower_bound_usd : float
        A valid lower bound on the optimum (``inf`` when the bound proves the problem
        infeasible).
    n_transport_lps : int
        Transportation LPs solved.
    n_lagrange_iter : int
        Subgradient iterations done.
    elapsed_s : float
        Wall-clock seconds spent.
    stopped_by_time : bool
        True when ``time_budget_s`` cut the search short.
    start_used : bool
        True when ``initial_open`` (with the fixings applied and sites added until the capacity
        holds all demand) respected the site count and gave the first incumbent.
    history : list of (seconds, incumbent, bound)
        The incumbent and the bound after each improvement of either.
    """

    objective_usd: float
    open_sites: np.ndarray
    share: np.ndarray
    lower_bound_usd: float
    n_transport_lps: int = 0
    n_lagrange_iter: int = 0
    elapsed_s: float = 0.0
    stopped_by_time: bool = False
    start_used: bool = False
    history: list[tuple[float, float, float]] = field(default_factory=list, repr=False)

    @property
    def gap(self) -> float:
        """Relative gap ``(objective − bound) / objective`` (``inf`` without a solution)."""
        if not (math.isfinite(self.objective_usd) and math.isfinite(self.lower_bound_usd)):
            return math.inf
        return max(0.0, self.objective_usd - self.lower_bound_usd) / max(
            1e-10, abs(self.objective_usd)
        )


def simple_lower_bound(
    fixed_usd: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_cost_usd: np.ndarray,
    weight: np.ndarray,
    capacity: np.ndarray,
    *,
    must_open: np.ndarray | None = None,
    forbidden: np.ndarray | None = None,
    min_sites: int | None = None,
    max_sites: int | None = None,
) -> float:
    """``Σ_i min_j c_ij`` plus the least fixed cost of an open set that can hold all demand.

    The Lagrangian bound of the module docstring at ``u_i = min_j c_ij`` (every knapsack is
    empty); costs milliseconds. Arguments as in :func:`cfl_heuristic`.

    Returns
    -------
    float
        A valid lower bound on the optimum (``inf`` if no open set can be feasible).
    """
    inst = _Instance(
        fixed_usd,
        pair_i,
        pair_j,
        pair_cost_usd,
        weight,
        capacity,
        must_open,
        forbidden,
        min_sites,
        max_sites,
        top_pairs=None,
    )
    if inst.hopeless:
        return math.inf
    return inst.lagrange(inst.u_floor.copy())[0]


class _Instance:
    """Arrays of one problem, its pairs sorted by (demand, cost, site)."""

    def __init__(
        self,
        fixed_usd: np.ndarray,
        pair_i: np.ndarray,
        pair_j: np.ndarray,
        pair_cost_usd: np.ndarray,
        weight: np.ndarray,
        capacity: np.ndarray,
        must_open: np.ndarray | None,
        forbidden: np.ndarray | None,
        min_sites: int | None,
        max_sites: int | None,
        top_pairs: int | str | None,
    ) -> None:
        self.F = np.asarray(fixed_usd, dtype=float)
        self.m = m = len(self.F)
        self.w = np.asarray(weight, dtype=float)
        self.n = n = len(self.w)
        self.cap = np.asarray(capacity, dtype=float)
        self.must = np.zeros(m, bool) if must_open is None else np.asarray(must_open, bool).copy()
        forb = np.zeros(m, bool) if forbidden is None else np.asarray(forbidden, bool)
        self.openable = ~forb
        self.must &= self.openable
        pi = np.asarray(pair_i, dtype=np.int64)
        pj = np.asarray(pair_j, dtype=np.int64)
        c = np.asarray(pair_cost_usd, dtype=float)
        keep = np.flatnonzero(self.openable[pj])
        order = keep[np.lexsort((pj[keep], c[keep], pi[keep]))]
        self.src = order  # position in the caller's pair arrays
        self.n_input_pairs = len(pi)
        self.pi, self.pj, self.c = pi[order], pj[order], c[order]
        self.W = float(self.w.sum())
        self.lo = 0 if min_sites is None else int(min_sites)
        self.hi = m if max_sites is None else int(max_sites)
        self.lo = max(self.lo, int(self.must.sum()))
        ocap = np.sort(self.cap[self.openable])[::-1]
        csum = np.cumsum(ocap)
        tol = _REL_TOL * max(1.0, self.W)
        if self.W <= tol:
            self.K = 0
        elif len(csum) == 0 or csum[-1] + tol < self.W:
            self.K = m + 1
        else:
            self.K = int(np.searchsorted(csum, self.W - tol) + 1)
        self.K = max(self.K, self.lo)
        counts = np.bincount(self.pi, minlength=n)
        self.hopeless = (
            bool((counts == 0).any())
            or self.K > min(self.hi, int(self.openable.sum()))
            or self.lo > self.hi
        )
        self.first = np.searchsorted(self.pi, np.arange(n + 1))
        rank = np.arange(len(self.pi)) - self.first[self.pi]
        if top_pairs == "auto":
            # about three times the sites a demand sees when the fewest sites are open
            top_pairs = max(20, math.ceil(3 * m / max(1, min(self.K, m))))
        # Lagrangian pairs: each demand's `top_pairs` cheapest; u_i capped at the next cost
        self.u_floor = np.full(n, math.inf)
        has = counts > 0
        self.u_floor[has] = self.c[self.first[:-1][has]]
        self.u_cap = np.full(n, math.inf)
        if isinstance(top_pairs, int):
            beyond = counts > top_pairs
            self.u_cap[beyond] = self.c[self.first[:-1][beyond] + top_pairs]
            lag = np.flatnonzero(rank < top_pairs)
        else:
            lag = np.arange(len(self.pi))
        self.lag = lag
        self.lpi, self.lpj, self.lc = self.pi[lag], self.pj[lag], self.c[lag]
        self.lw = self.w[self.lpi]
        free = self.openable & ~self.must
        ucaps = np.unique(self.cap[self.openable])
        # with equal capacities the cardinality cut implies the aggregate capacity row
        self.cap_row_implied = len(ucaps) <= 1
        self.free = free
        self.n_lp = 0

    # ------------------------------------------------------------------ bound
    def lagrange(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(L(u), y, z on the Lagrangian pairs, g = F + v) at multipliers ``u``."""
        r = self.lc - u[self.lpi]
        neg = np.flatnonzero(r < 0)
        z = np.zeros(len(r))
        zn, v = _knapsack(self.lpj[neg], r[neg], self.lw[neg], self.cap, self.m)
        z[neg] = zn
        g = self.F + v
        phi, y = self.best_open(g)
        return float(u.sum() + phi), y, z, g

    def best_open(self, g: np.ndarray) -> tuple[float, np.ndarray]:
        """Lower bound on ``min Σ g_j y_j`` over the open sets (module docstring) and its ``y``."""
        must, free = self.must, self.free
        fidx = np.flatnonzero(free)
        lo2 = max(0, self.K - int(must.sum()))
        hi2 = self.hi - int(must.sum())
        cap_must = float(self.cap[must].sum())
        g_must = float(g[must].sum())

        def inner(alpha: float) -> tuple[float, np.ndarray, float]:
            h = g[fidx] - alpha * self.cap[fidx]
            order = np.argsort(h, kind="stable")
            hs = h[order]
            t = int(np.searchsorted(hs, 0.0))  # number of negative values
            t = min(max(t, lo2), hi2)
            y = must.copy()
            y[fidx[order[:t]]] = True
            val = alpha * self.W + g_must - alpha * cap_must + float(hs[:t].sum())
            slope = self.W - float(self.cap[y].sum())
            return val, y, slope

        best = inner(0.0)
        if self.cap_row_implied or best[2] <= 0:
            return best[0], best[1]
        hi_a = 1.0
        for _ in range(80):
            cur = inner(hi_a)
            if cur[0] > best[0]:
                best = cur
            if cur[2] <= 0:
                break
            hi_a *= 4.0
        lo_a = 0.0
        for _ in range(30):
            mid = 0.5 * (lo_a + hi_a)
            cur = inner(mid)
            if cur[0] > best[0]:
                best = cur
            if cur[2] > 0:
                lo_a = mid
            else:
                hi_a = mid
        return best[0], best[1]

    # ------------------------------------------------------------------ transport
    def transport(
        self, y: np.ndarray, r_cols: int = 4
    ) -> tuple[float, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """Exact transportation LP of open set ``y``: (cost incl. fixed, z, u, prices) or inf."""
        tol = _REL_TOL * max(1.0, self.W)
        if self.cap[y].sum() + tol < self.W:
            return math.inf, None, None, None
        sel = np.flatnonzero(y[self.pj])
        spi = self.pi[sel]
        head = np.r_[True, spi[1:] != spi[:-1]] if len(sel) else np.zeros(0, bool)
        if int(head.sum()) < self.n:
            return math.inf, None, None, None
        rank = np.arange(len(sel)) - np.maximum.accumulate(np.where(head, np.arange(len(sel)), 0))
        in_lp = rank < r_cols  # over sel
        open_idx = np.flatnonzero(y)
        row_of = np.full(self.m, -1)
        row_of[open_idx] = np.arange(len(open_idx))
        spj, sc, sw = self.pj[sel], self.c[sel], self.w[spi]
        for _ in range(20):
            cols = sel[in_lp]
            res = self._solve_lp(cols, open_idx, row_of)
            if res is None:
                if in_lp.all():
                    return math.inf, None, None, None
                in_lp[:] = True
                continue
            val, x, u, price = res
            out = np.flatnonzero(~in_lp)
            rc = sc[out] - u[spi[out]] + sw[out] * price[spj[out]]
            add = out[rc < -1e-9 * max(1.0, abs(val))]
            if len(add) == 0:
                z = np.zeros(len(self.pi))
                z[cols] = x
                total = float(self.F[y].sum() + self.c[cols] @ x)
                return total, z, u, price
            in_lp[add] = True
        return math.inf, None, None, None

    def _solve_lp(
        self, cols: np.ndarray, open_idx: np.ndarray, row_of: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        import highspy
        import scipy.sparse as sp

        self.n_lp += 1
        n, k, nc = self.n, len(open_idx), len(cols)
        ci, cj = self.pi[cols], row_of[self.pj[cols]]
        a = sp.csc_matrix(
            (
                np.concatenate([np.ones(nc), self.w[ci]]),
                (np.concatenate([ci, n + cj]), np.concatenate([np.arange(nc)] * 2)),
            ),
            shape=(n + k, nc),
        )
        a.sort_indices()
        lp = highspy.HighsLp()
        lp.num_col_ = nc
        lp.num_row_ = n + k
        lp.col_cost_ = self.c[cols]
        lp.col_lower_ = np.zeros(nc)
        lp.col_upper_ = np.ones(nc)
        lp.row_lower_ = np.concatenate([np.ones(n), np.full(k, -highspy.kHighsInf)])
        lp.row_upper_ = np.concatenate([np.ones(n), self.cap[open_idx]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h = new_highs(presolve="off")
        h.passModel(lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        x = np.clip(np.asarray(sol.col_value), 0.0, 1.0)
        dual = np.asarray(sol.row_dual)
        u = dual[:n]
        price = np.zeros(self.m)
        price[open_idx] = np.maximum(0.0, -dual[n:])  # duals of the <= capacity rows
        return float(h.getInfo().objective_function_value), x, u, price


def _knapsack(
    site: np.ndarray, value: np.ndarray, weight: np.ndarray, capacity: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Continuous knapsacks, one per site, of items with negative ``value``: (z, value per site).

    Items are taken by increasing ``value / weight`` until the site's capacity is full (the last
    one partly); items of zero weight are always taken.
    """
    if len(site) == 0:
        return np.zeros(0), np.zeros(m)
    z = np.ones(len(site))
    load = np.bincount(site, weights=weight, minlength=m)
    full = np.flatnonzero((load > capacity)[site])  # items of sites that cannot take them all
    if len(full):
        fs, fw, fv = site[full], weight[full], value[full]
        pos = fw > 0
        ratio = np.full(len(full), -np.inf)
        ratio[pos] = fv[pos] / fw[pos]
        order = np.lexsort((ratio, fs))
        s, wt = fs[order], fw[order]
        cw = np.cumsum(wt)
        head = np.r_[True, s[1:] != s[:-1]]
        start = np.maximum.accumulate(np.where(head, np.arange(len(s)), 0))
        before = cw - wt - (cw[start] - wt[start])
        room = capacity[s] - before
        zs = np.ones(len(s))
        ps = wt > 0
        zs[ps] = np.clip(room[ps] / wt[ps], 0.0, 1.0)
        z[full[order]] = zs
    return z, np.bincount(site, weights=value * z, minlength=m)


def cfl_heuristic(
    fixed_usd: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_cost_usd: np.ndarray,
    weight: np.ndarray,
    capacity: np.ndarray,
    *,
    must_open: np.ndarray | None = None,
    forbidden: np.ndarray | None = None,
    min_sites: int | None = None,
    max_sites: int | None = None,
    initial_open: np.ndarray | None = None,
    time_budget_s: float | None = None,
    lagrange_iter: int = 300,
    tries: int = 6,
    max_moves: int = 200,
    kicks: int = 4,
    top_pairs: int | None = None,
) -> CflHeuristicResult:
    """Good open set, its optimal shares and a valid lower bound, in well under a second.

    Parameters
    ----------
    fixed_usd : numpy.ndarray, shape (n_sites,)
        Annual fixed cost of each site.
    pair_i, pair_j : numpy.ndarray of int, shape (n_pairs,)
        Demand and site index of each allowed pair.
    pair_cost_usd : numpy.ndarray, shape (n_pairs,)
        Annual cost of serving all of demand ``pair_i`` from site ``pair_j``.
    weight : numpy.ndarray, shape (n_demand,)
        Demand weights (capacity units, ≥ 0).
    capacity : numpy.ndarray, shape (n_sites,)
        Site capacities (same units as ``weight``).
    must_open, forbidden : numpy.ndarray of bool, shape (n_sites,), optional
        Sites fixed open / closed.
    min_sites, max_sites : int, optional
        Bounds on the number of open sites (pass both for an exact count).
    initial_open : numpy.ndarray of int, optional
        A known open set, tried as a start of the local search next to the Lagrangian one.
    time_budget_s : float, optional
        Wall-clock seconds after which the search stops early (see "Determinism").
    lagrange_iter : int
        Subgradient iterations (half before the local search, half after).
    tries : int
        Moves solved exactly per local-search round, best-priced first.
    max_moves : int
        Improving moves at most per descent.
    kicks : int
        Restarts of the last descent from the incumbent's best (non-improving) neighbours.
    top_pairs : int, optional
        Cheapest pairs per demand that enter the Lagrangian knapsacks (exact, see the module
        docstring); default ``max(20, ⌈3 m / K⌉)`` with ``K`` the cardinality bound.

    Returns
    -------
    CflHeuristicResult
    """
    t0 = time.perf_counter()
    stop = math.inf if time_budget_s is None else t0 + float(time_budget_s)
    inst = _Instance(
        fixed_usd,
        pair_i,
        pair_j,
        pair_cost_usd,
        weight,
        capacity,
        must_open,
        forbidden,
        min_sites,
        max_sites,
        top_pairs="auto" if top_pairs is None else int(top_pairs),
    )
    empty = np.zeros(0, dtype=np.int64)
    if inst.hopeless:
        return CflHeuristicResult(
            math.inf, empty, np.zeros(inst.n_input_pairs), math.inf, 0, 0, time.perf_counter() - t0
        )
    search = _Search(inst, stop)

    def share_of(frac: float) -> float:
        return t0 + frac * float(time_budget_s) if time_budget_s is not None else math.inf

    # 1. subgradient: bound, multipliers, site ranking (at most a quarter of the budget)
    n1 = lagrange_iter // 2
    search.subgradient(n1, target=None, until=share_of(0.25))
    # 2. starts: the given set, the Lagrangian ranking; 3. local search (until 70 %)
    start_used = False
    if initial_open is not None and len(initial_open):
        y0 = np.zeros(inst.m, bool)
        y0[np.asarray(initial_open, dtype=np.int64)] = True
        y0 = search.repair(y0, trim=False)
        start_used = inst.lo <= y0.sum() <= inst.hi and search.consider(y0)
    for y in search.ranking_starts():
        # the limit stops the search only once it has an answer: a budget too short for the
        # first start (a loaded machine, a 0.3-s limit) still gets the first feasible start
        if search.out_of_time() and search.best_y is not None:
            break
        search.consider(y)
    search.local_search(tries, max_moves, until=share_of(0.7))
    # 4. more subgradient steps towards the incumbent (until 90 %), then a last local search
    # from the starts the better multipliers suggest
    search.subgradient(lagrange_iter - n1, target=search.best_val, until=share_of(0.9))
    if search.best_y is not None:
        for y in search.ranking_starts():
            if search.out_of_time():
                break
            search.consider(y)
        search.iterated(kicks, tries, max_moves)
    share = np.zeros(inst.n_input_pairs)
    if search.best_z is not None:
        share[inst.src] = search.best_z
        open_sites = np.flatnonzero(search.best_y).astype(np.int64)
    else:
        open_sites = empty
    return CflHeuristicResult(
        search.best_val,
        open_sites,
        share,
        search.best_bound,
        inst.n_lp,
        search.n_iter,
        time.perf_counter() - t0,
        search.timed_out,
        start_used,
        search.history,
    )


@dataclass(frozen=True)
class _State:
    """An evaluated open set: cost, ``y``, shares, transportation duals and capacity prices."""

    val: float
    y: np.ndarray
    z: np.ndarray
    u: np.ndarray
    price: np.ndarray


class _Search:
    """State of one heuristic run: multipliers, incumbent, evaluated sets."""

    def __init__(self, inst: _Instance, stop: float) -> None:
        self.inst = inst
        self.stop = stop
        self.timed_out = False
        self.u = inst.u_floor.copy()
        self.best_bound = -math.inf
        self.best_u = self.u.copy()
        self.best_g = inst.F.copy()
        self.theta = 2.0
        self.n_iter = 0
        self.best_val = math.inf
        self.best_y: np.ndarray | None = None
        self.best_z: np.ndarray | None = None
        self.best_u_lp: np.ndarray | None = None
        self.best_price: np.ndarray | None = None
        self.cache: dict[bytes, float] = {}
        self.history: list[tuple[float, float, float]] = []
        self.t0 = time.perf_counter()

    def out_of_time(self, until: float = math.inf) -> bool:
        """True once the budget (or the phase's own deadline ``until``) has passed."""
        if time.perf_counter() > min(self.stop, until):
            self.timed_out = True
            return True
        return False

    def _log(self) -> None:
        self.history.append((time.perf_counter() - self.t0, self.best_val, self.best_bound))

    # ------------------------------------------------------------------ bound
    def subgradient(self, iters: int, target: float | None, until: float = math.inf) -> None:
        inst = self.inst
        stall = 0
        for _ in range(iters):
            # the first step always runs (milliseconds): a solve stopped at once still has a bound
            if self.out_of_time(until) and math.isfinite(self.best_bound):
                break
            u = np.minimum(self.u, inst.u_cap)
            lval, y, z, g = inst.lagrange(u)
            self.n_iter += 1
            if lval > self.best_bound + 1e-12 * abs(lval):
                self.best_bound, self.best_u, self.best_g = lval, u.copy(), g
                self._log()
                stall = 0
            else:
                stall += 1
                if stall >= 15:
                    self.theta *= 0.5
                    stall = 0
            yz = z * y[inst.lpj]
            s = 1.0 - np.bincount(inst.lpi, weights=yz, minlength=inst.n)
            norm2 = float(s @ s)
            if norm2 <= 1e-18:
                break
            goal = target if target is not None and math.isfinite(target) else None
            if goal is None:
                goal = self.best_val if math.isfinite(self.best_val) else lval + 0.02 * abs(lval)
            step = self.theta * max(goal - lval, 1e-6 * abs(lval)) / norm2
            self.u = np.minimum(u + step * s, inst.u_cap)
            if self.theta < 1e-4:
                break

    # ------------------------------------------------------------------ primal
    def repair(self, y: np.ndarray, trim: bool = True) -> np.ndarray:
        """Fixings applied, sites opened by Lagrangian value until the capacity holds W, then
        (``trim``) the worst closed while the count exceeds its maximum."""
        inst = self.inst
        y = (y & inst.openable) | inst.must
        order = np.argsort(self.best_g / np.maximum(inst.cap, 1e-300), kind="stable")
        order = order[inst.openable[order]]
        tol = _REL_TOL * max(1.0, inst.W)
        for j in order:
            if inst.cap[y].sum() + tol >= inst.W and y.sum() >= inst.lo:
                break
            y[j] = True
        while trim and y.sum() > inst.hi:
            cand = np.flatnonzero(y & ~inst.must)
            if len(cand) == 0:
                break
            y[cand[np.argmax(self.best_g[cand])]] = False
        return y

    def ranking_starts(self) -> list[np.ndarray]:
        """Open sets from the Lagrangian ranking: the fewest that hold W, and one or two more."""
        inst = self.inst
        _, y, _, g = inst.lagrange(np.minimum(self.best_u, inst.u_cap))
        starts = [self.repair(y)]
        order = np.argsort(g, kind="stable")
        order = order[inst.openable[order] & ~inst.must[order]]
        base = self.repair(inst.must.copy() | np.isin(np.arange(inst.m), order[: inst.K]))
        starts.append(base)
        y2 = base.copy()
        for j in order:
            if y2.sum() >= min(inst.hi, base.sum() + 2):
                break
            if not y2[j]:
                y2[j] = True
                starts.append(y2.copy())
        return starts

    def consider(self, y: np.ndarray) -> bool:
        """Evaluate ``y`` exactly; True when it beats the incumbent (which it then becomes)."""
        before = self.best_val
        self.evaluate(y)
        return self.best_val < before

    def evaluate(self, y: np.ndarray) -> _State | None:
        """Exact cost of ``y`` (None when infeasible, seen before or breaking the count)."""
        inst = self.inst
        if not (inst.lo <= y.sum() <= inst.hi):
            return None
        key = np.packbits(y).tobytes()
        if key in self.cache:
            return None
        val, z, u, price = inst.transport(y)
        self.cache[key] = val
        if z is None or u is None or price is None:
            return None
        state = _State(val, y.copy(), z, u, price)
        if val < self.best_val - _REL_TOL * max(1.0, abs(val)):
            self.best_val, self.best_y, self.best_z = val, state.y, z
            self.best_u_lp, self.best_price = u, price
            self._log()
        return state

    def best_state(self) -> _State | None:
        if self.best_y is None or self.best_z is None:
            return None
        assert self.best_u_lp is not None and self.best_price is not None
        return _State(self.best_val, self.best_y, self.best_z, self.best_u_lp, self.best_price)

    def local_search(
        self, tries: int, max_moves: int, until: float = math.inf, start: _State | None = None
    ) -> list[_State]:
        """First-improvement descent from ``start`` (default: the incumbent).

        Returns the neighbours solved in the last round, all no better than the local optimum
        reached, cheapest first (the kicks of :meth:`iterated`).
        """
        inst = self.inst
        cur = start if start is not None else self.best_state()
        tol = _REL_TOL * max(1.0, inst.W)
        for _ in range(max_moves):
            if cur is None or self.out_of_time(until):
                return []
            seen: list[_State] = []
            improved = False
            for _est, a, b in self._priced_moves(cur):
                if len(seen) >= tries or self.out_of_time(until):
                    break
                y = cur.y.copy()
                if a >= 0:
                    y[a] = False
                if b >= 0:
                    y[b] = True
                if inst.cap[y].sum() + tol < inst.W:
                    continue
                st = self.evaluate(y)
                if st is None:
                    continue
                if st.val < cur.val - _REL_TOL * max(1.0, abs(cur.val)):
                    cur, improved = st, True
                    break
                seen.append(st)
            if not improved:
                return sorted(seen, key=lambda t: t.val)
        return []

    def iterated(self, kicks: int, tries: int, max_moves: int) -> None:
        """Iterated local search: restart the descent from the incumbent's best neighbours."""
        pool = self.local_search(tries, max_moves)
        for _ in range(kicks):
            if not pool or self.out_of_time():
                return
            before = self.best_val
            found = self.local_search(tries, max_moves, start=pool.pop(0))
            if self.best_val < before:
                pool = self.local_search(tries, max_moves)  # neighbours of the new incumbent
            elif not pool:
                pool = found

    def _priced_moves(self, cur: _State) -> list[tuple[float, int, int]]:
        """(estimated change, site closed or -1, site opened or -1), best first."""
        inst = self.inst
        y, z, u, price = cur.y, cur.z, cur.u, cur.price
        # price-adjusted cost of each open pair; best and second best per demand
        sel = np.flatnonzero(y[inst.pj])
        val = inst.c[sel] + inst.w[inst.pi[sel]] * price[inst.pj[sel]]
        order = np.lexsort((val, inst.pi[sel]))
        si, sv, sj = inst.pi[sel][order], val[order], inst.pj[sel][order]
        head = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
        best_v = np.full(inst.n, math.inf)
        best_j = np.full(inst.n, -1)
        second_v = np.full(inst.n, math.inf)
        best_v[si[head]], best_j[si[head]] = sv[head], sj[head]
        nxt = head + 1
        ok = nxt < len(si)
        ok[ok] &= si[nxt[ok]] == si[head[ok]]
        second_v[si[head[ok]]] = sv[nxt[ok]]
        # candidate sites to open: closed, openable, on some demand's cheap-pair list
        closed = inst.openable & ~y
        lag_closed = np.flatnonzero(closed[inst.lpj])
        cpi, cpj, cc = inst.lpi[lag_closed], inst.lpj[lag_closed], inst.lc[lag_closed]
        cw = inst.w[cpi]

        def add_values(mult: np.ndarray) -> np.ndarray:
            r = cc - mult[cpi]
            neg = np.flatnonzero(r < 0)
            _, v = _knapsack(cpj[neg], r[neg], cw[neg], inst.cap, inst.m)
            return inst.F + v

        # what each demand pays now (no capacity price): opening b saves against this
        actual = np.bincount(inst.pi[sel], weights=z[sel] * inst.c[sel], minlength=inst.n)
        moves: list[tuple[float, int, int]] = []
        if y.sum() < inst.hi:
            # opening b: between the saving at today's costs and the one at capacity prices
            add_v = 0.5 * (add_values(u) + add_values(actual))
            moves += [(float(add_v[b]), -1, int(b)) for b in np.flatnonzero(closed)]
        for a in np.flatnonzero(y & ~inst.must):
            at = sel[inst.pj[sel] == a]
            za = z[at]
            ia = inst.pi[at]
            alt = np.where(best_j[ia] == a, second_v[ia], best_v[ia])
            moved = za > 1e-12
            if not np.isfinite(alt[moved]).all():
                continue  # a demand that only a can serve
            # closing a: its shares move to the next cheapest open site at capacity prices
            drop = -inst.F[a] + float((za[moved] * (alt[moved] - inst.c[at][moved])).sum())
            if y.sum() > inst.lo:
                moves.append((drop, int(a), -1))
            mult = actual.copy()
            mult[ia[moved]] = alt[moved]
            swap_v = add_values(mult)
            moves += [(drop + float(swap_v[b]), int(a), int(b)) for b in np.flatnonzero(closed)]
        moves.sort(key=lambda t: (t[0], t[1], t[2]))
        return moves

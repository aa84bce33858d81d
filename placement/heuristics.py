"""Fast deterministic heuristics for p-median and p-center on a dense cost matrix.

Both work on a dense ``(n_demand, n_sites)`` cost matrix in which ``np.inf`` marks a pair that is
not allowed (a hard latency limit), with optional masks of sites that must be open or are
forbidden. They are used as warm starts and upper bounds by the exact solvers in
:mod:`placement.formulations.radius` and :mod:`placement.formulations.center`.

* p-median: greedy addition (Kuehn & Hamburger 1963) followed by best-improvement vertex
  substitution (Teitz & Bart 1968) evaluated for all swap pairs at once with the
  gain/loss/extra decomposition of Whitaker (1983) and Resende & Werneck (2007, "A fast swap-based
  local search procedure for location problems", Annals of OR 150:205–230).
* p-center: greedy addition minimising the largest distance, then swaps improving the pair
  (largest distance, total distance) lexicographically (a Mladenović-style vertex substitution,
  Mladenović, Labbé & Hansen 2003, "Solving the p-center problem with tabu search and variable
  neighborhood search", Networks 42:48–64, without the random part).

No randomness is used: ties go to the lowest index, so results are reproducible.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from placement.errors import InfeasibleError, ValidationError

__all__ = [
    "HeuristicSolution",
    "Inputs",
    "assign_nearest",
    "pcenter_heuristic",
    "pmedian_heuristic",
    "prepare_inputs",
    "site_indices",
]


@dataclass(frozen=True)
class Inputs:
    """Validated inputs shared by the heuristics and exact solvers.

    Attributes
    ----------
    cost : numpy.ndarray, shape (n_demand, n_sites)
        Float costs, ``inf`` for a disallowed pair (forbidden sites' columns are all ``inf``).
    weights : numpy.ndarray, shape (n_demand,)
        Non-negative demand weights.
    p : int
        Number of sites to open.
    must_open : numpy.ndarray of bool, shape (n_sites,)
    forbidden : numpy.ndarray of bool, shape (n_sites,)
    """

    cost: np.ndarray
    weights: np.ndarray
    p: int
    must_open: np.ndarray
    forbidden: np.ndarray

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return int(self.cost.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.cost.shape[1])


@dataclass(frozen=True)
class HeuristicSolution:
    """A heuristic solution.

    Attributes
    ----------
    open_sites : numpy.ndarray of int
        Sorted indices of the open sites.
    assignment : numpy.ndarray of int, shape (n_demand,)
        Nearest open site of each demand (``-1`` if it has no allowed open site).
    objective : float
        Weighted total cost (p-median) or largest assigned cost (p-center); ``inf`` if some demand
        has no allowed open site.
    """

    open_sites: np.ndarray
    assignment: np.ndarray
    objective: float


def _index_array(value: npt.ArrayLike, n_sites: int, name: str) -> np.ndarray:
    """Site indices from a boolean mask of shape ``(n_sites,)`` or from indices (range-checked)."""
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (n_sites,):
            raise ValidationError(
                f"boolean mask must have shape ({n_sites},), got {arr.shape}",
                table="parameter",
                field=name,
            )
        return np.flatnonzero(arr).astype(np.int64)
    idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n_sites):
        raise ValidationError(
            f"site index outside 0..{n_sites - 1}", table="parameter", field=name, value=value
        )
    return idx


def _mask(
    value: npt.ArrayLike | None, n_sites: int, name: str
) -> np.ndarray:  # bool mask from a mask or from indices
    out = np.zeros(n_sites, dtype=bool)
    if value is not None:
        out[_index_array(value, n_sites, name)] = True
    return out


def site_indices(value: npt.ArrayLike | None, n_sites: int, name: str) -> np.ndarray | None:
    """Validated site indices of a warm start (a boolean mask is accepted too); None if absent.

    Duplicates are dropped, the order of first appearance is kept.
    """
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype != bool and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValidationError("must be integer site indices", table="parameter", field=name)
    idx = _index_array(arr, n_sites, name)
    _, first = np.unique(idx, return_index=True)
    return idx[np.sort(first)]


def prepare_inputs(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    p: int,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
) -> Inputs:
    """Validate and normalise solver inputs.

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites)
        Costs, ``np.inf`` for a disallowed pair; finite entries must be non-negative.
    weights : array_like, shape (n_demand,), optional
        Non-negative weights; all ones when omitted.
    p : int
        Number of sites to open (exactly).
    must_open, forbidden : array_like, optional
        Boolean masks of shape ``(n_sites,)`` or arrays of site indices.

    Returns
    -------
    Inputs

    Raises
    ------
    ValidationError
        Malformed arrays (shape, NaN, negative values, a site both required and forbidden).
    InfeasibleError
        When no choice of ``p`` sites can serve every demand for a simple reason (too many
        required sites, too few allowed sites, a demand with no allowed site).
    """
    c = np.array(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValidationError(
            f"cost must be a non-empty 2-D array, got shape {c.shape}",
            table="parameter",
            field="cost",
        )
    if np.isnan(c).any():
        raise ValidationError("cost contains NaN", table="parameter", field="cost")
    if (c < 0).any():
        raise ValidationError("cost contains negative values", table="parameter", field="cost")
    if np.isneginf(c).any():
        raise ValidationError("cost contains -inf", table="parameter", field="cost")
    n_d, n_s = c.shape
    if weights is None:
        w = np.ones(n_d)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != (n_d,):
            raise ValidationError(
                f"weights must have shape ({n_d},), got {w.shape}",
                table="parameter",
                field="weights",
            )
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise ValidationError(
                "weights must be finite and non-negative", table="parameter", field="weights"
            )
    if isinstance(p, bool) or int(p) != p or p < 1:
        raise ValidationError("p must be a positive integer", table="parameter", field="p", value=p)
    p = int(p)
    mo = _mask(must_open, n_s, "must_open")
    fb = _mask(forbidden, n_s, "forbidden")
    if (mo & fb).any():
        raise ValidationError(
            "a site is both required and forbidden",
            table="parameter",
            field="must_open",
            value=np.flatnonzero(mo & fb).tolist(),
        )
    if mo.sum() > p:
        raise InfeasibleError(f"{int(mo.sum())} sites must be open but p = {p}")
    if (~fb).sum() < p:
        raise InfeasibleError(f"only {int((~fb).sum())} sites are allowed but p = {p}")
    c[:, fb] = np.inf
    lonely = ~np.isfinite(c).any(axis=1)
    if lonely.any():
        raise InfeasibleError(
            f"{int(lonely.sum())} demand point(s) have no allowed site "
            f"(first: index {int(np.flatnonzero(lonely)[0])})"
        )
    return Inputs(cost=c, weights=w, p=p, must_open=mo, forbidden=fb)


def assign_nearest(cost: np.ndarray, open_sites: npt.ArrayLike) -> np.ndarray:
    """Nearest open site of every demand (lowest index on ties; ``-1`` where none is allowed).

    Parameters
    ----------
    cost : numpy.ndarray, shape (n_demand, n_sites)
    open_sites : array_like of int

    Returns
    -------
    numpy.ndarray of int, shape (n_demand,)
    """
    s = np.sort(np.asarray(open_sites, dtype=np.int64))
    sub = cost[:, s]
    k = np.argmin(sub, axis=1)
    out = s[k]
    out[~np.isfinite(sub[np.arange(sub.shape[0]), k])] = -1
    return out


def _penalised(inp: Inputs) -> tuple[np.ndarray, float]:
    """Weighted costs with ``inf`` replaced by a penalty larger than any feasible objective."""
    fin = np.isfinite(inp.cost)
    wc = np.where(fin, inp.cost, 0.0) * inp.weights[:, None]
    big = 1.0 + 2.0 * float(np.max(wc, axis=1).sum()) + float(inp.n_demand)
    return np.where(fin, wc, big), big


def _d1_d2(w: np.ndarray, open_idx: np.ndarray, huge: float) -> tuple[np.ndarray, ...]:
    sub = w[:, open_idx]
    if open_idx.size == 1:
        return sub[:, 0].copy(), np.full(w.shape[0], huge), np.full(w.shape[0], open_idx[0])
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    rows = np.arange(w.shape[0])
    a = sub[rows, two[:, 0]]
    b = sub[rows, two[:, 1]]
    swap = (b < a) | ((b == a) & (two[:, 1] < two[:, 0]))
    first = np.where(swap, two[:, 1], two[:, 0])
    d1 = np.minimum(a, b)
    d2 = np.maximum(a, b)
    return d1, d2, open_idx[first]


def _pmedian_objective(inp: Inputs, open_sites: np.ndarray) -> tuple[np.ndarray, float]:
    assignment = assign_nearest(inp.cost, open_sites)
    if (assignment < 0).any():
        return assignment, float("inf")
    d = inp.cost[np.arange(inp.n_demand), assignment]
    return assignment, float(np.dot(inp.weights, d))


def pmedian_heuristic(
    cost: npt.ArrayLike | Inputs,
    weights: npt.ArrayLike | None = None,
    p: int | None = None,
    *,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    max_swaps: int | None = None,
    initial: npt.ArrayLike | None = None,
    deadline: float | None = None,
) -> HeuristicSolution:
    """Greedy addition then best-improvement swaps for the (weighted) p-median problem.

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites), or Inputs
        Costs with ``np.inf`` for disallowed pairs (or already validated :class:`Inputs`).
    weights : array_like, shape (n_demand,), optional
        Demand weights (ones by default).
    p : int
        Number of sites to open; required unless ``cost`` is :class:`Inputs`.
    must_open, forbidden : array_like, optional
        Boolean masks or index arrays of sites.
    max_swaps : int, optional
        Cap on the number of improving swaps (default ``20 * p + 100``).
    initial : array_like of int, optional
        Sites to start the swap search from instead of the greedy solution (completed greedily
        to ``p`` sites, must-open sites added, forbidden ones dropped).
    deadline : float, optional
        ``time.perf_counter()`` value after which no further swap is searched (a safety stop
        for time-limited solves: the result is then the greedy set improved by the swaps made
        so far, not necessarily a local optimum).

    Returns
    -------
    HeuristicSolution
        A local optimum for the swap neighbourhood; ``objective`` is ``inf`` if the heuristic found
        no set of sites serving every demand.
    """
    if isinstance(cost, Inputs):
        inp = cost
    else:
        if p is None:
            raise ValidationError("p is required", table="parameter", field="p")
        inp = prepare_inputs(cost, weights, p, must_open, forbidden)
    w, big = _penalised(inp)
    n_d = w.shape[0]
    huge = big * (n_d + 1.0)
    is_open = inp.must_open.copy()
    if initial is not None:
        start = np.asarray(initial, dtype=np.int64)
        start = start[~inp.forbidden[start]]
        for j in start:
            if is_open.sum() >= inp.p:
                break
            is_open[j] = True
    d1 = w[:, is_open].min(axis=1) if is_open.any() else np.full(n_d, huge)
    # Greedy addition: each step opens the site with the largest saving. Savings only shrink as
    # sites open (submodularity), so stale savings are upper bounds and a lazy priority queue
    # (Minoux 1978, "accelerated greedy") gives the same choices with few re-evaluations.
    if is_open.sum() < inp.p:
        saving = np.maximum(d1[:, None] - w, 0.0).sum(axis=0)
        heap = [(-float(saving[j]), int(j)) for j in np.flatnonzero(~(is_open | inp.forbidden))]
        heapq.heapify(heap)
        fresh_round = np.full(w.shape[1], -1)
        step = 0
        while is_open.sum() < inp.p and heap:
            _neg, j = heapq.heappop(heap)
            if fresh_round[j] == step:
                is_open[j] = True
                d1 = np.minimum(d1, w[:, j])
                step += 1
                continue
            s = float(np.maximum(d1 - w[:, j], 0.0).sum())
            fresh_round[j] = step
            heapq.heappush(heap, (-s, j))
    # Vertex substitution with the gain/loss/extra decomposition.
    limit = 20 * inp.p + 100 if max_swaps is None else int(max_swaps)
    can_in = ~(is_open | inp.forbidden)
    movable = ~inp.must_open
    col_of = np.full(w.shape[1], -1, dtype=np.int64)  # site -> candidate column (scratch)
    for _ in range(limit):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        open_idx = np.flatnonzero(is_open)
        out_idx = open_idx[movable[open_idx]]
        cand = np.flatnonzero(can_in)
        if out_idx.size == 0 or cand.size == 0:
            break
        d1, d2, n1 = _d1_d2(w, open_idx, huge)
        # only pairs closer than the demand's second-nearest open site change anything (gain
        # needs w < d1 ≤ d2, extra w < d2): with many open sites few are, so the terms are
        # summed over those entries instead of dense n × candidates arrays
        col_of[cand] = np.arange(cand.size)
        ii, jj = np.nonzero(w < d2[:, None])
        cc = col_of[jj]
        keep = cc >= 0  # candidates only (not open, not forbidden)
        ii, jj, cc = ii[keep], jj[keep], cc[keep]
        col_of[cand] = -1
        v = w[ii, jj]
        gain = np.bincount(cc, weights=np.maximum(d1[ii] - v, 0.0), minlength=cand.size)
        pos = np.searchsorted(out_idx, n1)  # group of each demand among the removable sites
        pos_ok = (pos < out_idx.size) & (out_idx[np.minimum(pos, out_idx.size - 1)] == n1)
        loss = np.bincount(pos[pos_ok], weights=(d2 - d1)[pos_ok], minlength=out_idx.size)
        ok = pos_ok[ii]
        extra = np.bincount(
            pos[ii[ok]] * cand.size + cc[ok],
            weights=np.maximum(v[ok], d1[ii[ok]]) - d2[ii[ok]],
            minlength=out_idx.size * cand.size,
        ).reshape(out_idx.size, cand.size)
        delta = loss[:, None] - gain[None, :] + extra  # change of the objective
        k = int(np.argmin(delta))
        ko, ji = divmod(k, cand.size)
        tol = 1e-9 * max(1.0, float(d1.sum()))
        if delta[ko, ji] >= -tol:
            break
        out_site, in_site = int(out_idx[ko]), int(cand[ji])
        is_open[out_site] = False
        is_open[in_site] = True
        can_in[in_site] = False
        can_in[out_site] = True
    open_sites = np.flatnonzero(is_open)
    assignment, obj = _pmedian_objective(inp, open_sites)
    return HeuristicSolution(open_sites=open_sites, assignment=assignment, objective=obj)


def _center_eval(
    c: np.ndarray, d1: np.ndarray, d2: np.ndarray, grp: np.ndarray, n_out: int, col: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(max, sum) of the assigned cost after adding ``col`` and removing each removable site."""
    a = np.minimum(col, d1)
    b = np.minimum(col, d2)
    sum_a = a.sum()
    in_grp = grp >= 0
    g = grp[in_grp]
    s_a = np.bincount(g, weights=a[in_grp], minlength=n_out)
    s_b = np.bincount(g, weights=b[in_grp], minlength=n_out)
    sums = sum_a - s_a + s_b
    # max over demands not in group k of a, and over demands in group k of b
    max_b = np.full(n_out, -np.inf)
    np.maximum.at(max_b, g, b[in_grp])
    max_a_grp = np.full(n_out, -np.inf)
    np.maximum.at(max_a_grp, g, a[in_grp])
    outside = a[~in_grp].max(initial=-np.inf)
    if n_out > 1:
        top2 = np.partition(max_a_grp, n_out - 2)[-2:]
        best, second = top2[1], top2[0]
        excl = np.where(max_a_grp == best, second, best)
        # if several groups share the best value, excluding one still leaves the best
        if np.count_nonzero(max_a_grp == best) > 1:
            excl = np.full(n_out, best)
    else:
        excl = np.full(n_out, -np.inf)
    maxes = np.maximum(np.maximum(excl, outside), max_b)
    return maxes, sums


def pcenter_heuristic(
    cost: npt.ArrayLike | Inputs,
    p: int | None = None,
    *,
    weights: npt.ArrayLike | None = None,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    max_swaps: int | None = None,
) -> HeuristicSolution:
    """Greedy addition then swaps for the p-center problem (minimise the largest assigned cost).

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites), or Inputs
        Costs with ``np.inf`` for disallowed pairs.
    p : int
        Number of sites to open; required unless ``cost`` is :class:`Inputs`.
    weights : array_like, optional
        Demands of zero weight are ignored by the objective (they are still assigned).
    must_open, forbidden : array_like, optional
        Boolean masks or index arrays of sites.
    max_swaps : int, optional
        Cap on improving swaps (default ``10 * p + 50``).

    Returns
    -------
    HeuristicSolution
        ``objective`` is the largest cost from a (positive-weight) demand to its nearest open site.
    """
    if isinstance(cost, Inputs):
        inp = cost
    else:
        if p is None:
            raise ValidationError("p is required", table="parameter", field="p")
        inp = prepare_inputs(cost, weights, p, must_open, forbidden)
    active = inp.weights > 0
    if not active.any():
        active = np.ones(inp.n_demand, dtype=bool)
    c0 = inp.cost[active]
    fin = np.isfinite(c0)
    big = 2.0 * float(np.where(fin, c0, 0.0).max()) + 1.0
    c = np.where(fin, c0, big)
    n_d, _ = c.shape
    huge = 2.0 * big + 1.0
    is_open = inp.must_open.copy()
    d1 = c[:, is_open].min(axis=1) if is_open.any() else np.full(n_d, huge)
    while is_open.sum() < inp.p:
        m = np.minimum(d1[:, None], c)
        score_max = m.max(axis=0)
        score_sum = m.sum(axis=0)
        score_max[is_open | inp.forbidden] = np.inf
        best = score_max.min()
        tie = np.flatnonzero(score_max == best)
        j = int(tie[np.argmin(score_sum[tie])])
        is_open[j] = True
        d1 = np.minimum(d1, c[:, j])
    limit = 10 * inp.p + 50 if max_swaps is None else int(max_swaps)
    movable = ~inp.must_open
    for _ in range(limit):
        open_idx = np.flatnonzero(is_open)
        out_idx = open_idx[movable[open_idx]]
        if out_idx.size == 0:
            break
        d1, d2, n1 = _d1_d2(c, open_idx, huge)
        cur = (float(d1.max()), float(d1.sum()))
        pos = np.searchsorted(out_idx, n1)
        ok = (pos < out_idx.size) & (out_idx[np.minimum(pos, out_idx.size - 1)] == n1)
        grp = np.where(ok, pos, -1)
        # only sites closer than the current radius to a critical demand can lower the maximum;
        # others may still lower the sum, so all are tried but the critical ones first.
        cand = np.flatnonzero(~(is_open | inp.forbidden))
        best = cur
        best_move: tuple[int, int] | None = None
        for j in cand:
            maxes, sums = _center_eval(c, d1, d2, grp, out_idx.size, c[:, j])
            k = int(np.lexsort((sums, maxes))[0])
            val = (float(maxes[k]), float(sums[k]))
            if val[0] < best[0] or (val[0] == best[0] and val[1] < best[1] - 1e-9):
                best = val
                best_move = (int(out_idx[k]), int(j))
        if best_move is None:
            break
        is_open[best_move[0]] = False
        is_open[best_move[1]] = True
    open_sites = np.flatnonzero(is_open)
    assignment = assign_nearest(inp.cost, open_sites)
    if (assignment < 0).any():
        obj = float("inf")
    else:
        obj = float(inp.cost[np.arange(inp.n_demand), assignment][active].max())
    return HeuristicSolution(open_sites=open_sites, assignment=assignment, objective=obj)

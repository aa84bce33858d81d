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

import math
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
        Float costs, ``inf`` for a disallowed pair (forbidden sites' columns are all ``inf``);
        the caller's array itself when that needed no change (never written: it may be a
        read-only view of a :class:`~placement.matrix.CostMatrix`).
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
    c = np.asarray(cost, dtype=float)  # copied below only when forbidden columns change it
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
    if fb.any():
        c = c.copy()
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
    """Weighted costs with ``inf`` replaced by a penalty larger than any feasible objective.

    Equal positive weights (unit weights, or ``1 / n`` as the planner passes them) do not change
    which sites are best, so the costs are then used unscaled (integer costs stay exact). The
    cost matrix itself is returned (not copied) when every pair is allowed too; callers must not
    write into the result, and must compute the true objective from ``inp``.
    """
    fin = np.isfinite(inp.cost)
    equal = bool(inp.weights.size and inp.weights[0] > 0 and np.all(inp.weights == inp.weights[0]))
    if fin.all():
        wc = inp.cost if equal else inp.cost * inp.weights[:, None]
        big = 1.0 + 2.0 * float(np.max(wc, axis=1).sum()) + float(inp.n_demand)
        return wc, big
    wc = np.where(fin, inp.cost, 0.0)
    if not equal:
        wc *= inp.weights[:, None]
    big = 1.0 + 2.0 * float(np.max(wc, axis=1).sum()) + float(inp.n_demand)
    wc[~fin] = big
    return wc, big


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


_EMPTY = np.zeros(0, dtype=np.int64)


class _SwapSearch:
    """Swap (vertex substitution) local search with incremental gain/loss/extra bookkeeping.

    The open sites sit at fixed *positions* ``0..p-1``; a swap puts the entering site at the
    position of the leaving one. For every demand ``u`` the search keeps its nearest and
    second-nearest open positions ``k1, k2`` and their costs ``d1 <= d2``, and, summed over the
    demands (Whitaker 1983; Resende & Werneck 2007):

    * ``gain[i]``: decrease of the objective if site ``i`` opened (``sum max(d1 - w[:, i], 0)``);
    * ``loss[k]``: increase if the site at position ``k`` closed (``sum over k1 = k of d2 - d1``);
    * ``extra[k, i]``: what opening ``i`` gives back of that loss (``sum over k1 = k, w < d2 of
      d2 - max(w, d1)``),

    so that swapping ``k`` for ``i`` changes the objective by ``loss[k] - gain[i] - extra[k, i]``.
    A swap only moves the terms of the demands whose two nearest open sites may change (those of
    the leaving site and those closer to the entering one than to their second nearest), so an
    update costs ``O(|affected| * n_sites)`` instead of a rebuild, and after it only the moves in
    the changed rows and columns need to be priced again.

    Each descent step takes the improving moves, best first, and applies together all those
    whose affected demands are disjoint (their changes then simply add up): with many open
    sites most improving swaps are far apart, so one pricing serves dozens of swaps.
    """

    def __init__(
        self,
        w: np.ndarray,
        wt: np.ndarray,
        open_sites: np.ndarray,
        movable: np.ndarray,
        allowed: np.ndarray,
        huge: float,
        gain: np.ndarray | None = None,
    ) -> None:
        self.w = w
        self.wt = wt  # w transposed, C-contiguous (fast column access)
        self.n, self.m = w.shape
        self.huge = huge
        self.sites = np.asarray(open_sites, dtype=np.int64).copy()  # position -> site
        self.p = int(self.sites.size)
        self.pos = np.full(self.m, -1, dtype=np.int64)  # site -> position, -1 when closed
        self.pos[self.sites] = np.arange(self.p)
        self.movable = movable  # by site
        self.allowed = allowed.copy()  # by site: may enter (not forbidden, not tabu)
        self.swaps = 0
        self._rebuild(gain)

    # ------------------------------------------------------------ bookkeeping
    def _top2(self, wa: np.ndarray) -> tuple[np.ndarray, ...]:
        """(d1, d2, k1, k2) of the rows ``wa`` of ``w`` over the open positions."""
        sub = wa[:, self.sites]
        rows = wa.shape[0]
        if self.p == 1:
            zero = np.zeros(rows, dtype=np.int64)
            return sub[:, 0].copy(), np.full(rows, self.huge), zero, zero - 1
        two = np.argpartition(sub, 1, axis=1)[:, :2]
        r = np.arange(rows)
        a = sub[r, two[:, 0]]
        b = sub[r, two[:, 1]]
        sw = (b < a) | ((b == a) & (two[:, 1] < two[:, 0]))
        k1 = np.where(sw, two[:, 1], two[:, 0])
        k2 = np.where(sw, two[:, 0], two[:, 1])
        return np.minimum(a, b), np.maximum(a, b), k1, k2

    def _rebuild(self, gain: np.ndarray | None = None) -> None:
        """All terms from scratch (``gain``: the greedy's final savings, which equal it)."""
        w = self.w
        self.d1, self.d2, self.k1, self.k2 = self._top2(w)
        if gain is None:
            self.gain = np.maximum(self.d1[:, None] - w, 0.0).sum(axis=0)
        else:
            self.gain = gain.copy()
        self.loss = np.bincount(self.k1, weights=self.d2 - self.d1, minlength=self.p)
        ii, jj = np.nonzero(w < self.d2[:, None])
        v = self.d2[ii] - np.maximum(w[ii, jj], self.d1[ii])
        self.extra = np.bincount(
            self.k1[ii] * self.m + jj, weights=v, minlength=self.p * self.m
        ).reshape(self.p, self.m)

    def _extra_terms(
        self, d1: np.ndarray, d2: np.ndarray, k1: np.ndarray, wa: np.ndarray, sign: float
    ) -> None:
        """Add (``sign=1``) or remove (``-1``) the loss and extra terms of demands (rows ``wa``)."""
        self.loss += sign * np.bincount(k1, weights=d2 - d1, minlength=self.p)
        # d2 - max(w, d1) where w < d2, else 0; summed per nearest position
        e = d2[:, None] - np.clip(wa, d1[:, None], d2[:, None])
        order = np.argsort(k1, kind="stable")
        ks = k1[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        if starts.size <= 16:  # few groups: a masked sum each is cheapest
            for k in ks[starts]:
                self.extra[k] += sign * e[k1 == k].sum(axis=0)
        else:
            self.extra[ks[starts]] += sign * np.add.reduceat(e[order], starts, axis=0)

    def affected(self, out_pos: np.ndarray, in_sites: np.ndarray) -> np.ndarray:
        """Mask of the demands whose two nearest open sites may change in the given swaps."""
        leaving = np.zeros(self.p + 1, dtype=bool)  # index -1 (no second site) stays False
        leaving[out_pos] = True
        mask = leaving[self.k1] | leaving[self.k2]
        for j in in_sites:
            mask |= self.wt[j] < self.d2
        return mask

    def apply(
        self, out_pos: npt.ArrayLike, in_sites: npt.ArrayLike
    ) -> tuple[np.ndarray, np.ndarray]:
        """Put site ``in_sites[t]`` at position ``out_pos[t]``.

        Returns masks of the rows (positions) and columns (sites) of the moves whose price
        changed.
        """
        out_pos = np.asarray(out_pos, dtype=np.int64)
        in_sites = np.asarray(in_sites, dtype=np.int64)
        rows = np.flatnonzero(self.affected(out_pos, in_sites))
        wa = self.w[rows]
        o1, o2, ok1 = self.d1[rows], self.d2[rows], self.k1[rows]
        out_sites = self.sites[out_pos]
        self.pos[out_sites] = -1
        self.sites[out_pos] = in_sites
        self.pos[in_sites] = out_pos
        n1, n2, nk1, nk2 = self._top2(wa)
        self.d1[rows], self.d2[rows], self.k1[rows], self.k2[rows] = n1, n2, nk1, nk2
        self.swaps += int(out_pos.size)
        leaving = np.zeros(self.p, dtype=bool)
        leaving[out_pos] = True
        # gain: only the demands whose nearest cost changed
        g = n1 != o1
        cols = np.zeros(self.m, dtype=bool)
        cols[out_sites] = True
        if g.any():
            wg = wa[g]
            before, after = o1[g][:, None], n1[g][:, None]
            self.gain += (np.maximum(after - wg, 0.0) - np.maximum(before - wg, 0.0)).sum(axis=0)
            cols |= (wg < np.maximum(before, after)).any(axis=0)
        # loss and extra: the demands whose (d1, d2, k1) changed; every demand of a leaving
        # position is among them, so its row is rebuilt from zero (no rounding residue)
        c = g | (n2 != o2) | (nk1 != ok1) | leaving[ok1]
        if not c.all():
            o1, o2, ok1, n1, n2, nk1, wa = o1[c], o2[c], ok1[c], n1[c], n2[c], nk1[c], wa[c]
        self._extra_terms(o1, o2, ok1, wa, -1.0)
        self.loss[out_pos] = 0.0
        self.extra[out_pos] = 0.0
        self._extra_terms(n1, n2, nk1, wa, 1.0)
        dirty = leaving
        dirty[ok1] = True
        dirty[nk1] = True
        return dirty, cols

    def objective(self) -> float:
        """Penalised objective of the open sites."""
        return float(self.d1.sum())

    # ------------------------------------------------------------ moves
    def _best_per_column(
        self, rows: np.ndarray | None, cols: np.ndarray | None, tol: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Improving moves (change, position, site): for each column its best row among ``rows``."""
        closed = (self.pos < 0) & self.allowed
        rowok = self.movable[self.sites]
        if rows is None:
            le = self.loss[:, None] - (self.extra if cols is None else self.extra[:, cols])
            ok = rowok
        else:
            le = self.loss[rows, None] - self.extra[rows]
            ok = rowok[rows]
        le[~ok] = np.inf
        br = np.argmin(le, axis=0)
        change = le[br, np.arange(le.shape[1])] - (self.gain if cols is None else self.gain[cols])
        change[~(closed if cols is None else closed[cols])] = np.inf
        j = np.flatnonzero(change < -tol)
        pos = br[j] if rows is None else rows[br[j]]
        return change[j], pos, (j if cols is None else cols[j])

    def improving(
        self, rows: np.ndarray | None, cols: np.ndarray | None, tol: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Improving moves, best first: all of them when ``rows`` is None, else those in the
        given rows or columns."""
        if rows is None:
            found = [self._best_per_column(None, None, tol)]
        else:
            found = []
            if rows.size:
                found.append(self._best_per_column(rows, None, tol))
            if cols is not None and cols.size:
                found.append(self._best_per_column(None, cols, tol))
            if not found:
                return np.zeros(0), _EMPTY, _EMPTY
        change = np.concatenate([f[0] for f in found])
        pos = np.concatenate([f[1] for f in found])
        site = np.concatenate([f[2] for f in found])
        order = np.lexsort((site, pos, change))
        return change[order], pos[order], site[order]

    def _independent(
        self, change: np.ndarray, pos: np.ndarray, site: np.ndarray, limit: int
    ) -> tuple[list[int], list[int], np.ndarray, np.ndarray]:
        """Best-first moves with pairwise disjoint affected demands (at most ``limit``); the
        rows and columns of the others, to price again."""
        touched = np.zeros(self.n, dtype=bool)
        used_pos: set[int] = set()
        used_site: set[int] = set()
        outs: list[int] = []
        ins: list[int] = []
        skipped = []
        for t in range(change.size):
            k, j = int(pos[t]), int(site[t])
            if len(outs) >= limit or k in used_pos or j in used_site:
                skipped.append(t)
                continue
            hit = (self.k1 == k) | (self.k2 == k) | (self.wt[j] < self.d2)
            if (touched & hit).any():
                skipped.append(t)
                continue
            touched |= hit
            used_pos.add(k)
            used_site.add(j)
            outs.append(k)
            ins.append(j)
        sk = np.asarray(skipped, dtype=np.int64)
        return outs, ins, pos[sk], site[sk]

    def descend(
        self,
        rows: np.ndarray | None = None,
        cols: np.ndarray | None = None,
        *,
        tol: float,
        max_swaps: int | None = None,
        deadline: float | None = None,
        batch: bool = True,
    ) -> None:
        """Apply improving swaps until none is left (or the cap or the deadline is reached).

        ``batch=False``: one swap per pricing, the best of all (best improvement, every move
        priced each time); else all independent improving moves of a pricing, best first.

        ``rows``/``cols``: only the moves in these rows or columns may have changed since the
        position was last a local optimum (all moves are priced when ``rows`` is None).
        """
        done = 0
        while max_swaps is None or done < max_swaps:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            change, pos, site = self.improving(rows, cols, tol)
            if change.size == 0:
                break
            if not batch:
                self.apply(pos[:1], site[:1])
                done += 1
                rows = cols = None
                continue
            limit = self.p if max_swaps is None else max_swaps - done
            outs, ins, skip_rows, skip_cols = self._independent(change, pos, site, limit)
            row_mask, col_mask = self.apply(outs, ins)
            done += len(outs)
            row_mask[skip_rows] = True
            col_mask[skip_cols] = True
            rows, cols = np.flatnonzero(row_mask), np.flatnonzero(col_mask)

    def state(self) -> tuple[np.ndarray, ...]:
        """A copy of the search state (for :meth:`restore`)."""
        return tuple(
            a.copy()
            for a in (
                self.sites,
                self.pos,
                self.d1,
                self.d2,
                self.k1,
                self.k2,
                self.gain,
                self.loss,
                self.extra,
            )
        )

    def restore(self, saved: tuple[np.ndarray, ...]) -> None:
        """Go back to a state returned by :meth:`state` (which stays usable)."""
        for name, a in zip(
            ("sites", "pos", "d1", "d2", "k1", "k2", "gain", "loss", "extra"), saved, strict=True
        ):
            np.copyto(getattr(self, name), a)

    def iterate(
        self,
        until: float,
        rng: np.random.Generator,
        tol: float,
        max_kicks: int | None = None,
        near: int | None = None,
        kmax: int = 3,
    ) -> int:
        """Iterated local search until ``time.perf_counter() >= until`` or ``max_kicks`` kicks;
        returns the number of kicks.

        Each iteration (a kick of size ``s``, 1 at first) picks a random demand ``u`` of an open
        site (of two random removable ones, the one whose removal costs less), moves the ``s``
        removable open sites nearest to ``u`` to random closed sites among the ``near`` closest
        to ``u`` (default: about the number of sites per open site, at least 8), and descends again with the sites just closed barred from
        reopening (so that the descent does not simply undo the kick), then lets them back in.
        The result is kept when it is no worse than the best so far (plateau moves allowed) and
        ``s`` goes back to 1; else the best sites are swapped back (an incremental update, not
        a copy) and ``s`` grows, cycling up to ``kmax`` (variable neighbourhood search).
        """
        movable_pos = np.flatnonzero(self.movable[self.sites])
        if movable_pos.size == 0:
            return 0
        if near is None:
            near = max(8, round(self.m / self.p))
        kmax = max(1, min(kmax, movable_pos.size))
        best = self.objective()
        saved = self.sites.copy()
        iters = 0
        size = 1
        while time.perf_counter() < until and (max_kicks is None or iters < max_kicks):
            iters += 1
            # of two random removable sites, the one whose removal costs less (loss)
            k, k2 = movable_pos[rng.integers(movable_pos.size, size=2)]
            k = int(k2) if self.loss[k2] < self.loss[k] else int(k)
            served = np.flatnonzero(self.k1 == k)
            if served.size == 0:
                continue
            u = int(served[rng.integers(served.size)])
            row = np.where((self.pos < 0) & self.allowed, self.w[u], np.inf)
            nn = min(near, int(np.isfinite(row).sum()))
            if nn == 0:
                break
            size = min(size, nn)
            cand = np.argpartition(row, nn - 1)[:nn]
            ins = rng.choice(cand, size=size, replace=False)
            if size == 1:
                outs = np.array([k])
            else:
                dist = np.where(self.movable[self.sites], self.w[u, self.sites], np.inf)
                outs = np.argsort(dist, kind="stable")[:size]
            left = self.sites[outs].copy()
            row_mask, col_mask = self.apply(outs, ins)
            self.allowed[left] = False
            self.descend(
                np.flatnonzero(row_mask), np.flatnonzero(col_mask), tol=tol, deadline=until
            )
            self.allowed[left] = True
            self.descend(_EMPTY, left, tol=tol, deadline=until)
            obj = self.objective()
            if obj <= best + tol:
                if obj < best - tol:
                    size = 1
                best = min(best, obj)
                saved = self.sites.copy()
            else:
                back = np.flatnonzero(self.sites != saved)
                self.apply(back, saved[back])
                size = size % kmax + 1
        return iters


def _greedy(
    w: np.ndarray, wt: np.ndarray, is_open: np.ndarray, forbidden: np.ndarray, p: int
) -> np.ndarray | None:
    """Greedy addition up to ``p`` open sites (edits ``is_open`` in place).

    Each step opens the site with the largest saving (lowest index on ties; Kuehn & Hamburger
    1963). The savings are kept up to date: opening ``j`` only changes the terms of the demands
    it now serves, so a step costs ``O(|those demands| * n_sites)`` instead of a recount.
    Returns the final savings (the swap search's ``gain``), or None when no site was added.
    """
    if not is_open.any():
        # the first site is the 1-median: the smallest column sum
        colsum = np.where(forbidden, np.inf, w.sum(axis=0))
        is_open[int(np.argmin(colsum))] = True
    count = int(is_open.sum())
    if count >= p:
        return None
    d1 = w[:, is_open].min(axis=1)
    saving = np.maximum(d1[:, None] - w, 0.0).sum(axis=0)
    blocked = is_open | forbidden
    while count < p:
        j = int(np.argmax(np.where(blocked, -np.inf, saving)))
        is_open[j] = blocked[j] = True
        count += 1
        col = wt[j]
        now = np.flatnonzero(col < d1)  # demands that j serves from now on
        if now.size:
            wa = w[now]
            before, after = d1[now], col[now]
            saving -= (
                np.maximum(before[:, None] - wa, 0.0) - np.maximum(after[:, None] - wa, 0.0)
            ).sum(axis=0)
            d1[now] = after
    return saving


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
    improve_until: float | None = None,
    max_kicks: int | None = None,
    seed: int = 0,
) -> HeuristicSolution:
    """Greedy addition, swap local search, optionally an iterated local search (p-median).

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
        Cap on the number of improving swaps of the first descent (default ``20 * p + 100``).
    initial : array_like of int, optional
        Sites to start the swap search from instead of the greedy solution (completed greedily
        to ``p`` sites, must-open sites added, forbidden ones dropped).
    deadline : float, optional
        ``time.perf_counter()`` value after which no further swap is searched (a safety stop
        for time-limited solves: the result is then the greedy set improved by the swaps made
        so far, not necessarily a local optimum).
    improve_until : float, optional
        ``time.perf_counter()`` value up to which an iterated local search continues from the
        local optimum (kicks that move 1-3 nearby open sites to random close sites, a descent
        with the sites just closed barred, kept when no worse); capped by ``deadline``. Default: stop at the first local
        optimum (unless ``max_kicks`` is given).
    max_kicks : int, optional
        Cap on the kicks of the iterated local search (without ``improve_until``: exactly this
        many, so the result does not depend on the clock).
    seed : int
        Seed of the iterated local search's random numbers. For a given seed the result is
        reproducible when the search is bounded by ``max_kicks``; bounded by the clock, it
        depends on how many kicks fit.

    Returns
    -------
    HeuristicSolution
        A local optimum for the swap neighbourhood (unless stopped by ``deadline`` or
        ``max_swaps``); ``objective`` is ``inf`` if the heuristic found no set of sites serving
        every demand.
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
    wt = np.ascontiguousarray(w.T)
    saving = _greedy(w, wt, is_open, inp.forbidden, inp.p)
    limit = 20 * inp.p + 100 if max_swaps is None else int(max_swaps)
    movable = ~inp.must_open
    if limit > 0 and (deadline is None or time.perf_counter() < deadline):
        open_idx = np.flatnonzero(is_open)
        if open_idx.size == 1 and movable[open_idx[0]]:
            # one site: the best one (the 1-median) directly
            colsum = np.where(inp.forbidden, np.inf, w.sum(axis=0))
            is_open[:] = False
            is_open[int(np.argmin(colsum))] = True
        elif movable[open_idx].any() and not (is_open | inp.forbidden).all():
            search = _SwapSearch(w, wt, open_idx, movable, ~inp.forbidden, huge, gain=saving)
            tol = 1e-9 * max(1.0, search.objective())
            iterated = improve_until is not None or max_kicks is not None
            # the answer is this local optimum: best improvement (the best of all moves each
            # time; the same moves as before batches existed) up to 100 open sites; beyond, where
            # a full pricing costs more, and before an iterated search, which needs its time
            # more than a better start: batches of independent moves (2-3x faster at p = 300-500)
            batch = iterated or search.p > 100
            search.descend(tol=tol, max_swaps=limit, deadline=deadline, batch=batch)
            if iterated:
                until = math.inf if improve_until is None else improve_until
                until = until if deadline is None else min(until, deadline)
                search.iterate(until, np.random.default_rng(seed), tol, max_kicks=max_kicks)
            is_open[:] = False
            is_open[search.sites] = True
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

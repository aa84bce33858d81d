"""Exact p-center with one backup (redundancy 2) by bisection over set-cover tests.

Model
-----
The center objective of :mod:`placement.formulations.assignment` with ``k = 2``: every demand
point ``i`` has a primary site ``j1`` (``primary_ok``) and a backup ``j2`` (``backup_ok``) in a
different failure domain, both open; the objective is the worst primary latency
``L = max_i d(i, j1(i))``. Backups only have to exist (their latency is not in the objective).

Feasibility of a radius
-----------------------
For a radius ``D`` let ``P_i`` be the sites that may serve ``i`` as primary within ``D`` and
``B_i`` those that may back it up. An open set ``S`` serves ``i`` iff some ``j1 ∈ P_i ∩ S`` and
``j2 ∈ B_i ∩ S`` lie in different domains, which holds iff

    P_i ∩ S ≠ ∅,   B_i ∩ S ≠ ∅,   and  ((P_i ∪ B_i) \\ g) ∩ S ≠ ∅ for every domain g of P_i.

(If ``P_i ∩ S`` spans two domains, any open backup has a primary of another domain; if it lies
in one domain ``g``, the last row asks for an open site of ``B_i`` outside ``g``. Conversely a
served point meets every row.) So "can ``p`` sites serve every point within ``D``?" is a
set-covering problem, ``min Σ_j y_j`` over these rows with required sites open and forbidden
ones closed, feasible iff its minimum is at most ``p`` (more open sites never break a row). Each
test solves the covering LP first (a minimum above ``p`` proves ``D`` infeasible without
branching), then the MIP. The optimal ``L`` is one of the distinct primary latencies; bisection
over them needs ``O(log n)`` tests, and each feasible cover's actual worst primary latency
tightens the upper end. The answer is padded to ``p`` sites (greedily lowering the weighted
primary latency, which never raises ``L``) and assigned by :func:`center_assignment`.

The PuLP model of the same problem is checked against this solver and against enumeration in
``tests/test_redundant_center.py``. Redundancy above 2 is left to the PuLP model.
"""

from __future__ import annotations

import math
import time

import highspy
import numpy as np

from placement._highs import new_highs
from placement.formulations._gap import rel_gap
from placement.formulations._rows import unique_bool_rows
from placement.formulations.center import pad_cover
from placement.formulations.data import ModelData
from placement.formulations.redundant import RedundantSolution
from placement.heuristics import Inputs

__all__ = ["center_assignment", "solve_redundant_center"]

_MS = highspy.HighsModelStatus


def _dense(data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latency (inf where no pair), primary-ok, backup-ok and pair-index matrices, (n, m)."""
    n, m = data.n_demand, data.n_sites
    lat = np.full((n, m), np.inf)
    lat[data.pair_i, data.pair_j] = data.latency_ms
    prim = np.zeros((n, m), dtype=bool)
    prim[data.pair_i[data.primary_ok], data.pair_j[data.primary_ok]] = True
    back = np.zeros((n, m), dtype=bool)
    back[data.pair_i[data.backup_ok], data.pair_j[data.backup_ok]] = True
    pair = np.full((n, m), -1, dtype=np.int64)
    pair[data.pair_i, data.pair_j] = np.arange(data.n_pairs)
    openable = ~data.forbidden
    return lat, prim & openable, back & openable, pair


def center_assignment(
    data: ModelData, open_mask: np.ndarray
) -> tuple[float, list[tuple[int, int, int, float]]]:
    """Worst primary latency of an open set and its assignment (primary and one backup).

    Every point takes the nearest open primary site that has an open backup in another
    domain, and the nearest such backup (ties by site index).

    Parameters
    ----------
    data : ModelData
        The problem arrays (redundancy 2).
    open_mask : numpy.ndarray of bool, shape (n_sites,)
        Which sites are open.

    Returns
    -------
    worst_ms : float
        ``max_i`` primary latency (``inf`` when some point cannot be served).
    rows : list of (pair index, rank, demand index, share)
        Ranks 1 and 2 of every point (empty when ``worst_ms`` is ``inf``).
    """
    return _assign(*_dense(data), np.asarray(data.domain, dtype=np.int64), open_mask)


def _assign(
    lat: np.ndarray,
    prim: np.ndarray,
    back: np.ndarray,
    pair: np.ndarray,
    dom: np.ndarray,
    open_mask: np.ndarray,
) -> tuple[float, list[tuple[int, int, int, float]]]:
    """:func:`center_assignment` on the matrices of :func:`_dense`."""
    n, m = lat.shape
    prim = prim & open_mask[None, :]
    back = back & open_mask[None, :]
    blat = np.where(back, lat, np.inf)
    # per point and domain: nearest open backup of that domain
    doms = np.unique(dom)
    per_dom = np.full((n, len(doms)), np.inf)
    arg_dom = np.full((n, len(doms)), -1, dtype=np.int64)
    for q, g in enumerate(doms):
        cols = np.flatnonzero(dom == g)
        sub = blat[:, cols]
        a = np.argmin(sub, axis=1)  # first minimum: lowest site index among ties
        per_dom[:, q] = sub[np.arange(n), a]
        arg_dom[:, q] = cols[a]
    dom_pos = np.searchsorted(doms, dom)
    # best backup outside each primary's domain (domain order breaks ties by site index below)
    rows: list[tuple[int, int, int, float]] = []
    worst = 0.0
    order = np.lexsort((np.arange(m)[None, :].repeat(n, 0), lat), axis=1)
    for i in range(n):
        chosen = None
        for j1 in order[i]:
            if not prim[i, j1]:
                continue
            others = per_dom[i].copy()
            others[dom_pos[j1]] = np.inf
            if not np.isfinite(others.min()):
                continue
            best = np.flatnonzero(others == others.min())
            j2 = int(arg_dom[i, best].min())
            chosen = (int(j1), j2)
            break
        if chosen is None:
            return math.inf, []
        j1, j2 = chosen
        worst = max(worst, float(lat[i, j1]))
        rows.append((int(pair[i, j1]), 1, i, 1.0))
        rows.append((int(pair[i, j2]), 2, i, 1.0))
    return worst, rows


def _cover_rows(prim_d: np.ndarray, back: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """The covering rows of one radius (module docstring), duplicates removed."""
    rows = [prim_d, back]
    union = prim_d | back
    for g in np.unique(dom):
        in_g = dom == g
        has = prim_d[:, in_g].any(axis=1)  # rows of domains without a primary are implied
        rows.append((union & ~in_g[None, :])[has])
    return unique_bool_rows(np.vstack(rows))


def solve_redundant_center(
    data: ModelData,
    *,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
) -> RedundantSolution:
    """Exact center objective with one backup in another failure domain (redundancy 2).

    Parameters
    ----------
    data : ModelData
        Problem arrays with ``objective="center"`` and ``redundancy == 2``.
    time_limit_s : float, optional
        Wall-clock limit; the result is then ``"feasible"`` with the smallest radius not yet
        proven infeasible as its bound.
    gap_rel : float
        Accepted for a uniform signature; the bisection either proves the optimum or stops.
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Print the tests.

    Returns
    -------
    RedundantSolution
        ``objective`` and ``best_bound`` in ms (worst primary latency), rows of ranks 1 and 2.

    Raises
    ------
    ValueError
        If ``data.redundancy`` is not 2.
    """
    if data.redundancy != 2:
        raise ValueError(f"redundancy must be 2 for this solver, got {data.redundancy}")
    run = _RedundantCenterRun(data, time_limit_s, threads, verbose)
    return run.solve()


class _RedundantCenterRun:
    """One run of :func:`solve_redundant_center`: matrices, covering tests and the bisection.

    The steps: :meth:`__init__` (matrices and candidate radii), :meth:`solve` (first test at the
    largest radius, then :meth:`bisect`), each test by :meth:`test`, results by :meth:`finish`.
    """

    def __init__(
        self, data: ModelData, time_limit_s: float | None, threads: int | None, verbose: bool
    ) -> None:
        """Start the clock, fix the deadline, build the dense matrices and the candidate radii."""
        self.t0 = t0 = time.perf_counter()
        self.deadline = math.inf if time_limit_s is None else t0 + float(time_limit_s)
        self.threads, self.verbose = threads, verbose
        self.dense = _dense(data)
        self.lat, self.prim, self.back, _ = self.dense
        self.dom = np.asarray(data.domain, dtype=np.int64)
        self.m = m = data.n_sites
        available = m - int(data.forbidden.sum())
        p = data.n_sites_exact if data.n_sites_exact is not None else min(data.max_sites, available)
        self.p = p
        self.lo_b = data.must_open.astype(float)
        self.hi_b = (~data.forbidden).astype(float)
        self.radii = np.unique(self.lat[self.prim])
        self.build_s = time.perf_counter() - t0
        self.n_tests = 0
        self.primary_ms = np.where(self.prim, self.lat, np.inf)
        self.pad_inputs = Inputs(self.primary_ms, data.weight, p, data.must_open, data.forbidden)

    def log(self, msg: str) -> None:
        """Print a progress line when verbose."""
        if self.verbose:
            print(f"[redundant-center {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)

    def finish(
        self,
        status: str,
        obj: float,
        bound: float,
        mask: np.ndarray | None,
        msg: str = "",
        rows: list[tuple[int, int, int, float]] | None = None,
    ) -> RedundantSolution:
        """The result; ``obj`` and ``rows`` are the assignment of ``mask`` when one is given."""
        open_sites = np.zeros(0, dtype=np.int64)
        if mask is not None:
            open_sites = np.flatnonzero(mask).astype(np.int64)
        if status == "optimal":
            bound, gap = obj, 0.0
        else:
            gap = rel_gap(obj, bound)
        return RedundantSolution(
            status=status,
            objective=obj,
            best_bound=bound,
            gap=gap,
            open_sites=open_sites,
            rows=rows or [],
            build_s=self.build_s,
            solve_s=time.perf_counter() - self.t0 - self.build_s,
            n_vars=self.m,
            n_rows=0,
            message=msg,
            n_pricing_rounds=self.n_tests,
        )

    def test(self, radius: float) -> tuple[str, np.ndarray | None]:
        """``"yes"`` with a cover of at most p sites, ``"no"``, or ``"time"``."""
        # forbidden sites are already out of prim and back
        a = _cover_rows(self.prim & (self.lat <= radius), self.back, self.dom)
        if not a.any(axis=1).all():
            return "no", None
        h = self._cover_model(a)
        for integral in (False, True):
            left = self.deadline - time.perf_counter()
            if left <= 0:
                return "time", None
            if integral:
                m = self.m
                h.changeColsIntegrality(
                    m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
                )
                h.setOptionValue("mip_rel_gap", 0.0)
            if math.isfinite(left):
                h.setOptionValue("time_limit", left)
            h.run()
            ms = h.getModelStatus()
            if ms == _MS.kInfeasible:
                return "no", None
            if ms != _MS.kOptimal:
                return "time", None
            val = float(h.getInfo().objective_function_value)
            if val > self.p + 1e-6:
                return "no", None
        y = np.asarray(h.getSolution().col_value) > 0.5
        return "yes", y

    def _cover_model(self, a: np.ndarray) -> highspy.Highs:
        """The covering model ``min Σ y`` over the rows ``a`` with the sites' bounds."""
        m = self.m
        h = new_highs() if self.threads is None else new_highs(threads=int(self.threads))
        inf = highspy.kHighsInf
        h.addVars(m, self.lo_b, self.hi_b)
        h.changeColsCost(m, np.arange(m, dtype=np.int32), np.ones(m))
        ri, cj = np.nonzero(a)
        starts = np.searchsorted(ri, np.arange(a.shape[0]))
        h.addRows(
            a.shape[0],
            np.ones(a.shape[0]),
            np.full(a.shape[0], inf),
            len(cj),
            starts.astype(np.int32),
            cj.astype(np.int32),
            np.ones(len(cj)),
        )
        return h

    def evaluate(
        self,
        cover: np.ndarray,
    ) -> tuple[np.ndarray, float, list[tuple[int, int, int, float]]]:
        """The cover padded to p sites (center.py's greedy), its worst latency and rows."""
        mask = np.zeros(self.m, dtype=bool)
        mask[pad_cover(self.pad_inputs, np.flatnonzero(cover))] = True
        return (mask, *_assign(*self.dense, self.dom, mask))

    def solve(self) -> RedundantSolution:
        """Check the lower end, test the largest radius for a first cover, then bisect."""
        radii = self.radii
        if len(radii) == 0:
            return self.finish("infeasible", math.inf, math.inf, None, "no primary-allowed pair")
        # lower end: every point needs some primary within the radius
        reach = self.primary_ms.min(axis=1)
        if not np.isfinite(reach).all():
            msg = "a demand point has no primary"
            return self.finish("infeasible", math.inf, math.inf, None, msg)
        lo = int(np.searchsorted(radii, reach.max()))
        hi = len(radii) - 1
        self.n_tests += 1
        state, cover = self.test(float(radii[hi]))
        if state == "no":
            return self.finish(
                "infeasible",
                math.inf,
                math.inf,
                None,
                "no open set of this size gives every point a primary and a backup in another "
                "domain",
            )
        if state == "time" or cover is None:
            stop = "stopped by the time limit"
            return self.finish("no_solution", math.inf, float(radii[lo]), None, stop)
        return self.bisect(lo, *self.evaluate(cover))

    def bisect(
        self,
        lo: int,
        best: np.ndarray,
        best_val: float,
        best_rows: list[tuple[int, int, int, float]],
    ) -> RedundantSolution:
        """Bisection from the first cover down to the optimum (or the time limit)."""
        radii = self.radii
        hi = int(np.searchsorted(radii, best_val))
        self.log(f"radii {len(radii)}, search [{radii[lo]:.6g}, {radii[hi]:.6g}] ms")
        while lo < hi:
            mid = (lo + hi) // 2
            self.n_tests += 1
            state, cover = self.test(float(radii[mid]))
            self.log(f"test {radii[mid]:.6g} ms: {state}")
            if state == "time":
                stop = "stopped by the time limit"
                return self.finish("feasible", best_val, float(radii[lo]), best, stop, best_rows)
            if state == "yes" and cover is not None:
                cand, val, rows = self.evaluate(cover)
                if val < best_val:
                    best, best_val, best_rows = cand, val, rows
                hi = int(np.searchsorted(radii, best_val))
            else:
                lo = mid + 1
        return self.finish("optimal", best_val, best_val, best, "", best_rows)

"""Exact p-median with a percentile SLA: the radius branch and bound with one share row.

Problem
-------
Open exactly ``p`` sites ``S`` and serve every demand from its nearest open site, minimising
``f(S) = Σ_i w_i min_{j∈S} c_ij``, subject to the *share row*: the weight of the demands with an
open site within the SLA (an allowed pair of cost ``c_ij ≤ sla``) is at least ``min_within``.
For a fixed ``S`` the nearest-site assignment is optimal for both at once (the nearest open site
is within the SLA whenever any open site is), so the problem is one over ``S`` only, as the
p-median.

Model
-----
The master of :mod:`placement.formulations.radius` (``min Σ_i w_i θ_i``, ``Σ_j y_j = p``, radius
cuts generated as needed) plus, for every class ``k`` of demands sharing the same set
``N_k = {j : c_ij ≤ sla}`` (identical rows merged, their weights summed into ``W_k``), a
column ``0 ≤ u_k ≤ 1`` (the class is outside the SLA) with

    u_k + Σ_{j ∈ N_k} y_j ≥ 1                                   (class rows)
    Σ_k W_k u_k ≤ W − min_within − W_0                           (share row)

where ``W_0`` is the weight of the demands with no site within the SLA (always outside);
classes whose ``N_k`` holds every allowed site are always inside and get no column. At an
integer ``y`` the rows force ``u_k = 1`` exactly for the classes without an open site within
the SLA, so the integer points are the feasible open sets. The LP relaxation is the radius LP
with the share row, as strong as the Lagrangian dual of the share row over that LP; the
Lagrangian over exact p-medians can be a little stronger (world instance: 28.2895 against the
LP's 28.2881) but leaves its duality gap, which the branch and bound here closes. The branch and bound, reduced-cost fixing and strong branching are
:mod:`~placement.formulations.radius`'s, unchanged (they hold for any extra rows); only the
incumbents differ: every open set the search meets (LP rounding, integer LP points) is
checked against the share row, and the root rounding is a swap search that keeps it
(:func:`share_swap_search`).

Its use: on the world instance (3,039 demand points x 169 regions, ``p = 10``, 92 % within
50 ms) the Lagrangian relaxation of the share row (:func:`~placement.formulations.relax.
percentile_lagrange`) stops at a duality gap of 0.23 % that only branching closes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import highspy
import numpy as np
import numpy.typing as npt

from placement.errors import ValidationError
from placement.formulations.radius import ExactSolution, _Solver, exact_start, infeasible_solution
from placement.heuristics import Inputs, pmedian_heuristic, site_indices

__all__ = ["SHARE_TOL", "ShareSearch", "share_swap_search", "solve_pmedian_share"]

#: Relative slack of the share row as the planner passes it (``min_within = sla_share * W *
#: (1 - SHARE_TOL)``): the same as the check of :func:`placement.formulations.relax.violations`.
SHARE_TOL = 1e-9


class ShareSearch:
    """Result of :func:`share_swap_search`.

    Attributes
    ----------
    open_sites : numpy.ndarray of int
        Sorted open sites.
    objective : float
        ``Σ_i w_i`` times the nearest open cost (``inf`` when a demand has no allowed open site).
    within_weight : float
        Weight of the demands with an open site within the SLA.
    feasible : bool
        Every demand served and ``within_weight ≥ min_within``.
    """

    def __init__(
        self, open_sites: np.ndarray, objective: float, within_weight: float, feasible: bool
    ) -> None:
        self.open_sites = open_sites
        self.objective = objective
        self.within_weight = within_weight
        self.feasible = feasible


def _evaluate(
    cost: np.ndarray, weights: np.ndarray, within: np.ndarray, sites: np.ndarray
) -> tuple[int, float, float]:
    """(unserved demands, weight within the SLA, objective) of the open set ``sites``."""
    sub = cost[:, sites]
    d = sub.min(axis=1)
    unserved = int((~np.isfinite(d)).sum())
    obj = float(weights[np.isfinite(d)] @ d[np.isfinite(d)]) if unserved == 0 else math.inf
    inside = float(weights[within[:, sites].any(axis=1)].sum())
    return unserved, inside, obj


def share_swap_search(
    inp: Inputs,
    sla: float,
    min_within: float,
    start: npt.ArrayLike,
    *,
    deadline: float = math.inf,
    max_swaps: int = 1000,
) -> ShareSearch:
    """Best-improvement swap search for the p-median under the share row.

    Moves are ranked lexicographically by (unserved demands, weight missing from
    ``min_within``, objective): from an infeasible start the search first repairs (least
    missing weight), then improves the objective among the sets that meet the share row.

    Parameters
    ----------
    inp : Inputs
        Validated costs, weights, ``p`` and fixings (:func:`placement.heuristics.prepare_inputs`).
    sla : float
        A pair is within the SLA when its cost is at most ``sla``.
    min_within : float
        Weight that must be within the SLA.
    start : array_like of int
        Open sites to start from (forbidden ones dropped, must-open ones added, cut or
        completed to ``p`` in the order given / by index).
    deadline : float
        ``time.perf_counter()`` value after which no further move is searched.
    max_swaps : int
        At most this many moves.

    Returns
    -------
    ShareSearch
    """
    cost, w, p = inp.cost, inp.weights, inp.p
    n_d, n_s = cost.shape
    within = (cost <= sla) & np.isfinite(cost)
    is_open = inp.must_open.copy()
    for j in np.asarray(start, dtype=np.int64).tolist():
        if is_open.sum() >= p:
            break
        if not inp.forbidden[j]:
            is_open[j] = True
    for j in range(n_s):  # completed by index (deterministic)
        if is_open.sum() >= p:
            break
        if not inp.forbidden[j]:
            is_open[j] = True
    rows = np.arange(n_d)
    movable_in = ~(is_open | inp.forbidden)
    wf = w.astype(float)
    tol_w = 1e-12 * max(1.0, float(wf.sum()))

    for _ in range(max_swaps):
        if time.perf_counter() > deadline:
            break
        sites = np.flatnonzero(is_open)
        sub = cost[:, sites]
        order = np.argsort(sub, axis=1, kind="stable")
        d1 = sub[rows, order[:, 0]]
        d2 = sub[rows, order[:, 1]] if len(sites) > 1 else np.full(n_d, np.inf)
        first = sites[order[:, 0]]
        cover = within[:, sites].sum(axis=1)
        u0, in0, f0 = _evaluate(cost, w, within, sites)
        cur = (u0, max(0.0, min_within - in0), f0)
        best: tuple[float, float, float] | None = None
        best_move = (-1, -1)
        cand_in = np.flatnonzero(movable_in)
        if len(cand_in) == 0:
            break
        c_in = cost[:, cand_in]
        w_in = within[:, cand_in]
        fin_in = np.isfinite(c_in)
        buf = np.empty(c_in.shape)
        for a in sites.tolist():
            if inp.must_open[a] or time.perf_counter() > deadline:
                continue
            base = np.where(first == a, d2, d1)  # nearest open site once a is closed
            gone = ~np.isfinite(base)  # served by a alone
            fb = np.where(gone, 0.0, base)
            # objective after the swap: every point keeps fb unless b is nearer (saving)
            np.subtract(fb[:, None], c_in, out=buf)
            np.maximum(buf, 0.0, out=buf)
            obj = float(wf[~gone] @ fb[~gone]) - wf @ buf
            unserved = np.zeros(len(cand_in))
            if gone.any():
                obj = obj + wf[gone] @ np.where(fin_in[gone], c_in[gone], 0.0)
                unserved = (~fin_in[gone]).sum(axis=0).astype(float)
            obj = np.where(unserved > 0, np.inf, obj)
            covered = (cover - within[:, a]) > 0
            inside = float(wf[covered].sum()) + wf[~covered] @ w_in[~covered]
            missing = np.maximum(0.0, min_within - inside)
            missing[missing <= tol_w] = 0.0
            # lexicographic minimum over the candidates
            k = np.lexsort((obj, missing, unserved))[0]
            cand = (float(unserved[k]), float(missing[k]), float(obj[k]))
            if best is None or cand < best:
                best, best_move = cand, (a, int(cand_in[k]))
        if best is None:
            break
        tol = 1e-12 * max(1.0, abs(cur[2])) if math.isfinite(cur[2]) else 0.0
        cur_missing = cur[1] if cur[1] > tol_w else 0.0
        better = (
            best[0] < cur[0]
            or (best[0] == cur[0] and best[1] < cur_missing - tol_w)
            or (best[0] == cur[0] and best[1] <= cur_missing + tol_w and best[2] < cur[2] - tol)
        )
        if not better:
            break
        a, b = best_move
        is_open[a], is_open[b] = False, True
        movable_in[a], movable_in[b] = not inp.forbidden[a], False
    sites = np.flatnonzero(is_open)
    unserved, inside, obj = _evaluate(cost, w, within, sites)
    return ShareSearch(sites, obj, inside, unserved == 0 and inside >= min_within)


class _ShareSolver(_Solver):
    """:class:`~placement.formulations.radius._Solver` with the class columns and share row.

    The parent's ``run`` is used as it is, with ``warm_start=False`` so that it runs none of
    its share-blind heuristics before the model; :meth:`_build` then sets the share-feasible
    incumbent (the better of the given start and the p-median heuristic's local optimum, each
    repaired and improved by :func:`share_swap_search`; ``run`` adds its radius cuts as seeds)
    and switches ``warm_start`` on so that the root LP is rounded by :meth:`_round`, the
    share-keeping swap search from the LP's largest ``y``.
    """

    #: strong branching whatever the root's fixing left free: the share row's trees are small
    #: but fractional in the class columns, where strong branching pays (world, 92 % within
    #: 50 ms, N = 10: 8 nodes and 1.4 CPU s with it, 237 nodes and 4.6 CPU s with radius's
    #: small-tree rule)
    sb_free_share = 0.0

    def __init__(
        self,
        inp: Inputs,
        sla: float,
        min_within: float,
        start: np.ndarray | None,
        deadline: float,
        gap_rel: float,
        threads: int | None,
        verbose: bool,
        t0: float,
    ) -> None:
        super().__init__(inp, deadline, gap_rel, threads, verbose, False, t0)
        self.sla = float(sla)
        self.within = (inp.cost <= self.sla) & np.isfinite(inp.cost)
        self.min_within = float(min_within)
        self.start = start
        self.start_won = False  # the given start gave the first incumbent

    def _incumbent(self, sites: np.ndarray, how: str) -> bool:
        """The share swap search from ``sites``; True when it improved the incumbent."""
        res = share_swap_search(self.inp, self.sla, self.min_within, sites, deadline=self.deadline)
        if res.feasible and res.objective < self.ub:
            self._log(f"{how}: incumbent {self.ub} -> {res.objective}")
            self.ub, self.best_open = res.objective, res.open_sites
            return True
        return False

    def _build(self) -> None:
        super()._build()
        inp, h = self.inp, self.h
        n_s = inp.n_sites
        allowed = np.isfinite(inp.cost)
        w_in = self.within & allowed
        pos = inp.weights > 0
        none = pos & ~w_in.any(axis=1)
        always = pos & (w_in | ~allowed).all(axis=1)
        cls = pos & ~none & ~always
        rhs = float(inp.weights.sum()) - self.min_within - float(inp.weights[none].sum())
        self.outside_limit = rhs
        masks, inverse = (
            np.unique(w_in[cls], axis=0, return_inverse=True)
            if cls.any()
            else (np.zeros((0, n_s), bool), np.zeros(0, np.int64))
        )
        n_k = len(masks)
        w_k = np.bincount(np.ravel(inverse), weights=inp.weights[cls], minlength=n_k)
        self.u_col0 = h.getNumCol()
        if n_k:
            empty_i = np.zeros(0, np.int32)
            h.addCols(n_k, np.zeros(n_k), np.zeros(n_k), np.ones(n_k), 0, empty_i, empty_i, [])
            nz = masks.sum(axis=1) + 1
            starts = np.zeros(n_k, np.int32)
            np.cumsum(nz[:-1], out=starts[1:])
            idx = np.empty(int(nz.sum()), np.int32)
            body = np.ones(len(idx), bool)
            body[starts] = False
            idx[starts] = self.u_col0 + np.arange(n_k, dtype=np.int32)
            idx[body] = np.nonzero(masks)[1].astype(np.int32)
            h.addRows(
                n_k,
                np.ones(n_k),
                np.full(n_k, highspy.kHighsInf),
                len(idx),
                starts,
                idx,
                np.ones(len(idx)),
            )
        # the share row, scaled to a right-hand side of about one
        scale = 1.0 / max(rhs, 1e-12) if rhs > 0 else 1.0
        h.addRows(
            1,
            np.array([-highspy.kHighsInf]),
            np.array([rhs * scale]),
            n_k,
            np.array([0], np.int32),
            self.u_col0 + np.arange(n_k, dtype=np.int32),
            w_k * scale,
        )
        self.n_base_rows = h.getNumRow()
        self._log(f"share row: {n_k} classes, outside limit {rhs:.6g}")
        if self.start is not None and len(self.start):
            self._incumbent(self.start, "start")
            self.start_won = math.isfinite(self.ub)
        # the share-blind p-median local optimum, repaired and improved under the share row
        # (world instance, 92 % within 50 ms: 0.03 + 0.17 CPU s to the optimum): an incumbent
        # before the first LP, for short time limits and for the first reduced-cost fixing
        heur = pmedian_heuristic(inp, deadline=self.deadline)
        if math.isfinite(heur.objective) and self._incumbent(heur.open_sites, "p-median heuristic"):
            self.start_won = False
        self.warm_start = True  # from here on: run() rounds the root LP with _round

    def _true_cost(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        open_sites = np.flatnonzero(y > 0.5)
        unserved, inside, obj = _evaluate(self.inp.cost, self.inp.weights, self.within, open_sites)
        if unserved or inside < self.min_within:
            # an integer LP point that breaks the share row by the LP's tolerance: its node is
            # closed by the caller, so nothing below the node's bound is proven
            bound = float(self.h.getInfo().objective_function_value)
            self.pruned_floor = min(self.pruned_floor, bound)
            self._log(f"integer LP point off the share row by {self.min_within - inside:.3g}")
            return open_sites, math.inf
        return open_sites, obj

    def _round(self, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        score = np.where(hi > 0.5, y, -1.0) + 2.0 * lo
        start = np.argsort(-score, kind="stable")[: self.inp.p]
        self._incumbent(start, "root rounding")


def solve_pmedian_share(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    p: int,
    sla: float,
    min_within: float,
    *,
    must_open: npt.ArrayLike | None = None,
    forbidden: npt.ArrayLike | None = None,
    initial_open: npt.ArrayLike | None = None,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    progress: Callable[..., None] | None = None,
) -> ExactSolution:
    """Solve the p-median under a share row to proven optimality (see the module docstring).

    Parameters
    ----------
    cost : array_like, shape (n_demand, n_sites)
        Costs, ``np.inf`` where a pair is not allowed.
    weights : array_like, shape (n_demand,), optional
        Non-negative weights (ones when None).
    p : int
        Sites to open (exactly).
    sla : float
        An allowed pair counts as within the SLA when its cost is at most ``sla`` (so the nearest
        open site is within it whenever any open site is).
    min_within : float
        Weight of demand that must have an open site within the SLA.
    must_open, forbidden : array_like, optional
        Boolean masks or index arrays of sites.
    initial_open : array_like of int, optional
        A starting open set (need not meet the share row): a swap search repairs and improves it
        into an incumbent, kept unless the p-median heuristic's (repaired the same way) is
        better (``ExactSolution.warm_start_used`` says which). The optimum does not depend on
        it.
    time_limit_s : float, optional
        Wall-clock limit; when it stops the search the incumbent is returned as ``"feasible"``
        with the smallest bound of the open nodes.
    gap_rel : float
        Relative gap at which the search stops (``status`` is ``"optimal"`` when it is met).
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Log the search.
    progress : callable, optional
        Called as the branch and bound goes (as in
        :func:`~placement.formulations.radius.solve_pmedian`).

    Returns
    -------
    ExactSolution
        ``status`` ``"infeasible"`` when no ``p`` allowed sites meet the share row;
        ``assignment`` is the nearest open site of every demand.

    Raises
    ------
    placement.errors.ValidationError
        For malformed inputs.
    """
    ready = exact_start(cost, weights, p, must_open, forbidden, time_limit_s)
    if ready.inp is None:
        return ready.infeasible
    inp, t0, deadline = ready.inp, ready.t0, ready.deadline
    if isinstance(sla, bool) or not isinstance(sla, int | float | np.number) or math.isnan(sla):
        raise ValidationError("sla must be a number", table="parameter", field="sla", value=sla)
    if not math.isfinite(float(min_within)):
        raise ValidationError(
            "min_within must be finite", table="parameter", field="min_within", value=min_within
        )
    start = site_indices(initial_open, inp.n_sites, "initial_open")
    solver = _ShareSolver(
        inp, float(sla), float(min_within), start, deadline, gap_rel, threads, verbose, t0
    )
    solver.progress = progress
    out = dataclasses.replace(solver.run(), warm_start_used=solver.start_won)
    if out.status == "infeasible":
        return infeasible_solution(
            inp.n_demand,
            f"no {inp.p} allowed sites serve every demand and {float(min_within):.6g} of the "
            "weight within the SLA",
            out.build_s,
        )
    return out

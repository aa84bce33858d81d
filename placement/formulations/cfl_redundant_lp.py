"""The strong LP bound of the capacitated median with backups (capacity + redundancy).

The model of :mod:`~placement.formulations.assignment` with ``redundancy = k ≥ 2``, the median
objective and a capacity on the primary load: shares ``z_pr`` of demand point ``i(p)`` at site
``j(p)`` and rank ``r`` (1 primary, 2..k backups), in shares of the total weight ``W``::

    min Σ_j F_j y_j + Σ_p c_p z_p1 + β Σ_{r≥2} Σ_p c_p z_pr          (c_p = (w_i/W) d_p)
    s.t. Σ_{p∋i} z_pr = 1            for every i and rank r          (u_ri)
         Σ_r z_pr ≤ y_j              for every pair (linking)
         Σ_{j∈g} Σ_r z_ijr ≤ 1       for every i and failure domain g (μ_ig ≥ 0)
         Σ_{p∋j} a_p z_p1 ≤ y_j      (a_p = w_i / cap_j)
         lo ≤ Σ_j y_j ≤ hi,  0 ≤ z, 0 ≤ y ≤ 1.

As in :mod:`~placement.formulations.cfl_lp`, its LP is solved over a growing set of sites ``S``
(one HiGHS model grown in place) and the bound reported is the Lagrangian bound ``L(u, μ)`` of
the demand and domain rows at the LP's duals, computed over every pair (valid for any ``u`` and
``μ ≥ 0``): each site's part is ``F_j + Σ_p b_p`` less a continuous knapsack, ``b_p`` the best
backup rank's reduced cost (or 0) and the knapsack the gain ``b_p − rc_p1`` of serving the pair
as a primary instead, weight ``a_p``, capacity 1. The sites of smallest part join ``S`` until
``L`` meets the LP over ``S`` (proven: the strong LP's optimum).

The uncapacitated bound of these problems (:mod:`~placement.formulations.redundant`) ignores the
capacity; this one is below every split or single-sourced solution with it. Its first ``S`` is
an incumbent's open sites and those of smallest part at the incumbent's costs
(:func:`_incumbent_multipliers`). :func:`solve_capacity_redundant` solves it on demand classes
(:class:`_Classes`: points whose latency rows differ by a constant merged, exact for the split
LP). World instance (``capacity_redund`` of ``benchmarks/constraints_bench.py``: 384k pairs,
3 providers as domains; 243k pairs of 1,903 classes): 56.150041 proven in 3 LPs over 59-61
sites, 11-15 CPU s on a quiet machine (LPs of 2.5, 3.3 and 9.1 CPU s; on the 384k pairs 45 CPU
s). Its first LP's value is already 56.150041 but ``L`` at its duals only 48-52 (degenerate:
sites outside ``S`` look cheap); when the time left cannot hold the next LP,
:meth:`_Model.ascend` raises those duals by subgradient steps instead (56.10-56.14 in 15 CPU s
from the first LP's; from each point's cheapest pairs or an incumbent's costs plain steps
stalled at 53.6 after 60 CPU s).

With ``y`` fixed to an open set the same LP is the exact split assignment with backups of that
set (:func:`evaluate_open`, 0.2 CPU s on the world instance, 0.14 on its classes);
:func:`improve_open` swaps an incumbent's sites valued that way (one warm model over a pool of
candidate sites; world: 57.2352 to 56.7379 in 11 CPU s). :func:`solve_capacity_redundant`
chains them for the solver registry (``registry._capacity_redundant``), which starts the LP
only when the time left allows its first LP. The LP's ``y`` on the world instance has 8 sites
at 1 and 4 fractional; its roundings value 57.23 and 56.90, from which the swaps reach the
optimum 56.4101017 (sites 17 46 55 73 81 90 129 130 133 164 of the instance with Kosovo; the
swaps run in a thread beside the site branch and bound, which takes each better set). With the LP proven, :func:`_site_bb` branches over the same model on the
sums of ``y`` of co-located twins (:func:`_twin_groups`: sites of other providers with the same
pairs, among which the LP's ``y`` moves freely) and on single sites' ``y``: reduced-cost fixing
at the LP's multipliers and again at every node's, each node re-solved by dual simplex from
its parent's basis and bounded by ``L(u, μ)`` at its duals over every site it may open (also
at an unfinished LP's duals, which prunes it early), so a run with the time for it ends proven
optimal (world, Kosovo in the demand: 56.4100998 in 9-29 nodes, 13-39 CPU s of tree).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from placement._highs import new_highs, run_until
from placement.formulations._site_pricing import SITES_PER_ROUND, sites_to_add, start_sites
from placement.formulations.data import ModelData

#: An incumbent: (objective, open mask, assignment rows ``(pair, rank, demand, share)``).
_Incumbent = tuple[float, np.ndarray, list[tuple[int, int, int, float]]]

__all__ = [
    "RedundantBound",
    "RedundantCapacity",
    "class_pairs",
    "evaluate_open",
    "improve_open",
    "redundant_capacity_applies",
    "redundant_capacity_bound",
    "solve_capacity_redundant",
]


def class_pairs(data: ModelData) -> int:
    """Pairs of ``data`` once its demand points are merged into classes (:class:`_Classes`):
    the size of the strong LP that :func:`solve_capacity_redundant` solves."""
    return _Classes.of(data).data.n_pairs


def redundant_capacity_applies(data: ModelData) -> bool:
    """True for a median problem with backups and a capacity whose primary load may be split
    (the model of the module doc; single sourcing is another problem, its answers are not
    this model's)."""
    return (
        data.objective == "median"
        and data.redundancy >= 2
        and data.capacity is not None
        and not data.single_sourcing
    )


@dataclass(frozen=True)
class RedundantBound:
    """Result of :func:`redundant_capacity_bound`.

    Attributes
    ----------
    bound : float
        The best Lagrangian bound (objective units, ``-inf`` if none).
    lp_value : float
        The last LP over ``S`` (``inf`` if none).
    proven : bool
        True when ``bound`` meets the LP over ``S`` (the strong LP's optimum).
    rounds, n_sites : int
        LPs solved and sites in ``S``.
    cpu_s : float
        CPU seconds spent.
    y : numpy.ndarray or None
        The last LP's ``y`` over every site (0 outside ``S``), None if no LP ended.
    ascent_steps : int
        Subgradient steps taken from the last LP's duals when the pricing stopped unproven.
    """

    bound: float
    lp_value: float
    proven: bool
    rounds: int
    n_sites: int
    cpu_s: float
    y: np.ndarray | None = None
    ascent_steps: int = 0


#: Latency rows equal up to a constant to this many decimals (ms) put two demand points in
#: one class (as :func:`~placement.formulations.redundant._aggregate`).
_CLASS_DECIMALS = 9


@dataclass(frozen=True)
class _Classes:
    """Demand points merged into classes that every solution of the LP may serve alike.

    Two points fall in one class when they reach the same sites with the same primary/backup
    permissions and latency rows equal up to a constant (``lat_i = a_i + r``, compared to
    :data:`_CLASS_DECIMALS` decimals): the class is one point of their total weight and
    latencies ``r + ā`` (``ā`` the weighted mean offset). Costs and loads are linear in the
    shares, so a class's shares given to each member cost and load the same, and members'
    shares averaged by weight are a class solution of the same cost: the strong LP, its
    Lagrangian bound and every open set's split assignment have the same optimum on ``data``
    as on the original (less ``slack``, the most the rounding can move it; subtracted from a
    bound). World instance: 3,039 points in 1,903 classes, 384,552 pairs in 243,047.
    """

    data: ModelData
    #: the class of each original demand point
    cls: np.ndarray
    #: the class pair of each original pair
    pair: np.ndarray
    slack: float
    orig: ModelData

    @staticmethod
    def of(data: ModelData) -> _Classes:
        """The classes of ``data`` (every point its own class when none merge)."""
        from dataclasses import replace

        from placement.formulations._demand_classes import demand_classes

        m = data.n_sites
        dc = demand_classes(data, _CLASS_DECIMALS)
        if dc is None:
            return _Classes(data, np.arange(data.n_demand), np.arange(data.n_pairs), 0.0, data)
        order, pi, pj, cls, rep = dc.order, dc.pi, dc.pj, dc.cls, dc.rep
        keep = np.flatnonzero(np.isin(pi, rep))  # the representatives' pairs, by (i, j)
        ci = cls[pi[keep]]
        # the class pair of each original pair: the one of (class, site), keys sorted
        key_cls = ci * m + pj[keep]
        srt = np.argsort(key_cls, kind="stable")
        pair = np.empty(data.n_pairs, dtype=np.int64)
        pair[order] = keep[srt][np.searchsorted(key_cls[srt], cls[pi] * m + pj)]
        pair = np.searchsorted(keep, pair)  # index among the kept pairs
        # rounding slack: |r_i - r_rep| on every pair, times the rank weights
        slack = dc.slack(data, dc.rel[keep][pair[order]])
        sub = replace(
            data,
            n_demand=dc.n_classes,
            weight=dc.weight,
            pair_i=ci,
            pair_j=pj[keep],
            latency_ms=dc.rel[keep] + dc.a_bar[ci],
            pair_cost_usd=data.pair_cost_usd[order][keep],
            primary_ok=dc.po[keep],
            backup_ok=dc.bo[keep],
        )
        return _Classes(sub, cls, pair, slack, data)

    @property
    def merged(self) -> bool:
        return self.data is not self.orig

    def to_class_rows(
        self, rows: list[tuple[int, int, int, float]]
    ) -> list[tuple[int, int, int, float]]:
        """Original rows ``(pair, rank, demand, share)`` as class rows (shares by weight)."""
        if not self.merged or not rows:
            return list(rows)
        arr = np.asarray(rows, dtype=float).reshape(-1, 4)
        p, r, i = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].astype(int)
        q = self.pair[p]
        c = self.cls[i]
        w = self.orig.weight.astype(float)
        w_cls = self.data.weight
        share = w[i] * arr[:, 3] / np.where(w_cls[c] > 0, w_cls[c], 1.0)
        key = q * (int(r.max()) + 1) + r
        uniq, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv, weights=share)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inv[::-1]] = np.arange(len(inv))[::-1]
        return [
            (int(q[f]), int(r[f]), int(c[f]), float(x)) for f, x in zip(first, tot, strict=True)
        ]

    def to_rows(self, rows: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
        """Class rows as the original's: each member of a class gets its class's shares."""
        if not self.merged or not rows:
            return list(rows)
        arr = np.asarray(rows, dtype=float).reshape(-1, 4)
        q, c = arr[:, 0].astype(np.int64), arr[:, 2].astype(np.int64)
        members = np.argsort(self.cls, kind="stable")
        first = np.searchsorted(self.cls[members], np.arange(self.data.n_demand + 1))
        size = first[c + 1] - first[c]
        row = np.repeat(np.arange(len(arr)), size)  # one output row a member of each row
        within = np.arange(len(row)) - np.repeat(np.cumsum(size) - size, size)
        i = members[first[c][row] + within]
        m = self.orig.n_sites
        okey = self.orig.pair_i.astype(np.int64) * m + self.orig.pair_j
        osrt = np.argsort(okey, kind="stable")
        p = osrt[np.searchsorted(okey[osrt], i * m + self.data.pair_j[q][row])]
        r, x = arr[row, 1].astype(np.int64), arr[row, 3]
        return [
            (int(a), int(b), int(e), float(f))
            for a, b, e, f in zip(p.tolist(), r.tolist(), i.tolist(), x.tolist(), strict=True)
        ]


class _Model:
    """Pairs, costs and the Lagrangian bound of the module docstring."""

    def __init__(self, data: ModelData, cap_scale: float = 1.0) -> None:
        m, n, k = data.n_sites, data.n_demand, int(data.redundancy)
        cap = np.asarray(data.capacity, dtype=float) * cap_scale
        openable = ~data.forbidden
        pj_all = data.pair_j
        prim = data.primary_ok & openable[pj_all] & (cap[pj_all] > 0)
        back = data.backup_ok & openable[pj_all]
        pos = np.flatnonzero(prim | back)
        self.n, self.m, self.k = n, m, k
        self.pos = pos  # the ModelData pair of each pair here
        self.pi = data.pair_i[pos].astype(np.int64)
        self.pj = data.pair_j[pos].astype(np.int64)
        self.prim, self.back = prim[pos], back[pos]
        w = data.weight.astype(float)
        total = float(w.sum())
        s = w / total if total > 0 else w
        self.share = s  # each point's share of the weight (the ascent's step scale)
        self.cost1 = s[self.pi] * data.latency_ms[pos].astype(float)
        self.costb = float(data.backup_weight) * self.cost1
        self.a = np.where(self.prim, w[self.pi] / np.where(cap[self.pj] > 0, cap[self.pj], 1.0), 0)
        _, self.dom = np.unique(data.domain, return_inverse=True)
        self.n_dom = int(self.dom.max()) + 1 if m else 0
        self.need_dom = self.n_dom < m  # one domain a site: implied by the linking rows
        self.fixed = np.zeros(m)  # the median objective: no fixed costs
        self.must = data.must_open.copy()
        self.openable = openable
        lo = data.min_sites if data.min_sites is not None else 0
        hi = data.max_sites if data.max_sites is not None else m
        if data.n_sites_exact is not None:
            lo = hi = data.n_sites_exact
        self.lo, self.hi = int(lo), int(min(hi, m))

    def parts(self, u: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Each site's part ``v_j`` at ``u`` (k × n) and ``μ`` (n × domains, ``≥ 0``)."""
        return self._knapsacks(u, mu)[0]

    def _knapsacks(
        self, u: np.ndarray, mu: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The parts and each pair's shares in them: primary ``z1``, backup ``zb`` at the
        backup rank ``rb`` (from 1), the sites' continuous knapsacks solved by ratio."""
        pen = mu[self.pi, self.dom[self.pj]] if self.need_dom else 0.0
        rc1 = np.where(self.prim, self.cost1 - u[0, self.pi] + pen, np.inf)
        rcb = np.full(len(self.pi), np.inf)
        rb = np.ones(len(self.pi), dtype=np.int64)
        for r in range(1, self.k):
            c = self.costb - u[r, self.pi]
            better = c < rcb
            rcb = np.where(better, c, rcb)
            rb = np.where(better, r, rb)
        rcb = np.where(self.back, rcb + pen, np.inf)
        b = np.minimum(0.0, rcb)
        gain = b - rc1  # serving the pair as a primary instead of its best other use
        v = np.bincount(self.pj, weights=b, minlength=self.m)
        z1 = np.zeros(len(self.pi))
        cand = np.flatnonzero(gain > 0)
        if len(cand):
            a = self.a[cand]
            order = np.lexsort((-gain[cand] / np.maximum(a, 1e-300), self.pj[cand]))
            c2 = cand[order]
            pj, a, g = self.pj[c2], a[order], gain[c2]
            cs = np.cumsum(a)
            first = np.r_[True, pj[1:] != pj[:-1]]
            offset = np.maximum.accumulate(np.where(first, cs - a, 0.0))
            used = cs - offset
            take = np.clip((1.0 - (used - a)) / np.maximum(a, 1e-300), 0.0, 1.0)
            take[a <= 0] = 1.0
            v -= np.bincount(pj, weights=g * take, minlength=self.m)
            z1[c2] = take
        v += self.fixed
        zb = np.where(rcb < 0, 1.0 - z1, 0.0)
        return np.where(self.openable, v, np.inf), z1, zb, rb

    def ascend(
        self,
        u: np.ndarray,
        mu: np.ndarray,
        target: float,
        deadline: float,
        max_steps: int = 100_000,
    ) -> tuple[float, np.ndarray, np.ndarray, int]:
        """Raise ``L(u, μ)`` by subgradient steps (Polyak steps toward ``target``).

        Each step moves ``u`` and ``μ`` along the rows' violations by the sites :meth:`pick`
        opens (``1 − Σ z`` for a demand row, ``Σ z − 1`` for a domain row, projected at
        ``μ ≥ 0``), scaled by each point's weight share (so a point's multiplier moves in
        latency units), of length ``θ (target − L) / ‖g‖²``; ``θ`` starts at
        :data:`ASCENT_THETA` and shrinks by :data:`ASCENT_SHRINK` after
        :data:`ASCENT_PATIENCE` steps without a better ``L``. Returns the best ``L``, its
        multipliers and the steps taken (every ``L`` is a bound, whatever the steps).
        """
        mu = np.maximum(mu, 0.0)
        scale = self.share
        best, bu, bmu = -math.inf, u, mu
        theta, since, steps = ASCENT_THETA, 0, 0
        n, nd = self.n, mu.shape[1]
        must = self.must & self.openable
        while steps < max_steps and time.perf_counter() < deadline:
            v, z1, zb, rb = self._knapsacks(u, mu)
            lb = self.pick(u, mu, v)
            steps += 1
            if not math.isfinite(lb):
                break
            if lb > best + 1e-12 * max(1.0, abs(lb)):
                best, bu, bmu, since = lb, u, mu, 0
            else:
                since += 1
                if since >= ASCENT_PATIENCE:
                    theta, since = theta * ASCENT_SHRINK, 0
            sel = self.chosen(v, must, self.openable)[self.pj]
            gu = np.ones((self.k, n))
            gu[0] -= np.bincount(self.pi[sel], weights=z1[sel], minlength=n)
            for r in range(1, self.k):
                s2 = sel & (rb == r)
                gu[r] -= np.bincount(self.pi[s2], weights=zb[s2], minlength=n)
            if self.need_dom:
                idx = self.pi[sel] * nd + self.dom[self.pj[sel]]
                gm = np.bincount(idx, weights=z1[sel] + zb[sel], minlength=n * nd)
                gm = gm.reshape(n, nd) - 1.0
                gm = np.where((mu <= 0) & (gm < 0), 0.0, gm)
            else:
                gm = np.zeros_like(mu)
            du, dm = gu * scale[None, :], gm * scale[:, None]
            norm = float((gu * du).sum() + (gm * dm).sum())
            gap = max(target - lb, 1e-9 * max(1.0, abs(lb)))
            if norm <= 0:
                break  # every row met by the chosen sites' shares: L is the LP's value
            step = theta * gap / norm
            u = u + step * du
            mu = np.maximum(0.0, mu + step * dm)
        return best, bu, bmu, steps

    def bound(
        self,
        u: np.ndarray,
        mu: np.ndarray,
        must: np.ndarray | None = None,
        openable: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """``L(u, μ)`` and the parts ``v``; ``must`` / ``openable`` replace the model's own
        (a branch and bound node's sites fixed open / the sites it may open)."""
        mu = np.maximum(mu, 0.0)
        v = self.parts(u, mu)
        return self.pick(u, mu, v, must, openable), v

    def pick(
        self,
        u: np.ndarray,
        mu: np.ndarray,
        v: np.ndarray,
        must: np.ndarray | None = None,
        openable: np.ndarray | None = None,
    ) -> float:
        """``L(u, μ)`` from the parts ``v``: the must-open sites and the count's best others."""
        ok = self.openable if openable is None else self.openable & openable
        must = self.must & self.openable if must is None else must
        if (must & ~ok).any():
            return math.inf
        free = np.flatnonzero(ok & ~must)
        vf = np.sort(v[free])
        k_must = int(must.sum())
        if k_must > self.hi or k_must + len(vf) < self.lo or not np.isfinite(v[must]).all():
            return math.inf
        need = max(0, self.lo - k_must)
        take = need + int(np.count_nonzero(vf[need : self.hi - k_must] < 0))
        dom = float(np.maximum(mu, 0.0).sum()) if self.need_dom else 0.0
        return float(u.sum() - dom + v[must].sum() + vf[:take].sum())

    def chosen(self, v: np.ndarray, must: np.ndarray, openable: np.ndarray) -> np.ndarray:
        """The sites that :meth:`pick` opens (must-open first, then the smallest parts)."""
        ok = self.openable & openable
        free = np.flatnonzero(ok & ~must)
        order = free[np.argsort(v[free], kind="stable")]
        k_must = int(must.sum())
        need = max(0, self.lo - k_must)
        vf = v[order]
        take = need + int(np.count_nonzero(vf[need : self.hi - k_must] < 0))
        out = must.copy()
        out[order[:take]] = True
        return out


class _SiteLP:
    """The LP over ``S``, one HiGHS model grown in place (rows: k·n demand, count, domains)."""

    def __init__(self, model: _Model) -> None:
        import highspy

        self.md = md = model
        self.inf = highspy.kHighsInf
        self.h = new_highs()
        self.h.setOptionValue("solver", "simplex")
        kn = md.k * md.n
        nd = md.n * md.n_dom if md.need_dom else 0
        lower = np.r_[np.ones(kn), [float(md.lo)], np.full(nd, -self.inf)]
        upper = np.r_[np.ones(kn), [float(md.hi)], np.ones(nd)]
        rows = kn + 1 + nd
        self.h.addRows(rows, lower, upper, 0, np.zeros(rows, np.int32), np.zeros(0, np.int32), [])
        self.count_row, self.dom_row = kn, kn + 1
        self.in_s = np.zeros(md.m, dtype=bool)
        self.ycol: dict[int, int] = {}
        #: pair (index into the model's pairs) and rank (0 primary) of each z column
        self.col_pair: list[np.ndarray] = []
        self.col_rank: list[np.ndarray] = []
        self.col_first: list[int] = []
        self.by_site = np.argsort(md.pj, kind="stable")
        self.start = np.searchsorted(md.pj[self.by_site], np.arange(md.m + 1))
        #: whether the last :meth:`run` stopped at its cutoff
        self.cut = False

    def add_sites(self, sites: list[int]) -> None:
        md, h = self.md, self.h
        for j in sites:
            if self.in_s[j]:
                continue
            self.in_s[j] = True
            ps = self.by_site[self.start[j] : self.start[j + 1]]
            y = h.getNumCol()
            lo = 1.0 if md.must[j] else 0.0
            h.addCol(0.0, lo, 1.0, 1, np.array([self.count_row], np.int32), np.ones(1))
            self.ycol[j] = y
            # columns: rank 1 of the primary pairs, ranks 2..k of the backup pairs
            cols_of_pair: list[np.ndarray] = []
            pair_of_col: list[np.ndarray] = []
            for r in range(md.k):
                ok = ps[md.prim[ps]] if r == 0 else ps[md.back[ps]]
                q = len(ok)
                if not q:
                    continue
                cost = md.cost1[ok] if r == 0 else md.costb[ok]
                rows = [r * md.n + md.pi[ok]]
                if md.need_dom:
                    rows.append(self.dom_row + md.pi[ok] * md.n_dom + md.dom[j])
                nz = len(rows)
                idx = np.stack(rows, axis=1).reshape(-1).astype(np.int32)
                c0 = h.getNumCol()
                h.addCols(
                    q,
                    cost,
                    np.zeros(q),
                    np.ones(q),
                    nz * q,
                    (nz * np.arange(q)).astype(np.int32),
                    idx,
                    np.ones(nz * q),
                )
                cols_of_pair.append(c0 + np.arange(q))
                pair_of_col.append(ok)
                self.col_first.append(c0)
                self.col_pair.append(ok)
                self.col_rank.append(np.full(q, r))
                if r == 0:  # capacity row: Σ a z_p1 − y ≤ 0
                    h.addRow(
                        -self.inf,
                        0.0,
                        q + 1,
                        np.r_[y, c0 + np.arange(q)].astype(np.int32),
                        np.r_[-1.0, md.a[ok]],
                    )
            if not cols_of_pair:
                continue
            # linking rows Σ_r z_pr − y ≤ 0, one a pair
            cols = np.concatenate(cols_of_pair)
            pairs = np.concatenate(pair_of_col)
            order = np.argsort(pairs, kind="stable")
            cols, pairs = cols[order], pairs[order]
            uniq, first = np.unique(pairs, return_index=True)
            counts = np.diff(np.r_[first, len(pairs)])
            n_rows = len(uniq)
            starts = first + np.arange(n_rows)  # each row: its columns, then y
            idx = np.empty(len(cols) + n_rows, np.int64)
            val = np.ones(len(cols) + n_rows)
            pos = np.repeat(np.arange(n_rows), counts) + np.arange(len(cols))
            idx[pos] = cols
            ends = starts + counts
            idx[ends] = y
            val[ends] = -1.0
            h.addRows(
                n_rows,
                np.full(n_rows, -self.inf),
                np.zeros(n_rows),
                len(idx),
                starts.astype(np.int32),
                idx.astype(np.int32),
                val,
            )

    def refresh(self) -> None:
        """The same model and basis in a new HiGHS object (none of the old one's state: cost
        perturbations, edge weights). World: the site branch and bound's first LP from the
        strong LP's object ran for minutes in 3 of 4 runs (old tree and new alike), from a
        new one in about 1 CPU s."""
        model, basis = self.h.getLp(), self.h.getBasis()
        h = new_highs()
        h.setOptionValue("solver", "simplex")
        h.passModel(model)
        h.setBasis(basis)
        self.h = h

    def y_values(self) -> np.ndarray:
        """The last solution's ``y`` over every site (0 outside ``S``)."""
        col = np.asarray(self.h.getSolution().col_value, dtype=float)
        y = np.zeros(self.md.m)
        for j, c in self.ycol.items():
            y[j] = col[c]
        return y

    def shares(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The last solution's positive ``z``: (model pair, rank from 0, share)."""
        col = np.asarray(self.h.getSolution().col_value, dtype=float)
        if not self.col_pair:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        cols = np.concatenate(
            [c0 + np.arange(len(p)) for c0, p in zip(self.col_first, self.col_pair, strict=True)]
        )
        pairs, ranks = np.concatenate(self.col_pair), np.concatenate(self.col_rank)
        z = col[cols]
        keep = z > 1e-9
        return pairs[keep], ranks[keep], z[keep]

    def run(
        self, deadline: float, iterations: int | None = None
    ) -> tuple[float, np.ndarray, np.ndarray] | str:
        """Solve; the objective value and the duals ``u``, ``μ``, or ``"infeasible"`` /
        ``"stopped"``. With ``iterations``, the simplex stops after that many (HiGHS
        ``simplex_iteration_limit``): ``self.cut`` is then True and the value and duals are
        that iterate's (any ``u``, ``μ ≥ 0`` give a bound ``L``; a further run goes on)."""
        import highspy

        h = self.h
        self.cut = False
        if iterations is not None:
            h.setOptionValue("simplex_iteration_limit", int(iterations))
        status = run_until(h, deadline)
        if iterations is not None:
            h.setOptionValue("simplex_iteration_limit", _NO_ITERATION_LIMIT)
            if status == "stopped" and (
                h.getModelStatus() == highspy.HighsModelStatus.kIterationLimit
            ):
                self.cut, status = True, "optimal"
        if status != "optimal":
            return status
        md = self.md
        dual = np.asarray(self.h.getSolution().row_dual, dtype=float)
        u = dual[: md.k * md.n].reshape(md.k, md.n).copy()
        if md.need_dom:
            mu = -dual[self.dom_row : self.dom_row + md.n * md.n_dom].reshape(md.n, md.n_dom)
        else:
            mu = np.zeros((md.n, 1))
        return float(self.h.getInfo().objective_function_value), u, np.maximum(mu, 0.0)


def _start(md: _Model) -> np.ndarray:
    """Starting ``u``: each demand point's cheapest pair at every rank."""
    u = np.zeros((md.k, md.n))
    for r in range(md.k):
        c = np.where(md.prim, md.cost1, np.inf) if r == 0 else np.where(md.back, md.costb, np.inf)
        cheapest = np.full(md.n, np.inf)
        np.minimum.at(cheapest, md.pi, c)
        u[r] = np.where(np.isfinite(cheapest), cheapest, 0.0)
    return u


def _incumbent_multipliers(md: _Model, rows: list[tuple[int, int, int, float]]) -> np.ndarray:
    """``u`` of an incumbent: each demand point's cost at each rank in it (its sites of smallest
    part at these prices are the ones that would save the most)."""
    u = np.zeros((md.k, md.n))
    if not rows:
        return u
    arr = np.asarray([(p, r, i, s) for p, r, i, s in rows], dtype=float)
    q = np.searchsorted(md.pos, arr[:, 0].astype(np.int64))
    q = np.minimum(q, len(md.pos) - 1)
    ok = (md.pos[q] == arr[:, 0]) & (arr[:, 1] >= 1) & (arr[:, 1] <= md.k)
    rank = arr[ok, 1].astype(np.int64) - 1
    cost = np.where(rank == 0, md.cost1[q[ok]], md.costb[q[ok]]) * arr[ok, 3]
    np.add.at(u, (rank, arr[ok, 2].astype(np.int64)), cost)
    return u


def redundant_capacity_bound(
    data: ModelData,
    *,
    deadline: float,
    start_open: np.ndarray | None = None,
    start_rows: list[tuple[int, int, int, float]] | None = None,
    verbose: bool = False,
) -> RedundantBound:
    """Strong LP bound of the capacitated median with backups by site pricing (module doc).

    Parameters
    ----------
    data : ModelData
        A problem of :func:`redundant_capacity_applies`.
    deadline : float
        ``time.perf_counter()`` value at which it stops with the best bound so far.
    start_open : numpy.ndarray of bool, optional
        Open sites of an incumbent: they start ``S``.
    start_rows : list of (pair, rank, demand, share), optional
        That incumbent's assignment: the first sites added beside its own are those of
        smallest part at its costs (:func:`_incumbent_multipliers`) instead of at each point's
        cheapest pairs (world instance: the LP proven in 3 rounds over 60 sites from the
        incumbent's 10 and the relaxation's, 45 CPU s, where the cheapest pairs' sites took 4
        infeasible rounds first and 131 CPU s for 2 LPs).
    verbose : bool
        Print the progress.

    Returns
    -------
    RedundantBound
        ``bound`` in objective units (mean latency, ms), ``-inf`` if no LP ended.
    """
    return _strong_lp(data, deadline, start_open, start_rows, verbose)[0]


def _strong_lp(
    data: ModelData,
    deadline: float,
    start_open: np.ndarray | None,
    start_rows: list[tuple[int, int, int, float]] | None,
    verbose: bool,
    target: float | None = None,
) -> tuple[RedundantBound, _Model, _SiteLP, np.ndarray, np.ndarray]:
    """:func:`redundant_capacity_bound` with its model, LP and the multipliers of its bound
    (for :func:`_site_bb`).

    With ``target`` (an incumbent's value), once an LP over ``S`` has ended, the pricing stops
    when the time left is under :data:`PRICING_ROUNDS_LEFT` times the last LP's: the LP's
    duals are then raised by :meth:`_Model.ascend` toward ``target`` until ``deadline``
    for :data:`ASCENT_SHARE` of the time left (the rest goes to the rounding and the swaps
    after it; every ``L`` stays a bound, unproven)."""
    from placement.formulations._gap import is_proven

    c0 = time.process_time()
    md = _Model(data)
    u = _start(md)
    mu = np.zeros((md.n, md.n_dom if md.need_dom else 1))
    best, v = md.bound(u, mu)
    best = best if math.isfinite(best) else -math.inf
    u_best = u
    if start_rows:
        u_inc = _incumbent_multipliers(md, start_rows)
        lb_inc, v = md.bound(u_inc, mu)
        if lb_inc > best:
            best, u_best = lb_inc, u_inc
    lp = _SiteLP(md)
    lp.add_sites(start_sites(v, md.hi, md.must, start_open))
    lp_value, rounds, proven, y_last = math.inf, 0, False, None
    mu_best = mu
    last: tuple[np.ndarray, np.ndarray] | None = None  # the last LP's duals
    round_s = 0.0
    while time.perf_counter() < deadline:
        if last is not None and target is not None:
            if deadline - time.perf_counter() < PRICING_ROUNDS_LEFT * round_s:
                break  # the next LP would not end in time: the ascent gets it
        t_round = time.perf_counter()
        got = lp.run(deadline)
        round_s = time.perf_counter() - t_round
        if got == "stopped":
            break
        if isinstance(got, str):  # infeasible over S: more sites
            _lb, v = md.bound(u_best, mu_best)
        else:
            rounds += 1
            lp_value, u, mu = got
            last = (u, mu)
            y_last = lp.y_values()
            lb, v = md.bound(u, mu)
            if lb > best:
                best, u_best, mu_best = lb, u, mu
            if verbose:
                print(
                    f"cfl_redundant_lp: round {rounds} sites {int(lp.in_s.sum())} "
                    f"LP {lp_value:.9g} L {lb:.9g} best {best:.9g}"
                )
            if is_proven(lp_value, best):
                proven = True
                break
        new = sites_to_add(v, lp.in_s, SITES_PER_ROUND)
        if not new:
            break
        lp.add_sites(new)
    steps = 0
    if not proven and last is not None and target is not None:
        left = deadline - time.perf_counter()
        stop = time.perf_counter() + ASCENT_SHARE * left if math.isfinite(left) else deadline
        lb, u, mu, steps = md.ascend(*last, max(target, lp_value), stop)
        if verbose:
            print(f"cfl_redundant_lp: ascent {steps} steps L {lb:.9g} best {best:.9g}")
        if lb > best:
            best, u_best, mu_best = lb, u, mu
    res = RedundantBound(
        best,
        lp_value,
        proven,
        rounds,
        int(lp.in_s.sum()),
        time.process_time() - c0,
        y_last,
        steps,
    )
    return res, md, lp, u_best, mu_best


class _OpenSetLP:
    """:func:`evaluate_open` for many open sets within a pool of sites: one HiGHS model over the
    pool, each set its ``y`` bounds fixed to 0/1 and re-solved warm (dual simplex)."""

    def __init__(self, data: ModelData, pool: np.ndarray) -> None:
        from placement.formulations.relax import CAPACITY_MARGIN

        md = self.md = _Model(data, cap_scale=1.0 - CAPACITY_MARGIN)
        self.count = md.hi if data.n_sites_exact is not None else None
        self.lp = _SiteLP(md)
        self.lp.add_sites([int(j) for j in np.flatnonzero(pool & md.openable)])

    def value(self, mask: np.ndarray, deadline: float) -> float:
        """The best split assignment's value of ``mask`` (``inf`` if infeasible or stopped)."""
        md, lp = self.md, self.lp
        if (mask & ~lp.in_s).any() or (md.must & ~mask).any():
            return math.inf
        if not md.lo <= int(mask.sum()) <= md.hi:
            return math.inf
        sites = list(lp.ycol)
        cols = np.array([lp.ycol[j] for j in sites], dtype=np.int32)
        val = mask[sites].astype(float)
        lp.h.changeColsBounds(len(cols), cols, val, val)
        if run_until(lp.h, deadline) != "optimal":
            return math.inf
        return float(lp.h.getInfo().objective_function_value)

    def rows(self) -> list[tuple[int, int, int, float]]:
        """The last solution's assignment rows over the ModelData's pairs."""
        md = self.md
        pairs, ranks, z = self.lp.shares()
        return [
            (int(md.pos[q]), int(r) + 1, int(md.pi[q]), float(min(x, 1.0)))
            for q, r, x in zip(pairs, ranks, z, strict=True)
        ]


#: Closed sites tried by :func:`improve_open`'s swaps (those of smallest part at the
#: incumbent's costs).
SWAP_CANDIDATES = 12


def improve_open(
    data: ModelData,
    open_mask: np.ndarray,
    rows: list[tuple[int, int, int, float]],
    objective: float,
    deadline: float,
    candidates: np.ndarray | None = None,
    *,
    on_better: Callable[[_Incumbent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> _Incumbent | None:
    """Swaps of an open site for a closed one, each open set valued exactly (first improvement).

    The closed sites tried are ``candidates`` or the :data:`SWAP_CANDIDATES` of smallest part
    at the incumbent's costs (:func:`_incumbent_multipliers`); every set is the split
    assignment LP of :func:`evaluate_open` (one model over the pool, re-solved warm). Returns
    the best (objective, open mask, rows) if it beats ``objective``, else None. Each better
    set is also passed to ``on_better`` as it is found (when the swaps run beside the site
    branch and bound); ``should_stop()`` true ends them early.
    """
    md = _Model(data)
    mask = np.asarray(open_mask, dtype=bool).copy()
    if candidates is None:
        mu = np.zeros((md.n, md.n_dom if md.need_dom else 1))
        _lb, v = md.bound(_incumbent_multipliers(md, rows), mu)
        order = np.argsort(v, kind="stable")
        candidates = np.array(
            [j for j in order if not mask[j] and np.isfinite(v[j])][:SWAP_CANDIDATES], np.int64
        )
    pool = mask.copy()
    pool[np.asarray(candidates, dtype=np.int64)] = True
    if time.perf_counter() >= deadline:
        return None
    ev = _OpenSetLP(data, pool)
    best_val = ev.value(mask, deadline)
    if not math.isfinite(best_val):
        return None
    best_rows = ev.rows()
    improved = True

    def over() -> bool:
        return time.perf_counter() >= deadline or (should_stop is not None and should_stop())

    while improved and not over():
        improved = False
        for out in np.flatnonzero(mask & ~md.must):
            for into in candidates:
                if mask[into] or over():
                    continue
                cand = mask.copy()
                cand[out], cand[into] = False, True
                val = ev.value(cand, deadline)
                if val < best_val - 1e-9 * max(1.0, abs(best_val)):
                    best_val, mask, improved = val, cand, True
                    best_rows = ev.rows()
                    if on_better is not None and best_val < objective:
                        on_better((best_val, mask.copy(), best_rows))
                    break
            if improved:
                break
    if best_val < objective - 1e-12 * max(1.0, abs(objective)):
        return best_val, mask, best_rows
    return None


def evaluate_open(
    data: ModelData, open_mask: np.ndarray, deadline: float
) -> tuple[float, list[tuple[int, int, int, float]]] | None:
    """The best split assignment with backups to the open sites ``open_mask`` (an LP), or None.

    The model of the module docstring with ``y`` fixed to ``open_mask`` (every constraint of
    the problem: with ``y`` integral its LP is the exact assignment problem) and capacities
    :data:`~placement.formulations.relax.CAPACITY_MARGIN` below, so that the LP solver's
    tolerance never carries a load over one. Returns (objective, rows) with rows
    ``(pair, rank, demand, share)`` over ``data``'s pairs; None when infeasible or out of time.
    """
    from placement.formulations.relax import CAPACITY_MARGIN

    md = _Model(data, cap_scale=1.0 - CAPACITY_MARGIN)
    mask = np.asarray(open_mask, dtype=bool) & md.openable
    k_open = int(mask.sum())
    if not k_open or not md.lo <= k_open <= md.hi or (md.must & ~mask).any():
        return None
    md.must = mask.copy()
    md.lo = md.hi = k_open
    lp = _SiteLP(md)
    lp.add_sites([int(j) for j in np.flatnonzero(mask)])
    if run_until(lp.h, deadline) != "optimal":
        return None
    pairs, ranks, z = lp.shares()
    share = np.clip(z, 0.0, 1.0)
    rows = [
        (int(md.pos[q]), int(r) + 1, int(md.pi[q]), float(x))
        for q, r, x in zip(pairs, ranks, share, strict=True)
    ]
    cost = np.where(ranks == 0, md.cost1[pairs], md.costb[pairs])
    return float(cost @ share), rows


#: HiGHS's default ``simplex_iteration_limit`` (no limit).
_NO_ITERATION_LIMIT = 2**31 - 1

#: :meth:`_Model.ascend`: first step factor, steps without a better bound before it shrinks,
#: and by how much (world instance, from the first LP's duals over 27 sites, L 48.26: 56.10 in
#: 15 CPU s with 1.0, 56.14 with 2.0 and patience 30; 55.88 with 0.3 and patience 20).
ASCENT_THETA = 2.0
ASCENT_PATIENCE = 30
ASCENT_SHRINK = 0.7

#: Nodes whose bound is within this share of the incumbent are pruned (as :mod:`~.cfl_lp`).
PRUNE_GAP = 1e-7


@dataclass(frozen=True)
class _SiteBB:
    """Result of :func:`_site_bb`: the bound (objective units), a better incumbent if found,
    and the tree's statistics."""

    bound: float
    incumbent: _Incumbent | None
    stats: dict[str, object]


def _fix_sites(
    md: _Model,
    u: np.ndarray,
    mu: np.ndarray,
    ub: float,
    tol: float,
    v: np.ndarray | None = None,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
    pick: Callable[[np.ndarray, np.ndarray], float] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Reduced-cost fixing at ``(u, μ)``: the sites that any solution below ``ub − tol`` keeps
    open (forcing them closed lifts ``L`` there) and the sites it may open (forcing them open
    does not), with the smallest ``L`` of a forcing that fixed a site (a bound of every
    solution the fixing drops).

    ``lo`` / ``hi`` (a node's sites fixed open / the sites it may open; the model's own by
    default) restrict it to a node's solutions, ``v`` the parts at ``(u, μ)`` if known, and
    ``pick(lo, hi)`` replaces :meth:`_Model.pick` (a node's own bound, e.g. with its groups).
    """
    if v is None:
        v = md.parts(u, np.maximum(mu, 0.0))
    if pick is None:

        def pick(a: np.ndarray, b: np.ndarray) -> float:
            return md.pick(u, mu, v, a, b)

    lo = (md.must & md.openable) if lo is None else lo.copy()
    hi = md.openable.copy() if hi is None else hi & md.openable
    dropped = math.inf
    for j in np.flatnonzero(hi & ~lo):
        forced = lo.copy()
        forced[j] = True
        lb = pick(forced, hi)
        if lb >= ub - tol:
            hi[j] = False
            dropped = min(dropped, lb)
    for j in np.flatnonzero(hi & ~lo):
        without = hi.copy()
        without[j] = False
        lb = pick(lo, without)
        if lb >= ub - tol:
            lo[j] = True
            dropped = min(dropped, lb)
    return lo, hi, dropped


def _twin_groups(md: _Model) -> list[np.ndarray]:
    """Sites with the same pairs, costs, permissions and capacity loads (co-located regions
    of different providers: they differ only by their failure domain), groups of two or more."""
    by_site = np.argsort(md.pj, kind="stable")
    start = np.searchsorted(md.pj[by_site], np.arange(md.m + 1))
    seen: dict[bytes, list[int]] = {}
    for j in np.flatnonzero(md.openable & ~md.must):
        q = by_site[start[j] : start[j + 1]]
        q = q[np.argsort(md.pi[q], kind="stable")]
        key = b"".join(
            np.ascontiguousarray(x).tobytes()
            for x in (md.pi[q], md.prim[q], md.back[q], md.cost1[q], md.a[q], md.fixed[j : j + 1])
        )
        seen.setdefault(key, []).append(int(j))
    return [np.array(g, dtype=np.int64) for g in seen.values() if len(g) > 1]


def _grown_basis(basis: tuple[object, int, int], n_cols: int, n_rows: int) -> object:
    """A basis ``(HighsBasis, columns, rows)`` of the LP before sites joined it (their
    columns and rows appended at the end: :meth:`_SiteLP.add_sites`), for the LP now: the new
    columns at their lower bound, the new rows basic."""
    import highspy

    b, cols, rows = basis
    if (cols, rows) == (n_cols, n_rows):
        return b
    grown = highspy.HighsBasis()
    grown.valid = True
    grown.col_status = list(b.col_status) + [highspy.HighsBasisStatus.kLower] * (n_cols - cols)
    grown.row_status = list(b.row_status) + [highspy.HighsBasisStatus.kBasic] * (n_rows - rows)
    return grown


#: :func:`_site_bb` runs a node's dual simplex in runs of this many iterations and prunes the
#: node when ``L`` at an unfinished run's duals reaches the incumbent (world: node LPs of
#: 50-11,000 iterations, about 0.8 ms each; a further run costs about 0.05 s).
BB_CHUNK = 1000


def _site_bb(
    data: ModelData,
    md: _Model,
    lp: _SiteLP,
    u: np.ndarray,
    mu: np.ndarray,
    incumbent: _Incumbent,
    deadline: float,
    verbose: bool = False,
    poll: Callable[[], _Incumbent | None] | None = None,
) -> _SiteBB:
    """Branch and bound on the sites' ``y`` with the strong LP over ``S`` at every node.

    The root's sites are fixed by :func:`_fix_sites` at the strong LP's multipliers (the
    smallest bound of a fixing counts as a pruned node's), again whenever the incumbent
    improves. A node is a set of sites fixed open (``lo``), the sites it may open (``hi``) and
    the twin groups (:func:`_twin_groups`, co-located sites of other failure domains) of which
    it needs one open (``gup``; a row ``Σ y ≥ 1`` of the LP over the group, its lower bound 0
    elsewhere). Its LP over ``S`` with those bounds is re-solved by dual simplex from its
    parent's basis (stored with the node; columns and rows of sites added since then join it
    at their lower bound / basic), in runs of :data:`BB_CHUNK` iterations: ``L(u, μ)`` at an
    unfinished run's duals prunes the node when it reaches the incumbent (valid for any
    multipliers). Its bound is ``L(u, μ)`` at the node LP's duals over every site of ``hi``,
    a group of ``gup`` opening its cheapest site (a solution opening one of a group may as well
    open its cheapest: the parts are per site); sites outside ``S`` that it opens join ``S``
    and the node is re-solved, as the root's site pricing does. At that bound's parts the
    node's free sites are fixed for its subtree (:func:`_fix_sites` with the node's bound); if
    the LP's ``y`` breaks a fixing the node is re-solved. Best bound first; a node within
    :data:`PRUNE_GAP` of the incumbent is pruned; an integral ``y`` is valued exactly
    (:func:`evaluate_open`) and, if the node's bound stays below its LP, the node is split on
    one of its free open sites; else it branches on the most fractional of the groups' sums
    of ``y`` (none of the group / one of it open) and the ``y`` of the sites of no group, or
    when all those are integral on the most fractional ``y``. The bound returned is the
    smallest over the open and pruned nodes, the fixings and the incumbent; ``bb_proven`` when
    the tree ended with it proving the incumbent. ``poll()``, called before each node, returns
    a better incumbent found beside the tree (the swaps of :func:`_solve_classes`), taken as
    the tree's own are.

    World instance (``benchmarks/capred_bb_bench.py``; 68 sites free, 14 twin groups among
    them): 56.4100998 proven in 9-29 nodes and 13-39 CPU s, where branching on sites alone
    from the last solved node's basis took 77-119 nodes and 140-170 CPU s (twins: closing a
    site moves its ``y`` to its twin at the same LP value, so every twin had its own branch).
    """
    import heapq

    from placement.formulations._gap import is_proven

    t0, c0 = time.perf_counter(), time.process_time()
    ub = incumbent[0]
    found: _Incumbent | None = None
    tol = PRUNE_GAP * max(1.0, abs(ub))
    v_root = md.parts(u, np.maximum(mu, 0.0))
    root_lo, root_hi, pruned_min = _fix_sites(md, u, mu, ub, tol, v_root)
    fix_lo, fix_hi = root_lo, root_hi
    lp.refresh()
    h = lp.h
    # twin groups among the free sites: a node may require one of a group open (a row of
    # the LP, Σ y ≥ 1, its lower bound 0 elsewhere)
    members: list[np.ndarray] = []
    for g in _twin_groups(md):
        g = g[root_hi[g] & ~root_lo[g]]
        if len(g) > 1 and lp.in_s[g].any():
            members.append(g)
    lp.add_sites([int(j) for g in members for j in g if not lp.in_s[j]])
    group_rows = np.arange(h.getNumRow(), h.getNumRow() + len(members), dtype=np.int32)
    for g in members:
        cols = np.array([lp.ycol[int(j)] for j in g], dtype=np.int32)
        h.addRow(0.0, lp.inf, len(cols), cols, np.ones(len(cols)))
    in_group = np.zeros(md.m, dtype=bool)
    for g in members:
        in_group[g] = True
    stats: dict[str, object] = {
        "bb_sites_free": int((root_hi & ~root_lo).sum()),
        "bb_sites_fixed_open": int(root_lo.sum()),
        "bb_groups": len(members),
    }

    def must_of(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, gup: np.ndarray):
        """``lo`` and the cheapest site of each group required open (none open in ``lo``):
        a solution that opens one of a group may as well open its cheapest (None: a group
        required open has no site left)."""
        must = lo
        for gi in np.flatnonzero(gup):
            g = members[gi]
            if lo[g].any():
                continue
            c = g[hi[g]]
            if not len(c):
                return None
            if must is lo:
                must = lo.copy()
            must[c[np.argmin(v[c])]] = True
        return must

    def node_pick(nu, nmu, v, lo, hi, gup) -> float:
        must = must_of(v, lo, hi, gup)
        return math.inf if must is None else md.pick(nu, nmu, v, must, hi)

    no_groups = np.zeros(len(members), dtype=bool)
    row_lo = no_groups.copy()  # the group rows' lower bounds now in the LP
    root_lb = node_pick(u, mu, v_root, root_lo, root_hi, no_groups)
    tie = itertools.count()
    # heap entries: bound, tie, lo, hi, groups required open, the parent's basis or None
    heap: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray, object]] = [
        (root_lb, next(tie), root_lo, root_hi, no_groups, None)
    ]
    nodes = lps = priced = node_fixed = cuts = group_branches = 0
    stopped = False

    def take(got: _Incumbent | None) -> None:
        """``got`` if better: the bound to beat, and the root's fixing again (tighter)."""
        nonlocal ub, found, tol, fix_lo, fix_hi, pruned_min
        if got is None or got[0] >= ub - 1e-12 * max(1.0, abs(ub)):
            return
        ub, found = got[0], got
        tol = PRUNE_GAP * max(1.0, abs(ub))
        fix_lo, fix_hi, dropped = _fix_sites(md, u, mu, ub, tol, v_root)
        pruned_min = min(pruned_min, dropped)

    def solve(lo: np.ndarray, hi: np.ndarray, gup: np.ndarray, floor: float):
        """The node's LP over S with the ``y`` bounds ``lo`` / ``hi``, sites priced in."""
        nonlocal lps, priced, cuts
        lp.add_sites([int(j) for j in np.flatnonzero(lo & ~lp.in_s)])
        node_lb, value, status, v = floor, math.inf, "infeasible", None
        nu = nmu = None
        if len(members) and (row_lo != gup).any():
            h.changeRowsBounds(
                len(group_rows), group_rows, gup.astype(float), np.full(len(members), lp.inf)
            )
            row_lo[:] = gup
        while True:
            sites = np.fromiter(lp.ycol, dtype=np.int64)
            cols = np.array([lp.ycol[j] for j in sites], dtype=np.int32)
            h.changeColsBounds(len(cols), cols, lo[sites].astype(float), hi[sites].astype(float))
            got = lp.run(deadline, BB_CHUNK)
            lps += 1
            while lp.cut and not isinstance(got, str):
                # the dual simplex stopped after BB_CHUNK iterations: L at its duals may
                # already prune the node, else it goes on
                value, nu, nmu = got
                v = md.parts(nu, nmu)
                node_lb = max(node_lb, node_pick(nu, nmu, v, lo, hi, gup))
                if node_lb >= ub - tol:
                    cuts += 1
                    return "optimal", node_lb, value, v, nu, nmu
                got = lp.run(deadline, BB_CHUNK)
            if got == "stopped":
                return "stopped", node_lb, value, v, None, None
            if isinstance(got, str):  # infeasible over S: the root's parts price sites in
                v = v_root
                status = "infeasible"
            else:
                value, nu, nmu = got
                v = md.parts(nu, nmu)
                node_lb = max(node_lb, node_pick(nu, nmu, v, lo, hi, gup))
                status = "optimal"
                if node_lb >= ub - tol or value - node_lb <= tol:
                    return status, node_lb, value, v, nu, nmu
            # sites outside S that the node's bound opens (or, infeasible, the cheapest)
            out_s = hi & ~lp.in_s
            if status == "optimal":
                must = must_of(v, lo, hi, gup)
                new = np.flatnonzero(md.chosen(v, must, hi) & out_s)
            else:
                new = np.array(sites_to_add(np.where(out_s, v, np.inf), lp.in_s, SITES_PER_ROUND))
            if not len(new):
                return status, node_lb, value, v, nu, nmu
            priced += len(new)
            lp.add_sites([int(j) for j in new[:SITES_PER_ROUND]])

    while heap:
        if poll is not None:
            take(poll())
        parent_lb, _tie, lo, hi, gup, basis = heap[0]
        if parent_lb >= ub - tol:
            pruned_min = min(pruned_min, parent_lb)
            heapq.heappop(heap)
            continue
        if deadline - time.perf_counter() <= 0.05:
            stopped = True
            break
        heapq.heappop(heap)
        lo, hi = lo | fix_lo, hi & fix_hi
        if (lo & ~hi).any() or must_of(v_root, lo, hi, gup) is None:
            continue  # no solution below ub - tol: the fixing's bound covers it
        if basis is not None:
            h.setBasis(_grown_basis(basis, h.getNumCol(), h.getNumRow()))
        node_lb = parent_lb
        while True:
            status, node_lb, value, v, nu, nmu = solve(lo, hi, gup, node_lb)
            if status != "optimal" or node_lb >= ub - tol:
                break
            # reduced-cost fixing at the node's duals, for its subtree

            def pick(a: np.ndarray, b: np.ndarray) -> float:
                return node_pick(nu, nmu, v, a, b, gup)  # noqa: B023

            lo2, hi2, dropped = _fix_sites(md, nu, nmu, ub, tol, v, lo, hi, pick)
            if (lo2 == lo).all() and (hi2 == hi).all():
                break
            node_fixed += int((lo2 != lo).sum() + (hi2 != hi).sum())
            pruned_min = min(pruned_min, dropped)
            y = lp.y_values()
            moved = ((y > 1e-6) & ~hi2).any() or ((y < 1 - 1e-6) & lo2).any()
            lo, hi = lo2, hi2
            if must_of(v, lo, hi, gup) is None:
                node_lb = math.inf  # its fixings leave a required group no site
                break
            if not moved:
                break
            # the LP's y breaks the fixings: the node's LP again with them
        if status == "stopped":
            heapq.heappush(heap, (parent_lb, next(tie), lo, hi, gup, basis))
            stopped = True
            break
        nodes += 1
        if status == "infeasible":
            continue
        if node_lb >= ub - tol:
            pruned_min = min(pruned_min, node_lb)
            if verbose:
                print(f"cfl_redundant_lp: node {nodes} LP {value:.9g} pruned (open {len(heap)})")
            continue
        y = lp.y_values()
        free = hi & ~lo
        # a group's sum of y if fractional, else a site's y (sites of no group first)
        best_f, group = 1e-6, -1
        for gi, g in enumerate(members):
            if gup[gi] or lo[g].any() or not free[g].any():
                continue
            total = float(y[g].sum())
            if min(total, 1.0 - total) > best_f:
                best_f, group = min(total, 1.0 - total), gi
        frac = np.where(free, np.minimum(y, 1.0 - y), 0.0)
        single = np.where(in_group, 0.0, frac)
        t = int(np.argmax(single))
        if single[t] > best_f:
            group = -1
        elif group < 0:
            t = int(np.argmax(frac))
        if group < 0 and frac[t] <= 1e-6:  # integral: an open set, valued exactly
            mask = (y > 0.5) & hi
            got_open = evaluate_open(data, mask, deadline)
            if got_open is not None:
                take((got_open[0], mask, got_open[1]))
            free_open = np.flatnonzero(free & (y > 0.5))
            if node_lb >= min(value, ub) - tol or not len(free_open):
                pruned_min = min(pruned_min, node_lb)  # its best: this set, or above its bound
                continue
            t = int(free_open[0])  # L below the LP over S: split the node on an open site
        if verbose:
            what = f"group {members[group].tolist()}" if group >= 0 else f"y[{t}] {y[t]:.3f}"
            print(
                f"cfl_redundant_lp: node {nodes} LP {value:.9g} bound {node_lb:.9g} "
                f"(free {int(free.sum())}, S {int(lp.in_s.sum())}, open {len(heap)}, {what})"
            )
        here = (h.getBasis(), h.getNumCol(), h.getNumRow())
        # (a basis about 250 kB: the world tree's open nodes hold tens of them)
        if group >= 0:
            group_branches += 1
            down_hi, up_g = hi.copy(), gup.copy()
            down_hi[members[group]] = False
            up_g[group] = True
            children = ((lo, down_hi, gup), (lo, hi, up_g))
        else:
            down_hi, up_lo = hi.copy(), lo.copy()
            down_hi[t] = False
            up_lo[t] = True
            children = ((lo, down_hi, gup), (up_lo, hi, gup))
        for blo, bhi, bg in children:
            heapq.heappush(heap, (node_lb, next(tie), blo, bhi, bg, here))
    open_min = min((b for b, *_ in heap), default=math.inf)
    bound = min(ub, pruned_min, open_min)
    stats.update(
        bb_proven=not stopped and is_proven(ub, bound),
        bb_nodes=nodes,
        bb_lps=lps,
        bb_priced=priced,
        bb_open=len(heap),
        bb_node_fixed=node_fixed,
        bb_group_branches=group_branches,
        bb_cutoffs=cuts,
        bb_s=time.perf_counter() - t0,
        bb_cpu_s=time.process_time() - c0,
    )
    return _SiteBB(bound, found, stats)


#: With an incumbent to aim at, the strong LP's pricing stops when the time left is under this
#: many times the last LP's (world instance, quiet: LPs of 2.5, 3.3 and 9.1 CPU s over 27, 43
#: and 59 sites) and the ascent (:meth:`_Model.ascend`) raises the last LP's duals instead.
PRICING_ROUNDS_LEFT = 3.0
#: Share of the strong LP's time left that the ascent takes when the pricing stops unproven.
ASCENT_SHARE = 0.5
#: Most open sets near the LP's ``y`` that :func:`solve_capacity_redundant` values exactly.
MAX_ROUNDINGS = 24
#: Share of the time left kept for the rounding after the strong LP.
ROUND_SHARE = 0.1


@dataclass(frozen=True)
class RedundantCapacity:
    """Result of :func:`solve_capacity_redundant`.

    Attributes
    ----------
    bound : float
        Lower bound (objective units, ``-inf`` if none): the strong LP's Lagrangian bound, or
        the site branch and bound's when higher.
    incumbent : tuple or None
        ``(objective, open mask, rows)`` of the best solution found, if better than the one given.
    stats : dict
        ``lp_rounds``, ``lp_sites``, ``lp_proven``, ``lp_value``, ``capred_lp_bound`` (the
        LP's Lagrangian bound), ``lp_cpu_s``, ``rounding_sets``, ``rounding_objective`` and,
        when the site branch and bound ran, ``bb_proven``, ``bb_nodes``, ``bb_lps``,
        ``bb_priced``, ``bb_open``, ``bb_sites_free``, ``bb_sites_fixed_open``, ``bb_groups``
        (twin groups), ``bb_group_branches``, ``bb_node_fixed`` (sites fixed at nodes),
        ``bb_cutoffs`` (nodes pruned by an unfinished LP), ``bb_s``, ``bb_cpu_s``.
    """

    bound: float
    incumbent: _Incumbent | None
    stats: dict[str, object]


def solve_capacity_redundant(
    data: ModelData,
    open_mask: np.ndarray,
    rows: list[tuple[int, int, int, float]],
    objective: float,
    *,
    deadline: float,
    extra_open: np.ndarray | None = None,
    verbose: bool = False,
) -> RedundantCapacity:
    """Bound and improve an incumbent of the capacitated median with backups.

    The incumbent's open set is valued exactly first (:func:`evaluate_open`: its best split
    assignment), then the strong LP bound (:func:`redundant_capacity_bound`, ``S`` started
    from the incumbent's open sites and ``extra_open``, e.g. the relaxation's), then every
    open set that keeps the LP's sites at 1 and completes the count with its fractional ones
    (most-open first, at most :data:`MAX_ROUNDINGS`) is valued exactly, and the best is
    improved by :func:`improve_open`; with the LP proven the swaps run in a thread beside
    the site branch and bound (:func:`_site_bb`), which takes each better set they find as
    its incumbent and stops them when it ends (HiGHS solves without holding the GIL, so the
    two use both cores), its bound replacing the LP's when higher (``stats``: ``bb_proven``,
    ``bb_nodes``, ``bb_sites_free``, ...). Otherwise the swaps run until ``deadline``; an LP
    whose pricing could not end in time has had its duals raised by :meth:`_Model.ascend`
    (``lp_ascent_steps``). All of it runs on the demand classes
    (:class:`_Classes`; ``capred_classes``, ``capred_class_pairs``): the incumbent returned
    is over ``data``'s pairs, valued on them, and the bound less the classes' rounding slack.
    """
    cl = _Classes.of(data)
    res = _solve_classes(
        cl.data,
        open_mask,
        cl.to_class_rows(rows),
        objective,
        deadline=deadline,
        extra_open=extra_open,
        verbose=verbose,
    )
    stats = {**res.stats, "capred_classes": cl.data.n_demand, "capred_class_pairs": cl.data.n_pairs}
    incumbent = res.incumbent
    if incumbent is not None and cl.merged:
        out_rows = cl.to_rows(incumbent[2])
        incumbent = (_rows_cost(data, out_rows), incumbent[1], out_rows)
        if incumbent[0] >= objective - 1e-12 * max(1.0, abs(objective)):
            incumbent = None
    bound = res.bound - cl.slack if math.isfinite(res.bound) else res.bound
    return RedundantCapacity(bound, incumbent, stats)


def _rows_cost(data: ModelData, rows: list[tuple[int, int, int, float]]) -> float:
    """The objective of assignment rows ``(pair, rank, demand, share)`` over ``data``'s pairs."""
    if not rows:
        return 0.0
    arr = np.asarray(rows, dtype=float).reshape(-1, 4)
    p = arr[:, 0].astype(np.int64)
    w = data.weight.astype(float)
    total = float(w.sum())
    c = w[data.pair_i[p]] / (total if total > 0 else 1.0) * data.latency_ms[p].astype(float)
    c = np.where(arr[:, 1] > 1, float(data.backup_weight) * c, c)
    return float(c @ arr[:, 3])


def _solve_classes(
    data: ModelData,
    open_mask: np.ndarray,
    rows: list[tuple[int, int, int, float]],
    objective: float,
    *,
    deadline: float,
    extra_open: np.ndarray | None = None,
    verbose: bool = False,
) -> RedundantCapacity:
    """:func:`solve_capacity_redundant` on the classes' data (rows over its pairs)."""
    t0 = time.perf_counter()
    best: _Incumbent | None = None
    stats: dict[str, object] = {}
    tol = 1e-12 * max(1.0, abs(objective))

    def consider(mask: np.ndarray) -> float:
        nonlocal best
        got = evaluate_open(data, mask, deadline)
        if got is None:
            return math.inf
        cur = objective if best is None else best[0]
        if got[0] < cur - tol:
            best = (got[0], mask.copy(), got[1])
        return got[0]

    consider(np.asarray(open_mask, dtype=bool))
    start = np.asarray(open_mask, dtype=bool).copy()
    if extra_open is not None:
        start |= np.asarray(extra_open, dtype=bool)
    left = deadline - time.perf_counter()
    lp_deadline = deadline - ROUND_SHARE * left if math.isfinite(left) else deadline
    res, md, lp, u_lp, mu_lp = _strong_lp(
        data,
        lp_deadline,
        start,
        rows if best is None else best[2],
        verbose,
        target=objective if best is None else best[0],
    )
    stats.update(
        lp_ascent_steps=res.ascent_steps,
        lp_rounds=res.rounds,
        lp_sites=res.n_sites,
        lp_proven=res.proven,
        lp_value=res.lp_value if math.isfinite(res.lp_value) else None,
        lp_cpu_s=res.cpu_s,
    )
    tried = 0
    if res.y is not None:
        y = res.y
        ones = np.flatnonzero(y > 1 - 1e-6)
        frac = np.flatnonzero((y > 1e-6) & (y <= 1 - 1e-6))
        frac = frac[np.argsort(-y[frac], kind="stable")]
        md_lo = data.n_sites_exact if data.n_sites_exact is not None else data.min_sites
        md_hi = data.n_sites_exact if data.n_sites_exact is not None else data.max_sites
        lo = int(md_lo) if md_lo is not None else 1
        hi = int(md_hi) if md_hi is not None else data.n_sites
        done = False
        for count in range(max(lo, len(ones)), hi + 1):
            need = count - len(ones)
            if need > len(frac) or done:
                break
            for comb in itertools.combinations(frac, need):
                if tried >= MAX_ROUNDINGS or time.perf_counter() >= deadline:
                    done = True
                    break
                mask = np.zeros(data.n_sites, dtype=bool)
                mask[ones] = True
                mask[list(comb)] = True
                value = consider(mask)
                tried += 1
                if verbose:
                    print(f"cfl_redundant_lp: rounding {sorted(np.flatnonzero(mask))} {value:.9g}")
    stats.update(rounding_sets=tried, rounding_objective=None if best is None else best[0])
    bound = res.bound
    stats.update(capred_lp_bound=res.bound)
    cur = best if best is not None else (objective, np.asarray(open_mask, dtype=bool), rows)
    in_time = time.perf_counter() < deadline
    if in_time and not res.proven:  # no tree: the swaps until the deadline
        swapped = improve_open(data, cur[1], cur[2], cur[0], deadline)
        if swapped is not None:
            best = swapped
    elif in_time:  # the swaps in a thread beside the tree (HiGHS runs without the GIL)
        found = _Found()
        stop = threading.Event()
        swaps = threading.Thread(
            target=found.run,
            args=(improve_open, data, cur[1], cur[2], cur[0], deadline),
            kwargs={"on_better": found.offer, "should_stop": stop.is_set},
            daemon=True,
        )
        swaps.start()
        try:
            bb = _site_bb(data, md, lp, u_lp, mu_lp, cur, deadline, verbose, poll=found.best)
        finally:
            stop.set()
            swaps.join()
        if found.error is not None:
            raise found.error
        stats.update(bb.stats)
        for got in (found.best(), bb.incumbent):
            if got is not None and got[0] < (objective if best is None else best[0]) - tol:
                best = got
        bound = max(bound, bb.bound)
    stats.update(capred_s=time.perf_counter() - t0)
    return RedundantCapacity(bound, best, stats)


class _Found:
    """The best incumbent that :func:`improve_open` reports from its thread (locked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._best: _Incumbent | None = None
        self.error: BaseException | None = None

    def offer(self, got: _Incumbent) -> None:
        with self._lock:
            if self._best is None or got[0] < self._best[0]:
                self._best = got

    def best(self) -> _Incumbent | None:
        with self._lock:
            return self._best

    def run(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        try:
            fn(*args, **kwargs)
        except BaseException as exc:  # re-raised by the caller after the join
            self.error = exc

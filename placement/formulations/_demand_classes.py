"""Demand points whose latency rows differ by a constant: one class each, for the merging solvers.

Two demand points with the same allowed pairs (same sites, same primary / backup rules) whose
latencies differ by a constant on every site reach every open set alike: the same site serves
both at every rank. The median solvers with backups (:func:`.redundant._aggregate`) and the
capacitated strong LP with backups (:class:`.cfl_redundant_lp._Classes`) solve one point per
class, of the class's total weight, at the weighted mean offset. This module finds the classes;
each caller builds its own reduced problem from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placement.formulations.data import ModelData

#: Rows equal after rounding their offsets to this many decimals (ms) are merged; each caller
#: subtracts the rounding slack it causes from its bound.
CLASS_DECIMALS = 9


@dataclass(frozen=True)
class DemandClasses:
    """The classes of :func:`demand_classes`, with the pair arrays sorted by (demand, site).

    Attributes
    ----------
    order : numpy.ndarray
        Pair indices sorted by (demand point, site); ``pi``, ``pj``, ``lat``, ``po``, ``bo`` are
        the pairs' demand, site, latency and primary / backup flags in that order.
    start : numpy.ndarray
        Each demand point's first position in the sorted pairs.
    off, rel : numpy.ndarray
        Each point's smallest latency and each sorted pair's latency less it.
    cls : numpy.ndarray
        Each demand point's class.
    rep : numpy.ndarray
        Each class's first member (its representative).
    weight, a_bar : numpy.ndarray
        Each class's total weight and weighted mean offset (the representative's offset when
        the class weighs nothing).
    """

    order: np.ndarray
    pi: np.ndarray
    pj: np.ndarray
    lat: np.ndarray
    po: np.ndarray
    bo: np.ndarray
    start: np.ndarray
    off: np.ndarray
    rel: np.ndarray
    cls: np.ndarray
    rep: np.ndarray
    weight: np.ndarray
    a_bar: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.rep)

    def slack(self, data: ModelData, rel_rep: np.ndarray) -> float:
        """Bound slack of the rounding: ``Σ_i w_i max_j |r_ij − r_rep(i)j| / W`` times the rank
        weights, ``rel_rep`` the representative's ``rel`` on each sorted pair."""
        dev_i = np.maximum.reduceat(np.abs(self.rel - rel_rep), self.start)
        rank_w = 1.0 + (data.redundancy - 1) * float(data.backup_weight)
        return float(data.weight.astype(float) @ dev_i) / float(data.weight.sum()) * rank_w


def demand_classes(data: ModelData, decimals: int = CLASS_DECIMALS) -> DemandClasses | None:
    """The classes of the demand points of ``data``; None when no two points merge (or there is
    nothing to merge: under two points, no weight, no pairs, a point without pairs)."""
    n = data.n_demand
    w = data.weight.astype(float)
    if n < 2 or float(w.sum()) <= 0 or data.n_pairs == 0:
        return None
    order = np.lexsort((data.pair_j, data.pair_i))
    pi, pj, lat = data.pair_i[order], data.pair_j[order], data.latency_ms[order]
    po, bo = data.primary_ok[order], data.backup_ok[order]
    counts = np.bincount(pi, minlength=n)
    if (counts == 0).any():
        return None
    start = np.r_[0, np.cumsum(counts)[:-1]]
    off = np.minimum.reduceat(lat, start)
    rel = lat - np.repeat(off, counts)
    relq = np.round(rel, decimals)
    flags = po.astype(np.int8) + 2 * bo.astype(np.int8)
    keys: dict[tuple[bytes, bytes, bytes], int] = {}
    cls = np.empty(n, dtype=np.int64)
    for i, (s0, c) in enumerate(zip(start.tolist(), counts.tolist(), strict=True)):
        sl = slice(s0, s0 + c)
        key = (pj[sl].tobytes(), relq[sl].tobytes(), flags[sl].tobytes())
        cls[i] = keys.setdefault(key, len(keys))
    n_cls = len(keys)
    if n_cls == n:
        return None
    w_cls = np.bincount(cls, weights=w, minlength=n_cls)
    rep = np.full(n_cls, n, dtype=np.int64)
    np.minimum.at(rep, cls, np.arange(n))  # first member represents the class
    safe = np.where(w_cls > 0, w_cls, 1.0)
    a_bar = np.where(w_cls > 0, np.bincount(cls, weights=w * off, minlength=n_cls) / safe, off[rep])
    return DemandClasses(order, pi, pj, lat, po, bo, start, off, rel, cls, rep, w_cls, a_bar)

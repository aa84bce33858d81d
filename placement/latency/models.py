"""Backbone latency models: great-circle distance or backbone routes → round-trip time.

    latency_ms = fixed_ms + 2 · inflation · path_km / fiber_km_per_ms  [+ hop_ms · hops]

* ``path_km`` is the great-circle distance (:class:`DistanceLatencyModel`) or the length of the
  shortest route over a small backbone graph of metros and submarine-cable landings
  (:class:`RouteLatencyModel`);
* ``inflation`` (≥ 1) multiplies the **one-way** path length: it stands for the fibre that is not
  on the great circle or on the graph's straight edges (road/rail rights of way, slack, detours);
* the factor 2 makes it a round trip; light in silica fibre travels at ``c / n_g`` with group
  index ``n_g ≈ 1.468``, i.e. :data:`FIBER_KM_PER_MS` ≈ 204.2 km per ms;
* ``fixed_ms`` is the distance-independent part of the round trip (both ends' access, switching,
  queueing), and ``hop_ms`` a delay per backbone edge traversed (regeneration, routing).

The defaults are least-squares fits to measured inter-region (datacentre to datacentre) round-trip
times (``data/latency_measured.csv``), reproduced by ``scripts/fit_latency.py``. Users' latency
adds their access network: :class:`placement.latency.access.UserLatencyModel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from placement.geo import distance_matrix_km, haversine_km
from placement.latency.backbone import Backbone
from placement.latency.core import (
    FIBER_KM_PER_MS,
    TABLE_COLUMNS,
    PairMatrices,
    TableModel,
    _check_param,
    _inputs,
    rtt_ms,
)

#: Fitted by ``scripts/fit_latency.py`` (:func:`fit_distance_model` on the training split of
#: :func:`holdout_split`, 1600 Azure pairs); rounded to 5 significant digits.
DISTANCE_FIT = {"access_ms": 5.453, "inflation": 1.6088}


@dataclass(frozen=True)
class DistanceLatencyModel(TableModel):
    """Round-trip time from great-circle distance: ``access_ms + 2·inflation·d / fiber_km_per_ms``.

    Parameters
    ----------
    access_ms : float
        Fixed round-trip delay, ms (fitted default).
    inflation : float
        One-way route-length / great-circle ratio, ≥ 1 (fitted default).
    fiber_km_per_ms : float
        Propagation speed in fibre, km per ms.

    Notes
    -----
    Between cloud regions this model is wrong by ~15–20 % at the median because traffic follows
    cables, not great circles; prefer :class:`RouteLatencyModel` (see :func:`default_model`).
    """

    access_ms: float = field(default_factory=lambda: DISTANCE_FIT["access_ms"])
    inflation: float = field(default_factory=lambda: DISTANCE_FIT["inflation"])
    fiber_km_per_ms: float = FIBER_KM_PER_MS

    def __post_init__(self) -> None:
        _check_param("access_ms", self.access_ms, low=0.0)
        _check_param("inflation", self.inflation, low=1.0)
        _check_param("fiber_km_per_ms", self.fiber_km_per_ms, low=0.0, strict=True)

    def pair_rtt_ms(
        self,
        lat_a_deg: npt.ArrayLike,
        lon_a_deg: npt.ArrayLike,
        lat_b_deg: npt.ArrayLike,
        lon_b_deg: npt.ArrayLike,
    ) -> np.ndarray:
        """Round-trip times (ms) of point pairs given element-wise (degrees)."""
        d = haversine_km(lat_a_deg, lon_a_deg, lat_b_deg, lon_b_deg)
        return rtt_ms(
            d,
            access_ms=self.access_ms,
            inflation=self.inflation,
            fiber_km_per_ms=self.fiber_km_per_ms,
        )

    def components(
        self,
        lat_a: npt.ArrayLike,
        lon_a: npt.ArrayLike,
        lat_b: npt.ArrayLike,
        lon_b: npt.ArrayLike,
        *,
        pairwise: bool = False,
    ) -> dict[str, np.ndarray]:
        """``distance_km``, ``propagation_ms`` and ``latency_ms`` between point sets A and B.

        All pairs, shape (n, m), or element-wise, shape (n,), when ``pairwise``.
        """
        la, oa = np.atleast_1d(np.asarray(lat_a, float)), np.atleast_1d(np.asarray(lon_a, float))
        lb, ob = np.atleast_1d(np.asarray(lat_b, float)), np.atleast_1d(np.asarray(lon_b, float))
        dist = haversine_km(la, oa, lb, ob) if pairwise else distance_matrix_km(la, oa, lb, ob)
        prop = 2.0 * self.inflation * dist / self.fiber_km_per_ms
        return {"distance_km": dist, "propagation_ms": prop, "latency_ms": self.access_ms + prop}

    def _pair_matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> PairMatrices:
        c = self.components(
            demand["lat_deg"], demand["lon_deg"], sites["lat_deg"], sites["lon_deg"]
        )
        return PairMatrices(c["distance_km"], c["latency_ms"])

    def explain(self, demand: pd.DataFrame, sites: pd.DataFrame, **pruning: object) -> pd.DataFrame:
        """Per-pair breakdown: ``path_km`` (= great-circle), ``inflation``, ``fixed_ms``,
        ``propagation_ms`` and their sum ``latency_ms``. Pruning arguments as in :meth:`table`."""
        t = self.table(demand, sites, **pruning)  # type: ignore[arg-type]
        prop = 2.0 * self.inflation * t["distance_km"].to_numpy() / self.fiber_km_per_ms
        return t.assign(
            path_km=t["distance_km"],
            hops=0,
            inflation=self.inflation,
            fixed_ms=self.access_ms,
            hop_delay_ms=0.0,
            propagation_ms=prop,
        )[
            [
                *TABLE_COLUMNS[:3],
                "path_km",
                "hops",
                "inflation",
                "fixed_ms",
                "hop_delay_ms",
                "propagation_ms",
                "latency_ms",
            ]
        ]


#: Fitted by ``scripts/fit_latency.py`` (:func:`fit_route_model` on the training split of
#: :func:`holdout_split`, 1600 Azure pairs); rounded to 5 significant digits.
ROUTE_FIT = {"access_ms": 3.9656, "inflation": 1.19969, "hop_ms": 1.9546}

#: Each endpoint joins the backbone at its nearest node. (Joining at any of the nearest few lets a
#: great-circle "leg" to a far node bypass the cables, and fits worse.)
N_ATTACH = 1


@dataclass(frozen=True)
class RouteLatencyModel(TableModel):
    """Round-trip time along the shortest backbone route.

    ``latency_ms = access_ms + 2·inflation·path_km / fiber_km_per_ms + hop_ms·hops``

    where ``path_km`` = great-circle leg from the demand point to a backbone node + shortest route
    over the backbone + leg from a backbone node to the site (each endpoint joins at its nearest
    node), and ``hops`` the backbone edges on it. Two points closer to
    each other than to their nearest backbone node are joined directly (``path_km`` = great-circle,
    ``hops`` = 0).

    Parameters
    ----------
    access_ms, inflation, hop_ms : float
        Fixed round-trip delay (ms), one-way route-length inflation (≥ 1) and round-trip delay per
        backbone hop (ms); defaults fitted on measurements.
    fiber_km_per_ms : float
        Propagation speed in fibre, km per ms.
    backbone : Backbone, optional
        The graph; default the shipped one (:meth:`Backbone.shipped`).

    Notes
    -----
    On Azure inter-region pairs touching held-out locations (750 pairs; 1600 training pairs) the
    absolute error of the round trip is 6.6 % at the median and 16.7 % at the 90th percentile,
    against 12.8 % / 32.9 % for :class:`DistanceLatencyModel` (``scripts/fit_latency.py``).
    Measured cloud routes sometimes avoid the shortest cable path (e.g. Israel–Gulf via Europe);
    those pairs stay under-predicted.

    References
    ----------
    .. [1] Microsoft, "Azure network round-trip latency statistics" (calibration data).
    .. [2] ``data/SOURCES.md``, "Backbone graph": the cable systems behind each submarine edge.
    """

    access_ms: float = field(default_factory=lambda: ROUTE_FIT["access_ms"])
    inflation: float = field(default_factory=lambda: ROUTE_FIT["inflation"])
    hop_ms: float = field(default_factory=lambda: ROUTE_FIT["hop_ms"])
    fiber_km_per_ms: float = FIBER_KM_PER_MS
    backbone: Backbone | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_param("access_ms", self.access_ms, low=0.0)
        _check_param("inflation", self.inflation, low=1.0)
        _check_param("hop_ms", self.hop_ms, low=0.0)
        _check_param("fiber_km_per_ms", self.fiber_km_per_ms, low=0.0, strict=True)
        if self.backbone is None:
            object.__setattr__(self, "backbone", Backbone.shipped())

    @property
    def _ms_per_km(self) -> float:
        return 2.0 * self.inflation / self.fiber_km_per_ms

    @cached_property
    def _graph(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hop_km = self.hop_ms / self._ms_per_km
        return self.backbone.all_pairs(hop_equivalent_km=hop_km)  # type: ignore[union-attr]

    def _attach(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nodes = self.backbone.nodes  # type: ignore[union-attr]
        d = distance_matrix_km(lat, lon, nodes["lat_deg"], nodes["lon_deg"])
        k = min(N_ATTACH, d.shape[1])
        idx = np.argsort(d, axis=1, kind="stable")[:, :k]
        return idx, np.take_along_axis(d, idx, axis=1)

    def paths(
        self,
        lat_a: npt.ArrayLike,
        lon_a: npt.ArrayLike,
        lat_b: npt.ArrayLike,
        lon_b: npt.ArrayLike,
        *,
        pairwise: bool = False,
    ) -> dict[str, np.ndarray]:
        """Routes between point sets A (n) and B (m), all pairs or element-wise.

        Returns
        -------
        dict
            ``distance_km`` (great-circle), ``path_km``, ``hops``, ``node_a``, ``node_b`` (indices
            of the backbone nodes where the route joins, -1 if joined directly), shape (n, m) or
            (n,) when ``pairwise``.
        """
        la, oa = np.atleast_1d(np.asarray(lat_a, float)), np.atleast_1d(np.asarray(lon_a, float))
        lb, ob = np.atleast_1d(np.asarray(lat_b, float)), np.atleast_1d(np.asarray(lon_b, float))
        km, hops, _ = self._graph
        hop_km = self.hop_ms / self._ms_per_km
        ia, da = self._attach(la, oa)
        ib, db = self._attach(lb, ob)
        if pairwise:
            gc = haversine_km(la, oa, lb, ob)
            shape = gc.shape
            A = (slice(None),)
            B = (slice(None),)
        else:
            gc = distance_matrix_km(la, oa, lb, ob)
            shape = gc.shape
            A = (slice(None), None)
            B = (None, slice(None))
        best = np.full(shape, np.inf)
        best_km = np.full(shape, np.inf)
        best_h = np.zeros(shape)
        na = np.full(shape, -1)
        nb = np.full(shape, -1)
        for p in range(ia.shape[1]):
            for q in range(ib.shape[1]):
                ni = ia[:, p][A]
                nj = ib[:, q][B]
                route_km = km[ni, nj]
                h = hops[ni, nj]
                total_km = da[:, p][A] + route_km + db[:, q][B]
                cost = total_km + hop_km * h
                better = cost < best
                best = np.where(better, cost, best)
                best_km = np.where(better, total_km, best_km)
                best_h = np.where(better, h, best_h)
                na = np.where(better, np.broadcast_to(ni, shape), na)
                nb = np.where(better, np.broadcast_to(nj, shape), nb)
        direct = gc <= np.maximum(da[:, 0][A], db[:, 0][B])
        best_km = np.where(direct, gc, best_km)
        best_h = np.where(direct, 0.0, best_h)
        na = np.where(direct, -1, na)
        nb = np.where(direct, -1, nb)
        return {"distance_km": gc, "path_km": best_km, "hops": best_h, "node_a": na, "node_b": nb}

    def _latency(self, path_km: np.ndarray, hops: np.ndarray) -> np.ndarray:
        return self.access_ms + self._ms_per_km * path_km + self.hop_ms * hops

    def pair_rtt_ms(
        self,
        lat_a_deg: npt.ArrayLike,
        lon_a_deg: npt.ArrayLike,
        lat_b_deg: npt.ArrayLike,
        lon_b_deg: npt.ArrayLike,
    ) -> np.ndarray:
        """Round-trip times (ms) of point pairs given element-wise (degrees)."""
        r = self.paths(lat_a_deg, lon_a_deg, lat_b_deg, lon_b_deg, pairwise=True)
        return self._latency(r["path_km"], r["hops"])

    def components(
        self,
        lat_a: npt.ArrayLike,
        lon_a: npt.ArrayLike,
        lat_b: npt.ArrayLike,
        lon_b: npt.ArrayLike,
        *,
        pairwise: bool = False,
    ) -> dict[str, np.ndarray]:
        """:meth:`paths` plus ``propagation_ms`` and ``latency_ms`` (all pairs or element-wise)."""
        r = self.paths(lat_a, lon_a, lat_b, lon_b, pairwise=pairwise)
        r["propagation_ms"] = self._ms_per_km * r["path_km"]
        r["latency_ms"] = self._latency(r["path_km"], r["hops"])
        return r

    def _pair_matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> PairMatrices:
        """``distance_km`` is the great-circle distance (not the route length; see
        :meth:`explain`)."""
        c = self.components(
            demand["lat_deg"], demand["lon_deg"], sites["lat_deg"], sites["lon_deg"]
        )
        return PairMatrices(c["distance_km"], c["latency_ms"])

    def explain(self, demand: pd.DataFrame, sites: pd.DataFrame, **pruning: object) -> pd.DataFrame:
        """Per-pair breakdown of :meth:`table`'s rows.

        Columns: ``demand_id, site_id, distance_km, path_km, hops, inflation, fixed_ms,
        hop_delay_ms, propagation_ms, latency_ms, route`` (the backbone nodes, ``a>b>c``; empty
        when the points are joined directly). ``latency_ms = fixed_ms + hop_delay_ms +
        propagation_ms``.
        """
        t = self.table(demand, sites, **pruning)  # type: ignore[arg-type]
        d, s = _inputs(demand, sites)
        di = pd.Index(d["demand_id"]).get_indexer(t["demand_id"])
        si = pd.Index(s["site_id"]).get_indexer(t["site_id"])
        r = self.paths(
            d["lat_deg"].to_numpy()[di],
            d["lon_deg"].to_numpy()[di],
            s["lat_deg"].to_numpy()[si],
            s["lon_deg"].to_numpy()[si],
            pairwise=True,
        )
        _, _, pred = self._graph
        routes = [
            ">".join(self.backbone.route(int(a), int(b), pred)) if a >= 0 else ""  # type: ignore[union-attr]
            for a, b in zip(r["node_a"], r["node_b"], strict=True)
        ]
        return pd.DataFrame(
            {
                "demand_id": t["demand_id"],
                "site_id": t["site_id"],
                "distance_km": t["distance_km"],
                "path_km": r["path_km"],
                "hops": r["hops"].astype(int),
                "inflation": self.inflation,
                "fixed_ms": self.access_ms,
                "hop_delay_ms": self.hop_ms * r["hops"],
                "propagation_ms": self._ms_per_km * r["path_km"],
                "latency_ms": t["latency_ms"],
                "route": routes,
            }
        )

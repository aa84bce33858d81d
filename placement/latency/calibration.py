"""Calibration of the backbone models on measured inter-region round trips, and hold-out checks.

The measurements are ``data/latency_measured.csv`` (Azure inter-region statistics, see
``data/SOURCES.md``); ``scripts/fit_latency.py`` runs these fits and prints the hold-out errors.
User-level (access network) calibration is in :mod:`placement.latency.access_fit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from placement._resources import data_file
from placement.geo import haversine_km
from placement.latency.backbone import Backbone
from placement.latency.core import FIBER_KM_PER_MS, _check_param
from placement.latency.models import DistanceLatencyModel, RouteLatencyModel

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

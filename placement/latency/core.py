"""The round-trip function, parameter checks and the one ``table()`` every latency model shares.

A model implements ``_pair_matrices(demand, sites)`` (validated tables in, a :class:`PairMatrices`
out) and inherits :meth:`TableModel.table`: validation, pruning (``max_latency_ms``,
``k_nearest``), the long table in input order and its ``attrs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from placement.errors import ValidationError
from placement.validate import validate_demand, validate_sites

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


def _inputs(demand: pd.DataFrame, sites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return validate_demand(demand), validate_sites(sites)


@dataclass(frozen=True)
class PairMatrices:
    """What a model computes for all (demand, site) pairs, shape (n_demand, n_sites).

    Attributes
    ----------
    distance_km : numpy.ndarray
        Great-circle distance, km.
    latency_ms : numpy.ndarray
        Round-trip time, ms; ``NaN`` where the model has no value (such pairs are left out).
    measured : numpy.ndarray, optional
        Boolean: True where ``latency_ms`` is a measurement. When given, the table gets a
        ``source`` column (``"measured"`` / ``"modelled"``).
    """

    distance_km: np.ndarray
    latency_ms: np.ndarray
    measured: np.ndarray | None = None


class TableModel:
    """Mixin giving a model the shared :meth:`table` from its ``_pair_matrices``."""

    def _pair_matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> PairMatrices:
        raise NotImplementedError

    def _table_attrs(self) -> dict[str, Any]:
        """Metadata put in the table's ``DataFrame.attrs`` (e.g. the statistic)."""
        return {}

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
            ``demand_id, site_id, distance_km[, source], latency_ms`` (great-circle km, round-trip
            ms; ``source`` is ``measured``/``modelled`` for models that mix the two); rows in the
            demand table's order, then the sites table's order. ``DataFrame.attrs`` says what the
            numbers are (e.g. ``statistic``, ``access``) for models that have such settings.
        """
        _check_pruning(max_latency_ms, k_nearest)
        d, s = _inputs(demand, sites)
        mats = self._pair_matrices(d, s)
        lat = mats.latency_ms
        gaps = np.isnan(lat)
        has_gaps = bool(gaps.any())
        keep = _prune_mask(
            np.where(gaps, np.inf, lat) if has_gaps else lat, max_latency_ms, k_nearest
        )
        if has_gaps:
            keep &= ~gaps
        i, j = np.nonzero(keep)
        cols: dict[str, Any] = {
            "demand_id": d["demand_id"].to_numpy()[i],
            "site_id": s["site_id"].to_numpy()[j],
            "distance_km": mats.distance_km[i, j],
        }
        if mats.measured is not None:
            cols["source"] = pd.Categorical.from_codes(
                mats.measured[i, j].astype(np.int8), categories=["modelled", "measured"]
            )
        cols["latency_ms"] = lat[i, j]
        out = pd.DataFrame(cols)
        out.attrs.update(self._table_attrs())
        return out

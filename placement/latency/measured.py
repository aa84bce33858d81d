"""A user's measured latency table, overriding a model pair by pair."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from placement.errors import ValidationError
from placement.geo import distance_matrix_km
from placement.latency.core import LatencyModel, PairMatrices, TableModel
from placement.validate import validate_latency_table


class MeasuredLatency(TableModel):
    """A user-measured long table ``demand_id, site_id, latency_ms`` that overrides any model.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per measured pair; ``latency_ms`` round trip, finite and ``>= 0`` (validated with
        :func:`placement.validate.validate_latency_table`; bad rows are reported by pair).
    fallback : LatencyModel, optional
        Model for pairs the table omits. Without it (the default), a pair that is needed but not
        measured is an error.

    Notes
    -----
    Its tables carry a ``source`` column: ``measured`` for the pairs of ``df``, ``modelled`` for
    the fallback's; ``DataFrame.attrs`` are the fallback's (e.g. its ``statistic``), so measure the
    same statistic as the fallback computes.
    """

    def __init__(self, df: pd.DataFrame, *, fallback: LatencyModel | None = None) -> None:
        self.measured = validate_latency_table(df)[["demand_id", "site_id", "latency_ms"]]
        self.fallback = fallback

    def __repr__(self) -> str:
        return f"MeasuredLatency(n_pairs={len(self.measured)}, fallback={self.fallback!r})"

    def _table_attrs(self) -> dict[str, Any]:
        attrs = getattr(self.fallback, "_table_attrs", None)
        return attrs() if callable(attrs) else {}

    def _pair_matrices(self, demand: pd.DataFrame, sites: pd.DataFrame) -> PairMatrices:
        """Measured values, else the fallback's.

        Raises
        ------
        ValidationError
            If a (demand, site) pair is not measured and there is no fallback.
        """
        d, s = demand, sites
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
        return PairMatrices(dist, lat, measured=~missing)

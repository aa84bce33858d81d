"""A dense demand × site latency matrix as a latency source (:meth:`Problem.from_cost_matrix`).

A planner with a measured or computed ``n × m`` matrix (TSPLIB distances, OR-Library costs, a
round-trip table) should not pay for a long table of ``n · m`` string-keyed rows: building it,
validating it and indexing it back into arrays cost seconds at ``n = m = 1,500`` where the
solver needs a fraction of that. :class:`CostMatrix` holds the matrix, checked once on
construction (shape, ``-inf``, negative and out-of-range values, each error naming the pair),
and gives the lowering its pairs directly as arrays (:meth:`CostMatrix.pairs`). The long table
is built only when something asks for it (:meth:`CostMatrix.table`, ``Problem.latency``,
``Problem.latency_table()``), with the same rows the matrix describes.

``NaN`` and ``+inf`` mark a pair that is not allowed (as a pair missing from a long table).
Rows and columns are matched to the problem's demand and sites by id, so a problem made from
another (a scenario without some sites, a subset of the demand) still reads the right values;
ids the matrix does not know have no pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from placement import params
from placement.errors import ValidationError

__all__ = ["CostMatrix"]


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{k}" for k in range(n)], dtype=object)


class CostMatrix:
    """A validated dense latency matrix (and optional pair costs) with its row and column ids.

    Parameters
    ----------
    latency_ms : array_like, shape (n_demand, n_sites)
        Latency (or any cost the objective sums) of serving demand ``i`` from site ``j``;
        ``NaN`` or ``inf`` for a pair that is not allowed.
    demand_ids, site_ids : array_like of str
        Ids of the rows and of the columns (``d0, d1, …`` and ``s0, s1, …`` by default).
    cost_usd_per_year : array_like, shape (n_demand, n_sites), optional
        USD per year of serving all of demand ``i`` from site ``j`` (checked on allowed pairs).

    Raises
    ------
    ValidationError
        A matrix that is not 2-D, ids of the wrong length, a pair cost matrix of another
        shape, or a value out of range (negative, ``-inf``, above
        ``params.RANGES``), naming the pair as ``"d4 -> s5"`` and the field.
    """

    def __init__(
        self,
        latency_ms: npt.ArrayLike,
        *,
        demand_ids: npt.ArrayLike | None = None,
        site_ids: npt.ArrayLike | None = None,
        cost_usd_per_year: npt.ArrayLike | None = None,
    ) -> None:
        lat = np.array(latency_ms, dtype=float)  # a copy: later edits of the caller's array
        if lat.ndim != 2:
            raise ValidationError(
                f"must be a 2-D demand x site matrix, got shape {lat.shape}",
                table="latency",
                field="latency_ms",
            )
        n, m = lat.shape
        self.demand_ids = _ids("d", n) if demand_ids is None else np.asarray(demand_ids, object)
        self.site_ids = _ids("s", m) if site_ids is None else np.asarray(site_ids, object)
        for field, ids, size in (
            ("demand_ids", self.demand_ids, n),
            ("site_ids", self.site_ids, m),
        ):
            if ids.shape != (size,):
                raise ValidationError(
                    f"{len(ids)} ids for {size} matrix {'rows' if field[0] == 'd' else 'columns'}",
                    table="latency",
                    field=field,
                )
        lat[np.isnan(lat)] = np.inf  # not allowed, as a pair missing from a long table
        if not (lat < np.inf).any():  # as the long table of no pair would be refused
            raise ValidationError(
                "table is empty: no pair is allowed (every value is inf or NaN)",
                table="latency",
                field="latency_ms",
            )
        self._check("latency_ms", lat, params.RANGES["latency_ms"], lat < np.inf)
        cost = None
        if cost_usd_per_year is not None:
            cost = np.array(cost_usd_per_year, dtype=float)
            if cost.shape != lat.shape:
                raise ValidationError(
                    f"shape {cost.shape} differs from the latency matrix's {lat.shape}",
                    table="latency",
                    field="cost_usd_per_year",
                )
            self._check("cost_usd_per_year", cost, params.RANGES["usd"], lat < np.inf)
            cost.flags.writeable = False
        lat.flags.writeable = False
        self.latency_ms = lat
        self.cost_usd_per_year = cost

    def _check(self, field: str, values: np.ndarray, top: float, allowed: np.ndarray) -> None:
        """Values of the allowed pairs in ``[0, top]`` (``-inf`` counts as a value); else the
        first bad pair is named."""
        bad = ~((values >= 0) & (values <= top)) & (allowed | (values == -np.inf))
        if bad.any():
            i, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise ValidationError(
                f"value must be a finite number in [0, {top:g}]",
                table="latency",
                row=f"{self.demand_ids[i]} -> {self.site_ids[j]}",
                field=field,
                value=float(values[i, j]),
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_sites)`` of the matrix."""
        return self.latency_ms.shape  # type: ignore[return-value]

    def __repr__(self) -> str:
        n, m = self.shape
        return f"CostMatrix({n} demand x {m} sites)"

    def _positions(self, demand_ids: Any, site_ids: Any) -> tuple[np.ndarray, np.ndarray]:
        """Matrix row of every demand id and column of every site id (-1: unknown)."""
        d = np.asarray(demand_ids, dtype=object)
        s = np.asarray(site_ids, dtype=object)
        rows = (
            np.arange(len(d))
            if np.array_equal(d, self.demand_ids)
            else pd.Index(self.demand_ids).get_indexer(d.astype(str))
        )
        cols = (
            np.arange(len(s))
            if np.array_equal(s, self.site_ids)
            else pd.Index(self.site_ids).get_indexer(s.astype(str))
        )
        return rows, cols

    def pairs(
        self,
        demand_ids: Any,
        site_ids: Any,
        max_latency_ms: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """The allowed pairs as arrays, for demand and sites given by id, sorted by (i, j).

        Parameters
        ----------
        demand_ids, site_ids : array_like of str
            The problem's demand and site ids (positions ``i`` and ``j`` refer to them).
        max_latency_ms : float, optional
            Pairs above it (plus 1e-9) are left out, as :func:`placement.lowering.latency_table`
            prunes a long table.

        Returns
        -------
        pair_i, pair_j : numpy.ndarray of int64
        latency_ms : numpy.ndarray of float
        cost_usd_per_year : numpy.ndarray of float or None
            None when the matrix has no pair costs.
        """
        rows, cols = self._positions(demand_ids, site_ids)
        lat = self.latency_ms
        if not np.array_equal(rows, np.arange(lat.shape[0])):
            lat = np.where(rows[:, None] >= 0, lat[np.maximum(rows, 0)], np.inf)
        if not np.array_equal(cols, np.arange(lat.shape[1])):
            lat = np.where(cols[None, :] >= 0, lat[:, np.maximum(cols, 0)], np.inf)
        ok = lat < np.inf
        if max_latency_ms is not None:
            ok &= lat <= max_latency_ms + 1e-9
        n, m = lat.shape
        if lat is self.latency_ms and ok.all():
            # every pair allowed (a full matrix, TSPLIB's): the latency is the matrix itself,
            # read-only and not copied (74 MB at N = 3,038), the solvers read it back as such
            del ok
            pi = np.repeat(np.arange(n, dtype=np.int64), m)
            pj = np.tile(np.arange(m, dtype=np.int64), n)
            value = lat.reshape(-1)
        else:
            pi, pj = np.nonzero(ok)  # row-major: sorted by (i, j)
            del ok
            pi, pj = pi.astype(np.int64, copy=False), pj.astype(np.int64, copy=False)
            value = lat[pi, pj]
        cost = None
        if self.cost_usd_per_year is not None:
            cost = self.cost_usd_per_year[rows[pi], cols[pj]]
        return pi, pj, value, cost

    def table(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        max_latency_ms: float | None = None,
    ) -> pd.DataFrame:
        """The long table ``demand_id, site_id, latency_ms`` (``cost_usd_per_year``) it describes.

        Valid as built (ids of the given tables, one row per allowed pair, values checked on
        construction), in the order of the demand and then the sites.
        """
        d = demand["demand_id"].astype(str).to_numpy(dtype=object)
        s = sites["site_id"].astype(str).to_numpy(dtype=object)
        pi, pj, lat, cost = self.pairs(d, s, max_latency_ms)
        out = pd.DataFrame({"demand_id": d[pi], "site_id": s[pj], "latency_ms": lat})
        if cost is not None:
            out["cost_usd_per_year"] = cost
        return out

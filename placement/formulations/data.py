"""The numeric form of a problem that every formulation reads.

:class:`ModelData` holds numpy arrays only (no DataFrames, no PuLP objects): the sparse list of
allowed (demand, site) pairs with their latency and cost, per-site costs and limits, and the
objective's settings. :func:`nearest_assignments` turns a set of open sites into primary and
backup assignments, shared by the formulations that decide only which sites open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ModelData", "nearest_assignments"]


@dataclass(frozen=True, eq=False)
class ModelData:
    """Arrays describing one optimisation problem (built by :class:`placement.Problem`).

    Pairs are the (demand ``i``, site ``j``) combinations that may be used at all; a pair may be
    usable as primary (``primary_ok``: within the hard SLA and residency rules) and/or as backup
    (``backup_ok``). Weights are the demand's unit (e.g. users); latencies are ms.
    """

    n_demand: int
    n_sites: int
    weight: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    latency_ms: np.ndarray
    pair_cost_usd: np.ndarray
    primary_ok: np.ndarray
    backup_ok: np.ndarray
    fixed_usd: np.ndarray
    variable_usd_per_unit: np.ndarray
    domain: np.ndarray
    provider: np.ndarray
    must_open: np.ndarray
    forbidden: np.ndarray
    objective: str = "median"
    n_sites_exact: int | None = None
    max_sites: int | None = None
    min_sites: int | None = None
    sla_ms: float | None = None
    sla_share: float | None = None
    redundancy: int = 1
    backup_weight: float = 0.5
    capacity: np.ndarray | None = None
    single_sourcing: bool = False
    budget_usd: float | None = None
    max_per_provider: dict[int, int] = field(default_factory=dict)
    latency_weight_usd_per_ms: float = 0.0
    latency_penalty_usd_per_unit_ms: float = 0.0
    set_cover_by: str = "count"

    @property
    def total_weight(self) -> float:
        """Sum of the demand weights."""
        return float(self.weight.sum())

    @property
    def n_pairs(self) -> int:
        """Number of allowed (demand, site) pairs."""
        return len(self.pair_i)

    def usable_primary(self) -> np.ndarray:
        """Mask of the pairs that may serve as primaries: allowed (SLA, residency) and to a
        site that is not forbidden."""
        return self.primary_ok & ~self.forbidden[self.pair_j]


def nearest_assignments(data: ModelData, open_mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Assign every demand point to its nearest open site, and backups in distinct domains.

    Parameters
    ----------
    data : ModelData
        The problem arrays.
    open_mask : numpy.ndarray of bool, shape (n_sites,)
        Which sites are open.

    Returns
    -------
    list of (pair index, rank, demand index)
        Rank 1 is the nearest open site among primary-allowed pairs; ranks 2..k are the nearest
        open backup-allowed sites in failure domains not used yet. Ties break by site index.
        Demand points with no open allowed site get no row.
    """
    if data.redundancy == 1:  # nearest open primary-allowed pair of every demand, vectorised
        cand = np.flatnonzero(open_mask[data.pair_j] & data.primary_ok)
        cand = cand[np.lexsort((data.pair_j[cand], data.latency_ms[cand], data.pair_i[cand]))]
        _, first = np.unique(data.pair_i[cand], return_index=True)
        best = cand[first]
        return [(int(p), 1, int(i)) for p, i in zip(best, data.pair_i[best], strict=True)]
    order = np.lexsort((data.pair_j, data.latency_ms, data.pair_i))
    rows: list[tuple[int, int, int]] = []
    k = data.redundancy
    starts = np.searchsorted(data.pair_i[order], np.arange(data.n_demand + 1))
    for i in range(data.n_demand):
        block = order[starts[i] : starts[i + 1]]
        block = block[open_mask[data.pair_j[block]]]
        primary = block[data.primary_ok[block]]
        if len(primary) == 0:
            continue
        first = int(primary[0])
        rows.append((first, 1, i))
        used = {int(data.domain[data.pair_j[first]])}
        rank = 2
        for p in block[data.backup_ok[block]]:
            if rank > k:
                break
            d = int(data.domain[data.pair_j[p]])
            if d in used:
                continue
            used.add(d)
            rows.append((int(p), rank, i))
            rank += 1
    return rows

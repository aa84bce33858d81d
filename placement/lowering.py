"""Lowering: a validated :class:`~placement.problem.Problem` turned into the arrays solvers read.

One pass, in order: the latency source is chosen (:func:`latency_source`), its table computed,
validated and pruned by the hard SLAs once (:func:`latency_table`); site costs are computed once
(:func:`site_costs`); both become a :class:`~placement.formulations.data.ModelData`
(:func:`build_model_data`). :func:`lower` does all three and returns them together as
:class:`Lowered`, which diagnosis, the solvers and result assembly share.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placement import params
from placement.errors import ValidationError
from placement.formulations.data import ModelData
from placement.matrix import CostMatrix
from placement.validate import validate_latency_table, validate_site_costs

if TYPE_CHECKING:
    from placement.problem import Problem

__all__ = [
    "Lowered",
    "all_pairs",
    "best_sites",
    "build_model_data",
    "latency_source",
    "latency_statistic",
    "latency_table",
    "lower",
    "prune_latency_ms",
    "site_costs",
    "unreachable_demand",
]


@dataclass(frozen=True, eq=False)
class Lowered:
    """A problem in the form every later step reads.

    Attributes
    ----------
    table : pandas.DataFrame
        The validated, pruned long latency table (of a dense matrix, built when first read:
        the arrays come from the matrix).
    costs : pandas.DataFrame or None
        Site cost components (index ``site_id``), None when nothing is costed.
    data : ModelData
        The arrays the solvers read.
    build_s : float
        Seconds spent lowering.
    problem : Problem
        The problem the arrays describe (without the excluded demand points, if any).
    unreachable : pandas.DataFrame or None
        Demand points no allowed site reaches (``demand_id, name, weight, best_site_id,
        best_latency_ms, handling``), when the problem's ``unreachable`` policy is not
        ``"error"``.
    source : object
        The latency table or model the table came from (of the problem as given).
    statistic : str or None
        The statistic of users' round trip the latencies are in (None for a table).
    """

    given_table: pd.DataFrame | None
    costs: pd.DataFrame | None
    data: ModelData
    build_s: float = 0.0
    problem: Any = None
    unreachable: pd.DataFrame | None = None
    source: Any = None
    statistic: str | None = None

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """The validated, pruned long latency table (see the class attributes)."""
        if self.given_table is not None:
            return self.given_table
        return latency_table(self.problem)


def latency_source(problem: Problem) -> Any:
    """The problem's latency table or model (the calibrated default model when none is given),
    stated in the problem's ``latency_statistic`` when it sets one; a dense matrix
    (:class:`~placement.matrix.CostMatrix`) as it is."""
    if problem.cost_matrix is not None:
        return problem.cost_matrix
    source = problem.latency
    if source is None:
        from placement import latency as latency_mod

        source = latency_mod.default_model()
    stat = getattr(problem, "latency_statistic", None)
    if stat is not None and getattr(source, "statistic", stat) != stat:
        source = source.replace(statistic=stat)
    return source


def latency_statistic(problem: Problem) -> str | None:
    """The statistic the problem's latencies are in (None for a table or a model without one);
    read from the arguments, without building the model."""
    if problem.cost_matrix is not None or isinstance(problem.latency, pd.DataFrame):
        return None
    if problem.latency_statistic is not None:
        return problem.latency_statistic
    if problem.latency is not None:
        return getattr(problem.latency, "statistic", None)
    from placement.latency import DEFAULT_STATISTIC

    return DEFAULT_STATISTIC


def prune_latency_ms(problem: Problem) -> float | None:
    """The latency beyond which no pair can be used (None when every pair may be)."""
    if problem.max_latency_ms is None or problem.objective == "coverage":
        return None
    if problem.redundancy == 1:
        return problem.max_latency_ms
    if problem.backup_max_latency_ms is not None:
        return max(problem.max_latency_ms, problem.backup_max_latency_ms)
    return None


def latency_table(problem: Problem, source: Any = None) -> pd.DataFrame:
    """The long latency table the model uses, validated once and pruned by the hard SLAs.

    ``source`` is the problem's :func:`latency_source` when the caller has it already.
    """
    prune = prune_latency_ms(problem)
    source = latency_source(problem) if source is None else source
    if isinstance(source, pd.DataFrame) and problem.latency_validated:
        table = source  # validated once for every point of a sweep (Problem.with_full_latency)
    elif isinstance(source, CostMatrix):  # valid as built (values checked on construction)
        table = source.table(problem.demand, problem.sites, max_latency_ms=prune)
    else:
        modelled = not isinstance(source, pd.DataFrame)
        if modelled:
            source = source.table(problem.demand, problem.sites, max_latency_ms=prune)
        if modelled and len(source) == 0:
            # a model pruned by the SLA down to no pair at all: not bad input, an unreachable
            # SLA that the diagnosis explains (every demand point without a site in reach)
            table = source
        else:
            table = validate_latency_table(
                source, site_ids=problem.sites["site_id"], demand_ids=problem.demand["demand_id"]
            )
    if prune is not None:
        keep = table["latency_ms"].to_numpy(dtype=float) <= prune + 1e-9
        if not keep.all():
            table = table[keep]
    return table.reset_index(drop=True)


def site_costs(problem: Problem) -> pd.DataFrame | None:
    """Cost components per site (index ``site_id``), or None when nothing is costed."""
    if problem.cost_model is not None:
        costs = problem.cost_model.site_costs(problem.sites)
        # extreme cost-model inputs are refused, naming the site and column, before a model
        return validate_site_costs(costs).reindex(problem.sites["site_id"])
    if "fixed_cost_usd_per_year" in problem.sites.columns:
        fixed = problem.sites.set_index("site_id")["fixed_cost_usd_per_year"].astype(float)
        if fixed.isna().any():
            bad = fixed[fixed.isna()].index[0]
            raise ValidationError(
                "missing value", table="sites", row=bad, field="fixed_cost_usd_per_year"
            )
        return pd.DataFrame(
            {"fixed_usd_per_year": fixed, "total_usd_per_year": fixed},
        )
    return None


def build_model_data(
    problem: Problem, table: pd.DataFrame | None, costs: pd.DataFrame | None
) -> ModelData:
    """The numeric form of ``problem`` (see :class:`ModelData`) from its lowered tables.

    Parameters
    ----------
    problem : Problem
        The validated problem.
    table : pandas.DataFrame or None
        Its latency table (:func:`latency_table`); None to take the pairs from the problem's
        dense matrix (:attr:`Problem.cost_matrix`, pruned as the table would be), or from its
        latency table computed here when it has no matrix.
    costs : pandas.DataFrame or None
        Its site costs (:func:`site_costs`).

    Returns
    -------
    ModelData
    """
    if table is None and problem.cost_matrix is not None:
        pi, pj, lat, pc = problem.cost_matrix.pairs(
            problem.demand["demand_id"], problem.sites["site_id"], prune_latency_ms(problem)
        )
        pair_cost = _no_pair_cost(len(pi)) if pc is None else pc
    else:
        pi, pj, lat, pair_cost = _pairs(problem, latency_table(problem) if table is None else table)
    primary_ok, backup_ok = _allowed(problem, pi, pj, lat)
    fixed, variable = _site_cost_arrays(costs, len(problem.sites))
    provider, limits = _provider_limits(problem)
    ids = problem.sites["site_id"]
    return ModelData(
        n_demand=len(problem.demand),
        n_sites=len(problem.sites),
        weight=problem.demand["weight"].to_numpy(dtype=float),
        pair_i=pi,
        pair_j=pj,
        latency_ms=lat,
        pair_cost_usd=pair_cost,
        primary_ok=primary_ok,
        backup_ok=backup_ok,
        fixed_usd=fixed,
        variable_usd_per_unit=variable,
        domain=pd.factorize(problem.sites[problem.failure_domain].astype(str))[0],
        provider=provider,
        must_open=ids.isin(problem.must_open).to_numpy(),
        forbidden=ids.isin(problem.forbidden).to_numpy(),
        objective=problem.objective,
        n_sites_exact=problem.n_sites,
        max_sites=problem.max_sites,
        min_sites=problem.min_sites,
        sla_ms=problem.sla_ms,
        sla_share=problem.sla_share,
        redundancy=problem.redundancy,
        backup_weight=problem.backup_weight,
        capacity=_capacity(problem),
        single_sourcing=problem.single_sourcing,
        budget_usd=problem.budget_usd_per_year,
        max_per_provider=limits,
        latency_weight_usd_per_ms=problem.latency_weight_usd_per_ms or 0.0,
        latency_penalty_usd_per_unit_ms=problem.latency_penalty_usd_per_unit_ms or 0.0,
        set_cover_by=problem.set_cover_by,
    )


def _pairs(
    problem: Problem, table: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Demand and site positions, latency and pair cost of the table's pairs, sorted by (i, j)."""
    pi = pd.Index(problem.demand["demand_id"]).get_indexer(table["demand_id"])
    pj = pd.Index(problem.sites["site_id"]).get_indexer(table["site_id"])
    order = np.lexsort((pj, pi))
    lat = table["latency_ms"].to_numpy(dtype=float)[order]
    pair_cost = (
        table["cost_usd_per_year"].to_numpy(dtype=float)[order]
        if "cost_usd_per_year" in table.columns
        else _no_pair_cost(len(pi))
    )
    return pi[order].astype(np.int64), pj[order].astype(np.int64), lat, pair_cost


def _no_pair_cost(n: int) -> np.ndarray:
    """``n`` zero pair costs as one read-only zero seen ``n`` times (not ``8 n`` bytes)."""
    return np.broadcast_to(np.float64(0.0), (n,))


def _allowed(
    problem: Problem, pi: np.ndarray, pj: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs may serve as primary (hard SLA, residency) and as backup (backup SLA)."""
    primary_ok = np.ones(len(pi), dtype=bool)
    if problem.max_latency_ms is not None and problem.objective != "coverage":
        primary_ok &= lat <= problem.max_latency_ms + 1e-9
    backup_ok = np.ones(len(pi), dtype=bool)
    if problem.backup_max_latency_ms is not None:
        backup_ok &= lat <= problem.backup_max_latency_ms + 1e-9
    if problem.residency:
        col = problem.residency_column
        d_group = problem.demand[col].astype(str).to_numpy()[pi]
        s_group = problem.sites[col].astype(str).to_numpy()[pj]
        allowed = np.ones(len(pi), dtype=bool)
        for group, ok_sites in problem.residency.items():
            rows = d_group == group
            allowed[rows] = np.isin(s_group[rows], ok_sites)
        primary_ok &= allowed
        backup_ok &= allowed
    return primary_ok, backup_ok


def _site_cost_arrays(costs: pd.DataFrame | None, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed USD per year and variable USD per unit per year of every site (zeros uncosted)."""
    if costs is None:
        return np.zeros(m), np.zeros(m)
    fixed = costs["total_usd_per_year"].to_numpy(dtype=float)
    variable = (
        costs["variable_usd_per_unit_per_year"].to_numpy(dtype=float)
        if "variable_usd_per_unit_per_year" in costs.columns
        else np.zeros(m)
    )
    if np.isnan(fixed).any() or np.isnan(variable).any():
        bad = costs.index[np.isnan(fixed) | np.isnan(variable)][0]
        raise ValidationError("cost is missing for this site", table="sites", row=bad)
    return fixed, variable


def _provider_limits(problem: Problem) -> tuple[np.ndarray, dict[int, int]]:
    """Provider code of every site and the per-provider open-site limits by code."""
    m = len(problem.sites)
    has_provider = "provider" in problem.sites.columns
    names = problem.sites["provider"].astype(str) if has_provider else pd.Series([""] * m)
    provider, labels = pd.factorize(names)
    mpp = problem.max_sites_per_provider
    if mpp is None:
        return provider, {}
    if not has_provider:
        raise params.param_error("max_sites_per_provider", "sites have no provider column")
    if not isinstance(mpp, Mapping):  # checked by params on construction
        return provider, {code: int(mpp) for code in range(len(labels))}
    limits: dict[int, int] = {}
    for prov, lim in mpp.items():
        if str(prov) not in list(labels):
            raise params.param_error("max_sites_per_provider", "unknown provider", prov)
        limits[list(labels).index(str(prov))] = int(lim)
    return provider, limits


def _capacity(problem: Problem) -> np.ndarray | None:
    """Site capacities in the demand's weight unit (None when unconstrained)."""
    if problem.capacity is None:
        return None
    m = len(problem.sites)
    if not isinstance(problem.capacity, str):
        return np.full(m, float(problem.capacity))
    capacity = pd.to_numeric(problem.sites[problem.capacity], errors="coerce").to_numpy(dtype=float)
    if np.isnan(capacity).any():
        bad = problem.sites["site_id"].iloc[int(np.flatnonzero(np.isnan(capacity))[0])]
        raise ValidationError("capacity is missing", table="sites", row=bad, field=problem.capacity)
    return capacity


def lower(problem: Problem) -> Lowered:
    """Latency table, site costs and ModelData of ``problem``, each computed once.

    With ``problem.unreachable`` other than ``"error"``, demand points without any allowed site
    are listed (:attr:`Lowered.unreachable`, with their best possible latency) and either left
    out (``"exclude"``: :attr:`Lowered.problem` is the problem without them) or served from any
    site (``"best-effort"``: their pairs are added and allowed, the SLA waived for them alone).
    """
    import time

    t0 = time.perf_counter()
    source = latency_source(problem)
    statistic = latency_statistic(problem)
    # a dense matrix gives its pairs as arrays: no long table (built if something reads it)
    table = None if isinstance(source, CostMatrix) else latency_table(problem, source)
    costs = site_costs(problem)
    data = build_model_data(problem, table, costs)
    unreachable = _unreachable_rows(problem, data)
    kept = None
    if unreachable is not None:
        kept = ~problem.demand["demand_id"].isin(unreachable["demand_id"]).to_numpy()
    if kept is not None and problem.unreachable == "exclude" and kept.any() and table is None:
        # the same matrix, read for the demand kept (its rows are matched by id)
        problem = problem.replace(
            demand=problem.demand[kept].reset_index(drop=True), unreachable="error"
        )
        data = build_model_data(problem, None, costs)
    elif kept is not None and problem.unreachable == "exclude" and kept.any():
        # a subset of the table validated above; it holds the statistic already
        problem = problem._with_validated_latency(
            table[table["demand_id"].isin(problem.demand["demand_id"][kept])],
            demand=problem.demand[kept].reset_index(drop=True),
            latency_statistic=None,
            unreachable="error",
        )
        table = latency_table(problem)
        data = build_model_data(problem, table, costs)
    elif kept is not None and problem.unreachable == "best-effort":
        extra = all_pairs(problem, unreachable["demand_id"])
        table = latency_table(problem, source) if table is None else table
        table = pd.concat([table, extra], ignore_index=True).drop_duplicates(
            ["demand_id", "site_id"]
        )
        data = build_model_data(problem, table, costs)
        waived = np.isin(
            data.pair_i,
            np.flatnonzero(problem.demand["demand_id"].isin(unreachable["demand_id"]).to_numpy()),
        )
        data = dataclasses.replace(
            data, primary_ok=data.primary_ok | waived, backup_ok=data.backup_ok | waived
        )
    return Lowered(
        given_table=table,
        costs=costs,
        data=data,
        build_s=time.perf_counter() - t0,
        problem=problem,
        unreachable=unreachable,
        source=source,
        statistic=statistic,
    )


def all_pairs(problem: Problem, demand_ids: pd.Series) -> pd.DataFrame:
    """Every pair of the given demand points, validated, whatever their latency."""
    demand = problem.demand[problem.demand["demand_id"].isin(demand_ids)]
    source = latency_source(problem)
    if isinstance(source, pd.DataFrame):
        table = source[source["demand_id"].astype(str).isin(set(demand["demand_id"]))]
    else:
        table = source.table(demand, problem.sites)
    return validate_latency_table(
        table, site_ids=problem.sites["site_id"], demand_ids=demand["demand_id"]
    )


def unreachable_demand(data: ModelData) -> np.ndarray:
    """Positions of the demand points with no usable primary pair (no allowed, open-able site)."""
    has_primary = np.zeros(data.n_demand, dtype=bool)
    has_primary[data.pair_i[data.usable_primary()]] = True
    return np.flatnonzero(~has_primary)


def best_sites(problem: Problem, demand_ids: pd.Series) -> pd.DataFrame:
    """Each given demand point's nearest site that is not forbidden, whatever the SLA.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``demand_id``: ``site_id`` and ``latency_ms`` (ties by site id); points
        with no such site are absent.
    """
    pairs = all_pairs(problem, demand_ids)
    allowed = ~pairs["site_id"].isin(problem.forbidden)
    return (
        pairs[allowed]
        .sort_values(["demand_id", "latency_ms", "site_id"], kind="stable")
        .drop_duplicates("demand_id")
        .set_index("demand_id")[["site_id", "latency_ms"]]
    )


def _unreachable_rows(problem: Problem, data: ModelData) -> pd.DataFrame | None:
    """The unreachable demand points with their best possible site and latency (None if none)."""
    if problem.unreachable == "error" or problem.objective == "coverage":
        return None
    lost = unreachable_demand(data)
    if not len(lost):
        return None
    demand = problem.demand.iloc[lost]
    best = best_sites(problem, demand["demand_id"])
    rows = pd.DataFrame(
        {
            "demand_id": demand["demand_id"].to_numpy(),
            "name": (demand["name"] if "name" in demand else demand["demand_id"]).to_numpy(),
            "weight": demand["weight"].to_numpy(dtype=float),
        }
    )
    rows["best_site_id"] = rows["demand_id"].map(best["site_id"])
    rows["best_latency_ms"] = rows["demand_id"].map(best["latency_ms"]).astype(float)
    rows["handling"] = "excluded" if problem.unreachable == "exclude" else "best-effort"
    return rows.reset_index(drop=True)

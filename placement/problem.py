"""The placement problem: sites, demand, latency and cost, an objective and constraints.

:class:`Problem` validates everything on construction (errors name the parameter or the row),
explains infeasibility in words before solving where it can, turns the tables into
:class:`~placement.formulations.ModelData`, picks a formulation and returns a
:class:`~placement.result.Result`. It never mutates its inputs and keeps no global state.
"""

from __future__ import annotations

import inspect
import math
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from placement import params
from placement._highs import new_highs
from placement.errors import SolverError, ValidationError
from placement.formulations.data import ModelData, nearest_assignments
from placement.result import Result, latency_metrics
from placement.solve import SolverOptions, relative_gap, solve_model
from placement.validate import validate_demand, validate_latency_table, validate_sites

__all__ = ["OBJECTIVES", "LatencySource", "Problem"]

#: Objectives a Problem can optimise.
OBJECTIVES = ("median", "center", "coverage", "set-cover", "cost", "weighted")

_UNITS = {
    "median": "ms (demand-weighted mean latency)",
    "center": "ms (worst latency)",
    "coverage": "share of demand within the SLA",
    "set-cover": "sites",
    "cost": "USD per year",
    "weighted": "USD per year (cost + weight × mean latency)",
}

#: Columns of the sites and demand tables carried into results for reports.
_SITE_INFO = (
    "site_id",
    "display_name",
    "provider",
    "kind",
    "region_code",
    "city",
    "country_code",
    "continent",
    "lat_deg",
    "lon_deg",
    "price_usd_per_kwh",
    "tmean_annual_c",
    "carbon_g_per_kwh",
    "political_stability_est",
    "nearest_hub",
    "hub_distance_km",
)
_DEMAND_INFO = (
    "demand_id",
    "name",
    "country_code",
    "continent",
    "timezone",
    "lat_deg",
    "lon_deg",
    "weight",
)


class LatencySource(Protocol):
    """Anything that turns demand and sites into a long latency table."""

    def table(
        self, demand: pd.DataFrame, sites: pd.DataFrame, *, max_latency_ms: float | None = None
    ) -> pd.DataFrame:  # pragma: no cover - protocol
        ...


def _param_error(field: str, message: str, value: object = None) -> ValidationError:
    return ValidationError(message, table="parameter", field=field, value=value)


def _opt_positive(name: str, value: float | None, *, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _param_error(name, "must be a number", value) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise _param_error(name, "must be a finite number > 0" if not allow_zero else ">= 0", value)
    return v


def _opt_count(name: str, value: int | None, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise _param_error(name, f"must be an integer >= {minimum}", value)
    return int(value)


def _names(df: pd.DataFrame, idx: Iterable[int], limit: int = 5) -> str:
    idx = list(idx)
    col = "name" if "name" in df.columns else "demand_id"
    shown = [str(df[col].iloc[i]) for i in idx[:limit]]
    more = ", …" if len(idx) > limit else ""
    return ", ".join(shown) + more


def _warm_info(start: np.ndarray | None, repaired: bool, sol: object) -> dict[str, Any]:
    """The ``warm_start*`` entries of ``result.solver`` for a fast solve."""
    said = getattr(sol, "warm_start_used", getattr(sol, "warm_start", None))
    return {
        "warm_start": start is not None,
        "warm_start_repaired": start is not None and repaired,
        "warm_start_incumbent": None if start is None or said is None else bool(said),
    }


class Problem:
    """A site-placement problem.

    Parameters
    ----------
    sites : pandas.DataFrame
        Candidate sites: ``site_id``, ``lat_deg``, ``lon_deg`` (``lat``/``lon`` accepted), optional
        ``capacity``, ``fixed_cost_usd_per_year``, ``provider``, … (see ARCHITECTURE.md).
    demand : pandas.DataFrame
        Demand points: ``demand_id``, ``lat_deg``, ``lon_deg``, ``weight`` (≥ 0).
    latency : DataFrame or latency model, optional
        A long table ``demand_id, site_id, latency_ms`` (pairs it omits are not allowed; an optional
        ``cost_usd_per_year`` column adds a per-pair cost), or an object with
        ``table(demand, sites, max_latency_ms=...)``. Default: the calibrated model of
        :func:`placement.latency.default_model`.
    cost_model : placement.costs.CostModel, optional
        Annual site costs; without it, costs come from the sites' ``fixed_cost_usd_per_year``.
    objective : {"median", "center", "coverage", "set-cover", "cost", "weighted"}
        What to optimise (see :mod:`placement.formulations`).
    n_sites, max_sites, min_sites : int, optional
        Exactly / at most / at least this many open sites.
    max_latency_ms : float, optional
        Hard SLA: every demand point's primary site within this round-trip latency.
    sla_ms : float, optional
        The SLA of the ``coverage`` objective and of ``sla_share``.
    sla_share : float, optional
        Percentile SLA: at least this share (0–1] of demand within ``sla_ms``.
    redundancy : int
        Each demand point is served by this many distinct sites (primary + backups).
    failure_domain : str
        Sites column whose values are failure domains; a point's sites are in distinct domains
        (``"site_id"``: distinct sites; ``"provider"``, ``"city"``, ``"region_code"``, …).
    backup_max_latency_ms : float, optional
        SLA for backups ("the SLA still holds after losing any one site").
    backup_weight : float
        Weight of backup latency in the median/weighted objectives (0–1).
    capacity : str or float, optional
        Site capacity in the demand's weight unit: a sites column name or one number for all.
    single_sourcing : bool
        Serve each demand point wholly from one site per rank (binary assignment).
    residency : mapping, optional
        ``{demand group: [allowed site groups]}`` on ``residency_column`` (present in both tables);
        demand groups not listed are unrestricted.
    residency_column : str
        Column holding the groups (default ``country_code``).
    must_open, forbidden : iterable of str
        Site ids that must be open / may not be opened (brownfield planning).
    budget_usd_per_year : float, optional
        Cap on total annual cost.
    max_sites_per_provider : int or mapping, optional
        At most this many open sites per provider (one number, or per provider name).
    latency_weight_usd_per_ms : float, optional
        For ``weighted``: USD per year that one ms of demand-weighted mean latency is worth.
    latency_penalty_usd_per_unit_ms : float
        For ``cost``: USD per year per unit of demand weight per ms of latency.
    set_cover_by : {"count", "cost"}
        ``set-cover`` minimises the number of sites or their fixed cost.
    name : str
        A label carried into the result.
    """

    def __init__(
        self,
        sites: pd.DataFrame,
        demand: pd.DataFrame,
        *,
        latency: pd.DataFrame | LatencySource | None = None,
        cost_model: Any = None,
        objective: str = "median",
        n_sites: int | None = None,
        max_sites: int | None = None,
        min_sites: int | None = None,
        max_latency_ms: float | None = None,
        sla_ms: float | None = None,
        sla_share: float | None = None,
        redundancy: int = 1,
        failure_domain: str = "site_id",
        backup_max_latency_ms: float | None = None,
        backup_weight: float = 0.5,
        capacity: str | float | None = None,
        single_sourcing: bool = False,
        residency: Mapping[str, Iterable[str]] | None = None,
        residency_column: str = "country_code",
        must_open: Iterable[str] = (),
        forbidden: Iterable[str] = (),
        budget_usd_per_year: float | None = None,
        max_sites_per_provider: int | Mapping[str, int] | None = None,
        latency_weight_usd_per_ms: float | None = None,
        latency_penalty_usd_per_unit_ms: float = 0.0,
        set_cover_by: str = "count",
        name: str = "",
    ) -> None:
        # every scalar argument type-checked by one checker (placement.params), field named
        p = params.check(
            params.problem_spec(),
            {
                "objective": objective,
                "n_sites": n_sites,
                "max_sites": max_sites,
                "min_sites": min_sites,
                "max_latency_ms": max_latency_ms,
                "sla_ms": sla_ms,
                "sla_share": sla_share,
                "redundancy": redundancy,
                "failure_domain": failure_domain,
                "backup_max_latency_ms": backup_max_latency_ms,
                "backup_weight": backup_weight,
                "capacity": capacity,
                "single_sourcing": single_sourcing,
                "residency": residency,
                "residency_column": residency_column,
                "must_open": must_open,
                "forbidden": forbidden,
                "budget_usd_per_year": budget_usd_per_year,
                "max_sites_per_provider": max_sites_per_provider,
                "latency_weight_usd_per_ms": latency_weight_usd_per_ms,
                "latency_penalty_usd_per_unit_ms": latency_penalty_usd_per_unit_ms,
                "set_cover_by": set_cover_by,
                "name": name,
            },
        )
        if not (latency is None or isinstance(latency, pd.DataFrame) or hasattr(latency, "table")):
            raise _param_error(
                "latency",
                "must be a DataFrame demand_id, site_id, latency_ms or a latency model with "
                f".table(), got {type(latency).__name__}",
                latency,
            )
        if cost_model is not None and not callable(getattr(cost_model, "site_costs", None)):
            raise _param_error(
                "cost_model",
                f"must be a placement.costs.CostModel, got {type(cost_model).__name__}",
                cost_model,
            )
        self.sites = validate_sites(sites)
        self.demand = validate_demand(demand)
        if not isinstance(latency, pd.DataFrame):  # the model computes every pair: budget first
            params.check_budget(
                "pairs",
                len(self.sites) * len(self.demand),
                f"{len(self.demand):,} demand points x {len(self.sites):,} sites",
            )
        self.objective = p["objective"]
        self.latency = latency
        # True when ``latency`` is a table placement validated itself against these sites and
        # demand (set by scenarios.with_full_latency; kept by replace() while the three stay)
        self._latency_checked = False
        self.cost_model = cost_model
        self.n_sites = p["n_sites"]
        self.max_sites = p["max_sites"]
        self.min_sites = p["min_sites"]
        self.max_latency_ms = p["max_latency_ms"]
        self.sla_ms = p["sla_ms"]
        self.sla_share = p["sla_share"]
        self.redundancy = p["redundancy"] or 1
        self.failure_domain = p["failure_domain"]
        self.backup_max_latency_ms = p["backup_max_latency_ms"]
        self.backup_weight = p["backup_weight"]
        self.capacity = p["capacity"]
        self.single_sourcing = p["single_sourcing"]
        self.residency = p["residency"] or {}
        self.residency_column = p["residency_column"]
        self.must_open = p["must_open"]
        self.forbidden = p["forbidden"]
        self.budget_usd_per_year = p["budget_usd_per_year"]
        self.max_sites_per_provider = p["max_sites_per_provider"]
        self.latency_weight_usd_per_ms = p["latency_weight_usd_per_ms"]
        self.latency_penalty_usd_per_unit_ms = p["latency_penalty_usd_per_unit_ms"]
        self.set_cover_by = p["set_cover_by"]
        self.name = p["name"]
        self._check_combination()

    # ------------------------------------------------------------------ validation
    def _check_combination(self) -> None:
        obj = self.objective
        site_ids = set(self.sites["site_id"])
        for field, ids in (("must_open", self.must_open), ("forbidden", self.forbidden)):
            unknown = [s for s in ids if s not in site_ids]
            if unknown:
                raise _param_error(field, f"unknown site id(s): {', '.join(unknown[:5])}", unknown)
        both = sorted(set(self.must_open) & set(self.forbidden))
        if both:
            raise _param_error(
                "must_open", f"site(s) both must-open and forbidden: {', '.join(both)}", both
            )
        if obj in ("median", "center", "coverage") and self.n_sites is None and not self.max_sites:
            raise _param_error("n_sites", f"the {obj} objective needs n_sites or max_sites")
        if obj == "coverage" and self.sla_ms is None:
            raise _param_error("sla_ms", "the coverage objective needs sla_ms")
        if obj == "set-cover" and self.max_latency_ms is None:
            raise _param_error("max_latency_ms", "the set-cover objective needs max_latency_ms")
        if obj == "weighted" and self.latency_weight_usd_per_ms is None:
            raise _param_error(
                "latency_weight_usd_per_ms", "the weighted objective needs an explicit weight"
            )
        if self.sla_share is not None and self.sla_ms is None:
            raise _param_error("sla_ms", "a percentile SLA (sla_share) needs sla_ms")
        if self.sla_share is not None and obj in ("coverage", "set-cover"):
            raise _param_error("sla_share", f"not used by the {obj} objective")
        n = self.n_sites
        if n is not None and self.max_sites is not None and n > self.max_sites:
            raise _param_error("n_sites", f"n_sites={n} exceeds max_sites={self.max_sites}", n)
        if self.min_sites is not None and self.max_sites is not None:
            if self.min_sites > self.max_sites:
                raise _param_error("min_sites", "exceeds max_sites", self.min_sites)
        available = len(site_ids) - len(set(self.forbidden))
        for field, count in (("n_sites", n), ("min_sites", self.min_sites)):
            if count is not None and count > available:
                raise _param_error(
                    field,
                    f"{field}={count} is more than the {available} sites that may be opened",
                    count,
                )
        limit = n if n is not None else self.max_sites
        if limit is not None and len(self.must_open) > limit:
            raise _param_error(
                "must_open", f"{len(self.must_open)} must-open sites but at most {limit} may open"
            )
        if self.redundancy > 1 and self.failure_domain not in self.sites.columns:
            raise _param_error(
                "failure_domain", "not a column of the sites table", self.failure_domain
            )
        if self.residency and self.residency_column not in self.sites.columns:
            raise _param_error(
                "residency_column", "not a column of the sites table", self.residency_column
            )
        if self.residency and self.residency_column not in self.demand.columns:
            raise _param_error(
                "residency_column", "not a column of the demand table", self.residency_column
            )
        if isinstance(self.capacity, str) and self.capacity not in self.sites.columns:
            raise _param_error("capacity", "not a column of the sites table", self.capacity)
        if self.capacity is not None and not isinstance(self.capacity, str):
            _opt_positive("capacity", self.capacity, allow_zero=True)

    # ------------------------------------------------------------------ alternative constructors
    @classmethod
    def from_frames(cls, sites: pd.DataFrame, demand: pd.DataFrame, **kwargs: Any) -> Problem:
        """Same as the constructor; here for symmetry with the other constructors."""
        return cls(sites, demand, **kwargs)

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        *,
        weights: np.ndarray | None = None,
        fixed_cost: np.ndarray | None = None,
        capacity: np.ndarray | None = None,
        assignment_cost: np.ndarray | None = None,
        **kwargs: Any,
    ) -> Problem:
        """Build a problem from a dense demand × site latency (or cost) matrix.

        Parameters
        ----------
        cost : numpy.ndarray, shape (n_demand, n_sites)
            Latency in ms (``np.inf`` marks a pair that is not allowed).
        weights : numpy.ndarray, optional
            Demand weights (default 1).
        fixed_cost : numpy.ndarray, optional
            Annual fixed cost per site, USD.
        capacity : numpy.ndarray, optional
            Capacity per site in the weight unit (enables capacity constraints).
        assignment_cost : numpy.ndarray, optional
            USD per year of serving all of demand ``i`` from site ``j`` (e.g. OR-Library ``cap``).
        **kwargs
            Passed to the constructor (objective, n_sites, …).
        """
        cost = np.asarray(cost, dtype=float)
        n, m = cost.shape
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        sites = pd.DataFrame({"site_id": [f"s{j}" for j in range(m)]})
        sites["lat_deg"] = 0.0
        sites["lon_deg"] = 0.0
        if fixed_cost is not None:
            sites["fixed_cost_usd_per_year"] = np.asarray(fixed_cost, dtype=float)
        if capacity is not None:
            sites["capacity"] = np.asarray(capacity, dtype=float)
            kwargs.setdefault("capacity", "capacity")
        demand = pd.DataFrame(
            {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
        )
        ii, jj = np.nonzero(np.isfinite(cost))
        table = pd.DataFrame(
            {
                "demand_id": demand["demand_id"].to_numpy()[ii],
                "site_id": sites["site_id"].to_numpy()[jj],
                "latency_ms": cost[ii, jj],
            }
        )
        if assignment_cost is not None:
            table["cost_usd_per_year"] = np.asarray(assignment_cost, dtype=float)[ii, jj]
        return cls(sites, demand, latency=table, **kwargs)

    def replace(self, **overrides: Any) -> Problem:
        """A new Problem equal to this one except for ``overrides`` (validated like any input).

        Every constructor argument, the tables included (``sites=``, ``demand=``,
        ``latency=``, ``cost_model=``), may be overridden; this problem is not changed.
        """
        names = [k for k in inspect.signature(Problem.__init__).parameters if k != "self"]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise _param_error(unknown[0], f"not a Problem argument: {', '.join(unknown)}")
        kwargs = {name: getattr(self, name) for name in names}
        kwargs.update(overrides)
        sites = kwargs.pop("sites")
        demand = kwargs.pop("demand")
        new = type(self)(sites, demand, **kwargs)
        new._latency_checked = self._latency_checked and not (
            {"latency", "sites", "demand"} & set(overrides)
        )
        return new

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], **overrides: Any) -> Problem:
        """Build a problem from a TOML file (see :mod:`placement.config`).

        Parameters
        ----------
        path : path-like
            The file; its ``[inputs]``, ``[problem]`` and ``[costs]`` tables are used
            (``[solver]`` is read by :func:`placement.config.load_config` for ``solve``).
        **overrides
            Problem keyword arguments that replace the file's.
        """
        from placement import config

        cfg = config.load_config(path)
        return cls.from_config(cfg, **overrides)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], **overrides: Any) -> Problem:
        """Build a problem from the dict returned by :func:`placement.config.load_config`."""
        from placement import config

        inputs = cfg.get("inputs", {})
        sites = config.load_sites(
            inputs.get("sites", "catalog"),
            providers=inputs.get("providers"),
            kinds=inputs.get("kinds"),
        )
        demand = config.load_demand(
            inputs.get("demand", "catalog"),
            min_population=inputs.get("min_population"),
            countries=inputs.get("countries"),
            continents=inputs.get("continents"),
            merge_within_km=inputs.get("merge_within_km"),
        )
        latency = config.load_latency(inputs.get("latency"))
        cost_model = None
        if cfg.get("costs") is not None:
            from placement.costs import CostModel

            try:
                cost_model = CostModel(**cfg["costs"])
            except TypeError as exc:
                raise ValidationError(str(exc), table="costs") from None
        kwargs = {"name": cfg.get("name", ""), **cfg.get("problem", {}), **overrides}
        return cls(sites, demand, latency=latency, cost_model=cost_model, **kwargs)

    # ------------------------------------------------------------------ derived tables
    def latency_table(self) -> pd.DataFrame:
        """The long latency table the model uses (pruned by the hard SLAs where possible)."""
        prune = None
        if self.max_latency_ms is not None and self.objective != "coverage":
            if self.redundancy == 1:
                prune = self.max_latency_ms
            elif self.backup_max_latency_ms is not None:
                prune = max(self.max_latency_ms, self.backup_max_latency_ms)
        source = self.latency
        if source is None:
            from placement import latency as latency_mod

            source = latency_mod.default_model()
        if isinstance(source, pd.DataFrame) and self._latency_checked:
            table = source  # validated once for every point of a sweep (see with_full_latency)
        elif isinstance(source, pd.DataFrame):
            table = validate_latency_table(
                source, site_ids=self.sites["site_id"], demand_ids=self.demand["demand_id"]
            )
        else:
            table = validate_latency_table(
                source.table(self.demand, self.sites, max_latency_ms=prune),
                site_ids=self.sites["site_id"],
                demand_ids=self.demand["demand_id"],
            )
        if prune is not None:
            table = table[table["latency_ms"] <= prune + 1e-9]
        return table.reset_index(drop=True)

    def site_costs(self) -> pd.DataFrame | None:
        """Cost components per site (index ``site_id``), or None when nothing is costed."""
        if self.cost_model is not None:
            costs = self.cost_model.site_costs(self.sites)
            return costs.reindex(self.sites["site_id"])
        if "fixed_cost_usd_per_year" in self.sites.columns:
            fixed = self.sites.set_index("site_id")["fixed_cost_usd_per_year"].astype(float)
            if fixed.isna().any():
                bad = fixed[fixed.isna()].index[0]
                raise ValidationError(
                    "missing value", table="sites", row=bad, field="fixed_cost_usd_per_year"
                )
            return pd.DataFrame(
                {"fixed_usd_per_year": fixed, "total_usd_per_year": fixed},
            )
        return None

    def model_data(self, table: pd.DataFrame | None = None) -> ModelData:
        """The numeric form of this problem (see :class:`ModelData`)."""
        table = self.latency_table() if table is None else table
        site_index = pd.Index(self.sites["site_id"])
        demand_index = pd.Index(self.demand["demand_id"])
        pi = demand_index.get_indexer(table["demand_id"])
        pj = site_index.get_indexer(table["site_id"])
        order = np.lexsort((pj, pi))
        pi, pj = pi[order], pj[order]
        lat = table["latency_ms"].to_numpy(dtype=float)[order]
        pair_cost = (
            table["cost_usd_per_year"].to_numpy(dtype=float)[order]
            if "cost_usd_per_year" in table.columns
            else np.zeros(len(pi))
        )
        primary_ok = np.ones(len(pi), dtype=bool)
        if self.max_latency_ms is not None and self.objective != "coverage":
            primary_ok &= lat <= self.max_latency_ms + 1e-9
        backup_ok = np.ones(len(pi), dtype=bool)
        if self.backup_max_latency_ms is not None:
            backup_ok &= lat <= self.backup_max_latency_ms + 1e-9
        if self.residency:
            col = self.residency_column
            d_group = self.demand[col].astype(str).to_numpy()[pi]
            s_group = self.sites[col].astype(str).to_numpy()[pj]
            allowed = np.ones(len(pi), dtype=bool)
            for group, ok_sites in self.residency.items():
                rows = d_group == group
                allowed[rows] = np.isin(s_group[rows], ok_sites)
            primary_ok &= allowed
            backup_ok &= allowed
        m = len(self.sites)
        costs = self.site_costs()
        if costs is not None:
            fixed = costs["total_usd_per_year"].to_numpy(dtype=float)
            variable = (
                costs["variable_usd_per_unit_per_year"].to_numpy(dtype=float)
                if "variable_usd_per_unit_per_year" in costs.columns
                else np.zeros(m)
            )
            if np.isnan(fixed).any() or np.isnan(variable).any():
                bad = costs.index[np.isnan(fixed) | np.isnan(variable)][0]
                raise ValidationError("cost is missing for this site", table="sites", row=bad)
        else:
            fixed, variable = np.zeros(m), np.zeros(m)
        domain = pd.factorize(self.sites[self.failure_domain].astype(str))[0]
        provider_names = (
            self.sites["provider"].astype(str)
            if "provider" in self.sites.columns
            else pd.Series([""] * m)
        )
        provider, provider_labels = pd.factorize(provider_names)
        limits: dict[int, int] = {}
        mpp = self.max_sites_per_provider
        if mpp is not None:
            if "provider" not in self.sites.columns:
                raise _param_error("max_sites_per_provider", "sites have no provider column")
            if isinstance(mpp, Mapping):
                labels = list(provider_labels)
                for prov, lim in mpp.items():
                    if str(prov) not in labels:
                        raise _param_error("max_sites_per_provider", "unknown provider", prov)
                    limits[labels.index(str(prov))] = _opt_count("max_sites_per_provider", lim)
            else:
                lim = _opt_count("max_sites_per_provider", mpp)
                limits = {code: lim for code in range(len(provider_labels))}
        capacity = None
        if self.capacity is not None:
            if isinstance(self.capacity, str):
                capacity = pd.to_numeric(self.sites[self.capacity], errors="coerce").to_numpy(
                    dtype=float
                )
                if np.isnan(capacity).any():
                    bad = self.sites["site_id"].iloc[int(np.flatnonzero(np.isnan(capacity))[0])]
                    raise ValidationError(
                        "capacity is missing", table="sites", row=bad, field=self.capacity
                    )
            else:
                capacity = np.full(m, float(self.capacity))
        ids = self.sites["site_id"]
        return ModelData(
            n_demand=len(self.demand),
            n_sites=m,
            weight=self.demand["weight"].to_numpy(dtype=float),
            pair_i=pi.astype(np.int64),
            pair_j=pj.astype(np.int64),
            latency_ms=lat,
            pair_cost_usd=pair_cost,
            primary_ok=primary_ok,
            backup_ok=backup_ok,
            fixed_usd=fixed,
            variable_usd_per_unit=variable,
            domain=domain,
            provider=provider,
            must_open=ids.isin(self.must_open).to_numpy(),
            forbidden=ids.isin(self.forbidden).to_numpy(),
            objective=self.objective,
            n_sites_exact=self.n_sites,
            max_sites=self.max_sites,
            min_sites=self.min_sites,
            sla_ms=self.sla_ms,
            sla_share=self.sla_share,
            redundancy=self.redundancy,
            backup_weight=self.backup_weight,
            capacity=capacity,
            single_sourcing=self.single_sourcing,
            budget_usd=self.budget_usd_per_year,
            max_per_provider=limits,
            latency_weight_usd_per_ms=self.latency_weight_usd_per_ms or 0.0,
            latency_penalty_usd_per_unit_ms=self.latency_penalty_usd_per_unit_ms or 0.0,
            set_cover_by=self.set_cover_by,
        )

    # ------------------------------------------------------------------ infeasibility
    def explain_infeasible(self, data: ModelData | None = None) -> list[str]:
        """Reasons, in words, why this problem cannot be solved (empty when none is found).

        These checks run before the solver: demand points with no allowed site, too few failure
        domains in reach for the redundancy, capacity below demand, percentile SLA out of reach,
        must-open sites over the budget.
        """
        data = self.model_data() if data is None else data
        reasons: list[str] = []
        usable = ~data.forbidden[data.pair_j]
        has_primary = np.zeros(data.n_demand, dtype=bool)
        has_primary[data.pair_i[data.primary_ok & usable]] = True
        if self.objective != "coverage":
            lost = np.flatnonzero(~has_primary)
            if len(lost):
                cause = []
                if self.max_latency_ms is not None:
                    cause.append(f"within {self.max_latency_ms:g} ms")
                if self.residency:
                    cause.append("allowed by the residency rules")
                if self.forbidden:
                    cause.append("not forbidden")
                why = " ".join(cause) if cause else "in the latency table"
                reasons.append(
                    f"{len(lost)} demand point{'s' if len(lost) > 1 else ''} "
                    f"({_names(self.demand, lost)}) {'have' if len(lost) > 1 else 'has'} "
                    f"no candidate site {why}"
                )
        k = data.redundancy
        if k > 1 and self.objective != "coverage":
            ok = (data.backup_ok | data.primary_ok) & usable
            pairs = pd.DataFrame(
                {"i": data.pair_i[ok], "g": data.domain[data.pair_j[ok]]}
            ).drop_duplicates()
            counts = np.zeros(data.n_demand, dtype=int)
            vc = pairs["i"].value_counts()
            counts[vc.index.to_numpy()] = vc.to_numpy()
            short = np.flatnonzero(counts < k)
            if len(short):
                first = int(short[0])
                label = "sites" if self.failure_domain == "site_id" else "failure domains"
                reasons.append(
                    f"redundancy {k} needs {k} {label} ({self.failure_domain}) within reach of "
                    f"{_names(self.demand, [first])}, only {counts[first]} exist"
                    + (f" ({len(short)} demand points are short)" if len(short) > 1 else "")
                )
        if data.capacity is not None:
            cap = data.capacity[~data.forbidden]
            limit = data.n_sites_exact or data.max_sites
            best = np.sort(cap)[::-1][:limit].sum() if limit else cap.sum()
            if best + 1e-9 < data.total_weight:
                reasons.append(
                    f"total capacity of the sites that may open ({best:,.6g}) is below the total "
                    f"demand ({data.total_weight:,.6g})"
                )
        if data.sla_share is not None and data.sla_ms is not None:
            within = data.primary_ok & usable & (data.latency_ms <= data.sla_ms + 1e-9)
            reach = np.zeros(data.n_demand, dtype=bool)
            reach[data.pair_i[within]] = True
            best_share = data.weight[reach].sum() / data.total_weight
            if best_share + 1e-12 < data.sla_share:
                reasons.append(
                    f"only {best_share:.1%} of demand has any site within {data.sla_ms:g} ms, "
                    f"below the required {data.sla_share:.1%}"
                )
        if data.budget_usd is not None:
            committed = data.fixed_usd[data.must_open].sum()
            if committed > data.budget_usd + 1e-6:
                reasons.append(
                    f"the must-open sites alone cost ${committed:,.0f} per year, over the budget "
                    f"of ${data.budget_usd:,.0f}"
                )
        if data.max_per_provider:
            cap_sites = sum(data.max_per_provider.values())
            need = data.n_sites_exact or data.min_sites or 0
            if need > cap_sites and len(data.max_per_provider) == len(np.unique(data.provider)):
                reasons.append(
                    f"{need} sites are required but the per-provider limits allow {cap_sites}"
                )
        return reasons

    # ------------------------------------------------------------------ solve
    def solve(
        self,
        *,
        solver: str = "highs",
        time_limit_s: float | None = None,
        gap_rel: float = 1e-9,
        threads: int | None = None,
        verbose: bool = False,
        method: str = "auto",
        warm_start: Result | Iterable[str] | None = None,
    ) -> Result:
        """Solve to proven optimality (or the limits given) and return a :class:`Result`.

        Parameters
        ----------
        solver : {"highs", "cbc"}
            MIP solver for the PuLP formulations.
        time_limit_s : float, optional
            Wall-clock limit; a stopped run returns status ``feasible`` with its gap.
        gap_rel : float
            Relative gap at which to stop (default 1e-9, i.e. prove optimality).
        threads : int, optional
            Solver threads.
        verbose : bool
            Print the solver log.
        method : {"auto", "pulp", "fast"}
            ``auto`` uses the fast exact solvers where the problem allows it (no percentile
            SLA, budget, provider limits or minimum site count; median with any redundancy,
            center with redundancy 1 or 2, capacitated cost with redundancy 1) and the PuLP
            formulations otherwise; ``pulp`` forces the PuLP formulations.
        warm_start : Result or iterable of str, optional
            A known open set (a previous :class:`Result`, e.g. of a neighbouring what-if point,
            or site ids) handed to the solver as its first incumbent: the swap search of the fast
            p-median starts from it, it is the first upper bound of the p-center bisection and
            of the capacitated cost search, and the PuLP model gets it (with the assignment where
            that is cheap to derive) as a MIP start. It is repaired first: forbidden sites are
            dropped, must-open sites added and sites dropped / added greedily (by demand-weighted
            latency) until the count meets ``n_sites`` / ``max_sites`` / ``min_sites``; a set
            that serves no feasible solution is ignored. It only changes speed: the answer is
            proven optimal exactly as without it and has the same objective, but when several
            open sets share the optimal objective another one of them may be returned.
            ``result.solver["warm_start"]`` says whether a start was handed to the solver
            (False when none was given, or the PuLP start serves no solution),
            ``["warm_start_repaired"]`` whether it had to be repaired, and
            ``["warm_start_incumbent"]`` whether a fast solver took its first incumbent from it
            (False when its own heuristic did at least as well; None for PuLP, whose solver
            checks the start itself). Unknown site ids raise ``ValueError`` (a
            :class:`~placement.errors.ValidationError`). A :class:`Result` of the fast p-median
            also carries its root LP (``result.restart``): when this problem has the same shape
            (demand points and candidate sites, e.g. another ``n_sites`` or other must-open /
            forbidden sites) the fast p-median restarts from its cuts and basis, 2-3x faster per
            point of a sweep over ``n_sites``; ``result.solver["restarted"]`` says whether it did.
        """
        if method not in ("auto", "pulp", "fast"):
            raise _param_error("method", "must be 'auto', 'pulp' or 'fast'", method)
        start_idx = self._warm_start_indices(warm_start)
        options = SolverOptions(
            solver=solver,
            time_limit_s=time_limit_s,
            gap_rel=gap_rel,
            threads=threads,
            verbose=verbose,
        )
        new_highs()  # HiGHS prints a banner once per process: send it to stderr, not stdout
        t0 = time.perf_counter()
        table = self.latency_table()
        data = self.model_data(table)
        reasons = self.explain_infeasible(data)
        if reasons:
            build_s = time.perf_counter() - t0
            return self._result(
                data,
                table,
                "infeasible",
                None,
                None,
                None,
                None,
                [],
                build_s,
                0.0,
                options,
                "; ".join(reasons),
                raw="presolve check",
            )
        start, repaired = (
            (None, False) if start_idx is None else self._repair_start(data, start_idx)
        )
        fast = self._fast_path(data) if method in ("auto", "fast") else None
        if method == "fast" and fast is None:
            raise _param_error("method", "the fast solvers do not cover this problem", method)
        if fast is not None:
            restart = warm_start.restart if isinstance(warm_start, Result) else None
            try:
                return self._solve_fast(fast, data, table, options, t0, start, repaired, restart)
            except SolverError as exc:
                if method == "fast":
                    raise
                # numerical trouble in the fast solver: the PuLP model answers instead
                warnings.warn(
                    f"fast {fast} solver failed ({exc}); solving the PuLP model instead",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self._solve_pulp(data, table, options, t0, start, repaired)

    # ------------------------------------------------------------------ warm starts
    def _warm_start_indices(self, warm_start: Result | Iterable[str] | None) -> np.ndarray | None:
        """Positions in ``self.sites`` of a warm start's open sites (None when not given)."""
        if warm_start is None:
            return None
        if isinstance(warm_start, Result):
            ids = [str(s) for s in warm_start.open_sites.get("site_id", pd.Series(dtype=str))]
        elif isinstance(warm_start, str):
            ids = [warm_start]
        elif isinstance(warm_start, Iterable):
            ids = [str(s) for s in warm_start]
        else:
            raise _param_error(
                "warm_start", "must be a Result or an iterable of site ids", type(warm_start)
            )
        pos = pd.Index(self.sites["site_id"]).get_indexer(ids)
        unknown = [s for s, k in zip(ids, pos, strict=True) if k < 0]
        if unknown:
            raise _param_error(
                "warm_start", f"unknown site id(s): {', '.join(unknown[:5])}", unknown
            )
        _, first = np.unique(pos, return_index=True)
        return pos[np.sort(first)].astype(np.int64)

    @staticmethod
    def _repair_start(data: ModelData, idx: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """A warm start made to respect the fixings and the site count: (open mask, repaired).

        Forbidden sites are dropped and must-open sites added; then the site whose removal
        raises the demand-weighted nearest latency least is dropped, or the one that lowers it
        most added (a demand point without an open allowed site counts as very far), until the
        count is allowed. The mask is None when there is nothing to start from.
        """
        m = data.n_sites
        given = np.zeros(m, dtype=bool)
        given[idx] = True
        mask = (given & ~data.forbidden) | data.must_open
        available = int((~data.forbidden).sum())
        if data.n_sites_exact is not None:
            lo = hi = data.n_sites_exact
        else:
            lo = max(data.min_sites or 0, 1)
            hi = data.max_sites if data.max_sites is not None else m
        hi = min(hi, available)
        if not mask.any() or lo > hi:
            return None, False
        ok = data.primary_ok & ~data.forbidden[data.pair_j]
        pi, pj, lat = data.pair_i[ok], data.pair_j[ok], data.latency_ms[ok]
        w = data.weight[pi]
        far = 10.0 * (float(lat.max()) if len(lat) else 1.0) + 1.0
        while mask.sum() > hi:
            # loss of closing j: its demand moves to the second-nearest open site
            sel = mask[pj]
            loss = np.zeros(m)
            if sel.any():
                order = np.lexsort((pj[sel], lat[sel], pi[sel]))
                si, sj, sl = pi[sel][order], pj[sel][order], lat[sel][order]
                first = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
                nxt = np.minimum(first + 1, len(si) - 1)
                has_second = (first + 1 < len(si)) & (si[nxt] == si[first])
                d2 = np.where(has_second, sl[nxt], far)
                moved = data.weight[si[first]] * (d2 - sl[first])
                loss = np.bincount(sj[first], weights=moved, minlength=m)
            loss[~mask | data.must_open] = np.inf
            if not np.isfinite(loss.min()):
                return None, False
            mask[int(np.argmin(loss))] = False
        while mask.sum() < lo:
            d1 = np.full(data.n_demand, far)
            sel = mask[pj]
            np.minimum.at(d1, pi[sel], lat[sel])
            gain = np.bincount(pj, weights=w * np.maximum(d1[pi] - lat, 0.0), minlength=m)
            gain[mask | data.forbidden] = -1.0
            mask[int(np.argmax(gain))] = True
        return mask, not np.array_equal(mask, given)

    def _pulp_start(
        self,
        data: ModelData,
        prob: Any,
        y: list[Any],
        z: dict[int, dict[int, Any]],
        mask: np.ndarray,
    ) -> dict[str, float] | None:
        """A MIP start for the PuLP model: the open set, and the assignment where it is cheap.

        None when the set leaves a demand point without an allowed open site (no solution).
        """
        values = {v.name: float(mask[j]) for j, v in enumerate(y)}
        if self.objective in ("coverage", "set-cover") or not z:
            return values  # the other variables are continuous: the solver completes them
        ok = data.primary_ok & mask[data.pair_j]
        served = np.zeros(data.n_demand, dtype=bool)
        served[data.pair_i[ok]] = True
        if not served.all():
            return None
        if data.capacity is not None:
            return values  # shares under capacities: left to the solver
        if self.objective in ("cost", "weighted") and data.redundancy == 1:
            # cheapest open pair of every demand point (the objective's own coefficients)
            pairs = np.fromiter(z[1].keys(), dtype=np.int64, count=len(z[1]))
            pairs = pairs[mask[data.pair_j[pairs]]]
            coef = prob.objective
            c = np.array([coef.get(z[1][int(p)], 0.0) for p in pairs], dtype=float)
            order = np.lexsort((data.pair_j[pairs], data.latency_ms[pairs], c, data.pair_i[pairs]))
            ii = data.pair_i[pairs][order]
            best = pairs[order][np.r_[True, ii[1:] != ii[:-1]]]
            rows = [(int(p), 1) for p in best]
        else:
            rows = [(p, r) for p, r, _ in nearest_assignments(data, mask)]
        counts = np.bincount([r for _, r in rows], minlength=data.redundancy + 1)
        if (counts[1:] < data.n_demand).any():
            return values  # backups not found greedily: the solver completes the start
        for zr in z.values():
            for var in zr.values():
                values[var.name] = 0.0
        for p, r in rows:
            values[z[r][p].name] = 1.0
        if self.objective == "center":
            values["L"] = float(max(data.latency_ms[p] for p, r in rows if r == 1))
        return values

    def _fast_path(self, data: ModelData) -> str | None:
        if (
            data.capacity is not None
            and self.objective == "cost"
            and data.redundancy == 1
            and not data.single_sourcing
            and data.sla_share is None
            and data.budget_usd is None
            and not data.max_per_provider
        ):
            return "cfl"
        if data.capacity is not None or data.sla_share is not None:
            return None
        if data.budget_usd is not None or data.max_per_provider or data.min_sites:
            return None
        if self.objective == "median" and data.redundancy >= 2:
            return "redundant-median"
        if self.objective == "center" and data.redundancy == 2:
            return "redundant-center"
        if self.objective not in ("median", "center") or data.redundancy != 1:
            return None
        if self.solver_unavailable(self.objective):
            return None
        return self.objective

    @staticmethod
    def solver_unavailable(objective: str) -> bool:
        """True when the fast exact solver for ``objective`` is not installed."""
        try:
            if objective == "median":
                from placement.formulations import radius  # noqa: F401
            else:
                from placement.formulations import center  # noqa: F401
        except ImportError:
            return True
        return False

    def _solve_fast(
        self,
        kind: str,
        data: ModelData,
        table: pd.DataFrame,
        options: SolverOptions,
        t0: float,
        start: np.ndarray | None = None,
        repaired: bool = False,
        restart: Any = None,
    ) -> Result:
        if kind in ("redundant-median", "redundant-center", "cfl"):
            return self._solve_with_rows(kind, data, table, options, t0, start, repaired)
        cost = np.full((data.n_demand, data.n_sites), np.inf)
        ok = data.primary_ok
        cost[data.pair_i[ok], data.pair_j[ok]] = data.latency_ms[ok]
        available = data.n_sites - int(data.forbidden.sum())
        p = data.n_sites_exact if data.n_sites_exact is not None else min(data.max_sites, available)
        kwargs: dict[str, Any] = {
            "must_open": data.must_open,
            "forbidden": data.forbidden,
            "time_limit_s": options.time_limit_s,
            "gap_rel": options.gap_rel,
            "threads": options.threads,
            "verbose": options.verbose,
        }
        if start is not None:
            kwargs["initial_open"] = np.flatnonzero(start)
        build_s = time.perf_counter() - t0
        if kind == "median":
            from placement.formulations.radius import RootRestart, solve_pmedian

            if isinstance(restart, RootRestart):
                kwargs["restart"] = restart
            # weights as shares of the total: the objective is then the mean latency (ms) and
            # the LP coefficients stay well scaled (raw user counts reach 1e9 user-ms)
            sol = solve_pmedian(cost, data.weight / data.total_weight, p, **kwargs)
            scale = 1.0
        else:
            from placement.formulations.center import solve_pcenter

            sol = solve_pcenter(cost, p, **kwargs)
            scale = 1.0
        open_mask = np.zeros(data.n_sites, dtype=bool)
        open_mask[np.asarray(sol.open_sites, dtype=int)] = True
        solved = sol.status in ("optimal", "feasible")
        obj = sol.objective * scale if solved and sol.objective is not None else None
        bound = None
        if sol.best_bound is not None and math.isfinite(sol.best_bound):
            bound = sol.best_bound * scale
        rows = nearest_assignments(data, open_mask) if sol.status in ("optimal", "feasible") else []
        options_info = {
            "method": f"fast-{kind}",
            "n_vars": sol.n_vars,
            "n_rows": sol.n_rows,
            **({"nodes": sol.nodes} if sol.nodes else {}),
            **_warm_info(start, repaired, sol),
            **({"restarted": sol.restarted} if kind == "median" else {}),
        }
        return self._result(
            data,
            table,
            sol.status,
            obj,
            bound,
            sol.gap,
            open_mask,
            [(p_, r, i, 1.0) for p_, r, i in rows],
            build_s + sol.build_s,
            sol.solve_s,
            options,
            self._stop_message(sol.status, sol.gap, getattr(sol, "message", "")),
            raw=sol.status,
            extra=options_info,
            restart=sol.restart,
        )

    def _solve_with_rows(
        self,
        kind: str,
        data: ModelData,
        table: pd.DataFrame,
        options: SolverOptions,
        t0: float,
        start: np.ndarray | None = None,
        repaired: bool = False,
    ) -> Result:
        """Run a fast solver that returns assignment rows (redundancy 2+, capacitated cost)."""
        if kind == "redundant-median":
            from placement.formulations.redundant import solve_redundant_median as solver
        elif kind == "redundant-center":
            from placement.formulations.redundant_center import solve_redundant_center as solver
        else:
            from placement.formulations.cfl import solve_cfl as solver
        build_s = time.perf_counter() - t0
        kwargs: dict[str, Any] = {}
        if start is not None:
            if "initial_open" in inspect.signature(solver).parameters:
                kwargs["initial_open"] = np.flatnonzero(start)
            else:  # a solver without warm starts: solved cold
                start = None
        sol = solver(
            data,
            time_limit_s=options.time_limit_s,
            gap_rel=options.gap_rel,
            threads=options.threads,
            verbose=options.verbose,
            **kwargs,
        )
        found = sol.status in ("optimal", "feasible")
        open_mask = np.zeros(data.n_sites, dtype=bool)
        open_mask[sol.open_sites] = True
        extra = {
            "method": f"fast-{kind}",
            "n_vars": sol.n_vars,
            "n_rows": sol.n_rows,
            **_warm_info(start, repaired, sol),
        }
        if kind == "redundant-median":
            # demand points left after merging those every open set serves identically
            extra["n_demand_solved"] = sol.n_demand_solved
        return self._result(
            data,
            table,
            sol.status,
            sol.objective if found else None,
            sol.best_bound if math.isfinite(sol.best_bound) else None,
            sol.gap if found else None,
            open_mask if found else None,
            sol.rows if found else [],
            build_s + sol.build_s,
            sol.solve_s,
            options,
            self._stop_message(sol.status, sol.gap if found else None, sol.message),
            raw=sol.status,
            extra=extra,
        )

    def _solve_pulp(
        self,
        data: ModelData,
        table: pd.DataFrame,
        options: SolverOptions,
        t0: float,
        start: np.ndarray | None = None,
        repaired: bool = False,
    ) -> Result:
        from placement.formulations.assignment import build_assignment_model
        from placement.formulations.covering import build_covering_model

        if self.objective in ("coverage", "set-cover"):
            prob, y = build_covering_model(data)
            z: dict[int, dict[int, Any]] = {}
        else:
            prob, y, z = build_assignment_model(data)
        mip_start = None if start is None else self._pulp_start(data, prob, y, z, start)
        build_s = time.perf_counter() - t0
        out = solve_model(prob, options, start=mip_start, spent_s=build_s)
        sign = -1.0 if self.objective == "coverage" else 1.0
        obj = None if out.objective is None else sign * out.objective
        bound = None if out.best_bound is None else sign * out.best_bound
        extra = {
            "method": "pulp",
            "n_vars": len(prob.variables()),
            "n_rows": prob.numConstraints(),
            "warm_start": mip_start is not None,
            "warm_start_repaired": mip_start is not None and repaired,
            "warm_start_incumbent": None,  # HiGHS / CBC check the start themselves
        }
        if out.status not in ("optimal", "feasible"):
            message = self._stop_message(out.status, None, out.message)
            return self._result(
                data,
                table,
                out.status,
                None,
                bound,
                None,
                None,
                [],
                build_s,
                out.solve_s,
                options,
                message,
                raw=out.raw_status,
                extra=extra,
            )
        vals = out.values
        open_mask = np.array([vals.get(v.name, 0.0) > 0.5 for v in y])
        reassign = (
            data.redundancy == 1
            and data.capacity is None
            and data.sla_share is None
            and self.objective in ("median", "center", "coverage", "set-cover")
        ) or not z
        if reassign:
            rows = [(p, r, i, 1.0) for p, r, i in nearest_assignments(data, open_mask)]
        else:
            rows = []
            for r, zr in z.items():
                for p, var in zr.items():
                    share = vals.get(var.name, 0.0)
                    if share > 1e-7:
                        rows.append((p, r, int(data.pair_i[p]), min(1.0, share)))
        gap = out.gap if out.gap is not None else relative_gap(obj, bound)
        return self._result(
            data,
            table,
            out.status,
            obj,
            bound,
            gap,
            open_mask,
            rows,
            build_s,
            out.solve_s,
            options,
            self._stop_message(out.status, gap, out.message),
            raw=out.raw_status,
            extra=extra,
        )

    def _stop_message(self, status: str, gap: float | None, detail: str = "") -> str:
        if status == "optimal":
            return ""
        if status == "infeasible":
            return (
                "the solver proved that the constraints cannot all hold together ("
                + ", ".join(self._active_constraints())
                + ")"
            )
        if status == "feasible":
            return f"stopped by the time limit with gap {gap:.4%}" if gap is not None else detail
        return detail or "stopped by the time limit before finding a solution"

    def _active_constraints(self) -> list[str]:
        parts = []
        if self.n_sites is not None:
            parts.append(f"exactly {self.n_sites} sites")
        if self.max_sites is not None:
            parts.append(f"at most {self.max_sites} sites")
        if self.min_sites:
            parts.append(f"at least {self.min_sites} sites")
        if self.max_latency_ms is not None:
            parts.append(f"every demand point within {self.max_latency_ms:g} ms")
        if self.sla_share is not None:
            parts.append(f"{self.sla_share:.0%} of demand within {self.sla_ms:g} ms")
        if self.redundancy > 1:
            parts.append(f"redundancy {self.redundancy} across {self.failure_domain}")
        if self.capacity is not None:
            parts.append("site capacities")
        if self.must_open:
            parts.append(f"must open {', '.join(self.must_open)}")
        if self.budget_usd_per_year is not None:
            parts.append(f"budget ${self.budget_usd_per_year:,.0f} per year")
        if self.max_sites_per_provider is not None:
            parts.append("per-provider limits")
        if self.residency:
            parts.append("data residency")
        return parts or ["no constraint given"]

    # ------------------------------------------------------------------ result assembly
    def params(self) -> dict[str, Any]:
        """The objective and constraints as a plain dict (carried into results)."""
        mpp = self.max_sites_per_provider
        return {
            "objective": self.objective,
            "objective_unit": _UNITS[self.objective],
            "n_sites": self.n_sites,
            "max_sites": self.max_sites,
            "min_sites": self.min_sites,
            "max_latency_ms": self.max_latency_ms,
            "sla_ms": self.sla_ms,
            "sla_share": self.sla_share,
            "redundancy": self.redundancy,
            "failure_domain": self.failure_domain,
            "backup_max_latency_ms": self.backup_max_latency_ms,
            "backup_weight": self.backup_weight,
            "capacity": self.capacity,
            "single_sourcing": self.single_sourcing,
            "residency": self.residency,
            "residency_column": self.residency_column,
            "must_open": self.must_open,
            "forbidden": self.forbidden,
            "budget_usd_per_year": self.budget_usd_per_year,
            "max_sites_per_provider": dict(mpp) if isinstance(mpp, Mapping) else mpp,
            "latency_weight_usd_per_ms": self.latency_weight_usd_per_ms,
            "latency_penalty_usd_per_unit_ms": self.latency_penalty_usd_per_unit_ms,
            "set_cover_by": self.set_cover_by,
        }

    def _result(
        self,
        data: ModelData,
        table: pd.DataFrame,
        status: str,
        objective: float | None,
        bound: float | None,
        gap: float | None,
        open_mask: np.ndarray | None,
        rows: list[tuple[int, int, int, float]],
        build_s: float,
        solve_s: float,
        options: SolverOptions,
        message: str,
        *,
        raw: str,
        extra: dict[str, Any] | None = None,
        restart: Any = None,
    ) -> Result:
        site_ids = self.sites["site_id"].to_numpy()
        demand_ids = self.demand["demand_id"].to_numpy()
        if rows:
            p = np.array([r[0] for r in rows], dtype=np.int64)
            assignments = pd.DataFrame(
                {
                    "demand_id": demand_ids[data.pair_i[p]],
                    "site_id": site_ids[data.pair_j[p]],
                    "rank": np.array([r[1] for r in rows], dtype=np.int64),
                    "latency_ms": data.latency_ms[p],
                    "share": np.array([r[3] for r in rows], dtype=float),
                    "weight": data.weight[data.pair_i[p]],
                }
            )
            assignments = assignments.sort_values(
                ["demand_id", "rank", "site_id"], kind="stable"
            ).reset_index(drop=True)
        else:
            assignments = pd.DataFrame(
                {
                    "demand_id": pd.Series(dtype=str),
                    "site_id": pd.Series(dtype=str),
                    "rank": pd.Series(dtype=np.int64),
                    "latency_ms": pd.Series(dtype=float),
                    "share": pd.Series(dtype=float),
                    "weight": pd.Series(dtype=float),
                }
            )
        info_cols = [c for c in _SITE_INFO if c in self.sites.columns]
        open_mask = np.zeros(data.n_sites, dtype=bool) if open_mask is None else open_mask
        open_sites = self.sites.loc[open_mask, info_cols].reset_index(drop=True)
        primary = assignments[assignments["rank"] == 1]
        load = (primary["weight"] * primary["share"]).groupby(primary["site_id"]).sum()
        n_demand = primary.groupby("site_id")["demand_id"].nunique()
        open_sites["load"] = open_sites["site_id"].map(load).fillna(0.0).to_numpy(dtype=float)
        open_sites["n_demand"] = (
            open_sites["site_id"].map(n_demand).fillna(0).to_numpy(dtype=np.int64)
        )
        metrics: dict[str, Any] = {"n_open": int(open_mask.sum())}
        sla = self.sla_ms if self.sla_ms is not None else self.max_latency_ms
        if len(primary):
            metrics.update(latency_metrics(assignments, sla_ms=sla, rank=1))
            backups = assignments[assignments["rank"] == 2]
            if len(backups):
                b = latency_metrics(assignments, sla_ms=self.backup_max_latency_ms, rank=2)
                metrics["backup_mean_latency_ms"] = b["mean_latency_ms"]
                metrics["backup_max_latency_ms"] = b["max_latency_ms"]
            metrics["served_weight"] = float((primary["weight"] * primary["share"]).sum())
        metrics["total_weight"] = data.total_weight
        costs = self.site_costs()
        if costs is not None and open_mask.any():
            sub = costs.loc[open_sites["site_id"]]
            for col in sub.columns:
                open_sites[col] = sub[col].to_numpy()
            if "variable_usd_per_unit_per_year" in sub.columns:
                open_sites["served_usd_per_year"] = (
                    sub["variable_usd_per_unit_per_year"].to_numpy() * open_sites["load"]
                )
            component_cols = [
                c
                for c in open_sites.columns
                if c.endswith("_usd_per_year") and c != "total_usd_per_year"
            ]
            for col in component_cols:
                metrics[col] = float(open_sites[col].sum())
            total = open_sites["total_usd_per_year"].to_numpy(dtype=float)
            if "served_usd_per_year" in open_sites.columns:
                total = total + open_sites["served_usd_per_year"].to_numpy(dtype=float)
            open_sites["total_usd_per_year"] = total
            if "pair_cost" not in metrics and data.pair_cost_usd.any() and rows:
                p = np.array([r[0] for r in rows if r[1] == 1], dtype=np.int64)
                share = np.array([r[3] for r in rows if r[1] == 1])
                metrics["assignment_usd_per_year"] = float((data.pair_cost_usd[p] * share).sum())
            metrics["total_cost_usd_per_year"] = float(total.sum()) + metrics.get(
                "assignment_usd_per_year", 0.0
            )
            if "carbon_tonnes_per_year" in open_sites.columns:
                metrics["carbon_tonnes_per_year"] = float(
                    open_sites["carbon_tonnes_per_year"].sum()
                )
        site_cols = [c for c in _SITE_INFO if c in self.sites.columns]
        demand_cols = [c for c in _DEMAND_INFO if c in self.demand.columns]
        solver_info = {
            "name": options.solver,
            "time_limit_s": options.time_limit_s,
            "gap_rel": options.gap_rel,
            "threads": options.threads,
            "raw_status": raw,
            "warm_start": False,
            "warm_start_repaired": False,
            "warm_start_incumbent": None,
            **(extra or {}),
        }
        return Result(
            status=status,
            objective=objective,
            best_bound=bound,
            gap=gap,
            open_sites=open_sites,
            assignments=assignments,
            metrics=metrics,
            sites=self.sites[site_cols].copy(),
            demand=self.demand[demand_cols].copy(),
            params=self.params(),
            timings={"build_s": build_s, "solve_s": solve_s, "total_s": build_s + solve_s},
            solver=solver_info,
            message=message,
            name=self.name,
            restart=restart,
        )

    def __repr__(self) -> str:
        parts = [
            f"objective={self.objective!r}",
            f"sites={len(self.sites)}",
            f"demand={len(self.demand)}",
        ]
        for key in ("n_sites", "max_sites", "min_sites", "max_latency_ms", "sla_ms", "sla_share"):
            val = getattr(self, key)
            if val is not None:
                parts.append(f"{key}={val!r}")
        if self.redundancy > 1:
            parts.append(f"redundancy={self.redundancy}, failure_domain={self.failure_domain!r}")
        return f"Problem({', '.join(parts)})"

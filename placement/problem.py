"""The placement problem: sites, demand, latency and cost, an objective and constraints.

:class:`Problem` validates everything on construction (errors name the parameter or the row).
:meth:`Problem.solve` then runs one pipeline, each step in its own module:

1. **lower** (:mod:`placement.lowering`) — latency table chosen, validated and pruned once,
   site costs once, :class:`~placement.formulations.ModelData` built;
2. **diagnose** (:mod:`placement.diagnose`) — infeasibility explained in words before solving;
3. **solve** (:mod:`placement.formulations.registry`) — the first solver whose declared
   capabilities cover the problem, under one deadline and one gap rule;
4. **assemble** (:mod:`placement.assemble`) — the :class:`~placement.result.Result`.

It never mutates its inputs and keeps no global state.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from placement import config, diagnose, lowering, params
from placement._highs import new_highs
from placement.assemble import assemble
from placement.errors import ValidationError
from placement.formulations.contract import Solution, SolveRequest
from placement.formulations.data import ModelData
from placement.formulations.registry import check_method, choose_solver, solve_data
from placement.formulations.warm import repair_start
from placement.lowering import Lowered
from placement.matrix import CostMatrix
from placement.progress import ProgressCallback, Reporter
from placement.result import Result
from placement.solve import SolverOptions
from placement.validate import validate_demand, validate_latency_table, validate_sites

__all__ = ["OBJECTIVES", "UNREACHABLE_POLICIES", "LatencySource", "Problem"]

#: Objectives a Problem can optimise; what it may do with unreachable demand (see ``unreachable=``).
OBJECTIVES = params.OBJECTIVES
UNREACHABLE_POLICIES = params.UNREACHABLE_POLICIES

_UNITS = {
    "median": "ms (demand-weighted mean latency)",
    "center": "ms (worst latency)",
    "coverage": "share of demand within the SLA",
    "set-cover": "sites",
    "cost": "USD per year",
    "weighted": "USD per year (cost + weight × mean latency)",
}


class LatencySource(Protocol):
    """Anything that turns demand and sites into a long latency table."""

    def table(
        self, demand: pd.DataFrame, sites: pd.DataFrame, *, max_latency_ms: float | None = None
    ) -> pd.DataFrame:  # pragma: no cover - protocol
        ...


_param_error = params.param_error


def _vector(field: str, values: Any, size: int, what: str) -> np.ndarray:
    """A float vector of one value per row of ``what`` (a scalar repeated; shape checked)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:  # one value for every row
        return np.full(size, float(arr))
    if arr.shape != (size,):
        raise _param_error(field, f"must have one value per {what} row ({size}), got {arr.shape}")
    return arr


def _warm_info(sol: Solution, started: bool, repaired: bool) -> dict[str, Any]:
    """``result.solver`` entries of a solve: the solver's stats and the warm-start facts."""
    handed = started and bool(sol.stats.get("warm_start_handed", True))
    info = {k: v for k, v in sol.stats.items() if k != "warm_start_handed"}
    info["warm_start"] = handed
    info["warm_start_repaired"] = handed and repaired
    if not handed:
        info["warm_start_incumbent"] = None
    return info


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
        ``table(demand, sites, max_latency_ms=...)`` (such as a
        :class:`placement.matrix.CostMatrix`, which :meth:`from_cost_matrix` makes). Default:
        the calibrated model of :func:`placement.latency.default_model`.
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
        Each demand point is served by this many distinct sites (primary + backups). The
        primary is the nearest of a point's sites: the latency objectives make it so, and under
        the ``cost`` and ``weighted`` objectives (which charge only the primary's serving cost)
        it is a constraint of the model.
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
    unreachable : {"error", "exclude", "best-effort"}
        What to do with demand points that no allowed site can serve within the hard SLA
        (``max_latency_ms``, residency, forbidden sites): ``"error"`` (the default) makes the
        problem infeasible with their names; ``"exclude"`` leaves them out of the model;
        ``"best-effort"`` serves them from any site, the SLA waived for them alone. Either way
        ``result.unreachable`` lists them with their best possible latency and site.
    latency_statistic : {"mean", "p50", "p95"}, optional
        The statistic of users' round trip that latencies (and so every SLA) are stated in, with
        a latency model that has one (the default model): the mean over a demand point's users,
        the median or the 95th percentile. Results then also carry each assignment's latency under
        the other statistics (``latency_mean_ms``, ``latency_p50_ms``, ``latency_p95_ms``) and
        whether the pair was measured or modelled (``source``). Default: the model's own (mean).
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
        unreachable: str = "error",
        latency_statistic: str | None = None,
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
                "unreachable": unreachable,
                "latency_statistic": latency_statistic,
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
        self._latency = latency
        # True when ``latency`` is a table validated against these sites and demand (set by
        # with_full_latency; kept by replace() while the three stay)
        self._latency_validated = isinstance(latency, CostMatrix)  # checked on construction
        self._matrix_table: pd.DataFrame | None = None
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
        self.unreachable = p["unreachable"]
        self.latency_statistic = p["latency_statistic"]
        if self.latency_statistic is not None and (
            isinstance(latency, pd.DataFrame)
            or (latency is not None and not hasattr(latency, "statistic"))
        ):
            raise _param_error(
                "latency_statistic",
                "needs a latency model with statistics (the default model, "
                "placement.latency.UserLatencyModel); a latency table holds one statistic already",
                latency_statistic,
            )
        self.name = p["name"]
        self._check_combination()

    @property
    def latency(self) -> Any:
        """The latency table or model given; a dense matrix (:meth:`from_cost_matrix`) reads as
        its long table ``demand_id, site_id, latency_ms``, built when first asked for (the
        solvers read the matrix itself, :attr:`cost_matrix`)."""
        if isinstance(self._latency, CostMatrix):
            if self._matrix_table is None:
                self._matrix_table = self._latency.table(self.demand, self.sites)
            return self._matrix_table
        return self._latency

    @property
    def cost_matrix(self) -> CostMatrix | None:
        """The dense matrix this problem was made from (:meth:`from_cost_matrix`), else None."""
        return self._latency if isinstance(self._latency, CostMatrix) else None

    # ------------------------------------------------------------------ validation
    def _check_combination(self) -> None:
        """Checks that need several arguments together (each names the field at fault)."""
        self._check_fixings()
        self._check_objective_needs()
        self._check_counts()
        self._check_columns()

    def _check_fixings(self) -> None:
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

    def _check_objective_needs(self) -> None:
        obj = self.objective
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

    def _check_counts(self) -> None:
        n = self.n_sites
        if n is not None and self.max_sites is not None and n > self.max_sites:
            raise _param_error("n_sites", f"n_sites={n} exceeds max_sites={self.max_sites}", n)
        if self.min_sites is not None and self.max_sites is not None:
            if self.min_sites > self.max_sites:
                raise _param_error("min_sites", "exceeds max_sites", self.min_sites)
        available = len(set(self.sites["site_id"])) - len(set(self.forbidden))
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

    def _check_columns(self) -> None:
        if self.redundancy > 1 and self.failure_domain not in self.sites.columns:
            raise _param_error(
                "failure_domain", "not a column of the sites table", self.failure_domain
            )
        for table, df in (("sites", self.sites), ("demand", self.demand)):
            if self.residency and self.residency_column not in df.columns:
                raise _param_error(
                    "residency_column", f"not a column of the {table} table", self.residency_column
                )
        if isinstance(self.capacity, str) and self.capacity not in self.sites.columns:
            raise _param_error("capacity", "not a column of the sites table", self.capacity)
        if self.capacity is not None and not isinstance(self.capacity, str):
            params.number("capacity", self.capacity, minimum=0.0)

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

        The matrix goes to the solvers as it is: it is checked once here (a
        :class:`~placement.matrix.CostMatrix`) and lowering takes the allowed pairs from it as
        arrays, without the long table of ``n × m`` rows a DataFrame input needs (that table is
        built only if something reads :attr:`latency` or :meth:`latency_table`). Demand points
        are named ``d0, d1, …`` and sites ``s0, s1, …`` in the result.

        Parameters
        ----------
        cost : numpy.ndarray, shape (n_demand, n_sites)
            Latency in ms (``np.inf`` or ``NaN`` marks a pair that is not allowed).
        weights : numpy.ndarray, shape (n_demand,), optional
            Demand weights (default 1).
        fixed_cost : numpy.ndarray, shape (n_sites,), or float, optional
            Annual fixed cost per site, USD.
        capacity : numpy.ndarray, shape (n_sites,), or float, optional
            Capacity per site in the weight unit (enables capacity constraints).
        assignment_cost : numpy.ndarray, shape (n_demand, n_sites), optional
            USD per year of serving all of demand ``i`` from site ``j`` (e.g. OR-Library ``cap``).
        **kwargs
            Passed to the constructor (objective, n_sites, …).

        Raises
        ------
        placement.errors.ValidationError
            A matrix that is not 2-D, a vector or pair-cost matrix of the wrong shape, or a value
            out of range, naming the pair (``"d4 -> s5"``), the demand row or the site.
        """
        matrix = CostMatrix(cost, cost_usd_per_year=assignment_cost)
        n, m = matrix.shape
        sites = pd.DataFrame({"site_id": matrix.site_ids, "lat_deg": 0.0, "lon_deg": 0.0})
        for field, column, values in (
            ("fixed_cost", "fixed_cost_usd_per_year", fixed_cost),
            ("capacity", "capacity", capacity),
        ):
            if values is not None:
                sites[column] = _vector(field, values, m, "sites")
        if capacity is not None:
            kwargs.setdefault("capacity", "capacity")
        w = np.ones(n) if weights is None else _vector("weights", weights, n, "demand")
        demand = pd.DataFrame(
            {"demand_id": matrix.demand_ids, "lat_deg": 0.0, "lon_deg": 0.0, "weight": w}
        )
        return cls(sites, demand, latency=matrix, **kwargs)

    def replace(self, **overrides: Any) -> Problem:
        """A new Problem equal to this one except for ``overrides`` (validated like any input).

        Every constructor argument, the tables included (``sites=``, ``demand=``,
        ``latency=``, ``cost_model=``), may be overridden; this problem is not changed.
        """
        names = [k for k in inspect.signature(Problem.__init__).parameters if k != "self"]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise _param_error(unknown[0], f"not a Problem argument: {', '.join(unknown)}")
        kwargs = {name: getattr(self, name) for name in names if name != "latency"}
        kwargs["latency"] = self._latency  # a dense matrix stays one
        kwargs.update(overrides)
        sites = kwargs.pop("sites")
        demand = kwargs.pop("demand")
        new = type(self)(sites, demand, **kwargs)
        kept = self._latency_validated and not ({"latency", "sites", "demand"} & set(overrides))
        new._latency_validated = new._latency_validated or kept
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
        cfg = config.load_config(path)
        return cls.from_config(cfg, **overrides)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], **overrides: Any) -> Problem:
        """Build a problem from the dict returned by :func:`placement.config.load_config`."""
        inputs = cfg.get("inputs", {})
        sites = config.load_sites(
            inputs.get("sites", "catalog"),
            providers=inputs.get("providers"),
            kinds=inputs.get("kinds"),
        )
        demand = config.load_demand(
            inputs.get("demand", "catalog"),
            **{k: inputs[k] for k in config.DEMAND_FILTER_KEYS if k in inputs},
        )
        latency = config.load_latency(inputs.get("latency"))
        model = config.load_latency_model(inputs, sites)  # 'rum' / 'measured' files, if any
        if model is not None:
            latency = model
        cost_model = None
        if cfg.get("costs") is not None:
            from placement.costs import CostModel

            try:
                cost_model = CostModel(**cfg["costs"])
            except TypeError as exc:
                raise ValidationError(str(exc), table="costs") from None
        kwargs = {"name": cfg.get("name", ""), **cfg.get("problem", {}), **overrides}
        # a [streaming] table: egress volume for the costs, a capacity in Gbps as demand weight
        cost_model, kwargs = config.apply_streaming(cfg.get("streaming"), cost_model, kwargs)
        return cls(sites, demand, latency=latency, cost_model=cost_model, **kwargs)

    # ------------------------------------------------------------------ derived tables
    def latency_table(self) -> pd.DataFrame:
        """The long latency table the model uses (pruned by the hard SLAs where possible)."""
        return lowering.latency_table(self)

    def site_costs(self) -> pd.DataFrame | None:
        """Cost components per site (index ``site_id``), or None when nothing is costed."""
        return lowering.site_costs(self)

    def model_data(self, table: pd.DataFrame | None = None) -> ModelData:
        """The numeric form of this problem (see :class:`ModelData`)."""
        return lowering.build_model_data(self, table, self.site_costs())

    def lower(self) -> Lowered:
        """Latency table, site costs and :class:`ModelData`, each computed once."""
        return lowering.lower(self)

    @property
    def latency_validated(self) -> bool:
        """True when ``latency`` is a table already validated against these sites and demand."""
        return self._latency_validated

    def with_full_latency(self) -> Problem:
        """This problem with its unpruned latency table computed and validated once.

        Copies made from it with :meth:`replace` (the points of a sweep, a frontier or a
        robustness study) keep the table and skip its validation as long as they keep these
        sites, demand and latency.
        """
        if self.cost_matrix is not None:
            return self  # checked on construction; lowering reads its pairs as arrays
        source = lowering.latency_source(self)
        table = (
            source if isinstance(source, pd.DataFrame) else source.table(self.demand, self.sites)
        )
        table = validate_latency_table(
            table, site_ids=self.sites["site_id"], demand_ids=self.demand["demand_id"]
        ).reset_index(drop=True)
        return self._with_validated_latency(table)

    def _with_validated_latency(self, table: pd.DataFrame, **overrides: Any) -> Problem:
        """:meth:`replace` with ``latency=table``, a table the caller has validated against the
        new problem's sites and demand (lowering then skips validating it again)."""
        new = self.replace(latency=table, **overrides)
        new._latency_validated = True
        return new

    # ------------------------------------------------------------------ diagnosis
    def explain_infeasible(self, data: ModelData | None = None) -> list[str]:
        """Reasons, in words, why this problem cannot be solved (empty when none is found).

        These checks run before the solver: demand points with no allowed site, too few failure
        domains in reach for the redundancy, capacity below demand, percentile SLA out of reach,
        must-open sites over the budget, per-provider limits.
        """
        return diagnose.explain_infeasible(self, self.model_data() if data is None else data)

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
        progress: ProgressCallback | None = None,
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
            ``auto`` uses the first solver of
            :data:`placement.formulations.registry.SOLVERS` whose declared capabilities cover
            every objective, redundancy level and active constraint of this problem (the fast
            exact solvers first, the PuLP formulations, which cover everything, last; see
            :meth:`solver_for`); ``pulp`` forces the PuLP formulations; ``fast`` raises when no
            fast solver covers the problem.
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
        progress : callable, optional
            Called with a :class:`placement.progress.Progress` (elapsed seconds, incumbent,
            bound, gap, what the solver is doing) at each stage and, from the fast p-median and
            the redundant median, as the search goes (at most once a second). The library never
            prints; :class:`placement.progress.LogProgress` logs the records.
        """
        t0 = time.perf_counter()  # the time limit covers everything from here
        check_method(method)  # before any work
        start_idx = self._warm_start_indices(warm_start)
        options = SolverOptions(
            solver=solver,
            time_limit_s=time_limit_s,
            gap_rel=gap_rel,
            threads=threads,
            verbose=verbose,
        )
        new_highs()  # HiGHS prints a banner once per process: sent to the null device
        report = Reporter(progress, t0)
        report(message="lowering: latency table, site costs", force=True)
        # validate (done on construction) → lower → diagnose → solve → assemble
        lowered = self.lower()
        solved = lowered.problem  # without the demand an "exclude" policy left out
        reasons = diagnose.explain_infeasible(solved, lowered.data)
        if reasons:
            sol = Solution("infeasible", raw_status="presolve check", message="; ".join(reasons))
            return assemble(solved, lowered, sol, options, build_s=time.perf_counter() - t0)
        start, repaired = (
            (None, False) if start_idx is None else repair_start(lowered.data, start_idx)
        )
        restart = warm_start.restart if isinstance(warm_start, Result) else None
        request = SolveRequest.from_options(
            options, t0, start=start, restart=restart, progress=report
        )
        sol, used = solve_data(lowered.data, request, method)
        if sol.status == "infeasible":
            detail = f": {sol.message}" if sol.message else ""
            sol = dataclasses.replace(sol, message=diagnose.infeasible_message(solved) + detail)
        report(sol.objective, sol.bound, f"{sol.status} ({used.name})", force=True)
        build_s = time.perf_counter() - t0 - sol.solve_s
        extra = {"method": used.name, **_warm_info(sol, start is not None, repaired)}
        return assemble(solved, lowered, sol, options, build_s=build_s, extra=extra)

    def solver_for(self, method: str = "auto") -> str:
        """The name of the solver that :meth:`solve` runs (see :func:`choose_solver`).

        The first solver whose declared capabilities (objectives, redundancy, features and
        condition) cover this problem; its name is ``result.solver["method"]`` after the solve,
        except for a problem only ``pulp`` covers, solved with ``method="auto"``: its relaxation
        (without the percentile SLA, capacity, budget or provider limits) is solved first
        (``result.solver["relaxation"]`` says how it went), and the result names the solver that
        answered: the relaxation's fast solver when that settles the problem (its optimum meets
        them, or it is infeasible), ``lagrangian-flp`` or ``fast-redundant-median`` for a
        capacity at world scale (at least ``LAGRANGIAN_CAPACITY_MIN_PAIRS`` pairs), else
        ``pulp``. Which it is can only be known by solving.
        """
        return choose_solver(self.model_data(), method).name

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

    # ------------------------------------------------------------------ result assembly
    def _objective_unit(self) -> str:
        """The objective's unit in words; with backups, how their latency counts."""
        if self.redundancy > 1 and self.backup_weight > 0:
            b = f"{self.backup_weight:g}"
            if self.objective == "median":
                return f"ms (demand-weighted mean of primary + {b} × backup latency)"
            if self.objective == "weighted":
                return f"USD per year (cost + weight × mean of primary + {b} × backup latency)"
        if self.objective == "cost" and self.latency_penalty_usd_per_unit_ms:
            # the summary's cost line is the bill alone: say what else the objective holds
            return (
                "USD per year (cost + a latency penalty of "
                f"{self.latency_penalty_usd_per_unit_ms:g} USD per unit of demand per ms)"
            )
        return _UNITS[self.objective]

    def params(self) -> dict[str, Any]:
        """The objective and constraints as a plain dict (carried into results)."""
        mpp = self.max_sites_per_provider
        return {
            "objective": self.objective,
            "objective_unit": self._objective_unit(),
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
            "unreachable": self.unreachable,
            "latency_statistic": lowering.latency_statistic(self),
        }

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

"""The one contract between a lowered problem and every exact solver.

In the spirit of PuLP's ``LpSolver.actualSolve(lp)``: every solver — the fast exact ones and the
PuLP backend — takes the same lowered model (:class:`~placement.formulations.data.ModelData`)
and the same :class:`SolveRequest` (options, one deadline started when ``Problem.solve`` was
entered, a repaired warm start, a root-LP restart) and returns one :class:`Solution` type.

Dispatch fails closed. :data:`FIELD_RULES` classifies every field of ``ModelData``: a rule maps
the field to the *feature* it switches on (``"capacity"``, ``"budget"``, …) or to ``None`` when
the field never changes which problem is solved beyond the objective and redundancy (those are
checked separately). A solver declares in :class:`Capabilities` the objectives, redundancy levels
and features it handles, and is chosen only when it declares every active one. A new
``ModelData`` field without a rule fails at import (:func:`_check_rules`), so a new constraint
cannot be silently ignored by a solver that does not know it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from placement.formulations._gap import is_proven, relative_gap
from placement.formulations.data import ModelData
from placement.solve import SolverOptions

__all__ = [
    "FEATURES",
    "FIELD_RULES",
    "Capabilities",
    "Solution",
    "SolveRequest",
    "Solver",
    "active_features",
]

_COST_OBJECTIVES = ("cost", "weighted")


def _when(name: str, test: Callable[[ModelData], bool]) -> Callable[[ModelData], str | None]:
    def rule(data: ModelData) -> str | None:
        return name if test(data) else None

    rule.__doc__ = f"'{name}' when active"
    return rule


def _never(data: ModelData) -> str | None:
    """Structural (sizes, the pairs and their latency) or read by the objective itself."""
    return None


def _costed(data: ModelData) -> bool:
    return data.objective in _COST_OBJECTIVES or (
        data.objective == "set-cover" and data.set_cover_by == "cost"
    )


#: Every ModelData field → the feature it switches on (None: structural / the objective's own).
FIELD_RULES: dict[str, Callable[[ModelData], str | None]] = {
    "n_demand": _never,
    "n_sites": _never,
    "weight": _never,
    "pair_i": _never,
    "pair_j": _never,
    "latency_ms": _never,
    "objective": _never,  # Capabilities.objectives
    "redundancy": _never,  # Capabilities.min_redundancy / max_redundancy
    "latency_weight_usd_per_ms": _never,  # the weighted objective's own weight
    "set_cover_by": _never,  # read through _costed (fixed costs) below
    "pair_cost_usd": _when(
        "pair_cost", lambda d: d.objective in _COST_OBJECTIVES and bool(d.pair_cost_usd.any())
    ),
    "primary_ok": _when("pair_rules", lambda d: not bool(d.primary_ok.all())),
    "backup_ok": _when("backup_rules", lambda d: d.redundancy > 1 and not bool(d.backup_ok.all())),
    "fixed_usd": _when("fixed_cost", lambda d: _costed(d) and bool(d.fixed_usd.any())),
    "variable_usd_per_unit": _when(
        "variable_cost", lambda d: _costed(d) and bool(d.variable_usd_per_unit.any())
    ),
    "domain": _when("failure_domain", lambda d: d.redundancy > 1),
    "provider": _when("max_per_provider", lambda d: bool(d.max_per_provider)),
    "must_open": _when("must_open", lambda d: bool(d.must_open.any())),
    "forbidden": _when("forbidden", lambda d: bool(d.forbidden.any())),
    "n_sites_exact": _when("n_sites", lambda d: d.n_sites_exact is not None),
    "max_sites": _when("max_sites", lambda d: d.max_sites is not None),
    "min_sites": _when("min_sites", lambda d: bool(d.min_sites)),
    "sla_ms": _when("sla_share", lambda d: d.sla_share is not None),
    "sla_share": _when("sla_share", lambda d: d.sla_share is not None),
    "backup_weight": _when(
        "backup_weight",
        lambda d: d.redundancy > 1 and d.objective in ("median", "weighted"),
    ),
    "capacity": _when("capacity", lambda d: d.capacity is not None),
    # without capacities or a percentile SLA every optimum can be taken single-sourced
    "single_sourcing": _when(
        "single_sourcing",
        lambda d: d.single_sourcing and (d.capacity is not None or d.sla_share is not None),
    ),
    "budget_usd": _when("budget", lambda d: d.budget_usd is not None),
    "max_per_provider": _when("max_per_provider", lambda d: bool(d.max_per_provider)),
    "latency_penalty_usd_per_unit_ms": _when(
        "latency_penalty",
        lambda d: d.objective == "cost" and d.latency_penalty_usd_per_unit_ms != 0,
    ),
}

#: Every feature a rule can switch on.
FEATURES: frozenset[str] = frozenset(
    {
        "pair_cost",
        "pair_rules",
        "backup_rules",
        "fixed_cost",
        "variable_cost",
        "failure_domain",
        "max_per_provider",
        "must_open",
        "forbidden",
        "n_sites",
        "max_sites",
        "min_sites",
        "sla_share",
        "backup_weight",
        "capacity",
        "single_sourcing",
        "budget",
        "latency_penalty",
    }
)


def _check_rules() -> None:
    """Fail at import when a ModelData field has no rule (or a rule names no known field)."""
    names = {f.name for f in dataclasses.fields(ModelData)}
    missing = sorted(names - set(FIELD_RULES))
    extra = sorted(set(FIELD_RULES) - names)
    if missing or extra:
        raise RuntimeError(
            "placement.formulations.contract.FIELD_RULES must classify every ModelData field: "
            f"missing {missing}, unknown {extra}"
        )


_check_rules()


def active_features(data: ModelData) -> frozenset[str]:
    """The features of :data:`FEATURES` that ``data`` switches on."""
    return frozenset(f for rule in FIELD_RULES.values() if (f := rule(data)) is not None)


@dataclass(frozen=True)
class Capabilities:
    """What a solver handles.

    Attributes
    ----------
    objectives : frozenset of str
        Objectives it optimises.
    min_redundancy, max_redundancy : int
        Redundancy levels (``max_redundancy=None``: no upper limit).
    features : frozenset of str
        Features of :data:`FEATURES` it takes into account.
    requires : frozenset of str
        Features that must be active for it to apply (e.g. capacities for the CFL solver).
    condition : callable, optional
        A test beyond the features, for what a feature cannot say (e.g. the budget solver's
        "the serving cost does not depend on the assignment"): ``condition(data)`` is None when
        the solver applies, else why not, in words. Read by :meth:`gaps` like the rest, so the
        registry's choice, ``Problem.solver_for()`` and ``method="fast"``'s message agree.
    """

    objectives: frozenset[str]
    min_redundancy: int = 1
    max_redundancy: int | None = 1
    features: frozenset[str] = frozenset()
    requires: frozenset[str] = frozenset()
    condition: Callable[[ModelData], str | None] | None = None

    def __post_init__(self) -> None:
        unknown = (self.features | self.requires) - FEATURES
        if unknown:
            raise ValueError(f"unknown feature(s) {sorted(unknown)}")

    def gaps(self, data: ModelData) -> list[str]:
        """Why this solver does not cover ``data`` (empty when it does)."""
        out = []
        if data.objective not in self.objectives:
            out.append(f"objective {data.objective}")
        top = math.inf if self.max_redundancy is None else self.max_redundancy
        if not (self.min_redundancy <= data.redundancy <= top):
            out.append(f"redundancy {data.redundancy}")
        active = active_features(data)
        out += sorted(active - self.features)
        out += [f"needs {f}" for f in sorted(self.requires - active)]
        if not out and self.condition is not None and (why := self.condition(data)) is not None:
            out.append(why)  # only on data it otherwise covers: the condition may assume that
        return out

    def covers(self, data: ModelData) -> bool:
        """True when every objective, redundancy and active feature of ``data`` is declared."""
        return not self.gaps(data)


@dataclass(frozen=True)
class SolveRequest:
    """How to solve, the same for every solver.

    Attributes
    ----------
    options : placement.solve.SolverOptions
        Solver name (for PuLP), time limit, requested gap, threads, verbosity.
    deadline : float
        ``time.perf_counter()`` value by which the whole solve must end (``inf`` without a
        limit); started when ``Problem.solve`` was entered, so lowering counts against it.
    start : numpy.ndarray of bool, optional
        A repaired warm start (open mask), the first incumbent where the solver takes one.
    restart : object, optional
        A previous fast p-median's root LP (:class:`~placement.formulations.radius.RootRestart`).
    progress : placement.progress.Reporter, optional
        Called by solvers that report their incumbent and bound as they go (throttled).
    """

    options: SolverOptions = field(default_factory=SolverOptions)
    deadline: float = math.inf
    start: np.ndarray | None = None
    restart: Any = None
    progress: Any = None

    @classmethod
    def from_options(cls, options: SolverOptions, t0: float | None = None, **kwargs: Any):
        """A request whose deadline is ``options.time_limit_s`` after ``t0`` (default: now)."""
        t0 = time.perf_counter() if t0 is None else t0
        limit = options.time_limit_s
        deadline = math.inf if limit is None else t0 + float(limit)
        return cls(options=options, deadline=deadline, **kwargs)

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None without a limit; at least 1 ms)."""
        if not math.isfinite(self.deadline):
            return None
        return max(1e-3, self.deadline - time.perf_counter())

    def timed_out(self) -> bool:
        """True once the deadline has passed."""
        return time.perf_counter() >= self.deadline


@dataclass(frozen=True)
class Solution:
    """What every solver returns (indices refer to the rows of the ModelData it was given).

    Attributes
    ----------
    status : {"optimal", "feasible", "infeasible", "no_solution"}
        As the solver saw it; :func:`placement.formulations.registry.solve_data` then applies
        the one "proven" rule of :mod:`placement.formulations._gap`.
    objective, bound : float or None
        Incumbent value and proven lower bound (None when unknown).
    open_mask : numpy.ndarray of bool or None
        Open sites (None without a solution).
    rows : list of (pair, rank, demand, share)
        Assignment rows; ``share`` is the fraction of the demand point's weight.
    build_s, solve_s : float
        Seconds the solver spent setting up (heuristics, model) and searching.
    raw_status : str
        The solver's own status word.
    message : str
        Why there is no solution, or how the search stopped.
    stats : mapping
        Solver facts for ``result.solver`` (``method``, ``n_vars``, ``n_rows``, ``nodes``,
        ``warm_start_incumbent``, ``restarted``, …).
    restart : object, optional
        A root LP to restart a neighbouring solve (fast p-median only).
    sense : {1, -1}
        1 when the objective is minimised, -1 when maximised (``bound`` is then an upper bound).
    """

    status: str
    objective: float | None = None
    bound: float | None = None
    open_mask: np.ndarray | None = None
    rows: list[tuple[int, int, int, float]] = field(default_factory=list)
    build_s: float = 0.0
    solve_s: float = 0.0
    raw_status: str = ""
    message: str = ""
    stats: Mapping[str, Any] = field(default_factory=dict)
    restart: Any = None
    sense: int = 1

    @property
    def found(self) -> bool:
        """True when the solution holds an incumbent."""
        return self.status in ("optimal", "feasible") and self.objective is not None

    @property
    def gap(self) -> float | None:
        """Relative gap by the one rule (None without an incumbent or a bound)."""
        if not self.found or self.bound is None:
            return None
        return relative_gap(self.sense * self.objective, self.sense * self.bound)

    @property
    def proven(self) -> bool:
        """True when the bound proves the objective optimal (:func:`~._gap.is_proven`)."""
        if not self.found or self.bound is None:
            return False
        return is_proven(self.sense * self.objective, self.sense * self.bound)


class Solver(Protocol):
    """An exact solver of lowered problems."""

    name: str
    capabilities: Capabilities

    def solve(self, data: ModelData, request: SolveRequest) -> Solution:  # pragma: no cover
        """Solve ``data`` under ``request``."""
        ...

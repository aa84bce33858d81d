"""One type checker for every parameter of the library, the TOML files and the command line.

Each checker takes the parameter's name and value and returns the normalised value or raises a
:class:`~placement.errors.ValidationError` naming the field. The rules are the same wherever a
value comes from (a keyword argument, a TOML key, a command-line option):

* a boolean is not a number (``time_limit_s=True`` is refused, not read as 1 second);
* a string is not a list (``must_open="bc"`` is refused, not read as ``["b", "c"]``);
* a number given as text is not a number (``time_limit_s = "10"`` in TOML is refused);
* numbers are finite and inside the ranges stated in :data:`RANGES`.

Budgets (the sizes of inputs, tables and sweep grids) are in :data:`BUDGETS`; each has a default
and an environment variable that raises it (:func:`budget`). This module imports nothing heavy.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from placement.errors import ValidationError

__all__ = [
    "BUDGETS",
    "RANGES",
    "boolean",
    "budget",
    "check",
    "check_budget",
    "choice",
    "costs_spec",
    "id_list",
    "integer",
    "mapping",
    "number",
    "problem_spec",
    "solver_spec",
    "text",
]

#: Largest accepted magnitudes of input numbers: beyond them the solvers' floating-point
#: arithmetic is no longer exact enough to prove optimality. Refused at the door, field named.
#: Objectives a Problem can optimise.
OBJECTIVES = ("median", "center", "coverage", "set-cover", "cost", "weighted")

#: Statistics of users' round trip a Problem's SLA can be stated on (``latency_statistic=``).
LATENCY_STATISTICS = ("mean", "p50", "p95")

#: What a Problem may do with demand no allowed site can reach (``Problem(unreachable=)``).
UNREACHABLE_POLICIES = ("error", "exclude", "best-effort")

RANGES: dict[str, float] = {
    "latency_ms": 1e6,  # round trip, ms (1,000 s)
    "distance_km": 1e6,
    "weight": 1e15,  # demand weight (users, Gbps, …)
    "capacity": 1e15,  # site capacity, demand-weight units
    "usd": 1e15,  # any cost or budget, USD per year
    "usd_per_ms": 1e15,  # latency prices
    "threads": 256,
    "time_limit_s": 1e9,
}

#: Budgets: name -> (default, environment variable that raises it, what is counted).
BUDGETS: dict[str, tuple[int, str, str]] = {
    "input_mb": (1024, "PLACEMENT_MAX_INPUT_MB", "MB per input file (CSV, result JSON)"),
    "config_mb": (16, "PLACEMENT_MAX_CONFIG_MB", "MB per TOML problem file"),
    "demand": (1_000_000, "PLACEMENT_MAX_DEMAND", "demand points"),
    "sites": (100_000, "PLACEMENT_MAX_SITES", "candidate sites"),
    "pairs": (200_000_000, "PLACEMENT_MAX_PAIRS", "demand-site pairs"),
    "grid_points": (10_000, "PLACEMENT_MAX_GRID_POINTS", "sweep grid points"),
}


def param_error(field: str, message: str, value: object = None) -> ValidationError:
    """A :class:`~placement.errors.ValidationError` about a library parameter, naming it."""
    return ValidationError(message, table="parameter", field=field, value=value)


def budget(name: str) -> int:
    """The current value of a budget: its environment variable when set, else the default.

    Raises
    ------
    ValidationError
        When the environment variable is not a positive integer.
    """
    default, env, _ = BUDGETS[name]
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValidationError(
            "must be a positive integer", table="environment", field=env, value=raw
        )
    return value


def check_budget(name: str, count: int, what: str, *, table: str = "parameter") -> None:
    """Refuse ``count`` above the budget ``name``, saying the limit and how to raise it."""
    limit = budget(name)
    if count > limit:
        _, env, unit = BUDGETS[name]
        raise ValidationError(
            f"{what}: {count:,} {unit} is more than the limit of {limit:,} "
            f"(raise it with the environment variable {env}=N)",
            table=table,
            value=count,
        )


def _fail(name: str, message: str, value: Any, table: str) -> ValidationError:
    return ValidationError(message, table=table, field=name, value=_short(value))


def _short(value: Any) -> Any:
    """The value as reported in an error (long reprs cut)."""
    r = repr(value)
    return value if len(r) <= 60 else r[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | _np_bool())


def _np_bool() -> type:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return bool
    return np.bool_


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
    table: str = "parameter",
) -> int | None:
    """An integer (not a bool, not a float, not text) in ``[minimum, maximum]``."""
    if value is None and optional:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | _np_bool()):
        lo = "" if minimum is None else f" >= {minimum}"
        raise _fail(name, f"must be an integer{lo}, got {type(value).__name__}", value, table)
    v = int(value)
    if minimum is not None and v < minimum:
        raise _fail(name, f"must be an integer >= {minimum}", value, table)
    if maximum is not None and v > maximum:
        raise _fail(name, f"must be an integer <= {maximum:,}", value, table)
    return v


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    optional: bool = False,
    table: str = "parameter",
) -> float | None:
    """A finite real number (not a bool, not text) in the range given."""
    if value is None and optional:
        return None
    if not _is_number(value):
        raise _fail(name, f"must be a number, got {type(value).__name__}", value, table)
    v = float(value)
    if not math.isfinite(v):
        raise _fail(name, "must be a finite number", value, table)
    if minimum is not None and (v < minimum or (exclusive_minimum and v == minimum)):
        op = ">" if exclusive_minimum else ">="
        raise _fail(name, f"must be a finite number {op} {minimum:g}", value, table)
    if maximum is not None and v > maximum:
        raise _fail(name, f"must be <= {maximum:g}", value, table)
    return v


def boolean(name: str, value: Any, *, table: str = "parameter") -> bool:
    """``True`` or ``False`` (not ``"yes"``, not 1)."""
    if not isinstance(value, bool | _np_bool()):
        raise _fail(name, f"must be true or false, got {type(value).__name__}", value, table)
    return bool(value)


def text(
    name: str,
    value: Any,
    *,
    optional: bool = False,
    nonempty: bool = False,
    table: str = "parameter",
) -> str | None:
    """A string."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(name, f"must be a string, got {type(value).__name__}", value, table)
    if nonempty and not value.strip():
        raise _fail(name, "must not be empty", value, table)
    return value


def choice(name: str, value: Any, options: Iterable[str], *, table: str = "parameter") -> str:
    """One of ``options`` (a string)."""
    opts = tuple(options)
    if not isinstance(value, str) or value not in opts:
        raise _fail(name, f"must be one of {', '.join(map(repr, opts))}", value, table)
    return value


def id_list(
    name: str, value: Any, *, optional: bool = False, table: str = "parameter"
) -> list[str]:
    """A list of ids: any iterable of strings (or integers) other than a string itself.

    ``None`` (when ``optional``) is the empty list. A string is refused: ``"bc"`` is one id
    or a typo, never the ids ``b`` and ``c``.
    """
    if value is None and optional:
        return []
    if isinstance(value, str | bytes | bytearray):
        raise _fail(
            name,
            f"must be a list of ids, got a string (one id is written [{value!r}], "
            "never split into characters)",
            value,
            table,
        )
    if isinstance(value, Mapping):
        raise _fail(name, f"must be a list of ids, got {type(value).__name__}", value, table)
    if not isinstance(value, Iterable):
        raise _fail(name, f"must be a list of ids, got {type(value).__name__}", value, table)
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool | _np_bool()):
            out.append(str(int(item)))
        else:
            raise _fail(
                f"{name}[{i}]", f"an id must be a string, got {type(item).__name__}", item, table
            )
    return out


def mapping(name: str, value: Any, *, optional: bool = False, table: str = "parameter") -> dict:
    """A mapping with string keys (values are checked by the caller)."""
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(name, f"must be a table / mapping, got {type(value).__name__}", value, table)
    for k in value:
        if not isinstance(k, str):
            raise _fail(name, f"keys must be strings, got {type(k).__name__}", k, table)
    return dict(value)


Checker = Callable[[str, Any, str], Any]


def check(
    spec: Mapping[str, Checker], values: Mapping[str, Any], *, table: str = "parameter"
) -> dict[str, Any]:
    """Check ``values`` against ``spec`` (name -> checker); unknown names are refused.

    Returns the normalised values (only those given).
    """
    out = {}
    for key, value in values.items():
        if key not in spec:
            raise ValidationError(
                f"unknown key; expected one of {', '.join(sorted(spec))}", table=table, field=key
            )
        out[key] = spec[key](key, value, table)
    return out


# ---------------------------------------------------------------------- specs
def _int(minimum: int | None = None, maximum: int | None = None, optional: bool = True) -> Checker:
    return lambda n, v, t: integer(
        n, v, minimum=minimum, maximum=maximum, optional=optional, table=t
    )


def _num(
    minimum: float | None = 0.0,
    maximum: float | None = None,
    *,
    exclusive: bool = False,
    optional: bool = True,
) -> Checker:
    return lambda n, v, t: number(
        n,
        v,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive,
        optional=optional,
        table=t,
    )


def _choice(*options: str) -> Checker:
    return lambda n, v, t: choice(n, v, options, table=t)


def _str(optional: bool = False) -> Checker:
    return lambda n, v, t: text(n, v, optional=optional, table=t)


def _capacity(n: str, v: Any, t: str) -> str | float | None:
    if v is None or isinstance(v, str):
        return v
    return number(n, v, minimum=0.0, maximum=RANGES["capacity"], table=t)


def _residency(n: str, v: Any, t: str) -> dict[str, list[str]] | None:
    if v is None:
        return None
    m = mapping(n, v, table=t)
    return {k: id_list(f"{n}[{k!r}]", vals, table=t) for k, vals in m.items()}


def _per_provider(n: str, v: Any, t: str) -> int | dict[str, int] | None:
    if v is None:
        return None
    if isinstance(v, Mapping):
        m = mapping(n, v, table=t)
        return {k: integer(f"{n}[{k!r}]", x, minimum=0, table=t) for k, x in m.items()}
    return integer(n, v, minimum=0, table=t)


def problem_spec() -> dict[str, Checker]:
    """Checkers of :class:`placement.Problem`'s scalar keyword arguments (the TOML ``[problem]``)."""
    ms = RANGES["latency_ms"]
    return {
        "objective": _choice(*OBJECTIVES),
        "n_sites": _int(1),
        "max_sites": _int(1),
        "min_sites": _int(0),
        "max_latency_ms": _num(0.0, ms, exclusive=True),
        "sla_ms": _num(0.0, ms, exclusive=True),
        "sla_share": _num(0.0, 1.0, exclusive=True),
        "redundancy": _int(1, 1000),
        "failure_domain": _str(),
        "backup_max_latency_ms": _num(0.0, ms, exclusive=True),
        "backup_weight": _num(0.0, 1.0, optional=False),
        "capacity": _capacity,
        "single_sourcing": lambda n, v, t: boolean(n, v, table=t),
        "residency": _residency,
        "residency_column": _str(),
        "must_open": lambda n, v, t: id_list(n, v, optional=True, table=t),
        "forbidden": lambda n, v, t: id_list(n, v, optional=True, table=t),
        "budget_usd_per_year": _num(0.0, RANGES["usd"]),
        "max_sites_per_provider": _per_provider,
        "latency_weight_usd_per_ms": _num(0.0, RANGES["usd_per_ms"]),
        "latency_penalty_usd_per_unit_ms": _num(0.0, RANGES["usd_per_ms"]),
        "set_cover_by": _choice("count", "cost"),
        "unreachable": _choice(*UNREACHABLE_POLICIES),
        "latency_statistic": lambda n, v, t: (
            None if v is None else choice(n, v, LATENCY_STATISTICS, table=t)
        ),
        "name": _str(),
    }


def solver_spec() -> dict[str, Checker]:
    """Checkers of :meth:`placement.Problem.solve`'s options (the TOML ``[solver]``)."""
    return {
        "solver": _choice("highs", "cbc"),
        "time_limit_s": _num(0.0, RANGES["time_limit_s"], exclusive=True),
        "gap_rel": lambda n, v, t: _gap(n, v, t),
        "threads": _int(1, int(RANGES["threads"])),
        "verbose": lambda n, v, t: boolean(n, v, table=t),
        "method": _choice("auto", "pulp", "fast"),
    }


def _gap(n: str, v: Any, t: str) -> float:
    g = number(n, v, minimum=0.0, table=t)
    assert g is not None
    if g >= 1:
        raise _fail(n, "must be in [0, 1)", v, t)
    return g


def _opt_ids(n: str, v: Any, t: str) -> list[str] | None:
    return None if v is None else id_list(n, v, table=t)


def _number_or_table(maximum: float) -> Checker:
    """A number in [0, maximum], or a mapping (provider / site_id -> number) of such numbers."""

    def check(n: str, v: Any, t: str) -> float | dict[str, float] | None:
        if v is None:
            return None
        if isinstance(v, Mapping):
            m = mapping(n, v, table=t)
            return {
                k: number(f"{n}[{k!r}]", x, minimum=0.0, maximum=maximum, table=t)
                for k, x in m.items()
            }
        return number(n, v, minimum=0.0, maximum=maximum, table=t)

    return check


# USD per GB, one number or a provider / site_id table
_egress = _number_or_table(1e6)
# USD per vCPU-hour, one number or a provider / site_id table, each in [0, 100]
_compute_price = _number_or_table(100.0)


def costs_spec() -> dict[str, Checker]:
    """Checkers of :class:`placement.costs.CostModel`'s arguments (the TOML ``[costs]``), with
    stated ranges (e.g. ``price_usd_per_kwh`` at most 1e6, ``pue`` in [1, 10])."""
    return {
        "it_load_kw": _num(0.0, 1e9, optional=False),
        "kw_per_unit": _num(0.0, 1e9, optional=False),
        "fixed_cost_usd_per_year": _num(0.0, RANGES["usd"], optional=False),
        "carbon_price_usd_per_tonne": _num(0.0, 1e9, optional=False),
        "egress_usd_per_gb": _egress,
        "gb_per_unit_per_year": _num(0.0, 1e12, optional=False),
        "baseline_gb_per_year": _num(0.0, 1e15, optional=False),
        "pue": _num(1.0, 10.0),
        "price_usd_per_kwh": _num(0.0, 1e6),
        "carbon_g_per_kwh": _num(0.0, 1e6),
        "missing": _choice("error", "drop"),
        "pue_free_cooling": _num(1.0, 10.0),
        "pue_per_degc": _num(0.0, 10.0),
        "free_cooling_limit_c": _num(-100.0, 100.0),
        # the cloud customer's view: list price of compute (see placement.costs.VIEW_COMPONENTS)
        "view": _choice("operator", "customer", "both"),
        "compute_usd_per_vcpu_hour": _compute_price,
        "vcpu_per_unit": _num(0.0, 1e9, optional=False),
        "baseline_vcpu": _num(0.0, 1e9, optional=False),
        "hours_per_year": _num(0.0, 8784.0, optional=False),
        "compute_price_source": _choice("shipped", "cache"),
    }


def input_spec() -> dict[str, Checker]:
    """Checkers of the TOML ``[inputs]`` table."""
    return {
        "sites": _str(),
        "demand": _str(),
        "latency": _str(optional=True),
        "measured": _str(optional=True),
        "rum": _str(optional=True),
        "providers": _opt_ids,
        "kinds": _opt_ids,
        "min_population": _int(0),
        "max_population": _int(0),
        "countries": _opt_ids,
        "continents": _opt_ids,
        "exclude_countries": _opt_ids,
        "exclude_continents": _opt_ids,
        "bbox": _place("bbox"),
        "near": _place("near"),
        "merge_within_km": _num(0.0, 20_000.0),
    }


def _place(kind: str) -> Checker:
    """``bbox`` (W, S, E, N) or ``near`` (lat, lon, km): a list of numbers (ranges checked by
    :func:`placement.demand.parse_bbox` / ``parse_near`` when the demand is selected)."""
    size = 4 if kind == "bbox" else 3

    def check(n: str, v: Any, t: str) -> list[float] | None:
        if v is None:
            return None
        if isinstance(v, str | bytes | Mapping) or not isinstance(v, Iterable):
            raise _fail(n, f"must be a list of {size} numbers", v, t)
        values = list(v)
        if len(values) != size:
            raise _fail(n, f"must be a list of {size} numbers", v, t)
        return [number(f"{n}[{i}]", x, table=t, minimum=None) for i, x in enumerate(values)]

    return check

"""The outcome of a solve: open sites, assignments, metrics, status — and its JSON form.

A :class:`Result` is an immutable record; nothing here solves anything. Metrics are computed from
the assignments and the demand weights by :func:`latency_metrics`, so a Result read back from JSON
carries the same numbers it was written with.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from placement._io import atomic_write_text, decode_utf8, read_input_bytes
from placement.errors import ValidationError

__all__ = [
    "STATUSES",
    "Result",
    "backup_sla_warning",
    "latency_metrics",
    "load_result_json",
    "validate_result_dict",
    "weighted_quantile",
]

#: The statuses a Result can carry.
STATUSES = ("optimal", "feasible", "infeasible", "no_solution")

SCHEMA_VERSION = 1

_ASSIGNMENT_COLUMNS = ["demand_id", "site_id", "rank", "latency_ms", "share", "weight"]

#: Largest magnitude of a number in a result file (a real result stays far below; beyond it
#: sums in reports could overflow to infinity).
RESULT_MAX_ABS = 1e30

#: Deepest nesting of lists and objects in the free-form fields (params, solver, records).
_MAX_DEPTH = 4


# ---------------------------------------------------------------------- result JSON schema
def _rfail(where: str, message: str, value: Any = None) -> ValidationError:
    r = repr(value)
    return ValidationError(
        message, table="result", field=where, value=value if len(r) <= 60 else r[:57] + "..."
    )


def _num(
    where: str, v: Any, *, null: bool = True, lo: float | None = None, hi: float | None = None
):
    if v is None:
        if null:
            return None
        raise _rfail(where, "must be a number, got null")
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _rfail(where, f"must be a number, got {type(v).__name__}", v)
    f = float(v)
    if not math.isfinite(f) or abs(f) > RESULT_MAX_ABS:
        raise _rfail(where, f"must be a finite number of magnitude <= {RESULT_MAX_ABS:g}", v)
    if lo is not None and f < lo:
        raise _rfail(where, f"must be >= {lo:g}", v)
    if hi is not None and f > hi:
        raise _rfail(where, f"must be <= {hi:g}", v)
    return v


def _str(where: str, v: Any, *, null: bool = False) -> Any:
    if v is None and null:
        return None
    if not isinstance(v, str):
        raise _rfail(where, f"must be a string, got {type(v).__name__}", v)
    return v


def _free(where: str, v: Any, depth: int = 0) -> None:
    """A free-form JSON value: scalars, lists and objects nested at most ``_MAX_DEPTH`` deep."""
    if v is None or isinstance(v, str | bool):
        return
    if isinstance(v, int | float):
        _num(where, v)
        return
    if depth >= _MAX_DEPTH:
        raise _rfail(where, f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(v, list):
        for i, x in enumerate(v):
            _free(f"{where}[{i}]", x, depth + 1)
        return
    if isinstance(v, dict):
        for k, x in v.items():
            _free(f"{where}.{k}", x, depth + 1)
        return
    raise _rfail(where, f"unexpected {type(v).__name__}", v)  # pragma: no cover - not JSON


def _obj(where: str, v: Any, *, null: bool = True) -> dict[str, Any]:
    if v is None and null:
        return {}
    if not isinstance(v, dict):
        raise _rfail(where, f"must be an object, got {type(v).__name__}", v)
    return v


def _records_of(
    where: str,
    v: Any,
    *,
    ids: tuple[str, ...] = (),
    numbers: dict[str, tuple[float | None, float | None]] | None = None,
    required: tuple[str, ...] = (),
) -> None:
    """A list of flat records (scalar values), with typed id and number columns."""
    if v is None:
        return
    if not isinstance(v, list):
        raise _rfail(where, f"must be a list of objects, got {type(v).__name__}", v)
    for i, rec in enumerate(v):
        w = f"{where}[{i}]"
        if not isinstance(rec, dict):
            raise _rfail(w, f"must be an object, got {type(rec).__name__}", rec)
        for k in required:
            if k not in rec:
                raise _rfail(f"{w}.{k}", "missing")
        for k, x in rec.items():
            if isinstance(x, list | dict):
                raise _rfail(f"{w}.{k}", "must be a plain value (string, number, bool or null)")
            if k in ids:
                _str(f"{w}.{k}", x)
            elif numbers and k in numbers:
                lo, hi = numbers[k]
                _num(f"{w}.{k}", x, lo=lo, hi=hi)
            elif isinstance(x, int | float) and not isinstance(x, bool):
                _num(f"{w}.{k}", x)


_PARAM_NUMBERS = (
    "n_sites",
    "max_sites",
    "min_sites",
    "max_latency_ms",
    "sla_ms",
    "sla_share",
    "redundancy",
    "backup_max_latency_ms",
    "backup_weight",
    "budget_usd_per_year",
    "latency_weight_usd_per_ms",
    "latency_penalty_usd_per_unit_ms",
)


def validate_result_dict(data: Any) -> dict[str, Any]:
    """Check a result's JSON form against its schema (``schema_version`` 1); returns it.

    Every field's type is checked (numbers finite and at most 1e30 in magnitude, ids strings,
    ``rank`` a positive integer, ``share`` in [0, 1], coordinates in range, free-form fields
    nested at most four levels), so that everything :meth:`Result.from_dict` accepts can be
    reported. Unknown top-level keys are refused.

    Raises
    ------
    ValidationError
        With ``table="result"`` and the path of the first bad field (e.g.
        ``assignments[3].latency_ms``).
    """
    if not isinstance(data, dict):
        raise _rfail("(top level)", f"must be an object, got {type(data).__name__}")
    known = {
        "schema_version", "name", "status", "message", "objective", "best_bound", "gap",
        "open_sites", "assignments", "metrics", "open_site_details", "sites", "demand",
        "params", "timings", "solver", "unreachable",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise _rfail(unknown[0], "unknown field of a placement result")
    if "status" not in data:
        raise _rfail("status", "missing: not a placement result")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise _rfail(
            "schema_version", f"unsupported (this version reads {SCHEMA_VERSION})", version
        )
    if data["status"] not in STATUSES:
        raise _rfail(
            "status",
            f"unknown status {data['status']!r}; expected one of {', '.join(STATUSES)}",
            data["status"],
        )
    _str("name", data.get("name", ""))
    _str("message", data.get("message", ""))
    for k in ("objective", "best_bound"):
        _num(k, data.get(k))
    _num("gap", data.get("gap"), lo=0.0, hi=RESULT_MAX_ABS)
    open_sites = data.get("open_sites")
    if open_sites is not None:
        if not isinstance(open_sites, list):
            raise _rfail("open_sites", "must be a list of site ids", open_sites)
        for i, x in enumerate(open_sites):
            _str(f"open_sites[{i}]", x)
    _records_of(
        "assignments",
        data.get("assignments"),
        ids=("demand_id", "site_id"),
        numbers={"latency_ms": (0.0, None), "share": (0.0, 1.0), "weight": (0.0, None)},
        required=("demand_id", "site_id", "rank", "latency_ms"),
    )
    for i, rec in enumerate(data.get("assignments") or []):
        rank = rec["rank"]
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= 1000:
            raise _rfail(f"assignments[{i}].rank", "must be an integer in [1, 1000]", rank)
        for k in ("share", "weight"):
            if rec.get(k) is None and k in rec:
                raise _rfail(f"assignments[{i}].{k}", "must be a number, got null")
    coords = {"lat_deg": (-90.0, 90.0), "lon_deg": (-180.0, 180.0)}
    _records_of(
        "open_site_details", data.get("open_site_details"), ids=("site_id",),
        numbers={**coords, "load": (0.0, None)}, required=("site_id",),
    )  # fmt: skip
    _records_of("sites", data.get("sites"), ids=("site_id",), numbers=coords, required=("site_id",))
    _records_of(
        "demand", data.get("demand"), ids=("demand_id",),
        numbers={**coords, "weight": (0.0, None)}, required=("demand_id",),
    )  # fmt: skip
    _records_of(
        "unreachable", data.get("unreachable"), ids=("demand_id",),
        numbers={"weight": (0.0, None), "best_latency_ms": (0.0, None)}, required=("demand_id",),
    )  # fmt: skip
    for k, v in _obj("metrics", data.get("metrics")).items():
        _num(f"metrics.{k}", v)
    for k, v in _obj("timings", data.get("timings")).items():
        _num(f"timings.{k}", v, null=False, lo=0.0, hi=RESULT_MAX_ABS)
    if data["status"] in ("optimal", "feasible") and data.get("objective") is None:
        raise _rfail("objective", f"a {data['status']} result needs a number, got null")
    prm = _obj("params", data.get("params"))
    _free("params", prm)
    for k in _PARAM_NUMBERS:
        if k in prm:
            _num(f"params.{k}", prm[k])
    for k in ("objective", "objective_unit"):
        if k in prm:
            _str(f"params.{k}", prm[k], null=True)
    _free("solver", _obj("solver", data.get("solver")))
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} given twice in one object")
        out[k] = v
    return out


def _plain(message: str) -> ValidationError:
    err = ValidationError(message)
    err.table = "result"
    return err


def load_result_json(text: str | bytes, *, source: str = "result") -> dict[str, Any]:
    """Parse result JSON strictly (no NaN/Infinity, no repeated keys, bounded nesting) and
    check it with :func:`validate_result_dict`.

    Raises
    ------
    ValidationError
        Naming ``source`` and the line, or the bad field.
    """
    if isinstance(text, bytes):
        text = decode_utf8(text, table="result", path=source)
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise _plain(f"{source}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:
        raise _plain(f"{source}: not valid JSON ({exc})") from None
    except RecursionError:
        raise _plain(f"{source}: not valid JSON (nested too deeply)") from None
    try:
        return validate_result_dict(data)
    except ValidationError as exc:
        err = ValidationError(f"{source}: not a valid placement result: {exc}")
        err.table, err.field, err.value = "result", exc.field, exc.value
        raise err from None


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Lower weighted quantile: the smallest value whose cumulative weight share reaches ``q``.

    Parameters
    ----------
    values : numpy.ndarray
        Observations (e.g. latencies in ms).
    weights : numpy.ndarray
        Non-negative weights of the observations.
    q : float
        Quantile in [0, 1].

    Returns
    -------
    float
        The quantile, or NaN when the total weight is zero.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if len(values) == 0 or total <= 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / total
    idx = int(np.searchsorted(cum, q - 1e-12, side="left"))
    return float(values[order][min(idx, len(values) - 1)])


def latency_metrics(
    assignments: pd.DataFrame, sla_ms: float | None = None, rank: int = 1
) -> dict[str, float]:
    """Demand-weighted latency metrics of the assignments of one rank.

    Parameters
    ----------
    assignments : pandas.DataFrame
        Columns ``rank``, ``latency_ms``, ``weight`` (demand weight) and ``share`` (fraction of
        the demand point's weight on this pair).
    sla_ms : float, optional
        When given, ``share_within_sla`` is the weight share served within it.
    rank : int
        1 for primary assignments, 2 for the first backup, ….

    Returns
    -------
    dict
        ``mean_latency_ms``, ``p50_latency_ms``, ``p95_latency_ms``, ``max_latency_ms`` and, with an
        SLA, ``share_within_sla``.
    """
    a = assignments[assignments["rank"] == rank]
    lat = a["latency_ms"].to_numpy(dtype=float)
    w = (a["weight"] * a["share"]).to_numpy(dtype=float)
    total = w.sum()
    out = {
        "mean_latency_ms": float((lat * w).sum() / total) if total > 0 else math.nan,
        "p50_latency_ms": weighted_quantile(lat, w, 0.50),
        "p95_latency_ms": weighted_quantile(lat, w, 0.95),
        "max_latency_ms": float(lat[w > 0].max()) if (w > 0).any() else math.nan,
    }
    if sla_ms is not None:
        out["share_within_sla"] = float(w[lat <= sla_ms + 1e-9].sum() / total) if total else 0.0
    return out


def backup_sla_warning(params: dict[str, Any], metrics: dict[str, Any]) -> str | None:
    """The warning a result with backups but no backup SLA carries (None otherwise).

    Parameters
    ----------
    params, metrics : dict
        A Result's ``params`` and ``metrics``.
    """
    k = params.get("redundancy") or 1
    if k < 2 or params.get("backup_max_latency_ms") is not None:
        return None
    worst = metrics.get("backup_max_latency_ms")
    far = (
        f" (the worst backup is {worst:.0f} ms away)"
        if isinstance(worst, int | float) and math.isfinite(worst)
        else ""
    )
    return (
        f"redundancy {k} without a backup SLA: backups are only weighed in the objective and "
        f"may be far{far}; set backup_max_latency_ms (--backup-max-latency-ms) to bound them"
    )


def _clean(value: Any) -> Any:
    """Make a value JSON-safe (numpy scalars to Python, NaN/inf to None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in df.to_dict(orient="records")]


@dataclass(frozen=True)
class Result:
    """The answer to a :class:`placement.Problem`.

    Attributes
    ----------
    status : str
        One of ``optimal`` (proven within the gap tolerance), ``feasible`` (stopped by a limit; see
        ``gap``), ``infeasible`` (see ``message``) or ``no_solution`` (stopped without a solution).
    objective : float or None
        Objective value in the objective's unit (see ``params["objective_unit"]``).
    best_bound : float or None
        Best proven bound on the objective.
    gap : float or None
        Relative optimality gap ``|objective - best_bound| / max(|objective|, 1e-9)``.
    open_sites : pandas.DataFrame
        One row per open site: ``site_id``, its attributes, ``load`` (primary demand weight served),
        ``n_demand`` (demand points with it as primary) and cost components when costed.
    assignments : pandas.DataFrame
        ``demand_id``, ``site_id``, ``rank`` (1 = primary), ``latency_ms``, ``share`` (fraction of
        the demand point's weight on this pair) and ``weight`` (the demand point's weight).
    metrics : dict
        Weighted mean / p50 / p95 / max latency (ms), share within the SLA, backup latency, site
        count, cost by component (USD per year) and carbon (tonnes per year).
    sites : pandas.DataFrame
        All candidate sites (id, coordinates, descriptive columns), for reports.
    demand : pandas.DataFrame
        The demand points (id, coordinates, weight, descriptive columns), for reports.
    params : dict
        The problem's objective and constraints.
    timings : dict
        ``build_s``, ``solve_s``, ``total_s`` wall seconds.
    solver : dict
        Solver name, options and raw status.
    message : str
        Human explanation (why infeasible, why stopped).
    name : str
        A label, e.g. the scenario name.
    restart : object, optional
        Solver state that speeds up a neighbouring solve when this result is passed as its
        ``warm_start`` (the fast p-median's root LP: a
        :class:`~placement.formulations.radius.RootRestart`); None otherwise. Not part of the
        JSON form, the ``repr`` or equality.
    unreachable : pandas.DataFrame
        Demand points no allowed site could serve within the hard SLA, when the problem's
        ``unreachable`` policy was ``"exclude"`` or ``"best-effort"``: ``demand_id``, ``name``,
        ``weight``, ``best_site_id``, ``best_latency_ms`` (their best possible latency) and
        ``handling`` (``excluded`` or ``best-effort``). Empty otherwise.
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    open_sites: pd.DataFrame
    assignments: pd.DataFrame
    metrics: dict[str, Any]
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    demand: pd.DataFrame = field(default_factory=pd.DataFrame)
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    name: str = ""
    restart: Any = field(default=None, repr=False, compare=False)
    unreachable: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {STATUSES}")

    # ------------------------------------------------------------------ views
    @property
    def open_site_ids(self) -> list[str]:
        """Ids of the open sites, sorted."""
        return sorted(self.open_sites["site_id"].astype(str)) if len(self.open_sites) else []

    @property
    def ok(self) -> bool:
        """True when the result carries a solution (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def primary(self) -> pd.DataFrame:
        """Primary assignments only (rank 1)."""
        return self.assignments[self.assignments["rank"] == 1].reset_index(drop=True)

    def _cost_view(self) -> str:
        """`` (customer view: compute $…, egress $…)``: the view optimised and its components."""
        p = self.params or {}
        view = p.get("cost_view")
        if not view:
            return ""
        values: dict[str, float] = {}
        for comp in p.get("cost_components") or ():
            v = self.metrics.get(f"{comp}_usd_per_year")
            if isinstance(v, int | float) and math.isfinite(v):
                values[comp] = float(v)
        served = self.metrics.get("served_usd_per_year")
        if (
            isinstance(served, int | float) and math.isfinite(served) and served >= 0.5
        ):  # whole dollars
            values["served"] = float(served)
        # the streaming workload reports an egress bill even when the cost model did not count
        # egress (no GB per unit): then the parts exceed the total by exactly that bill
        total = self.metrics.get("total_cost_usd_per_year")
        uncounted = set()
        if "egress" in values and isinstance(total, int | float) and math.isfinite(total):
            if abs(sum(values.values()) - total) > 1e-6 * max(1.0, abs(total)):
                uncounted.add("egress")
        parts = [
            f"{k} ${v:,.0f}"
            + (" not in the total: no gb_per_unit_per_year" if k in uncounted else "")
            for k, v in values.items()
        ]
        return f" ({view} view{': ' + ', '.join(parts) if parts else ''})"

    def summary(self) -> str:
        """A few lines a person reads: status, objective, sites, latency, SLA, cost, bandwidth.

        With backups (redundancy >= 2) and no backup SLA, a ``warning:`` line says that a backup
        may be far and gives the worst backup latency.
        """
        lines = [f"status: {self.status}" + (f" ({self.message})" if self.message else "")]
        p = self.params or {}
        m = self.metrics
        if self.ok:
            gap = "" if self.gap is None else f", gap {self.gap:.2%}"
            unit = p.get("objective_unit", "")
            lines.append(
                f"objective ({p.get('objective', '?')}): {self.objective:,.4g} {unit}{gap}"
            )
            n = len(self.open_sites)
            lines.append(
                f"open sites ({n} site{'' if n == 1 else 's'}): {', '.join(self.open_site_ids)}"
            )
            stat = p.get("latency_statistic")
            what = f" (users' {stat} round trip)" if stat else ""
            lines.append(
                "primary latency ms{}: mean {:.1f}, p50 {:.1f}, p95 {:.1f}, max {:.1f}".format(
                    what,
                    m.get("mean_latency_ms", math.nan),
                    m.get("p50_latency_ms", math.nan),
                    m.get("p95_latency_ms", math.nan),
                    m.get("max_latency_ms", math.nan),
                )
            )
            others = self._by_statistic()
            if others:
                lines.append(f"  by statistic of users' round trip: {others}")
            if m.get("backup_mean_latency_ms") is not None:
                bsla = p.get("backup_max_latency_ms")
                lines.append(
                    "backup latency ms: mean {:.1f}, max {:.1f}{}".format(
                        m.get("backup_mean_latency_ms", math.nan),
                        m.get("backup_max_latency_ms", math.nan),
                        f" (backup SLA {bsla:g} ms)" if bsla is not None else "",
                    )
                )
            if m.get("share_within_sla") is not None:
                sla = p.get("sla_ms") if p.get("sla_ms") is not None else p.get("max_latency_ms")
                what = f"within SLA ({sla:g} ms)" if sla is not None else "within SLA"
                lines.append(f"demand {what}: {m['share_within_sla']:.1%}")
            if len(self.unreachable):
                u = self.unreachable
                names = ", ".join(u["name"].astype(str).head(5)) + (", …" if len(u) > 5 else "")
                lo, hi = u["best_latency_ms"].min(), u["best_latency_ms"].max()
                best = f"{lo:.1f} ms" if lo == hi else f"{lo:.1f}–{hi:.1f} ms"
                lines.append(
                    f"unreachable within the SLA: {len(u)} demand point"
                    f"{'s' if len(u) > 1 else ''} ({m.get('unreachable_weight_share', 0):.2%} of "
                    f"demand; {u['handling'].iloc[0]}): {names}; best possible {best}"
                )
            if m.get("total_cost_usd_per_year") is not None:
                lines.append(
                    f"cost{self._cost_view()}: ${m['total_cost_usd_per_year']:,.0f} per year"
                )
            if m.get("peak_gbps") is not None and math.isfinite(m["peak_gbps"]):
                egress = m.get("egress_usd_per_month")
                money = f", ${egress:,.0f}" if egress is not None and math.isfinite(egress) else ""
                spec = p.get("streaming") or {}
                assumed = (
                    f" [assumed {spec.get('concurrency_ratio', math.nan):g} concurrent viewers "
                    f"per user at {spec.get('bitrate_mbps', math.nan):g} Mbps: set --concurrency]"
                    if spec.get("assumed")
                    else ""
                )
                unpriced = []
                if m.get("n_egress_unpriced_sites") and "egress_usd_per_month" in self.open_sites:
                    rows = self.open_sites[self.open_sites["egress_usd_per_month"].isna()]
                    unpriced = sorted(rows["site_id"].astype(str))
                note = f" (no egress price for {', '.join(unpriced)})" if unpriced else ""
                lines.append(
                    f"streaming: peak {m['peak_gbps']:,.1f} Gbps (all sites, "
                    f"{int(m.get('peak_utc_hour', 0)):02d}:00 UTC); egress "
                    f"{m.get('egress_tb_per_month', math.nan):,.0f} TB{money} per month"
                    f"{note}{assumed}"
                )
            warning = backup_sla_warning(p, m)
            if warning:
                lines.append(f"warning: {warning}")
        if self.timings:
            lines.append(
                "time: build {:.2f} s, solve {:.2f} s".format(
                    self.timings.get("build_s", 0.0), self.timings.get("solve_s", 0.0)
                )
            )
        return "\n".join(lines)

    def _by_statistic(self) -> str:
        """Weighted mean and max primary latency under each statistic the assignments carry."""
        a = self.primary()
        parts = []
        for stat in ("mean", "p50", "p95"):
            col = f"latency_{stat}_ms"
            if col not in a.columns or a.empty:
                continue
            w = (a["weight"] * a["share"]).to_numpy(dtype=float)
            lat = a[col].to_numpy(dtype=float)
            mean = float((w * lat).sum() / w.sum()) if w.sum() > 0 else math.nan
            parts.append(f"{stat} {mean:.1f} (max {lat.max():.1f})")
        return ", ".join(parts)

    def __repr__(self) -> str:
        obj = "None" if self.objective is None else f"{self.objective:.6g}"
        gap = "None" if self.gap is None else f"{self.gap:.3g}"
        name = f"name={self.name!r}, " if self.name else ""
        return (
            f"Result({name}status={self.status!r}, objective={obj}, gap={gap}, "
            f"open_sites={self.open_site_ids!r})"
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; ``open_sites`` is the list of ids, details are in ``open_site_details``."""
        return _clean(
            {
                "schema_version": SCHEMA_VERSION,
                "name": self.name,
                "status": self.status,
                "message": self.message,
                "objective": self.objective,
                "best_bound": self.best_bound,
                "gap": self.gap,
                "open_sites": self.open_site_ids,
                "assignments": _records(self.assignments),
                "metrics": dict(self.metrics),
                "open_site_details": _records(self.open_sites),
                "sites": _records(self.sites),
                "demand": _records(self.demand),
                "params": dict(self.params),
                "timings": dict(self.timings),
                "solver": dict(self.solver),
                "unreachable": _records(self.unreachable),
            }
        )

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """Serialise to JSON; with ``path``, also write the file atomically."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=False, allow_nan=False) + "\n"
        if path is not None:
            atomic_write_text(path, text)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Rebuild a Result from :meth:`to_dict` output (checked by :func:`validate_result_dict`)."""
        validate_result_dict(data)
        assignments = pd.DataFrame(data.get("assignments") or [], columns=None)
        if assignments.empty:
            assignments = pd.DataFrame(columns=_ASSIGNMENT_COLUMNS)
        details = pd.DataFrame(data.get("open_site_details") or [])
        if details.empty:
            details = pd.DataFrame({"site_id": data.get("open_sites") or []})
        metrics = {
            k: (math.nan if v is None else v) for k, v in (data.get("metrics") or {}).items()
        }
        return cls(
            status=data["status"],
            objective=data.get("objective"),
            best_bound=data.get("best_bound"),
            gap=data.get("gap"),
            open_sites=details,
            assignments=assignments,
            metrics=metrics,
            sites=pd.DataFrame(data.get("sites") or []),
            demand=pd.DataFrame(data.get("demand") or []),
            params=dict(data.get("params") or {}),
            timings=dict(data.get("timings") or {}),
            solver=dict(data.get("solver") or {}),
            message=data.get("message", ""),
            name=data.get("name", ""),
            unreachable=pd.DataFrame(data.get("unreachable") or []),
        )

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Result:
        """Read a Result from a JSON file path or a JSON string.

        A file is opened like every input (a regular file within ``PLACEMENT_MAX_INPUT_MB``,
        UTF-8) and parsed strictly; see :func:`load_result_json`.
        """
        text = source if isinstance(source, str) else None
        if text is not None and text.lstrip().startswith("{"):
            return cls.from_dict(load_result_json(text))
        data = read_input_bytes(source, table="result")
        return cls.from_dict(load_result_json(data, source=os.fspath(source)))

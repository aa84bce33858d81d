"""The latency–cost frontier by the epsilon-constraint method, its knee, and its steps in words.

Endpoints: the cost-optimal plan (objective ``cost`` under the base's constraints) and the
latency-optimal plan (objective ``median`` with the base's site count). Between them:

- ``y="mean_latency_ms"``: minimise mean latency subject to ``budget_usd_per_year = ε``, ε
  stepping from the cheapest cost to the latency-optimal plan's cost;
- ``y="p95_latency_ms"``: minimise cost subject to 95 % of demand within ε ms
  (``sla_ms=ε, sla_share=0.95``), ε stepping from the cheapest plan's p95 to the fastest's.

Every point is a full :class:`~placement.result.Result`; dominated and duplicate plans are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from placement.errors import ValidationError
from placement.problem import Problem
from placement.result import Result
from placement.scenarios._problem import with_full_latency
from placement.scenarios.compare import result_row

__all__ = ["Frontier", "describe_steps", "knee_index", "non_dominated", "pareto"]

_Y_CHOICES = ("mean_latency_ms", "p95_latency_ms")


@dataclass(frozen=True)
class Frontier:
    """Non-dominated plans, cheapest first.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per plan: ``epsilon`` (the constraint value that produced it, NaN at the
        endpoints), ``x`` and ``y`` columns under their metric names, ``n_open``, the other
        metrics, ``open_sites``, ``is_knee``.
    results : tuple of Result
        The plans, in the order of ``table``.
    x, y : str
        Metric names of the axes (both minimised).
    """

    table: pd.DataFrame
    results: tuple[Result, ...]
    x: str
    y: str

    @property
    def knee(self) -> Result:
        """The knee plan (most bend between the two endpoints)."""
        return self.results[int(np.flatnonzero(self.table["is_knee"].to_numpy())[0])]

    def __len__(self) -> int:
        return len(self.results)


def non_dominated(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the points no other point beats in both x and y (both minimised; ties kept once)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.zeros(len(x), dtype=bool)
    order = np.lexsort((y, x))
    best_y = math.inf
    for i in order:
        if y[i] < best_y - 1e-9 * max(1.0, abs(best_y) if math.isfinite(best_y) else 1.0):
            keep[i] = True
            best_y = y[i]
    return keep


def knee_index(x: np.ndarray, y: np.ndarray) -> int:
    """Index of the knee: the point farthest below the chord joining the extreme points.

    Both axes are scaled to [0, 1] first so that dollars and milliseconds weigh alike.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) <= 2:
        return 0
    xs = (x - x.min()) / (np.ptp(x) or 1.0)
    ys = (y - y.min()) / (np.ptp(y) or 1.0)
    a = int(np.argmin(xs))
    b = int(np.argmin(ys))
    dx, dy = xs[b] - xs[a], ys[b] - ys[a]
    norm = math.hypot(dx, dy) or 1.0
    dist = (dx * (ys - ys[a]) - dy * (xs - xs[a])) / norm  # > 0: below the chord
    return int(np.argmax(np.abs(dist)))


def pareto(
    base: Problem,
    *,
    x: str = "total_cost_usd_per_year",
    y: str = "mean_latency_ms",
    n_points: int = 8,
    **solve_kwargs: Any,
) -> Frontier:
    """The latency–cost frontier of ``base`` by the epsilon-constraint method.

    Parameters
    ----------
    base : Problem
        Must be costed (a cost model or ``fixed_cost_usd_per_year``) and give ``n_sites`` or
        ``max_sites``; its other constraints (SLA, redundancy, …) hold at every point.
    x : str
        The cost metric (default ``total_cost_usd_per_year``).
    y : {"mean_latency_ms", "p95_latency_ms"}
        The latency metric.
    n_points : int
        Number of ε values including both endpoints (>= 2).
    **solve_kwargs
        Passed to :meth:`Problem.solve`.

    Returns
    -------
    Frontier
    """
    if y not in _Y_CHOICES:
        raise ValidationError(
            f"must be one of {', '.join(_Y_CHOICES)}", table="parameter", field="y", value=y
        )
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise ValidationError(
            "must be an integer >= 2", table="parameter", field="n_points", value=n_points
        )
    if base.site_costs() is None:
        raise ValidationError("the base problem has no costs", table="parameter", field="x")
    if base.n_sites is None and base.max_sites is None:
        raise ValidationError(
            "the frontier needs n_sites or max_sites on the base",
            table="parameter",
            field="n_sites",
        )
    shared = with_full_latency(base)
    neutral = {"latency_weight_usd_per_ms": None, "latency_penalty_usd_per_unit_ms": 0.0}
    cheap = shared.replace(objective="cost", **neutral).solve(**solve_kwargs)
    fast = shared.replace(objective="median", **neutral).solve(**solve_kwargs)
    for label, res in (("cost-optimal", cheap), ("latency-optimal", fast)):
        if not res.ok:
            raise ValidationError(
                f"the {label} plan cannot be found: {res.status} {res.message}", table="parameter"
            )
    plans: list[tuple[float, Result]] = [(math.nan, cheap), (math.nan, fast)]
    if y == "mean_latency_ms":
        lo, hi = cheap.metrics[x], fast.metrics[x]
        for eps in np.linspace(lo, hi, n_points)[1:-1]:
            prob = shared.replace(objective="median", budget_usd_per_year=float(eps), **neutral)
            plans.append((float(eps), prob.solve(**solve_kwargs)))
    else:
        hi, lo = cheap.metrics[y], fast.metrics[y]
        for eps in np.linspace(hi, lo, n_points)[1:-1]:
            prob = shared.replace(objective="cost", sla_ms=float(eps), sla_share=0.95, **neutral)
            plans.append((float(eps), prob.solve(**solve_kwargs)))
    plans = [(e, r) for e, r in plans if r.ok and x in r.metrics and y in r.metrics]
    xs = np.array([r.metrics[x] for _, r in plans])
    ys = np.array([r.metrics[y] for _, r in plans])
    keep = non_dominated(xs, ys)
    idx = [i for i in np.lexsort((ys, xs)) if keep[i]]
    rows = []
    for i in idx:
        eps, res = plans[i]
        rows.append({"epsilon": eps, **result_row(res)})
    table = pd.DataFrame(rows)
    front = [x, y]
    table = table[front + [c for c in table.columns if c not in front]]
    table["is_knee"] = False
    table.loc[knee_index(table[x].to_numpy(), table[y].to_numpy()), "is_knee"] = True
    return Frontier(table=table, results=tuple(plans[i][1] for i in idx), x=x, y=y)


def _money(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"${v / 1e6:,.2f} million"
    if a >= 1e3:
        return f"${v / 1e3:,.0f} thousand"
    return f"${v:,.0f}"


def describe_steps(
    frontier: Frontier | pd.DataFrame, x: str | None = None, y: str | None = None
) -> list[str]:
    """The price of each step along the frontier, in sentences a manager reads.

    Parameters
    ----------
    frontier : Frontier or pandas.DataFrame
        A frontier, or any table with the ``x`` and ``y`` columns (non-dominated, any order).
    x, y : str, optional
        Column names (default: the frontier's, or ``total_cost_usd_per_year`` and
        ``mean_latency_ms``).

    Returns
    -------
    list of str
        One sentence per step from the cheapest plan to the fastest, and a last sentence saying
        what the last step of latency costs.
    """
    if isinstance(frontier, Frontier):
        x, y, table = x or frontier.x, y or frontier.y, frontier.table
    else:
        x, y, table = x or "total_cost_usd_per_year", y or "mean_latency_ms", frontier
    t = table.sort_values([x, y]).reset_index(drop=True)
    label = y.replace("_latency_ms", "").replace("_", " ")
    label = "mean" if label == "mean" else label
    out = []
    for i in range(1, len(t)):
        c0, c1 = float(t[x].iloc[i - 1]), float(t[x].iloc[i])
        l0, l1 = float(t[y].iloc[i - 1]), float(t[y].iloc[i])
        dc, dl = c1 - c0, l0 - l1
        n0 = int(t["n_open"].iloc[i - 1]) if "n_open" in t else None
        n1 = int(t["n_open"].iloc[i]) if "n_open" in t else None
        sites = f" ({n0} → {n1} sites)" if n0 is not None else ""
        per = f", {_money(dc / dl)} a year per ms" if dl > 0 else ""
        out.append(
            f"Spending {_money(dc)} more a year{sites} cuts {label} latency from {l0:.1f} ms to "
            f"{l1:.1f} ms ({dl:.1f} ms less{per})."
        )
    if len(t) >= 2:
        dc = float(t[x].iloc[-1] - t[x].iloc[-2])
        dl = float(t[y].iloc[-2] - t[y].iloc[-1])
        out.append(f"The last {dl:.1f} ms of {label} latency cost {_money(dc)} a year.")
    return out

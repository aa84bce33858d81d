"""Side-by-side comparison of a base problem and scenarios: one tidy row per scenario."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from placement.problem import Problem
from placement.result import Result
from placement.scenarios.scenario import Scenario

__all__ = ["compare", "result_row"]

#: Metric columns of a comparison, in order (cost components follow, then carbon).
_LATENCY_COLUMNS = ("mean_latency_ms", "p95_latency_ms", "max_latency_ms", "share_within_sla")


def result_row(result: Result | None) -> dict[str, Any]:
    """The summary numbers of one Result (NaN where it has none)."""
    if result is None:
        return {"status": "error", "gap": math.nan, "objective": math.nan, "n_open": 0}
    m = result.metrics
    row: dict[str, Any] = {
        "status": result.status,
        "gap": math.nan if result.gap is None else float(result.gap),
        "objective": math.nan if result.objective is None else float(result.objective),
        "n_open": int(m.get("n_open", 0)) if result.ok else 0,
    }
    for col in _LATENCY_COLUMNS:
        v = m.get(col)
        row[col] = math.nan if (v is None or not result.ok) else float(v)
    cost_cols = sorted(
        k for k in m if k.endswith("_usd_per_year") and k != "total_cost_usd_per_year"
    )
    for col in cost_cols:
        row[col] = float(m[col]) if result.ok else math.nan
    row["total_cost_usd_per_year"] = (
        float(m["total_cost_usd_per_year"])
        if result.ok and m.get("total_cost_usd_per_year") is not None
        else math.nan
    )
    row["carbon_tonnes_per_year"] = (
        float(m["carbon_tonnes_per_year"])
        if result.ok and m.get("carbon_tonnes_per_year") is not None
        else math.nan
    )
    row["open_sites"] = ", ".join(result.open_site_ids) if result.ok else ""
    return row


def compare(base: Problem, *scenarios: Scenario, **solve_kwargs: Any) -> pd.DataFrame:
    """Solve the base and every scenario; one row each, the base first.

    Parameters
    ----------
    base : Problem
        The reference problem (its row is named ``base`` unless the problem has a name).
    *scenarios : Scenario
        Applied to ``base`` with :meth:`Scenario.apply` (the base is not modified).
    **solve_kwargs
        Passed to :meth:`Problem.solve` (``time_limit_s``, ``gap_rel``, ``solver``, …).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``description``, ``status``, ``gap``, ``objective``, ``n_open``,
        ``mean_latency_ms``, ``p95_latency_ms``, ``max_latency_ms``, ``share_within_sla``, the cost
        components ``*_usd_per_year`` present in any result, ``total_cost_usd_per_year``,
        ``carbon_tonnes_per_year``, ``open_sites``, and ``opened`` / ``closed`` (sites open in the
        scenario but not in the base, and the reverse, as ``"a, b"``), ``message``.
    """
    names = [base.name or "base"] + [s.name for s in scenarios]
    if len(set(names)) != len(names):
        from placement.errors import ValidationError

        raise ValidationError("scenario names must be distinct", table="scenarios", value=names)
    results = [base.solve(**solve_kwargs)]
    for sc in scenarios:
        results.append(sc.apply(base).solve(**solve_kwargs))
    descriptions = [""] + [s.description for s in scenarios]
    base_open = set(results[0].open_site_ids) if results[0].ok else set()
    rows = []
    for name, desc, res in zip(names, descriptions, results, strict=True):
        row = {"name": name, "description": desc, **result_row(res)}
        now = set(res.open_site_ids) if res.ok else set()
        row["opened"] = ", ".join(sorted(now - base_open))
        row["closed"] = ", ".join(sorted(base_open - now)) if res.ok else ""
        row["message"] = res.message
        rows.append(row)
    df = pd.DataFrame(rows)
    front = ["name", "description", "status", "gap", "objective", "n_open", *_LATENCY_COLUMNS]
    cost = sorted(
        c for c in df.columns if c.endswith("_usd_per_year") and c != "total_cost_usd_per_year"
    )
    tail = [
        "total_cost_usd_per_year",
        "carbon_tonnes_per_year",
        "open_sites",
        "opened",
        "closed",
        "message",
    ]
    return df[front + cost + tail]

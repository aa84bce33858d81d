"""Result assembly: a solver's rows and open set turned into a :class:`~placement.result.Result`.

Assignments get their ids, latency and weight; open sites their load, demand count and cost
components (from the costs lowered once); metrics (latency percentiles, SLA shares, backup
latency, cost and carbon totals) are computed here from those tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placement.lowering import Lowered
from placement.result import Result, latency_metrics
from placement.solve import SolverOptions

if TYPE_CHECKING:
    from placement.problem import Problem

__all__ = ["DEMAND_INFO", "SITE_INFO", "assemble"]

#: Columns of the sites table carried into results for reports.
SITE_INFO = (
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
#: Columns of the demand table carried into results.
DEMAND_INFO = (
    "demand_id",
    "name",
    "country_code",
    "continent",
    "timezone",
    "lat_deg",
    "lon_deg",
    "weight",
)


def assemble(
    problem: Problem,
    lowered: Lowered,
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
    """A :class:`Result`: assignment table, open sites with load and costs, metrics, provenance.

    Parameters
    ----------
    problem : Problem
        The problem solved.
    lowered : Lowered
        Its lowered form (latency table, site costs, arrays).
    status, objective, bound, gap, message
        The outcome, after the one status rule.
    open_mask : numpy.ndarray of bool or None
        Open sites.
    rows : list of (pair, rank, demand, share)
        Assignment rows, indices into ``lowered.data``.
    build_s, solve_s : float
        Seconds lowering (and setting up) and searching.
    options : placement.solve.SolverOptions
        The options the solve ran with (recorded in ``result.solver``).
    raw : str
        The solver's own status word.
    extra : dict, optional
        Further ``result.solver`` entries (method, model size, warm-start facts, …).
    restart : object, optional
        A root LP for a neighbouring solve (``result.restart``).
    """
    data = lowered.data
    site_ids = problem.sites["site_id"].to_numpy()
    demand_ids = problem.demand["demand_id"].to_numpy()
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
    info_cols = [c for c in SITE_INFO if c in problem.sites.columns]
    open_mask = np.zeros(data.n_sites, dtype=bool) if open_mask is None else open_mask
    open_sites = problem.sites.loc[open_mask, info_cols].reset_index(drop=True)
    primary = assignments[assignments["rank"] == 1]
    load = (primary["weight"] * primary["share"]).groupby(primary["site_id"]).sum()
    n_demand = primary.groupby("site_id")["demand_id"].nunique()
    open_sites["load"] = open_sites["site_id"].map(load).fillna(0.0).to_numpy(dtype=float)
    open_sites["n_demand"] = open_sites["site_id"].map(n_demand).fillna(0).to_numpy(dtype=np.int64)
    metrics: dict[str, Any] = {"n_open": int(open_mask.sum())}
    sla = problem.sla_ms if problem.sla_ms is not None else problem.max_latency_ms
    if len(primary):
        metrics.update(latency_metrics(assignments, sla_ms=sla, rank=1))
        backups = assignments[assignments["rank"] == 2]
        if len(backups):
            b = latency_metrics(assignments, sla_ms=problem.backup_max_latency_ms, rank=2)
            metrics["backup_mean_latency_ms"] = b["mean_latency_ms"]
            metrics["backup_max_latency_ms"] = b["max_latency_ms"]
        metrics["served_weight"] = float((primary["weight"] * primary["share"]).sum())
    metrics["total_weight"] = data.total_weight
    costs = lowered.costs
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
            metrics["carbon_tonnes_per_year"] = float(open_sites["carbon_tonnes_per_year"].sum())
    site_cols = [c for c in SITE_INFO if c in problem.sites.columns]
    demand_cols = [c for c in DEMAND_INFO if c in problem.demand.columns]
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
        sites=problem.sites[site_cols].copy(),
        demand=problem.demand[demand_cols].copy(),
        params=problem.params(),
        timings={"build_s": build_s, "solve_s": solve_s, "total_s": build_s + solve_s},
        solver=solver_info,
        message=message,
        name=problem.name,
        restart=restart,
    )

"""Result assembly: a solver's rows and open set turned into a :class:`~placement.result.Result`.

Assignments get their ids, latency and weight; open sites their load, demand count and cost
components (from the costs lowered once); metrics (latency percentiles, SLA shares, backup
latency, cost and carbon totals) are computed here from those tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from placement.formulations.contract import Solution
from placement.formulations.data import ModelData
from placement.lowering import Lowered
from placement.result import Result, latency_metrics
from placement.solve import SolverOptions

if TYPE_CHECKING:
    from placement.problem import Problem

__all__ = [
    "DEMAND_INFO",
    "SITE_INFO",
    "add_costs",
    "assemble",
    "assignment_table",
    "latency_summary",
    "open_site_table",
]

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
    sol: Solution,
    options: SolverOptions,
    *,
    build_s: float,
    extra: dict[str, Any] | None = None,
) -> Result:
    """A :class:`Result`: assignment table, open sites with load and costs, metrics, provenance.

    Parameters
    ----------
    problem : Problem
        The problem solved.
    lowered : Lowered
        Its lowered form (latency table, site costs, arrays).
    sol : Solution
        The finalized solution (status, objective, bound, open set, rows, message).
    options : placement.solve.SolverOptions
        The options the solve ran with (recorded in ``result.solver``).
    build_s : float
        Seconds from entering ``solve`` to the search (lowering, diagnosis, set-up).
    extra : dict, optional
        Further ``result.solver`` entries (method, model size, warm-start facts, …).
    """
    data = lowered.data
    open_mask = np.zeros(data.n_sites, dtype=bool) if sol.open_mask is None else sol.open_mask
    assignments = assignment_table(problem, data, sol.rows)
    assignments = with_statistics(problem, lowered, assignments)
    open_sites = open_site_table(problem, open_mask, assignments)
    metrics: dict[str, Any] = {"n_open": int(open_mask.sum())}
    metrics.update(latency_summary(problem, assignments))
    metrics["total_weight"] = data.total_weight
    unreachable = lowered.unreachable
    if unreachable is not None:
        lost = float(unreachable["weight"].sum())
        if unreachable["handling"].eq("excluded").all():
            metrics["total_weight"] = data.total_weight + lost
        metrics["n_unreachable"] = len(unreachable)
        metrics["unreachable_weight_share"] = lost / max(metrics["total_weight"], 1e-300)
    if lowered.costs is not None and open_mask.any():
        open_sites, cost_metrics = add_costs(open_sites, lowered.costs, data, sol.rows)
        metrics.update(cost_metrics)
    site_cols = [c for c in SITE_INFO if c in problem.sites.columns]
    demand_cols = [c for c in DEMAND_INFO if c in problem.demand.columns]
    solver_info = {
        "name": options.solver,
        "time_limit_s": options.time_limit_s,
        "gap_rel": options.gap_rel,
        "threads": options.threads,
        "raw_status": sol.raw_status,
        "warm_start": False,
        "warm_start_repaired": False,
        "warm_start_incumbent": None,
        **(extra or {}),
    }
    return Result(
        status=sol.status,
        objective=sol.objective,
        best_bound=sol.bound,
        gap=sol.gap,
        open_sites=open_sites,
        assignments=assignments,
        metrics=metrics,
        sites=problem.sites[site_cols].copy(),
        demand=problem.demand[demand_cols].copy(),
        # the statistic of the problem as given (an "exclude" policy solves a table of it)
        params={**problem.params(), "latency_statistic": lowered.statistic, **cost_view(problem)},
        timings={"build_s": build_s, "solve_s": sol.solve_s, "total_s": build_s + sol.solve_s},
        solver=solver_info,
        message=sol.message,
        name=problem.name,
        restart=sol.restart,
        unreachable=pd.DataFrame() if unreachable is None else unreachable,
    )


def cost_view(problem: Problem) -> dict[str, Any]:
    """``cost_view`` and ``cost_components`` of the problem's cost model (empty without one)."""
    view = getattr(problem.cost_model, "view", None)
    if view is None:
        return {}
    from placement.costs import VIEW_COMPONENTS

    return {"cost_view": view, "cost_components": list(VIEW_COMPONENTS.get(view, ()))}


def assignment_table(
    problem: Problem, data: ModelData, rows: list[tuple[int, int, int, float]]
) -> pd.DataFrame:
    """``demand_id, site_id, rank, latency_ms, share, weight`` of the rows, sorted."""
    if not rows:
        return pd.DataFrame(
            {
                "demand_id": pd.Series(dtype=str),
                "site_id": pd.Series(dtype=str),
                "rank": pd.Series(dtype=np.int64),
                "latency_ms": pd.Series(dtype=float),
                "share": pd.Series(dtype=float),
                "weight": pd.Series(dtype=float),
            }
        )
    p = np.array([r[0] for r in rows], dtype=np.int64)
    table = pd.DataFrame(
        {
            "demand_id": problem.demand["demand_id"].to_numpy()[data.pair_i[p]],
            "site_id": problem.sites["site_id"].to_numpy()[data.pair_j[p]],
            "rank": np.array([r[1] for r in rows], dtype=np.int64),
            "latency_ms": data.latency_ms[p],
            "share": np.array([r[3] for r in rows], dtype=float),
            "weight": data.weight[data.pair_i[p]],
        }
    )
    return table.sort_values(["demand_id", "rank", "site_id"], kind="stable").reset_index(drop=True)


def open_site_table(
    problem: Problem, open_mask: np.ndarray, assignments: pd.DataFrame
) -> pd.DataFrame:
    """The open sites' descriptive columns with their primary ``load`` and ``n_demand``."""
    info_cols = [c for c in SITE_INFO if c in problem.sites.columns]
    open_sites = problem.sites.loc[open_mask, info_cols].reset_index(drop=True)
    primary = assignments[assignments["rank"] == 1]
    load = (primary["weight"] * primary["share"]).groupby(primary["site_id"]).sum()
    n_demand = primary.groupby("site_id")["demand_id"].nunique()
    open_sites["load"] = open_sites["site_id"].map(load).fillna(0.0).to_numpy(dtype=float)
    open_sites["n_demand"] = open_sites["site_id"].map(n_demand).fillna(0).to_numpy(dtype=np.int64)
    return open_sites


def latency_summary(problem: Problem, assignments: pd.DataFrame) -> dict[str, Any]:
    """Primary latency metrics (SLA share against the problem's SLA), backup mean and max."""
    primary = assignments[assignments["rank"] == 1]
    if not len(primary):
        return {}
    sla = problem.sla_ms if problem.sla_ms is not None else problem.max_latency_ms
    out: dict[str, Any] = dict(latency_metrics(assignments, sla_ms=sla, rank=1))
    if (assignments["rank"] == 2).any():
        b = latency_metrics(assignments, sla_ms=problem.backup_max_latency_ms, rank=2)
        out["backup_mean_latency_ms"] = b["mean_latency_ms"]
        out["backup_max_latency_ms"] = b["max_latency_ms"]
    out["served_weight"] = float((primary["weight"] * primary["share"]).sum())
    return out


def add_costs(
    open_sites: pd.DataFrame,
    costs: pd.DataFrame,
    data: ModelData,
    rows: list[tuple[int, int, int, float]],
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Open sites with their cost components, and the cost and carbon totals."""
    open_sites = open_sites.copy()
    sub = costs.loc[open_sites["site_id"]]
    for col in sub.columns:
        open_sites[col] = sub[col].to_numpy()
    if "variable_usd_per_unit_per_year" in sub.columns:
        load = open_sites["load"].to_numpy(dtype=float)
        variable = sub["variable_usd_per_unit_per_year"].to_numpy(dtype=float)
        # egress and compute (list price) of the demand served are egress and compute money,
        # labelled so; "served" keeps the energy and carbon of serving it
        served = variable.copy()
        for part in ("egress", "compute"):
            col = f"{part}_usd_per_unit_per_year"
            if col not in sub.columns:
                continue
            unit = sub[col].to_numpy(dtype=float)
            open_sites[f"{part}_usd_per_year"] = (
                open_sites.get(f"{part}_usd_per_year", 0.0) + unit * load
            )
            served = served - unit
        open_sites["served_usd_per_year"] = served * load
        open_sites = open_sites.drop(
            columns=["egress_usd_per_unit_per_year", "compute_usd_per_unit_per_year"],
            errors="ignore",
        )
    metrics: dict[str, float] = {}
    for col in open_sites.columns:
        if col.endswith("_usd_per_year") and col != "total_usd_per_year":
            metrics[col] = float(open_sites[col].sum())
    total = open_sites["total_usd_per_year"].to_numpy(dtype=float)
    if "served_usd_per_year" in open_sites.columns:
        total = total + open_sites["variable_usd_per_unit_per_year"].to_numpy(
            dtype=float
        ) * open_sites["load"].to_numpy(dtype=float)
    open_sites["total_usd_per_year"] = total
    if data.pair_cost_usd.any() and rows:
        p = np.array([r[0] for r in rows if r[1] == 1], dtype=np.int64)
        share = np.array([r[3] for r in rows if r[1] == 1])
        metrics["assignment_usd_per_year"] = float((data.pair_cost_usd[p] * share).sum())
    metrics["total_cost_usd_per_year"] = float(total.sum()) + metrics.get(
        "assignment_usd_per_year", 0.0
    )
    if "carbon_tonnes_per_year" in open_sites.columns:
        metrics["carbon_tonnes_per_year"] = float(open_sites["carbon_tonnes_per_year"].sum())
    return open_sites, metrics


def with_statistics(problem: Problem, lowered: Lowered, assignments: pd.DataFrame) -> pd.DataFrame:
    """Assignments with ``source`` (measured / modelled) and, when the latency model states
    users' round trip by statistic, each pair's ``latency_mean_ms``, ``latency_p50_ms`` and
    ``latency_p95_ms`` (``latency_ms`` stays in the problem's own statistic)."""
    if assignments.empty:
        return assignments
    out = assignments
    if "source" in lowered.table.columns:
        src = lowered.table.set_index(["demand_id", "site_id"])["source"].astype(str)
        keys = pd.MultiIndex.from_frame(out[["demand_id", "site_id"]])
        out = out.assign(source=src.reindex(keys).to_numpy())
    model = lowered.source
    if lowered.statistic is None or not hasattr(model, "replace"):
        return out
    demand = problem.demand[problem.demand["demand_id"].isin(out["demand_id"])]
    sites = problem.sites[problem.sites["site_id"].isin(out["site_id"])]
    demand_ids = pd.Index(demand["demand_id"])
    site_ids = pd.Index(sites["site_id"])

    def pair_keys(frame: pd.DataFrame) -> np.ndarray:
        d = demand_ids.get_indexer(frame["demand_id"])
        s = site_ids.get_indexer(frame["site_id"])
        return np.where((d >= 0) & (s >= 0), d * len(site_ids) + s, -1)

    keys = pair_keys(out)
    for stat in ("mean", "p50", "p95"):
        if stat == lowered.statistic:
            # the problem's own statistic: the model's table of it is the solved latency_ms
            out[f"latency_{stat}_ms"] = out["latency_ms"].to_numpy(dtype=float)
            continue
        table = model.replace(statistic=stat).table(demand, sites)
        pos = pd.Index(pair_keys(table)).get_indexer(keys)
        lat = table["latency_ms"].to_numpy(dtype=float)
        out[f"latency_{stat}_ms"] = np.where(pos >= 0, lat[pos], np.nan)
    return out

"""How a plan holds up when power prices and demand move: sampling, site frequency and regret.

Each sample multiplies every country's electricity price by ``exp(N(0, price_sd))`` (one draw per
country, shared by its sites; sites without a country get their own draw) and every country's
demand weight by ``exp(N(0, demand_sd))``. Draws come from ``numpy.random.default_rng(seed)`` in
a fixed order, so the same seed gives the same samples and results.

The base plan is the base problem's optimum. Under each sample it is evaluated by solving the
sample with exactly its sites open (``must_open`` = the plan, every other site ``forbidden``);
regret is that objective minus the sample's own optimum (>= 0 up to solver tolerance).
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

__all__ = ["Robustness", "robustness"]


@dataclass(frozen=True)
class Robustness:
    """Outcome of :func:`robustness`.

    Attributes
    ----------
    samples : pandas.DataFrame
        One row per sample: ``sample``, ``status``, ``objective`` (the sample's optimum),
        ``base_plan_objective``, ``regret`` and ``regret_share`` (regret / optimum),
        ``total_cost_usd_per_year`` and ``mean_latency_ms`` of both plans, ``open_sites``.
    site_frequency : pandas.Series
        Share of solved samples in which each site is open (index ``site_id``, descending).
    base : Result
        The base plan.
    results : tuple of Result
        The optimum of each sample.
    """

    samples: pd.DataFrame
    site_frequency: pd.Series
    base: Result
    results: tuple[Result, ...]


def _check_sd(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValidationError(
            "must be a finite number >= 0", table="parameter", field=name, value=value
        )
    return v


def _groups(df: pd.DataFrame, id_col: str) -> np.ndarray:
    if "country_code" in df.columns:
        cc = df["country_code"].astype("string")
        return np.where(cc.isna(), "id:" + df[id_col].astype(str), cc.fillna("")).astype(str)
    return ("id:" + df[id_col].astype(str)).to_numpy()


def _factors(rng: np.random.Generator, groups: np.ndarray, sd: float) -> np.ndarray:
    keys = np.unique(groups)  # sorted: deterministic draw order
    draws = np.exp(rng.normal(0.0, sd, size=len(keys))) if sd > 0 else np.ones(len(keys))
    return draws[np.searchsorted(keys, groups)]


def robustness(
    base: Problem,
    *,
    n_samples: int = 20,
    price_sd: float = 0.2,
    demand_sd: float = 0.1,
    seed: int = 0,
    **solve_kwargs: Any,
) -> Robustness:
    """Sample power prices and demand around ``base``; solve each; report frequency and regret.

    Parameters
    ----------
    base : Problem
        The reference problem (not modified).
    n_samples : int
        Number of samples.
    price_sd, demand_sd : float
        Standard deviation of the log multiplier of each country's electricity price and demand
        weight (0.2 ≈ ±20 %).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    **solve_kwargs
        Passed to :meth:`Problem.solve`.

    Returns
    -------
    Robustness
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValidationError(
            "must be an integer >= 1", table="parameter", field="n_samples", value=n_samples
        )
    price_sd = _check_sd("price_sd", price_sd)
    demand_sd = _check_sd("demand_sd", demand_sd)
    shared = with_full_latency(base)
    plan = shared.solve(**solve_kwargs)
    if not plan.ok:
        raise ValidationError(
            f"the base problem has no plan: {plan.status} {plan.message}", table="parameter"
        )
    plan_sites = plan.open_site_ids
    others = [s for s in shared.sites["site_id"] if s not in set(plan_sites)]
    rng = np.random.default_rng(seed)
    site_groups = _groups(shared.sites, "site_id")
    demand_groups = _groups(shared.demand, "demand_id")
    has_price = "price_usd_per_kwh" in shared.sites.columns
    rows = []
    results = []
    for k in range(n_samples):
        pf = _factors(rng, site_groups, price_sd)
        df = _factors(rng, demand_groups, demand_sd)
        sites = shared.sites.copy()
        if has_price:
            sites["price_usd_per_kwh"] = (
                pd.to_numeric(sites["price_usd_per_kwh"], errors="coerce").to_numpy(float) * pf
            )
        demand = shared.demand.copy()
        demand["weight"] = demand["weight"].to_numpy(dtype=float) * df
        sample = shared.replace(sites=sites, demand=demand, name=f"sample {k}")
        best = sample.solve(**solve_kwargs)
        n_keep = {}
        if sample.n_sites is not None:
            n_keep = {"n_sites": len(plan_sites)}
        fixed = sample.replace(
            must_open=plan_sites, forbidden=others, min_sites=None, **n_keep
        ).solve(**solve_kwargs)
        row: dict[str, Any] = {"sample": k, "status": best.status}
        obj = best.objective if best.ok else math.nan
        fobj = fixed.objective if fixed.ok else math.nan
        row["objective"] = obj
        row["base_plan_objective"] = fobj
        row["regret"] = max(0.0, fobj - obj) if fixed.ok and best.ok else math.nan
        row["regret_share"] = row["regret"] / abs(obj) if obj else math.nan
        for m in ("total_cost_usd_per_year", "mean_latency_ms"):
            row[m] = best.metrics.get(m, math.nan) if best.ok else math.nan
            row[f"base_plan_{m}"] = fixed.metrics.get(m, math.nan) if fixed.ok else math.nan
        row["open_sites"] = ", ".join(best.open_site_ids)
        row["same_as_base"] = best.ok and best.open_site_ids == plan_sites
        rows.append(row)
        results.append(best)
    table = pd.DataFrame(rows)
    solved = [r for r in results if r.ok]
    counts: dict[str, int] = {}
    for r in solved:
        for s in r.open_site_ids:
            counts[s] = counts.get(s, 0) + 1
    freq = pd.Series(counts, dtype=float, name="share_of_samples") / max(1, len(solved))
    freq.index.name = "site_id"
    freq = freq.sort_index().sort_values(ascending=False, kind="stable")
    return Robustness(samples=table, site_frequency=freq, base=plan, results=tuple(results))

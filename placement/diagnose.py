"""Diagnosis in words: why a problem cannot be solved, and what it asks for.

:func:`explain_infeasible` runs cheap checks on the lowered arrays before any solver (demand
with no allowed site, too few failure domains in reach, capacity, percentile SLA, budget,
provider limits); :func:`active_constraints` names the constraints for messages such as the
solver's own proof of infeasibility. :func:`sites_needed` counts the fewest sites that put every
demand point within its SLA, so that a count limit below it is reported with that number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from placement.formulations._cover import cheapest_cover
from placement.formulations.data import ModelData
from placement.lowering import best_sites, latency_statistic, unreachable_demand

if TYPE_CHECKING:
    from placement.problem import Problem

__all__ = [
    "CHECKS",
    "active_constraints",
    "explain_infeasible",
    "infeasible_message",
    "sites_needed",
]


def _names(df: pd.DataFrame, idx: Iterable[int], limit: int = 5) -> str:
    idx = list(idx)
    col = "name" if "name" in df.columns else "demand_id"
    shown = [str(df[col].iloc[i]) for i in idx[:limit]]
    more = ", …" if len(idx) > limit else ""
    return ", ".join(shown) + more


def _sites(n: int) -> str:
    return f"{n} site" if n == 1 else f"{n} sites"


def _ms(problem: Problem, value: float) -> str:
    """``"80 ms"``, or ``"80 ms (users' p95)"`` when the latencies are a percentile of users'."""
    stat = latency_statistic(problem)
    return f"{value:g} ms" + (f" (users' {stat})" if stat in ("p50", "p95") else "")


def explain_infeasible(problem: Problem, data: ModelData) -> list[str]:
    """Reasons, in words, why this problem cannot be solved (empty when none is found).

    These checks (:data:`CHECKS`) run before the solver: demand points with no allowed site,
    too few failure domains in reach for the redundancy, capacity below demand, percentile SLA
    out of reach, must-open sites over the budget, per-provider limits below the site count,
    more sites needed for the SLA than the count allows.
    """
    return [reason for check in CHECKS if (reason := check(problem, data))]


def _unreachable(problem: Problem, data: ModelData) -> str | None:
    if problem.objective == "coverage":
        return None
    lost = unreachable_demand(data)
    if not len(lost):
        return None
    cause = []
    if problem.max_latency_ms is not None:
        cause.append(f"within {_ms(problem, problem.max_latency_ms)}")
    if problem.residency:
        cause.append("allowed by the residency rules")
    if problem.forbidden:
        cause.append("not forbidden")
    why = " ".join(cause) if cause else "in the latency table"
    if problem.unreachable == "exclude":  # only when every point is out of reach
        advice = "; excluding them leaves nothing to plan: loosen the SLA or use 'best-effort'"
    else:
        them = "them" if len(lost) > 1 else "it"
        advice = (
            f"; plan without {them} with unreachable='exclude' (--unreachable exclude) or serve "
            f"{them} as well as possible with 'best-effort'"
        )
    return (
        f"{len(lost)} demand point{'s' if len(lost) > 1 else ''} "
        f"({_names(problem.demand, lost)}) {'have' if len(lost) > 1 else 'has'} "
        f"no candidate site {why}{_best_possible(problem, lost)}{advice}"
    )


def _best_possible(problem: Problem, lost: np.ndarray) -> str:
    """`` (their best possible: A–B ms)`` over the allowed sites, whatever the SLA."""
    if problem.max_latency_ms is None:
        return ""
    best = best_sites(problem, problem.demand["demand_id"].iloc[lost])["latency_ms"]
    if best.empty:
        return ""
    lo, hi = float(best.min()), float(best.max())
    # 40.04 ms against a 40-ms SLA must not read "40.0": enough decimals to show it is over
    digits = next((d for d in (1, 2, 3, 4) if round(lo, d) > problem.max_latency_ms), 1)
    fmt = f".{digits}f" if lo > problem.max_latency_ms else ".1f"
    span = f"{lo:{fmt}} ms" if lo == hi else f"{lo:{fmt}}–{hi:.1f} ms"
    return f" ({'its' if len(best) == 1 else 'their'} best possible: {span})"


def _short_of_domains(problem: Problem, data: ModelData) -> str | None:
    k = data.redundancy
    if k == 1 or problem.objective == "coverage":
        return None
    ok = (data.backup_ok | data.primary_ok) & ~data.forbidden[data.pair_j]
    pairs = pd.DataFrame({"i": data.pair_i[ok], "g": data.domain[data.pair_j[ok]]})
    counts = np.zeros(data.n_demand, dtype=int)
    vc = pairs.drop_duplicates()["i"].value_counts()
    counts[vc.index.to_numpy()] = vc.to_numpy()
    short = np.flatnonzero(counts < k)
    if not len(short):
        return None
    first = int(short[0])
    label = "sites" if problem.failure_domain == "site_id" else "failure domains"
    return (
        f"redundancy {k} needs {k} {label} ({problem.failure_domain}) within reach of "
        f"{_names(problem.demand, [first])}, only {counts[first]} "
        + ("exists" if counts[first] == 1 else "exist")
        + (f" ({len(short)} demand points are short)" if len(short) > 1 else "")
    )


def _capacity(problem: Problem, data: ModelData) -> str | None:
    if data.capacity is None:
        return None
    cap = data.capacity[~data.forbidden]
    limit = data.n_sites_exact or data.max_sites
    best = np.sort(cap)[::-1][:limit].sum() if limit else cap.sum()
    if best + 1e-9 >= data.total_weight:
        return None
    return (
        f"total capacity of the sites that may open ({best:,.6g}) is below the total "
        f"demand ({data.total_weight:,.6g})"
    )


def _percentile(problem: Problem, data: ModelData) -> str | None:
    if data.sla_share is None or data.sla_ms is None:
        return None
    usable = ~data.forbidden[data.pair_j]
    within = data.primary_ok & usable & (data.latency_ms <= data.sla_ms + 1e-9)
    reach = np.zeros(data.n_demand, dtype=bool)
    reach[data.pair_i[within]] = True
    best_share = data.weight[reach].sum() / data.total_weight
    if best_share + 1e-12 >= data.sla_share:
        return None
    return (
        f"only {best_share:.1%} of demand has any site within {_ms(problem, data.sla_ms)}, "
        f"below the required {data.sla_share:.1%}"
    )


def _budget(problem: Problem, data: ModelData) -> str | None:
    if data.budget_usd is None:
        return None
    committed = data.fixed_usd[data.must_open].sum()
    if committed > data.budget_usd + 1e-6:
        return (
            f"the must-open sites alone cost ${committed:,.0f} per year, over the budget "
            f"of ${data.budget_usd:,.0f}"
        )
    return _budget_cover(problem, data)


def _budget_cover(problem: Problem, data: ModelData) -> str | None:
    """The cheapest sites that meet the SLA / residency already cost more than the budget.

    A lower bound on the annual cost of any solution: the least fixed cost of an open set that
    gives every demand point an allowed site (within the count limits), plus each point's
    cheapest allowed serving cost.
    """
    if data.redundancy != 1 or data.objective == "coverage" or data.sla_share is not None:
        return None
    ok = data.usable_primary()
    serve = data.variable_usd_per_unit[data.pair_j] * data.weight[data.pair_i] + data.pair_cost_usd
    least = np.full(data.n_demand, np.inf)
    np.minimum.at(least, data.pair_i[ok], serve[ok])
    if not np.isfinite(least).all():
        return None  # unreachable demand: said by its own check
    serving = float(least.sum())
    if serving + data.fixed_usd.sum() <= data.budget_usd + 1e-6:
        return None  # every site open and the cheapest serving fit: nothing to say
    exact = data.n_sites_exact
    lo = exact if exact is not None else data.min_sites
    hi = exact if exact is not None else data.max_sites
    count, fixed, opened = _greedy_cover(data, data.n_sites if hi is None else hi, data.fixed_usd)
    if lo is not None and count < lo:  # the cheapest closed sites up to the lower count limit
        rest = np.sort(data.fixed_usd[~data.forbidden & ~opened])
        fixed = fixed + float(rest[: lo - count].sum()) if len(rest) >= lo - count else math.inf
    if fixed + serving <= data.budget_usd + 1e-6:
        return None  # a cover that fits the budget bounds the cheapest one: nothing to say
    found = _cheapest_cover(data, data.fixed_usd, lo, hi, 2.0)
    if found is None:
        return None
    fixed, proven = found
    total = fixed + serving
    if total <= data.budget_usd * (1 + 1e-9) + 1e-6:
        return None
    rules = _pair_rules(problem)
    within = f" {' and '.join(rules)}" if rules else ""
    return (
        f"serving every demand point from an open site{within} costs at least "
        f"${total:,.0f} per year (sites' fixed costs ${fixed:,.0f}{'' if proven else ' or more'}"
        f", serving ${serving:,.0f}), over the budget of ${data.budget_usd:,.0f}"
    )


def _providers(problem: Problem, data: ModelData) -> str | None:
    if not data.max_per_provider:
        return None
    cap_sites = sum(data.max_per_provider.values())
    need = data.n_sites_exact or data.min_sites or 0
    if need > cap_sites and len(data.max_per_provider) == len(np.unique(data.provider)):
        return f"{need} sites are required but the per-provider limits allow {cap_sites}"
    return None


def active_constraints(problem: Problem) -> list[str]:
    """The problem's constraints in words (for messages and reports)."""
    parts = []
    if problem.n_sites is not None:
        parts.append(f"exactly {_sites(problem.n_sites)}")
    if problem.max_sites is not None:
        parts.append(f"at most {_sites(problem.max_sites)}")
    if problem.min_sites:
        parts.append(f"at least {_sites(problem.min_sites)}")
    if problem.max_latency_ms is not None:
        parts.append(f"every demand point within {_ms(problem, problem.max_latency_ms)}")
    if problem.sla_share is not None:
        parts.append(f"{problem.sla_share:.0%} of demand within {_ms(problem, problem.sla_ms)}")
    if problem.redundancy > 1:
        parts.append(f"redundancy {problem.redundancy} across {problem.failure_domain}")
    if problem.capacity is not None:
        parts.append("site capacities")
    if problem.must_open:
        parts.append(f"must open {', '.join(problem.must_open)}")
    if problem.budget_usd_per_year is not None:
        parts.append(f"budget ${problem.budget_usd_per_year:,.0f} per year")
    if problem.max_sites_per_provider is not None:
        parts.append("per-provider limits")
    if problem.residency:
        parts.append("data residency")
    return parts or ["no constraint given"]


def infeasible_message(problem: Problem) -> str:
    """The message of a solver's proof of infeasibility."""
    return (
        "the solver proved that the constraints cannot all hold together ("
        + ", ".join(active_constraints(problem))
        + ")"
    )


def sites_needed(data: ModelData, *, time_limit_s: float = 2.0) -> tuple[int, bool] | None:
    """The fewest sites that give every demand point an allowed primary site (a set cover).

    Each demand point needs one open site among its allowed primary pairs (within its SLA,
    residency, not forbidden); must-open sites count as open. Solved as a small HiGHS integer
    program (demand points × sites), usually in milliseconds.

    Parameters
    ----------
    data : ModelData
        The lowered problem.
    time_limit_s : float, default 2.0
        Time for the count; a stopped count still gives a valid lower bound.

    Returns
    -------
    (sites, proven) or None
        ``sites`` is the fewest sites (``proven`` True) or a lower bound on it (``proven``
        False, the time limit stopped the count); None when no set of sites covers every
        demand point or nothing was learnt in the time.
    """
    found = _cheapest_cover(data, np.ones(data.n_sites), None, None, time_limit_s)
    if found is None or found[0] <= 0:
        return None
    value, proven = found
    return (round(value), True) if proven else (math.ceil(value - 1e-6), False)


def _cheapest_cover(
    data: ModelData,
    cost: np.ndarray,
    min_count: int | None,
    max_count: int | None,
    time_limit_s: float,
) -> tuple[float, bool] | None:
    """Least ``Σ cost_j`` of an open set giving every demand point an allowed primary site.

    Must-open sites are open, forbidden ones closed, the number of open sites within
    ``[min_count, max_count]``. Returns (value, proven) — a lower bound when the time limit
    stopped the search — or None (no such set, or nothing learnt in the time).
    """
    ok = data.usable_primary()
    pi, pj = data.pair_i[ok], data.pair_j[ok]
    done = np.zeros(data.n_demand, dtype=bool)
    done[pi[data.must_open[pj]]] = True  # already served by a site that must open
    reach = np.zeros(data.n_demand, dtype=bool)
    reach[pi] = True
    if not reach.all():
        return None
    keep = ~done[pi]
    pi, pj = pi[keep], pj[keep]
    order = np.lexsort((pj, pi))
    pi, pj = pi[order], pj[order]
    starts = np.searchsorted(pi, np.unique(pi))
    found = cheapest_cover(
        starts,
        pj,
        cost,
        data.must_open,
        data.forbidden,
        min_count=min_count,
        max_count=max_count,
        deadline=time.perf_counter() + time_limit_s,
    )
    if not math.isfinite(found.bound):
        return None
    return found.bound, found.proven


def _pair_rules(problem: Problem) -> list[str]:
    """The rules that restrict which sites may serve a demand point, in words."""
    rules = []
    if problem.max_latency_ms is not None:
        rules.append(f"within {_ms(problem, problem.max_latency_ms)}")
    if problem.residency:
        rules.append("that its residency rule allows")
    return rules


def _greedy_cover(
    data: ModelData, stop_above: int, cost: np.ndarray | None = None
) -> tuple[int, float, np.ndarray]:
    """Sites a greedy set cover opens (must-open sites first), their ``Σ cost`` (0 without
    ``cost``) and the open mask; ``stop_above + 1`` sites (and ``inf``) once over or when stuck.

    Without ``cost`` each step opens the site covering the most points still uncovered; with
    it, the site of the least cost per point it covers.
    """
    ok = data.usable_primary()
    pi, pj = data.pair_i[ok], data.pair_j[ok]
    covered = np.zeros(data.n_demand, dtype=bool)
    covered[pi[data.must_open[pj]]] = True
    count = int(data.must_open.sum())
    spent = 0.0 if cost is None else float(cost[data.must_open].sum())
    usable = ~data.forbidden & ~data.must_open
    while not covered.all() and count <= stop_above:
        live = ~covered[pi]
        gain = np.bincount(pj[live], minlength=data.n_sites).astype(float)
        gain[~usable] = 0.0
        if cost is None:
            j = int(np.argmax(gain))
        else:
            per_point = np.where(gain > 0, cost / np.maximum(gain, 1.0), np.inf)
            j = int(np.argmin(per_point))
        if gain[j] == 0:
            return stop_above + 1, math.inf, ~usable
        covered[pi[pj == j]] = True
        usable[j] = False
        count += 1
        spent += 0.0 if cost is None else float(cost[j])
    if count > stop_above:
        return count, math.inf, ~usable
    return count, spent, ~usable & ~data.forbidden


def _too_few_sites(problem: Problem, data: ModelData) -> str | None:
    """The SLA on every demand point needs more sites than the count limit allows.

    With one site per demand point (redundancy 1: the redundant solver says the same in its
    own words), an SLA on every demand point and an upper limit on the number of sites. A
    greedy cover within the limit settles it in milliseconds; otherwise :func:`sites_needed`
    counts exactly (or bounds) the fewest sites.
    """
    limit = data.n_sites_exact if data.n_sites_exact is not None else data.max_sites
    rules = _pair_rules(problem)
    if (
        limit is None
        or not rules
        or data.redundancy != 1
        or data.objective == "coverage"
        or data.sla_share is not None
    ):
        return None
    if _greedy_cover(data, limit)[0] <= limit:
        return None
    found = sites_needed(data)
    if found is None:
        return None
    need, proven = found
    if need <= limit:
        return None
    least = "" if proven else "at least "
    return (
        f"serving every demand point from an open site {' and '.join(rules)} takes "
        f"{least}{_sites(need)}, {limit} allowed"
    )


#: The checks of :func:`explain_infeasible`, in the order their reasons are reported.
CHECKS = (
    _unreachable,
    _short_of_domains,
    _capacity,
    _percentile,
    _budget,
    _providers,
    _too_few_sites,
)

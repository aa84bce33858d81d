"""diagnose.sites_needed against enumeration, and the sites count in a proof of infeasibility."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from placement import diagnose
from placement.problem import Problem


def _fewest_by_enumeration(allowed: np.ndarray, must: np.ndarray, usable: np.ndarray) -> int | None:
    """The fewest usable sites (must-open ones included) that give every row an allowed site."""
    m = allowed.shape[1]
    free = [j for j in range(m) if usable[j] and not must[j]]
    base = list(np.flatnonzero(must))
    for k in range(len(free) + 1):
        for extra in itertools.combinations(free, k):
            cols = base + list(extra)
            if allowed[:, cols].any(axis=1).all():
                return len(cols)
    return None


@pytest.mark.parametrize("seed", range(12))
def test_sites_needed_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(6, 14)), int(rng.integers(5, 9))
    cost = rng.uniform(1.0, 100.0, size=(n, m))
    sla = float(np.quantile(cost, rng.uniform(0.2, 0.5)))
    sla = max(sla, float(cost.min(axis=1).max()))  # every demand point has a site in reach
    forbidden = [f"s{j}" for j in range(m) if rng.random() < 0.15]
    free = [f"s{j}" for j in range(m) if f"s{j}" not in forbidden]
    must = [free[0]] if seed % 3 == 0 else []
    problem = Problem.from_cost_matrix(
        cost,
        objective="median",
        n_sites=1,
        max_latency_ms=sla,
        forbidden=forbidden,
        must_open=must,
    )
    data = problem.model_data()
    allowed = cost <= sla + 1e-9
    usable = np.array([f"s{j}" not in forbidden for j in range(m)])
    want = _fewest_by_enumeration(
        allowed & usable[None, :], np.array([f"s{j}" in must for j in range(m)]), usable
    )
    got = diagnose.sites_needed(data)
    if want is None:
        assert got is None
    else:
        assert got == (want, True)


def test_sites_needed_none_without_time() -> None:
    problem = Problem.from_cost_matrix(2.0 - np.eye(4), n_sites=1, max_latency_ms=1.5)
    assert diagnose.sites_needed(problem.model_data()) == (4, True)
    assert diagnose.sites_needed(problem.model_data(), time_limit_s=0.0) is None


def test_infeasible_sla_says_how_many_sites(line) -> None:
    # within 9 ms (8 units of line): D0 only S0, D3 only S2, D6 only S4, D7 only S5, and those
    # four serve the rest -> 4 sites
    sites, demand, table = line
    for limit in ({"n_sites": 3}, {"max_sites": 3}):
        r = Problem(sites, demand, latency=table, max_latency_ms=9, **limit).solve()
        assert r.status == "infeasible"
        allowed = limit.get("n_sites", limit.get("max_sites"))
        assert f"from an open site within 9 ms takes 4 sites, {allowed} allowed" in r.message


def test_no_count_when_another_constraint_is_the_cause(line) -> None:
    # five sites meet the SLA, but residency keeps every country on its own sites: 3 allowed
    # sites are enough for the SLA alone, so the message does not blame the count
    sites, demand, table = line
    r = Problem(
        sites,
        demand,
        latency=table,
        n_sites=5,
        max_latency_ms=9,
        residency={"DE": ["FR"], "FR": ["FR"], "ES": ["ES"]},
    ).solve()
    assert r.status == "infeasible"
    assert "takes" not in r.message


def test_messages_name_the_percentile(line) -> None:
    import placement as pl

    sites, demand, _ = line
    p95 = pl.latency.default_model().replace(statistic="p95")
    r = Problem(sites, demand, latency=p95, n_sites=2, max_latency_ms=2.0).solve()
    assert r.status == "infeasible"
    assert "no candidate site within 2 ms (users' p95)" in r.message
    mean = Problem(sites, demand, n_sites=2, max_latency_ms=2.0).solve()
    assert "no candidate site within 2 ms (their best" in mean.message


def test_sla_beyond_every_pair_of_a_model_is_explained(line) -> None:
    # the model's table pruned to no pair at all is an unreachable SLA, not an empty input
    import placement as pl

    sites, demand, _ = line
    model = pl.latency.default_model()
    r = Problem(sites, demand, latency=model, n_sites=2, max_latency_ms=0.5).solve()
    assert r.status == "infeasible"
    assert r.message.startswith(
        "8 demand points (Berlin, Hamburg, Paris, Lyon, Nice, …) have no candidate site"
    )
    assert "unreachable='exclude'" in r.message
    gone = Problem(
        sites, demand, latency=model, n_sites=2, max_latency_ms=0.5, unreachable="exclude"
    ).solve()
    assert gone.status == "infeasible"
    assert "excluding them leaves nothing to plan" in gone.message


@pytest.mark.parametrize("seed", range(6))
def test_budget_below_the_cheapest_cover_is_explained(seed: int) -> None:
    # the least fixed cost of 3 sites that put every point within the SLA, by enumeration:
    # a budget just under it is refused with that figure, a budget at it solves
    rng = np.random.default_rng(100 + seed)
    n, m = 10, 7
    cost = rng.uniform(1.0, 60.0, size=(n, m))
    sla = max(float(np.quantile(cost, 0.45)), float(cost.min(axis=1).max()))
    fixed = rng.uniform(100.0, 1000.0, m).round(0)
    allowed = cost <= sla
    sets = [c for c in itertools.combinations(range(m), 3) if allowed[:, list(c)].any(axis=1).all()]
    if not sets:
        pytest.skip("no 3-site cover for this seed")
    least = min(fixed[list(c)].sum() for c in sets)
    kw = {"objective": "median", "n_sites": 3, "max_latency_ms": sla, "fixed_cost": fixed}
    under = Problem.from_cost_matrix(cost, budget_usd_per_year=least - 1.0, **kw).solve()
    assert under.status == "infeasible"
    assert f"within {sla:g} ms costs at least ${least:,.0f} per year" in under.message
    at = Problem.from_cost_matrix(cost, budget_usd_per_year=least, **kw).solve()
    assert at.status == "optimal"

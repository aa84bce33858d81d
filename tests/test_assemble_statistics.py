"""``assemble.with_statistics``: every pair's users' round trip by statistic, against the model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import placement as pl
from placement.problem import Problem


@pytest.fixture(scope="module")
def europe():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = pl.catalog.sites(providers=["aws", "gcp"], kinds="region")
        demand = pl.demand.from_cities(continents=["EU"], min_population=1_000_000)
    return sites, demand


@pytest.mark.parametrize("statistic", ["mean", "p50", "p95"])
def test_statistic_columns_equal_the_model_tables(europe, statistic):
    # the problem's own statistic is the solved latency_ms (no second table); the other two come
    # from the model stated in them; both equal a fresh table of the model, pair by pair
    sites, demand = europe
    prob = Problem(
        sites,
        demand,
        n_sites=3,
        redundancy=2,
        failure_domain="provider",
        latency_statistic=statistic,
    )
    res = prob.solve()
    a = res.assignments
    assert len(a) == 2 * len(demand)
    np.testing.assert_array_equal(a[f"latency_{statistic}_ms"], a["latency_ms"])
    model = pl.latency.default_model()
    for stat in ("mean", "p50", "p95"):
        table = model.replace(statistic=stat).table(demand, sites)
        want = table.set_index(["demand_id", "site_id"])["latency_ms"]
        got = a.set_index(["demand_id", "site_id"])[f"latency_{stat}_ms"]
        np.testing.assert_allclose(got.to_numpy(), want.reindex(got.index).to_numpy(), rtol=1e-12)
    assert (a["latency_p50_ms"] <= a["latency_p95_ms"]).all()
    assert (a["latency_p50_ms"] < a["latency_p95_ms"]).any()

"""What-if analysis: scenarios are pure and validated, compare/sweep/pareto/robustness."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from placement import catalog, demand, geo
from placement.costs import CostModel
from placement.errors import ValidationError
from placement.problem import Problem
from placement.scenarios import (
    Scenario,
    compare,
    describe_steps,
    non_dominated,
    pareto,
    robustness,
    sweep,
)


def _latency(d: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    km = geo.distance_matrix_km(d["lat_deg"], d["lon_deg"], s["lat_deg"], s["lon_deg"])
    ii, jj = np.indices(km.shape)
    return pd.DataFrame(
        {
            "demand_id": d["demand_id"].to_numpy()[ii.ravel()],
            "site_id": s["site_id"].to_numpy()[jj.ravel()],
            "latency_ms": 2.0 + km.ravel() / 100.0,
        }
    )


@pytest.fixture(scope="module")
def base() -> Problem:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = catalog.sites(providers=["aws", "gcp"], kinds="region")
        d = demand.from_cities(
            min_population=1_000_000, continents=["NA", "EU"], merge_within_km=150
        )
    s = s[s["continent"].isin(["NA", "EU"]) & s["tmean_annual_c"].notna()].reset_index(drop=True)
    return Problem(
        s,
        d,
        latency=_latency(d, s),
        objective="median",
        n_sites=3,
        cost_model=CostModel(it_load_kw=1000),
        name="base",
    )


def test_apply_is_pure_and_price_rule_hits_only_virginia(base: Problem) -> None:
    sites_before = base.sites.copy()
    params_before = base.params()
    sc = Scenario("shock", power_prices=[{"subdivision": "US-VA", "multiply": 1.3}])
    new = sc.apply(base)
    pd.testing.assert_frame_equal(base.sites, sites_before)
    assert base.params() == params_before
    assert new is not base and new.name == "shock"
    before = base.site_costs()["energy_usd_per_year"]
    after = new.site_costs()["energy_usd_per_year"]
    va = set(base.sites.loc[base.sites["subdivision_code"] == "US-VA", "site_id"])
    assert va == {"aws:us-east-1", "gcp:us-east4"}
    ratio = after / before
    assert np.allclose(ratio[list(va)], 1.3)
    assert np.allclose(ratio.drop(list(va)), 1.0)


def test_set_price_country_provider_and_demand_growth(base: Problem) -> None:
    sc = Scenario(
        "mix",
        power_prices=[
            {"country": "IE", "set_usd_per_kwh": 0.5},
            {"provider": "gcp", "multiply": 2},
        ],
        demand_growth=[{"country": "CA", "multiply": 1.5}, {"continent": "EU", "multiply": 0.5}],
    )
    demand_before, sites_before = base.demand.copy(), base.sites.copy()
    new = sc.apply(base)
    pd.testing.assert_frame_equal(base.demand, demand_before)  # apply is pure
    pd.testing.assert_frame_equal(base.sites, sites_before)
    p = new.sites.set_index("site_id")["price_usd_per_kwh"]
    p0 = base.sites.set_index("site_id")["price_usd_per_kwh"]
    assert p["aws:eu-west-1"] == 0.5
    assert p["gcp:europe-west1"] == pytest.approx(2 * p0["gcp:europe-west1"])
    w = new.demand.set_index("demand_id")["weight"]
    w0 = base.demand.set_index("demand_id")["weight"]
    ca = base.demand.set_index("demand_id")["country_code"] == "CA"
    eu = base.demand.set_index("demand_id")["continent"] == "EU"
    assert np.allclose(w[ca], 1.5 * w0[ca])
    assert np.allclose(w[eu], 0.5 * w0[eu])
    assert np.allclose(w[~ca & ~eu], w0[~ca & ~eu])


def test_add_remove_sites_and_problem_overrides(base: Problem) -> None:
    sc = Scenario(
        "calgary",
        add_sites=[{"city": "Calgary", "provider": "gcp"}],
        remove_sites=["aws:ca-west-1"],
        problem={"n_sites": 4, "max_latency_ms": 90.0},
        costs={"carbon_price_usd_per_tonne": 50.0},
    )
    new = sc.apply(base)
    row = new.sites.set_index("site_id").loc["new:calgary"]
    assert row["subdivision_code"] == "CA-AB" and row["provider"] == "gcp"
    assert row["lat_deg"] == pytest.approx(51.05, abs=0.01)
    # a hypothetical site gets its own location's climate, as catalog sites do (Calgary station)
    assert row["climate_level"] == "station" and row["climate_point"] == "station:CA:Calgary"
    assert row["tmean_annual_c"] == pytest.approx(4.5, abs=0.1)
    assert "aws:ca-west-1" not in set(new.sites["site_id"])
    assert new.n_sites == 4 and new.max_latency_ms == 90.0
    assert new.cost_model.carbon_price_usd_per_tonne == 50.0
    assert base.cost_model.carbon_price_usd_per_tonne == 0.0
    lat = new.latency  # the table given to the Problem; latency_table() prunes by the SLA
    assert (lat["site_id"] == "new:calgary").sum() == len(base.demand)
    # the fitted line reproduces the synthetic 2 ms + 1 ms per 100 km exactly
    cal = lat[lat["site_id"] == "new:calgary"].set_index("demand_id")["latency_ms"]
    d = base.demand.set_index("demand_id")
    km = geo.haversine_km(d["lat_deg"], d["lon_deg"], row["lat_deg"], row["lon_deg"])
    assert np.allclose(cal.loc[d.index], 2.0 + km / 100.0)


def test_validation_names_the_problem(base: Problem, tmp_path) -> None:
    with pytest.raises(ValidationError, match="bogus"):
        Scenario.from_dict({"name": "x", "bogus": 1})
    with pytest.raises(ValidationError, match="not_a_kwarg"):
        Scenario("x", problem={"not_a_kwarg": 1})
    with pytest.raises(ValidationError, match="multipl"):
        Scenario("x", power_prices=[{"country": "IE", "multipy": 1.3}])
    with pytest.raises(ValidationError, match="exactly one"):
        Scenario("x", power_prices=[{"country": "IE"}])
    with pytest.raises(ValidationError, match="no site has"):
        Scenario("x", power_prices=[{"subdivision": "US-XX", "multiply": 2}]).apply(base)
    with pytest.raises(ValidationError, match="no catalog city"):
        Scenario("x", add_sites=[{"city": "Atlantis"}]).apply(base)
    with pytest.raises(ValidationError, match="unknown site"):
        Scenario("x", remove_sites=["aws:nowhere"]).apply(base)
    with pytest.raises(ValidationError, match="n_sites"):
        Scenario("x", problem={"n_sites": 0}).apply(base)
    with pytest.raises(ValidationError, match=">= 0"):
        Scenario("x", demand_growth=[{"country": "CA", "multiply": -1}])
    f = tmp_path / "shock.toml"
    f.write_text(
        'description = "VA +30 %"\n[problem]\nn_sites = 2\n'
        '[[power_price]]\nsubdivision = "US-VA"\nmultiply = 1.3\n'
    )
    sc = Scenario.from_toml(f)
    assert sc.name == "shock" and sc.problem == {"n_sites": 2}
    assert sc.power_prices[0].scope == "subdivision" and sc.power_prices[0].multiply == 1.3
    assert Scenario.from_dict(sc.to_dict()) == sc


def test_compare_columns_and_diffs(base: Problem) -> None:
    sc = Scenario("four", problem={"n_sites": 4})
    df = compare(base, sc)
    assert list(df["name"]) == ["base", "four"]
    for col in (
        "status",
        "gap",
        "objective",
        "mean_latency_ms",
        "p95_latency_ms",
        "share_within_sla",
        "energy_usd_per_year",
        "total_cost_usd_per_year",
        "carbon_tonnes_per_year",
        "n_open",
        "opened",
        "closed",
    ):
        assert col in df.columns
    assert list(df["n_open"]) == [3, 4]
    assert df["mean_latency_ms"].iloc[1] < df["mean_latency_ms"].iloc[0]
    base_open = set(df["open_sites"].iloc[0].split(", "))
    four_open = set(df["open_sites"].iloc[1].split(", "))
    assert set(filter(None, df["opened"].iloc[1].split(", "))) == four_open - base_open
    assert df["opened"].iloc[0] == "" and df["closed"].iloc[0] == ""


def test_sweep_identical_across_executors_and_errors_kept(base: Problem) -> None:
    grid = {"n_sites": [2, 3, 99], "max_latency_ms": [40.0, 80.0]}
    serial = sweep(base, grid, executor="serial", progress=False)
    assert len(serial) == 6
    t = serial.table
    assert list(t["n_sites"]) == [2, 2, 3, 3, 99, 99]
    assert (t.loc[t["n_sites"] == 99, "status"] == "error").all()
    assert t.loc[t["n_sites"] == 99, "message"].str.contains("n_sites").all()
    assert t.loc[t["n_sites"] < 99, "status"].isin(["optimal", "infeasible"]).all()
    assert (t["status"] == "optimal").sum() >= 2
    procs = sweep(base, grid, executor="processes", max_workers=2, progress=False)
    drop = ["solve_s"]
    # one chain (serial) and two (processes) warm-start different points, so where a point has
    # several optimal open sets they may return different ones (module docstring): statuses,
    # objectives and gaps agree; the open set, and what follows from it, may not
    promised = ["n_sites", "max_latency_ms", "status", "objective", "gap"]
    pd.testing.assert_frame_equal(serial.table[promised], procs.table[promised])
    again = sweep(base, grid, executor="processes", max_workers=2, progress=False)
    pd.testing.assert_frame_equal(procs.table.drop(columns=drop), again.table.drop(columns=drop))
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as c:
        with distributed.Client(c) as client:
            dsk = sweep(base, grid, executor=client, progress=False)
    assert dsk.executor == "dask"
    # the same two chains on Dask as in two processes: the same table, open sets included
    pd.testing.assert_frame_equal(procs.table.drop(columns=drop), dsk.table.drop(columns=drop))


def test_pareto_nondominated_monotone_and_described(base: Problem) -> None:
    fr = pareto(base, n_points=4)
    t = fr.table
    x, y = t["total_cost_usd_per_year"].to_numpy(), t["mean_latency_ms"].to_numpy()
    assert len(t) >= 2
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) < 0)
    assert non_dominated(x, y).all()
    assert t["is_knee"].sum() == 1
    steps = describe_steps(fr)
    assert len(steps) == len(t)
    assert steps[-1].startswith("The last ") and "a year" in steps[-1]
    assert non_dominated(np.array([1.0, 2.0, 3.0]), np.array([3.0, 3.0, 1.0])).tolist() == [
        True,
        False,
        True,
    ]


def test_robustness_deterministic(base: Problem) -> None:
    a = robustness(base, n_samples=3, price_sd=0.3, demand_sd=0.2, seed=7)
    b = robustness(base, n_samples=3, price_sd=0.3, demand_sd=0.2, seed=7)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    pd.testing.assert_series_equal(a.site_frequency, b.site_frequency)
    assert (a.samples["regret"] >= 0).all()
    assert a.site_frequency.between(0, 1).all() and a.site_frequency.iloc[0] > 0
    c = robustness(base, n_samples=3, price_sd=0.3, demand_sd=0.2, seed=8)
    assert not np.allclose(a.samples["objective"], c.samples["objective"])


def test_pareto_p95_path(base: Problem) -> None:
    fr = pareto(base, y="p95_latency_ms", n_points=4)
    t = fr.table
    assert fr.y == "p95_latency_ms" and list(t.columns[:2]) == ["total_cost_usd_per_year", fr.y]
    x, y = t["total_cost_usd_per_year"].to_numpy(), t["p95_latency_ms"].to_numpy()
    assert len(t) >= 2
    assert non_dominated(x, y).all()
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) < 0)
    assert t["is_knee"].sum() == 1
    assert fr.knee is fr.results[int(np.flatnonzero(t["is_knee"])[0])]
    inner = t["epsilon"].notna()  # the epsilon points meet their p95 bound
    assert (t.loc[inner, "p95_latency_ms"] <= t.loc[inner, "epsilon"] + 1e-6).all()
    steps = describe_steps(fr)
    assert len(steps) == len(t)
    assert all("$" in s and "ms" in s for s in steps)
    assert "p95 latency" in steps[0]


def test_sweep_failed_point_kept_on_dask(base: Problem) -> None:
    distributed = pytest.importorskip("distributed")
    grid = {"n_sites": [2, 99, 3]}
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = sweep(base, grid, executor=client, progress=False)
    t = res.table
    assert res.executor == "dask" and list(t["n_sites"]) == [2, 99, 3]
    assert list(t["status"]) == ["optimal", "error", "optimal"]
    assert "n_sites=99" in t["message"].iloc[1] and pd.isna(t["objective"].iloc[1])
    assert res.result(n_sites=99) is None
    assert [len(res.result(n_sites=n).open_site_ids) for n in (2, 3)] == [2, 3]


def test_sweep_result_finds_a_none_point(base: Problem) -> None:
    # None ("no SLA") is stored as a missing value in the table; result() still finds it
    res = sweep(base, {"max_latency_ms": [None, 5000.0]}, progress=False, warm_start=False)
    assert res.table["max_latency_ms"].isna().sum() == 1
    loose, tight = res.result(max_latency_ms=None), res.result(max_latency_ms=5000.0)
    assert loose is res.results[0] and tight is res.results[1]
    assert loose.objective == pytest.approx(tight.objective)  # 5 s binds nobody
    with pytest.raises(KeyError, match="not an axis"):
        res.result(n_site=3)

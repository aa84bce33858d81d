"""Latency models: the function, the tables, pruning, measured overrides, calibration and hold-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from repo_scripts import load_script

from placement import latency as L
from placement.errors import ValidationError
from placement.geo import haversine_km

# Hold-out thresholds (absolute % error of RTT on pairs touching held-out locations). Current
# values (scripts/fit_latency.py): distance 12.78 / 32.93, route 6.57 / 16.71. A regression of
# more than ~1.5 points fails.
DISTANCE_MAX_MEDIAN_PCT, DISTANCE_MAX_P90_PCT = 14.0, 34.5
ROUTE_MAX_MEDIAN_PCT, ROUTE_MAX_P90_PCT = 8.0, 18.0


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "demand_id": ["london", "singapore", "sydney", "newyork"],
            "lat": [51.5074, 1.2897, -33.8679, 40.7143],
            "lon": [-0.1278, 103.8501, 151.2073, -74.006],
            "weight": [9.0, 6.0, 5.0, 8.0],
        }
    )


@pytest.fixture(scope="module")
def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["fra", "sin", "syd", "iad", "gru"],
            "lat_deg": [50.1109, 1.3521, -33.8688, 38.9519, -23.5505],
            "lon_deg": [8.6821, 103.8198, 151.2093, -77.4480, -46.6333],
            "provider": ["x"] * 5,
        }
    )


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    m = L.load_measurements()
    train, test = L.holdout_split(m)
    return {
        "train": train,
        "test": test,
        "distance": L.fit_distance_model(train),
        "route": L.fit_route_model(train),
    }


# -- the function -----------------------------------------------------------------------------


def test_fiber_speed_is_c_over_group_index() -> None:
    assert pytest.approx(204.2183, abs=1e-4) == L.FIBER_KM_PER_MS


def test_rtt_ms_formula() -> None:
    # 1000 km, inflation 1.5: 2 * 1500 km / 204.218 km/ms = 14.6902 ms, plus 10 ms fixed.
    assert float(L.rtt_ms(1000.0, access_ms=10.0, inflation=1.5)) == pytest.approx(
        24.6902, abs=1e-4
    )
    out = L.rtt_ms([0.0, 204.2183], access_ms=0.0, inflation=1.0, hops=[0, 3], hop_ms=2.0)
    np.testing.assert_allclose(out, [0.0, 2.0 + 6.0], atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"access_ms": -1.0, "inflation": 1.2}, "access_ms"),
        ({"access_ms": 1.0, "inflation": 0.9}, "inflation"),
        ({"access_ms": 1.0, "inflation": 1.2, "fiber_km_per_ms": -200.0}, "fiber_km_per_ms"),
        ({"access_ms": 1.0, "inflation": 1.2, "fiber_km_per_ms": 0.0}, "fiber_km_per_ms"),
        ({"access_ms": 1.0, "inflation": 1.2, "hop_ms": -0.5}, "hop_ms"),
        ({"access_ms": float("nan"), "inflation": 1.2}, "access_ms"),
    ],
)
def test_rtt_ms_rejects_bad_parameters(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        L.rtt_ms(100.0, **kwargs)
    assert err.value.field == field
    assert field in str(err.value)


def test_rtt_ms_rejects_negative_distance() -> None:
    with pytest.raises(ValidationError, match="distance_km"):
        L.rtt_ms([10.0, -1.0], access_ms=1.0, inflation=1.2)


def test_model_constructor_validates() -> None:
    with pytest.raises(ValidationError, match="inflation"):
        L.DistanceLatencyModel(inflation=0.5)
    with pytest.raises(ValidationError, match="hop_ms"):
        L.RouteLatencyModel(hop_ms=-1.0)


# -- tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [L.DistanceLatencyModel(), L.RouteLatencyModel()], ids=repr)
def test_table_contract(model: L.LatencyModel, demand: pd.DataFrame, sites: pd.DataFrame) -> None:
    t = model.table(demand, sites)
    assert list(t.columns) == ["demand_id", "site_id", "distance_km", "latency_ms"]
    assert len(t) == 20
    assert list(t["demand_id"].unique()) == ["london", "singapore", "sydney", "newyork"]
    assert list(t["site_id"].iloc[:5]) == ["fra", "sin", "syd", "iad", "gru"]
    row = t[(t.demand_id == "london") & (t.site_id == "fra")].iloc[0]
    assert row.distance_km == pytest.approx(float(haversine_km(51.5074, -0.1278, 50.1109, 8.6821)))
    assert (t["latency_ms"] >= model.access_ms).all()
    # Deterministic.
    pd.testing.assert_frame_equal(t, model.table(demand, sites))


def test_distance_table_values(demand: pd.DataFrame, sites: pd.DataFrame) -> None:
    m = L.DistanceLatencyModel(access_ms=4.0, inflation=1.5)
    t = m.table(demand, sites)
    expect = L.rtt_ms(t["distance_km"], access_ms=4.0, inflation=1.5)
    np.testing.assert_allclose(t["latency_ms"], expect)


def test_pruning(demand: pd.DataFrame, sites: pd.DataFrame) -> None:
    m = L.RouteLatencyModel()
    full = m.table(demand, sites)
    k1 = m.table(demand, sites, k_nearest=1)
    assert dict(zip(k1.demand_id, k1.site_id, strict=True)) == {
        "london": "fra",
        "singapore": "sin",
        "sydney": "syd",
        "newyork": "iad",
    }
    capped = m.table(demand, sites, max_latency_ms=100.0)
    assert (capped["latency_ms"] <= 100.0).all()
    assert len(capped) == int((full["latency_ms"] <= 100.0).sum())
    both = m.table(demand, sites, max_latency_ms=100.0, k_nearest=2)
    assert len(both) <= 8
    assert (both["latency_ms"] <= 100.0).all()
    with pytest.raises(ValidationError, match="k_nearest"):
        m.table(demand, sites, k_nearest=0)
    with pytest.raises(ValidationError, match="max_latency_ms"):
        m.table(demand, sites, max_latency_ms=-5)


def test_inputs_are_validated(demand: pd.DataFrame, sites: pd.DataFrame) -> None:
    bad = sites.copy()
    bad.loc[1, "lat_deg"] = 123.0
    with pytest.raises(ValidationError) as err:
        L.DistanceLatencyModel().table(demand, bad)
    assert err.value.table == "sites" and err.value.row == "sin"


def test_route_model_follows_cables(demand: pd.DataFrame, sites: pd.DataFrame) -> None:
    m = L.RouteLatencyModel()
    ex = m.explain(demand, sites)
    sg_fra = ex[(ex.demand_id == "singapore") & (ex.site_id == "fra")].iloc[0]
    # Singapore -> Europe goes west through the Indian Ocean, the Red Sea and Egypt.
    assert "singapore" in sg_fra.route and "suez" in sg_fra.route and "mumbai" in sg_fra.route
    assert sg_fra.path_km > 1.2 * sg_fra.distance_km
    np.testing.assert_allclose(
        ex["fixed_ms"] + ex["hop_delay_ms"] + ex["propagation_ms"], ex["latency_ms"]
    )
    assert (ex["path_km"] >= ex["distance_km"] - 1e-6).all()
    # Same point on both sides: joined directly, fixed delay only.
    same = pd.DataFrame({"demand_id": ["a"], "lat": [1.3521], "lon": [103.8198], "weight": [1.0]})
    t = m.explain(same, sites.iloc[[1]])
    assert t.loc[0, "hops"] == 0 and t.loc[0, "latency_ms"] == pytest.approx(m.access_ms)


def test_route_model_fast_on_large_inputs() -> None:
    import time

    rng = np.random.default_rng(1)
    n, k = 6000, 300
    d = pd.DataFrame(
        {
            "demand_id": np.arange(n).astype(str),
            "lat": rng.uniform(-60, 70, n),
            "lon": rng.uniform(-180, 180, n),
            "weight": 1.0,
        }
    )
    s = pd.DataFrame(
        {
            "site_id": np.arange(k).astype(str),
            "lat": rng.uniform(-60, 70, k),
            "lon": rng.uniform(-180, 180, k),
        }
    )
    t0 = time.perf_counter()
    t = L.RouteLatencyModel().table(d, s, k_nearest=5)
    assert time.perf_counter() - t0 < 10.0
    assert len(t) == n * 5


# -- measured tables ---------------------------------------------------------------------------


def test_measured_overrides_and_requires_every_pair(
    demand: pd.DataFrame, sites: pd.DataFrame
) -> None:
    d, s = demand.iloc[:2], sites.iloc[:2]
    rows = pd.DataFrame(
        {
            "demand_id": ["london", "london", "singapore", "singapore"],
            "site_id": ["fra", "sin", "fra", "sin"],
            "latency_ms": [12.5, 170.0, 160.0, 2.0],
        }
    )
    t = L.MeasuredLatency(rows).table(d, s)
    assert list(t["latency_ms"]) == [12.5, 170.0, 160.0, 2.0]
    assert t.loc[0, "distance_km"] == pytest.approx(
        float(haversine_km(51.5074, -0.1278, 50.1109, 8.6821))
    )
    k1 = L.MeasuredLatency(rows).table(d, s, k_nearest=1)
    assert list(k1["site_id"]) == ["fra", "sin"]
    with pytest.raises(ValidationError, match="london -> fra"):
        L.MeasuredLatency(rows.iloc[1:]).table(d, s)
    fb = L.MeasuredLatency(rows.iloc[1:], fallback=L.DistanceLatencyModel()).table(d, s)
    expect = L.DistanceLatencyModel().table(d, s)["latency_ms"].iloc[0]
    assert fb["latency_ms"].iloc[0] == pytest.approx(expect)
    assert list(fb["latency_ms"].iloc[1:]) == [170.0, 160.0, 2.0]


@pytest.mark.parametrize("value", [-3.0, float("nan")])
def test_measured_rejects_bad_values_naming_the_row(value: float) -> None:
    rows = pd.DataFrame(
        {"demand_id": ["a", "b"], "site_id": ["x", "x"], "latency_ms": [5.0, value]}
    )
    with pytest.raises(ValidationError) as err:
        L.MeasuredLatency(rows)
    assert err.value.row == "b -> x" and err.value.field == "latency_ms"


# -- calibration --------------------------------------------------------------------------------


def test_measured_data_shape() -> None:
    m = L.load_measurements()
    assert list(m.columns) == L.MEASURED_COLUMNS
    assert len(m) == 2350 and set(m["source"]) == {"azure"}
    assert m["rtt_ms"].between(1, 400).all()


def test_holdout_split_holds_out_whole_locations(fitted: dict[str, object]) -> None:
    train, test = fitted["train"], fitted["test"]
    assert (len(train), len(test)) == (1600, 750)
    train_names = set(train.a_name) | set(train.b_name)
    held = (set(test.a_name) | set(test.b_name)) - train_names
    assert held  # some locations are never seen in training
    assert (test.a_name.isin(held) | test.b_name.isin(held)).all()
    # Co-located regions share a fate (Australia Central and Central 2 are at one coordinate).
    assert ("Australia Central" in train_names) == ("Australia Central 2" in train_names)


def test_fit_reproduces_shipped_defaults(fitted: dict[str, object]) -> None:
    d, r = fitted["distance"], fitted["route"]
    assert d.access_ms == pytest.approx(L.DISTANCE_FIT["access_ms"], rel=1e-3)
    assert d.inflation == pytest.approx(L.DISTANCE_FIT["inflation"], rel=1e-4)
    assert r.access_ms == pytest.approx(L.ROUTE_FIT["access_ms"], rel=1e-3)
    assert r.inflation == pytest.approx(L.ROUTE_FIT["inflation"], rel=1e-4)
    assert r.hop_ms == pytest.approx(L.ROUTE_FIT["hop_ms"], rel=1e-3)
    assert 1.0 < r.inflation < d.inflation  # routes explain part of the detour


def test_holdout_errors_below_thresholds(fitted: dict[str, object]) -> None:
    test = fitted["test"]
    e_d = L.evaluate(fitted["distance"], test)
    e_r = L.evaluate(fitted["route"], test)
    assert np.median(e_d) <= DISTANCE_MAX_MEDIAN_PCT
    assert np.percentile(e_d, 90) <= DISTANCE_MAX_P90_PCT
    assert np.median(e_r) <= ROUTE_MAX_MEDIAN_PCT
    assert np.percentile(e_r, 90) <= ROUTE_MAX_P90_PCT
    assert np.median(e_r) < 0.6 * np.median(e_d)


def test_default_model_is_the_calibrated_route_model() -> None:
    # Users' access on top (tests/test_latency_access.py), over the calibrated route model.
    m = L.default_model().backbone
    assert isinstance(m, L.RouteLatencyModel)
    assert m.inflation == L.ROUTE_FIT["inflation"]


def test_fit_script_holdout_table() -> None:
    mod = load_script("fit_latency")
    t = mod.holdout_table()
    assert list(t["model"]) == ["distance", "route"]
    assert list(t.columns) == [
        "model",
        "n_train",
        "n_test",
        "median_abs_pct_error",
        "p90_abs_pct_error",
    ]
    assert t["median_abs_pct_error"].iloc[1] <= ROUTE_MAX_MEDIAN_PCT
    assert t["p90_abs_pct_error"].iloc[1] <= ROUTE_MAX_P90_PCT


def test_backbone_is_connected_and_cited() -> None:
    bb = L.Backbone.shipped()
    km, _, _ = bb.all_pairs()
    assert np.isfinite(km).all()
    assert set(bb.edges["kind"]) == {"terrestrial", "submarine"}
    assert bb.edges["system"].str.len().gt(0).all()
    assert (bb.edge_km > 0).all()

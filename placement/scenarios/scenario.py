"""Scenarios: named sets of overrides on a base :class:`~placement.problem.Problem`.

A :class:`Scenario` is data (write it in Python or TOML) and :meth:`Scenario.apply` is pure: it
returns a new Problem and never mutates the base. A scenario file looks like::

    name = "power-shock"
    description = "Electricity +30 % in Virginia and Ireland"
    providers = ["aws", "gcp"]          # keep only these providers' sites
    remove_sites = ["aws:eu-west-1"]

    [problem]                           # any keyword argument of Problem (SLA, N, redundancy, …)
    n_sites = 6
    max_latency_ms = 80

    [costs]                             # CostModel fields, e.g. the carbon price
    carbon_price_usd_per_tonne = 100

    [[power_price]]                     # one rule per table; exactly one of site_id, country,
    subdivision = "US-VA"               # subdivision, provider (none: every site), and one of
    multiply = 1.3                      # multiply, set_usd_per_kwh

    [[add_site]]                        # a hypothetical region by catalog city name …
    city = "Calgary"
    country = "CA"
    provider = "gcp"

    [[add_site]]                        # … or by coordinates
    site_id = "new:somewhere"
    lat_deg = 51.0
    lon_deg = -114.0
    country = "CA"

    [[demand_growth]]                   # weight multiplier; exactly one of country, continent
    country = "CA"
    multiply = 1.25

Rules apply in this order: provider restriction, removals, additions, power prices, demand growth,
cost-model overrides, Problem overrides.

**Added sites.** The new site gets the coordinates of the named catalog city (the most populous
match, within ``country`` when given) or the coordinates given. Its electricity price and grid
carbon intensity are looked up in the catalog tables for its subdivision (US states and
Canadian provinces, from the cities table) and then its country; its monthly temperatures come
from its own location (:func:`placement.catalog.climate_at`: the nearest station or grid point),
then its subdivision and country, exactly as :func:`placement.catalog.sites` does for real
regions. Every other column (``kind``,
``political_stability_*``, ``nearest_hub``, …; ``provider`` unless given) is copied from the
nearest existing site *in the same country*; when the base has no site in that country these
columns are left missing (NaN), and a cost model that needs them then says so.

**Latency of added sites.** When the base latency is a model (or the default), the model computes
the new pairs. When it is a DataFrame, the new pairs are estimated from a least-squares line of the
base table's latency on great-circle distance (``latency_ms = a + b × distance_km``), fitted on the
base pairs; pairs of removed sites are dropped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placement import geo
from placement.errors import ValidationError
from placement.problem import Problem
from placement.scenarios._problem import PROBLEM_KEYS, check_problem_keys

__all__ = ["DemandGrowth", "NewSite", "PriceRule", "Scenario"]

_PRICE_SCOPES = {
    "site_id": "site_id",
    "country": "country_code",
    "subdivision": "subdivision_code",
    "provider": "provider",
}
_GROWTH_SCOPES = {"country": "country_code", "continent": "continent", "demand_id": "demand_id"}


def _err(where: str, message: str, fld: str | None = None, value: object = None) -> ValidationError:
    return ValidationError(message, table=where, field=fld, value=value)


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _err(
            where,
            f"unknown key(s): {', '.join(unknown)}; expected some of {', '.join(sorted(allowed))}",
            unknown[0],
        )


def _positive(value: Any, where: str, fld: str, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool):
        raise _err(where, "must be a number", fld, value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _err(where, "must be a number", fld, value) from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise _err(where, "must be a finite number >= 0", fld, value)
    return v


def _one_scope(data: Mapping[str, Any], scopes: Iterable[str], where: str) -> tuple[str, str]:
    given = [k for k in scopes if data.get(k) is not None]
    if len(given) > 1:
        raise _err(where, f"give at most one of {', '.join(scopes)}", given[1])
    if not given:
        return "all", ""
    value = data[given[0]]
    if not isinstance(value, str) or not value:
        raise _err(where, "must be a non-empty string", given[0], value)
    return given[0], value


@dataclass(frozen=True)
class PriceRule:
    """Change the electricity price of the sites matching one scope.

    Parameters
    ----------
    scope : {"all", "site_id", "country", "subdivision", "provider"}
        What ``value`` matches (``country``: ISO-2 ``country_code``; ``subdivision``: ISO 3166-2
        ``subdivision_code`` such as ``US-VA``).
    value : str
        The site id, code or provider name ("" for ``all``).
    multiply : float, optional
        Multiply the matching sites' ``price_usd_per_kwh`` by this factor.
    set_usd_per_kwh : float, optional
        Or set it to this price.
    """

    scope: str = "all"
    value: str = ""
    multiply: float | None = None
    set_usd_per_kwh: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "power_price") -> PriceRule:
        """Build from ``{"subdivision": "US-VA", "multiply": 1.3}`` and the like."""
        if isinstance(data, PriceRule):
            return data
        if not isinstance(data, Mapping):
            raise _err(where, "must be a table/dict", value=data)
        _check_keys(data, [*_PRICE_SCOPES, "multiply", "set_usd_per_kwh"], where)
        scope, value = _one_scope(data, list(_PRICE_SCOPES), where)
        return cls(scope, value, data.get("multiply"), data.get("set_usd_per_kwh"))

    def __post_init__(self) -> None:
        where = "power_price"
        if self.scope not in ("all", *_PRICE_SCOPES):
            raise _err(where, f"unknown scope; use one of all, {', '.join(_PRICE_SCOPES)}", "scope")
        if (self.multiply is None) == (self.set_usd_per_kwh is None):
            raise _err(where, "give exactly one of multiply, set_usd_per_kwh", "multiply")
        if self.multiply is not None:
            object.__setattr__(self, "multiply", _positive(self.multiply, where, "multiply"))
        if self.set_usd_per_kwh is not None:
            v = _positive(self.set_usd_per_kwh, where, "set_usd_per_kwh")
            object.__setattr__(self, "set_usd_per_kwh", v)

    def mask(self, sites: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the sites this rule matches (error when it matches none)."""
        if self.scope == "all":
            return np.ones(len(sites), dtype=bool)
        col = _PRICE_SCOPES[self.scope]
        if col not in sites.columns:
            raise _err("power_price", f"the sites table has no {col} column", self.scope)
        hit = (sites[col].astype("string").str.upper() == self.value.upper()).fillna(False)
        hit = hit.to_numpy(dtype=bool)
        if not hit.any():
            raise _err("power_price", f"no site has {col} = {self.value!r}", self.scope, self.value)
        return hit


@dataclass(frozen=True)
class DemandGrowth:
    """Multiply the weight of the demand points in one country or continent (or all)."""

    scope: str = "all"
    value: str = ""
    multiply: float = 1.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "demand_growth") -> DemandGrowth:
        """Build from ``{"country": "CA", "multiply": 1.25}`` and the like."""
        if isinstance(data, DemandGrowth):
            return data
        if not isinstance(data, Mapping):
            raise _err(where, "must be a table/dict", value=data)
        _check_keys(data, [*_GROWTH_SCOPES, "multiply"], where)
        if "multiply" not in data:
            raise _err(where, "multiply is required", "multiply")
        scope, value = _one_scope(data, list(_GROWTH_SCOPES), where)
        return cls(scope, value, data["multiply"])

    def __post_init__(self) -> None:
        if self.scope not in ("all", *_GROWTH_SCOPES):
            raise _err("demand_growth", "unknown scope", "scope", self.scope)
        object.__setattr__(self, "multiply", _positive(self.multiply, "demand_growth", "multiply"))

    def mask(self, demand: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the demand points this rule matches (error when it matches none)."""
        if self.scope == "all":
            return np.ones(len(demand), dtype=bool)
        col = _GROWTH_SCOPES[self.scope]
        if col not in demand.columns:
            raise _err("demand_growth", f"the demand table has no {col} column", self.scope)
        hit = (demand[col].astype("string").str.upper() == self.value.upper()).fillna(False)
        hit = hit.to_numpy(dtype=bool)
        if not hit.any():
            raise _err(
                "demand_growth",
                f"no demand point has {col} = {self.value!r}",
                self.scope,
                self.value,
            )
        return hit


_NEW_SITE_KEYS = (
    "site_id",
    "city",
    "country",
    "lat_deg",
    "lon_deg",
    "provider",
    "display_name",
    "copy_attributes",
)


@dataclass(frozen=True)
class NewSite:
    """A hypothetical site: by catalog city name or by coordinates (see the module docstring).

    Parameters
    ----------
    site_id : str, optional
        Default ``"new:<city>"`` (lower case, spaces as dashes).
    city : str, optional
        A place name of :func:`placement.catalog.cities` (case-insensitive; the most populous
        match, within ``country`` when given).
    country : str, optional
        ISO-2 country code (required with coordinates to copy attributes).
    lat_deg, lon_deg : float, optional
        Coordinates, instead of ``city``.
    provider : str, optional
        Provider name; default: that of the nearest same-country site.
    display_name : str, optional
        Label for reports.
    copy_attributes : bool
        Copy the descriptive columns of the nearest same-country site (default True).
    """

    site_id: str | None = None
    city: str | None = None
    country: str | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    provider: str | None = None
    display_name: str | None = None
    copy_attributes: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "add_site") -> NewSite:
        """Build from ``{"city": "Calgary", "country": "CA"}`` and the like."""
        if isinstance(data, NewSite):
            return data
        if not isinstance(data, Mapping):
            raise _err(where, "must be a table/dict", value=data)
        data = {
            ("lat_deg" if k == "lat" else "lon_deg" if k == "lon" else k): v
            for k, v in data.items()
        }
        _check_keys(data, _NEW_SITE_KEYS, where)
        return cls(**data)

    def __post_init__(self) -> None:
        where = "add_site"
        has_xy = self.lat_deg is not None or self.lon_deg is not None
        if (self.city is None) == (not has_xy):
            raise _err(where, "give either city or lat_deg and lon_deg", "city", self.city)
        if has_xy:
            if self.lat_deg is None or self.lon_deg is None:
                raise _err(where, "give both lat_deg and lon_deg", "lat_deg")
            for name, lim in (("lat_deg", 90.0), ("lon_deg", 180.0)):
                v = getattr(self, name)
                if isinstance(v, bool) or not isinstance(v, int | float) or not abs(v) <= lim:
                    raise _err(where, f"must be a number in [-{lim:g}, {lim:g}]", name, v)
            if self.site_id is None:
                raise _err(where, "a site given by coordinates needs a site_id", "site_id")
        for name in ("site_id", "city", "country", "provider", "display_name"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v.strip()):
                raise _err(where, "must be a non-empty string", name, v)

    def resolve(self, sites: pd.DataFrame) -> dict[str, Any]:
        """The new site's row (a dict of column values) given the existing sites."""
        from placement import catalog

        where = "add_site"
        subdivision = None
        country = self.country.upper() if self.country else None
        if self.city is not None:
            cities = catalog.cities()
            hit = cities[cities["name"].str.casefold() == self.city.casefold()]
            if country is not None:
                hit = hit[hit["country_code"] == country]
            if len(hit) == 0:
                raise _err(where, "no catalog city of this name", "city", self.city)
            top = hit.iloc[0]  # the table is sorted by population, descending
            lat, lon = float(top["lat_deg"]), float(top["lon_deg"])
            country = str(top["country_code"])
            sub = top["subdivision_code"]
            subdivision = None if pd.isna(sub) else str(sub)
            city = str(top["name"])
            site_id = self.site_id or "new:" + city.lower().replace(" ", "-")
        else:
            lat, lon = float(self.lat_deg), float(self.lon_deg)  # type: ignore[arg-type]
            city = None
            site_id = str(self.site_id)
        if site_id in set(sites["site_id"]):
            raise _err(where, "site id already exists", "site_id", site_id)
        row: dict[str, Any] = {c: np.nan for c in sites.columns}
        same = (
            sites[sites["country_code"].astype("string") == country]
            if country is not None and "country_code" in sites.columns
            else sites.iloc[:0]
        )
        if self.copy_attributes and len(same):
            d = geo.haversine_km(lat, lon, same["lat_deg"].to_numpy(), same["lon_deg"].to_numpy())
            row.update(same.iloc[int(np.argmin(d))].to_dict())
        row.update(
            {
                "site_id": site_id,
                "lat_deg": lat,
                "lon_deg": lon,
                "city": city,
                "country_code": country,
                "subdivision_code": subdivision,
                "display_name": self.display_name or f"{city or site_id} (hypothetical)",
                "region_code": site_id.split(":", 1)[-1],
            }
        )
        if self.provider is not None:
            row["provider"] = self.provider
        row.update(_catalog_values(country, subdivision, sites.columns, lat, lon))
        return row


def _catalog_values(
    country: str | None,
    subdivision: str | None,
    columns: Iterable[str],
    lat_deg: float,
    lon_deg: float,
) -> dict[str, Any]:
    """Price, climate and carbon for a place, as catalog.sites finds them.

    Price and carbon: subdivision level, then country. Climate: the place's own location
    (:func:`placement.catalog.climate_at`: nearest station or grid point), then subdivision,
    then country.
    """
    from placement import catalog

    out: dict[str, Any] = {}
    levels = [(c, lvl) for c, lvl in ((subdivision, "subdivision"), (country, "country")) if c]
    columns = set(columns)
    clim = catalog.climate_at(lat_deg, lon_deg, country, subdivision).iloc[0]
    for c, v in clim.items():
        if c in ("climate_level", "climate_point"):
            out[str(c)] = None if pd.isna(v) else str(v)
        else:
            out[str(c)] = float(v)
    for loader, prefix, values in (
        (catalog.power_prices, "price", ["price_usd_per_kwh"]),
        (catalog.carbon, "carbon", ["carbon_g_per_kwh"]),
    ):
        table = loader()
        cols = values or [
            c for c in table.columns if c.startswith("tmean_") or c == "cdd18_degc_days"
        ]
        found = False
        for code, level in levels:
            hit = table[table["code"] == code]
            if len(hit):
                for c in cols:
                    out[c] = float(hit.iloc[0][c])
                out[f"{prefix}_level"] = level
                if "year" in hit.columns:
                    out[f"{prefix}_year"] = int(hit.iloc[0]["year"])
                found = True
                break
        if not found:
            out.update({c: np.nan for c in cols})
            out[f"{prefix}_level"] = None
            out[f"{prefix}_year"] = None
    return {k: v for k, v in out.items() if k in columns or k == "price_usd_per_kwh"}


def _fit_distance_model(
    table: pd.DataFrame, sites: pd.DataFrame, demand: pd.DataFrame
) -> tuple[float, float]:
    s = sites.set_index("site_id")
    d = demand.set_index("demand_id")
    km = geo.haversine_km(
        d.loc[table["demand_id"], "lat_deg"].to_numpy(),
        d.loc[table["demand_id"], "lon_deg"].to_numpy(),
        s.loc[table["site_id"], "lat_deg"].to_numpy(),
        s.loc[table["site_id"], "lon_deg"].to_numpy(),
    )
    slope, intercept = np.polyfit(km, table["latency_ms"].to_numpy(dtype=float), 1)
    return float(intercept), float(slope)


@dataclass(frozen=True)
class Scenario:
    """A named set of overrides on a base Problem (see the module docstring for the file form).

    Parameters
    ----------
    name : str
        Label (carried into the Result).
    description : str
        One line for reports.
    problem : mapping
        Problem keyword arguments to override (``n_sites``, ``max_latency_ms``, ``redundancy``,
        ``objective``, ``forbidden``, …).
    costs : mapping
        :class:`~placement.costs.CostModel` fields to override (e.g.
        ``carbon_price_usd_per_tonne``); a base without a cost model gets ``CostModel(**costs)``.
    power_prices : sequence of PriceRule or dict
        Electricity price changes, applied in order.
    add_sites : sequence of NewSite or dict
        Hypothetical sites.
    remove_sites : sequence of str
        Site ids to drop from the candidates.
    demand_growth : sequence of DemandGrowth or dict
        Demand weight multipliers, applied in order.
    providers : sequence of str, optional
        Keep only the sites of these providers (added sites included).
    """

    name: str
    description: str = ""
    problem: Mapping[str, Any] = field(default_factory=dict)
    costs: Mapping[str, Any] = field(default_factory=dict)
    power_prices: tuple[PriceRule, ...] = ()
    add_sites: tuple[NewSite, ...] = ()
    remove_sites: tuple[str, ...] = ()
    demand_growth: tuple[DemandGrowth, ...] = ()
    providers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise _err("scenario", "name must be a non-empty string", "name", self.name)
        if not isinstance(self.problem, Mapping):
            raise _err("scenario", "must be a mapping of Problem arguments", "problem")
        check_problem_keys(self.problem, f"scenario {self.name!r} [problem]")
        if not isinstance(self.costs, Mapping):
            raise _err("scenario", "must be a mapping of CostModel fields", "costs")
        from placement.costs import CostModel

        cost_fields = {f for f in CostModel.__dataclass_fields__ if not f.startswith("_")}
        _check_keys(self.costs, cost_fields, f"scenario {self.name!r} [costs]")
        set_ = object.__setattr__
        set_(self, "problem", dict(self.problem))
        set_(self, "costs", dict(self.costs))
        set_(self, "power_prices", tuple(PriceRule.from_dict(r) for r in self.power_prices))
        set_(self, "add_sites", tuple(NewSite.from_dict(r) for r in self.add_sites))
        set_(self, "demand_growth", tuple(DemandGrowth.from_dict(r) for r in self.demand_growth))
        if isinstance(self.remove_sites, str):
            set_(self, "remove_sites", (self.remove_sites,))
        set_(self, "remove_sites", tuple(str(s) for s in self.remove_sites))
        if self.providers is not None:
            provs = (self.providers,) if isinstance(self.providers, str) else self.providers
            set_(self, "providers", tuple(str(p) for p in provs))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, default_name: str = "") -> Scenario:
        """Build from the dict form of a scenario file (unknown keys raise, naming them)."""
        if not isinstance(data, Mapping):
            raise _err("scenario", "must be a table/dict", value=data)
        keys = {
            "name": "name",
            "description": "description",
            "problem": "problem",
            "costs": "costs",
            "power_price": "power_prices",
            "power_prices": "power_prices",
            "add_site": "add_sites",
            "add_sites": "add_sites",
            "remove_sites": "remove_sites",
            "demand_growth": "demand_growth",
            "providers": "providers",
        }
        where = f"scenario {data.get('name', default_name)!r}"
        _check_keys(data, keys, where)
        kwargs: dict[str, Any] = {keys[k]: v for k, v in data.items()}
        kwargs.setdefault("name", default_name)
        for k in ("power_prices", "add_sites", "demand_growth", "remove_sites"):
            if k in kwargs and not isinstance(kwargs[k], list | tuple | str):
                raise _err(where, "must be a list (an array of tables in TOML)", k)
        return cls(**kwargs)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read a scenario file (parsed as data only with :mod:`tomllib`); name defaults to the stem."""
        from placement.config import read_toml

        raw = read_toml(path)
        return cls.from_dict(raw, default_name=Path(path).stem)

    # ------------------------------------------------------------------ application
    def apply(self, base: Problem) -> Problem:
        """A new Problem with this scenario's overrides; ``base`` is not modified.

        Raises
        ------
        ValidationError
            When an override does not fit the base (a rule matching nothing, an unknown site id)
            or the resulting Problem is invalid.
        """
        sites = base.sites
        demand = base.demand.copy()  # demand growth writes into it
        where = f"scenario {self.name!r}"
        if self.providers is not None:
            if "provider" not in sites.columns:
                raise _err(where, "the sites table has no provider column", "providers")
            keep = sites["provider"].astype(str).isin(self.providers)
            if not keep.any():
                raise _err(where, "no site of these providers", "providers", self.providers)
            sites = sites[keep.to_numpy()]
        if self.remove_sites:
            unknown = sorted(set(self.remove_sites) - set(sites["site_id"]))
            if unknown:
                raise _err(where, f"unknown site id(s): {', '.join(unknown)}", "remove_sites")
            sites = sites[~sites["site_id"].isin(self.remove_sites).to_numpy()]
        added = [ns.resolve(sites) for ns in self.add_sites]
        if added:
            new = pd.DataFrame(added)
            sites = pd.concat([sites, new[[c for c in new.columns]]], ignore_index=True)
            if self.providers is not None and "provider" in sites.columns:
                sites = sites[sites["provider"].astype(str).isin(self.providers).to_numpy()]
        sites = sites.reset_index(drop=True)
        if self.power_prices:
            if "price_usd_per_kwh" not in sites.columns:
                raise _err(where, "the sites table has no price_usd_per_kwh column", "power_price")
            price = np.array(pd.to_numeric(sites["price_usd_per_kwh"], errors="coerce"), float)
            for rule in self.power_prices:
                m = rule.mask(sites)
                if rule.multiply is not None:
                    price[m] = price[m] * rule.multiply
                else:
                    price[m] = rule.set_usd_per_kwh
            sites["price_usd_per_kwh"] = price
        if self.demand_growth:
            weight = demand["weight"].to_numpy(dtype=float).copy()
            for g in self.demand_growth:
                weight[g.mask(demand)] *= g.multiply
            demand["weight"] = weight
        latency = base.latency
        if isinstance(latency, pd.DataFrame):
            latency = self._latency_frame(
                latency, base, sites, demand, [r["site_id"] for r in added]
            )
        cost_model = base.cost_model
        if self.costs:
            from placement.costs import CostModel

            cost_model = (
                CostModel(**self.costs) if cost_model is None else replace(cost_model, **self.costs)
            )
        return base.replace(
            sites=sites,
            demand=demand,
            latency=latency,
            cost_model=cost_model,
            **{**self.problem, "name": self.name},
        )

    def _latency_frame(
        self,
        table: pd.DataFrame,
        base: Problem,
        sites: pd.DataFrame,
        demand: pd.DataFrame,
        new_ids: list[str],
    ) -> pd.DataFrame:
        out = table[table["site_id"].astype(str).isin(set(sites["site_id"]))]
        if not new_ids:
            return out.reset_index(drop=True)
        intercept, slope = _fit_distance_model(table, base.sites, base.demand)
        new = sites[sites["site_id"].isin(new_ids)]
        km = geo.distance_matrix_km(
            demand["lat_deg"], demand["lon_deg"], new["lat_deg"], new["lon_deg"]
        )
        ii, jj = np.indices(km.shape)
        extra = pd.DataFrame(
            {
                "demand_id": demand["demand_id"].to_numpy()[ii.ravel()],
                "site_id": new["site_id"].to_numpy()[jj.ravel()],
                "latency_ms": intercept + slope * km.ravel(),
            }
        )
        if "distance_km" in out.columns:
            extra["distance_km"] = km.ravel()
        return pd.concat([out, extra], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """The dict form (as read by :meth:`from_dict`)."""

        def clean(obj: Any) -> dict[str, Any]:
            d = {k: v for k, v in obj.__dict__.items() if v is not None}
            return d

        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.problem:
            out["problem"] = dict(self.problem)
        if self.costs:
            out["costs"] = dict(self.costs)
        if self.power_prices:
            rules = []
            for r in self.power_prices:
                d = {} if r.scope == "all" else {r.scope: r.value}
                d.update(
                    {
                        k: v
                        for k, v in (
                            ("multiply", r.multiply),
                            ("set_usd_per_kwh", r.set_usd_per_kwh),
                        )
                        if v is not None
                    }
                )
                rules.append(d)
            out["power_price"] = rules
        if self.add_sites:
            out["add_site"] = [clean(s) for s in self.add_sites]
        if self.remove_sites:
            out["remove_sites"] = list(self.remove_sites)
        if self.demand_growth:
            out["demand_growth"] = [
                ({} if g.scope == "all" else {g.scope: g.value}) | {"multiply": g.multiply}
                for g in self.demand_growth
            ]
        if self.providers is not None:
            out["providers"] = list(self.providers)
        return out


#: Problem keyword arguments a scenario's ``problem`` table may set.
SCENARIO_PROBLEM_KEYS = PROBLEM_KEYS

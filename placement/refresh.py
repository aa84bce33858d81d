"""Refresh catalog tables from their public sources into a user cache, safely.

The shipped snapshot in ``data/`` is never modified. :func:`refresh` downloads the current upstream
version of a table, converts it to the shipped schema, validates it (schema, value ranges, row count
within ``0.5×``–``2×`` of the shipped snapshot) and only then atomically replaces the copy in the
cache folder, recording the URL, the UTC time, the size and the sha256 in ``manifest.json`` beside
it (also written atomically). Any failure — network, HTTP status, size cap, host not allowed,
malformed or implausible data — leaves the cache exactly as it was and is reported as
``RefreshReport(status="failed", reason=...)``; network problems never raise.

Loaders use a cached copy only on request: ``placement.catalog.regions(source="cache")``,
``sites(source="cache")``, ``carbon(source="cache")`` and, for the compute list prices
(``compute_prices_aws``, ``compute_prices_gcp``, ``compute_prices_azure``: the Azure Retail Prices
API, and the SkyPilot catalog's public copies of the AWS and Google price lists; Google's own
Cloud Billing Catalog API needs an API key), ``placement.costs.compute_prices(source="cache")``
(``CostModel(compute_price_source="cache")``). A cached file whose sha256 does not match
its manifest entry is ignored. The table returned says which copy it came from in
``df.attrs["source"]`` (``"shipped"`` or ``"cache"``) and ``df.attrs["vintage"]``.

Cache folder: the ``cache_dir`` argument, else ``$PLACEMENT_CACHE_DIR``, else
``$XDG_CACHE_HOME/placement``, else ``~/.cache/placement`` (``%LOCALAPPDATA%\\placement\\Cache`` on
Windows).

Security: https only (plain http only to ``127.0.0.1``/``localhost`` with
``allow_insecure_localhost=True``, for tests); the host of the initial URL and of every redirect
must be in ``allow_hosts`` (redirects are followed by hand, at most :data:`MAX_REDIRECTS`); the body
is streamed and the download stops as soon as it exceeds ``max_bytes``; payloads are parsed as data
(``json``/``csv``), never executed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import numpy as np
import pandas as pd

from placement import catalog
from placement._io import atomic_write_bytes, atomic_write_text
from placement._resources import data_file
from placement.cache import (
    MANIFEST,
    cached_table_path,
    default_cache_dir,
    read_manifest,
)
from placement.cache import cache_folder as _cache
from placement.errors import ValidationError, reject_rows

__all__ = [
    "DEFAULT_ALLOWED_HOSTS",
    "MAX_REDIRECTS",
    "SOURCES",
    "RefreshError",
    "RefreshReport",
    "TableSource",
    "cached_table_path",
    "default_cache_dir",
    "read_manifest",
    "refresh",
    "report_dict",
    "status",
]

#: Hosts a refresh may download from (initial URL and every redirect).
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("raw.githubusercontent.com", "prices.azure.com")
#: Redirects followed before giving up.
MAX_REDIRECTS = 5
#: Pages of a paged API (Azure Retail Prices) followed before giving up.
MAX_PAGES = 50
#: Default cap on a downloaded payload (bytes).
DEFAULT_MAX_BYTES = 5_000_000
#: Accepted row count of a refreshed table relative to the shipped snapshot.
ROW_RATIO_BOUNDS = (0.5, 2.0)
_LOCAL_HOSTS = ("127.0.0.1", "localhost")
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class RefreshError(Exception):
    """A refresh step failed; ``retry`` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class TableSource:
    """Where a refreshable table comes from and how to turn the payload into the shipped schema.

    Parameters
    ----------
    name : str
        Table name (``"sites"``, ``"carbon"``); the cached file is ``<name>.csv``.
    url : str
        Default download URL.
    file : str
        Shipped file name in ``data/`` (same schema as the cached copy).
    convert : callable
        ``convert(payload_bytes) -> (DataFrame in the shipped schema, vintage str, n_upstream_rows)``;
        raises :class:`~placement.errors.ValidationError` on malformed data.
    shipped_rows : callable
        ``shipped_rows(shipped_df) -> int``: rows of the shipped snapshot comparable to
        ``n_upstream_rows`` (for the row-count sanity bounds).
    row_bounds : (float, float)
        Accepted ``n_upstream_rows`` relative to ``shipped_rows`` (default
        :data:`ROW_RATIO_BOUNDS`; wider where the snapshot covers only part of the upstream).
    next_page : callable, optional
        ``next_page(page_bytes) -> url or None`` for paged APIs: each page's next link is
        followed (same host checks), at most :data:`MAX_PAGES` pages, and ``convert`` receives
        the pages as one JSON array ``[page1, page2, ...]``.
    validate : callable, optional
        ``validate(path) -> DataFrame``: the loader's own validation of a candidate file
        (default: the catalog loader of the table).
    """

    name: str
    url: str
    file: str
    convert: Callable[[bytes], tuple[pd.DataFrame, str, int]]
    shipped_rows: Callable[[pd.DataFrame], int]
    row_bounds: tuple[float, float] = ROW_RATIO_BOUNDS
    next_page: Callable[[bytes], str | None] | None = None
    validate: Callable[[Path], pd.DataFrame] | None = None


@dataclass
class RefreshReport:
    """Outcome of refreshing one table.

    Attributes
    ----------
    table : str
        Table name.
    status : {"updated", "unchanged", "failed"}
        ``unchanged``: the download was valid and identical to the cached copy.
    reason : str
        Why it failed (empty on success).
    url : str
        URL requested (after a failure) or the final URL (after redirects) it came from.
    path : str
        Cached file (empty on failure).
    sha256 : str
        sha256 of the cached CSV (empty on failure).
    bytes : int
        Size of the downloaded payload.
    rows : int
        Rows of the cached table.
    retrieved_utc : str
        UTC ISO time of the download.
    attempts : int
        HTTP attempts made.
    """

    table: str
    status: str
    reason: str = ""
    url: str = ""
    path: str = ""
    sha256: str = ""
    bytes: int = 0
    rows: int = 0
    retrieved_utc: str = ""
    attempts: int = 0
    payload_sha256: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        """True unless the refresh failed."""
        return self.status != "failed"


def status(cache_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Which refreshable tables are cached, their vintage, download time and sha256.

    Returns
    -------
    list of dict
        One per table in :data:`SOURCES`: ``table``, ``cached`` (bool), ``valid`` (sha256
        matches), ``vintage``, ``retrieved_utc``, ``rows``, ``sha256``, ``url``, ``path``.
    """
    folder = _cache(cache_dir)
    tables = read_manifest(folder)["tables"]
    out = []
    for name in SOURCES:
        entry = tables.get(name) if isinstance(tables.get(name), dict) else None
        path = folder / f"{name}.csv"
        cached = entry is not None and path.is_file()
        out.append(
            {
                "table": name,
                "cached": cached,
                "valid": cached_table_path(name, folder) is not None,
                "vintage": (entry or {}).get("vintage", ""),
                "retrieved_utc": (entry or {}).get("retrieved_utc", ""),
                "rows": (entry or {}).get("rows", 0),
                "sha256": (entry or {}).get("sha256", ""),
                "url": (entry or {}).get("url", ""),
                "path": str(path) if cached else "",
            }
        )
    return out


# ------------------------------------------------------------------------------------- download
def _check_url(url: str, allow_hosts: Iterable[str], allow_insecure_localhost: bool) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = {h.lower() for h in allow_hosts}
    if host not in allowed:
        raise RefreshError(
            f"host {host or '(none)'!r} is not in the allow-list ({', '.join(sorted(allowed))})"
        )
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_insecure_localhost and host in _LOCAL_HOSTS:
        return
    raise RefreshError(f"refusing {parts.scheme or 'schemeless'} URL {url!r}: https only")


def _download_once(
    session: Any,
    url: str,
    *,
    allow_hosts: Iterable[str],
    allow_insecure_localhost: bool,
    timeout_s: float,
    max_bytes: int,
) -> tuple[bytes, str]:
    import requests

    deadline = time.monotonic() + 5 * timeout_s
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url, allow_hosts, allow_insecure_localhost)
        host = urlsplit(url).hostname
        try:
            with session.get(url, stream=True, timeout=timeout_s, allow_redirects=False) as resp:
                code = resp.status_code
                if code in (301, 302, 303, 307, 308):
                    location = resp.headers.get("Location")
                    if not location:
                        raise RefreshError(f"HTTP {code} redirect without a Location from {host}")
                    url = urljoin(url, location)
                    continue
                if code != 200:
                    raise RefreshError(
                        f"HTTP {code} {resp.reason or ''} from {host}".rstrip(),
                        retry=code in _RETRY_STATUS,
                    )
                declared = resp.headers.get("Content-Length")
                expected = int(declared) if declared and declared.isdigit() else None
                if expected is not None and expected > max_bytes:
                    raise RefreshError(
                        f"payload too large: {expected} bytes declared, limit {max_bytes}"
                    )
                buf = bytearray()
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    buf += chunk
                    if len(buf) > max_bytes:
                        raise RefreshError(
                            f"payload too large: more than {max_bytes} bytes, download stopped"
                        )
                    if time.monotonic() > deadline:
                        raise RefreshError(
                            f"download too slow: not finished within {5 * timeout_s:g} s",
                            retry=True,
                        )
                if expected is not None and len(buf) != expected:
                    raise RefreshError(
                        f"truncated download: got {len(buf)} of {expected} bytes", retry=True
                    )
                return bytes(buf), url
        except requests.Timeout:
            raise RefreshError(
                f"timed out after {timeout_s:g} s waiting for {host}", retry=True
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise RefreshError(
                f"truncated download: connection to {host} broke mid-body ({_short(exc)})",
                retry=True,
            ) from None
        except requests.ConnectionError as exc:
            raise RefreshError(f"connection to {host} failed ({_short(exc)})", retry=True) from None
        except requests.RequestException as exc:
            raise RefreshError(f"request failed: {_short(exc)}") from None
    raise RefreshError(f"too many redirects (more than {MAX_REDIRECTS})")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


# ------------------------------------------------------------------------------------- converters
def _shipped(file: str) -> pd.DataFrame:
    return pd.read_csv(data_file(file), keep_default_na=False, na_values=[""])


def _convert_sites(payload: bytes) -> tuple[pd.DataFrame, str, int]:
    """Upstream ``regions.json`` → the shipped ``sites.csv`` schema (Local Zones kept as shipped)."""
    table = "sites (download)"
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"not valid JSON: {_short(exc)}", table=table) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("regions"), list):
        raise ValidationError("expected an object with a 'regions' list", table=table)
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    vintage = str(meta.get("lastUpdated", ""))[:10]
    try:
        _dt.date.fromisoformat(vintage)
    except ValueError:
        raise ValidationError(
            "metadata.lastUpdated is not a date", table=table, field="lastUpdated", value=vintage
        ) from None
    shipped = _shipped("sites.csv")
    continent = dict(zip(shipped["country_code"], shipped["continent"], strict=True))
    cities = _shipped("cities.csv")
    continent.update(dict(zip(cities["country_code"], cities["continent"], strict=True)))
    subdiv = dict(zip(shipped["site_id"], shipped["subdivision_code"], strict=True))
    rows = []
    for i, reg in enumerate(doc["regions"]):
        if not isinstance(reg, dict):
            raise ValidationError("region entry is not an object", table=table, row=i)
        if reg.get("provider") not in catalog.PROVIDERS or reg.get("regionType") != "commercial":
            continue
        loc = reg.get("location")
        if not isinstance(loc, dict):
            raise ValidationError("location missing", table=table, row=i, field="location")
        for key in ("latitude", "longitude", "countryCode"):
            if key not in loc:
                raise ValidationError("field missing", table=table, row=i, field=f"location.{key}")
        for key in ("regionCode",):
            if not isinstance(reg.get(key), str) or not reg[key]:
                raise ValidationError("field missing", table=table, row=i, field=key)
        site_id = f"{reg['provider']}:{reg['regionCode']}"
        cc = str(loc["countryCode"])
        if cc not in continent:
            raise ValidationError(
                "unknown country code", table=table, row=site_id, field="countryCode", value=cc
            )
        azs = reg.get("availabilityZones")
        rows.append(
            {
                "site_id": site_id,
                "provider": reg["provider"],
                "kind": "region",
                "region_code": reg["regionCode"],
                "display_name": str(reg.get("displayName", reg["regionCode"])),
                "region_type": "commercial",
                "city": str(loc.get("city", "")),
                "country_code": cc,
                "subdivision_code": subdiv.get(site_id, np.nan),
                "continent": continent[cc],
                "lat_deg": loc["latitude"],
                "lon_deg": loc["longitude"],
                "availability_zones": azs,
                "parent_region": np.nan,
                "vintage": vintage,
            }
        )
    if not rows:
        raise ValidationError("no commercial region of a known provider", table=table)
    regions = pd.DataFrame(rows, columns=list(shipped.columns))
    zones = shipped[shipped["kind"] == "local-zone"]
    out = pd.concat([regions, zones], ignore_index=True)
    kind_order = out["kind"].map({"region": 0, "local-zone": 1})
    out = out.assign(_k=kind_order).sort_values(["provider", "_k", "region_code"])
    return out.drop(columns="_k").reset_index(drop=True), vintage, len(regions)


_CARBON_COL = "Grid carbon intensity (gCO2eq / kWh)"
_CARBON_YEAR = 2024
_CARBON_SOURCE = "GoogleCloudPlatform/region-carbon-info (location-based grid intensity)"


def _convert_carbon(payload: bytes) -> tuple[pd.DataFrame, str, int]:
    """Upstream GCP ``data/yearly/<year>.csv`` → ``carbon.csv`` with its region rows updated."""
    table = "carbon (download)"
    try:
        up = pd.read_csv(io.BytesIO(payload), encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValidationError(f"not a readable CSV: {_short(exc)}", table=table) from None
    for col in ("Google Cloud Region", _CARBON_COL):
        if col not in up.columns:
            raise ValidationError("required column missing", table=table, field=col)
    if len(up) == 0:
        raise ValidationError("table is empty", table=table)
    codes = up["Google Cloud Region"]
    if codes.isna().any() or up["Google Cloud Region"].duplicated().any():
        raise ValidationError(
            "region codes missing or duplicated", table=table, field="Google Cloud Region"
        )
    vals = pd.to_numeric(up[_CARBON_COL], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(vals) | (vals < 0) | (vals > 2000)
    reject_rows(
        bad,
        "value missing, not a number or out of range [0, 2000]",
        table=table,
        row=lambda i: str(codes.iloc[i]),
        field=_CARBON_COL,
        value=up[_CARBON_COL],
    )
    shipped = _shipped("carbon.csv")
    new = pd.DataFrame(
        {
            "level": "region",
            "code": "gcp:" + codes.astype(str).str.strip(),
            "carbon_g_per_kwh": vals,
            "year": _CARBON_YEAR,
            "source": _CARBON_SOURCE,
        }
    )
    keep = shipped[~((shipped["level"] == "region") & shipped["code"].isin(new["code"]))]
    out = pd.concat([keep, new], ignore_index=True)
    out = out.sort_values(["level", "code"]).reset_index(drop=True)
    return out[list(shipped.columns)], str(_CARBON_YEAR), len(new)


def _regions_rows(df: pd.DataFrame) -> int:
    return int((df["kind"] == "region").sum())


def _carbon_rows(df: pd.DataFrame) -> int:
    return int((df["level"] == "region").sum())


# ------------------------------------------------------------------------- compute list prices
#: Public copies of the providers' price lists kept by SkyPilot (Apache-2.0), regenerated every
#: few hours from the AWS price list and the Google Cloud Billing Catalog (which needs an API key,
#: so it cannot be read here directly).
SKYPILOT_CATALOG_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs"
)
#: Azure Retail Prices API (public, no authentication), filtered to the reference size.
AZURE_RETAIL_PRICES_URL = (
    "https://prices.azure.com/api/retail/prices?$filter="
    "serviceName%20eq%20%27Virtual%20Machines%27%20and%20"
    "armSkuName%20eq%20%27Standard_D2s_v5%27%20and%20priceType%20eq%20%27Consumption%27"
)
#: Reference 2-vCPU instance (4 GiB per vCPU) and family per provider: see
#: :func:`placement.costs.compute_prices`.
PRICE_REFERENCE = {
    "aws": ("m5.large", "m5"),
    "gcp": ("n2-standard-2", "n2-standard"),
    "azure": ("Standard_D2s_v5", "Dsv5"),
}


def _price_table(provider: str, usd_2vcpu: Mapping[str, float], source: str) -> pd.DataFrame:
    """Rows of ``compute_prices.csv`` for one provider from region -> price of the 2-vCPU size."""
    from placement.costs import COMPUTE_PRICE_COLUMNS

    instance, family = PRICE_REFERENCE[provider]
    regions = sorted(usd_2vcpu)
    price = np.array([usd_2vcpu[r] for r in regions], dtype=float)
    out = pd.DataFrame(
        {
            "provider": provider,
            "region_code": regions,
            "family": family,
            "reference_instance": instance,
            "usd_per_vcpu_hour": np.round(price / 2, 6),
            "usd_per_hour_2vcpu": np.round(price, 6),
            "source_instance": instance,
            "source": source,
            "retrieved": _now_utc()[:10],
        }
    )
    return out[list(COMPUTE_PRICE_COLUMNS)]


def _checked_price(value: Any, table: str, row: str, field: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and 0 < v <= 200):
        raise ValidationError(
            "price missing, not a number or out of range (0, 200] USD per hour",
            table=table,
            row=row,
            field=field,
            value=value,
        )
    return v


def _convert_skypilot(provider: str) -> Callable[[bytes], tuple[pd.DataFrame, str, int]]:
    """SkyPilot catalog ``vms.csv`` → the provider's rows of ``compute_prices.csv``."""

    def convert(payload: bytes) -> tuple[pd.DataFrame, str, int]:
        table = f"compute_prices_{provider} (download)"
        if payload.lstrip()[:1] == b"{" and provider == "aws":
            return _convert_aws_offer(payload)
        try:
            up = pd.read_csv(io.BytesIO(payload), encoding="utf-8", dtype=str)
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ValidationError(f"not a readable CSV: {_short(exc)}", table=table) from None
        for col in ("InstanceType", "Region", "Price"):
            if col not in up.columns:
                raise ValidationError("required column missing", table=table, field=col)
        instance = PRICE_REFERENCE[provider][0]
        rows = up[(up["InstanceType"] == instance) & up["Price"].fillna("").str.strip().ne("")]
        if rows.empty:
            raise ValidationError(f"no priced row of {instance}", table=table)
        prices: dict[str, float] = {}
        for region, price in zip(rows["Region"], rows["Price"], strict=True):
            v = _checked_price(price, table, f"{instance} {region}", "Price")
            # one row per zone: the region's price is its lowest zone price (they are equal)
            prices[str(region)] = min(v, prices.get(str(region), math.inf))
        source = f"skypilot-org/skypilot-catalog {provider}/vms.csv (on-demand, Linux)"
        return _price_table(provider, prices, source), _now_utc()[:10], len(prices)

    return convert


def _convert_aws_offer(payload: bytes) -> tuple[pd.DataFrame, str, int]:
    """An AWS Price List bulk API offer file (``AmazonEC2``, JSON) → AWS rows of the price table.

    Keeps on-demand, shared-tenancy Linux without pre-installed software (``capacitystatus``
    ``Used``) of the reference instance; ``publicationDate`` is the vintage.
    """
    table = "compute_prices_aws (download)"
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"not valid JSON: {_short(exc)}", table=table) from None
    products = doc.get("products") if isinstance(doc, dict) else None
    on_demand = (doc.get("terms") or {}).get("OnDemand") if isinstance(doc, dict) else None
    if not isinstance(products, dict) or not isinstance(on_demand, dict):
        raise ValidationError("expected an offer with 'products' and 'terms.OnDemand'", table=table)
    instance = PRICE_REFERENCE["aws"][0]
    wanted = {
        "instanceType": instance,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    prices: dict[str, float] = {}
    for sku, product in products.items():
        attrs = product.get("attributes") if isinstance(product, dict) else None
        if not isinstance(attrs, dict) or any(attrs.get(k) != v for k, v in wanted.items()):
            continue
        region = attrs.get("regionCode")
        if not isinstance(region, str) or not region:
            raise ValidationError("attribute missing", table=table, row=sku, field="regionCode")
        for term in (on_demand.get(sku) or {}).values():
            for dim in (term.get("priceDimensions") or {}).values():
                if dim.get("unit") not in ("Hrs", "Hours"):
                    continue
                usd = (dim.get("pricePerUnit") or {}).get("USD")
                v = _checked_price(usd, table, f"{sku} {region}", "pricePerUnit.USD")
                prices[region] = min(v, prices.get(region, math.inf))
    if not prices:
        raise ValidationError(f"no on-demand Linux price of {instance}", table=table)
    vintage = str(doc.get("publicationDate", ""))[:10]
    try:
        _dt.date.fromisoformat(vintage)
    except ValueError:
        raise ValidationError(
            "publicationDate is not a date", table=table, field="publicationDate", value=vintage
        ) from None
    source = f"AWS Price List bulk API, AmazonEC2 offer {doc.get('version', '')} (on-demand, Linux)"
    return _price_table("aws", prices, source), vintage, len(prices)


def _azure_pages(payload: bytes) -> list[dict[str, Any]]:
    table = "compute_prices_azure (download)"
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"not valid JSON: {_short(exc)}", table=table) from None
    pages = doc if isinstance(doc, list) else [doc]
    for i, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise ValidationError("expected an object with an 'Items' list", table=table, row=i)
    return pages


def _azure_next_page(payload: bytes) -> str | None:
    """The ``NextPageLink`` of one Azure Retail Prices page (None on the last page)."""
    link = _azure_pages(payload)[0].get("NextPageLink")
    return link if isinstance(link, str) and link else None


def _convert_azure(payload: bytes) -> tuple[pd.DataFrame, str, int]:
    """Azure Retail Prices API pages → Azure rows of ``compute_prices.csv``.

    Keeps the pay-as-you-go (``Consumption``) hourly USD price of ``Standard_D2s_v5`` for Linux
    (product names with ``Windows`` and Spot / Low Priority meters are dropped), the latest
    ``effectiveStartDate`` per region (the vintage is the latest of them).
    """
    table = "compute_prices_azure (download)"
    instance = PRICE_REFERENCE["azure"][0]
    latest: dict[str, tuple[str, float]] = {}
    for page in _azure_pages(payload):
        for i, item in enumerate(page["Items"]):
            if not isinstance(item, dict):
                raise ValidationError("item is not an object", table=table, row=i)
            text = f"{item.get('productName', '')} {item.get('skuName', '')} {item.get('meterName', '')}"
            if (
                item.get("armSkuName") != instance
                or item.get("type") != "Consumption"
                or item.get("unitOfMeasure") != "1 Hour"
                or item.get("currencyCode", "USD") != "USD"
                or "Windows" in text
                or "Spot" in text
                or "Low Priority" in text
            ):
                continue
            region = item.get("armRegionName")
            if not isinstance(region, str) or not region:
                raise ValidationError("field missing", table=table, row=i, field="armRegionName")
            price = _checked_price(item.get("retailPrice"), table, region, "retailPrice")
            start = str(item.get("effectiveStartDate", ""))[:10]
            if region not in latest or start > latest[region][0]:
                latest[region] = (start, price)
    if not latest:
        raise ValidationError(f"no Linux pay-as-you-go price of {instance}", table=table)
    vintage = max(start for start, _ in latest.values())
    try:
        _dt.date.fromisoformat(vintage)
    except ValueError:
        raise ValidationError(
            "effectiveStartDate is not a date", table=table, field="effectiveStartDate"
        ) from None
    prices = {region: price for region, (_, price) in latest.items()}
    source = "Azure Retail Prices API, prices.azure.com (Consumption, Linux)"
    return _price_table("azure", prices, source), vintage, len(prices)


def _provider_rows(provider: str) -> Callable[[pd.DataFrame], int]:
    return lambda df: int((df["provider"].astype(str).str.lower() == provider).sum())


def _validate_prices(name: str) -> Callable[[Path], pd.DataFrame]:
    def validate(path: Path) -> pd.DataFrame:
        from placement.costs import check_compute_prices

        return check_compute_prices(
            pd.read_csv(path, keep_default_na=False, dtype=str), name=f"{name} (download)"
        )

    return validate


#: Refreshable tables.
SOURCES: dict[str, TableSource] = {
    "sites": TableSource(
        name="sites",
        url="https://raw.githubusercontent.com/jasonwilbur/mcp-server-cloud-regions/main/data/regions.json",
        file="sites.csv",
        convert=_convert_sites,
        shipped_rows=_regions_rows,
    ),
    "carbon": TableSource(
        name="carbon",
        url=(
            "https://raw.githubusercontent.com/GoogleCloudPlatform/region-carbon-info/main/"
            f"data/yearly/{_CARBON_YEAR}.csv"
        ),
        file="carbon.csv",
        convert=_convert_carbon,
        shipped_rows=_carbon_rows,
    ),
    "compute_prices_aws": TableSource(
        name="compute_prices_aws",
        url=f"{SKYPILOT_CATALOG_URL}/v7/aws/vms.csv",
        file="compute_prices.csv",
        convert=_convert_skypilot("aws"),
        shipped_rows=_provider_rows("aws"),
        row_bounds=(0.5, 3.0),
        validate=_validate_prices("compute_prices_aws"),
    ),
    "compute_prices_gcp": TableSource(
        name="compute_prices_gcp",
        url=f"{SKYPILOT_CATALOG_URL}/v7/gcp/vms.csv",
        file="compute_prices.csv",
        convert=_convert_skypilot("gcp"),
        shipped_rows=_provider_rows("gcp"),
        validate=_validate_prices("compute_prices_gcp"),
    ),
    "compute_prices_azure": TableSource(
        name="compute_prices_azure",
        url=AZURE_RETAIL_PRICES_URL,
        file="compute_prices.csv",
        convert=_convert_azure,
        shipped_rows=_provider_rows("azure"),
        row_bounds=(0.5, 10.0),  # the snapshot has the 9 US regions; the API has about 60
        next_page=_azure_next_page,
        validate=_validate_prices("compute_prices_azure"),
    ),
}


def _validate_table(name: str, path: Path) -> pd.DataFrame:
    """Run the loader's own validation on a candidate file."""
    src = SOURCES.get(name)
    if src is not None and src.validate is not None:
        return src.validate(path)
    loader = {"sites": catalog.regions, "carbon": catalog.carbon}[name]
    return loader(source=path)


# ------------------------------------------------------------------------------------- refresh
def _now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def refresh(
    tables: Sequence[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    allow_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS,
    timeout_s: float = 20,
    retries: int = 3,
    backoff_s: float = 1.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    session: Any = None,
    urls: Mapping[str, str] | None = None,
    allow_insecure_localhost: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RefreshReport]:
    """Download, validate and cache the current upstream version of catalog tables.

    Parameters
    ----------
    tables : sequence of str, optional
        Tables to refresh (keys of :data:`SOURCES`); default all.
    cache_dir : path-like, optional
        Cache folder (default :func:`default_cache_dir`).
    allow_hosts : iterable of str
        Hosts the initial URL and every redirect must be on.
    timeout_s : float
        Connect and read timeout of each request (seconds); a whole download must finish within
        five times this.
    retries : int
        Further attempts after a retryable failure (timeout, broken connection, truncated body,
        HTTP 5xx/429), with exponential back-off ``backoff_s × 2**k``.
    backoff_s : float
        First back-off delay (seconds).
    max_bytes : int
        Cap on the payload size, enforced while streaming.
    session : requests.Session, optional
        Session to use (default a new one).
    urls : mapping, optional
        ``{table: url}`` overriding the default source URLs (mirrors, tests).
    allow_insecure_localhost : bool
        Allow plain ``http`` to ``127.0.0.1``/``localhost`` (tests only).
    sleep : callable
        Called with each back-off delay (injectable for tests).

    Returns
    -------
    list of RefreshReport
        One per table, in the order asked. Never raises for network or data problems.

    Raises
    ------
    ValidationError
        On an unknown table name or an invalid parameter.
    """
    names = list(SOURCES) if tables is None else [str(t) for t in tables]
    for n in names:
        if n not in SOURCES:
            raise ValidationError(
                f"unknown table {n!r} (refreshable: {', '.join(SOURCES)})",
                table="parameter",
                field="tables",
                value=n,
            )
    if not (isinstance(retries, int) and retries >= 0):
        raise ValidationError("must be an integer >= 0", table="parameter", field="retries")
    if not (timeout_s > 0 and max_bytes > 0 and backoff_s >= 0):
        raise ValidationError(
            "timeout_s and max_bytes must be > 0, backoff_s >= 0", table="parameter"
        )
    allow = tuple(allow_hosts)
    folder = _cache(cache_dir)
    own_session = session is None
    if own_session:
        import requests

        session = requests.Session()
    try:
        return [
            _refresh_one(
                SOURCES[n],
                (urls or {}).get(n, SOURCES[n].url),
                folder=folder,
                allow_hosts=allow,
                allow_insecure_localhost=allow_insecure_localhost,
                timeout_s=timeout_s,
                retries=retries,
                backoff_s=backoff_s,
                max_bytes=max_bytes,
                session=session,
                sleep=sleep,
            )
            for n in names
        ]
    finally:
        if own_session:
            session.close()


def _refresh_one(
    src: TableSource,
    url: str,
    *,
    folder: Path,
    allow_hosts: tuple[str, ...],
    allow_insecure_localhost: bool,
    timeout_s: float,
    retries: int,
    backoff_s: float,
    max_bytes: int,
    session: Any,
    sleep: Callable[[float], None],
) -> RefreshReport:
    report = RefreshReport(table=src.name, status="failed", url=url)

    def fetch(page_url: str) -> bytes | None:
        for attempt in range(retries + 1):
            report.attempts += 1
            try:
                body, final_url = _download_once(
                    session,
                    page_url,
                    allow_hosts=allow_hosts,
                    allow_insecure_localhost=allow_insecure_localhost,
                    timeout_s=timeout_s,
                    max_bytes=max_bytes,
                )
                if page_url == url:
                    report.url = final_url
                return body
            except RefreshError as exc:
                report.reason = str(exc)
                if not exc.retry or attempt == retries:
                    if exc.retry and retries:
                        report.reason += f" (gave up after {attempt + 1} attempts)"
                    return None
                sleep(backoff_s * 2**attempt)
        return None  # pragma: no cover

    payload = fetch(url)
    if payload is None:
        return report
    if src.next_page is not None:
        pages = [payload]
        try:
            link = src.next_page(payload)
        except ValidationError as exc:
            report.reason = f"downloaded data rejected: {exc}"
            return report
        while link:
            if len(pages) >= MAX_PAGES:
                report.reason = f"more than {MAX_PAGES} pages: refusing to follow further"
                return report
            page = fetch(link)
            if page is None:
                report.reason = f"page {len(pages) + 1}: {report.reason}"
                return report
            pages.append(page)
            try:
                link = src.next_page(page)
            except ValidationError as exc:
                report.reason = f"downloaded data rejected: {exc}"
                return report
        payload = b"[" + b",".join(pages) + b"]"
    report.retrieved_utc = _now_utc()
    report.bytes = len(payload)
    report.payload_sha256 = hashlib.sha256(payload).hexdigest()
    try:
        df, vintage, n_up = src.convert(payload)
        n_ship = src.shipped_rows(_shipped(src.file))
        lo, hi = src.row_bounds
        if not (lo * n_ship <= n_up <= hi * n_ship):
            raise ValidationError(
                f"implausible row count {n_up} (shipped snapshot has {n_ship}; accepted "
                f"{lo:g}×–{hi:g}×)",
                table=f"{src.name} (download)",
            )
        text = df.to_csv(index=False, lineterminator="\n")
        data = text.encode("utf-8")
        # validate the exact bytes that would be cached, with the catalog's own loader
        with tempfile.TemporaryDirectory(prefix="placement-refresh-") as tmp:
            probe = Path(tmp) / f"{src.name}.csv"
            probe.write_bytes(data)
            _validate_table(src.name, probe)
    except ValidationError as exc:
        report.reason = f"downloaded data rejected: {exc}"
        return report
    except OSError as exc:
        report.reason = f"cannot write the cache folder: {_short(exc)}"
        return report
    sha = hashlib.sha256(data).hexdigest()
    path = folder / f"{src.name}.csv"
    report.path = str(path)
    report.sha256 = sha
    report.rows = len(df)
    previous = cached_table_path(src.name, folder)
    if previous is not None and previous[1].get("sha256") == sha:
        report.status = "unchanged"
        return report
    entry = {
        "url": report.url,
        "retrieved_utc": report.retrieved_utc,
        "bytes": report.bytes,
        "payload_sha256": report.payload_sha256,
        "sha256": sha,
        "rows": report.rows,
        "vintage": vintage,
        "file": path.name,
    }
    try:
        atomic_write_bytes(path, data)
        manifest = read_manifest(folder)
        manifest["tables"][src.name] = entry
        atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        report.reason = f"cannot write the cache folder: {_short(exc)}"
        report.path = report.sha256 = ""
        return report
    report.status = "updated"
    return report


def report_dict(report: RefreshReport) -> dict[str, Any]:
    """A report as a plain dict (for JSON output)."""
    return asdict(report)

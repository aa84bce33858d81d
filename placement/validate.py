"""Validation of the input tables shared by every entry point.

Each function takes a user DataFrame, checks it strictly and returns a *new* normalised copy
(canonical column names, dtypes). Errors name the table, the row id and the field. Nothing here
fills a missing value with a made-up constant.

Numbers beyond :data:`placement.params.RANGES` are refused with the field named (latency and
distance at most 1e6, weights, capacities and costs at most 1e15): beyond them the solvers'
floating-point arithmetic can no longer prove optimality. Table sizes are checked against the
budgets of :data:`placement.params.BUDGETS` (sites, demand points, latency pairs).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from placement.errors import ValidationError, reject_rows
from placement.params import RANGES, check_budget

__all__ = [
    "COORD_ALIASES",
    "validate_demand",
    "validate_latency_table",
    "validate_points",
    "validate_site_costs",
    "validate_sites",
]

#: Column aliases accepted on input and renamed to the canonical, unit-bearing names.
COORD_ALIASES = {
    "lat": "lat_deg",
    "latitude": "lat_deg",
    "lon": "lon_deg",
    "lng": "lon_deg",
    "longitude": "lon_deg",
}


def _require_frame(df: object, table: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"expected a pandas DataFrame, got {type(df).__name__}", table=table)
    return df


def _numeric(df: pd.DataFrame, col: str, table: str, id_col: str) -> pd.Series:
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        raise ValidationError(
            "value is a boolean, not a number",
            table=table,
            row=df[id_col].iloc[0],
            field=col,
            value=s.iloc[0],
        )
    if not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        reject_rows(bad, "value is not a number", table=table, row=df[id_col], field=col, value=s)
        s = conv
    return s.astype(float)


def validate_points(
    df: pd.DataFrame,
    *,
    table: str,
    id_col: str,
    required: Iterable[str] = (),
    nonnegative: Iterable[str] = (),
    maxima: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Validate a table of points with an id and coordinates.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Coordinate columns may be called ``lat``/``lon`` (or ``latitude``/``longitude``);
        they are renamed ``lat_deg``/``lon_deg``.
    table : str
        Table name used in error messages.
    id_col : str
        Name of the id column; ids must be present and unique and are returned as strings.
    required : iterable of str
        Further numeric columns that must be present, finite and not missing.
    nonnegative : iterable of str
        Numeric columns (present or optional) that must be ``>= 0`` where present.
    maxima : dict, optional
        Largest accepted value of some of the ``nonnegative`` columns.

    Returns
    -------
    pandas.DataFrame
        A copy with canonical column names, ``id_col`` as ``str`` and float coordinates.

    Raises
    ------
    ValidationError
        Naming the table, the row id and the field of the first problem found.
    """
    df = _require_frame(df, table).copy()
    renames = {c: COORD_ALIASES[c] for c in df.columns if c in COORD_ALIASES}
    dup_cols = df.columns[df.columns.duplicated()]
    if len(dup_cols):
        raise ValidationError("column given twice", table=table, field=str(dup_cols[0]))
    targets: dict[str, str] = {}
    for old, new in renames.items():
        if new in targets:
            raise ValidationError(
                f"both {targets[new]!r} and {old!r} given", table=table, field=new
            )
        targets[new] = old
    for old, new in renames.items():
        if new in df.columns:
            raise ValidationError(f"both {old!r} and {new!r} given", table=table, field=new)
    df = df.rename(columns=renames)
    if len(df) == 0:
        raise ValidationError("table is empty", table=table)
    for col in (id_col, "lat_deg", "lon_deg", *required):
        if col not in df.columns:
            raise ValidationError(
                f"required column missing (have: {', '.join(map(str, df.columns))})",
                table=table,
                field=col,
            )
    positions = range(len(df))
    reject_rows(df[id_col].isna(), "id is missing", table=table, row=positions, field=id_col)
    df[id_col] = df[id_col].astype(str)
    empty = df[id_col].str.strip() == ""
    reject_rows(empty, "id is empty", table=table, row=positions, field=id_col)
    reject_rows(df[id_col].duplicated(), "duplicate id", table=table, row=df[id_col], field=id_col)
    for col, lo, hi in (
        ("lat_deg", -90.0, 90.0),
        ("lon_deg", -180.0, 180.0),
        *[(c, None, None) for c in required],
    ):
        vals = _numeric(df, col, table, id_col)
        arr = vals.to_numpy()
        where = {"table": table, "row": df[id_col], "field": col, "value": arr}
        reject_rows(~np.isfinite(arr), "value is missing or not finite", **where)
        if lo is not None:
            reject_rows((arr < lo) | (arr > hi), f"value out of range [{lo:g}, {hi:g}]", **where)
        df[col] = vals
    for col in nonnegative:
        if col not in df.columns:
            continue
        vals = _numeric(df, col, table, id_col)
        arr = vals.to_numpy()
        bad = np.isnan(arr) | np.isinf(arr) | (arr < 0)
        if col not in required:
            bad &= ~np.isnan(arr)
        where = {"table": table, "row": df[id_col], "field": col, "value": arr}
        reject_rows(bad, "value must be finite and >= 0", **where)
        hi = (maxima or {}).get(col)
        if hi is not None:
            reject_rows(arr > hi, f"value above the accepted maximum {hi:g}", **where)
        df[col] = vals
    return df.reset_index(drop=True)


def validate_sites(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a candidate-site table (``site_id``, ``lat_deg``, ``lon_deg``, optional columns).

    Optional numeric columns checked when present: ``capacity``, ``fixed_cost_usd_per_year``
    (``>= 0`` and at most 1e15), ``availability_zones`` (``>= 0``). At most
    ``PLACEMENT_MAX_SITES`` rows (see :data:`placement.params.BUDGETS`).
    """
    if isinstance(df, pd.DataFrame):
        check_budget("sites", len(df), "sites table", table="sites")
    return validate_points(
        df,
        table="sites",
        id_col="site_id",
        nonnegative=("capacity", "fixed_cost_usd_per_year", "availability_zones"),
        maxima={"capacity": RANGES["capacity"], "fixed_cost_usd_per_year": RANGES["usd"]},
    )


def validate_demand(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a demand table (``demand_id``, ``lat_deg``, ``lon_deg``, ``0 <= weight <= 1e15``).

    At most ``PLACEMENT_MAX_DEMAND`` rows (see :data:`placement.params.BUDGETS`).
    """
    if isinstance(df, pd.DataFrame):
        check_budget("demand", len(df), "demand table", table="demand")
    out = validate_points(
        df,
        table="demand",
        id_col="demand_id",
        required=("weight",),
        nonnegative=("weight",),
        maxima={"weight": RANGES["weight"]},
    )
    if float(out["weight"].sum()) <= 0:
        raise ValidationError("total weight is zero", table="demand", field="weight")
    return out


def validate_latency_table(
    df: pd.DataFrame,
    *,
    site_ids: Iterable[str] | None = None,
    demand_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Validate a long latency table ``demand_id, site_id, latency_ms``.

    Parameters
    ----------
    df : pandas.DataFrame
        Measured or modelled latencies, one row per (demand, site) pair.
    site_ids, demand_ids : iterable of str, optional
        When given, every id in the table must be one of these.

    Returns
    -------
    pandas.DataFrame
        A copy with string ids and float ``latency_ms`` (and ``distance_km``,
        ``cost_usd_per_year`` if present): finite, ``>= 0``, latency and distance at most 1e6,
        cost at most 1e15. At most ``PLACEMENT_MAX_PAIRS`` rows.
    """
    table = "latency"
    df = _require_frame(df, table)
    check_budget("pairs", len(df), "latency table", table=table)
    df = df.copy()
    dup_cols = df.columns[df.columns.duplicated()]
    if len(dup_cols):
        raise ValidationError("column given twice", table=table, field=str(dup_cols[0]))
    for col in ("demand_id", "site_id", "latency_ms"):
        if col not in df.columns:
            raise ValidationError("required column missing", table=table, field=col)
    if len(df) == 0:
        raise ValidationError("table is empty", table=table)
    for col in ("demand_id", "site_id"):
        reject_rows(df[col].isna(), "id is missing", table=table, row=range(len(df)), field=col)
        df[col] = df[col].astype(str)
    # ids as integer codes: duplicate pairs and unknown ids are found on integers, and a row is
    # named "demand -> site" only when it is reported
    codes = {col: pd.factorize(df[col]) for col in ("demand_id", "site_id")}

    def pair(i: int) -> str:
        return f"{df['demand_id'].iloc[i]} -> {df['site_id'].iloc[i]}"

    n_site_ids = max(len(codes["site_id"][1]), 1)
    key = codes["demand_id"][0].astype(np.int64) * n_site_ids + codes["site_id"][0]
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        raise ValidationError(
            "duplicate (demand_id, site_id) pair", table=table, row=pair(int(np.argmax(dup)))
        )
    for col, hi in (
        ("latency_ms", RANGES["latency_ms"]),
        ("distance_km", RANGES["distance_km"]),
        ("cost_usd_per_year", RANGES["usd"]),
    ):
        if col not in df.columns:
            continue
        if pd.api.types.is_bool_dtype(df[col]):
            raise ValidationError(
                "value is a boolean, not a number", table=table, row=pair(0), field=col
            )
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals) | (vals < 0) | (vals > hi)
        reject_rows(
            bad,
            f"value must be a finite number in [0, {hi:g}]",
            table=table,
            row=pair,
            field=col,
            value=df[col],
        )
        df[col] = vals
    for col, known in (("site_id", site_ids), ("demand_id", demand_ids)):
        if known is None:
            continue
        # each distinct id is looked up once, then mapped back to the rows by its code
        code, ids = codes[col]
        known_set = set(map(str, known))
        unknown_id = np.fromiter((str(i) not in known_set for i in ids), dtype=bool, count=len(ids))
        if unknown_id.any():
            reject_rows(
                unknown_id[code],
                f"unknown id (not in the {col.removesuffix('_id')} table)",
                table=table,
                row=pair,
                field=col,
                value=df[col],
            )
    return df.reset_index(drop=True)


def validate_site_costs(costs: pd.DataFrame) -> pd.DataFrame:
    """Check computed site costs (:meth:`placement.costs.CostModel.site_costs`) before a model.

    Every ``*_usd_per_year`` column and ``variable_usd_per_unit_per_year`` must be ``>= 0`` and
    at most 1e15 where present (a missing value is the caller's business): a cost model with
    extreme inputs (e.g. ``price_usd_per_kwh=1e20``) is refused, naming the site and the column,
    instead of reaching the solver.

    Returns
    -------
    pandas.DataFrame
        ``costs`` itself (not copied).
    """
    hi = RANGES["usd"]
    cols = [
        c
        for c in costs.columns
        if str(c).endswith("_usd_per_year") or c == "variable_usd_per_unit_per_year"
    ]
    for col in cols:
        vals = pd.to_numeric(costs[col], errors="coerce").to_numpy(dtype=float)
        bad = (np.isinf(vals) | (vals < 0) | (vals > hi)) & ~np.isnan(vals)
        reject_rows(
            bad,
            f"computed cost out of range [0, {hi:g}] (check the cost model's inputs)",
            table="site costs",
            row=costs.index,
            field=str(col),
            value=vals,
        )
    return costs

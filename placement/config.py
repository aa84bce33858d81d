"""Problem definitions in TOML: parsed as data only (``tomllib``), validated key by key.

A file has up to five tables; every key is optional and names a parameter of the library
(the full reference with an example is ``docs/toml.md``)::

    name = "streaming-eu"

    [inputs]                 # where the tables come from (paths relative to the file)
    sites = "catalog"        # or "sites.csv" with site_id,lat,lon[,…]
    demand = "catalog"       # or "demand.csv" with demand_id,lat,lon,weight[,…]
    latency = "rtt.csv"      # optional long table demand_id,site_id,latency_ms
    rum = "rum.csv"          # or: your users' measurements recalibrate the model's access
    measured = "pairs.csv"   # and/or: measured pairs demand_id,site_id,latency_ms override it
    providers = ["aws", "gcp"]
    kinds = ["region"]
    min_population = 500000
    countries = ["DE", "FR"]
    continents = ["EU"]
    exclude_countries = ["RU"]
    merge_within_km = 50

    [problem]                # keyword arguments of placement.Problem
    objective = "median"
    n_sites = 4
    max_latency_ms = 60

    [solver]                 # keyword arguments of Problem.solve
    time_limit_s = 30

    [costs]                  # keyword arguments of placement.costs.CostModel
    it_load_kw = 1000

    [streaming]              # placement.workload.Streaming: peak Gbps and egress per site
    concurrency_ratio = 0.01
    bitrate_mbps = 5

Unknown tables or keys raise a :class:`~placement.errors.ValidationError` naming them.
"""

from __future__ import annotations

import inspect
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placement import params
from placement._io import decode_utf8, read_csv, read_input_bytes
from placement.errors import ValidationError

logger = logging.getLogger("placement.config")

__all__ = [
    "DEMAND_FILTER_KEYS",
    "FILE_KEYS",
    "INPUT_KEYS",
    "STREAMING_KEYS",
    "adjusted_model",
    "apply_streaming",
    "calibration_lines",
    "load_config",
    "load_demand",
    "load_latency",
    "load_latency_model",
    "load_sites",
    "read_toml",
    "with_site_climate",
]

#: ``climate_level`` of a sites-file row that brings its own temperature columns.
FILE_CLIMATE_LEVEL = "file"

#: ``[inputs]`` keys that select catalog demand (keyword arguments of ``demand.from_cities``).
DEMAND_FILTER_KEYS = (
    "min_population",
    "max_population",
    "countries",
    "continents",
    "exclude_countries",
    "exclude_continents",
    "bbox",
    "near",
    "merge_within_km",
)
#: ``[inputs]`` keys naming a file (a path relative to the TOML file, or ``"catalog"``).
FILE_KEYS = ("sites", "demand", "latency", "measured", "rum")
INPUT_KEYS = {*FILE_KEYS, "providers", "kinds", *DEMAND_FILTER_KEYS}
#: Keys of the ``[streaming]`` table (fields of :class:`placement.workload.Streaming`).
STREAMING_KEYS = {"concurrency_ratio", "bitrate_mbps", "curve", "capacity_gbps"}
SOLVER_KEYS = {"solver", "time_limit_s", "gap_rel", "threads", "verbose", "method"}


def _problem_keys() -> set[str]:
    # the Problem's scalar keyword arguments, as its own checker lists them (no import of
    # placement.problem: it imports this module)
    return set(params.problem_spec())


def _cost_keys() -> set[str]:
    from placement.costs import CostModel

    return {k for k in inspect.signature(CostModel).parameters}


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file as data: opened like every input (a regular file of at most
    ``PLACEMENT_MAX_CONFIG_MB``, UTF-8), errors naming the file."""
    data = read_input_bytes(path, table="config", kind="config_mb")
    try:
        return tomllib.loads(decode_utf8(data, table="config", path=path))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"malformed TOML: {exc}", table=str(path)) from None
    except RecursionError:
        raise ValidationError("malformed TOML: nested too deeply", table=str(path)) from None


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a TOML problem file.

    Returns
    -------
    dict
        ``{"name": str, "inputs": {...}, "problem": {...}, "solver": {...}, "costs": {...} or
        None, "streaming": {...} or None, "base_dir": Path}`` with input paths resolved against
        the file's folder.
    """
    raw = read_toml(path)  # checks the path first ("" is refused, not read as ".")
    p = Path(path)
    allowed_tables = {
        "inputs": INPUT_KEYS,
        "problem": None,
        "solver": SOLVER_KEYS,
        "costs": None,
        "streaming": STREAMING_KEYS,
    }
    for key, value in raw.items():
        if key == "name":
            if not isinstance(value, str):
                raise ValidationError("must be a string", table=str(p), field="name", value=value)
            continue
        if key not in allowed_tables:
            raise ValidationError(
                f"unknown table; expected one of name, {', '.join(allowed_tables)}",
                table=str(p),
                field=key,
            )
        if not isinstance(value, dict):
            raise ValidationError("must be a table", table=str(p), field=key)
    known = {
        "inputs": INPUT_KEYS,
        "problem": _problem_keys(),
        "solver": SOLVER_KEYS,
        "costs": _cost_keys(),
        "streaming": STREAMING_KEYS,
    }
    for table, keys in known.items():
        for key in raw.get(table, {}):
            if key not in keys:
                raise ValidationError(
                    f"unknown key; expected one of {', '.join(sorted(keys))}",
                    table=f"{p}[{table}]",
                    field=key,
                )
    inputs = dict(raw.get("inputs", {}))
    for key in FILE_KEYS:
        value = inputs.get(key)
        if value is None or value == "catalog":
            continue
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(
                "must be a path or 'catalog'", table="inputs", field=key, value=value
            )
        inputs[key] = str((p.parent / value).resolve()) if not os.path.isabs(value) else value
    # every value type-checked here, by the same checkers as the library's keyword arguments
    inputs = params.check(params.input_spec(), inputs, table=f"{p}[inputs]")
    problem = params.check(params.problem_spec(), raw.get("problem", {}), table=f"{p}[problem]")
    solver = params.check(params.solver_spec(), raw.get("solver", {}), table=f"{p}[solver]")
    costs = (
        params.check(params.costs_spec(), raw["costs"], table=f"{p}[costs]")
        if "costs" in raw
        else None
    )
    return {
        "name": raw.get("name", p.stem),
        "inputs": inputs,
        "problem": problem,
        "solver": solver,
        "costs": costs,
        "streaming": dict(raw["streaming"]) if "streaming" in raw else None,
        "base_dir": p.parent,
    }


def _read_csv(path: str, table: str) -> pd.DataFrame:
    """A CSV input table: regular file, size budget, UTF-8, ids kept as text (see ``_io``)."""
    return read_csv(path, table=table)


def load_sites(source: str, *, providers: Any = None, kinds: Any = None) -> pd.DataFrame:
    """Sites from a CSV path or ``"catalog"`` (the shipped cloud regions, filtered).

    A CSV file's sites get monthly temperature normals by their coordinates, as catalog sites
    do (:func:`with_site_climate`), so that their PUE follows their own climate.
    """
    if source == "catalog":
        from placement import catalog

        return catalog.sites(providers=providers, kinds=kinds)
    return with_site_climate(_read_csv(source, "sites"))


def _coordinate_column(df: pd.DataFrame, canonical: str) -> str | None:
    """The one column holding a coordinate (canonical name or an alias), else None."""
    from placement.validate import COORD_ALIASES

    names = [c for c in df.columns if c == canonical or COORD_ALIASES.get(str(c)) == canonical]
    return str(names[0]) if len(names) == 1 else None


def with_site_climate(sites: pd.DataFrame) -> pd.DataFrame:
    """Add each site's temperature normals by its coordinates (user sites tables).

    Rows without any temperature of their own (``tmean_m01_c`` … ``tmean_m12_c``,
    ``tmean_annual_c``) take :func:`placement.catalog.climate_at` of their coordinates, with
    ``country_code`` and ``subdivision_code`` as fallbacks when the table has them: the 12
    monthly means, ``tmean_annual_c``, ``cdd18_degc_days``, ``climate_level`` (``station``,
    ``grid``, ``interpolated``, ``subdivision``, ``country``; missing when nothing is known),
    ``climate_point`` and ``climate_distance_km``. Rows with a temperature of their own keep
    every value they give and get ``climate_level = "file"``.

    Parameters
    ----------
    sites : pandas.DataFrame
        A sites table as read from a file (coordinates as ``lat_deg``/``lon_deg`` or an alias).

    Returns
    -------
    pandas.DataFrame
        A copy with the climate columns. A table whose coordinate columns are missing or
        ambiguous, or rows whose coordinates are not valid numbers, are left as they are: the
        sites validation names the problem when the table is used.
    """
    from placement import catalog

    out = sites.copy()
    lat_col = _coordinate_column(out, "lat_deg")
    lon_col = _coordinate_column(out, "lon_deg")
    if lat_col is None or lon_col is None or len(out) == 0 or out.columns.duplicated().any():
        return out
    lat = pd.to_numeric(out[lat_col], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(out[lon_col], errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    temp_cols = [c for c in (*catalog.MONTH_COLUMNS, "tmean_annual_c") if c in out.columns]
    own = np.zeros(len(out), dtype=bool)
    for c in temp_cols:
        own |= np.isfinite(pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float))
    fill = valid & ~own

    def codes(col: str) -> list[str | None]:
        if col not in out.columns:
            return [None] * int(fill.sum())
        vals = out.loc[fill, col]
        return [None if pd.isna(v) or not str(v).strip() else str(v) for v in vals]

    level = (
        out["climate_level"].astype("object")
        if "climate_level" in out.columns
        else pd.Series([None] * len(out), index=out.index, dtype="object")
    )
    level[own & level.isna().to_numpy()] = FILE_CLIMATE_LEVEL
    if fill.any():
        clim = catalog.climate_at(
            lat[fill], lon[fill], codes("country_code"), codes("subdivision_code")
        )
        for c in clim.columns:
            if c == "climate_level":
                level[fill] = clim[c].astype("object").where(clim[c].notna(), None).to_numpy()
                continue
            if c not in out.columns:
                out[c] = pd.Series(
                    [pd.NA] * len(out) if c == "climate_point" else np.nan,
                    index=out.index,
                    dtype="string" if c == "climate_point" else float,
                )
            out.loc[fill, c] = clim[c].to_numpy()
    out["climate_level"] = level
    return out


def load_demand(source: str, **filters: Any) -> pd.DataFrame:
    """Demand from a CSV path or ``"catalog"`` (world cities weighted by internet users).

    ``filters`` (the :data:`DEMAND_FILTER_KEYS`, None values ignored) select catalog cities; see
    :func:`placement.demand.from_cities`. They do not apply to a CSV file.
    """
    unknown = sorted(set(filters) - set(DEMAND_FILTER_KEYS))
    if unknown:
        raise ValidationError("unknown demand filter", table="inputs", field=unknown[0])
    kwargs = {k: v for k, v in filters.items() if v is not None}
    if source == "catalog":
        from placement import demand

        return demand.from_cities(**kwargs)
    if kwargs:
        raise ValidationError(
            f"demand filters ({', '.join(sorted(kwargs))}) select catalog cities; "
            "filter a demand file before reading it",
            table="inputs",
            field="demand",
            value=source,
        )
    return _read_csv(source, "demand")


def apply_streaming(
    streaming: dict[str, Any] | Any | None, cost_model: Any, problem_kwargs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Fold a ``[streaming]`` table into the cost model and the Problem's keyword arguments.

    The egress volume of a cost model that does not set ``gb_per_unit_per_year`` becomes the
    workload's (so egress money follows the bitrate and concurrency), and ``capacity_gbps``
    becomes ``capacity`` in demand-weight units (:meth:`Streaming.capacity_units`) unless the
    problem sets ``capacity`` itself. Nothing is changed without a streaming table.

    Returns
    -------
    (cost_model, problem_kwargs)
        New objects; the arguments are not modified.
    """
    if streaming is None:
        return cost_model, problem_kwargs
    from placement.workload import Streaming

    spec = streaming if isinstance(streaming, Streaming) else Streaming.from_dict(dict(streaming))
    kwargs = dict(problem_kwargs)
    if spec.capacity_gbps is not None and kwargs.get("capacity") is None:
        kwargs["capacity"] = spec.capacity_units()
    if cost_model is not None and not cost_model.gb_per_unit_per_year:
        import dataclasses

        cost_model = dataclasses.replace(
            cost_model, gb_per_unit_per_year=spec.gb_per_unit_per_year()
        )
    return cost_model, kwargs


def load_latency(source: str | None) -> pd.DataFrame | None:
    """A long latency table from a CSV path (None when no path is given)."""
    if source is None:
        return None
    return _read_csv(source, "latency")


def load_latency_model(inputs: Mapping[str, Any], sites: pd.DataFrame) -> Any:
    """The default latency model adjusted by the ``[inputs]`` files ``rum`` and ``measured``.

    ``rum`` (real-user measurements: ``site_id, latency_ms`` and the user side as
    ``country_code`` and/or ``lat_deg, lon_deg``; optional ``statistic`` per row) recalibrates the
    users' access component (:func:`placement.latency.calibrate`); the model's error on those
    rows before and after goes to the ``placement`` logger. ``measured`` (``demand_id, site_id,
    latency_ms``) replaces the model's pairs it lists. Returns None when neither is given (the
    problem then uses the default model itself).

    Raises
    ------
    ValidationError
        When ``latency`` (a whole table replacing the model) is given as well.
    """
    given = [k for k in ("rum", "measured") if inputs.get(k)]
    if not given:
        return None
    if inputs.get("latency"):
        raise ValidationError(
            "a latency table replaces the model; 'rum' and 'measured' adjust the model: give "
            "one or the other",
            table="inputs",
            field=given[0],
            value=inputs[given[0]],
        )
    from placement import latency as latency_mod

    rum = _read_csv(inputs["rum"], "rum") if inputs.get("rum") else None
    if rum is not None and inputs.get("sites", "catalog") == "catalog":
        from placement import catalog  # measured against any catalog site, not only those kept

        sites = catalog.sites()
    measured = _read_csv(inputs["measured"], "measured") if inputs.get("measured") else None
    return adjusted_model(latency_mod.default_model(), sites, rum=rum, measured=measured)


def adjusted_model(
    model: Any,
    sites: pd.DataFrame,
    *,
    rum: pd.DataFrame | None = None,
    measured: pd.DataFrame | None = None,
) -> Any:
    """``model`` recalibrated to users' measurements and overridden by measured pairs.

    ``rum`` rows recalibrate the access per country (:func:`placement.latency.calibrate`, against
    ``sites``); the model's error on them before and after goes to the ``placement`` logger, and
    the model keeps its ``access`` side. ``measured`` pairs (``demand_id, site_id, latency_ms``)
    replace the model's. Used by ``[inputs]`` files and ``placement latency``.
    """
    if rum is not None:
        from placement import latency as latency_mod

        cal = latency_mod.calibrate(model, rum, sites)
        for line in calibration_lines(cal):
            logger.info("%s", line)
        model = cal.model.replace(access=model.access)
    if measured is not None:
        model = model.with_measurements(measured)
    return model


def calibration_lines(cal: Any) -> list[str]:
    """Readable lines of a :class:`placement.latency.Calibration`: rows, countries and the
    model's median / p90 absolute error and median bias on the rows, before and after."""
    e = cal.errors
    n_rows = int(cal.countries["n_rows"].sum()) if len(cal.countries) else 0
    lines = [
        f"latency: calibrated users' access on {n_rows:,} measurement rows "
        f"({len(cal.countries)} countries: {', '.join(map(str, cal.countries['country_code']))})"
    ]
    for stat in dict.fromkeys(e["statistic"]):
        b = e[(e["when"] == "before") & (e["statistic"] == stat)].iloc[0]
        a = e[(e["when"] == "after") & (e["statistic"] == stat)].iloc[0]
        rows = "all your rows" if stat == "all" else f"your {stat} rows"
        lines.append(
            f"latency: error on {rows} (n={int(a['n'])}): median "
            f"{b['median_abs_pct_error']:.1f} % -> {a['median_abs_pct_error']:.1f} %, p90 "
            f"{b['p90_abs_pct_error']:.1f} % -> {a['p90_abs_pct_error']:.1f} %, bias "
            f"{round(b['bias_median_pct'], 1) + 0.0:+.1f} % -> "
            f"{round(a['bias_median_pct'], 1) + 0.0:+.1f} % "
            "(after: in-sample)"
        )
    return lines

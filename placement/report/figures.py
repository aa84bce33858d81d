"""Figures and tables of a :class:`~placement.result.Result`, usable alone in a notebook.

Every function reads only the Result API (``open_sites``, ``assignments``, ``sites``, ``demand``,
``metrics``, ``params``) and copes with columns a Result may lack: a figure whose data are absent
says so in an annotation instead of raising. Text shown by plotly (names, labels) is HTML-escaped,
which plotly.js decodes for display, so a name is always shown as text, never as markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from placement.result import Result

__all__ = [
    "COST_COMPONENTS",
    "LABELS",
    "SITE_ATTRIBUTES",
    "bandwidth_figure",
    "comparison_table",
    "cost_columns",
    "cost_figure",
    "latency_cdf_figure",
    "map_figure",
    "pareto_figure",
    "result_labels",
    "sites_table",
    "with_site_attributes",
]

#: Cost components in stacking order: (column, legend label).
COST_COMPONENTS = (
    ("energy_usd_per_year", "energy"),
    ("fixed_usd_per_year", "fixed"),
    ("carbon_usd_per_year", "carbon"),
    ("egress_usd_per_year", "egress"),
    ("compute_usd_per_year", "compute (list price)"),
    ("served_usd_per_year", "served: energy + carbon"),
)

#: Human labels of metric and table columns.
LABELS: dict[str, str] = {
    "name": "scenario",
    "status": "status",
    "objective": "objective",
    "objective_value": "objective value",
    "gap": "gap",
    "n_open": "open sites",
    "mean_latency_ms": "mean latency (ms)",
    "p50_latency_ms": "p50 latency (ms)",
    "p95_latency_ms": "p95 latency (ms)",
    "max_latency_ms": "max latency (ms)",
    "share_within_sla": "demand within SLA",
    "backup_mean_latency_ms": "backup mean latency (ms)",
    "backup_max_latency_ms": "backup max latency (ms)",
    "total_cost_usd_per_year": "total cost (USD/yr)",
    "carbon_tonnes_per_year": "carbon (t CO2e/yr)",
    "open_sites": "open sites",
    "site_id": "site",
    "display_name": "name",
    "provider": "provider",
    "city": "city",
    "country_code": "country",
    "continent": "continent",
    "load_share": "demand share",
    "n_demand": "demand points",
    "price_usd_per_kwh": "power price (USD/kWh)",
    "pue": "PUE",
    "carbon_g_per_kwh": "grid carbon (gCO2e/kWh)",
    "political_stability": "political stability",
    "political_stability_pctile": "political stability (percentile)",
    "political_stability_est": "political stability (estimate)",
    "nearest_hub": "nearest network hub",
    "hub_distance_km": "distance to hub (km)",
    "total_usd_per_year": "cost (USD/yr)",
    "total_s": "solve time (s)",
    "peak_gbps": "peak (Gbps)",
    "peak_utc_hour": "peak hour (UTC)",
    "egress_tb_per_month": "egress (TB/month)",
    "egress_usd_per_month": "egress (USD/month)",
    "egress_usd_per_year": "egress (USD/yr)",
    "compute_usd_per_year": "compute list price (USD/yr)",
    "compute_usd_per_vcpu_hour": "compute (USD/vCPU-hour)",
    "cost_view": "cost view",
}

_SITE_DESCRIPTIVE = ("display_name", "provider", "city", "country_code")
_SITE_REASONS = (
    "price_usd_per_kwh",
    "pue",
    "carbon_g_per_kwh",
    "political_stability",
    "political_stability_pctile",
    "political_stability_est",
    "nearest_hub",
    "hub_distance_km",
)

_PRIMARY_COLOR = "rgba(31, 119, 180, 0.55)"
_BACKUP_COLOR = "rgba(127, 127, 127, 0.45)"
_SITE_COLOR = "#d62728"
_CANDIDATE_COLOR = "rgba(120, 120, 120, 0.6)"
_COST_COLORS = {
    "energy_usd_per_year": "#1f77b4",
    "fixed_usd_per_year": "#7f7f7f",
    "carbon_usd_per_year": "#2ca02c",
    "egress_usd_per_year": "#ff7f0e",
    "compute_usd_per_year": "#8c564b",
    "served_usd_per_year": "#9467bd",
}
_TEMPLATE = "plotly_white"


# ----------------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    """Text for plotly: HTML-escaped (plotly.js shows entities as the characters they name)."""
    return html.escape("" if value is None else str(value), quote=False)


def _present(df: pd.DataFrame, col: str) -> bool:
    """True when ``df`` has ``col`` with at least one non-missing value."""
    return col in df.columns and bool(df[col].notna().any())


def _empty_figure(message: str, title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=_esc(message), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False
    )
    fig.update_layout(
        title=title,
        template=_TEMPLATE,
        height=300,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def _site_frame(result: Result) -> pd.DataFrame:
    """Open sites with every attribute found in ``open_sites`` or, failing that, ``sites``."""
    open_sites = result.open_sites.copy()
    if "site_id" not in open_sites.columns:
        return pd.DataFrame(columns=["site_id"])
    open_sites["site_id"] = open_sites["site_id"].astype(str)
    sites = result.sites
    if len(sites) and "site_id" in sites.columns:
        extra = sites.drop_duplicates("site_id").assign(site_id=lambda d: d["site_id"].astype(str))
        extra = extra.set_index("site_id")
        for col in extra.columns:
            if col not in open_sites.columns:
                open_sites[col] = open_sites["site_id"].map(extra[col])
            elif open_sites[col].isna().any():
                open_sites[col] = open_sites[col].fillna(open_sites["site_id"].map(extra[col]))
    return open_sites


def _site_names(df: pd.DataFrame) -> pd.Series:
    """A short name per site row: display name when present, else the id."""
    ids = df["site_id"].astype(str)
    if "display_name" in df.columns:
        names = df["display_name"].where(df["display_name"].notna(), ids).astype(str)
        return names.where(names.str.len() > 0, ids)
    return ids


def _site_labels(df: pd.DataFrame) -> pd.Series:
    """Name and provider (``East Asia (azure)``): display names alone can be ambiguous."""
    names = _site_names(df)
    if "provider" not in df.columns:
        return names
    prov = df["provider"].astype("string").fillna("")
    labels = [
        f"{n} ({p})" if p and p.lower() not in n.lower() else n
        for n, p in zip(names, prov, strict=True)
    ]
    return pd.Series(labels, index=df.index)


def _demand_names(df: pd.DataFrame) -> pd.Series:
    ids = df["demand_id"].astype(str)
    if "name" in df.columns:
        return df["name"].where(df["name"].notna(), ids).astype(str)
    return ids


def _primary_latency(result: Result) -> pd.Series:
    """Share-weighted latency of each demand point's primary assignment(s), by ``demand_id``."""
    a = result.assignments
    if not len(a) or not {"rank", "latency_ms", "demand_id"} <= set(a.columns):
        return pd.Series(dtype=float)
    p = a[a["rank"] == 1]
    share = p["share"].astype(float) if "share" in p.columns else pd.Series(1.0, index=p.index)
    num = (p["latency_ms"].astype(float) * share).groupby(p["demand_id"].astype(str)).sum()
    den = share.groupby(p["demand_id"].astype(str)).sum()
    return (num / den.where(den > 0)).rename("latency_ms")


def _sla_ms(result: Result) -> float | None:
    params = result.params or {}
    for key in ("sla_ms", "max_latency_ms"):
        value = params.get(key)
        if value is not None and isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def _money(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"${value / div:,.2f}{suffix}"
    return f"${value:,.0f}"


def result_labels(results: Sequence[Result]) -> list[str]:
    """One distinct label per result: its name, else ``result N`` (duplicates numbered)."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(results, start=1):
        base = r.name or f"result {i}"
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return labels


def _lines(
    site_ll: dict[str, tuple[float, float]],
    demand_ll: dict[str, tuple[float, float]],
    pairs: pd.DataFrame,
) -> tuple[list[float | None], list[float | None]]:
    """Longitudes and latitudes of site–demand segments separated by None (one trace, many lines)."""
    lon: list[float | None] = []
    lat: list[float | None] = []
    for sid, did in zip(pairs["site_id"].astype(str), pairs["demand_id"].astype(str), strict=True):
        s = site_ll.get(sid)
        d = demand_ll.get(did)
        if s is None or d is None:
            continue
        lon.extend((s[1], d[1], None))
        lat.extend((s[0], d[0], None))
    return lon, lat


def _coords(df: pd.DataFrame, key: str) -> dict[str, tuple[float, float]]:
    if not {key, "lat_deg", "lon_deg"} <= set(df.columns):
        return {}
    ok = df["lat_deg"].notna() & df["lon_deg"].notna()
    sub = df[ok]
    return {
        str(k): (float(la), float(lo))
        for k, la, lo in zip(sub[key], sub["lat_deg"], sub["lon_deg"], strict=True)
    }


# ----------------------------------------------------------------------------- map
def map_figure(result: Result, *, show_candidates: bool = True, height: int = 560) -> go.Figure:
    """World map of a solution: open sites sized by load, demand coloured by latency.

    Parameters
    ----------
    result : Result
        A solved result (with ``sites``/``open_sites`` and ``demand`` coordinates).
    show_candidates : bool
        Also draw the candidate sites that stayed closed (small grey crosses).
    height : int
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces, in drawing order and each present only when it has points: ``candidate sites``,
        ``backup assignments`` (dashed, lighter; redundancy > 1), ``primary assignments`` (all
        lines in one trace, segments separated by None), ``demand`` (colour = primary latency in
        ms, size ~ sqrt(weight)) and ``open sites`` (size ~ sqrt(load)).
    """
    title = "Open sites and demand"
    sites = _site_frame(result)
    site_ll = _coords(sites, "site_id")
    if len(result.sites) and "site_id" in result.sites.columns:
        site_ll = {**_coords(result.sites, "site_id"), **site_ll}
    demand = result.demand
    demand_ll = _coords(demand, "demand_id")
    if not site_ll and not demand_ll:
        return _empty_figure("no coordinates in this result", title)

    fig = go.Figure()
    open_ids = set(sites["site_id"].astype(str))

    if (
        show_candidates
        and len(result.sites)
        and {"site_id", "lat_deg", "lon_deg"} <= set(result.sites.columns)
    ):
        closed = result.sites[~result.sites["site_id"].astype(str).isin(open_ids)]
        closed = closed[closed["lat_deg"].notna() & closed["lon_deg"].notna()]
        if len(closed):
            fig.add_trace(
                go.Scattergeo(
                    name="candidate sites",
                    lon=closed["lon_deg"].astype(float).tolist(),
                    lat=closed["lat_deg"].astype(float).tolist(),
                    mode="markers",
                    marker={
                        "symbol": "x-thin",
                        "size": 5,
                        "color": _CANDIDATE_COLOR,
                        "line": {"width": 1, "color": _CANDIDATE_COLOR},
                    },
                    hovertext=[_esc(n) for n in _site_names(closed)],
                    hoverinfo="text",
                    visible="legendonly" if len(closed) > 400 else True,
                )
            )

    a = result.assignments
    if len(a) and {"site_id", "demand_id", "rank"} <= set(a.columns):
        backup = a[a["rank"] > 1]
        if len(backup):
            lon, lat = _lines(site_ll, demand_ll, backup)
            if lon:
                fig.add_trace(
                    go.Scattergeo(
                        name="backup assignments",
                        lon=lon,
                        lat=lat,
                        mode="lines",
                        line={"width": 0.8, "color": _BACKUP_COLOR, "dash": "dash"},
                        hoverinfo="skip",
                    )
                )
        primary = a[a["rank"] == 1]
        lon, lat = _lines(site_ll, demand_ll, primary)
        if lon:
            fig.add_trace(
                go.Scattergeo(
                    name="primary assignments",
                    lon=lon,
                    lat=lat,
                    mode="lines",
                    line={"width": 1.0, "color": _PRIMARY_COLOR},
                    hoverinfo="skip",
                )
            )

    if demand_ll:
        d = demand[demand["lat_deg"].notna() & demand["lon_deg"].notna()].copy()
        d["demand_id"] = d["demand_id"].astype(str)
        latency = d["demand_id"].map(_primary_latency(result))
        weight = (
            d["weight"].astype(float).fillna(0.0)
            if "weight" in d.columns
            else pd.Series(1.0, index=d.index)
        )
        wmax = float(weight.max()) if len(weight) and weight.max() > 0 else 1.0
        size = (4.0 + 14.0 * np.sqrt(weight.clip(lower=0) / wmax)).round(2)
        names = _demand_names(d)
        hover = [
            f"{_esc(n)}<br>latency {lt:.1f} ms<br>weight {w:,.0f}"
            if pd.notna(lt)
            else f"{_esc(n)}<br>not served<br>weight {w:,.0f}"
            for n, lt, w in zip(names, latency, weight, strict=True)
        ]
        marker: dict[str, Any] = {"size": size.tolist(), "opacity": 0.85, "line": {"width": 0}}
        if latency.notna().any():
            marker.update(
                color=latency.round(3).tolist(),
                colorscale="Viridis",
                reversescale=True,
                cmin=0.0,
                colorbar={"title": {"text": "latency (ms)"}, "thickness": 14, "len": 0.7},
            )
        else:
            marker["color"] = "#1f77b4"
        fig.add_trace(
            go.Scattergeo(
                name="demand",
                lon=d["lon_deg"].astype(float).tolist(),
                lat=d["lat_deg"].astype(float).tolist(),
                mode="markers",
                marker=marker,
                hovertext=hover,
                hoverinfo="text",
            )
        )

    opened = sites[sites["site_id"].isin(site_ll.keys())] if len(sites) else sites
    if len(opened):
        load = (
            opened["load"].astype(float).fillna(0.0)
            if "load" in opened.columns
            else pd.Series(1.0, index=opened.index)
        )
        lmax = float(load.max()) if load.max() > 0 else 1.0
        size = (10.0 + 26.0 * np.sqrt(load.clip(lower=0) / lmax)).round(2)
        total = float(load.sum()) or 1.0
        names = _site_names(opened)
        ids = opened["site_id"].astype(str)
        hover = [
            f"<b>{_esc(n)}</b><br>{_esc(i)}<br>load {lo:,.0f} ({lo / total:.1%})"
            for n, i, lo in zip(_site_labels(opened), ids, load, strict=True)
        ]
        fig.add_trace(
            go.Scattergeo(
                name="open sites",
                lon=[site_ll[i][1] for i in ids],
                lat=[site_ll[i][0] for i in ids],
                mode="markers+text",
                text=[_esc(n) for n in names],
                textposition="top center",
                textfont={"size": 11, "color": "#333"},
                marker={
                    "size": size.tolist(),
                    "color": _SITE_COLOR,
                    "symbol": "diamond",
                    "opacity": 0.9,
                    "line": {"width": 1, "color": "white"},
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )

    fig.update_geos(
        projection_type="natural earth",
        showland=True,
        landcolor="#eeeeee",
        showcoastlines=True,
        coastlinecolor="#b0b0b0",
        showcountries=True,
        countrycolor="#d0d0d0",
        showocean=False,
        showlakes=False,
        showrivers=False,
        showsubunits=False,
        showframe=False,
        resolution=110,
    )
    fig.update_layout(
        title=title,
        template=_TEMPLATE,
        height=height,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        legend={"orientation": "h", "y": -0.02},
    )
    return fig


# ----------------------------------------------------------------------------- latency CDF
def _cdf(lat: np.ndarray, w: np.ndarray) -> tuple[list[float], list[float]]:
    order = np.argsort(lat, kind="stable")
    lat = lat[order]
    w = w[order]
    total = w.sum()
    if total <= 0:
        return [], []
    cum = np.cumsum(w) / total
    # one point per distinct latency: the cumulative share once all its weight is in
    last = np.r_[lat[1:] != lat[:-1], True]
    x = np.r_[0.0, lat[last]]
    y = np.r_[0.0, cum[last]]
    return np.round(x, 4).tolist(), np.round(y, 6).tolist()


def latency_cdf_figure(result: Result, by: str | None = "continent") -> go.Figure:
    """Demand-weighted CDF of primary latency, overall and per group.

    Parameters
    ----------
    result : Result
        A solved result.
    by : str or None
        A demand column (``continent``, ``country_code``, ``timezone``, …) to draw one curve per
        value of; ignored when the demand table lacks it. None: the overall curve only.

    Returns
    -------
    plotly.graph_objects.Figure
        First trace ``all demand``, then one trace per group (alphabetical). The SLA (``sla_ms``,
        else ``max_latency_ms`` of ``params``) is a dashed vertical line.
    """
    title = "Latency distribution (primary, demand-weighted)"
    a = result.assignments
    if not len(a) or not {"rank", "latency_ms", "demand_id"} <= set(a.columns):
        return _empty_figure("no assignments in this result", title)
    p = a[a["rank"] == 1].copy()
    p["demand_id"] = p["demand_id"].astype(str)
    w = p["weight"].astype(float) if "weight" in p.columns else pd.Series(1.0, index=p.index)
    if "share" in p.columns:
        w = w * p["share"].astype(float)
    p["_w"] = w.fillna(0.0)
    fig = go.Figure()
    x, y = _cdf(p["latency_ms"].to_numpy(dtype=float), p["_w"].to_numpy(dtype=float))
    fig.add_trace(
        go.Scatter(
            name="all demand",
            x=x,
            y=y,
            mode="lines",
            line={"shape": "hv", "width": 3, "color": "#222"},
        )
    )
    demand = result.demand
    if by and by in demand.columns and "demand_id" in demand.columns:
        groups = demand.assign(demand_id=demand["demand_id"].astype(str)).set_index("demand_id")[by]
        p["_g"] = p["demand_id"].map(groups)
        for g in sorted(p["_g"].dropna().astype(str).unique()):
            sub = p[p["_g"].astype(str) == g]
            gx, gy = _cdf(sub["latency_ms"].to_numpy(dtype=float), sub["_w"].to_numpy(dtype=float))
            if gx:
                fig.add_trace(
                    go.Scatter(
                        name=_esc(g), x=gx, y=gy, mode="lines", line={"shape": "hv", "width": 1.5}
                    )
                )
    sla = _sla_ms(result)
    if sla is not None:
        fig.add_vline(
            x=sla,
            line={"dash": "dash", "color": "#d62728", "width": 2},
            annotation_text=f"SLA {sla:g} ms",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title=title,
        template=_TEMPLATE,
        height=420,
        xaxis={"title": {"text": "round-trip latency (ms)"}, "rangemode": "tozero"},
        yaxis={"title": {"text": "share of demand"}, "range": [0, 1.02], "tickformat": ".0%"},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return fig


# ----------------------------------------------------------------------------- costs
def cost_columns(result: Result) -> list[str]:
    """The per-site cost component columns of ``open_sites`` that are present and not all zero.

    The known components (:data:`COST_COMPONENTS`) come first, in their order, then any other
    ``*_usd_per_year`` column except ``total_usd_per_year``.
    """
    df = result.open_sites
    known = [c for c, _ in COST_COMPONENTS]
    others = sorted(
        c
        for c in df.columns
        if c.endswith("_usd_per_year") and c != "total_usd_per_year" and c not in known
    )
    out = []
    for col in [*known, *others]:
        if col in df.columns:
            vals = pd.to_numeric(df[col], errors="coerce")
            if vals.notna().any() and float(vals.fillna(0).abs().sum()) > 0:
                out.append(col)
    return out


def cost_figure(result: Result) -> go.Figure:
    """Annual cost per open site, stacked by component, with each site's total.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per component present (energy, fixed, carbon, egress, served/variable, then
        any other ``*_usd_per_year`` column) and a ``total`` text trace; sites sorted by total,
        most expensive first. Without cost columns: an empty figure that says so.
    """
    title = "Annual cost per site"
    cols = cost_columns(result)
    sites = _site_frame(result)
    if not cols or not len(sites):
        return _empty_figure("this result carries no site costs", title)
    comp = sites[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    total = comp.sum(axis=1)
    order = total.sort_values(ascending=False, kind="stable").index
    labels = [_esc(n) for n in _site_labels(sites.loc[order])]
    labels_by = dict(COST_COMPONENTS)
    fig = go.Figure()
    for col in cols:
        name = labels_by.get(col, col.removesuffix("_usd_per_year").replace("_", " "))
        fig.add_trace(
            go.Bar(
                name=name,
                x=labels,
                y=comp.loc[order, col].round(2).tolist(),
                marker={"color": _COST_COLORS.get(col)} if col in _COST_COLORS else None,
                hovertemplate="%{x}<br>" + name + ": $%{y:,.0f}/yr<extra></extra>",
            )
        )
    tot = total.loc[order]
    fig.add_trace(
        go.Scatter(
            name="total",
            x=labels,
            y=tot.round(2).tolist(),
            mode="text",
            text=[_money(float(v)) for v in tot],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    grand = float(result.metrics.get("total_cost_usd_per_year", total.sum()) or total.sum())
    view = (result.params or {}).get("cost_view")
    if view:
        title = f"{title}, {_esc(view)} view"
    fig.update_layout(
        title=f"{title} (total {_money(grand)} per year)",
        barmode="stack",
        template=_TEMPLATE,
        height=420,
        yaxis={"title": {"text": "USD per year"}, "rangemode": "tozero"},
        margin={"l": 70, "r": 20, "t": 50, "b": 110},
        xaxis={"tickangle": -30},
        legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"},
    )
    return fig


# ----------------------------------------------------------------------------- bandwidth
def bandwidth_figure(result: Result) -> go.Figure:
    """Gbps each open site serves by UTC hour (stacked), for a result with a streaming workload.

    The result must carry ``params["streaming"]`` (see
    :func:`placement.workload.annotate_result`) and demand time zones; primary assignments only.
    Otherwise an empty figure that says so.
    """
    from placement.workload import Streaming, site_load_by_utc_hour

    title = "Bandwidth by hour of the day (primary traffic)"
    spec = (result.params or {}).get("streaming")
    demand = result.demand
    if (
        not spec
        or not result.ok
        or not len(result.assignments)
        or "timezone" not in demand.columns
        or demand["timezone"].isna().any()
    ):
        return _empty_figure("this result carries no streaming workload", title)
    streaming = Streaming(
        concurrency_ratio=spec["concurrency_ratio"],
        bitrate_mbps=spec["bitrate_mbps"],
        curve=spec.get("curve"),
    )
    primary = result.assignments[result.assignments["rank"] == 1]
    load = site_load_by_utc_hour(
        primary[["demand_id", "site_id", "share"]],
        demand,
        concurrency_ratio=streaming.concurrency_ratio,
        curve=streaming.curve_values,
    )
    gbps = load * streaming.bitrate_mbps / 1000.0
    sites = _site_frame(result)
    names = dict(zip(sites["site_id"].astype(str), _site_labels(sites), strict=True))
    order = gbps.max(axis=1).sort_values(ascending=False, kind="stable").index
    fig = go.Figure()
    hours = list(range(24))
    for sid in order:
        label = _esc(names.get(str(sid), str(sid)))
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=gbps.loc[sid].round(3).tolist(),
                name=label,
                stackgroup="sites",
                mode="lines",
                hovertemplate=label + "<br>%{x:02d}:00 UTC: %{y:,.1f} Gbps<extra></extra>",
            )
        )
    total = gbps.sum(axis=0)
    peak_hour = int(total.to_numpy().argmax())
    fig.update_layout(
        title=f"{title}: peak {float(total.iloc[peak_hour]):,.1f} Gbps at {peak_hour:02d}:00 UTC",
        template=_TEMPLATE,
        height=420,
        xaxis={"title": {"text": "hour (UTC)"}, "dtick": 3, "range": [0, 23]},
        yaxis={"title": {"text": "Gbps"}, "rangemode": "tozero"},
        margin={"l": 70, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "v"},
    )
    return fig


# ----------------------------------------------------------------------------- tables
def sites_table(result: Result) -> pd.DataFrame:
    """What a planner weighs per open site, one row per site, largest demand share first.

    Columns (only those the result carries): ``site_id``, ``display_name``, ``provider``,
    ``city``, ``country_code``, ``load_share`` (share of primary demand weight, 0–1),
    ``n_demand``, ``price_usd_per_kwh``, ``pue``, ``carbon_g_per_kwh``, political stability
    (the first present of ``political_stability``, ``political_stability_pctile``,
    ``political_stability_est``),
    ``nearest_hub``, ``hub_distance_km``, streaming columns (``peak_gbps``,
    ``egress_tb_per_month``, ``egress_usd_per_month``) when the result carries them,
    ``total_usd_per_year``. Attributes missing from
    ``open_sites`` are looked up in ``sites``.
    """
    sites = _site_frame(result)
    cols = ["site_id"]
    out = pd.DataFrame({"site_id": sites["site_id"].astype(str)}, index=sites.index)
    for col in _SITE_DESCRIPTIVE:
        if _present(sites, col):
            out[col] = sites[col]
            cols.append(col)
    if "load" in sites.columns:
        load = pd.to_numeric(sites["load"], errors="coerce").fillna(0.0)
        total = float(load.sum())
        out["load_share"] = load / total if total > 0 else 0.0
        cols.append("load_share")
    if _present(sites, "n_demand"):
        out["n_demand"] = sites["n_demand"]
        cols.append("n_demand")
    stability = [c for c in _SITE_REASONS if c.startswith("political_stability")]
    shown_stability = next((c for c in stability if _present(sites, c)), None)
    for col in _SITE_REASONS:
        if col in stability and col != shown_stability:
            continue
        if _present(sites, col):
            out[col] = sites[col]
            cols.append(col)
    for col in ("peak_gbps", "egress_tb_per_month", "egress_usd_per_month"):
        if _present(sites, col):
            out[col] = sites[col]
            cols.append(col)
    if _present(sites, "total_usd_per_year"):
        out["total_usd_per_year"] = sites["total_usd_per_year"]
        cols.append("total_usd_per_year")
    out = out[cols]
    if "load_share" in out.columns:
        out = out.sort_values(["load_share", "site_id"], ascending=[False, True], kind="stable")
    else:
        out = out.sort_values("site_id", kind="stable")
    return out.reset_index(drop=True)


_COMPARISON_METRICS = (
    "n_open",
    "mean_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "max_latency_ms",
    "share_within_sla",
    "backup_mean_latency_ms",
    "total_cost_usd_per_year",
    "carbon_tonnes_per_year",
)


def comparison_table(results: Iterable[Result]) -> pd.DataFrame:
    """One row per result: label, status, objective, gap, the main metrics and the open sites.

    Columns: ``name``, ``status``, ``objective`` (its name), ``objective_value``, ``gap``, the
    metrics among ``n_open``, ``mean_latency_ms``, ``p50_latency_ms``, ``p95_latency_ms``,
    ``max_latency_ms``, ``share_within_sla``, ``backup_mean_latency_ms``,
    ``total_cost_usd_per_year``, ``carbon_tonnes_per_year`` that at least one result has,
    ``total_s`` (wall seconds) and ``open_sites`` (ids, comma-separated).
    """
    results = list(results)
    labels = result_labels(results)
    present = [m for m in _COMPARISON_METRICS if any(m in r.metrics for r in results)]
    rows = []
    for label, r in zip(labels, results, strict=True):
        row: dict[str, Any] = {
            "name": label,
            "status": r.status,
            "objective": (r.params or {}).get("objective"),
            "objective_value": r.objective,
            "gap": r.gap,
        }
        for m in present:
            v = r.metrics.get(m)
            row[m] = math.nan if v is None else v
        row["total_s"] = (r.timings or {}).get("total_s")
        row["open_sites"] = ", ".join(r.open_site_ids)
        rows.append(row)
    cols = ["name", "status", "objective", "objective_value", "gap", *present, "total_s"]
    return pd.DataFrame(rows, columns=[*cols, "open_sites"])


def pareto_figure(
    results: Sequence[Result],
    x: str = "total_cost_usd_per_year",
    y: str = "p95_latency_ms",
) -> go.Figure:
    """Trade-off of several results on two metrics, the non-dominated ones joined by a line.

    Parameters
    ----------
    results : sequence of Result
        The scenarios to compare.
    x, y : str
        Metric names (keys of ``Result.metrics``, or ``objective``); lower is better on both.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``Pareto front`` (the non-dominated points, sorted by ``x``) and ``scenarios``
        (every result with both metrics, labelled). Results lacking a metric are left out.
    """
    title = f"Trade-off: {LABELS.get(y, y)} vs {LABELS.get(x, x)}"
    labels = result_labels(results)
    pts = []
    for label, r in zip(labels, results, strict=True):
        vx = r.objective if x == "objective" else r.metrics.get(x)
        vy = r.objective if y == "objective" else r.metrics.get(y)
        if vx is None or vy is None:
            continue
        vx, vy = float(vx), float(vy)
        if math.isfinite(vx) and math.isfinite(vy):
            pts.append((vx, vy, label))
    if not pts:
        return _empty_figure(f"no result has both {x} and {y}", title)
    front = [
        p
        for p in pts
        if not any((q[0] <= p[0] and q[1] <= p[1]) and (q[0] < p[0] or q[1] < p[1]) for q in pts)
    ]
    front = sorted({(p[0], p[1]) for p in front})
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name="Pareto front",
            x=[p[0] for p in front],
            y=[p[1] for p in front],
            mode="lines",
            line={"shape": "hv", "dash": "dot", "color": "#d62728"},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            name="scenarios",
            x=[p[0] for p in pts],
            y=[p[1] for p in pts],
            mode="markers+text",
            text=[_esc(p[2]) for p in pts],
            textposition="top center",
            marker={"size": 11, "color": "#1f77b4"},
        )
    )
    fig.update_layout(
        title=title,
        template=_TEMPLATE,
        height=420,
        xaxis={"title": {"text": LABELS.get(x, x)}},
        yaxis={"title": {"text": LABELS.get(y, y)}},
        margin={"l": 70, "r": 20, "t": 50, "b": 50},
    )
    return fig


#: Catalog columns worth showing that a Result's ``open_sites`` may not carry.
SITE_ATTRIBUTES = (
    "price_usd_per_kwh",
    "pue",
    "carbon_g_per_kwh",
    "political_stability_pctile",
    "political_stability_est",
    "nearest_hub",
    "hub_distance_km",
)


def with_site_attributes(
    result: Result, sites: pd.DataFrame, columns: Iterable[str] = SITE_ATTRIBUTES
) -> Result:
    """A copy of ``result`` whose ``open_sites`` also carry ``columns`` of ``sites`` (by id).

    Columns the open sites already have keep their values (e.g. the PUE the cost model used);
    columns ``sites`` lacks are skipped. Use it to show catalog attributes (political stability,
    distance to the nearest network hub, …) in :func:`sites_table` and the HTML report.
    """
    from dataclasses import replace

    if "site_id" not in sites.columns or "site_id" not in result.open_sites.columns:
        return result
    extra = sites.drop_duplicates("site_id").set_index(sites["site_id"].astype(str))
    open_sites = result.open_sites.copy()
    ids = open_sites["site_id"].astype(str)
    for col in columns:
        if col in extra.columns and col not in open_sites.columns:
            open_sites[col] = ids.map(extra[col]).to_numpy()
    return replace(result, open_sites=open_sites)

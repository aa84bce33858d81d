"""One self-contained HTML report of one or several results.

The file works offline: plotly.js is embedded once, the map outlines are embedded (see
:mod:`placement.report.geo`), nothing is loaded from elsewhere. Every user-supplied string is
escaped (``html.escape`` in the page; ``<``, ``>``, ``&`` and the JavaScript line separators as
``\\uXXXX`` in the JSON handed to plotly), and the output is the same bytes for the same input.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from placement._io import atomic_write_text
from placement.report.figures import (
    LABELS,
    bandwidth_figure,
    comparison_table,
    cost_columns,
    cost_figure,
    latency_cdf_figure,
    map_figure,
    pareto_figure,
    result_labels,
    sites_table,
)
from placement.report.geo import geo_assets_script
from placement.result import Result, backup_sla_warning

__all__ = ["render_html", "safe_json", "write_html"]

_PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "scrollZoom": False}

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
color:#222;background:#fff}
header{padding:18px 28px;background:#1f3b57;color:#fff}
header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1400px}
section{margin-top:22px}
h2{border-bottom:2px solid #1f3b57;padding-bottom:4px}
h3{margin:18px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card .k{font-size:12px;color:#666}
.card .v{font-size:18px;font-weight:600}
.status-optimal{color:#2ca02c}.status-feasible{color:#ff7f0e}
.status-infeasible,.status-no_solution{color:#d62728}
.message{background:#fff4e5;border-left:4px solid #ff7f0e;padding:8px 12px}
.figure{width:100%;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
footer{color:#888;font-size:12px;padding:0 28px 20px}
""".strip()


# ----------------------------------------------------------------------------- escaping
def safe_json(obj: Any) -> str:
    """JSON text that is safe inside ``<script>``: ``<``, ``>``, ``&``, U+2028/9 as ``\\uXXXX``."""
    text = obj if isinstance(obj, str) else json.dumps(obj, allow_nan=False, sort_keys=True)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# ----------------------------------------------------------------------------- formatting
def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _fmt_num(digits: int) -> Callable[[Any], str]:
    return lambda v: f"{float(v):,.{digits}f}"


def _fmt_pct(v: Any) -> str:
    return f"{float(v):.1%}"


def _fmt_usd(v: Any) -> str:
    return f"${float(v):,.0f}"


def _fmt_gap(v: Any) -> str:
    return f"{float(v):.2%}"


_FORMATS: dict[str, Callable[[Any], str]] = {
    "load_share": _fmt_pct,
    "share_within_sla": _fmt_pct,
    "gap": _fmt_gap,
    "price_usd_per_kwh": _fmt_num(3),
    "pue": _fmt_num(2),
    "carbon_g_per_kwh": _fmt_num(0),
    "hub_distance_km": _fmt_num(0),
    "political_stability": _fmt_num(2),
    "political_stability_pctile": _fmt_num(1),
    "political_stability_est": _fmt_num(2),
    "carbon_tonnes_per_year": _fmt_num(0),
    "total_s": _fmt_num(2),
    "objective_value": lambda v: f"{float(v):,.4g}",
    "peak_gbps": _fmt_num(1),
    "egress_tb_per_month": _fmt_num(0),
}


def _format_cell(col: str, v: Any) -> tuple[str, bool]:
    """(text, is_number) of one table cell."""
    if _is_missing(v):
        return "–", False
    fmt = _FORMATS.get(col)
    if fmt is None:
        if col.endswith("_usd_per_year"):
            fmt = _fmt_usd
        elif col.endswith("_ms"):
            fmt = _fmt_num(1)
    if isinstance(v, bool):
        return str(v), False
    if isinstance(v, int | float) or hasattr(v, "dtype"):
        try:
            if fmt is not None:
                return fmt(v), True
            f = float(v)
            return (f"{int(f):,}" if f.is_integer() else f"{f:,.3g}"), True
        except (TypeError, ValueError):
            pass
    return str(v), False


def table_html(df: pd.DataFrame, *, css_class: str = "") -> str:
    """An escaped HTML ``<table>`` of ``df`` with human column labels and formatted numbers."""
    cls = f' class="{_e(css_class)}"' if css_class else ""
    head = "".join(f"<th>{_e(LABELS.get(c, c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = []
        for col, v in zip(df.columns, rec, strict=True):
            text, num = _format_cell(str(col), v)
            cells.append(f'<td class="num">{_e(text)}</td>' if num else f"<td>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# ----------------------------------------------------------------------------- figures
class _Figures:
    """Collects the figures of a page: div placeholders now, one script per figure at the end."""

    def __init__(self) -> None:
        self.scripts: list[str] = []
        self.geo = False

    def add(self, fig: go.Figure, div_id: str) -> str:
        if any(t.type in ("scattergeo", "choropleth") for t in fig.data):
            self.geo = True
        spec = safe_json(pio.to_json(fig, validate=False, pretty=False, remove_uids=True))
        self.scripts.append(
            f'Plotly.newPlot("{div_id}",(f={spec}).data,f.layout,{safe_json(_PLOTLY_CONFIG)});'
        )
        return f'<div class="figure" id="{div_id}"></div>'


def _card(key: str, value: str, css: str = "") -> str:
    cls = f' class="v {css}"' if css else ' class="v"'
    return f'<div class="card"><div class="k">{_e(key)}</div><div{cls}>{_e(value)}</div></div>'


def _cards(r: Result) -> str:
    m = r.metrics
    params = r.params or {}
    cards = [_card("status", r.status, f"status-{r.status}")]
    obj = params.get("objective")
    if obj:
        cards.append(_card("objective", str(obj)))
    if r.objective is not None and math.isfinite(r.objective):
        unit = str(params.get("objective_unit", "")).split(" (")[0]
        cards.append(_card("objective value", f"{r.objective:,.4g} {unit}".strip()))
    if r.gap is not None and math.isfinite(r.gap):
        cards.append(_card("gap", f"{r.gap:.2%}"))

    def metric(key: str, label: str, fmt: Callable[[float], str]) -> None:
        v = m.get(key)
        if v is not None and isinstance(v, int | float) and math.isfinite(v):
            cards.append(_card(label, fmt(float(v))))

    metric("n_open", "open sites", lambda v: f"{v:.0f}")
    metric("mean_latency_ms", "mean latency", lambda v: f"{v:.1f} ms")
    metric("p95_latency_ms", "p95 latency", lambda v: f"{v:.1f} ms")
    metric("max_latency_ms", "max latency", lambda v: f"{v:.1f} ms")
    sla = params.get("sla_ms") if params.get("sla_ms") is not None else params.get("max_latency_ms")
    metric(
        "share_within_sla",
        f"within SLA ({sla:g} ms)" if isinstance(sla, int | float) else "within SLA",
        lambda v: f"{v:.1%}",
    )
    metric("backup_mean_latency_ms", "backup mean latency", lambda v: f"{v:.1f} ms")
    metric("backup_max_latency_ms", "backup max latency", lambda v: f"{v:.1f} ms")
    metric("peak_gbps", "peak bandwidth", lambda v: f"{v:,.1f} Gbps")
    metric("egress_tb_per_month", "egress per month", lambda v: f"{v:,.0f} TB")
    metric("egress_usd_per_month", "egress bill per month", lambda v: f"${v:,.0f}")
    view = params.get("cost_view")
    metric(
        "total_cost_usd_per_year",
        f"cost per year ({view} view)" if isinstance(view, str) and view else "cost per year",
        lambda v: f"${v:,.0f}",
    )
    metric("compute_usd_per_year", "compute list price per year", lambda v: f"${v:,.0f}")
    metric("carbon_tonnes_per_year", "carbon per year", lambda v: f"{v:,.0f} t CO2e")
    total_s = (r.timings or {}).get("total_s")
    if total_s is not None and math.isfinite(total_s):
        cards.append(_card("solve time", f"{total_s:.2f} s"))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _constraints(r: Result) -> str:
    p = r.params or {}
    parts = []

    def sites(n: int) -> str:
        return f"{n} site{'' if n == 1 else 's'}"

    for key, text in (
        ("n_sites", lambda v: f"exactly {sites(v)}"),
        ("max_sites", lambda v: f"at most {sites(v)}"),
        ("min_sites", lambda v: f"at least {sites(v)}"),
        ("max_latency_ms", lambda v: f"every demand point's primary site within {v:g} ms"),
        ("sla_ms", lambda v: f"SLA {v:g} ms"),
        ("budget_usd_per_year", lambda v: f"budget ${v:,.0f} per year"),
    ):
        v = p.get(key)
        if v is not None and v != 0:
            if key == "sla_ms" and p.get("sla_share") is not None:
                parts.append(f"{p['sla_share']:.0%} of demand within {v:g} ms")
            else:
                parts.append(text(v))
    if (p.get("redundancy") or 1) > 1:
        parts.append(f"redundancy {p['redundancy']} across {p.get('failure_domain', 'site_id')}")
        b = p.get("backup_max_latency_ms")
        parts.append(f"backups within {b:g} ms" if b is not None else "no backup SLA")
    if p.get("capacity") is not None:
        cap = (p.get("streaming") or {}).get("capacity_gbps")
        parts.append(f"site capacity {cap:g} Gbps" if cap else "site capacities")
    if p.get("must_open"):
        parts.append(f"must open {', '.join(p['must_open'])}")
    stat = p.get("latency_statistic")
    if stat:  # which statistic of users' round trip every latency and SLA is stated in
        parts.append(f"latencies are users' {stat} round trip")
    if len(getattr(r, "unreachable", ())):
        u = r.unreachable
        parts.append(f"{len(u)} unreachable demand point(s) {u['handling'].iloc[0]}")
    return "; ".join(parts)


def _result_section(r: Result, label: str, idx: int, figs: _Figures, heading: bool) -> str:
    out = [f'<section id="result-{idx}">']
    if heading:
        out.append(f"<h2>{_e(label)}</h2>")
    out.append(_cards(r))
    cons = _constraints(r)
    if cons:
        out.append(f"<p>Constraints: {_e(cons)}.</p>")
    if r.message:
        out.append(f'<p class="message">{_e(r.message)}</p>')
    warning = backup_sla_warning(r.params or {}, r.metrics or {})
    if warning and r.ok:
        out.append(f'<p class="message warning">Warning: {_e(warning)}.</p>')
    if r.ok and len(r.assignments):
        out.append("<h3>Map</h3>")
        out.append(figs.add(map_figure(r), f"r{idx}-map"))
        out.append("<h3>Latency</h3>")
        out.append(figs.add(latency_cdf_figure(r), f"r{idx}-cdf"))
        if cost_columns(r):
            out.append("<h3>Cost</h3>")
            out.append(figs.add(cost_figure(r), f"r{idx}-cost"))
        if (r.params or {}).get("streaming") and "peak_gbps" in r.open_sites.columns:
            out.append("<h3>Bandwidth</h3>")
            out.append(figs.add(bandwidth_figure(r), f"r{idx}-bandwidth"))
    if r.ok and len(r.open_sites):
        out.append("<h3>Open sites</h3>")
        out.append(table_html(sites_table(r), css_class="sites"))
    out.append("</section>")
    return "\n".join(out)


def _pareto_axes(results: Sequence[Result]) -> tuple[str, str]:
    def has(key: str) -> bool:
        vals = [r.metrics.get(key) for r in results]
        return sum(isinstance(v, int | float) and math.isfinite(v) for v in vals) >= 1

    x = "total_cost_usd_per_year" if has("total_cost_usd_per_year") else "n_open"
    y = "p95_latency_ms" if has("p95_latency_ms") else "mean_latency_ms"
    return x, y


def render_html(result_or_results: Result | Sequence[Result], title: str | None = None) -> str:
    """The report as one HTML string (see :func:`write_html`)."""
    results = (
        [result_or_results] if isinstance(result_or_results, Result) else list(result_or_results)
    )
    if not results:
        raise ValueError("no result to report")
    for r in results:
        if not isinstance(r, Result):
            raise TypeError(f"expected Result objects, got {type(r).__name__}")
    labels = result_labels(results)
    if title is None:
        title = results[0].name if len(results) == 1 and results[0].name else "Placement report"
    figs = _Figures()
    body = []
    if len(results) == 1:
        r = results[0]
        sub = [f"status {r.status}"]
        if (r.params or {}).get("objective"):
            sub.append(f"objective {r.params['objective']}")
        if r.gap is not None and math.isfinite(r.gap):
            sub.append(f"gap {r.gap:.2%}")
        subtitle = " · ".join(sub)
        body.append(_result_section(r, labels[0], 1, figs, heading=False))
    else:
        n_ok = sum(r.ok for r in results)
        subtitle = f"{len(results)} results compared ({n_ok} with a solution)"
        cmp = ['<section id="comparison"><h2>Comparison</h2>']
        cmp.append(table_html(comparison_table(results), css_class="comparison"))
        x, y = _pareto_axes(results)
        cmp.append(figs.add(pareto_figure(results, x=x, y=y), "cmp-pareto"))
        cmp.append("</section>")
        body.append("\n".join(cmp))
        for i, (r, label) in enumerate(zip(results, labels, strict=True), start=1):
            body.append(_result_section(r, label, i, figs, heading=True))

    scripts = [f"<script>{get_plotlyjs()}</script>"]
    if figs.geo:
        scripts.append(f"<script>{geo_assets_script()}</script>")
    scripts.append("<script>(function(){var f;" + "".join(figs.scripts) + "})();</script>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            f'<body data-figures="{len(figs.scripts)}">',
            f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>",
            "<main>",
            *body,
            "</main>",
            "<footer>Made by placement. Map outlines: Natural Earth (public domain) via "
            "world-atlas.</footer>",
            *scripts,
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html(
    result_or_results: Result | Sequence[Result],
    path: str | os.PathLike[str],
    title: str | None = None,
) -> Path:
    """Write a self-contained HTML report of one result, or a comparison of several.

    Parameters
    ----------
    result_or_results : Result or sequence of Result
        One result (header, map, latency CDF, cost bars, sites table) or several (a comparison
        table and trade-off chart first, then one section per result).
    path : path-like
        Destination ``.html`` file, written atomically (whole or not at all).
    title : str, optional
        Page title; default the result's name, else "Placement report".

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = render_html(result_or_results, title=title)
    return atomic_write_text(path, text)

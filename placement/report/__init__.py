"""Reports of results: plotly figures, tables, and one self-contained HTML file.

The figure functions return plotly figures usable alone in a notebook; :func:`write_html` puts
them, with the tables, in one offline HTML file. (The headless-Chromium check of a report is a
test tool, ``tests/browser.py``, not part of the installed package.)

Examples
--------
>>> from placement.report import map_figure, write_html  # doctest: +SKIP
>>> map_figure(result).show()  # doctest: +SKIP
>>> write_html([baseline, with_sla], "reports/compare.html", title="SLA or not")  # doctest: +SKIP
"""

from __future__ import annotations

from placement.report.figures import (
    comparison_table,
    cost_figure,
    latency_cdf_figure,
    map_figure,
    pareto_figure,
    sites_table,
    with_site_attributes,
)
from placement.report.html import render_html, write_html

__all__ = [
    "comparison_table",
    "cost_figure",
    "latency_cdf_figure",
    "map_figure",
    "pareto_figure",
    "render_html",
    "sites_table",
    "with_site_attributes",
    "write_html",
]

"""Report figures, tables and the self-contained HTML file (no browser needed)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from placement.report import (
    comparison_table,
    cost_figure,
    latency_cdf_figure,
    map_figure,
    pareto_figure,
    render_html,
    sites_table,
    with_site_attributes,
    write_html,
)
from placement.report.example import example_result
from placement.report.geo import world_topojson
from placement.report.html import safe_json
from placement.result import Result

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def result() -> Result:
    return example_result(name="baseline")


@pytest.fixture(scope="module")
def redundant() -> Result:
    return example_result(name="two sites each", redundancy=2)


def _names(fig) -> list[str]:
    return [t.name for t in fig.data]


# ----------------------------------------------------------------------------- figures
def test_map_has_sites_demand_and_one_trace_per_line_kind(redundant: Result) -> None:
    fig = map_figure(redundant)
    assert _names(fig) == [
        "candidate sites",
        "backup assignments",
        "primary assignments",
        "demand",
        "open sites",
    ]
    traces = {t.name: t for t in fig.data}
    # 10 cities, one primary and one backup each: 10 segments of 3 points (site, city, None)
    assert len(traces["primary assignments"].lon) == 30
    assert list(traces["primary assignments"].lon[2::3]) == [None] * 10
    assert traces["backup assignments"].line.dash == "dash"
    assert traces["primary assignments"].line.dash is None
    # open sites sized by load: Tokyo (GCP) serves the most, so it is the largest marker
    sites = traces["open sites"]
    big = int(np.argmax(sites.marker.size))
    assert sites.text[big] == "GCP Tokyo"
    assert len(sites.lon) == 4
    assert len(traces["candidate sites"].lon) == 2
    # demand coloured by its primary latency: London is served from Frankfurt (~640 km)
    demand = traces["demand"]
    london = redundant.demand["demand_id"].tolist().index("london")
    assert demand.marker.color[london] == pytest.approx(1 + 637.0 / 100 * 1.1, abs=0.3)
    assert fig.layout.geo.showland is True


def test_map_without_backups_has_no_backup_trace(result: Result) -> None:
    assert "backup assignments" not in _names(map_figure(result))


def test_map_without_coordinates_says_so() -> None:
    r = example_result()
    bare = replace(
        r,
        sites=pd.DataFrame(),
        demand=pd.DataFrame(),
        open_sites=r.open_sites.drop(columns=["lat_deg", "lon_deg"]),
    )
    fig = map_figure(bare)
    assert len(fig.data) == 0
    assert "no coordinates" in fig.layout.annotations[0].text


def test_latency_cdf_overall_and_per_continent_with_sla(result: Result) -> None:
    fig = latency_cdf_figure(result)
    assert _names(fig) == ["all demand", "AS", "EU", "NA", "OC", "SA"]
    overall = fig.data[0]
    assert overall.y[0] == 0.0
    assert overall.y[-1] == pytest.approx(1.0)
    assert list(overall.x) == sorted(overall.x)
    # the weighted median read off the CDF equals the metric
    i = int(np.searchsorted(np.asarray(overall.y), 0.5))
    assert overall.x[i] == pytest.approx(result.metrics["p50_latency_ms"])
    assert overall.x[-1] == pytest.approx(result.metrics["max_latency_ms"])
    # Oceania is one city (Sydney): one step from 0 to 1
    oc = fig.data[_names(fig).index("OC")]
    assert list(oc.y) == [0.0, 1.0]
    shapes = fig.layout.shapes
    assert len(shapes) == 1 and shapes[0].x0 == 150.0


def test_latency_cdf_without_group_column_or_sla() -> None:
    r = example_result(sla_ms=None)
    fig = latency_cdf_figure(r, by="no-such-column")
    assert _names(fig) == ["all demand"]
    assert len(fig.layout.shapes) == 0


def test_cost_figure_stacks_components_and_totals(result: Result) -> None:
    fig = cost_figure(result)
    assert _names(fig) == [
        "energy",
        "fixed",
        "carbon",
        "egress",
        "served: energy + carbon",
        "total",
    ]
    assert fig.layout.barmode == "stack"
    bars = [t for t in fig.data if t.type == "bar"]
    stacked = np.sum([np.asarray(b.y) for b in bars], axis=0)
    totals = np.asarray(fig.data[-1].y)
    np.testing.assert_allclose(stacked, totals, rtol=1e-9)
    assert totals.sum() == pytest.approx(result.metrics["total_cost_usd_per_year"], rel=1e-9)
    assert list(totals) == sorted(totals, reverse=True)
    assert fig.data[-1].text[0] == "$1.84M"


def test_cost_figure_without_costs_is_an_annotated_empty_figure() -> None:
    fig = cost_figure(example_result(costed=False))
    assert len(fig.data) == 0
    assert "no site costs" in fig.layout.annotations[0].text


def test_sites_table_has_the_planner_columns(result: Result) -> None:
    t = sites_table(result)
    assert list(t.columns) == [
        "site_id",
        "display_name",
        "provider",
        "city",
        "country_code",
        "load_share",
        "n_demand",
        "price_usd_per_kwh",
        "pue",
        "carbon_g_per_kwh",
        "political_stability_pctile",
        "nearest_hub",
        "hub_distance_km",
        "total_usd_per_year",
    ]
    assert t["site_id"].iloc[0] == "gcp:asia-northeast1"  # Tokyo + Seoul + Sydney
    assert t["load_share"].sum() == pytest.approx(1.0)
    assert t["load_share"].iloc[0] == pytest.approx((37.4 + 9.9 + 5.3) / 138.5)
    assert t.set_index("site_id").loc["aws:us-east-1", "price_usd_per_kwh"] == 0.09


def test_sites_table_uncosted_falls_back_to_what_is_there() -> None:
    t = sites_table(example_result(costed=False))
    assert "price_usd_per_kwh" not in t.columns
    assert "total_usd_per_year" not in t.columns
    assert {"site_id", "load_share", "n_demand", "city"} <= set(t.columns)


def test_comparison_table_and_pareto(result: Result, redundant: Result) -> None:
    cheap = example_result(name="uncosted", costed=False)
    t = comparison_table([result, redundant, cheap])
    assert t["name"].tolist() == ["baseline", "two sites each", "uncosted"]
    assert t["n_open"].tolist() == [4, 4, 4]
    assert math.isnan(t["backup_mean_latency_ms"].iloc[0])
    assert t["backup_mean_latency_ms"].iloc[1] > t["mean_latency_ms"].iloc[1]
    assert math.isnan(t["total_cost_usd_per_year"].iloc[2])
    assert t["open_sites"].iloc[0].startswith("aws:eu-central-1, aws:us-east-1")

    fig = pareto_figure([result, redundant, cheap])
    scen = fig.data[_names(fig).index("scenarios")]
    assert list(scen.text) == ["baseline", "two sites each"]  # "uncosted" has no cost
    front = fig.data[_names(fig).index("Pareto front")]
    assert list(front.x) == [result.metrics["total_cost_usd_per_year"]]  # equal points: one


def test_pareto_front_drops_dominated_points() -> None:
    base = example_result()

    def scen(name: str, cost: float, p95: float) -> Result:
        m = {**base.metrics, "total_cost_usd_per_year": cost, "p95_latency_ms": p95}
        return replace(base, name=name, metrics=m)

    rs = [scen("a", 1.0, 50.0), scen("b", 2.0, 30.0), scen("c", 3.0, 40.0), scen("d", 4.0, 10.0)]
    fig = pareto_figure(rs)
    front = fig.data[0]
    assert front.name == "Pareto front"
    assert list(front.x) == [1.0, 2.0, 4.0]
    assert list(front.y) == [50.0, 30.0, 10.0]


def test_duplicate_and_missing_names_get_distinct_labels(result: Result) -> None:
    t = comparison_table([result, result, replace(result, name="")])
    assert t["name"].tolist() == ["baseline", "baseline (2)", "result 3"]


# ----------------------------------------------------------------------------- HTML
def _scripts(text: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", text)


def test_html_is_self_contained_with_plotly_once(tmp_path, result: Result) -> None:
    path = write_html(result, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count(get_plotlyjs()) == 1
    assert text.count("plotly.js v") == 1
    assert all("src=" not in s for s in _scripts(text))
    assert "<link" not in text
    assert 'src="http' not in text and "cdn.plot.ly/plotly" not in text
    # the map outlines are embedded (plotly.js would fetch them otherwise)
    assert text.count(world_topojson()) == 1
    assert 't["world_110m"]=w' in text
    # header, figures and table
    assert "<title>baseline</title>" in text
    assert 'data-figures="3"' in text
    for div in ("r1-map", "r1-cdf", "r1-cost"):
        assert text.count(f'id="{div}"') == 1
        assert f'Plotly.newPlot("{div}"' in text
    assert "<th>power price (USD/kWh)</th>" in text
    assert "<td>GCP Tokyo</td>" in text
    assert "$5,901,159" in text


def test_html_is_deterministic(tmp_path, redundant: Result) -> None:
    a = render_html(redundant, title="t")
    b = render_html(example_result(name="two sites each", redundancy=2), title="t")
    assert a == b
    assert not re.search(r'id="[0-9a-f]{8}-[0-9a-f]{4}-', a)  # no random plotly div ids


def test_user_strings_are_escaped_everywhere(tmp_path) -> None:
    r = example_result(name=EVIL, site_names={"gcp:asia-northeast1": EVIL})
    text = write_html(r, tmp_path / "evil.html", title=EVIL).read_text(encoding="utf-8")
    assert EVIL not in text
    assert "</script>alert" not in text.lower()
    assert "<script>alert" not in text.lower()
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in text
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in text
    # inside the plotly JSON the name is escaped twice over: as HTML text for plotly.js to show,
    # then < and > as \u003c / \u003e so that nothing can close the <script> element
    assert "\\u0026lt;script\\u0026gt;alert(1)" in text
    # every <script> element opened is closed exactly once, by the page's own tags
    assert len(_scripts(text)) == text.count("</script>") == 3


def test_safe_json_escapes_script_breakers() -> None:
    out = safe_json({"name": "</script><b>&\u2028"})
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"name": "</script><b>&\u2028"}


def test_comparison_of_two_results(tmp_path, result: Result, redundant: Result) -> None:
    text = write_html([result, redundant], tmp_path / "cmp.html").read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()) == 1
    assert '<section id="comparison">' in text
    assert "<h2>baseline</h2>" in text and "<h2>two sites each</h2>" in text
    assert 'Plotly.newPlot("cmp-pareto"' in text
    assert 'data-figures="7"' in text  # pareto + 3 per result
    assert "<title>Placement report</title>" in text
    assert text.index('id="comparison"') < text.index('id="result-1"') < text.index('id="result-2"')


def test_infeasible_result_renders_its_reason_without_figures(tmp_path) -> None:
    r = Result(
        status="infeasible",
        objective=None,
        best_bound=None,
        gap=None,
        open_sites=pd.DataFrame({"site_id": []}),
        assignments=pd.DataFrame(
            columns=["demand_id", "site_id", "rank", "latency_ms", "share", "weight"]
        ),
        metrics={},
        params={"objective": "median", "max_latency_ms": 5.0},
        message="Sydney is 87 ms from the nearest candidate, above the 5 ms SLA",
        name="too strict",
    )
    text = write_html(r, tmp_path / "inf.html").read_text(encoding="utf-8")
    assert "Sydney is 87 ms from the nearest candidate" in text
    assert 'data-figures="0"' in text
    assert 't["world_110m"]' not in text


def test_result_read_back_from_json_renders_the_same(tmp_path, redundant: Result) -> None:
    back = Result.from_json(redundant.to_json())
    assert render_html(back) == render_html(redundant)


def test_write_html_is_atomic(tmp_path, result: Result, monkeypatch) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")

    def boom(*_a, **_k):
        raise RuntimeError("render failed")

    monkeypatch.setattr("placement.report.html.render_html", boom)
    with pytest.raises(RuntimeError):
        write_html(result, target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_with_site_attributes_adds_missing_catalog_columns() -> None:
    r = example_result(costed=False)
    catalog = pd.DataFrame(
        {
            "site_id": ["aws:eu-central-1", "aws:us-east-1", "gcp:asia-northeast1"],
            "political_stability_pctile": [63.2, 45.8, 85.4],
            "hub_distance_km": [3.0, 2.0, 5.0],
            "pue": [9.0, 9.0, 9.0],
        }
    )
    enriched = with_site_attributes(r, catalog)
    t = sites_table(enriched).set_index("site_id")
    assert t.loc["aws:us-east-1", "political_stability_pctile"] == 45.8
    assert math.isnan(t.loc["azure:brazilsouth", "hub_distance_km"])  # not in the catalog given
    assert "political_stability_pctile" not in r.open_sites.columns  # the original is unchanged
    costed = with_site_attributes(example_result(), catalog)
    assert costed.open_sites["pue"].tolist() == example_result().open_sites["pue"].tolist()


def test_report_of_a_solved_problem(tmp_path) -> None:
    """A Result from Problem.solve (redundancy 2, fixed costs) renders, also after JSON."""
    from placement.geo import distance_matrix_km
    from placement.problem import Problem

    ex = example_result()
    sites = ex.sites.assign(fixed_cost_usd_per_year=[3e5, 2e5, 4e5, 1e5, 2.5e5, 3.5e5])
    demand = ex.demand
    d = distance_matrix_km(demand["lat_deg"], demand["lon_deg"], sites["lat_deg"], sites["lon_deg"])
    latency = pd.DataFrame(
        {
            "demand_id": np.repeat(demand["demand_id"].to_numpy(), len(sites)),
            "site_id": np.tile(sites["site_id"].to_numpy(), len(demand)),
            "latency_ms": (1.0 + d / 100.0 * 1.1).ravel(),
        }
    )
    r = Problem(
        sites, demand, latency=latency, objective="median", n_sites=3, redundancy=2, name="solved"
    ).solve()
    assert r.status == "optimal"
    fig = map_figure(r)
    assert {"backup assignments", "primary assignments", "demand", "open sites"} <= set(_names(fig))
    assert len(fig.data[_names(fig).index("open sites")].lon) == 3
    text = write_html(Result.from_json(r.to_json()), tmp_path / "solved.html").read_text()
    assert 'data-figures="3"' in text  # map, CDF and the fixed costs
    assert "<h3>Cost</h3>" in text
    assert text.count("<tr>") == 1 + 3  # header + one row per open site

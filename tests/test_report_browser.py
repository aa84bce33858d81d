"""The HTML report in a real browser: no JavaScript error, every figure drawn, a non-blank page.

Needs headless Chromium (Debian: ``apt-get install chromium``); skipped when none is on the PATH.
"""

from __future__ import annotations

import pytest
from browser import check_page, find_chromium, png_stats, screenshot

from placement.report import write_html
from placement.report.example import example_result

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="no chromium, chromium-browser or google-chrome on the PATH",
    ),
]

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A comparison of two results (map with backups, CDFs, costs, Pareto) with a hostile name."""
    folder = tmp_path_factory.mktemp("browser")
    a = example_result(name="one site each", site_names={"aws:us-east-1": EVIL})
    b = example_result(name="two sites each", redundancy=2)
    return write_html([a, b], folder / "report.html", title="Browser check")


def test_every_figure_renders_without_errors_or_requests(report) -> None:
    page = check_page(report)
    assert page.errors == []
    assert page.requests == []  # self-contained: no CDN, no map data fetched
    assert page.expected_figures == 7
    assert page.figures == [
        "cmp-pareto",
        "r1-map",
        "r1-cdf",
        "r1-cost",
        "r2-map",
        "r2-cdf",
        "r2-cost",
    ]
    assert page.rendered == page.figures
    assert page.maps_with_land == ["r1-map", "r2-map"]  # the embedded outlines were drawn
    # the hostile site name is shown as text (in the table and on the map), never run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.dom
    assert "<script>alert(1)" not in page.dom


def test_screenshot_is_not_blank(report, tmp_path) -> None:
    png = screenshot(report, tmp_path / "report.png", width=1200, height=1600)
    stats = png_stats(png)
    assert (stats["width"], stats["height"]) == (1200, 1600)
    assert stats["distinct_colors"] > 200  # map colours, bars, antialiased text
    assert 0.05 < stats["non_white"] < 0.9

"""Run every notebook in notebooks/ top to bottom and check what its prose says.

Each notebook runs in a fresh kernel (nbclient); any error or failed ``assert`` fails the test.
Then one more cell, run in the same kernel but never written to the file, pickles the values
that the notebook's prose rests on (``CLAIMS[name][0]``: key -> expression in the notebook's
namespace), and the sentences built from them (``CLAIMS[name][1]``, rounded as the prose rounds)
must appear in the notebook's markdown, as ``QUOTED`` does for the cookbook in test_docs.py: a
data or model change that moves a quoted figure fails here until the prose is updated. The run
must also print no Python warning and show every plotly figure with data.
"""

from __future__ import annotations

import pickle
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
TIMEOUT_S = 600
PLOTLY = "application/vnd.plotly.v1+json"
#: A Python warning as printed to stderr (``file.py:12: UserWarning: ...``, ``TqdmWarning: ...``).
_WARNING = re.compile(r"\b\w*Warning\b")
#: The catalog's age note depends on today's date, not on the notebook (catalog.sites).
_DATED = "catalog data older than"


def _usd(v: float) -> str:
    """Money as the notebooks' prose writes it: ``$1.22 million``, ``$441 thousand``."""
    a = abs(v)
    if a >= 1e6:
        return f"${v / 1e6:,.2f} million"
    if a >= 1e3:
        return f"${v / 1e3:,.0f} thousand"
    return f"${v:,.0f}"


def _ids(cell: str) -> list[str]:
    """Site ids of a ``compare`` table's ``opened`` / ``closed`` / ``open_sites`` entry."""
    return [s for s in str(cell).split(", ") if s]


def _named(ids: list[str], city: Any) -> str:
    """``aws:us-east-1 (Ashburn)``, ``a (A) and b (B)``."""
    return " and ".join(f"{s} ({city[s]})" for s in ids)


def _has_points(trace: dict[str, Any]) -> bool:
    """Whether a plotly trace has x values (a list, or plotly's base64 ``{"bdata": ...}``)."""
    x = trace.get("x")
    if isinstance(x, dict):
        return bool(x.get("bdata"))
    return x is not None and len(x) > 0


def _verb(ids: list[str], singular: str, plural: str) -> str:
    return singular if len(ids) == 1 else plural


def _power_shock(v: dict[str, Any]) -> list[str]:
    t, locked, w = v["table"], v["locked"], v["weight"]
    city = v["sites"].set_index("site_id")["city"]
    (mult,) = set(v["multiply"])
    quotes = [
        f"electricity +{100 * (mult - 1):.0f} % in Virginia and Ireland",
        f"power gets {100 * (mult - 1):.0f} % dearer",
        f"energy of a {v['it_load_kw'] / 1000:g} MW IT load per site",
        f"(${w / 1e6:g} million a year per ms)",
    ]
    opened, closed = _ids(t["opened"].iloc[1]), _ids(t["closed"].iloc[1])
    assert opened or closed, "the prose says the plan moves under the shock"
    n0, n1 = (int(n) for n in t["n_open"])
    extra = t["objective"].iloc[1] - t["objective"].iloc[0]
    energy = t["energy_usd_per_year"].iloc[1] - t["energy_usd_per_year"].iloc[0]
    faster = t["mean_latency_ms"].iloc[0] - t["mean_latency_ms"].iloc[1]
    quotes += [
        f"The plan moves: {_named(closed, city)} {_verb(closed, 'closes', 'close')} and "
        f"{_named(opened, city)} {_verb(opened, 'opens', 'open')}, {n1} sites instead of {n0}.",
        f"The shock costs {_usd(extra)} a year more: energy costs {_usd(energy)} more, and the new "
        f"plan's mean latency is {abs(faster):.2f} ms {'lower' if faster > 0 else 'higher'}, "
        f"worth {_usd(abs(faster) * w)}.",
    ]
    today = set(_ids(t["open_sites"].iloc[0]))
    already = [s for s in v["committed"] if s in today]
    added, dropped = _ids(locked["opened"].iloc[1]), _ids(locked["closed"].iloc[1])
    commitment = locked["objective"].iloc[1] - locked["objective"].iloc[0]
    shocked = locked["objective"].iloc[2] - locked["objective"].iloc[1]
    stays = locked["open_sites"].iloc[2] == locked["open_sites"].iloc[1]
    quotes += [
        f"Today's plan already runs {', '.join(already)}, so the commitment is to "
        f"{_named(added, city)}, which {_verb(added, 'replaces', 'replace')} "
        f"{_named(dropped, city)}: it costs {_usd(commitment)} a year.",
        f"Committed, the plan {'does not move' if stays else 'moves'} under the shock, which then "
        f"costs {_usd(shocked)} a year, against {_usd(extra)} when we may move.",
    ]
    return quotes


def _calgary(v: dict[str, Any]) -> list[str]:
    sites, new, t, gains = v["sites"], v["new"], v["table"], v["gains"]
    canada = sites.loc[sites["country_code"] == "CA", "city"]
    levels = (new["price_level"], new["carbon_level"])
    quotes = [
        f"Google Cloud has Canadian regions in {' and '.join(sorted(canada))} only.",
        f"We place {v['n_sites']} regions",
        f"its climate from the catalog's {new['climate_point'].split(':')[-1]} weather station"
        if new["climate_level"] == "station"
        else f"its climate from the catalog's {new['climate_level']} table",
        "The catalog has no electricity price or grid carbon for Alberta, so the site gets "
        "Canada's averages"
        if levels == ("country", "country") and new["subdivision_code"] == "CA-AB"
        else f"price level {levels[0]}, carbon level {levels[1]}",
    ]
    assert _ids(t["opened"].iloc[1]) == ["new:calgary"]
    replaced = _ids(t["closed"].iloc[1])
    city = sites.set_index("site_id")["city"]
    big = gains[gains["gain_ms"] > 10]
    after = gains[gains["gain_ms"] <= 10].iloc[0]
    quotes += [
        f"Calgary enters the {v['n_sites']}-region plan in place of {_named(replaced, city)}.",
        f"Canadian users' mean latency falls from {v['mean0']:.1f} ms to {v['mean1']:.1f} ms "
        f"(all users': {t['mean_latency_ms'].iloc[0]:.1f} ms to "
        f"{t['mean_latency_ms'].iloc[1]:.1f} ms).",
        "Cities gaining more than 10 ms: "
        + ", ".join(f"{r['name']} ({r['gain_ms']:.1f} ms)" for _, r in big.iterrows())
        + f"; the next, {after['name']}, gains {after['gain_ms']:.1f} ms.",
    ]
    return quotes


def _how_many(v: dict[str, Any]) -> list[str]:
    t, front, two = v["t"], v["front"], v["two"]
    mw = v["it_load_kw"] / 1000
    quotes = [
        f"N = 1 … {int(t['n_sites'].max())} sites (median placement, {mw:g} MW IT load per site)",
        f"solves the {len(t)} points",
    ]
    f = front.sort_values("total_cost_usd_per_year").reset_index(drop=True)
    cost, ms, n = f["total_cost_usd_per_year"], f["mean_latency_ms"], f["n_sites"].astype(int)
    k = int(f.index[f["is_knee"]][0])
    per_ms = [(cost[i] - cost[i - 1]) / (ms[i - 1] - ms[i]) for i in range(1, len(f))]
    before, after = per_ms[:k], per_ms[k:]
    knee_ms = ms[k]
    quotes += [
        f"The frontier bends at {n[k]} sites (the knee): {n[k]} sites give a mean latency of "
        f"{knee_ms:.1f} ms for {_usd(cost[k])} a year, against {ms[0]:.1f} ms with {n[0]} site.",
        ("Past the knee each ms costs more: " if min(after) > max(before) else "Past the knee: ")
        + f"{_usd(after[0])} a year per ms from {n[k]} to {n[k + 1]} sites, "
        f"{_usd(after[-1])} from {n.iloc[-2]} to {n.iloc[-1]}.",
    ]
    r2_ms = two.loc[n[k], "mean_latency_ms"]
    m = int(two.index[two["mean_latency_ms"] < knee_ms].min())
    quotes += [
        f"Redundancy 2 needs at least {int(two.index.min())} sites and "
        f"{'costs' if r2_ms > knee_ms else 'does not cost'} latency: with {n[k]} sites the "
        f"primaries' mean latency is {r2_ms:.1f} ms instead of {knee_ms:.1f} ms, and it takes {m} "
        f"sites ({_usd(two.loc[m, 'total_cost_usd_per_year'])} a year) to get under "
        f"{knee_ms:.1f} ms.",
        f"Each open site is costed for its {mw:g} MW load whatever it serves",
    ]
    return quotes


Values = dict[str, str]
#: Notebook -> (key -> expression evaluated in its kernel after the run, the sentences its
#: markdown must contain, computed from those values).
CLAIMS: dict[str, tuple[Values, Callable[[dict[str, Any]], list[str]]]] = {
    "01_power_shock": (
        {
            "table": "table",
            "locked": "locked",
            "sites": "sites",
            "weight": "base.latency_weight_usd_per_ms",
            "it_load_kw": "base.cost_model.it_load_kw",
            "multiply": "[r.multiply for r in shock.power_prices]",
            "committed": 'COMMITTED["must_open"]',
        },
        _power_shock,
    ),
    "02_calgary_region": (
        {
            "sites": "base.sites",
            "n_sites": "base.n_sites",
            "new": 'with_calgary.sites.set_index("site_id").loc["new:calgary"]',
            "table": "table",
            "mean0": "mean0",
            "mean1": "mean1",
            "gains": "gains",
        },
        _calgary,
    ),
    "03_how_many_regions": (
        {"t": "t", "front": "front", "two": "two", "it_load_kw": "base.cost_model.it_load_kw"},
        _how_many,
    ),
}


def _markdown(nb: Any) -> str:
    """The notebook's markdown as read: whitespace collapsed, ``**bold**`` marks dropped, ``\\$``
    (a dollar sign that Jupyter must not take for LaTeX) shown as ``$``."""
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return " ".join(text.replace("**", "").replace("\\$", "$").split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_says_what_it_computes(path: Path, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    pytest.importorskip("plotly", reason="plotly is not installed")
    assert path.stem in CLAIMS, f"say in CLAIMS which of {path.name}'s sentences to check"
    values, quotes = CLAIMS[path.stem]
    nb = nbformat.read(path, as_version=4)
    n_cells = len(nb.cells)
    dump = tmp_path / "values.pickle"
    items = ", ".join(f"{k!r}: {expr}" for k, expr in values.items())
    nb.cells.append(  # run in the kernel, never written to the notebook file
        nbformat.v4.new_code_cell(
            f"import pickle\nwith open({str(dump)!r}, 'wb') as f:\n    pickle.dump({{{items}}}, f)"
        )
    )
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on any error, asserts included
    assert time.perf_counter() - t0 < TIMEOUT_S

    # the numbers the prose quotes are the ones the cells compute today
    with dump.open("rb") as f:
        got = pickle.load(f)
    text = _markdown(nb)
    for quote in quotes(got):
        assert quote in text, f"{path.name} should say {quote!r} (what its cells compute now)"

    # the user sees no warning, and every figure has data
    for i, cell in enumerate(nb.cells[:n_cells]):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr":
                shown = [ln for ln in out.text.splitlines() if _WARNING.search(ln)]
                assert all(_DATED in ln for ln in shown), f"{path.name} cell {i} warns: {shown}"
        if "fig.show()" in cell.source:
            figs = [o.data[PLOTLY] for o in cell.outputs if PLOTLY in o.get("data", {})]
            assert figs, f"{path.name} cell {i} shows no plotly figure"
            for fig in figs:
                ok = fig["data"] and all(_has_points(tr) for tr in fig["data"])
                assert ok, f"{path.name} cell {i} shows a figure without data"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_file_is_clean(path: Path) -> None:
    """Stored without outputs; every ``$`` of the markdown escaped (Jupyter reads ``$..$`` as LaTeX)."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} cell {i}"
        else:
            bare = re.findall(r"(?<!\\)\$\S*", cell.source)
            assert not bare, f"{path.name} cell {i}: write \\$ for {bare}"

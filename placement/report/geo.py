"""Offline map outlines for plotly's geo subplots.

plotly.js draws the land, coastlines and country borders of a ``geo`` subplot from a TopoJSON file
it downloads from a CDN unless ``window.PlotlyGeoAssets.topojson[name]`` already holds it. A report
must work offline, so it embeds the shipped ``world_110m.json`` under every scope name plotly.js may
ask for at the 110m resolution.

The file was built from the npm package ``world-atlas`` 2.0.2 (Natural Earth 1:110m, public
domain; licence in ``world_110m.NOTICE.txt``)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python - <<'EOF'
    import json
    c = json.load(open("package/countries-110m.json"))
    for g in c["objects"]["countries"]["geometries"]:
        g.pop("properties", None); g.pop("id", None)
    land = c["objects"]["land"]
    topo = {"type": "Topology", "bbox": c["bbox"], "transform": c["transform"],
            "objects": {"land": land, "coastlines": land, "countries": c["objects"]["countries"]},
            "arcs": c["arcs"]}
    open("world_110m.json", "w").write(json.dumps(topo, separators=(",", ":")) + "\\n")
    EOF

Only the ``land``, ``coastlines`` and ``countries`` layers exist; the figures of this package
show no others (ocean, lakes, rivers and sub-national borders would need more outlines).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["GEO_LAYERS", "geo_assets_script", "world_topojson"]

#: The base layers the shipped outlines provide.
GEO_LAYERS = ("land", "coastlines", "countries")

#: Scope names plotly.js combines with the resolution ("world_110m", "europe_110m", …).
_SCOPES = ("world", "europe", "asia", "africa", "north-america", "south-america")


@cache
def world_topojson() -> str:
    """The shipped world outlines (TopoJSON text, objects ``land``, ``coastlines``, ``countries``)."""
    return (
        resources.files("placement.report").joinpath("world_110m.json").read_text("utf-8").strip()
    )


def geo_assets_script() -> str:
    """JavaScript that registers the outlines with plotly.js (to run before any plot is drawn).

    Returns
    -------
    str
        The body of a ``<script>`` element (no tags). The TopoJSON holds only numbers and fixed
        keys, so it cannot close the element.
    """
    aliases = "".join(f't["{s}_110m"]=w;' for s in _SCOPES)
    return (
        "(function(){var a=window.PlotlyGeoAssets=window.PlotlyGeoAssets||{};"
        "var t=a.topojson=a.topojson||{};"
        f"var w={world_topojson()};{aliases}}})();"
    )

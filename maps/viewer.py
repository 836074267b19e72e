"""The department viewer: a folium (Leaflet) map of AOIs and the catalog's layers, with legends.

Vietnamese by default, English with ``lang="en"``. Works offline: Leaflet is served by hpgeo
itself (``assets="local"``), and no basemap from the internet is required.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any, Iterable
from urllib.parse import quote, urlencode

import folium
from branca.element import Element

from maps.colormaps import get_colormap
from maps.i18n import norm_lang, t
from maps.render import default_render

__all__ = ["build_viewer", "aoi_url", "LEAFLET_STATIC", "AOI_SIMPLIFY_M"]

LEAFLET_STATIC = "/viewer/static/leaflet"
HAIPHONG_CENTER = (20.78, 106.72)
#: Simplification tolerance of the AOI outlines drawn by the viewer (metres): under a pixel up to
#: zoom 12 (~35 m/px at 20.8° N), and a million-vertex boundary is served in a few hundred kB.
AOI_SIMPLIFY_M = 20.0
_AOI_STYLE = {"color": "#334155", "weight": 2, "dashArray": "4"}
_ADMIN_STYLE = {"color": "#7c3aed", "weight": 1, "dashArray": ""}


def aoi_url(base: str, source: str, on: dt.date | None = None, simplify_m: float = AOI_SIMPLIFY_M) -> str:
    """The GeoJSON the viewer fetches for a layer of AOIs (``source``: builtin or imported)."""
    q = {"source": source, "simplify": f"{simplify_m:g}"}
    if on is not None:
        q["on"] = on.isoformat()
    return f"{base}/aois?{urlencode(q)}"


def _js(value: Any) -> str:
    """A JSON value safe inside <script> (no '</' can close the element)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _vector_script(layers: list[dict[str, Any]], lang: str) -> str:
    """Fetch each layer's GeoJSON and add it to its (initially empty) Leaflet feature group."""
    labels = {"area": t("area", lang), "valid": t("valid", lang), "lang": lang}
    return f"""<script>
document.addEventListener("DOMContentLoaded", function () {{
  var layers = {_js(layers)}, S = {_js(labels)};
  function esc(s) {{ return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {{ return {{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}}[c]; }}); }}
  function tip(p) {{
    var km2 = Number(p.area_km2).toLocaleString("en-US", {{minimumFractionDigits: 1, maximumFractionDigits: 1}});
    var s = "<b>" + esc(S.lang === "en" ? p.name_en : p.name_vi) + "</b><br>" + esc(S.area) + ": " + km2 + " km²";
    if (p.valid_from || p.valid_to) s += "<br>" + esc(S.valid) + ": " + esc(p.valid_from || "…") + " – " + esc(p.valid_to || "…");
    return s;
  }}
  layers.forEach(function (spec) {{
    var group = window[spec.group];
    if (!group) return;
    fetch(spec.url).then(function (r) {{ if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); }}).then(function (fc) {{
      L.geoJSON(fc, {{
        style: function (f) {{ return {{color: f.properties.kind === "island" ? "#f59e0b" : spec.color, weight: spec.weight, fillOpacity: 0.03, dashArray: spec.dashArray}}; }},
        onEachFeature: function (f, layer) {{ layer.bindTooltip(tip(f.properties), {{sticky: true}}); }}
      }}).addTo(group);
    }}).catch(function (e) {{ console.error("hpgeo: cannot load " + spec.url + ": " + e); }});
  }});
}});
</script>"""


def _tiles_url(base: str, item: dict[str, Any]) -> str:
    spec = default_render(item)
    assert spec is not None
    q = urlencode(spec.query(), safe=",")
    return f"{base}/tiles/{quote(item['collection'], safe='')}/{quote(item['id'], safe='')}/{{z}}/{{x}}/{{y}}.png?{q}"


def _legend_html(colormaps: Iterable[str], shown: set[str], lang: str) -> str:
    """One legend section per colormap; sections of hidden layers start hidden (the script below toggles them)."""
    parts = [f"<div class='hp-legend'><b>{html.escape(t('legend', lang))}</b>"]
    for name in colormaps:
        cm = get_colormap(name)
        style = "" if name in shown else " style='display:none'"
        parts.append(f"<div class='hp-legend-section' data-colormap='{html.escape(name)}'{style}>")
        parts.append(f"<div class='hp-legend-title'>{html.escape(cm.title(lang))}</div>")
        for e in cm.legend:
            parts.append(f"<div class='hp-legend-row'><span class='hp-swatch' style='background:{e.css}'></span>{html.escape(e.label(lang))}</div>")
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _legend_script(map_name: str, layer_colormaps: dict[str, str]) -> str:
    """Show a legend section while at least one layer that uses its colormap is on the map."""
    return f"""<script>
document.addEventListener("DOMContentLoaded", function () {{
  var cmOf = {json.dumps(layer_colormaps, ensure_ascii=False)}, on = {{}};
  function refresh() {{
    document.querySelectorAll(".hp-legend-section").forEach(function (el) {{
      var name = el.getAttribute("data-colormap");
      el.style.display = Object.keys(on).some(function (l) {{ return on[l] && cmOf[l] === name; }}) ? "" : "none";
    }});
  }}
  var map = window[{json.dumps(map_name)}];
  if (!map) return;
  map.eachLayer(function (l) {{ if (l.options && cmOf[l.options.hpName]) on[l.options.hpName] = true; }});
  map.on("overlayadd", function (e) {{ on[e.name] = true; refresh(); }});
  map.on("overlayremove", function (e) {{ on[e.name] = false; refresh(); }});
  refresh();
}});
</script>"""


_CSS = """
<style>
.hp-bar{position:fixed;top:0;left:0;right:0;z-index:1000;background:#0f3d5e;color:#fff;font:14px/1.4 sans-serif;padding:6px 12px;display:flex;gap:16px;align-items:center}
.hp-bar a{color:#cde8ff}
.hp-bar .hp-title{font-weight:bold;flex:1}
.hp-sim{position:fixed;top:34px;left:0;right:0;z-index:999;background:#fde68a;color:#7c2d12;font:bold 13px sans-serif;padding:4px 12px;text-align:center}
.hp-legend{position:fixed;bottom:28px;right:12px;z-index:1000;background:rgba(255,255,255,.92);padding:8px 10px;border-radius:6px;font:13px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:320px}
.hp-legend-title{margin-top:4px;font-weight:bold}
.hp-legend-row{display:flex;align-items:center;gap:6px;margin:2px 0}
.hp-swatch{display:inline-block;width:16px;height:12px;border:1px solid #555}
.folium-map{top:58px !important;height:calc(100% - 58px) !important}
.leaflet-control-layers{font:12px/1.35 sans-serif;max-width:46vw}
body.hp-nosim .folium-map{top:34px !important;height:calc(100% - 34px) !important}
</style>
"""


def build_viewer(
    *,
    base: str,
    product_items: list[dict[str, Any]],
    scene_items: list[dict[str, Any]],
    lang: str = "vi",
    assets: str = "local",
    links: dict[str, str] | None = None,
    featured_collection: str | None = None,
    aoi_on: dt.date | None = None,
    admin_units: bool = False,
) -> str:
    """Render the viewer page to HTML.

    AOIs are not in the page: their layer (and, with ``admin_units``, a layer of the imported
    boundaries) is filled in the browser from ``/aois`` (GeoJSON simplified for display, valid on
    ``aoi_on``), so the page stays small whatever the size of the boundaries.

    Every product is a layer; only the featured collection (``featured_collection``, else the flood
    extent, else the first product) is switched on, and the legend shows the layers that are on.
    """
    lang = norm_lang(lang)
    m = folium.Map(location=HAIPHONG_CENTER, zoom_start=10, tiles=None, control_scale=True, prefer_canvas=False)
    if assets == "local":
        m.default_js = [("leaflet", f"{base}{LEAFLET_STATIC}/leaflet.js")]
        m.default_css = [("leaflet_css", f"{base}{LEAFLET_STATIC}/leaflet.css")]
    # a plain light background so the map reads without an internet basemap
    m.get_root().header.add_child(Element("<style>.leaflet-container{background:#eef2f5}</style>"))
    if assets == "cdn":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", show=True).add_to(m)

    vector_layers = []
    for key, source, style in (("aois", "builtin", _AOI_STYLE), ("admin_units", "imported", _ADMIN_STYLE)):
        if source == "imported" and not admin_units:
            continue
        group = folium.FeatureGroup(name=t(key, lang), show=True)
        group.add_to(m)
        vector_layers.append({"group": group.get_name(), "url": aoi_url(base, source, aoi_on), **style})

    simulated = False
    legends: list[str] = []
    bounds = None
    # the clearest optical scene is shown under the products, for context (no internet basemap needed)
    optical = [i for i in scene_items if i["collection"].startswith("sentinel-2")]
    backdrop = min(optical, key=lambda i: i["properties"].get("eo:cloud_cover", 100), default=None)
    for item in scene_items:
        label = t(item["collection"], lang) if item["collection"] in ("sentinel-1-grd", "sentinel-2-l2a") else item["collection"]
        when = (item["properties"].get("datetime") or "")[:10]
        simulated |= bool(item["properties"].get("hpgeo:simulated"))
        folium.TileLayer(
            tiles=_tiles_url(base, item), attr="hpgeo", name=f"{t('scene', lang)}: {label} {when}", overlay=True, show=item is backdrop, max_zoom=20, max_native_zoom=18
        ).add_to(m)
    featured = _featured(product_items, featured_collection)
    shown_colormaps: set[str] = set()
    layer_colormaps: dict[str, str] = {}
    for item in product_items:
        spec = default_render(item)
        if spec is None:
            continue
        simulated |= bool(item["properties"].get("hpgeo:simulated"))
        when = (item["properties"].get("datetime") or "")[:10]
        title = _product_title(item, lang) or item["properties"].get("title", item["id"]).replace("[MÔ PHỎNG / SIMULATED] ", "")
        name = f"{t('product', lang)}: {title} ({when})"
        show = item["collection"] == featured
        layer = folium.TileLayer(
            tiles=_tiles_url(base, item), attr="hpgeo", name=name, overlay=True, show=show, max_zoom=20, max_native_zoom=18, opacity=0.85
        )
        layer.options["hpName"] = name  # lets the legend script recognise the layer
        layer.add_to(m)
        if spec.colormap:
            layer_colormaps[name] = spec.colormap
            if spec.colormap not in legends:
                legends.append(spec.colormap)
            if show:
                shown_colormaps.add(spec.colormap)
        if show:
            w, s, e, n = item["bbox"]
            bounds = [[s, w], [n, e]] if bounds is None else [[min(bounds[0][0], s), min(bounds[0][1], w)], [max(bounds[1][0], n), max(bounds[1][1], e)]]
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds:
        m.fit_bounds(bounds)

    other = "en" if lang == "vi" else "vi"
    nav = links or {}
    bar = (
        f"<div class='hp-bar'><span class='hp-title'>{html.escape(t('title', lang))}</span>"
        + "".join(f"<a href='{html.escape(href)}'>{html.escape(t(key, lang))}</a>" for key, href in nav.items())
        + f"<a href='?lang={other}'>{t('language', lang)}</a></div>"
    )
    root = m.get_root()
    root.header.add_child(Element(_CSS))
    root.html.add_child(Element(bar))
    if simulated:
        root.html.add_child(Element(f"<div class='hp-sim'>{html.escape(t('simulated', lang))}</div>"))
    if not simulated:
        root.html.add_child(Element("<script>document.body.classList.add('hp-nosim')</script>"))
    if not product_items:
        root.html.add_child(Element(f"<div class='hp-sim'>{html.escape(t('no_products', lang))}</div>"))
    if legends:
        root.html.add_child(Element(_legend_html(legends, shown_colormaps, lang)))
        root.html.add_child(Element(_legend_script(m.get_name(), layer_colormaps)))
    root.html.add_child(Element(_vector_script(vector_layers, lang)))
    root.header.add_child(Element(f"<title>{html.escape(t('title', lang))}</title>"))
    page = root.render()
    return page.replace("<html>", f"<html lang='{lang}'>", 1)


FEATURED_ORDER = ("flood-extent", "flood-ensemble", "water-mask")


def _featured(items: list[dict[str, Any]], wanted: str | None) -> str | None:
    cols = [i["collection"] for i in items]
    if wanted in cols:
        return wanted
    return next((c for c in FEATURED_ORDER if c in cols), cols[0] if cols else None)


def _product_title(item: dict[str, Any], lang: str) -> str | None:
    """The algorithm's title in the viewer's language (item titles carry dates and English only)."""
    from products.registry import algorithms

    name = item["properties"].get("hpgeo:provenance", {}).get("algorithm")
    for alg in algorithms().values():
        if alg.name == name or (name is None and alg.collection == item["collection"]):
            return alg.title_vi if lang == "vi" else alg.title
    return None

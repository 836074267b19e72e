"""The department viewer: one HTML page, its configuration (JSON) and hpgeo's own viewer.js/viewer.css.

Vietnamese by default, English with ``lang="en"``. Works offline: Leaflet comes from the PyPI package
django-js-lib-leaflet and the script and style sheet from this package (``maps/static``), all served by
hpgeo; the base map is hpgeo's own land/sea tiles (:mod:`maps.basemap`) unless ``basemap_url`` names
another XYZ source. Nothing is fetched from a CDN.

The page holds no geometry: the AOI and unit outlines are fetched from ``/aois`` (simplified for
display), alerts from ``/alerts``, pixel values from the tiles' point query and unit statistics from
``/stats/timeseries`` when the user clicks. Every layer carries its item's bounds, so Leaflet never asks
for a tile outside the data.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any, Iterable
from urllib.parse import quote, urlencode

from maps.colormaps import get_colormap
from maps.i18n import JS_KEYS, norm_lang, t
from maps.render import default_render

__all__ = ["build_viewer", "viewer_config", "aoi_url", "LEAFLET_STATIC", "APP_STATIC", "AOI_SIMPLIFY_M", "GROUPS", "group_of"]

LEAFLET_STATIC = "/viewer/static/leaflet"
APP_STATIC = "/viewer/static/app"
BASEMAP_PATH = "/viewer/basemap/{z}/{x}/{y}.png"
HAIPHONG_CENTER = (20.78, 106.72)
#: Simplification tolerance of the AOI outlines drawn by the viewer (metres): under a pixel up to
#: zoom 12 (~35 m/px at 20.8° N), and a million-vertex boundary is served in a few hundred kB.
AOI_SIMPLIFY_M = 20.0
_AOI_STYLE = {"color": "#334155", "weight": 2, "dashArray": "4"}
_ADMIN_STYLE = {"color": "#7c3aed", "weight": 1, "dashArray": ""}

#: The layer tree: group key → collections, in display order (unlisted product collections go to "land").
GROUPS: dict[str, tuple[str, ...]] = {
    "scenes": ("sentinel-2-l2a", "sentinel-1-grd"),
    "hazards": ("flood-extent", "flood-ensemble", "water-mask", "oil-slick-candidates", "burn-severity"),
    "land": ("land-cover", "mangrove-extent"),
    "coast": ("shoreline", "turbidity"),
}
FEATURED_ORDER = ("flood-extent", "flood-ensemble", "water-mask")
EXPORT_FORMATS = ("tif", "gpkg", "geojson", "csv")
#: CAP 1.2 severity and status values in Vietnamese and English.
CAP_TERMS = {
    "Extreme": ("Cực kỳ nghiêm trọng", "Extreme"), "Severe": ("Nghiêm trọng", "Severe"), "Moderate": ("Trung bình", "Moderate"),
    "Minor": ("Nhẹ", "Minor"), "Unknown": ("Không rõ", "Unknown"), "Actual": ("Thực", "Actual"), "Exercise": ("Diễn tập", "Exercise"),
    "System": ("Hệ thống", "System"), "Test": ("Thử nghiệm", "Test"), "Draft": ("Bản nháp", "Draft"),
}


def group_of(collection: str) -> str:
    for key, cols in GROUPS.items():
        if collection in cols:
            return key
    return "scenes" if collection.startswith(("sentinel-", "landsat")) else "land"


def aoi_url(base: str, source: str, on: dt.date | None = None, simplify_m: float = AOI_SIMPLIFY_M) -> str:
    """The GeoJSON the viewer fetches for a layer of AOIs (``source``: builtin or imported)."""
    q = {"source": source, "simplify": f"{simplify_m:g}"}
    if on is not None:
        q["on"] = on.isoformat()
    return f"{base}/aois?{urlencode(q)}"


def _js(value: Any) -> str:
    """A JSON value safe inside <script> (no '</' can close the element, no '<!--')."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _tiles_url(base: str, item: dict[str, Any]) -> str:
    spec = default_render(item)
    assert spec is not None
    q = urlencode(spec.query(), safe=",")
    return f"{base}/tiles/{quote(item['collection'], safe='')}/{quote(item['id'], safe='')}/{{z}}/{{x}}/{{y}}.png?{q}"


def _bounds(item: dict[str, Any]) -> list[list[float]] | None:
    bbox = item.get("bbox")
    if not bbox or len(bbox) < 4:
        return None
    w, s, e, n = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else bbox[:4]
    return [[s, w], [n, e]]


def _product_title(item: dict[str, Any], lang: str) -> str | None:
    """The algorithm's title in the viewer's language (item titles carry dates and English only)."""
    from products.registry import algorithms

    name = item["properties"].get("hpgeo:provenance", {}).get("algorithm")
    for alg in algorithms().values():
        if alg.name == name or (name is None and alg.collection == item["collection"]):
            return alg.title_vi if lang == "vi" else alg.title
    return None


def _layer_title(items: list[dict[str, Any]], lang: str) -> str:
    first = items[-1]
    col = first["collection"]
    if col in ("sentinel-1-grd", "sentinel-2-l2a"):
        return t(col, lang)
    return _product_title(first, lang) or first["properties"].get("title", first["id"]).replace("[MÔ PHỎNG / SIMULATED] ", "")


def _featured(collections: list[str], wanted: str | None) -> str | None:
    if wanted in collections:
        return wanted
    return next((c for c in FEATURED_ORDER if c in collections), collections[0] if collections else None)


def viewer_config(
    *,
    base: str,
    items_by_collection: dict[str, list[dict[str, Any]]],
    lang: str,
    collection: str | None = None,
    item: str | None = None,
    date: str | None = None,
    layers: list[str] | None = None,
    view: tuple[float, float, int] | None = None,
    aoi_on: dt.date | None = None,
    admin_units: bool = False,
    basemap_url: str | None = None,
    basemap_attribution: str = "",
) -> dict[str, Any]:
    """The page's configuration: layer tree (one entry per collection, one step per item, oldest first),
    the layers on at start, the base map, the outline layers and the strings of the script."""
    lang = norm_lang(lang)
    tree: dict[str, list[dict[str, Any]]] = {k: [] for k in GROUPS}
    colormaps: dict[str, str] = {}
    simulated = False
    entries: dict[str, dict[str, Any]] = {}
    for cid in sorted(items_by_collection, key=lambda c: (list(GROUPS).index(group_of(c)), _order(c))):
        items = [i for i in items_by_collection[cid] if default_render(i) is not None]
        if not items:
            continue
        items.sort(key=lambda i: (i["properties"].get("datetime") or "", i["id"]))
        spec = default_render(items[-1])
        steps = []
        for it in items:
            simulated |= bool(it["properties"].get("hpgeo:simulated"))
            steps.append({
                "item": it["id"],
                "datetime": it["properties"].get("datetime"),
                "date": (it["properties"].get("datetime") or "")[:10],
                "tiles": _tiles_url(base, it),
                "bounds": _bounds(it),
                "simulated": bool(it["properties"].get("hpgeo:simulated")),
            })
        kind = "scene" if group_of(cid) == "scenes" else "product"
        entry = {
            "id": cid,
            "kind": kind,
            "title": _layer_title(items, lang),
            "colormap": spec.colormap if spec else None,
            "opacity": 1.0 if kind == "scene" else 0.85,
            "steps": steps,
        }
        if entry["colormap"]:
            colormaps[cid] = entry["colormap"]
            entry["classes"] = _classes(entry["colormap"], lang)
        entries[cid] = entry
        tree[group_of(cid)].append(entry)
    products = [c for c, e in entries.items() if e["kind"] == "product"]
    featured = _featured(products, collection) if collection is None or collection in entries else None
    if collection in entries:
        featured = collection
    # layers: "collection" or "collection/item" (the language switch and deep links keep every layer's date)
    wanted: dict[str, str | None] = {}
    for spec in layers or []:
        cid, _, it = spec.partition("/")
        if cid in entries:
            wanted[cid] = it or None
    if not wanted and featured:
        wanted[featured] = None
    if featured and featured not in wanted:
        wanted[featured] = None
    # the step shown first: the asked item, else the asked date, else the latest
    start: dict[str, str] = {}
    for cid, it in wanted.items():
        steps = entries[cid]["steps"]
        ids = [s["item"] for s in steps]
        pick = it if it in ids else steps[-1]["item"]
        if cid == featured and item in ids:
            pick = item
        elif cid == featured and date:
            pick = next((s["item"] for s in steps if s["date"] == date), pick)
        start[cid] = pick
    vector = [{"key": "aois", "title": t("aois", lang), "url": aoi_url(base, "builtin", aoi_on), **_AOI_STYLE}]
    if admin_units:
        vector.append({"key": "units", "title": t("admin_units", lang), "url": aoi_url(base, "imported", aoi_on), **_ADMIN_STYLE})
    fit = None
    if featured and view is None:
        fit = next(s["bounds"] for s in entries[featured]["steps"] if s["item"] == start[featured])
    return {
        "lang": lang,
        "base": base,
        "strings": {k: t(k, lang) for k in JS_KEYS},
        "groups": [{"key": k, "title": t(f"group_{k}", lang), "layers": v} for k, v in tree.items() if v],
        "on": start,
        "focus": featured,
        "view": {"lat": view[0], "lon": view[1], "zoom": view[2]} if view else None,
        "fit": fit,
        "center": list(HAIPHONG_CENTER),
        "basemap": {
            "url": basemap_url or base + BASEMAP_PATH,
            "own": basemap_url is None,
            "attribution": basemap_attribution if basemap_url else t("basemap_attribution", lang),
            "maxNativeZoom": 13 if basemap_url is None else 19,
        },
        "vector": vector,
        "colormaps": colormaps,
        "simulated": simulated,
        "exports": list(EXPORT_FORMATS),
        "alerts": f"{base}/alerts",
        "cap_terms": {k: v[0] if lang == "vi" else v[1] for k, v in CAP_TERMS.items()},
    }


def _classes(colormap: str, lang: str) -> dict[str, dict[str, Any]]:
    """Class value → name in the viewer's language and legend colour (None for classes the legend leaves out)."""
    cm = get_colormap(colormap)
    out: dict[str, dict[str, Any]] = {}
    for value, (vi, en) in cm.class_labels.items():
        out[str(value)] = {"name": en if lang == "en" else vi, "color": None}
    for e in cm.legend:
        if e.value is not None and float(e.value).is_integer():
            r, g, b, _ = e.color
            out[str(int(e.value))] = {"name": e.label(lang), "color": f"rgb({r},{g},{b})"}
    return out


def _order(cid: str) -> int:
    cols = GROUPS.get(group_of(cid), ())
    return cols.index(cid) if cid in cols else len(cols)


def _legend_html(colormaps: Iterable[str], shown: set[str], lang: str) -> str:
    """One legend section per colormap; sections of hidden layers start hidden (viewer.js toggles them)."""
    parts = [f"<div class='hp-legend' id='hp-legend'><b>{html.escape(t('legend', lang))}</b>"]
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


def build_viewer(*, base: str, config: dict[str, Any], links: dict[str, str] | None = None, assets: str = "local") -> str:
    """Render the viewer page (HTML) for a configuration made by :func:`viewer_config`."""
    lang = config["lang"]
    other = "en" if lang == "vi" else "vi"
    legends: list[str] = []
    for cm in config["colormaps"].values():
        if cm not in legends:
            legends.append(cm)
    shown = {config["colormaps"][c] for c in config["on"] if c in config["colormaps"]}
    nav = "".join(f"<a href='{html.escape(href)}'>{html.escape(t(key, lang))}</a>" for key, href in (links or {}).items())
    leaflet = f"{base}{LEAFLET_STATIC}" if assets == "local" else "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist"
    sim = f"<div class='hp-sim' id='hp-sim'>{html.escape(t('simulated', lang))}</div>" if config["simulated"] else ""
    empty = "" if config["groups"] else f"<div class='hp-sim'>{html.escape(t('no_products', lang))}</div>"
    body_class = "hp-has-sim" if config["simulated"] or empty else ""
    return f"""<!DOCTYPE html>
<html lang='{lang}'>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(t('title', lang))}</title>
<link rel="stylesheet" href="{leaflet}/leaflet.css">
<link rel="stylesheet" href="{base}{APP_STATIC}/viewer.css">
</head>
<body class="{body_class}">
<header class="hp-bar"><span class="hp-title">{html.escape(t('title', lang))}</span>{nav}<a id="hp-lang" href="?lang={other}">{t('language', lang)}</a></header>
{sim}{empty}
<main id="hp-map" aria-label="{html.escape(t('map', lang))}"></main>
<aside id="hp-panel" class="hp-panel">
<details id="hp-layers" class="hp-box"><summary>{html.escape(t('layers', lang))}</summary><div id="hp-tree"></div></details>
<details id="hp-compare-box" class="hp-box"><summary>{html.escape(t('compare', lang))}</summary><div id="hp-compare"></div></details>
<details id="hp-alerts" class="hp-box"><summary>{html.escape(t('alerts', lang))} <span id="hp-alert-count"></span></summary><div id="hp-alert-list"></div></details>
</aside>
{_legend_html(legends, shown, lang) if legends else ""}
<section id="hp-info" class="hp-info" hidden><button type="button" id="hp-info-close" aria-label="{html.escape(t('close', lang))}">×</button><div id="hp-info-body"></div></section>
<script type="application/json" id="hp-config">{_js(config)}</script>
<script src="{leaflet}/leaflet.js"></script>
<script src="{base}{APP_STATIC}/viewer.js"></script>
</body>
</html>
"""

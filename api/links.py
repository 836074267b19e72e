"""Links the API adds to catalog objects (self, parent, root, tilejson, xyz) and public asset hrefs.

Pure functions of (object, base URL): nothing here reads or writes the catalog.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from maps.render import default_render
from maps.wmts import wmts_url

__all__ = ["item_out", "collection_out", "tiles_url", "tilejson_url"]

GEOJSON = "application/geo+json"
JSON = "application/json"


def _q(s: str) -> str:
    return quote(s, safe="")


def tiles_url(base: str, cid: str, iid: str, query: dict[str, str] | None = None) -> str:
    u = f"{base}/tiles/{_q(cid)}/{_q(iid)}/{{z}}/{{x}}/{{y}}.png"
    return u + ("?" + urlencode(query, safe=",") if query else "")


def tilejson_url(base: str, cid: str, iid: str, query: dict[str, str] | None = None) -> str:
    u = f"{base}/tiles/{_q(cid)}/{_q(iid)}/tilejson.json"
    return u + ("?" + urlencode(query, safe=",") if query else "")


def item_out(item: dict[str, Any], base: str) -> dict[str, Any]:
    """The item as the API serves it: public asset hrefs, navigation links and, for rasters, tile links."""
    out = dict(item)
    cid, iid = item["collection"], item["id"]
    col_url = f"{base}/stac/collections/{_q(cid)}"
    assets = {}
    for k, a in item["assets"].items():
        a = dict(a)
        href = a["href"]
        if not href.startswith(("http://", "https://", "s3://", "gs://")):
            a["href"] = f"{col_url}/items/{_q(iid)}/assets/{_q(k)}"
        assets[k] = a
    out["assets"] = assets
    links = [l for l in item.get("links", []) if l.get("rel") not in ("self", "parent", "collection", "root")]
    for l in links:
        if l.get("rel") == "derived_from" and "hpgeo:collection" in l:
            l["href"] = f"{base}/stac/collections/{_q(l['hpgeo:collection'])}/items/{_q(l['hpgeo:item'])}"
            l["type"] = GEOJSON
    links += [
        {"rel": "self", "href": f"{col_url}/items/{_q(iid)}", "type": GEOJSON},
        {"rel": "parent", "href": col_url, "type": JSON},
        {"rel": "collection", "href": col_url, "type": JSON},
        {"rel": "root", "href": f"{base}/stac", "type": JSON},
    ]
    spec = default_render(item)
    if spec is not None:
        q = spec.query()
        links.append({"rel": "tilejson", "href": tilejson_url(base, cid, iid, q), "type": JSON, "title": "TileJSON"})
        links.append({"rel": "xyz", "href": tiles_url(base, cid, iid, q), "type": "image/png", "title": "XYZ tiles (Web Mercator)"})
        links.append({"rel": "wmts", "href": wmts_url(base, cid, iid), "type": "application/xml", "title": "WMTS 1.0.0 capabilities"})
    out["links"] = links
    return out


def collection_out(col: dict[str, Any], base: str) -> dict[str, Any]:
    out = dict(col)
    url = f"{base}/stac/collections/{_q(col['id'])}"
    out["links"] = [l for l in col.get("links", []) if l.get("rel") not in ("self", "parent", "root", "items")] + [
        {"rel": "self", "href": url, "type": JSON},
        {"rel": "parent", "href": f"{base}/stac", "type": JSON},
        {"rel": "root", "href": f"{base}/stac", "type": JSON},
        {"rel": "items", "href": f"{url}/items", "type": GEOJSON},
    ]
    return out

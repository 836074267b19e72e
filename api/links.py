"""Links the API adds to catalog objects (self, parent, root, tilejson, xyz) and public asset hrefs.

Pure functions of (object, base URL): nothing here reads or writes the catalog.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from maps.render import default_render
from maps.wmts import wmts_url

__all__ = ["item_out", "collection_out", "tiles_url", "tilejson_url", "apply_fields", "DEFAULT_FIELDS", "QUERYABLES_REL"]

GEOJSON = "application/geo+json"
JSON = "application/json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
# the fields extension's default set: what an empty ``fields`` (or an explicit empty ``include``) returns
DEFAULT_FIELDS = ("type", "stac_version", "id", "geometry", "bbox", "links", "assets", "properties.datetime")
# what identifies an item: always returned with an ``include`` (unless excluded by name)
IDENTITY_FIELDS = ("type", "stac_version", "id", "collection")


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
        {"rel": QUERYABLES_REL, "href": f"{url}/queryables", "type": "application/schema+json", "title": "Queryables"},
    ]
    return out


def _split(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def _get(d: Any, parts: list[str]) -> tuple[bool, Any]:
    for p in parts:
        if not isinstance(d, dict) or p not in d:
            return False, None
        d = d[p]
    return True, d


def _put(d: dict[str, Any], parts: list[str], value: Any) -> None:
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


def _drop(d: dict[str, Any], parts: list[str]) -> None:
    for p in parts[:-1]:
        d = d.get(p)  # type: ignore[assignment]
        if not isinstance(d, dict):
            return
    d.pop(parts[-1], None)


def apply_fields(item: dict[str, Any], include: list[str] | None, exclude: list[str] | None, include_given: bool = True) -> dict[str, Any]:
    """The STAC API fields extension on one item (dotted paths, e.g. ``properties.eo:cloud_cover``).

    - include and exclude both empty: the default set (:data:`DEFAULT_FIELDS`);
    - exclude only, include not given: the whole item without the excluded fields; with include given but
      empty: the default set without them;
    - include given: those fields and the item's identity (:data:`IDENTITY_FIELDS`), without the excluded
      ones — except that a field both included and excluded (or excluded with an included field under it)
      is kept.
    """
    explicit = [_split(p) for p in (include or []) if _split(p)]
    exc = [_split(p) for p in (exclude or []) if _split(p)]
    if explicit:
        inc = [_split(p) for p in IDENTITY_FIELDS] + explicit
    elif include_given or not exc:
        inc = [_split(p) for p in DEFAULT_FIELDS]
    else:
        inc = []
    if inc:
        out: dict[str, Any] = {}
        for parts in inc:
            found, value = _get(item, parts)
            if found:
                _put(out, parts, value)
    else:
        out = dict(item)
    kept = [".".join(p) for p in explicit]
    for parts in exc:
        path = ".".join(parts)
        if any(i == path or i.startswith(path + ".") for i in kept):
            continue  # included wins
        if len(parts) > 1 and parts[0] in out and out[parts[0]] is item.get(parts[0]):
            out[parts[0]] = dict(out[parts[0]])  # copy before dropping inside it
        _drop(out, parts)
    return out

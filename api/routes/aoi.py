"""Areas of interest as GeoJSON (``/aois``): what the viewer draws, simplified for display on request.

Geometries are WGS 84. ``simplify`` (metres) serves a light outline: an imported boundary with a
million vertices is a few hundred kilobytes at the viewer's tolerance. Simplified features are
cached per AOI version (a re-import or a deletion is seen at once), so a large AOI is simplified once.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.errors import error_responses
from api.deps import BaseUrlDep, CatalogDep
from geo.aoi import display_feature
from geo.errors import AOINotFound

router = APIRouter(prefix="/aois", tags=["AOIs"])

GEOJSON = "application/geo+json"
#: Largest simplification tolerance accepted (metres).
MAX_SIMPLIFY_M = 10_000.0

SimplifyQ = Annotated[
    float,
    Query(ge=0, le=MAX_SIMPLIFY_M, description="Simplify outlines with this tolerance in metres (0: exact geometry). The viewer uses 20."),
]
OnQ = Annotated[dt.date | None, Query(description="Only AOIs valid on this date (YYYY-MM-DD); default: all periods.")]


class _FeatureCache:
    """A small LRU of display features keyed by (catalog, AOI id, version, tolerance).

    Only features of at most ``max_vertices`` vertices are kept (an exact million-vertex outline
    would hold ~100 MB of Python objects): simplified outlines and ordinary boundaries.
    """

    def __init__(self, size: int = 256, max_vertices: int = 50_000):
        self.size, self.max_vertices = size, max_vertices
        self.items: OrderedDict[tuple[str, str, str, float], dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, catalog: Any, entry: dict[str, Any], simplify: float) -> dict[str, Any]:
        key = (str(catalog.engine.url), entry["id"], entry["version"], simplify)
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        feature = display_feature(catalog.aoi(entry["id"]), simplify)
        feature["properties"]["builtin"] = entry["builtin"]
        if feature["properties"]["display"]["vertices"] > self.max_vertices:
            return feature
        with self.lock:
            self.items[key] = feature
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return feature


_cache = _FeatureCache()


class GeoJSONBytes(Response):
    """GeoJSON already serialised (declared as ``application/geo+json`` in the OpenAPI document)."""

    media_type = GEOJSON


_GEOJSON_OK: dict[str, Any] = {"content": {GEOJSON: {"schema": {"type": "object", "required": ["type"]}}}}


def _geojson(body: dict[str, Any]) -> Response:
    # json.dumps directly: FastAPI's encoder is slow on large coordinate arrays
    return GeoJSONBytes(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


@router.get("", summary="Areas of interest (built-in and imported) as a GeoJSON FeatureCollection",
            response_class=GeoJSONBytes, responses={200: _GEOJSON_OK, **error_responses(400, 422)})
def list_aois(
    catalog: CatalogDep,
    base: BaseUrlDep,
    on: OnQ = None,
    source: Annotated[Literal["all", "builtin", "imported"], Query(description="Built-in AOIs, imported boundaries, or both.")] = "all",
    kind: Annotated[str | None, Query(max_length=32, description="Only AOIs of this kind (area, island, admin, commune...).")] = None,
    simplify: SimplifyQ = 0.0,
) -> Response:
    entries = catalog.aoi_index(on=on, include_builtin=source != "imported")
    entries = [e for e in entries if (source != "builtin" or e["builtin"]) and (kind is None or e["kind"] == kind)]
    features = [_cache.get(catalog, e, simplify) for e in entries]
    return _geojson(
        {
            "type": "FeatureCollection",
            "numberMatched": len(features),
            "numberReturned": len(features),
            "features": features,
            "links": [{"rel": "self", "type": GEOJSON, "href": f"{base}/aois"}],
        }
    )


@router.get("/{aoi_id}", summary="One area of interest as a GeoJSON Feature (404 for an unknown id)",
            response_class=GeoJSONBytes, responses={200: _GEOJSON_OK, **error_responses(400, 404, 422)})
def get_aoi(
    catalog: CatalogDep,
    aoi_id: Annotated[str, Path(max_length=128)],
    on: OnQ = None,
    simplify: SimplifyQ = 0.0,
) -> Response:
    entry = next((e for e in catalog.aoi_index(on=on) if e["id"] == aoi_id), None)
    if entry is None:
        when = f" valid on {on}" if on else ""
        raise AOINotFound(f"no AOI {aoi_id!r}{when}")
    return _geojson(_cache.get(catalog, entry, simplify))

"""Vector layers, OGC API – Features style (``/features/collections/…/items``, GeoJSON), and as Mapbox Vector
Tiles (``/features/tiles/{layer}/{z}/{x}/{y}.pbf``). Public to read, like the published raster layers.

The STAC API owns ``/stac/collections``; the vector layers live under ``/features``. Items pages carry
``numberMatched``, ``numberReturned`` and ``self``/``next``/``prev`` links; ``bbox`` selects the features that
intersect it, ``datetime`` and ``item`` the product items they come from. See :mod:`maps.features`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import error_responses
from api.validation import STRICT_QUERY
from base.errors import NotFound
from maps.features import LAYERS, layer, query
from maps.mvt import MVT_MEDIA_TYPE, layer_tile
from products.export import parse_bbox

router = APIRouter(prefix="/features", tags=["Vector layers"], dependencies=STRICT_QUERY)

GEOJSON = "application/geo+json"
JSON = "application/json"
CONFORMS = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
LayerP = Annotated[str, Path(description=f"Layer name: {', '.join(LAYERS)}.", max_length=64, examples=["flood-polygons"])]
_GEOJSON_OK: dict[str, Any] = {"content": {GEOJSON: {"schema": {"type": "object", "required": ["type", "features"]}}}}


class GeoJSONResponse(Response):
    media_type = GEOJSON


def _collection(base: str, name: str) -> dict[str, Any]:
    lay = layer(name)
    url = f"{base}/features/collections/{name}"
    return {
        "id": name,
        "title": lay.title,
        "description": lay.description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "hpgeo:geometry_type": lay.geometry_type,
        "hpgeo:source_collection": lay.collection,
        "links": [
            {"rel": "self", "type": JSON, "href": url},
            {"rel": "items", "type": GEOJSON, "href": f"{url}/items"},
            {"rel": "tiles", "type": MVT_MEDIA_TYPE, "href": f"{base}/features/tiles/{name}/{{z}}/{{x}}/{{y}}.pbf", "templated": True},
        ],
    }


@router.get("", summary="Vector layers: landing page (OGC API – Features)", responses=error_responses(400))
def landing(base: BaseUrlDep) -> dict[str, Any]:
    return {
        "title": "hpgeo vector layers",
        "description": "Flood polygons, oil-slick candidates, shorelines, transects, AOIs and administrative units.",
        "links": [
            {"rel": "self", "type": JSON, "href": f"{base}/features"},
            {"rel": "conformance", "type": JSON, "href": f"{base}/features/conformance"},
            {"rel": "data", "type": JSON, "href": f"{base}/features/collections"},
        ],
    }


@router.get("/conformance", summary="Conformance classes of the vector layers API", responses=error_responses(400))
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMS}


@router.get("/collections", summary="List the vector layers", responses=error_responses(400))
def collections(base: BaseUrlDep) -> dict[str, Any]:
    return {"collections": [_collection(base, n) for n in LAYERS], "links": [{"rel": "self", "type": JSON, "href": f"{base}/features/collections"}]}


@router.get("/collections/{layer_name}", summary="One vector layer", responses=error_responses(400, 404, 422))
def collection(layer_name: LayerP, base: BaseUrlDep) -> dict[str, Any]:
    _known(layer_name)
    return _collection(base, layer_name)


class LayerNotFound(NotFound):
    """No vector layer with that name."""


def _known(name: str) -> None:
    if name not in LAYERS:
        raise LayerNotFound(f"no vector layer {name!r}; layers: {', '.join(LAYERS)}")


@router.get(
    "/collections/{layer_name}/items",
    summary="Features of a vector layer (GeoJSON, paged)",
    response_class=GeoJSONResponse,
    responses={200: _GEOJSON_OK, **error_responses(400, 404, 422)},
)
async def items(
    layer_name: LayerP,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    bbox: Annotated[str | None, Query(description="west,south,east,north (degrees): features intersecting it.", max_length=200,
                                      examples=["106.6,20.6,106.8,20.8"])] = None,
    datetime: Annotated[str | None, Query(description="RFC 3339 instant or interval of the product items (`A/B`, `..`).", max_length=100,
                                          examples=["2025-09-01T00:00:00Z/2025-09-30T23:59:59Z"])] = None,
    item: Annotated[str | None, Query(description="Only the features of this product item.", max_length=256,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+=-]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size (at most 10000).", examples=[100])] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip.", examples=[0])] = 0,
) -> Response:
    _known(layer_name)
    bb = parse_bbox(bbox) if bbox else None
    page = await run_in_threadpool(query, catalog, settings.resolved_data_dir, layer_name, limit=limit, offset=offset,
                                   bbox=bb, datetime=datetime or None, item=item)
    params = {k: v for k, v in (("bbox", bbox), ("datetime", datetime), ("item", item)) if v}
    url = f"{base}/features/collections/{layer_name}/items"

    def link(rel: str, off: int) -> dict[str, Any]:
        return {"rel": rel, "type": GEOJSON, "href": f"{url}?{urlencode({**params, 'limit': limit, 'offset': off})}"}

    links = [link("self", offset), {"rel": "collection", "type": JSON, "href": f"{base}/features/collections/{layer_name}"}]
    if offset + len(page.features) < page.matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    body = {
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "features": [f.to_geojson() for f in page.features],
        "links": links,
    }
    return GeoJSONResponse(json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


@router.get(
    "/tiles/{layer_name}/{z}/{x}/{y}.pbf",
    summary="Mapbox Vector Tile of a vector layer (WebMercatorQuad, extent 4096)",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile (empty body: no feature there)."}, **error_responses(400, 404, 422)},
)
async def tile(
    layer_name: LayerP,
    catalog: CatalogDep,
    settings: SettingsDep,
    z: Annotated[int, Path(ge=0, le=30, description="Zoom level.", examples=[12])],
    x: Annotated[int, Path(ge=0, description="Column.", examples=[3261])],
    y: Annotated[int, Path(ge=0, description="Row.", examples=[1809])],
) -> Response:
    _known(layer_name)
    pbf = await run_in_threadpool(layer_tile, catalog, settings.resolved_data_dir, layer_name, z, x, y, max_zoom=settings.max_tile_zoom)
    return Response(pbf, media_type=MVT_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=300"})

"""Map tiles (Web Mercator XYZ PNG) and TileJSON for every raster item of the catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import error_responses
from api.links import tiles_url
from api.validation import STRICT_QUERY
from base.errors import InvalidRequest
from maps.colormaps import COLORMAPS, get_colormap
from maps.tiles import TileRequest, parse_rescale, tile_bounds_info, tile_png

router = APIRouter(prefix="/tiles", tags=["Tiles"], dependencies=STRICT_QUERY)

AssetsQ = Annotated[str | None, Query(description="Comma-separated asset keys: 1 (with a colormap) or 3 (RGB). Default: the item's default layer.")]
RescaleQ = Annotated[str | None, Query(description="Display range `min,max` in the asset's units, e.g. `-25,0` for σ0 dB.")]
ColormapQ = Annotated[
    str | None,
    Query(description=f"hpgeo colormap ({', '.join(sorted(COLORMAPS))}) or any rio-tiler colormap name (viridis, blues...)."),
]


def _request(assets: str | None, rescale: str | None, colormap: str | None) -> TileRequest:
    return TileRequest(
        assets=tuple(a for a in (assets or "").split(",") if a),
        rescale=parse_rescale(rescale),
        colormap=colormap or None,
    )


@router.get(
    "/{collection_id}/{item_id}/{z}/{x}/{y}.png",
    summary="One XYZ tile (PNG, Web Mercator)",
    responses={200: {"content": {"image/png": {}}, "description": "The tile."}, **error_responses(400, 404, 422)},
    response_class=Response,
)
async def tile(
    collection_id: str,
    item_id: str,
    catalog: CatalogDep,
    settings: SettingsDep,
    z: Annotated[int, Path(ge=0, le=30, description="Zoom level (0 … HPGEO_MAX_TILE_ZOOM, default 24).")],
    x: Annotated[int, Path(ge=0, description="Column.")],
    y: Annotated[int, Path(ge=0, description="Row.")],
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
) -> Response:
    if z > settings.max_tile_zoom:
        raise InvalidRequest(f"zoom {z} is above the maximum {settings.max_tile_zoom}")
    if x >= 2**z or y >= 2**z:
        raise InvalidRequest(f"tile {z}/{x}/{y} does not exist: x and y must be below {2**z} at zoom {z}")
    req = _request(assets, rescale, colormap)
    item = catalog.get_item(collection_id, item_id)
    png = await run_in_threadpool(tile_png, item, z, x, y, req, settings.resolved_data_dir, 256, settings.remote_asset_prefixes)
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/{collection_id}/{item_id}/tilejson.json", summary="TileJSON 3.0 for an item's layer", responses=error_responses(400, 404, 422))
def tilejson(
    request: Request,
    collection_id: str,
    item_id: str,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
) -> dict[str, Any]:
    item = catalog.get_item(collection_id, item_id)
    req = _request(assets, rescale, colormap)
    spec = req.resolve(item)
    info = tile_bounds_info(item, spec.assets[0], settings.resolved_data_dir, settings.remote_asset_prefixes)
    w, s, e, n = info["bounds"]
    minz, maxz = info["minzoom"], min(info["maxzoom"], settings.max_tile_zoom)
    return {
        "tilejson": "3.0.0",
        "name": item.get("properties", {}).get("title", item_id),
        "tiles": [tiles_url(base, collection_id, item_id, spec.query())],
        "minzoom": minz,
        "maxzoom": maxz,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2, (s + n) / 2, max(minz, min(maxz, 11))],
        "attribution": "hpgeo" + (" — SIMULATED data" if item["properties"].get("hpgeo:simulated") else ""),
    }


@router.get("/colormaps/{name}", summary="Legend of a colormap (labels in Vietnamese and English)", responses=error_responses(400, 404))
def legend(name: str) -> dict[str, Any]:
    cm = get_colormap(name)
    return {
        "name": cm.name,
        "kind": cm.kind,
        "title": {"vi": cm.title_vi, "en": cm.title_en},
        "rescale": cm.rescale,
        "unit": cm.unit,
        "entries": [{"value": e.value, "color": list(e.color), "label": {"vi": e.label_vi, "en": e.label_en}} for e in cm.legend],
    }

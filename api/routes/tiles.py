"""Map tiles (Web Mercator XYZ: PNG/WebP/JPEG, 256 and 512 px), previews, point values, TileJSON, WMTS 1.0.0
and legends (JSON and PNG) for every raster item of the catalog.

Tiles carry a strong ``ETag`` (item, asset file size/mtime, drawing parameters) and ``Cache-Control``; a
matching ``If-None-Match`` answers 304 without reading a pixel. Rendered tiles are kept in a bounded
in-process LRU (:class:`maps.tiles.TileCache`, :data:`TILE_CACHE_BYTES` per worker).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import SafeJSONResponse, error_responses
from api.links import tiles_url
from api.validation import STRICT_QUERY
from base.errors import InvalidRequest, NotFound
from ingest.catalog.query import SearchQuery
from maps.colormaps import COLORMAPS, get_colormap, legend_png
from maps.render import default_render
from maps.tiles import (
    FORMATS, TileCache, TileRequest, item_bounds, parse_bidx, parse_rescale, point_values, preview_image, tile_bounds_info,
    tile_etag, tile_image,
)
from maps.wmts import FORMAT_EXT, WmtsLayer, capabilities_xml, parse_kvp, wmts_url

router = APIRouter(prefix="/tiles", tags=["Tiles"])

TILE_CACHE_BYTES = 32 << 20
CACHE_CONTROL = "public, max-age=3600"
WMTS_MAX_LAYERS = 100
XML = "application/xml"

AssetsQ = Annotated[str | None, Query(description="Comma-separated asset keys: 1 (with a colormap) or 3 (RGB). Default: the item's default layer.",
                                      examples=["flood"])]
RescaleQ = Annotated[str | None, Query(description="Display range `min,max` in the asset's (or expression's) units, e.g. `-25,0` for σ0 dB.",
                                       examples=["-25,0"])]
ColormapQ = Annotated[
    str | None,
    Query(description=f"hpgeo colormap ({', '.join(sorted(COLORMAPS))}) or any rio-tiler colormap name (viridis, blues...).",
          examples=["flood"]),
]
BidxQ = Annotated[str | None, Query(description="Band indexes (1-based) of the single asset: 1 band (with a colormap) or 3 (RGB).",
                                    examples=["1"])]
ExpressionQ = Annotated[
    str | None,
    Query(max_length=400, description="Band math over the item's asset names or `b1`…`bN` of the one asset: numbers, `+ - * / % **` "
          "(constant exponent ≤ 8), comparisons, `& |`, and abs, sqrt, log, log10, exp, floor, ceil, round, min, max, clip, "
          "where. Needs `rescale`. Anything else (attributes, calls of other names, subscripts…) is refused with 400.",
          examples=["(B08-B04)/(B08+B04)"]),
]
CollectionP = Annotated[str, Path(description="Collection id.", examples=["flood-extent"])]
ItemP = Annotated[str, Path(description="Item id.", examples=["SIM-flood-sar-20250910"])]
ZP = Annotated[int, Path(ge=0, le=30, description="Zoom level (0 … HPGEO_MAX_TILE_ZOOM, default 24).", examples=[12])]
XP = Annotated[int, Path(ge=0, description="Column.", examples=[3260])]
YP = Annotated[int, Path(ge=0, description="Row.", examples=[1822])]
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}}, "description": "The tile."},
    304: {"description": "Not modified (the `If-None-Match` ETag is current)."},
    **error_responses(400, 404, 422),
}


def _request(assets: str | None, rescale: str | None, colormap: str | None, bidx: str | None = None,
             expression: str | None = None) -> TileRequest:
    return TileRequest(
        assets=tuple(a for a in (assets or "").split(",") if a),
        rescale=parse_rescale(rescale),
        colormap=colormap or None,
        bidx=parse_bidx(bidx),
        expression=expression if expression not in (None, "") else None,
    )


def _cache(request: Request) -> TileCache:
    c = getattr(request.app.state, "tile_cache", None)
    if c is None:
        c = request.app.state.tile_cache = TileCache(TILE_CACHE_BYTES)
    return c


def _not_modified(request: Request, etag: str) -> bool:
    inm = request.headers.get("if-none-match")
    if not inm:
        return False
    tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
    return "*" in tags or etag in tags


async def _tile_response(request: Request, catalog: Any, settings: Any, collection_id: str, item_id: str, z: int, x: int, y: int,
                         fmt: str, tilesize: int, req: TileRequest) -> Response:
    if z > settings.max_tile_zoom:
        raise InvalidRequest(f"zoom {z} is above the maximum {settings.max_tile_zoom}")
    if x >= 2**z or y >= 2**z:
        raise InvalidRequest(f"tile {z}/{x}/{y} does not exist: x and y must be below {2**z} at zoom {z}")
    item = catalog.get_item(collection_id, item_id)
    spec = req.resolve(item)
    data_dir, prefixes = settings.resolved_data_dir, settings.remote_asset_prefixes
    etag = await run_in_threadpool(tile_etag, item, spec, data_dir, prefixes, z, x, y, tilesize, FORMATS[fmt][1])
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    cache = _cache(request)
    body = cache.get(etag)
    if body is None:
        body = await run_in_threadpool(tile_image, item, z, x, y, req, data_dir, tilesize, prefixes, fmt)
        cache.put(etag, body)
    return Response(body, media_type=FORMATS[fmt][1], headers=headers)


@router.get("/colormaps/{name}.png", summary="Legend of a colormap as a PNG image", response_class=Response, dependencies=STRICT_QUERY,
            responses={200: {"content": {"image/png": {}}, "description": "The legend."}, **error_responses(400, 404, 422)})
async def legend_image(name: Annotated[str, Path(description="Colormap name.", examples=["flood"])],
                       lang: Annotated[Literal["vi", "en"], Query(description="Label language.", examples=["en"])] = "vi") -> Response:
    png = await run_in_threadpool(legend_png, get_colormap(name), lang)
    return Response(png, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})


@router.get("/colormaps/{name}", summary="Legend of a colormap (labels in Vietnamese and English)", responses=error_responses(400, 404),
            dependencies=STRICT_QUERY)
def legend(name: Annotated[str, Path(description="Colormap name.", examples=["flood"])]) -> dict[str, Any]:
    cm = get_colormap(name)
    return {
        "name": cm.name,
        "kind": cm.kind,
        "title": {"vi": cm.title_vi, "en": cm.title_en},
        "rescale": cm.rescale,
        "unit": cm.unit,
        "entries": [{"value": e.value, "color": list(e.color), "label": {"vi": e.label_vi, "en": e.label_en}} for e in cm.legend],
    }


# --- WMTS --------------------------------------------------------------------------------------------------


def _wmts_layer(item: dict[str, Any], base: str, settings: Any) -> WmtsLayer | None:
    info = item_bounds(item, settings.resolved_data_dir, settings.remote_asset_prefixes)
    if info is None:
        return None
    spec = default_render(item)
    cid, iid = item["collection"], item["id"]
    template = tiles_url(base, cid, iid).replace("{z}", "{TileMatrix}").replace("{x}", "{TileCol}").replace("{y}", "{TileRow}")
    legend = f"{base}/tiles/colormaps/{spec.colormap}.png" if spec is not None and spec.colormap in COLORMAPS else None
    props = item.get("properties", {})
    return WmtsLayer(
        identifier=iid, title=str(props.get("title") or iid), bounds=tuple(info["bounds"]),  # type: ignore[arg-type]
        minzoom=int(info["minzoom"]), maxzoom=min(int(info["maxzoom"]), settings.max_tile_zoom), template=template,
        abstract=str(props.get("description") or ""), legend_url=legend,
    )


def _collection_layers(catalog: Any, collection_id: str, base: str, settings: Any) -> list[WmtsLayer]:
    catalog.get_collection(collection_id)  # 404 for an unknown collection
    layers = []
    for item in catalog.search(SearchQuery(collections=(collection_id,), limit=WMTS_MAX_LAYERS)):
        layer = _wmts_layer(item, base, settings)
        if layer is not None:
            layers.append(layer)
        if len(layers) == WMTS_MAX_LAYERS:
            break
    if not layers:
        raise NotFound(f"collection {collection_id!r} has no raster item to offer as a WMTS layer")
    return layers


def _caps(layers: list[WmtsLayer], kvp: str, rest: str, title: str) -> Response:
    return Response(capabilities_xml(layers, kvp, rest, title, "Web Mercator tiles of hpgeo (Hải Phòng)."), media_type=XML)


async def _wmts_kvp(request: Request, catalog: Any, settings: Any, base: str, collection_id: str, item_id: str | None) -> Response:
    wr = parse_kvp(list(request.query_params.multi_items()), settings.max_tile_zoom)
    if wr.request == "GetCapabilities":
        if item_id is None:
            layers = await run_in_threadpool(_collection_layers, catalog, collection_id, base, settings)
            return _caps(layers, wmts_url(base, collection_id, None, kvp=True), wmts_url(base, collection_id), f"hpgeo — {collection_id}")
        item = catalog.get_item(collection_id, item_id)
        layer = await run_in_threadpool(_wmts_layer, item, base, settings)
        if layer is None:
            raise InvalidRequest(f"item {item_id!r} has no raster asset")
        return _caps([layer], wmts_url(base, collection_id, item_id, kvp=True), wmts_url(base, collection_id, item_id), layer.title)
    if item_id is not None and wr.layer != item_id:
        raise NotFound(f"this service has one layer, {item_id!r}, not {wr.layer!r}")
    return await _tile_response(request, catalog, settings, collection_id, wr.layer or "", wr.z, wr.x, wr.y, FORMAT_EXT[wr.format], 256, TileRequest())


WMTS_DOC = ("OGC WMTS 1.0.0 in KVP encoding: `SERVICE=WMTS&REQUEST=GetCapabilities`, or `REQUEST=GetTile` with `LAYER` (item id), "
            "`STYLE=default`, `FORMAT` (image/png, image/webp, image/jpeg), `TILEMATRIXSET=WebMercatorQuad`, `TILEMATRIX`, "
            "`TILEROW`, `TILECOL`. Parameter names are case-insensitive; unknown ones are refused with 400.")
WMTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {XML: {}, "image/png": {}}, "description": "Capabilities (XML) or a tile."},
    **error_responses(400, 404, 422),
}


@router.get("/{collection_id}/WMTSCapabilities.xml", summary="WMTS 1.0.0 capabilities of a collection (one layer per raster item)",
            description="With query parameters, answers as the KVP endpoint (OWSLib adds them): " + WMTS_DOC,
            response_class=Response, responses=WMTS_RESPONSES)
async def wmts_collection_capabilities(request: Request, collection_id: CollectionP, catalog: CatalogDep, settings: SettingsDep,
                                       base: BaseUrlDep) -> Response:
    if request.query_params:
        return await _wmts_kvp(request, catalog, settings, base, collection_id, None)
    layers = await run_in_threadpool(_collection_layers, catalog, collection_id, base, settings)
    return _caps(layers, wmts_url(base, collection_id, None, kvp=True), wmts_url(base, collection_id), f"hpgeo — {collection_id}")


@router.get("/{collection_id}/wmts", summary="WMTS 1.0.0 KVP endpoint of a collection", description=WMTS_DOC,
            response_class=Response, responses=WMTS_RESPONSES)
async def wmts_collection_kvp(request: Request, collection_id: CollectionP, catalog: CatalogDep, settings: SettingsDep,
                              base: BaseUrlDep) -> Response:
    return await _wmts_kvp(request, catalog, settings, base, collection_id, None)


@router.get("/{collection_id}/{item_id}/WMTSCapabilities.xml", summary="WMTS 1.0.0 capabilities of one item",
            description="With query parameters, answers as the KVP endpoint (OWSLib adds them): " + WMTS_DOC,
            response_class=Response, responses=WMTS_RESPONSES)
async def wmts_item_capabilities(request: Request, collection_id: CollectionP, item_id: ItemP, catalog: CatalogDep, settings: SettingsDep,
                                 base: BaseUrlDep) -> Response:
    if request.query_params:
        return await _wmts_kvp(request, catalog, settings, base, collection_id, item_id)
    item = catalog.get_item(collection_id, item_id)
    layer = await run_in_threadpool(_wmts_layer, item, base, settings)
    if layer is None:
        raise InvalidRequest(f"item {item_id!r} has no raster asset")
    return _caps([layer], wmts_url(base, collection_id, item_id, kvp=True), wmts_url(base, collection_id, item_id), layer.title)


@router.get("/{collection_id}/{item_id}/wmts", summary="WMTS 1.0.0 KVP endpoint of one item", description=WMTS_DOC,
            response_class=Response, responses=WMTS_RESPONSES)
async def wmts_item_kvp(request: Request, collection_id: CollectionP, item_id: ItemP, catalog: CatalogDep, settings: SettingsDep,
                        base: BaseUrlDep) -> Response:
    return await _wmts_kvp(request, catalog, settings, base, collection_id, item_id)


# --- TileJSON, preview, point ---------------------------------------------------------------------------


@router.get("/{collection_id}/{item_id}/tilejson.json", summary="TileJSON 3.0 for an item's layer", responses=error_responses(400, 404, 422),
            dependencies=STRICT_QUERY)
def tilejson(
    request: Request,
    collection_id: CollectionP,
    item_id: ItemP,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
    bidx: BidxQ = None,
    expression: ExpressionQ = None,
) -> dict[str, Any]:
    item = catalog.get_item(collection_id, item_id)
    req = _request(assets, rescale, colormap, bidx, expression)
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


@router.get("/{collection_id}/{item_id}/preview.{fmt}", summary="The whole item as one image (PNG, WebP or JPEG)", response_class=Response,
            dependencies=STRICT_QUERY,
            responses={200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}}, "description": "The preview."},
                       **error_responses(400, 404, 422)})
async def preview(
    collection_id: CollectionP,
    item_id: ItemP,
    fmt: Annotated[Literal["png", "webp", "jpg", "jpeg"], Path(description="Image format.", examples=["png"])],
    catalog: CatalogDep,
    settings: SettingsDep,
    max_size: Annotated[int, Query(ge=16, le=2048, description="Longer side in pixels.", examples=[1024])] = 1024,
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
    bidx: BidxQ = None,
    expression: ExpressionQ = None,
) -> Response:
    req = _request(assets, rescale, colormap, bidx, expression)
    item = catalog.get_item(collection_id, item_id)
    img = await run_in_threadpool(preview_image, item, req, settings.resolved_data_dir, max_size, settings.remote_asset_prefixes, fmt)
    return Response(img, media_type=FORMATS[fmt][1], headers={"Cache-Control": CACHE_CONTROL})


@router.get(
    "/{collection_id}/{item_id}/point/{lon},{lat}",
    summary="Pixel values of an item at a longitude, latitude (GeoJSON Feature)",
    description="Every band of every raster asset (or of `assets`) at the point, in the asset's units, with the class label "
    "(Vietnamese and English) for class maps. `value` is null on no-data, or for an asset that does not cover the point; "
    "a point outside every asset of the item is 404; a longitude outside −180…180 or latitude outside −90…90 is 400.",
    response_class=SafeJSONResponse, dependencies=STRICT_QUERY,
    responses={200: {"content": {"application/geo+json": {}}, "description": "A GeoJSON Feature."}, **error_responses(400, 404, 422)},
)
async def point(
    collection_id: CollectionP,
    item_id: ItemP,
    lon: Annotated[float, Path(description="Longitude (WGS 84).", examples=[106.68])],
    lat: Annotated[float, Path(description="Latitude (WGS 84).", examples=[20.7])],
    catalog: CatalogDep,
    settings: SettingsDep,
    assets: Annotated[str | None, Query(description="Comma-separated asset keys (default: every raster asset).", examples=["flood"])] = None,
) -> SafeJSONResponse:
    item = catalog.get_item(collection_id, item_id)
    keys = tuple(a for a in (assets or "").split(",") if a)
    values = await run_in_threadpool(point_values, item, lon, lat, settings.resolved_data_dir, keys, settings.remote_asset_prefixes)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"collection": collection_id, "item": item_id, "values": values},
    }
    return SafeJSONResponse(feature, media_type="application/geo+json")


# --- XYZ tiles (the @2x routes first: "{y}.png" would also match "1822@2x.png") ------------------------------


@router.get("/{collection_id}/{item_id}/{z}/{x}/{y}@2x.{fmt}", summary="One 512 px XYZ tile (@2x; PNG, WebP or JPEG)",
            responses=TILE_RESPONSES, response_class=Response, dependencies=STRICT_QUERY)
async def tile_2x(
    request: Request,
    collection_id: CollectionP,
    item_id: ItemP,
    catalog: CatalogDep,
    settings: SettingsDep,
    z: ZP,
    x: XP,
    y: YP,
    fmt: Annotated[Literal["png", "webp", "jpg", "jpeg"], Path(description="Image format.", examples=["png"])],
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
    bidx: BidxQ = None,
    expression: ExpressionQ = None,
) -> Response:
    req = _request(assets, rescale, colormap, bidx, expression)
    return await _tile_response(request, catalog, settings, collection_id, item_id, z, x, y, fmt, 512, req)


@router.get("/{collection_id}/{item_id}/{z}/{x}/{y}.png", summary="One XYZ tile (PNG, Web Mercator, 256 px)",
            responses=TILE_RESPONSES, response_class=Response, dependencies=STRICT_QUERY)
async def tile(
    request: Request,
    collection_id: CollectionP,
    item_id: ItemP,
    catalog: CatalogDep,
    settings: SettingsDep,
    z: ZP,
    x: XP,
    y: YP,
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
    bidx: BidxQ = None,
    expression: ExpressionQ = None,
) -> Response:
    req = _request(assets, rescale, colormap, bidx, expression)
    return await _tile_response(request, catalog, settings, collection_id, item_id, z, x, y, "png", 256, req)


@router.get("/{collection_id}/{item_id}/{z}/{x}/{y}.{fmt}", summary="One XYZ tile (WebP or JPEG, 256 px)",
            responses=TILE_RESPONSES, response_class=Response, dependencies=STRICT_QUERY)
async def tile_format(
    request: Request,
    collection_id: CollectionP,
    item_id: ItemP,
    catalog: CatalogDep,
    settings: SettingsDep,
    z: ZP,
    x: XP,
    y: YP,
    fmt: Annotated[Literal["webp", "jpg", "jpeg"], Path(description="Image format.", examples=["webp"])],
    assets: AssetsQ = None,
    rescale: RescaleQ = None,
    colormap: ColormapQ = None,
    bidx: BidxQ = None,
    expression: ExpressionQ = None,
) -> Response:
    req = _request(assets, rescale, colormap, bidx, expression)
    return await _tile_response(request, catalog, settings, collection_id, item_id, z, x, y, fmt, 256, req)

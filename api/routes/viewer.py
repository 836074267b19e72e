"""The department viewer (/viewer), its own offline base map tiles, and the JS/CSS it loads (served locally)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import error_responses
from api.validation import STRICT_QUERY
from base.errors import InvalidRequest, NotFound
from ingest.catalog import SearchQuery
from maps.basemap import MAX_ZOOM, basemap_tile, cache_dir
from maps.viewer import build_viewer, viewer_config

router = APIRouter(prefix="/viewer", tags=["Viewer"], dependencies=STRICT_QUERY)

_SCENE_COLLECTIONS = ("sentinel-1-grd", "sentinel-2-l2a")


class UnknownViewerDate(NotFound):
    """No item of the collection on the date asked for."""


class BadViewerParameter(InvalidRequest):
    """A viewer parameter that names nothing (e.g. `item` without `collection`)."""


def _leaflet_dir() -> Path:
    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is None or spec.origin is None:  # pragma: no cover - it is a declared dependency
        raise NotFound("Leaflet assets are not installed (package django-js-lib-leaflet)")
    return Path(spec.origin).parent / "static" / "js_lib_leaflet"


def _app_static_dir() -> Path:
    import maps

    return Path(maps.__file__).resolve().parent / "static"


def _items(catalog: Any, collection: str, n: int) -> list[dict[str, Any]]:
    out = []
    for it in catalog.search(SearchQuery.build(collections=[collection], limit=min(n, 100))):
        out.append(it)
        if len(out) >= n:
            break
    return out


_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"


@router.get("", response_class=HTMLResponse, summary="Map viewer for city departments (Vietnamese; ?lang=en for English)",
            responses={200: {"content": {"text/html": {}}, "description": "The viewer page."}, **error_responses(400, 404, 422)})
def viewer(
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    lang: Annotated[Literal["vi", "en"], Query(description="Interface language.")] = "vi",
    collection: Annotated[str | None, Query(pattern=_ID, description="Collection switched on and focused (e.g. flood-extent).", examples=["flood-extent"])] = None,
    item: Annotated[str | None, Query(pattern=_ID, description="Item of `collection` shown first.")] = None,
    date: Annotated[dt.date | None, Query(description="Date (YYYY-MM-DD) of the item of `collection` shown first.", examples=["2025-09-10"])] = None,
    layers: Annotated[str | None, Query(max_length=2000, pattern=r"^[A-Za-z0-9._,:/-]*$", description="Layers switched on: comma-separated `collection` or `collection/item`.",
                                             examples=["flood-extent,sentinel-1-grd/S1A-SIM-20250903"])] = None,
    lat: Annotated[float | None, Query(ge=-85, le=85, description="Map centre latitude.")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Map centre longitude.")] = None,
    zoom: Annotated[int | None, Query(ge=0, le=22, description="Map zoom.")] = None,
    per_collection: Annotated[int, Query(ge=1, le=100, description="Latest items per collection offered on its date slider.")] = 60,
) -> HTMLResponse:
    kinds = catalog.collection_kinds()
    if collection is not None and collection not in kinds:
        catalog.get_collection(collection)  # raises 404 with a message
    if (item or date) and not collection:
        raise BadViewerParameter("`item` and `date` need `collection`")
    by_col: dict[str, list[dict[str, Any]]] = {}
    for cid, kind in sorted(kinds.items()):
        if kind == "product" or cid in _SCENE_COLLECTIONS:
            by_col[cid] = _items(catalog, cid, per_collection)
    if collection and item:
        it = catalog.get_item(collection, item)  # 404 for an unknown item
        if all(i["id"] != item for i in by_col.setdefault(collection, [])):
            by_col[collection].append(it)
    if collection and date:
        day = date.isoformat()
        if not any((i["properties"].get("datetime") or "")[:10] == day for i in by_col.get(collection, [])):
            raise UnknownViewerDate(f"no item of {collection} on {day}")
    view = (lat, lon, zoom) if lat is not None and lon is not None and zoom is not None else None
    today = dt.date.today()
    config = viewer_config(
        base=base,
        items_by_collection=by_col,
        lang=lang,
        collection=collection,
        item=item,
        date=date.isoformat() if date else None,
        layers=[c for c in (layers or "").split(",") if c],
        view=view,
        aoi_on=today,
        admin_units=bool(catalog.aoi_index(on=today, include_builtin=False)),
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
    )
    page = build_viewer(
        base=base,
        config=config,
        assets=settings.viewer_assets,
        links={"registry": f"{base}/registry/page?lang={lang}", "api": f"{base}/docs"},
    )
    return HTMLResponse(page)


@router.get("/basemap/{z}/{x}/{y}.png", summary="hpgeo's offline base map: one land/sea tile (PNG, Web Mercator)",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The tile."}, **error_responses(400, 422)})
async def basemap(
    settings: SettingsDep,
    z: Annotated[int, PathParam(ge=0, le=MAX_ZOOM, description="Zoom level.", examples=[11])],
    x: Annotated[int, PathParam(ge=0, description="Column.", examples=[1630])],
    y: Annotated[int, PathParam(ge=0, description="Row.", examples=[906])],
) -> Response:
    png = await run_in_threadpool(basemap_tile, z, x, y, cache_dir(settings.basemap_cache))
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


def _static(root: Path, path: str) -> FileResponse:
    root = root.resolve()
    f = (root / path).resolve()
    if root not in f.parents or not f.is_file() or not re.fullmatch(r"[A-Za-z0-9._/-]+", path):
        raise NotFound(f"no static file {path!r}")
    return FileResponse(f)


@router.get("/static/leaflet/{path:path}", include_in_schema=False)
def leaflet_static(path: str) -> FileResponse:
    return _static(_leaflet_dir(), path)


@router.get("/static/app/{path:path}", include_in_schema=False)
def app_static(path: str) -> FileResponse:
    return _static(_app_static_dir(), path)

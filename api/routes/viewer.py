"""The department viewer (/viewer) and the Leaflet files it loads (served locally: works offline)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from base.errors import NotFound
from ingest.catalog import SearchQuery
from maps.viewer import build_viewer

router = APIRouter(prefix="/viewer", tags=["Viewer"])

_SCENE_COLLECTIONS = ("sentinel-1-grd", "sentinel-2-l2a")


def _leaflet_dir() -> Path:
    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is None or spec.origin is None:  # pragma: no cover - it is a declared dependency
        raise NotFound("Leaflet assets are not installed (package django-js-lib-leaflet)")
    return Path(spec.origin).parent / "static" / "js_lib_leaflet"


def _latest(catalog: Any, collection: str, n: int) -> list[dict[str, Any]]:
    out = []
    for it in catalog.search(SearchQuery.build(collections=[collection], limit=1)):
        out.append(it)
        if len(out) >= n:
            break
    return out


@router.get("", response_class=HTMLResponse, summary="Map viewer for city departments (Vietnamese; ?lang=en for English)")
def viewer(
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    lang: Annotated[Literal["vi", "en"], Query(description="Interface language.")] = "vi",
    collection: Annotated[str | None, Query(description="Show only this product collection (e.g. flood-extent).")] = None,
    item: Annotated[str | None, Query(description="Show only this item of `collection`.")] = None,
    per_collection: Annotated[int, Query(ge=1, le=20, description="Latest items shown per product collection.")] = 1,
) -> HTMLResponse:
    kinds = catalog.collection_kinds()
    if collection is not None and collection not in kinds:
        catalog.get_collection(collection)  # raises 404 with a message
    products: list[dict[str, Any]] = []
    for cid, kind in sorted(kinds.items()):
        if kind != "product" or (collection and cid != collection):
            continue
        if item:
            products.append(catalog.get_item(cid, item))
        else:
            products += _latest(catalog, cid, per_collection)
    scenes: list[dict[str, Any]] = []
    for cid in _SCENE_COLLECTIONS:
        if cid in kinds:
            scenes += _latest(catalog, cid, 2)
    today = dt.date.today()
    page = build_viewer(
        base=base,
        aoi_on=today,
        admin_units=bool(catalog.aoi_index(on=today, include_builtin=False)),
        product_items=products,
        scene_items=scenes,
        lang=lang,
        assets=settings.viewer_assets,
        links={"registry": f"{base}/registry/page?lang={lang}", "api": f"{base}/docs"},
        featured_collection=collection,
    )
    return HTMLResponse(page)


@router.get("/static/leaflet/{path:path}", include_in_schema=False)
def leaflet_static(path: str) -> FileResponse:
    root = _leaflet_dir().resolve()
    f = (root / path).resolve()
    if root not in f.parents or not f.is_file():
        raise NotFound(f"no static file {path!r}")
    return FileResponse(f)

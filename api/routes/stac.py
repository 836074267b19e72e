"""STAC API (core, collections, features, item-search) at /stac."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.errors import SafeJSONResponse, error_responses
from api.links import collection_out, item_out
from ingest.catalog import SearchQuery
from base.paths import is_remote
from ingest.items import resolve_href
from ingest.catalog.errors import ItemNotFound

router = APIRouter(prefix="/stac", tags=["STAC API"])

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
GEOJSON = "application/geo+json"
NEXT_BODY_MAX = 8192  # a POST search body longer than this (JSON) is not repeated in the next link: the link carries the token


class GeoJSONResponse(SafeJSONResponse):
    media_type = GEOJSON


BBoxQ = Annotated[str | None, Query(description="W,S,E,N in WGS 84 degrees (4 or 6 numbers).", examples=["106.5,20.6,106.9,20.9"])]
DatetimeQ = Annotated[
    str | None,
    Query(description="RFC 3339 instant or interval `start/end`; `..` for an open end.", examples=["2025-09-01T00:00:00Z/2025-09-30T23:59:59Z"]),
]
LimitQ = Annotated[int, Query(ge=1, description="Items per page (at most HPGEO_MAX_SEARCH_LIMIT).")]
TokenQ = Annotated[str | None, Query(description="Paging token from a `next` link.")]


@router.get("", summary="Landing page")
def landing(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    root = f"{base}/stac"
    links = [
        {"rel": "self", "href": root, "type": "application/json"},
        {"rel": "root", "href": root, "type": "application/json"},
        {"rel": "conformance", "href": f"{root}/conformance", "type": "application/json"},
        {"rel": "data", "href": f"{root}/collections", "type": "application/json"},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "GET"},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "POST"},
        {"rel": "service-desc", "href": f"{base}/openapi.json", "type": "application/vnd.oai.openapi+json;version=3.0"},
        {"rel": "service-doc", "href": f"{base}/docs", "type": "text/html"},
    ]
    links += [{"rel": "child", "href": f"{root}/collections/{c['id']}", "type": "application/json", "title": c.get("title")} for c in catalog.list_collections()]
    return {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "hpgeo",
        "title": "hpgeo — Hải Phòng earth observation",
        "description": "Satellite scenes and hazard / land-monitoring products for Hải Phòng (STAC API).",
        "conformsTo": CONFORMANCE,
        "links": links,
    }


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="All collections")
def collections(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    cols = [collection_out(c, base) for c in catalog.list_collections()]
    return {
        "collections": cols,
        "links": [
            {"rel": "self", "href": f"{base}/stac/collections", "type": "application/json"},
            {"rel": "root", "href": f"{base}/stac", "type": "application/json"},
        ],
    }


@router.get("/collections/{collection_id}", summary="One collection", responses=error_responses(404))
def get_collection(collection_id: str, catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    return collection_out(catalog.get_collection(collection_id), base)


def _page_response(request: Request, catalog: Any, base: str, q: SearchQuery, post_body: dict[str, Any] | None) -> GeoJSONResponse:
    """One page; its ``next`` link carries a token tied to this search (see :meth:`SearchQuery.page_token`).
    A POST search repeats its body in the link when it is small; a large one (a detailed ``intersects``) is
    not echoed: the link's body is the token alone with ``merge: true`` (the client merges it into its body)."""
    page = catalog.search_page(q)
    links = []
    if page.next_token:
        token = q.page_token(page.next_token)
        href = f"{base}{request.url.path}"
        if post_body is not None:
            small = len(json.dumps(post_body, separators=(",", ":"))) <= NEXT_BODY_MAX
            body, merge = ({**post_body, "token": token}, False) if small else ({"token": token}, True)
            links.append({"rel": "next", "href": href, "method": "POST", "type": GEOJSON, "body": body, "merge": merge})
        else:
            params = dict(request.query_params)
            params["token"] = token
            links.append({"rel": "next", "href": f"{href}?{urlencode(params)}", "type": GEOJSON})
    links.append({"rel": "root", "href": f"{base}/stac", "type": "application/json"})
    body = {
        "type": "FeatureCollection",
        "features": [item_out(i, base) for i in page.items],
        "links": links,
        "numberReturned": len(page.items),
    }
    return GeoJSONResponse(body)


@router.get("/collections/{collection_id}/items", summary="Items of a collection", response_class=GeoJSONResponse,
            responses=error_responses(400, 404, 422))
def collection_items(
    request: Request,
    collection_id: str,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    bbox: BBoxQ = None,
    datetime: DatetimeQ = None,
    limit: LimitQ = 10,
    token: TokenQ = None,
) -> GeoJSONResponse:
    catalog.get_collection(collection_id)  # 404 for an unknown collection
    q = SearchQuery.build(collections=[collection_id], bbox=bbox, datetime=datetime, limit=limit, token=token, max_limit=settings.max_search_limit)
    return _page_response(request, catalog, base, q, None)


@router.get("/collections/{collection_id}/items/{item_id}", summary="One item", response_class=GeoJSONResponse, responses=error_responses(404))
def get_item(collection_id: str, item_id: str, catalog: CatalogDep, base: BaseUrlDep) -> GeoJSONResponse:
    return GeoJSONResponse(item_out(catalog.get_item(collection_id, item_id), base))


@router.get("/collections/{collection_id}/items/{item_id}/assets/{asset}", summary="Download an asset (HTTP range requests supported)",
            response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}, "description": "The asset file."},
                                                    **error_responses(400, 404)})
def get_asset(collection_id: str, item_id: str, asset: str, catalog: CatalogDep, settings: SettingsDep) -> FileResponse:
    item = catalog.get_item(collection_id, item_id)
    if asset not in item["assets"]:
        raise ItemNotFound(f"item {item_id!r} has no asset {asset!r}")
    a = item["assets"][asset]
    if is_remote(a["href"]):  # only files in the data directory are served; a remote asset is fetched from its host
        raise ItemNotFound(f"asset {item_id}/{asset} is not stored on this server; its href is {a['href']}")
    path = Path(resolve_href(a["href"], settings.resolved_data_dir))  # UnsafePath (400) for ../ and absolute paths out
    if not path.is_file():
        raise ItemNotFound(f"asset file of {item_id}/{asset} is missing")
    return FileResponse(path, media_type=a.get("type", "application/octet-stream"), filename=f"{item_id}_{asset}{path.suffix}")


@router.get("/search", summary="Search items (GET)", response_class=GeoJSONResponse, responses=error_responses(400, 422))
def search_get(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    collections: Annotated[str | None, Query(description="Comma-separated collection ids.")] = None,
    ids: Annotated[str | None, Query(description="Comma-separated item ids.")] = None,
    bbox: BBoxQ = None,
    intersects: Annotated[str | None, Query(description="GeoJSON geometry (URL-encoded JSON).")] = None,
    datetime: DatetimeQ = None,
    limit: LimitQ = 10,
    token: TokenQ = None,
) -> GeoJSONResponse:
    geom = None
    if intersects:
        try:
            geom = json.loads(intersects)
        except json.JSONDecodeError as exc:
            from ingest.catalog import InvalidQuery

            raise InvalidQuery(f"intersects is not JSON: {exc}") from exc
    q = SearchQuery.build(collections=collections, ids=ids, bbox=bbox, intersects=geom, datetime=datetime, limit=limit, token=token,
                          max_limit=settings.max_search_limit, max_vertices=settings.max_geometry_vertices)
    return _page_response(request, catalog, base, q, None)


class SearchBody(BaseModel):
    """Item search in a POST body (STAC API item-search). Other STAC fields (``fields``, ``sortby``…) are ignored."""

    model_config = ConfigDict(allow_inf_nan=False)

    collections: list[str] | None = Field(None, description="Collection ids.")
    ids: list[str] | None = Field(None, description="Item ids.")
    bbox: list[float] | None = Field(None, description="[W, S, E, N] (or 6 numbers) in WGS 84 degrees.")
    intersects: dict[str, Any] | None = Field(None, description="A GeoJSON geometry in WGS 84 degrees: valid (OGC simple features), "
                                              "at most HPGEO_MAX_GEOMETRY_VERTICES vertices.")
    datetime: str | None = Field(None, description="RFC 3339 instant or interval.")
    limit: int = Field(10, ge=1, description="Items per page.")
    token: str | None = Field(None, description="Paging token from a `next` link.")


@router.post("/search", summary="Search items (POST)", response_class=GeoJSONResponse, responses=error_responses(400, 413, 422))
def search_post(request: Request, body: SearchBody, catalog: CatalogDep, settings: SettingsDep, base: BaseUrlDep) -> GeoJSONResponse:
    q = SearchQuery.build(
        collections=body.collections,
        ids=body.ids,
        bbox=body.bbox,
        intersects=body.intersects,
        datetime=body.datetime,
        limit=body.limit,
        token=body.token,
        max_limit=settings.max_search_limit,
        max_vertices=settings.max_geometry_vertices,
    )
    return _page_response(request, catalog, base, q, body.model_dump(exclude_none=True, exclude={"token"}))

"""STAC API at /stac: core, collections, OGC API - Features, item search, and the sort, fields, filter (CQL2 text
and JSON, queryables) and query extensions, on GET and POST.

Parameters are checked at this edge and refused with 400 ``{code, description}`` (the STAC API asks for 400, not
422; api/errors.py answers 400 for every /stac route). A ``limit`` above HPGEO_MAX_SEARCH_LIMIT is capped to it.
Datetimes are RFC 3339 (``Z`` or an offset), intervals ``start/end`` with ``..`` or an empty end for open ends;
``YYYY`` and ``YYYY-MM`` name a whole year or month (an hpgeo convenience). Every page carries ``numberMatched``,
``numberReturned`` and ``self``/``root``/``parent`` links (and ``collection`` on item pages), ``next`` when there is
more, ``prev`` past the first page.
"""

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
from api.links import QUERYABLES_REL, apply_fields, collection_out, item_out
from api.validation import STRICT_QUERY
from base.paths import is_remote
from ingest.catalog import InvalidQuery, SearchQuery
from ingest.catalog.errors import ItemNotFound
from ingest.catalog.filters import CONFORMANCE_FILTER, QUERYABLES, queryables_schema
from ingest.items import resolve_href

router = APIRouter(prefix="/stac", tags=["STAC API"], dependencies=STRICT_QUERY)

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0-rc.3/item-search#filter",
    "https://api.stacspec.org/v1.0.0-rc.1/item-search#query",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "https://api.stacspec.org/v1.0.0-rc.3/ogcapi-features#filter",
    "https://api.stacspec.org/v1.0.0-rc.1/ogcapi-features#query",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    *CONFORMANCE_FILTER,
]
GEOJSON = "application/geo+json"
JSON_T = "application/json"
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
NEXT_BODY_MAX = 8192  # a POST search body longer than this (JSON) is not repeated in the next link: the link carries the token


class GeoJSONResponse(SafeJSONResponse):
    media_type = GEOJSON


class OpenAPIResponse(SafeJSONResponse):
    media_type = OPENAPI_MEDIA_TYPE


class SchemaResponse(SafeJSONResponse):
    media_type = SCHEMA_JSON


BBoxQ = Annotated[str | None, Query(description="W,S,E,N in WGS 84 degrees (4 or 6 numbers).", examples=["106.5,20.6,106.9,20.9"])]
DatetimeQ = Annotated[
    str | None,
    Query(description="RFC 3339 instant or interval `start/end`; `..` (or nothing) for an open end; `YYYY` or `YYYY-MM` for a "
          "whole year or month (hpgeo convenience).", examples=["2025-09-01T00:00:00Z/2025-09-30T23:59:59Z"]),
]
LimitQ = Annotated[int, Query(description="Items per page (1 or more; above HPGEO_MAX_SEARCH_LIMIT it is capped).", examples=[10])]
TokenQ = Annotated[str | None, Query(description="Paging token from a `next` or `prev` link.")]
SortbyQ = Annotated[str | None, Query(description="Sort extension: comma-separated queryables, `-` for descending, `+` (or none) "
                                      "for ascending; `properties.` prefixes allowed.", examples=["-properties.eo:cloud_cover,+datetime"])]
FieldsQ = Annotated[str | None, Query(description="Fields extension: comma-separated dotted paths, `-` to exclude.",
                                      examples=["id,properties.datetime,-geometry"])]
FilterQ = Annotated[str | None, Query(description="Filter extension: a CQL2 expression (cql2-text, or cql2-json as text) on the "
                                      "queryables (`/stac/queryables`).", examples=["eo:cloud_cover < 20 AND platform = 'sentinel-2a'"])]
FilterLangQ = Annotated[str | None, Query(alias="filter-lang", description="`cql2-text` (GET default) or `cql2-json`.", examples=["cql2-text"])]
FilterCrsQ = Annotated[str | None, Query(alias="filter-crs", description=f"Only `{CRS84}`.", examples=[CRS84])]
QueryQ = Annotated[str | None, Query(description='Query extension: JSON `{"property": {"op": value}}` (eq, neq, lt, lte, gt, gte, '
                                     "startsWith, endsWith, contains, in).", examples=['{"eo:cloud_cover": {"lt": 20}}'])]


def _check_crs(crs: str | None) -> None:
    if crs not in (None, "", CRS84):
        raise InvalidQuery(f"filter-crs must be {CRS84} (coordinates in WGS 84 longitude, latitude)")


def _fields_get(fields: str | None) -> tuple[list[str], list[str], bool] | None:
    if fields is None:
        return None
    inc, exc = [], []
    for part in fields.split(","):
        p = part.strip()
        if p.startswith("-"):
            exc.append(p[1:])
        elif p:
            inc.append(p.lstrip("+"))
    return inc, exc, False


@router.get("", summary="Landing page", responses=error_responses(400))
def landing(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    root = f"{base}/stac"
    links = [
        {"rel": "self", "href": root, "type": JSON_T},
        {"rel": "root", "href": root, "type": JSON_T},
        {"rel": "conformance", "href": f"{root}/conformance", "type": JSON_T},
        {"rel": "data", "href": f"{root}/collections", "type": JSON_T},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "GET"},
        {"rel": "search", "href": f"{root}/search", "type": GEOJSON, "method": "POST"},
        {"rel": QUERYABLES_REL, "href": f"{root}/queryables", "type": SCHEMA_JSON, "title": "Queryables"},
        {"rel": "service-desc", "href": f"{root}/api", "type": OPENAPI_MEDIA_TYPE},
        {"rel": "service-doc", "href": f"{base}/docs", "type": "text/html"},
    ]
    links += [{"rel": "child", "href": f"{root}/collections/{c['id']}", "type": JSON_T, "title": c.get("title")} for c in catalog.list_collections()]
    return {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "hpgeo",
        "title": "hpgeo — Hải Phòng earth observation",
        "description": "Satellite scenes and hazard / land-monitoring products for Hải Phòng (STAC API).",
        "conformsTo": CONFORMANCE,
        "links": links,
    }


@router.get("/api", summary="OpenAPI description of the API (the landing page's service-desc)", response_class=OpenAPIResponse,
            responses={200: {"content": {OPENAPI_MEDIA_TYPE: {}}, "description": "The OpenAPI 3 document."}, **error_responses(400)})
def service_desc(request: Request) -> OpenAPIResponse:
    return OpenAPIResponse(request.app.openapi())


@router.get("/conformance", summary="Conformance classes", responses=error_responses(400))
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get("/queryables", summary="Queryables of all items (filter, query and sortby may name these)", response_class=SchemaResponse,
            responses={200: {"content": {SCHEMA_JSON: {}}, "description": "JSON Schema of the queryables."}, **error_responses(400)})
def queryables(base: BaseUrlDep) -> SchemaResponse:
    return SchemaResponse(queryables_schema(f"{base}/stac/queryables"))


@router.get("/collections", summary="All collections", responses=error_responses(400))
def collections(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    cols = [collection_out(c, base) for c in catalog.list_collections()]
    return {
        "collections": cols,
        "links": [
            {"rel": "self", "href": f"{base}/stac/collections", "type": JSON_T},
            {"rel": "root", "href": f"{base}/stac", "type": JSON_T},
            {"rel": "parent", "href": f"{base}/stac", "type": JSON_T},
        ],
    }


@router.get("/collections/{collection_id}", summary="One collection", responses=error_responses(400, 404))
def get_collection(collection_id: str, catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    return collection_out(catalog.get_collection(collection_id), base)


@router.get("/collections/{collection_id}/queryables", summary="Queryables of one collection", response_class=SchemaResponse,
            responses={200: {"content": {SCHEMA_JSON: {}}, "description": "JSON Schema of the queryables."}, **error_responses(400, 404)})
def collection_queryables(collection_id: str, catalog: CatalogDep, base: BaseUrlDep) -> SchemaResponse:
    col = catalog.get_collection(collection_id)
    used = catalog.property_names(collection_id)
    names = [n for n in QUERYABLES if n in ("id", "collection", "datetime", "start_datetime", "end_datetime") or n in used]
    return SchemaResponse(queryables_schema(f"{base}/stac/collections/{collection_id}/queryables", names, col.get("title") or collection_id))


def _nav_links(base: str, collection_id: str | None) -> list[dict[str, Any]]:
    root = {"rel": "root", "href": f"{base}/stac", "type": JSON_T}
    if collection_id is None:
        return [root, {"rel": "parent", "href": f"{base}/stac", "type": JSON_T}]
    col = f"{base}/stac/collections/{collection_id}"
    return [root, {"rel": "parent", "href": col, "type": JSON_T}, {"rel": "collection", "href": col, "type": JSON_T}]


def _page_response(request: Request, catalog: Any, base: str, q: SearchQuery, post_body: dict[str, Any] | None,
                   fields: tuple[list[str], list[str], bool] | None, collection_id: str | None = None) -> GeoJSONResponse:
    """One page; its ``next`` link carries a token tied to this search (see :meth:`SearchQuery.page_token`).
    A POST search repeats its body in the link when it is small; a large one (a detailed ``intersects``) is
    not echoed: the link's body is the token alone with ``merge: true`` (the client merges it into its body)."""
    page = catalog.search_page(q, count=True)
    href = f"{base}{request.url.path}"
    links: list[dict[str, Any]] = []
    if post_body is not None:
        links.append({"rel": "self", "href": href, "method": "POST", "type": GEOJSON, "body": {**post_body, **({"token": q.page_token(q.token)} if q.token else {})}})
    else:
        links.append({"rel": "self", "href": str(request.url).replace(str(request.base_url).rstrip("/"), base, 1), "type": GEOJSON})
    cursors: list[tuple[str, str | None]] = []
    if page.next_token:
        cursors.append(("next", page.next_token))
    if q.sortby and q.token:
        from ingest.catalog.query import decode_offset, encode_offset

        start = decode_offset(q.token)
        if start > 0:
            cursors.append(("prev", encode_offset(max(0, start - q.limit)) if start > q.limit else None))
    elif page.prev[0]:
        cursors.append(("prev", page.prev[1]))
    for rel, cursor in cursors:  # a None cursor: the first page (no token)
        token = q.page_token(cursor) if cursor is not None else None
        if post_body is not None:
            small = len(json.dumps(post_body, separators=(",", ":"))) <= NEXT_BODY_MAX
            tok = {"token": token} if token else {}
            body, merge = ({**post_body, **tok}, False) if small or not token else (tok, True)
            links.append({"rel": rel, "href": href, "method": "POST", "type": GEOJSON, "body": body, "merge": merge})
        else:
            params = {k: v for k, v in request.query_params.items() if k != "token"}
            if token:
                params["token"] = token
            links.append({"rel": rel, "href": f"{href}?{urlencode(params)}" if params else href, "type": GEOJSON})
    links += _nav_links(base, collection_id)
    features = [item_out(i, base) for i in page.items]
    if fields is not None:
        features = [apply_fields(f, *fields) for f in features]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "numberMatched": page.matched,
        "numberReturned": len(page.items),
    }
    return GeoJSONResponse(body)


@router.get("/collections/{collection_id}/items", summary="Items of a collection", response_class=GeoJSONResponse,
            responses=error_responses(400, 404))
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
    sortby: SortbyQ = None,
    fields: FieldsQ = None,
    filter: FilterQ = None,
    filter_lang: FilterLangQ = None,
    filter_crs: FilterCrsQ = None,
    query: QueryQ = None,
) -> GeoJSONResponse:
    catalog.get_collection(collection_id)  # 404 for an unknown collection
    _check_crs(filter_crs)
    q = SearchQuery.build(collections=[collection_id], bbox=bbox, datetime=datetime, limit=limit, token=token, max_limit=settings.max_search_limit,
                          sortby=sortby, filter=filter, filter_lang=filter_lang or "cql2-text", query=query, strict=True)
    return _page_response(request, catalog, base, q, None, _fields_get(fields), collection_id)


@router.get("/collections/{collection_id}/items/{item_id}", summary="One item", response_class=GeoJSONResponse, responses=error_responses(400, 404))
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


@router.get("/search", summary="Search items (GET)", response_class=GeoJSONResponse, responses=error_responses(400))
def search_get(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    base: BaseUrlDep,
    collections: Annotated[str | None, Query(description="Comma-separated collection ids.", examples=["sentinel-2-l2a,flood-extent"])] = None,
    ids: Annotated[str | None, Query(description="Comma-separated item ids.")] = None,
    bbox: BBoxQ = None,
    intersects: Annotated[str | None, Query(description="GeoJSON geometry (URL-encoded JSON).")] = None,
    datetime: DatetimeQ = None,
    limit: LimitQ = 10,
    token: TokenQ = None,
    sortby: SortbyQ = None,
    fields: FieldsQ = None,
    filter: FilterQ = None,
    filter_lang: FilterLangQ = None,
    filter_crs: FilterCrsQ = None,
    query: QueryQ = None,
) -> GeoJSONResponse:
    geom = None
    if intersects:
        try:
            geom = json.loads(intersects)
        except json.JSONDecodeError as exc:
            raise InvalidQuery(f"intersects is not JSON: {exc}") from exc
    _check_crs(filter_crs)
    q = SearchQuery.build(collections=collections, ids=ids, bbox=bbox, intersects=geom, datetime=datetime, limit=limit, token=token,
                          max_limit=settings.max_search_limit, max_vertices=settings.max_geometry_vertices, sortby=sortby,
                          filter=filter, filter_lang=filter_lang or "cql2-text", query=query, strict=True)
    return _page_response(request, catalog, base, q, None, _fields_get(fields))


class FieldsBody(BaseModel):
    """Fields extension (POST)."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] | None = Field(None, description="Dotted paths to return (e.g. `properties.eo:cloud_cover`).")
    exclude: list[str] | None = Field(None, description="Dotted paths to leave out.")


class SortBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="A queryable, optionally with the `properties.` prefix.", examples=["properties.datetime"])
    direction: str = Field("asc", description="`asc` or `desc`.", examples=["desc"])


class SearchBody(BaseModel):
    """Item search in a POST body (STAC API item-search with the sort, fields, filter and query extensions).
    Unknown members are refused (400)."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid", populate_by_name=True,
                              json_schema_extra={"examples": [{"collections": ["sentinel-2-l2a"], "bbox": [106.6, 20.6, 106.8, 20.8],
                                                               "datetime": "2025-09", "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]},
                                                               "sortby": [{"field": "properties.eo:cloud_cover", "direction": "asc"}],
                                                               "fields": {"include": ["id", "properties.eo:cloud_cover"]}, "limit": 5}]})

    collections: list[str] | str | None = Field(None, description="Collection ids.")
    ids: list[str] | str | None = Field(None, description="Item ids.")
    bbox: list[float] | None = Field(None, description="[W, S, E, N] (or 6 numbers) in WGS 84 degrees.")
    intersects: dict[str, Any] | None = Field(None, description="A GeoJSON geometry in WGS 84 degrees: valid (OGC simple features), "
                                              "at most HPGEO_MAX_GEOMETRY_VERTICES vertices.")
    datetime: str | None = Field(None, description="RFC 3339 instant or interval (`..` for an open end; `YYYY`, `YYYY-MM` shorthands).")
    limit: int = Field(10, description="Items per page (above HPGEO_MAX_SEARCH_LIMIT it is capped).")
    token: str | None = Field(None, description="Paging token from a `next` or `prev` link.")
    sortby: list[SortBody] | str | None = Field(None, description="Sort extension.")
    fields: FieldsBody | None = Field(None, description="Fields extension (null is refused).")
    filter: dict[str, Any] | str | None = Field(None, description="Filter extension: CQL2 JSON (or text with filter-lang cql2-text).")
    filter_lang: str | None = Field(None, alias="filter-lang", description="`cql2-json` (POST default) or `cql2-text`.")
    filter_crs: str | None = Field(None, alias="filter-crs", description=f"Only `{CRS84}`.")
    query: dict[str, Any] | None = Field(None, description='Query extension: `{"property": {"op": value}}`.')


@router.post("/search", summary="Search items (POST)", response_class=GeoJSONResponse, responses=error_responses(400, 413))
def search_post(request: Request, body: SearchBody, catalog: CatalogDep, settings: SettingsDep, base: BaseUrlDep) -> GeoJSONResponse:
    _check_crs(body.filter_crs)
    if "fields" in body.model_fields_set and body.fields is None:
        raise InvalidQuery("fields must be an object {include, exclude}, not null")
    fields = None
    if body.fields is not None:
        fields = (body.fields.include, body.fields.exclude, "include" in body.fields.model_fields_set)
    lang = body.filter_lang or ("cql2-text" if isinstance(body.filter, str) else "cql2-json")
    sortby = [s.model_dump() for s in body.sortby] if isinstance(body.sortby, list) else body.sortby
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
        sortby=sortby,
        filter=body.filter,
        filter_lang=lang,
        query=body.query,
        strict=True,
    )
    echo = body.model_dump(exclude_none=True, exclude={"token"}, by_alias=True)
    return _page_response(request, catalog, base, q, echo, fields)

"""Examples for the OpenAPI document, so that every operation shows one in ``/docs`` and ``/redoc``.

A route's own examples (``Query(examples=…)``, ``Field(examples=…)``) always win: this module only fills
what a route leaves without one: parameters by name (values of the demo data and the seeded registry,
each valid for the parameter's schema), request bodies by model, and for operations that take no
parameter at all an abridged response. ``tests/api/test_openapi_examples.py`` checks that every
operation has an example, that each parameter example validates against its schema and that each
abridged response has the keys of the real answer.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI

__all__ = ["PARAMETERS", "BY_ROUTE", "BODIES", "RESPONSES", "add_examples", "has_example"]

# (in, name) -> example, for every route that has such a parameter without an example of its own
PARAMETERS: dict[tuple[str, str], Any] = {
    ("path", "collection_id"): "sentinel-1-grd",
    ("path", "item_id"): "S1A_IW_GRDH_1SDV_20241118T224013_DEMO",
    ("path", "asset"): "vv",
    ("path", "collection"): "flood-extent",
    ("path", "item"): "flood-sar-6b1c2d3e4f50",
    ("path", "name"): "flood-sar",
    ("path", "task_id"): "VUTRU-2030.V.8.1",
    ("path", "agency_id"): "SNNMT",
    ("path", "plan_id"): "VUTRU-2030",
    ("path", "year"): 2026,
    ("path", "fmt"): "docx",
    ("path", "aoi_id"): "do-son",
    ("path", "identifier"): "hpgeo-flood-20241118-do-son-1",
    ("path", "sid"): "3f9a1c0b",
    ("path", "layer_name"): "flood-polygons",
    ("query", "plan"): "VUTRU-2030",
    ("query", "year"): 2026,
    ("query", "agency"): "SNNMT",
    ("query", "kind"): "task",
    ("query", "section"): "V.8",
    ("query", "type"): "research",
    ("query", "status"): "in_progress",
    ("query", "lang"): "en",
    ("query", "on"): "2026-01-15",
    ("query", "target"): "VUTRU-2030.V.8.1/status/2026",
    ("query", "task"): "VUTRU-2030.V.8.1",
    ("query", "limit"): 50,
    ("query", "active"): True,
    ("query", "rule"): "flood-area",
    ("query", "unit"): "do-son",
    ("query", "class"): 1,
    ("query", "collection"): "flood-extent",
    ("query", "force"): False,
    ("query", "ids"): "S1A_IW_GRDH_1SDV_20241118T224013_DEMO",
    ("query", "intersects"): '{"type":"Point","coordinates":[106.78,20.72]}',
    ("query", "token"): "eyJvZmZzZXQiOjEwfQ",
    ("query", "number"): "125",
    ("query", "signer"): "Nguyễn Văn A",
    ("query", "signer_title"): "GIÁM ĐỐC",
    ("query", "authority"): "KT. GIÁM ĐỐC",
    ("query", "simplify"): 10.0,
    ("query", "source"): "builtin",
    ("query", "lon"): 106.68,
    ("query", "lat"): 20.86,
    ("query", "zoom"): 11,
    ("query", "per_collection"): 5,
    ("query", "item"): "flood-sar-6b1c2d3e4f50",
    ("query", "asset"): "data",
}

# (method, path, in, name) -> example where the name means something else on that route
BY_ROUTE: dict[tuple[str, str, str, str], Any] = {
    ("get", "/alerts", "query", "unit"): "31",
    ("get", "/registry/page", "query", "type"): "research",
    ("get", "/aois", "query", "kind"): "district",
}

# request body model title -> example
BODIES: dict[str, Any] = {
    "StatusIn": {"status": "in_progress", "progress": 40, "note": "Đã thu thập ảnh Sentinel-1 mùa mưa 2026."},
    "ReportIn": {"text": "Báo cáo kết quả thực hiện năm 2026 ...", "indicators": {"space-engineers": 14},
                 "attachments": [{"name": "phu-luc.pdf", "url": "https://snnmt.haiphong.gov.vn/bao-cao/2026/phu-luc.pdf",
                                  "media_type": "application/pdf"}], "submitted_on": "2026-12-10"},
    "RemindersIn": {"sent_on": "2026-11-15"},
    "KeyIn": {"agency": "SNNMT", "role": "analyst", "label": "GIS unit, flood team"},
    "SearchBody": {"collections": ["sentinel-1-grd"], "bbox": [106.4, 20.6, 107.1, 21.0], "datetime": "2024-11-01T00:00:00Z/2024-11-30T23:59:59Z",
                   "limit": 10, "sortby": [{"field": "properties.datetime", "direction": "desc"}]},
    "SubscriptionIn": {"url": "https://hooks.snnmt.haiphong.gov.vn/hpgeo/cap",
                       "filters": {"status": "Actual", "min_severity": "Moderate"}},
}

# (method, path) -> abridged 200 answer of an operation that takes no parameter
RESPONSES: dict[tuple[str, str], Any] = {
    ("get", "/healthz"): {"status": "ok", "version": "0.1.0", "items": 412, "stac": "http://127.0.0.1:8000/stac"},
    ("get", "/stac"): {"type": "Catalog", "stac_version": "1.0.0", "id": "hpgeo", "title": "hpgeo — Hải Phòng earth observation",
                       "description": "…", "conformsTo": ["https://api.stacspec.org/v1.0.0/core"], "links": []},
    ("get", "/stac/api"): {"openapi": "3.1.0", "info": {"title": "hpgeo API", "version": "0.1.0"}, "paths": {}},
    ("get", "/stac/conformance"): {"conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"]},
    ("get", "/stac/queryables"): {"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "object",
                                  "title": "Queryables of hpgeo items", "properties": {"eo:cloud_cover": {"type": "number"}}},
    ("get", "/stac/collections"): {"collections": [{"type": "Collection", "id": "sentinel-1-grd", "title": "Sentinel-1 GRD"}],
                                   "links": [{"rel": "self", "href": "http://127.0.0.1:8000/stac/collections", "type": "application/json"}]},
    ("get", "/registry/plans"): [{"id": "VUTRU-2030", "kind": "plan", "start_year": 2021, "end_year": 2030, "tasks": 120}],
    ("get", "/registry/agencies"): [{"id": "STNMT", "name_vi": "Sở Tài nguyên và Môi trường", "successor": "SNNMT",
                                     "successor_from": "2025-03-01"}],
    ("get", "/registry/indicators"): [{"id": "VUTRU-2030.space-engineers", "unit": "người", "target_min": 20, "year": 2026,
                                       "value": 14, "target_met": False}],
    ("get", "/registry/keys"): [{"id": "5b9631095503", "agency": "SNNMT", "role": "analyst", "label": "GIS unit, flood team",
                                 "created_at": "2026-12-02T09:00:00+00:00", "revoked_at": None}],
    ("get", "/products"): [{"name": "flood-sar", "version": "1.0.0", "title": "Flood extent from a Sentinel-1 pair",
                            "collection": "flood-extent"}],
    ("get", "/alerts/subscriptions"): [{"id": "3f9a1c0b", "url": "https://hooks.snnmt.haiphong.gov.vn/hpgeo/cap",
                                        "filters": {"status": "Actual"}}],
    ("get", "/alerts/feed.atom"): '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">…</feed>',
    ("get", "/features"): {"title": "hpgeo vector layers", "description": "…", "links": []},
    ("get", "/features/conformance"): {"conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]},
    ("get", "/features/collections"): {"collections": [{"id": "flood-polygons", "title": "Flood polygons", "itemType": "feature"}],
                                       "links": []},
}


def has_example(obj: Any) -> bool:
    if isinstance(obj, dict):
        return "example" in obj or "examples" in obj or any(has_example(v) for v in obj.values())
    if isinstance(obj, list):
        return any(has_example(v) for v in obj)
    return False


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if ref is None:
        for alt in schema.get("anyOf", []) + schema.get("allOf", []):
            if "$ref" in alt:
                ref = alt["$ref"]
    return ref.rsplit("/", 1)[-1] if ref else None


def fill(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the examples above to ``doc`` (in place) where an operation has none; returns ``doc``."""
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if has_example(p):
                    continue
                key = (method, path, p.get("in"), p.get("name"))
                if key in BY_ROUTE:
                    p["example"] = BY_ROUTE[key]
                elif (p.get("in"), p.get("name")) in PARAMETERS:
                    p["example"] = PARAMETERS[(p["in"], p["name"])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not has_example(body):
                name = _ref_name(body.get("schema", {}))
                if name in BODIES:
                    body["example"] = BODIES[name]
            if (method, path) in RESPONSES:
                for code in ("200", "201"):
                    content = op.get("responses", {}).get(code, {}).get("content", {})
                    for media in content.values():
                        if not has_example(media):
                            media["example"] = RESPONSES[(method, path)]
    return doc


def add_examples(app: FastAPI) -> None:
    """Wrap ``app.openapi`` (after :func:`api.errors.use_error_models_in_openapi`) to fill in the examples."""
    inner: Callable[[], dict[str, Any]] = app.openapi
    done: dict[int, bool] = {}

    def openapi() -> dict[str, Any]:
        doc = inner()
        if not done.get(id(doc)):
            fill(doc)
            done[id(doc)] = True
        return doc

    app.openapi = openapi  # type: ignore[method-assign]

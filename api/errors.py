"""The one place where errors become HTTP responses, and where the error responses are declared.

Status codes follow the hpgeo error *categories*, so a new domain error class gets the right
code without touching this file. Every error body is ``{"code", "description"}`` (:class:`ErrorOut`);
a request the route's declared types refuse is 422 with the same two fields and the list of
``errors`` (where, what; the offending input is never echoed). Routes declare the codes they can
answer with :func:`error_responses`. Refused attempts (401, 403) are written to the registry's audit
trail, with the route, the method, the key id (never the key) and the reason.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from rio_tiler.errors import TileOutsideBounds
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import get_registry
from base.errors import Conflict, Forbidden, HpgeoError, InvalidRequest, NotFound, TooLarge, Unauthorized, UpstreamUnavailable
from base.text import printable

__all__ = [
    "STATUS_BY_CATEGORY", "status_for", "add_exception_handlers", "ErrorOut", "ValidationErrorOut", "error_responses",
    "SafeJSONResponse", "error_body", "route_of", "use_error_models_in_openapi",
]

log = logging.getLogger(__name__)

STATUS_BY_CATEGORY: tuple[tuple[type[Exception], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (TileOutsideBounds, 404),
    (Conflict, 409),
    (TooLarge, 413),
    (InvalidRequest, 400),
    (UpstreamUnavailable, 502),
    (HpgeoError, 500),
)

DESCRIPTIONS = {
    400: "Bad request: a parameter or body value is wrong (the description says which and why).",
    401: "No API key, or a key that is malformed, unknown or revoked (header `X-API-Key`).",
    403: "The API key is valid but may not do this.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "The request body is larger than HPGEO_MAX_BODY_BYTES, a geometry has too many vertices, or an export would be "
    "larger than HPGEO_MAX_EXPORT_BYTES.",
    422: "A parameter or the body does not have the declared type or range.",
    502: "An upstream service did not answer usefully.",
}


class ErrorOut(BaseModel):
    """Every error answer."""

    code: str = Field(description="Error class, e.g. `InvalidQuery`, `TaskNotFound`, `PayloadTooLarge`.", examples=["InvalidQuery"])
    description: str = Field(description="What is wrong, in words a user can act on.", examples=["bbox south 21.0 is greater than north 20.0"])


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: `query`, `path`, `body` and the field names.")
    msg: str
    type: str


class ValidationErrorOut(ErrorOut):
    """A request the route's declared types refuse (422)."""

    errors: list[ValidationIssue] = Field(default_factory=list)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route can answer (400/401/403/404/409/413/422/502)."""
    return {c: {"model": ValidationErrorOut if c == 422 else ErrorOut, "description": DESCRIPTIONS[c]} for c in codes}


def _finite(obj: Any) -> Any:
    """``obj`` with non-finite floats as None and lone surrogates replaced (what is already stored must not make
    every answer that shows it fail)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, dict):
        return {(_finite(k) if isinstance(k, str) else k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: strict JSON (no NaN), valid UTF-8. Tries the fast path first."""

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            return json.dumps(_finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def status_for(exc: Exception) -> int:
    for cls, code in STATUS_BY_CATEGORY:
        if isinstance(exc, cls):
            return code
    return 500


def error_body(code: str, description: str) -> dict[str, str]:
    return {"code": code, "description": printable(description)}


def route_of(request: Request) -> str:
    """The route template of the request (``/registry/tasks/{task_id}/status/{year}``), else its path."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or request.url.path


def _audit_refusal(request: Request, exc: Exception, status: int) -> None:
    """Record a 401/403 in the registry's audit trail unless the registry already did (its own refusals)."""
    if getattr(exc, "audited", False):
        return
    principal = getattr(request.state, "refused_principal", None) or getattr(request.state, "principal", None)
    if principal is None:
        return
    try:
        get_registry(request).record_refusal(principal, request.method, route_of(request), status, str(exc))
    except Exception:  # the answer is still the refusal; a failing audit write is logged
        log.exception("could not record the refused %s %s in the audit trail", request.method, request.url.path)


def _issue(e: dict[str, Any]) -> dict[str, Any]:
    return {"loc": [x if isinstance(x, int) else printable(str(x)) for x in e.get("loc", ())], "msg": printable(str(e.get("msg", ""))),
            "type": printable(str(e.get("type", "")))}


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        code = status_for(exc)
        if code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        if code in (401, 403):
            _audit_refusal(request, exc, code)
        return SafeJSONResponse(status_code=code, content=error_body(type(exc).__name__, str(exc)))

    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [_issue(e) for e in exc.errors()][:50]
        first = issues[0] if issues else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"])
        body = error_body("RequestValidationError", f"{where}: {first['msg']}" if where else first["msg"]) | {"errors": issues}
        stac = request.url.path == "/stac" or request.url.path.startswith("/stac/")  # the STAC API asks for 400
        return SafeJSONResponse(status_code=400 if stac else 422, content=body)

    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
        return SafeJSONResponse(status_code=exc.status_code, content=error_body(names.get(exc.status_code, "HTTPError"), str(exc.detail)),
                                headers=getattr(exc, "headers", None))

    app.add_exception_handler(HpgeoError, handle)
    app.add_exception_handler(TileOutsideBounds, handle)
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]


def use_error_models_in_openapi(app: FastAPI) -> None:
    """Make the OpenAPI document say what 422 really looks like on every route (FastAPI declares its own
    ``HTTPValidationError`` on routes that do not declare 422 themselves)."""
    from fastapi.openapi.utils import get_openapi

    REF = "#/components/schemas/"

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for model in (ErrorOut, ValidationIssue, ValidationErrorOut):
                schemas.setdefault(model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}"))
            for ops in doc.get("paths", {}).values():
                for op in ops.values():
                    for code, r in op.get("responses", {}).items():
                        if code == "422" and "HTTPValidationError" in str(r):
                            r = {"description": DESCRIPTIONS[422], "content": {"application/json": {"schema": {"$ref": f"{REF}ValidationErrorOut"}}}}
                        elif code[0] in "45":  # errors are JSON whatever the route's media type (GeoJSON, HTML, PNG)
                            schemas_of = [c.get("schema") for c in r.get("content", {}).values() if "ErrorOut" in str(c.get("schema"))]
                            if schemas_of:
                                r = {**r, "content": {"application/json": {"schema": schemas_of[0]}}}
                        op["responses"][code] = r
                    if not {c for c in op.get("responses", {}) if c[0] == "4"} - {"422"}:  # a route that declares no errors of its own
                        op["responses"]["4XX"] = {"description": "A client error (the route declares no specific codes).",
                                                  "content": {"application/json": {"schema": {"$ref": f"{REF}ErrorOut"}}}}
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

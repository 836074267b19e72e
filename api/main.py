"""Assemble the FastAPI app: settings, catalog, routers, offline docs, the request guard, CORS, error mapping.
Nothing else happens here.

CORS (``HPGEO_CORS_ORIGINS``): off by default (same-origin only: browsers refuse cross-origin reads). With
origins listed, those origins may call every route with GET/HEAD/POST/PUT/DELETE and send ``X-API-Key``;
``*`` allows any origin. Credentials (cookies, HTTP auth) are never allowed: keys travel in a header.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import SafeJSONResponse, add_exception_handlers, use_error_models_in_openapi
from api.middleware import RequestGuard
from api.openapi_examples import add_examples
from api.routes import ROUTERS
from api.routes import docs as docs_routes, keys as keys_routes
from base import __version__
from base.settings import Settings, get_settings
from ingest.catalog import Catalog

__all__ = ["create_app", "add_cors"]


def create_app(settings: Settings | None = None, catalog: Catalog | None = None) -> FastAPI:
    s = settings or get_settings()
    app = FastAPI(
        title="hpgeo API",
        version=__version__,
        description="Hải Phòng earth-observation service: STAC catalog, map tiles, products, viewer "
        "and the registry of the 2030 space-technology plan. Every error answer is `{code, description}`; "
        f"request bodies are limited to HPGEO_MAX_BODY_BYTES ({s.max_body_bytes} bytes here, 413 above) and must be "
        "strict JSON (no NaN/Infinity, no lone surrogates: 400).",
        default_response_class=SafeJSONResponse,
        docs_url=None,  # /docs and /redoc are served offline by api.routes.docs
        redoc_url=None,
    )
    app.state.settings = s
    app.state.catalog = catalog or Catalog.from_settings(s)
    add_exception_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(keys_routes.router)
    app.include_router(docs_routes.router)
    use_error_models_in_openapi(app)
    add_examples(app)
    app.add_middleware(RequestGuard, max_body_bytes=s.max_body_bytes)
    add_cors(app, list(s.cors_origins or []))
    return app


CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]
CORS_HEADERS = ["X-API-Key", "Content-Type", "If-None-Match", "Accept", "Accept-Language"]
CORS_EXPOSE = ["ETag", "Content-Disposition", "Link", "Retry-After"]


def add_cors(app: FastAPI, origins: list[str]) -> None:
    """Answer cross-origin requests from ``origins`` (outermost middleware, so refusals carry the headers too);
    none: no CORS headers at all."""
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False, allow_methods=CORS_METHODS,
                       allow_headers=CORS_HEADERS, expose_headers=CORS_EXPOSE, max_age=600)

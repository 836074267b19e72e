"""Assemble the FastAPI app: settings, catalog, routers, the request guard, error mapping. Nothing else happens here."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import SafeJSONResponse, add_exception_handlers, use_error_models_in_openapi
from api.middleware import RequestGuard
from api.routes import ROUTERS
from base import __version__
from base.settings import Settings, get_settings
from ingest.catalog import Catalog

__all__ = ["create_app"]


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
    )
    app.state.settings = s
    app.state.catalog = catalog or Catalog.from_settings(s)
    add_exception_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    use_error_models_in_openapi(app)
    app.add_middleware(RequestGuard, max_body_bytes=s.max_body_bytes)
    return app

"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) that work offline: every asset they load is served by this
app from an installed PyPI package, none from a CDN.

Both come from the PyPI package ``fastapi-standalone-docs`` (``fastapi_standalone_docs/static``: Swagger UI
5.x, ReDoc 2.x). The ``swagger-ui-bundle`` package ships Swagger UI 4.15, which cannot read the OpenAPI 3.1
document FastAPI writes ("does not specify a valid version field"), so it is not used. Only the files
named in :data:`ASSETS` are served (anything else: 404); Swagger UI's online validator badge is switched
off (it would send the API description to validator.swagger.io) and ReDoc is used without web fonts.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Path as PathParam, Request
from fastapi.responses import FileResponse, HTMLResponse

from base.errors import NotFound

__all__ = ["router", "ASSETS", "asset_path"]

router = APIRouter(include_in_schema=False)


def _static(folder: str) -> Path:
    return Path(str(resources.files("fastapi_standalone_docs").joinpath("static", folder)))


# name in the URL -> (package folder, file, media type)
ASSETS: dict[str, tuple[str, str, str]] = {
    "swagger-ui.css": ("swagger", "swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": ("swagger", "swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "favicon.png": ("fastapi", "favicon.png", "image/png"),
    "redoc.standalone.js": ("redoc", "redoc.standalone.js", "text/javascript; charset=utf-8"),
    "logo-mini.svg": ("redoc", "logo-mini.svg", "image/svg+xml"),
}



class DocsAssetNotFound(NotFound):
    """Not one of the documentation assets this app serves."""


def asset_path(name: str) -> Path:
    """The installed file behind ``/docs/assets/{name}`` (:class:`DocsAssetNotFound` for any other name)."""
    if name not in ASSETS:
        raise DocsAssetNotFound(f"no documentation asset {name!r}")
    where, file, _ = ASSETS[name]
    return _static(where) / file


def _prefix(request: Request) -> str:
    return html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)


def _title(request: Request) -> str:
    return html.escape(request.app.title)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    p = _prefix(request)
    spec = p + (request.app.openapi_url or "/openapi.json")
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_title(request)} – Swagger UI</title>
<link rel="stylesheet" href="{p}/docs/assets/swagger-ui.css"><link rel="icon" type="image/png" href="{p}/docs/assets/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="{p}/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true,
  showExtensions: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout"}});
</script></body></html>""")


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    p = _prefix(request)
    spec = p + (request.app.openapi_url or "/openapi.json")
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_title(request)} – ReDoc</title><link rel="icon" type="image/png" href="{p}/docs/assets/favicon.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head><body><redoc spec-url="{spec}"></redoc>
<script src="{p}/docs/assets/redoc.standalone.js"></script>
</body></html>""")


@router.get("/docs/assets/{name}")
def docs_asset(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    path = asset_path(name)
    return FileResponse(path, media_type=ASSETS[name][2], headers={"Cache-Control": "public, max-age=86400"})


@router.get("/redoc/logo-mini.svg")
def redoc_logo() -> FileResponse:
    """ReDoc's footer logo, which its bundle asks for relative to the page."""
    return docs_asset("logo-mini.svg")

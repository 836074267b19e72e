"""The one place where domain errors become HTTP responses.

Status codes follow the hpgeo error *categories*, so a new domain error class gets the right
code without touching this file.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from rio_tiler.errors import TileOutsideBounds

from base.errors import Conflict, Forbidden, HpgeoError, InvalidRequest, NotFound, Unauthorized, UpstreamUnavailable

__all__ = ["STATUS_BY_CATEGORY", "status_for", "add_exception_handlers"]

log = logging.getLogger(__name__)

STATUS_BY_CATEGORY: tuple[tuple[type[Exception], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (TileOutsideBounds, 404),
    (Conflict, 409),
    (InvalidRequest, 400),
    (UpstreamUnavailable, 502),
    (HpgeoError, 500),
)


def status_for(exc: Exception) -> int:
    for cls, code in STATUS_BY_CATEGORY:
        if isinstance(exc, cls):
            return code
    return 500


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        code = status_for(exc)
        if code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return JSONResponse(status_code=code, content={"code": type(exc).__name__, "description": str(exc)})

    app.add_exception_handler(HpgeoError, handle)
    app.add_exception_handler(TileOutsideBounds, handle)

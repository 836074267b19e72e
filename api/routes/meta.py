"""Root and health routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from api.deps import BaseUrlDep, CatalogDep
from base import __version__

router = APIRouter(tags=["Service"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/viewer")


@router.get("/healthz", summary="Liveness and catalog reachability")
def health(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "items": catalog.count_items(), "stac": f"{base}/stac"}

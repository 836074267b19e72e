"""Root and health routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from api.deps import BaseUrlDep, CatalogDep
from api.errors import error_responses
from api.validation import STRICT_QUERY
from base import __version__

router = APIRouter(tags=["Service"], dependencies=STRICT_QUERY)


class Health(BaseModel):
    status: str
    version: str
    items: int
    stac: str


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/viewer")


@router.get("/healthz", summary="Liveness and catalog reachability", response_model=Health, responses=error_responses(400))
def health(catalog: CatalogDep, base: BaseUrlDep) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "items": catalog.count_items(), "stac": f"{base}/stac"}

"""FastAPI dependencies: settings and the catalog, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from base.settings import Settings
from ingest.catalog import Catalog

__all__ = ["SettingsDep", "CatalogDep", "base_url"]


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def base_url(request: Request) -> str:
    """Base URL for links: HPGEO_PUBLIC_URL, else what the client asked for."""
    s: Settings = request.app.state.settings
    if s.public_url:
        return s.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
BaseUrlDep = Annotated[str, Depends(base_url)]

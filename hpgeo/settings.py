"""Validated settings (prefix ``HPGEO_``), built lazily behind a cached getter.

Tests and the CLI can swap the whole object with :func:`override_settings`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "configure", "override_settings"]


class Settings(BaseSettings):
    """Everything an operator configures. Defaults give the embedded single-machine setup."""

    model_config = SettingsConfigDict(env_prefix="HPGEO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Root of COGs, raw downloads and the SQLite catalog.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the catalog. Default: SQLite file <data_dir>/catalog.db. "
        "Scale-out: postgresql+psycopg://user@host/hpgeo",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        None, description="Base URL used in links when the API runs behind a proxy (default: from the request)."
    )
    max_tile_zoom: int = Field(24, description="Highest zoom level served.")
    max_search_limit: int = Field(1000, description="Largest page size accepted by /stac/search.")
    viewer_assets: Literal["local", "cdn"] = Field(
        "local", description="Serve Leaflet from this server (works offline) or from the CDN folium uses."
    )
    dask_scheduler: str | None = Field(
        None, description="Address of a dask.distributed scheduler; default: dask's local threaded scheduler."
    )
    log_level: str = "INFO"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'catalog.db'}"


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings in force: built from the environment on first use, then cached."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def configure(settings: Settings | None) -> None:
    """Replace the settings in force (``None``: rebuild from the environment on next use)."""
    global _current
    _current = settings


@contextlib.contextmanager
def override_settings(settings: Settings) -> Iterator[Settings]:
    """Use ``settings`` wherever :func:`get_settings` is called, inside the block."""
    global _current
    previous = _current
    _current = settings
    try:
        yield settings
    finally:
        _current = previous

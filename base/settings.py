"""The one settings object (prefix ``HPGEO_``): read from the environment once, at the edge, and passed in.

The shell (``hpgeo`` CLI, ``hpgeo serve``) and the API's app factory call :func:`get_settings`; domain
code never does: it takes a :class:`Settings` (or the explicit values it needs) as an argument, and
falls back to :meth:`Settings.defaults` (the documented defaults, no environment) when given none.
Credentials are :class:`~pydantic.SecretStr`: they print as ``**********``.
Tests and the CLI can swap the whole object with :func:`override_settings`.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Annotated, Iterator, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings", "configure", "override_settings"]

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


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
    max_body_bytes: int = Field(1 << 20, gt=0, description="Largest request body the API reads (bytes); larger: 413.")
    max_geometry_vertices: int = Field(10_000, gt=0, description="Most vertices of a search geometry (`intersects`).")
    max_export_bytes: int = Field(1 << 30, gt=0, description="Largest export (estimated from the window and data type "
                                  "before any pixel is read); larger: 413.")
    viewer_assets: Literal["local", "cdn"] = Field(
        "local", description="Serve Leaflet from this server (works offline) or from the CDN folium uses."
    )
    basemap_url: str | None = Field(
        None, description="XYZ template of another base map, e.g. the city's tile server or "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: hpgeo's own offline land/sea base map)."
    )
    basemap_attribution: str = Field("", description="Attribution shown for basemap_url (e.g. © OpenStreetMap contributors).")
    basemap_cache: Path | None = Field(None, description="Directory of the base map's derived land mask (default ~/.cache/hpgeo).")
    dask_scheduler: str | None = Field(
        None, description="Address of a dask.distributed scheduler; default: dask's local threaded scheduler."
    )
    log_level: str = "INFO"
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose web pages may call the API from a browser, comma-separated, "
        "or `*` for any origin (then never with credentials). Default: none, same-origin only. API keys travel in the "
        "X-API-Key header, never in cookies, so credentials are never allowed.",
    )
    remote_asset_prefixes: list[str] = Field(
        default_factory=list,
        description="URL prefixes (http(s)/s3/gs) whose assets GDAL may read directly (scale-out COGs over HTTP or "
        "object storage), e.g. [\"https://cogs.example.org/hpgeo/\"]. Every other remote href is refused.",
    )

    # --- scene sources: hub URLs, credentials, download behaviour, the watch schedule -------------------
    dhus_url: str = Field("https://apihub.copernicus.eu/apihub/", description="DHuS (SciHub-style) API root.")
    dhus_user: str | None = None
    dhus_password: SecretStr | None = None
    odata_url: str = Field("https://catalogue.dataspace.copernicus.eu", description="Copernicus Data Space catalogue root.")
    odata_download_url: str | None = Field(
        "https://download.dataspace.copernicus.eu", description="Root of Products({Id})/$value downloads (default: odata_url)."
    )
    odata_token_url: str = Field(
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token",
        description="OpenID Connect token endpoint (password grant) for CDSE downloads.",
    )
    odata_client_id: str = "cdse-public"
    odata_user: str | None = None
    odata_password: SecretStr | None = None
    stac_url: str = Field("https://earth-search.aws.element84.com/v1", description="Default STAC API.")
    download_retries: int = Field(5, ge=0, description="Retries on connection errors, 5xx and 429.")
    download_backoff: float = Field(1.0, ge=0, description="First retry delay in seconds (doubles each time).")
    download_max_backoff: float = Field(60.0, ge=0)
    download_timeout: float = Field(60.0, gt=0, description="Connect/read timeout of one request, seconds.")
    download_chunk: int = Field(1 << 20, gt=0, description="Bytes per read while streaming.")
    watch_config: Path | None = Field(None, description="YAML file listing the watch jobs.")
    watch_state: Path | None = Field(None, description="JSON state of the watch jobs (default <data_dir>/watch-state.json).")
    watch_every: float = Field(3600.0, gt=0, description="Seconds between watch cycles.")


    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins(cls, v: object) -> object:
        """A comma-separated string (the environment) or a list; each origin ``*`` or ``scheme://host[:port]``."""
        if isinstance(v, str):
            v = json.loads(v) if v.strip().startswith("[") else [x for x in (p.strip() for p in v.split(",")) if x]
        if not isinstance(v, (list, tuple)):
            raise ValueError("cors_origins: a comma-separated list of origins")
        out = [str(x).strip().rstrip("/") for x in v]
        if "*" in out and len(out) > 1:
            raise ValueError("cors_origins: `*` (any origin) cannot be combined with named origins")
        for o in out:
            if o != "*" and not _ORIGIN.fullmatch(o):
                raise ValueError(f"cors_origins: {o!r} is not an origin (scheme://host[:port], no path)")
        return out

    @classmethod
    def defaults(cls) -> "Settings":
        """The documented defaults, without reading the environment or ``.env``."""
        return cls.model_construct()

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

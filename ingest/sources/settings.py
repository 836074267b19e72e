"""Settings of the scene sources (prefix ``HPGEO_``), built lazily behind a cached getter.

Credentials are :class:`~pydantic.SecretStr`: they print as ``**********`` and are read with
``get_secret_value()`` only where a request needs them. They may also come from ``~/.netrc``
(:func:`netrc_credentials`).
"""

from __future__ import annotations

import netrc
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SourceSettings", "get_source_settings", "configure_sources", "netrc_credentials"]


class SourceSettings(BaseSettings):
    """Hub URLs, credentials, download behaviour and the watch schedule."""

    model_config = SettingsConfigDict(env_prefix="HPGEO_", env_file=".env", extra="ignore")

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


_current: SourceSettings | None = None


def get_source_settings() -> SourceSettings:
    """The source settings in force, built from the environment on first use."""
    global _current
    if _current is None:
        _current = SourceSettings()
    return _current


def configure_sources(settings: SourceSettings | None) -> None:
    """Replace the source settings (``None``: rebuild from the environment on next use)."""
    global _current
    _current = settings


def netrc_credentials(url: str) -> tuple[str, SecretStr] | None:
    """(login, password) for ``url``'s host from ``~/.netrc``, if there is an entry."""
    host = urlsplit(url).hostname or ""
    try:
        entry = netrc.netrc().authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError):
        return None
    if not entry or not entry[0] or not entry[2]:
        return None
    return entry[0], SecretStr(entry[2])

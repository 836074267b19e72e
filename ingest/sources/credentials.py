"""Source credentials from ``~/.netrc`` (hub URLs, users and passwords are in :class:`base.settings.Settings`)."""

from __future__ import annotations

import netrc
from urllib.parse import urlsplit

from pydantic import SecretStr

__all__ = ["netrc_credentials"]


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

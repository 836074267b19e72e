"""One rule for paths that come from outside: they stay inside the data directory.

Every href, id and asset key that arrives from a catalog, a hub, an archive or a request is hostile
until checked. :func:`confine` resolves a relative path (symbolic links included) and refuses it
unless it lands inside the root; :func:`safe_name` checks a string that becomes one path component
(an item id, an asset key, an archive member's base name); :func:`check_remote` lets an http(s)/s3
URL through only under one of the configured prefixes (``Settings.remote_asset_prefixes``).

All refusals raise :class:`UnsafePath` (an :class:`~base.errors.InvalidRequest`: HTTP 400, CLI exit 2).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from base.errors import InvalidRequest

__all__ = ["UnsafePath", "confine", "safe_name", "check_remote", "is_remote", "REMOTE_SCHEMES"]

REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,199}")


class UnsafePath(InvalidRequest):
    """A path, id or URL from outside that would reach beyond the data directory or the allowed remotes."""


def is_remote(href: str) -> bool:
    return href.lower().startswith(REMOTE_SCHEMES)


def _printable(s: str) -> str:
    return s if len(s) <= 120 else s[:117] + "..."


def confine(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """``path`` (relative to ``root``, or absolute) resolved, if it lies inside ``root``; else :class:`UnsafePath`.

    Symbolic links are followed before the check, so a link inside the root that points out is refused too.
    GDAL virtual paths (``/vsi…``), URLs and NUL bytes are refused: they are not files under the root.
    """
    s = os.fspath(path)
    if not isinstance(s, str) or not s or "\x00" in s:
        raise UnsafePath("empty path or NUL byte in a path")
    if s.startswith("/vsi") or "://" in s:
        raise UnsafePath(f"not a local path under the data directory: {_printable(s)!r}")
    base = Path(os.path.realpath(root))
    p = Path(s)
    full = Path(os.path.realpath(p if p.is_absolute() else base / p))
    if full != base and base not in full.parents:
        raise UnsafePath(f"path outside the data directory refused: {_printable(s)!r}")
    return full


def safe_name(name: str, what: str = "name") -> str:
    """``name`` if it is safe as one path component: letters, digits and ``._@+=-``, not starting with a dot,
    at most 200 characters (no ``/``, ``\\``, ``..``, control characters); else :class:`UnsafePath`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise UnsafePath(f"{what} {_printable(repr(name))} is not a safe file name (letters, digits, . _ @ + = -; no leading dot)")
    return name


def check_remote(href: str, prefixes: Iterable[str]) -> str:
    """``href`` (an http(s)/s3/gs URL) if it starts with one of ``prefixes``; else :class:`UnsafePath`.

    The comparison is on the parsed URL (scheme and host lower-cased, no user info), so
    ``https://good.example@evil.example/`` does not pass as ``https://good.example/``.
    """
    parts = urlsplit(href)
    if parts.username or parts.password or not parts.hostname:
        raise UnsafePath(f"remote href refused (user info or no host): {_printable(href)!r}")
    norm = f"{parts.scheme.lower()}://{parts.hostname.lower()}{':' + str(parts.port) if parts.port else ''}{parts.path}"
    for pre in prefixes:
        pp = urlsplit(pre)
        if not pp.hostname:
            continue
        pnorm = f"{pp.scheme.lower()}://{pp.hostname.lower()}{':' + str(pp.port) if pp.port else ''}{pp.path}"
        if norm.startswith(pnorm) and (pnorm.endswith("/") or norm == pnorm or norm[len(pnorm)] == "/"):
            if ".." in parts.path.split("/"):
                break
            return href
    raise UnsafePath(f"remote href not under an allowed prefix (HPGEO_REMOTE_ASSET_PREFIXES): {_printable(href)!r}")

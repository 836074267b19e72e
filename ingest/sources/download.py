"""Robust HTTP downloads: resumable, retried, verified, atomic.

Bytes go to ``dest.parent/.partial/NAME.part``. A re-run resumes from the part's size with an HTTP
``Range`` request (a server that ignores it and answers 200 makes us start over). Connection errors,
5xx and 429 are retried with exponential backoff (``Retry-After`` honoured). Only when the size and
checksum (MD5, SHA-1, SHA-256, SHA-512, SHA3-*, as the source publishes them) match is the part renamed
into place, so a file at ``dest`` is always complete and verified; a killed run leaves only the part.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import requests

from ingest.sources.base import Checksum, Progress
from ingest.sources.errors import AuthenticationFailed, ChecksumMismatch, DownloadFailed, SceneNotFound, SizeMismatch

__all__ = ["download", "file_checksum", "verify_file", "partial_path", "RETRY_STATUS"]

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def partial_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` accumulate until they are verified."""
    return dest.parent / ".partial" / (dest.name + ".part")


def file_checksum(path: Path, algorithm: str, block: int = 1 << 20) -> str:
    """Hex digest of ``path`` with a hashlib algorithm (``md5``, ``sha256``, ``sha3_256`` ...)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, size: int | None = None, checksum: Checksum | None = None) -> None:
    """Raise :class:`SizeMismatch` / :class:`ChecksumMismatch` unless ``path`` has the published size and checksum."""
    if size is not None and path.stat().st_size != size:
        raise SizeMismatch(f"{path.name}: {path.stat().st_size} bytes, the source published {size}")
    if checksum is None:
        return
    if checksum.algorithm not in hashlib.algorithms_available:
        log.warning("%s: cannot verify a %s checksum (no hashlib support); size checked only", path.name, checksum.algorithm)
        return
    got = file_checksum(path, checksum.algorithm)
    if got != checksum.value:
        raise ChecksumMismatch(f"{path.name}: {checksum.algorithm} is {got}, the source published {checksum.value}")


def _retry_after(resp: requests.Response | None, default: float) -> float:
    value = resp.headers.get("Retry-After") if resp is not None else None
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else default


def _start_at(part: Path, size: int | None) -> int:
    """How many bytes of the part can be kept."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        return 0
    return have


def download(
    url: str,
    dest: Path,
    *,
    session: requests.Session | None = None,
    size: int | None = None,
    checksum: Checksum | None = None,
    headers: Mapping[str, str] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    timeout: float = 60.0,
    chunk: int = 1 << 20,
    progress: Progress | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> Path:
    """Download ``url`` to ``dest`` (resuming, retrying, verifying). Returns ``dest``.

    A ``dest`` that already exists and verifies is kept (re-runs are no-ops); one that does not is
    downloaded again. Raises :class:`ChecksumMismatch` (the part is deleted), :class:`AuthenticationFailed`,
    :class:`SceneNotFound` or, when the retries are spent, :class:`DownloadFailed`.
    """
    dest = Path(dest)
    if dest.exists():
        try:
            verify_file(dest, size, checksum)
            return dest
        except ChecksumMismatch:
            log.warning("%s exists but does not verify: downloading again", dest.name)
            dest.unlink()
    part = partial_path(dest)
    part.parent.mkdir(parents=True, exist_ok=True)
    http = session or requests.Session()
    attempt = 0
    while True:
        offset = _start_at(part, size)
        try:
            if size is None or offset < size:
                _transfer(http, url, part, offset, size, headers, timeout, chunk, progress)
            break
        except _Retryable as exc:
            attempt += 1
            if attempt > retries:
                raise DownloadFailed(f"{dest.name}: gave up after {retries} retries: {exc}") from None
            delay = min(max_backoff, backoff * 2 ** (attempt - 1))
            delay = _retry_after(exc.response, delay) if exc.response is not None else delay
            log.info("%s: %s; retry %d/%d in %.1fs (have %d bytes)", dest.name, exc, attempt, retries, delay, _start_at(part, size))
            sleep(delay)
    try:
        verify_file(part, size, checksum)
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        raise
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    log.info("downloaded %s (%d bytes)", dest.name, dest.stat().st_size)
    return dest


class _Retryable(Exception):
    def __init__(self, message: str, response: requests.Response | None = None):
        super().__init__(message)
        self.response = response


def _transfer(
    http: requests.Session,
    url: str,
    part: Path,
    offset: int,
    size: int | None,
    headers: Mapping[str, str] | None,
    timeout: float,
    chunk: int,
    progress: Progress | None,
) -> None:
    """One request: append to ``part`` from ``offset`` (or rewrite it when the server ignores Range)."""
    h = dict(headers or {})
    if offset:
        h["Range"] = f"bytes={offset}-"
    try:
        resp = http.get(url, headers=h, stream=True, timeout=timeout, allow_redirects=True)
    except _NETWORK_ERRORS as exc:
        raise _Retryable(f"connection error: {type(exc).__name__}") from None
    with resp:
        if resp.status_code in RETRY_STATUS:
            raise _Retryable(f"HTTP {resp.status_code}", resp)
        if resp.status_code in (401, 403):
            raise AuthenticationFailed(f"download refused with HTTP {resp.status_code} (check the credentials)")
        if resp.status_code == 404:
            raise SceneNotFound(f"no such file at the source: {_safe(url)}")
        if resp.status_code == 416 and offset:
            part.unlink(missing_ok=True)  # our part is longer than the file: start over
            raise _Retryable("HTTP 416 (range not satisfiable): restarting")
        if resp.status_code not in (200, 206):
            raise DownloadFailed(f"HTTP {resp.status_code} from {_safe(url)}")
        if resp.status_code == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            part.unlink(missing_ok=True)
            raise _Retryable("server answered another range than asked: restarting")
        mode = "ab" if resp.status_code == 206 else "wb"
        done = offset if mode == "ab" else 0
        if mode == "wb" and offset:
            log.info("%s: server ignored Range, restarting from 0", part.name)
        total = size if size is not None else _length(resp, done)
        try:
            with open(part, mode) as f:
                for data in resp.iter_content(chunk_size=chunk):
                    f.write(data)
                    done += len(data)
                    if progress:
                        progress(done, total)
                f.flush()
                os.fsync(f.fileno())
        except _NETWORK_ERRORS as exc:
            raise _Retryable(f"connection lost after {done} bytes: {type(exc).__name__}") from None
        if total is not None and done < total:
            raise _Retryable(f"connection closed after {done} of {total} bytes")


def _length(resp: requests.Response, done: int) -> int | None:
    n = resp.headers.get("Content-Length")
    return done + int(n) if n and n.isdigit() else None


def _safe(url: str) -> str:
    """A URL without query string or user info (SAS tokens and passwords stay out of messages)."""
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc.rsplit("@", 1)[-1], p.path, "", ""))

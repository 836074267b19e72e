"""Robust HTTP downloads: resumable, retried, verified, atomic.

Bytes go to ``dest.parent/.partial/NAME.part``. A re-run resumes from the part's size with an HTTP
``Range`` request (a server that ignores it and answers 200 makes us start over). Connection errors,
5xx and 429 are retried by tenacity: ``retries`` more attempts, waiting ``backoff`` seconds doubling up
to ``max_backoff``, or what the server's ``Retry-After`` asks (seconds or an HTTP date), capped at
``max_backoff``; every attempt resumes from the part. Other statuses (401/403, 404, ...) are not
retried. Only when the size and
checksum (MD5, SHA-1, SHA-256, SHA-512, SHA3-*, as the source publishes them) match is the part renamed
into place, so a file at ``dest`` is always complete and verified; a killed run leaves only the part.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import requests
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ingest.sources.base import Checksum, Progress
from ingest.sources.errors import AuthenticationFailed, ChecksumMismatch, DownloadFailed, SceneNotFound, SizeMismatch

__all__ = ["download", "file_checksum", "verify_file", "partial_path", "retry_after_seconds", "RetryAfterWait", "RETRY_STATUS"]

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


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header value asks to wait (delta-seconds or an HTTP date); None when absent
    or unreadable. A date in the past gives 0."""
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        log.warning("ignoring unreadable Retry-After header %r", value[:60])
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterWait(wait_exponential):
    """Tenacity wait: ``backoff`` · 2^(attempt−1) capped at ``max_backoff``, unless the failed response carried a
    ``Retry-After``, which is honoured, capped at ``max_backoff`` too."""

    def __init__(self, backoff: float, max_backoff: float):
        super().__init__(multiplier=backoff, max=max_backoff)
        self.max_backoff = max_backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        resp = getattr(exc, "response", None)
        asked = retry_after_seconds(resp.headers.get("Retry-After")) if resp is not None else None
        if asked is not None:
            return min(asked, self.max_backoff)
        return super().__call__(retry_state)


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

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("%s: %s; retry %d/%d in %.1fs (have %d bytes)", dest.name, exc, state.attempt_number, retries, wait, _start_at(part, size))

    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=RetryAfterWait(backoff, max_backoff),
        retry=retry_if_exception_type(_Retryable),
        before_sleep=log_retry,
        sleep=sleep,
    )
    try:
        for attempt in retrying:
            with attempt:
                offset = _start_at(part, size)
                if size is None or offset < size:
                    _transfer(http, url, part, offset, size, headers, timeout, chunk, progress)
    except RetryError as err:
        raise DownloadFailed(f"{dest.name}: gave up after {retries} retries: {err.last_attempt.exception()}") from None
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

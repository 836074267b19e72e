"""Retries measured against a real 127.0.0.1 server: 503/429 with Retry-After (seconds or HTTP date) are
waited for, capped at max_backoff; 404 is not retried; a missing Retry-After backs off exponentially."""

from __future__ import annotations

import email.utils
import hashlib
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from base.settings import Settings
from ingest.sources.base import Checksum
from ingest.sources.download import download, retry_after_seconds
from ingest.sources.errors import DownloadFailed, SceneNotFound
from tests.replay.loopback import Loopback

BODY = b"hai phong " * 1000
MD5 = Checksum("md5", hashlib.md5(BODY).hexdigest())


class ScriptedServer(Loopback):
    """Answers GET /f with the scripted (status, headers) responses first, then 200 with BODY; logs arrival times."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]):
        self.script = list(script)
        self.times: list[float] = []
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                srv.times.append(time.monotonic())
                status, headers = srv.script.pop(0) if srv.script else (200, {})
                body = BODY if status == 200 else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._handler = H

    def __enter__(self) -> "ScriptedServer":
        self._serve(self._handler)
        return self

    @property
    def url(self) -> str:
        return f"{self.origin}/f"

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:])]


def _get(srv: ScriptedServer, tmp_path, s: Settings) -> Any:
    return download(srv.url, tmp_path / "f.bin", checksum=MD5, retries=s.download_retries, backoff=s.download_backoff,
                    max_backoff=s.download_max_backoff)


def test_503_retry_after_seconds_is_honoured(tmp_path) -> None:
    s = Settings.defaults().model_copy(update={"download_retries": 3, "download_backoff": 0.01, "download_max_backoff": 5.0})
    with ScriptedServer([(503, {"Retry-After": "1"})]) as srv:
        out = _get(srv, tmp_path, s)
    assert out.read_bytes() == BODY
    assert len(srv.times) == 2
    assert 1.0 <= srv.gaps()[0] < 1.6  # the server's 1 s, not the 0.01 s backoff


def test_retry_after_is_capped_at_max_backoff(tmp_path) -> None:
    s = Settings.defaults().model_copy(update={"download_retries": 3, "download_backoff": 0.01, "download_max_backoff": 0.25})
    with ScriptedServer([(503, {"Retry-After": "30"}), (429, {"Retry-After": "30"})]) as srv:
        _get(srv, tmp_path, s)
    assert len(srv.times) == 3
    assert all(0.25 <= g < 0.8 for g in srv.gaps()), srv.gaps()  # 0.25 s each, not 30 s


def test_retry_after_http_date_is_honoured_and_capped(tmp_path) -> None:
    later = email.utils.formatdate(time.time() + 3, usegmt=True)  # ≈ 2-3 s from now (whole seconds)
    s = Settings.defaults().model_copy(update={"download_retries": 2, "download_backoff": 0.01, "download_max_backoff": 0.4})
    with ScriptedServer([(503, {"Retry-After": later})]) as srv:
        _get(srv, tmp_path, s)
    assert 0.4 <= srv.gaps()[0] < 0.9
    assert retry_after_seconds(email.utils.formatdate(1_700_000_003, usegmt=True), now=1_700_000_000.0) == 3.0
    assert retry_after_seconds("Tue, 14 Nov 2023 22:13:23 -0000", now=1_700_000_000.0) == 3.0  # -0000 read as UTC
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_exponential_backoff_without_retry_after(tmp_path) -> None:
    s = Settings.defaults().model_copy(update={"download_retries": 3, "download_backoff": 0.1, "download_max_backoff": 0.3})
    with ScriptedServer([(502, {}), (500, {}), (504, {})]) as srv:
        _get(srv, tmp_path, s)
    g = srv.gaps()
    assert len(g) == 3
    assert 0.1 <= g[0] < 0.3 and 0.2 <= g[1] < 0.45 and 0.3 <= g[2] < 0.55  # 0.1, 0.2, then 0.4 capped to 0.3


def test_404_is_not_retried(tmp_path) -> None:
    s = Settings.defaults().model_copy(update={"download_retries": 5, "download_backoff": 1.0})
    t0 = time.monotonic()
    with ScriptedServer([(404, {})] * 6) as srv:
        with pytest.raises(SceneNotFound, match="no such file"):
            _get(srv, tmp_path, s)
    assert len(srv.times) == 1
    assert time.monotonic() - t0 < 0.9
    assert not (tmp_path / "f.bin").exists()


def test_retries_spent_gives_a_clear_error(tmp_path) -> None:
    s = Settings.defaults().model_copy(update={"download_retries": 2, "download_backoff": 0.0, "download_max_backoff": 0.0})
    with ScriptedServer([(503, {})] * 5) as srv:
        with pytest.raises(DownloadFailed, match=r"gave up after 2 retries: HTTP 503"):
            _get(srv, tmp_path, s)
    assert len(srv.times) == 3


def test_connection_refused_is_retried_then_fails(tmp_path) -> None:
    with ScriptedServer([]) as srv:
        url = srv.url
    slept: list[float] = []  # the server is gone: every attempt is a connection error
    with pytest.raises(DownloadFailed, match="connection error"):
        download(url, tmp_path / "f.bin", retries=3, backoff=0.5, max_backoff=1.5, sleep=slept.append)
    assert slept == [0.5, 1.0, 1.5]

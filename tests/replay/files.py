"""A local file server for download tests: Range support (or not), throttling, one dropped connection,
transient 503s with Retry-After, bearer-token checks, and a one-item STAC API whose asset it serves."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.replay.loopback import Loopback

__all__ = ["FileServer"]


@dataclass
class FileServer(Loopback):
    """Serves ``files`` (path → bytes) on 127.0.0.1. Use as a context manager."""

    files: dict[str, bytes]
    honour_range: bool = True
    rate: float | None = None  # bytes per second
    drop_after: int | None = None  # close the first response after this many bytes
    fail_first: int = 0  # answer this many requests with 503 first
    retry_after: str | None = None
    token: str | None = None  # required bearer token
    stac_item: dict[str, Any] | None = None  # served at POST /search (one-item FeatureCollection)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range)

    def __enter__(self) -> "FileServer":
        self._serve(self._handler())
        return self

    @property
    def url(self) -> str:
        return self.origin

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _json(self, doc: Any) -> None:
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                srv.log.append(("POST", self.path, None))
                self._json({"type": "FeatureCollection", "features": [srv.stac_item] if srv.stac_item else [], "links": []})

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                srv.log.append(("GET", self.path, rng))
                if self.path in ("/", "") and srv.stac_item is not None:
                    return self._json({
                        "type": "Catalog", "id": "test", "description": "test", "stac_version": "1.0.0",
                        "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
                        "links": [{"rel": "search", "href": f"{srv.url}/search", "method": "POST", "type": "application/geo+json"},
                                  {"rel": "self", "href": f"{srv.url}/"}, {"rel": "root", "href": f"{srv.url}/"}],
                    })
                if srv.fail_first > 0:
                    srv.fail_first -= 1
                    self.send_response(503)
                    if srv.retry_after:
                        self.send_header("Retry-After", srv.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if srv.token and self.headers.get("Authorization") != f"Bearer {srv.token}":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = self.path.split("?", 1)[0]
                data = srv.files.get(path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m and srv.honour_range:
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                sent, step = 0, 64 * 1024
                while sent < len(body):
                    if srv.drop_after is not None and sent >= srv.drop_after:
                        srv.drop_after = None
                        self.close_connection = True
                        return
                    chunk = body[sent : sent + step]
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    sent += len(chunk)
                    if srv.rate:
                        time.sleep(len(chunk) / srv.rate)

        return H

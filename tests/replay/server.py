"""A threaded ``http.server`` that answers requests with recorded responses.

Requests are matched on method, path (a trailing slash aside), query parameters (all of them, order-insensitive, minus the
ones a test declares irrelevant) and, for bodies, the parsed JSON document. Response bodies are served
**unchanged**, with one documented exception: absolute URLs in the top-level ``links[*].href`` of a
JSON document (STAC ``self``/``root``/``search``/``next`` links) and OData ``@odata.nextLink`` have
their origin (scheme://host) rewritten to the replay server, so that clients which follow links (paging,
the STAC search endpoint) stay on 127.0.0.1. Everything else is byte-identical to the recording.
Unmatched requests get a 404 whose text names the closest recorded request.
"""

from __future__ import annotations

import difflib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import yaml

__all__ = ["Interaction", "ReplayServer", "load_cassette", "odata_first_page"]

# headers that describe the recorded transport, not the body we serve (bodies are stored decoded)
_DROP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive", "date"}


@dataclass
class Interaction:
    """One recorded request and its response."""

    method: str
    url: str
    body: bytes | None
    status: int
    headers: list[tuple[str, str]]
    response: bytes
    source: str = ""
    path: str = field(init=False)
    query: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.path = parts.path or "/"
        self.query = parse_qs(parts.query, keep_blank_values=True)

    @property
    def origin(self) -> str:
        p = urlsplit(self.url)
        return f"{p.scheme}://{p.netloc}"

    def describe(self) -> str:
        body = f" body={self.body[:200]!r}" if self.body else ""
        return f"{self.method} {urlsplit(self.url)._replace(scheme='', netloc='').geturl()}{body} ({self.source})"


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, dict):  # vcrpy: {"string": ...}; {} when the body was not recorded
        return _as_bytes(value.get("string", b""))
    return str(value).encode("utf-8")


def load_cassette(path: Path) -> list[Interaction]:
    """The interactions of one vcrpy cassette (YAML)."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for it in doc["interactions"]:
        rq, rs = it["request"], it["response"]
        headers = [(k, str(v)) for k, vs in (rs.get("headers") or {}).items() for v in (vs if isinstance(vs, list) else [vs])]
        out.append(
            Interaction(
                method=rq["method"].upper(),
                url=rq["uri"],
                body=_as_bytes(rq.get("body")) or None,
                status=int(rs["status"]["code"]),
                headers=headers,
                response=_as_bytes(rs.get("body")),
                source=Path(path).name,
            )
        )
    return out


def odata_first_page(path: Path) -> Interaction:
    """A recorded OData search response stored as a bare JSON file (not a cassette).

    Its request is not stored, but the response's ``@odata.nextLink`` is the same query with
    ``$skip`` advanced, so the request that produced this first page is that link without ``$skip``.
    """
    raw = Path(path).read_bytes()
    link = json.loads(raw)["@odata.nextLink"]
    parts = urlsplit(link)
    q = [(k, v) for k, vs in parse_qs(parts.query, keep_blank_values=True).items() if k != "$skip" for v in vs]
    from urllib.parse import urlencode

    url = urlunsplit(parts._replace(query=urlencode(q)))
    return Interaction("GET", url, None, 200, [("Content-Type", "application/json")], raw, source=Path(path).name)


class ReplayServer:
    """Serve ``interactions`` on 127.0.0.1 (a free port) in a daemon thread. Use as a context manager."""

    def __init__(self, interactions: Iterable[Interaction], *, ignore_params: Iterable[str] = ()):
        self.interactions = list(interactions)
        self.ignore_params = set(ignore_params)
        self.requests: list[tuple[str, str, bytes | None]] = []  # what clients asked, for assertions
        self.unmatched: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> "ReplayServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- matching ------------------------------------------------------------------------------
    def _query(self, q: dict[str, list[str]]) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in q.items() if k not in self.ignore_params}

    def match(self, method: str, target: str, body: bytes | None) -> Interaction | None:
        parts = urlsplit(target)
        query = self._query(parse_qs(parts.query, keep_blank_values=True))
        for it in self.interactions:
            if it.method == method and it.path.rstrip("/") == parts.path.rstrip("/") and self._query(it.query) == query and _same_body(it.body, body):
                return it
        return None

    def closest(self, method: str, target: str, body: bytes | None) -> str:
        want = f"{method} {target} {body or b''!r}"
        scored = sorted(
            self.interactions,
            key=lambda it: -difflib.SequenceMatcher(None, want, f"{it.method} {it.path}?{urlsplit(it.url).query} {it.body or b''!r}").ratio(),
        )
        return scored[0].describe() if scored else "(no recorded requests)"

    def render(self, it: Interaction) -> bytes:
        """The recorded body, with link origins pointed at this server (see module docstring)."""
        body = it.response
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return body
        if not isinstance(doc, dict):
            return body
        hrefs = [l.get("href") for l in doc.get("links", []) if isinstance(l, dict)]
        hrefs.append(doc.get("@odata.nextLink"))
        text = body.decode("utf-8")
        for href in {h for h in hrefs if isinstance(h, str) and h.startswith(("http://", "https://"))}:
            p = urlsplit(href)
            local = urlunsplit(p._replace(scheme="http", netloc=urlsplit(self.url).netloc))
            for old, new in ((json.dumps(href), json.dumps(local)), (json.dumps(href).replace("/", "\\/"), json.dumps(local).replace("/", "\\/"))):
                text = text.replace(old, new)
        return text.encode("utf-8")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                server.requests.append((self.command, self.path, body))
                it = server.match(self.command, self.path, body)
                if it is None:
                    msg = f"replay: no recorded response for {self.command} {self.path}\nclosest recorded: {server.closest(self.command, self.path, body)}\n"
                    server.unmatched.append(msg)
                    data = msg.encode()
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                data = b"" if self.command == "HEAD" else server.render(it)
                self.send_response(it.status)
                for k, v in it.headers:
                    if k.lower() not in _DROP_HEADERS:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve

        return Handler


def _same_body(recorded: bytes | None, got: bytes | None) -> bool:
    if not recorded and not got:
        return True
    if not recorded or not got:
        return False
    try:
        return json.loads(recorded) == json.loads(got)
    except ValueError:
        return recorded == got

"""Credentials never reach logs or error messages; bad input is an InvalidRequest (CLI exit 2)."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import pytest

from hpgeo.cli import main
from base.errors import InvalidRequest
from ingest.sources.dhus import DhusSource
from ingest.sources.errors import AuthenticationFailed
from ingest.sources.odata import ODataSource

SECRET = "s3cr3t-Pa55word!"


class _Refuse(BaseHTTPRequestHandler):
    """Answers everything with 401, like a hub refusing a login."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _deny(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        body = b'{"error": "invalid_grant"}' if self.command == "POST" else b""  # DHuS: empty 401; Keycloak: JSON
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _deny


@pytest.fixture
def refusing_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_failed_dhus_login_does_not_leak_the_password(refusing_server, caplog):
    caplog.set_level(logging.DEBUG)
    src = DhusSource(f"{refusing_server}/apihub/", user="operator", password=SECRET)
    with pytest.raises(AuthenticationFailed) as err:
        list(src.search((106.5, 20.6, 106.9, 20.9), "2025-01-01/2025-01-31", platform="Sentinel-1"))
    assert "refused the credentials" in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in repr(err.value)
    assert SECRET not in caplog.text
    assert SECRET not in repr(src.__dict__)


def test_failed_token_request_does_not_leak_the_password(refusing_server, caplog):
    caplog.set_level(logging.DEBUG)
    src = ODataSource(refusing_server, token_url=f"{refusing_server}/token", user="operator", password=SECRET)
    with pytest.raises(AuthenticationFailed) as err:
        src.token()
    assert SECRET not in str(err.value) and SECRET not in caplog.text and SECRET not in repr(src.__dict__)


def test_cli_login_failure_exit_3_without_password(refusing_server, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HPGEO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HPGEO_DHUS_PASSWORD", SECRET)
    from base.settings import configure

    configure(None)
    code = main(["--log-level", "DEBUG", "ingest", "dhus", f"{refusing_server}/apihub/", "--platform", "Sentinel-1",
                 "--user", "operator", "--bbox", "106.5,20.6,106.9,20.9", "--datetime", "2025-01-01/2025-01-31"])
    configure(None)
    out = capsys.readouterr()
    assert code == 3
    assert SECRET not in out.out and SECRET not in out.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ingest", "dhus", "http://127.0.0.1:9/apihub/", "--platform", "Sentinel-1", "--bbox", "106.5,20.6"], "bbox"),
        (["ingest", "odata", "http://127.0.0.1:9", "--bbox", "106.5,20.6,106.9,20.9", "--datetime", "2025-02-01/2025-01-01"], "starts after it ends"),
        (["ingest", "odata", "http://127.0.0.1:9", "-c", "SENTINEL-9", "--bbox", "106.5,20.6,106.9,20.9"], "unknown Copernicus collection"),
        (["ingest", "stac", "ftp://example.org", "-c", "sentinel-2-l2a"], "http(s)"),
        (["ingest", "dhus", "http://127.0.0.1:9/apihub/", "--platform", "Sentinel-1"], "give an area"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HPGEO_DATA_DIR", str(tmp_path))
    from base.settings import configure

    configure(None)
    code = main(argv)
    configure(None)
    assert code == 2
    assert message in capsys.readouterr().err.replace("\n", " ")
    from ingest.catalog import Catalog

    if (tmp_path / "catalog.db").exists():
        assert Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}").count_items() == 0


def test_invalid_request_category():
    with pytest.raises(InvalidRequest):
        ODataSource("not-a-url")

"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) render in headless Chromium with no request leaving 127.0.0.1:
every asset they load is served by the app itself."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.browser.conftest import ARTEFACTS, clear_network, external_requests, requested_urls, responses, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    """The app (empty catalog, seeded registry) under uvicorn on 127.0.0.1:<free port>."""
    import uvicorn

    from api.main import create_app
    from base.settings import Settings

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("docs"), database_url=None))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    th.join(timeout=10)


def _operations(app) -> int:
    return sum(len(ops) for ops in app.openapi()["paths"].values())


def _check_network(chrome, base: str) -> list[tuple[str, int]]:
    ext = external_requests(chrome)
    assert ext == [], f"requests leaving 127.0.0.1: {ext}"
    got = [(u, s) for u, s in responses(chrome) if u.startswith(base)]
    assert all(s < 400 for _, s in got), got
    return got


def test_swagger_ui_renders_offline(chrome, docs_server):
    base, app = docs_server
    clear_network(chrome)
    chrome.get(f"{base}/docs")
    n = _operations(app)
    shown = wait_for(chrome, lambda d: (k := len(d.find_elements("css selector", ".opblock-summary"))) >= n and k,
                     timeout=60, message=f"{n} operations in Swagger UI")
    assert shown == n
    title = wait_for(chrome, lambda d: d.find_element("css selector", ".info .title").text, message="the API title")
    assert title.startswith(app.title)
    assert "PUT\n/registry/tasks/{task_id}/status/{year}" in chrome.find_element("css selector", "#swagger-ui").text
    chrome.save_screenshot(str(ARTEFACTS / "docs-swagger.png"))
    got = _check_network(chrome, base)
    urls = {u.removeprefix(base) for u, _ in got}
    assert {"/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= urls
    assert len(requested_urls(chrome)) >= 4


def test_redoc_renders_offline(chrome, docs_server):
    base, app = docs_server
    clear_network(chrome)
    chrome.get(f"{base}/redoc")
    wait_for(chrome, lambda d: d.find_elements("css selector", ".api-info h1"), timeout=60, message="ReDoc's title")
    assert chrome.find_element("css selector", ".api-info h1").text.startswith(app.title)
    summary = app.openapi()["paths"]["/registry/tasks/{task_id}/status/{year}"]["put"]["summary"]
    wait_for(chrome, lambda d: summary in d.find_element("tag name", "body").text, timeout=60, message="an operation's summary")
    chrome.save_screenshot(str(ARTEFACTS / "docs-redoc.png"))
    urls = {u.removeprefix(base) for u, _ in _check_network(chrome, base)}
    assert {"/redoc", "/openapi.json", "/docs/assets/redoc.standalone.js"} <= urls

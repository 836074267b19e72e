"""Shared fixtures. Real data lives in ../shared/data (never copied into the repo): tests that need
it skip when it is absent, except under CI=true, where its absence is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"real test data missing under CI: {path}")
    pytest.skip(f"real test data not available: {path}")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip (fail under CI=true)."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def shared_file():
    """Factory: shared_file('flood/sen1floods11/x.tif') → path, or skip/fail as above."""

    def get(rel: str) -> Path:
        return _require(SHARED_DATA / rel)

    return get


# --- the simulated demo, built once per test session ------------------------------------------------
import socket
import threading
import time

from base.settings import Settings, override_settings


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory) -> Settings:
    """Settings of a data directory holding the full simulated demo (scenes, ARD, flood product)."""
    from hpgeo.demo import run_demo

    data_dir = tmp_path_factory.mktemp("demo-data")
    s = Settings(data_dir=data_dir)
    with override_settings(s):
        run_demo(settings=s)
    return s


@pytest.fixture(scope="session")
def demo_catalog(demo_settings):
    from ingest.catalog import Catalog

    cat = Catalog.from_settings(demo_settings)
    yield cat
    cat.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(demo_settings):
    """The real hpgeo app under uvicorn on 127.0.0.1:<free port>, serving the demo data. Yields the base URL."""
    import uvicorn

    from api.main import create_app

    port = _free_port()
    app = create_app(demo_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    th.join(timeout=10)

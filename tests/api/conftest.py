"""Fixtures of the HTTP-edge tests: the app on an empty catalog and a fresh registry in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings, override_settings


@pytest.fixture
def settings(tmp_path: Path):
    s = Settings(data_dir=tmp_path, database_url=None)
    with override_settings(s):
        yield s


@pytest.fixture
def reg(settings):
    from registry import Registry

    r = Registry.from_settings(settings, seed_if_empty=True)
    yield r
    r.close()


@pytest.fixture
def make_client(settings, reg):
    """Factory: a TestClient on the app built with ``settings`` updated by the given fields."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    clients = []

    def make(**overrides):
        app = create_app(settings.model_copy(update=overrides))
        app.state.registry = reg
        c = TestClient(app, raise_server_exceptions=False)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def coord(reg):
    return {"X-API-Key": reg.create_key("SKHCN", coordinator=True)[1]}


@pytest.fixture
def agency(reg):
    return {"X-API-Key": reg.create_key("SNNMT")[1]}

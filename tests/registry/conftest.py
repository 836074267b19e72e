"""Fixtures of the registry tests: the seed folder (../shared/seeds), a registry in a temporary
database, an API client on that database, and keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from base.settings import Settings, override_settings

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (ROOT / ".." / "shared" / "seeds").resolve()


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"seed data missing under CI: {path}")
    pytest.skip(f"seed data not available: {path}")


@pytest.fixture(scope="session")
def seed_file():
    """Factory: seed_file('plan-004-restored.md') → path under ../shared/seeds, or skip (fail under CI=true)."""

    def get(rel: str) -> Path:
        return _require(SEEDS / rel)

    return get


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
def client(settings, reg):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(settings)
    app.state.registry = reg
    with TestClient(app) as c:
        yield c

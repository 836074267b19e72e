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

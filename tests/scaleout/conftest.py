"""Fixtures of the PostgreSQL/PostGIS scale-out tests.

They run against the server named by ``HPGEO_TEST_POSTGRES_URL`` (a superuser URL, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5433/postgres``; ``.ci/run`` starts a throwaway cluster
and sets it). Without it they skip, except under CI=true, where its absence is a failure. Every
database they use is created here under a unique name and dropped at the end of the session.

The fixtures below override, for this folder only, the ones the SQLite tests use (``cat``, the
registry's ``settings``/``reg``/``client``, and the session's ``demo_settings``/``demo_catalog``/
``live_server``), so the same test functions run unchanged on PostgreSQL.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from base.settings import Settings, override_settings

PG_ENV = "HPGEO_TEST_POSTGRES_URL"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The superuser URL of the test server, or skip (fail under CI=true)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        _unavailable(f"{PG_ENV} is not set (.ci/run starts a PostgreSQL/PostGIS cluster and sets it)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable('psycopg is not installed: pip install -e ".[postgres]"')
    return url


@pytest.fixture(scope="session")
def pg_database(pg_server_url: str) -> Iterator[Callable[..., str]]:
    """Factory: ``pg_database(label, superuser=True)`` creates a new, uniquely named database and returns
    its SQLAlchemy URL. With ``superuser=False`` the database belongs to, and the URL connects as, an
    ordinary role (which may not create the postgis extension). All are dropped at the end of the session."""
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            postgis = conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").first()
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"cannot connect to the PostgreSQL test server of {PG_ENV} ({make_url(pg_server_url)!r}): {exc.orig}")
    if postgis is None:
        admin.dispose()
        pytest.fail(f"the PostgreSQL test server of {PG_ENV} has no PostGIS (Debian: apt-get install postgresql-15-postgis-3)")
    tag = uuid.uuid4().hex[:8]
    plain_role, plain_password = f"hpgeo_test_{tag}_plain", uuid.uuid4().hex
    created: list[str] = []
    roles: list[str] = []

    def make(label: str, superuser: bool = True) -> str:
        name = f"hpgeo_test_{tag}_{label}_{len(created)}"
        with admin.connect() as conn:
            if not superuser and not roles:
                conn.exec_driver_sql(f"CREATE ROLE \"{plain_role}\" LOGIN NOSUPERUSER PASSWORD '{plain_password}'")
                roles.append(plain_role)
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + ("" if superuser else f' OWNER "{plain_role}"'))
        created.append(name)
        url = make_url(pg_server_url).set(database=name)
        if not superuser:
            url = url.set(username=plain_role, password=plain_password)
        return url.render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
    admin.dispose()


# --- the catalog ------------------------------------------------------------------------------------
@pytest.fixture()
def cat(pg_database):
    """A migrated catalog in a fresh PostgreSQL database, with collections c1 and c2 (as the SQLite fixture)."""
    from ingest.catalog import Catalog

    c = Catalog.open(pg_database("catalog"))
    c.put_collection({"id": "c1", "type": "Collection", "title": "one"})
    c.put_collection({"id": "c2", "type": "Collection", "title": "two"})
    yield c
    c.close()


# --- the registry (same fixtures as tests/registry/conftest.py, on PostgreSQL) ----------------------
@pytest.fixture
def settings(tmp_path: Path, pg_database):
    s = Settings(data_dir=tmp_path, database_url=pg_database("registry"))
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
    app.state.catalog.close()


# --- the simulated demo with its catalog on PostgreSQL, built once per session -----------------------
@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory, pg_database) -> Settings:
    """The full simulated demo built by ``run_demo`` with only the database URL pointing at PostgreSQL."""
    from hpgeo.demo import run_demo

    s = Settings(data_dir=tmp_path_factory.mktemp("demo-data-pg"), database_url=pg_database("demo"))
    with override_settings(s):
        run_demo(settings=s)
    return s


@pytest.fixture(scope="session")
def demo_catalog(demo_settings):
    from ingest.catalog import Catalog

    c = Catalog.from_settings(demo_settings)
    yield c
    c.close()


@pytest.fixture(scope="session")
def live_server(demo_settings):
    """The real app under uvicorn on 127.0.0.1:<free port>, its catalog on PostgreSQL. Yields the base URL."""
    import socket

    import uvicorn

    from api.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
    app.state.catalog.close()

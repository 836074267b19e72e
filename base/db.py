"""Database plumbing shared by the catalog and the task registry.

One SQLAlchemy engine per store, transactional sessions, and each package's own Alembic history
(its own version table) applied programmatically. SQLite (embedded) and PostgreSQL (scale-out)
run the same code; SQLite gets WAL mode and foreign keys.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from importlib import resources
from typing import Any, ClassVar, Iterator

from sqlalchemy import JSON, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "make_engine", "JSONType"]

#: A JSON column: JSON on SQLite, JSONB on PostgreSQL (shared by the catalog and the registry).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a 30 s busy timeout."""
    kwargs: dict[str, Any] = {"future": True}
    sqlite = url.startswith("sqlite")
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


class Database:
    """A store on one engine with its package's migrations (``<package>/migrations``)."""

    migrations_package: ClassVar[str]
    version_table: ClassVar[str]
    _migrate_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def upgrade(self, revision: str = "head") -> None:
        """Apply this package's Alembic migrations up to ``revision`` (in one transaction)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files(self.migrations_package).joinpath("migrations")))
        cfg.set_main_option("version_table", self.version_table)
        with self._migrate_lock, self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any exception."""
        with self._sessions.begin() as s:
            yield s

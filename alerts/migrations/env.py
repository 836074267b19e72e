"""Alembic environment of the alerts (run programmatically by :meth:`alerts.store.AlertStore.upgrade`).

Own history, own version table (``alembic_version_alerts``), same database as the catalog.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from alerts.models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = config.get_main_option("version_table") or "alembic_version_alerts"


def _include(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - alembic hook signature
    # the catalog's tables live in the same database: never touch them from here
    return type_ != "table" or name.startswith("alert_")


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True,
                      version_table=VERSION_TABLE, include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          version_table=VERSION_TABLE, include_object=_include)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          version_table=VERSION_TABLE, include_object=_include)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

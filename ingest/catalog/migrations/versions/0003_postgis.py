"""catalog: PostGIS geometry of items (PostgreSQL with PostGIS only)

On PostgreSQL, when the ``postgis`` extension can be created (it is installed on the server and
the role may create it), ``items.geom geometry(Geometry, 4326)`` is added, filled from the GeoJSON
``geometry`` column, indexed with GIST, and kept filled by a trigger on every insert or update of
``geometry`` — so any writer keeps it right and the ORM model stays the same on every backend.
The catalog then filters by geometry in SQL (``ST_Intersects``). Elsewhere (SQLite, or PostgreSQL
without PostGIS) this revision changes nothing and the catalog filters in Python; to add the column
later, once PostGIS is available: ``alembic downgrade 0002`` then upgrade again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("ingest.catalog.migrations")

# GeoJSON → 2D geometry in EPSG:4326 (the typmod is 2D; STAC geometries may carry a Z)
_GEOM_FROM_JSON = "ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON({col}::text), 4326))"


def _postgis_available(bind: sa.engine.Connection) -> bool:
    """Create the postgis extension if it is not there; False (nothing changed) if that is impossible."""
    if bind.dialect.name != "postgresql":
        return False
    try:
        with bind.begin_nested():  # a SAVEPOINT: a failure leaves the migration's transaction usable
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    except sa.exc.DBAPIError as exc:
        log.warning(
            "catalog: PostGIS not available (%s); items keep the GeoJSON + bbox columns and spatial "
            "filters run in Python", str(getattr(exc, "orig", exc)).strip().splitlines()[0],
        )
        return False
    return True


def upgrade() -> None:
    bind = op.get_bind()
    if not _postgis_available(bind):
        return
    op.execute("ALTER TABLE items ADD COLUMN geom geometry(Geometry, 4326)")
    op.execute(f"UPDATE items SET geom = {_GEOM_FROM_JSON.format(col='geometry')}")
    op.execute("ALTER TABLE items ALTER COLUMN geom SET NOT NULL")
    op.execute("CREATE INDEX ix_items_geom ON items USING GIST (geom)")
    op.execute(
        f"""
        CREATE FUNCTION hpgeo_items_set_geom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.geom := {_GEOM_FROM_JSON.format(col='NEW.geometry')};
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER items_set_geom BEFORE INSERT OR UPDATE OF geometry ON items "
        "FOR EACH ROW EXECUTE FUNCTION hpgeo_items_set_geom()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS items_set_geom ON items")
    op.execute("DROP FUNCTION IF EXISTS hpgeo_items_set_geom()")
    op.execute("DROP INDEX IF EXISTS ix_items_geom")
    op.execute("ALTER TABLE items DROP COLUMN IF EXISTS geom")

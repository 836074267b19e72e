"""catalog: collections, items, aois

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

J = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("title", sa.String(256), nullable=False, server_default=""),
        sa.Column("kind", sa.String(32), nullable=False, server_default="input"),
        sa.Column("data", J, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("collection_id", sa.String(128), sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("sort_datetime", TS, nullable=False),
        sa.Column("start_datetime", TS, nullable=False),
        sa.Column("end_datetime", TS, nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.Column("geometry", J, nullable=False),
        sa.Column("properties", J, nullable=False),
        sa.Column("assets", J, nullable=False),
        sa.Column("links", J, nullable=False),
        sa.Column("stac_extensions", J, nullable=False),
        sa.Column("simulated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_items_sort", "items", ["sort_datetime", "collection_id", "id"])
    op.create_index("ix_items_bbox", "items", ["minx", "maxx", "miny", "maxy"])
    op.create_index("ix_items_period", "items", ["start_datetime", "end_datetime"])
    op.create_table(
        "aois",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name_vi", sa.String(256), nullable=False),
        sa.Column("name_en", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("geometry", J, nullable=False),
        sa.Column("properties", J, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("aois")
    op.drop_index("ix_items_period", "items")
    op.drop_index("ix_items_bbox", "items")
    op.drop_index("ix_items_sort", "items")
    op.drop_table("items")
    op.drop_table("collections")

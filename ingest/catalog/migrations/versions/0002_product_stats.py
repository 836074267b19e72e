"""catalog: product statistics per administrative unit (time series)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_stats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(256), nullable=False),
        sa.Column("asset", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(128), nullable=False),
        sa.Column("unit_name", sa.String(256), nullable=False, server_default=""),
        sa.Column("datetime", TS, nullable=False),
        sa.Column("class_value", sa.Integer, nullable=True),
        sa.Column("class_name", sa.String(128), nullable=True),
        sa.Column("hectares", sa.Float, nullable=True),
        sa.Column("fraction", sa.Float, nullable=True),
        sa.Column("mean", sa.Float, nullable=True),
        sa.Column("min", sa.Float, nullable=True),
        sa.Column("max", sa.Float, nullable=True),
        sa.Column("valid_hectares", sa.Float, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.UniqueConstraint("collection_id", "item_id", "asset", "unit_id", "class_value", name="uq_product_stats_row"),
    )
    op.create_index("ix_product_stats_unit", "product_stats", ["unit_id", "collection_id", "datetime"])
    op.create_index("ix_product_stats_item", "product_stats", ["collection_id", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_product_stats_item", "product_stats")
    op.drop_index("ix_product_stats_unit", "product_stats")
    op.drop_table("product_stats")

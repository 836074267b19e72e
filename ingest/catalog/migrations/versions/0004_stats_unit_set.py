"""catalog: product statistics keyed by unit set, so that the sets of one item are stored side by side

Until 0003 a row was keyed by (collection, item, asset, unit, class) and writing an item's statistics
deleted all its rows: computing them over the imported communes erased those over the built-in AOIs
(issue 14). This revision adds ``unit_set`` (``aoi``, ``imported`` or a caller's name) to the key.
Existing rows get ``aoi`` when their unit id is one of the built-in AOIs of that time (listed below, frozen
so that the migration does not change with the code) and ``imported`` otherwise.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# geo.aoi.builtin_aois() ids on 2026-12-02
BUILTIN_AOI_IDS = ("haiphong-2025", "haiphong-pre2025", "coastal-zone", "cat-ba", "cat-hai", "bach-long-vi", "do-son", "tien-lang-kien-thuy")

OLD_KEY = ["collection_id", "item_id", "asset", "unit_id", "class_value"]
NEW_KEY = ["collection_id", "item_id", "asset", "unit_set", "unit_id", "class_value"]


def upgrade() -> None:
    with op.batch_alter_table("product_stats") as b:
        b.add_column(sa.Column("unit_set", sa.String(64), nullable=False, server_default="imported"))
    stats = sa.table("product_stats", sa.column("unit_id", sa.String), sa.column("unit_set", sa.String))
    op.execute(stats.update().where(stats.c.unit_id.in_(BUILTIN_AOI_IDS)).values(unit_set="aoi"))
    with op.batch_alter_table("product_stats") as b:
        b.drop_constraint("uq_product_stats_row", type_="unique")
        b.create_unique_constraint("uq_product_stats_row", NEW_KEY)


def downgrade() -> None:
    # the old key holds one set per (item, asset, unit, class): the alphabetically first set's row survives
    bind = op.get_bind()
    bind.execute(sa.text(
        "DELETE FROM product_stats WHERE EXISTS (SELECT 1 FROM product_stats o WHERE o.unit_set < product_stats.unit_set "
        "AND o.collection_id = product_stats.collection_id AND o.item_id = product_stats.item_id AND o.asset = product_stats.asset "
        "AND o.unit_id = product_stats.unit_id AND (o.class_value = product_stats.class_value OR (o.class_value IS NULL AND product_stats.class_value IS NULL)))"
    ))
    with op.batch_alter_table("product_stats") as b:
        b.drop_constraint("uq_product_stats_row", type_="unique")
        b.create_unique_constraint("uq_product_stats_row", OLD_KEY)
        b.drop_column("unit_set")

"""registry: API key roles viewer < analyst < editor < admin (old keys: coordinator → admin, agency → editor)

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-02
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

RENAMES = (("coordinator", "admin"), ("agency", "editor"))


def upgrade() -> None:
    keys = sa.table("registry_api_keys", sa.column("role", sa.String))
    for old, new in RENAMES:
        op.execute(keys.update().where(keys.c.role == old).values(role=new))


def downgrade() -> None:
    keys = sa.table("registry_api_keys", sa.column("role", sa.String), sa.column("revoked_at", sa.DateTime(timezone=True)))
    # viewer and analyst keys did not exist before r0002: revoked (and named agency), never widened to agency rights
    op.execute(keys.update().where(keys.c.role.in_(("viewer", "analyst"))).values(
        role="agency", revoked_at=dt.datetime.now(dt.timezone.utc)))
    for old, new in RENAMES:
        op.execute(keys.update().where(keys.c.role == new).values(role=old))

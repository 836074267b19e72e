"""alerts: outbox claim token (committed before each POST) and the count of sends whose outcome was never recorded

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_outbox") as b:
        b.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        b.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("unconfirmed", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox") as b:
        b.drop_column("unconfirmed")
        b.drop_column("claimed_at")
        b.drop_column("claim_token")

"""alerts: rule-set versions changed through the API / CLI (YAML text, who, when, comment)

Revision ID: a0003
Revises: a0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rule_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64)),
        sa.Column("role", sa.String(16)),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("alert_rule_versions")

"""alerts: events, CAP messages, evaluations, webhook subscriptions, outbox

Revision ID: a0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None

J = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("unit_key", sa.String(128), nullable=False),
        sa.Column("unit_code", sa.String(16), nullable=False),
        sa.Column("unit_name", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("last_message", sa.String(256), nullable=False),
        sa.Column("exercise", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_alert_events_open", "alert_events", ["rule_id", "unit_key", "state"])
    op.create_table(
        "alert_messages",
        sa.Column("identifier", sa.String(256), primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("alert_events.id"), nullable=False),
        sa.Column("sender", sa.String(256), nullable=False),
        sa.Column("sent", TS, nullable=False),
        sa.Column("msg_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("references", sa.Text),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(16), nullable=False),
        sa.Column("unit_name", sa.String(256), nullable=False),
        sa.Column("collection_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(256), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("headline_vi", sa.Text, nullable=False),
        sa.Column("headline_en", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("xml", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_messages_event", "alert_messages", ["event_id", "sent"])
    op.create_table(
        "alert_evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("unit_key", sa.String(128), nullable=False),
        sa.Column("collection_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(256), nullable=False),
        sa.Column("item_datetime", TS, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("triggered", sa.Boolean, nullable=False),
        sa.Column("message", sa.String(256)),
        sa.Column("evaluated_at", TS, nullable=False),
        sa.UniqueConstraint("rule_id", "unit_key", "item_id", name="uq_alert_evaluation"),
    )
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("filters", J, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(256), sa.ForeignKey("alert_messages.identifier"), nullable=False),
        sa.Column("subscription_id", sa.String(32), sa.ForeignKey("alert_subscriptions.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_until", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("message_id", "subscription_id", name="uq_alert_outbox"),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    for t in ("alert_outbox", "alert_subscriptions", "alert_evaluations", "alert_messages", "alert_events"):
        op.drop_table(t)

"""registry: plans, sections, agencies, tasks, assignments, yearly status, reports, links, indicators,
reminders, API keys, audit

Revision ID: r0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

J = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_plans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("title_inferred", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("start_year", sa.Integer, nullable=False),
        sa.Column("end_year", sa.Integer, nullable=False),
        sa.Column("decision_number", sa.String(64)),
        sa.Column("decision_date", sa.String(32)),
        sa.Column("issuer", sa.Text),
        sa.Column("source_seed", sa.String(128), nullable=False),
        sa.Column("coordinator_id", sa.String(32), nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("reporting", J),
    )
    op.create_table(
        "registry_sections",
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("registry_plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("parent_code", sa.String(32)),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "registry_agencies",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("coordinator", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reports_annually", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("successor_id", sa.String(32)),
        sa.Column("successor_from", sa.Date),
        sa.Column("after_2025", sa.Text),
        sa.Column("successor_basis", sa.Text),
        sa.Column("successor_verified", sa.Boolean),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "registry_tasks",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("registry_plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("local_id", sa.String(32), nullable=False),
        sa.Column("section_code", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(96)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("types", J, nullable=False),
        sa.Column("text_vi", sa.Text, nullable=False),
        sa.Column("summary_en", sa.Text, nullable=False),
        sa.Column("text_source", sa.String(32), nullable=False),
        sa.Column("targets", J, nullable=False),
        sa.Column("recurrence", sa.Text),
        sa.Column("deadlines", J, nullable=False),
        sa.Column("timeframe", sa.String(64)),
        sa.Column("condition", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("extra", J, nullable=False),
    )
    op.create_index("ix_registry_tasks_plan_id", "registry_tasks", ["plan_id"])
    op.create_table(
        "registry_assignments",
        sa.Column("task_id", sa.String(96), sa.ForeignKey("registry_tasks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.String(32), sa.ForeignKey("registry_agencies.id"), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inferred", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("via", sa.String(32)),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "registry_task_status",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(96), sa.ForeignKey("registry_tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("progress", sa.Integer),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("task_id", "year", name="uq_registry_task_status_year"),
    )
    op.create_index("ix_registry_task_status_task_id", "registry_task_status", ["task_id"])
    op.create_table(
        "registry_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("registry_plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agency_id", sa.String(32), sa.ForeignKey("registry_agencies.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("indicators", J, nullable=False),
        sa.Column("attachments", J, nullable=False),
        sa.Column("submitted_on", sa.Date, nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("plan_id", "agency_id", "year", name="uq_registry_report"),
    )
    op.create_table(
        "registry_product_links",
        sa.Column("task_id", sa.String(96), sa.ForeignKey("registry_tasks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("collection_id", sa.String(128), primary_key=True),
        sa.Column("relation", sa.String(16), nullable=False),
    )
    op.create_table(
        "registry_indicators",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("registry_plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("task_id", sa.String(96)),
        sa.Column("name_vi", sa.Text),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("unit", sa.String(64)),
        sa.Column("target_min", sa.Float),
        sa.Column("target_max", sa.Float),
        sa.Column("target_text", sa.String(128), nullable=False),
        sa.Column("by_year", sa.Integer),
        sa.Column("aggregate", sa.String(16), nullable=False),
    )
    op.create_table(
        "registry_indicator_values",
        sa.Column("indicator_id", sa.String(96), sa.ForeignKey("registry_indicators.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.String(32), sa.ForeignKey("registry_agencies.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_table(
        "registry_reminders",
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("registry_plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("agency_id", sa.String(32), sa.ForeignKey("registry_agencies.id"), primary_key=True),
        sa.Column("sent_on", sa.Date, nullable=False),
        sa.Column("sent_by", sa.String(64), nullable=False),
        sa.Column("template", sa.Text, nullable=False),
    )
    op.create_table(
        "registry_api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("agency_id", sa.String(32), sa.ForeignKey("registry_agencies.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "registry_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_agency", sa.String(32)),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(160), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", J, nullable=False),
    )
    op.create_index("ix_registry_audit_at", "registry_audit", ["at"])
    op.create_index("ix_registry_audit_target", "registry_audit", ["target"])


def downgrade() -> None:
    for name in (
        "registry_audit", "registry_api_keys", "registry_reminders", "registry_indicator_values", "registry_indicators",
        "registry_product_links", "registry_reports", "registry_task_status", "registry_assignments", "registry_tasks",
        "registry_agencies", "registry_sections", "registry_plans",
    ):
        op.drop_table(name)

"""Registry tables. Same database as the catalog, own metadata and own Alembic history.

All table names start with ``registry_``. JSON columns become JSONB on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from base.db import JSONType

__all__ = [
    "Base", "PlanRow", "SectionRow", "AgencyRow", "TaskRow", "AssignmentRow", "TaskStatusRow", "ReportRow",
    "ProductLinkRow", "IndicatorRow", "IndicatorValueRow", "ReminderRow", "ApiKeyRow", "AuditRow", "utcnow",
]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class PlanRow(Base):
    __tablename__ = "registry_plans"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # plan | programme | draft-programme
    title_vi: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    title_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    decision_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_date: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issuer: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_seed: Mapped[str] = mapped_column(String(128))
    coordinator_id: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    reporting: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class SectionRow(Base):
    __tablename__ = "registry_sections"

    plan_id: Mapped[str] = mapped_column(String(64), ForeignKey("registry_plans.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_vi: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    position: Mapped[int] = mapped_column(Integer)


class AgencyRow(Base):
    __tablename__ = "registry_agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    reports_annually: Mapped[bool] = mapped_column(Boolean, default=False)
    successor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    successor_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    after_2025: Mapped[str | None] = mapped_column(Text, nullable=True)
    successor_basis: Mapped[str | None] = mapped_column(Text, nullable=True)
    successor_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class TaskRow(Base):
    __tablename__ = "registry_tasks"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(64), ForeignKey("registry_plans.id", ondelete="CASCADE"), index=True)
    local_id: Mapped[str] = mapped_column(String(32))
    section_code: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(96), nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    types: Mapped[list[str]] = mapped_column(JSONType)
    text_vi: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    text_source: Mapped[str] = mapped_column(String(32))
    targets: Mapped[list[Any]] = mapped_column(JSONType)
    recurrence: Mapped[str | None] = mapped_column(Text, nullable=True)
    deadlines: Mapped[list[Any]] = mapped_column(JSONType)
    timeframe: Mapped[str | None] = mapped_column(String(64), nullable=True)
    condition: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType)  # references, related, tags


class AssignmentRow(Base):
    __tablename__ = "registry_assignments"

    task_id: Mapped[str] = mapped_column(String(96), ForeignKey("registry_tasks.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), ForeignKey("registry_agencies.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # lead | cooperating
    position: Mapped[int] = mapped_column(Integer, default=0)
    inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    via: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class TaskStatusRow(Base):
    __tablename__ = "registry_task_status"
    __table_args__ = (UniqueConstraint("task_id", "year", name="uq_registry_task_status_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(96), ForeignKey("registry_tasks.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    progress: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportRow(Base):
    __tablename__ = "registry_reports"
    __table_args__ = (UniqueConstraint("plan_id", "agency_id", "year", name="uq_registry_report"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(64), ForeignKey("registry_plans.id", ondelete="CASCADE"))
    agency_id: Mapped[str] = mapped_column(String(32), ForeignKey("registry_agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attachments: Mapped[list[Any]] = mapped_column(JSONType)
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProductLinkRow(Base):
    __tablename__ = "registry_product_links"

    task_id: Mapped[str] = mapped_column(String(96), ForeignKey("registry_tasks.id", ondelete="CASCADE"), primary_key=True)
    collection_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))  # product | data


class IndicatorRow(Base):
    __tablename__ = "registry_indicators"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # <plan>.<indicator>
    plan_id: Mapped[str] = mapped_column(String(64), ForeignKey("registry_plans.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(96), nullable=True)
    name_vi: Mapped[str | None] = mapped_column(Text, nullable=True)
    name_en: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_text: Mapped[str] = mapped_column(String(128))
    by_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    aggregate: Mapped[str] = mapped_column(String(16))  # sum | max | latest


class IndicatorValueRow(Base):
    __tablename__ = "registry_indicator_values"

    indicator_id: Mapped[str] = mapped_column(String(96), ForeignKey("registry_indicators.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), ForeignKey("registry_agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class ReminderRow(Base):
    __tablename__ = "registry_reminders"

    plan_id: Mapped[str] = mapped_column(String(64), ForeignKey("registry_plans.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), ForeignKey("registry_agencies.id"), primary_key=True)
    sent_on: Mapped[dt.date] = mapped_column(Date)
    sent_by: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(Text)


class ApiKeyRow(Base):
    __tablename__ = "registry_api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public key id (the key's prefix)
    key_hash: Mapped[str] = mapped_column(String(128))
    agency_id: Mapped[str] = mapped_column(String(32), ForeignKey("registry_agencies.id"))
    role: Mapped[str] = mapped_column(String(16))  # viewer | analyst | editor | admin (migration r0002)
    label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditRow(Base):
    __tablename__ = "registry_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # key id, or "cli"
    actor_agency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(160), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | denied
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)  # before / after / reason

"""Alert tables (own declarative ``Base``, own Alembic history ``alembic_version_alerts``, catalog database).

* ``alert_events``: one row per (rule, unit) episode: open while the condition holds, closed by a Cancel.
* ``alert_messages``: every CAP message sent (the XML as sent), with its references.
* ``alert_evaluations``: which (rule, unit, item) were evaluated, so re-evaluating a pass changes nothing.
* ``alert_subscriptions``: webhooks (URL, secret, filters).
* ``alert_outbox``: one row per (message, subscription), written in the message's transaction; claimed
  with a lease and a claim token before each POST (:mod:`alerts.delivery`).
* ``alert_rule_versions``: every rule set changed through the API or the CLI (the YAML text, who: key id
  and agency, never the key; when; a comment). The newest row is the current rule set; with no row the
  shipped ``alerts/rules.yaml`` is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from base.db import JSONType

__all__ = ["Base", "EventRow", "MessageRow", "EvaluationRow", "SubscriptionRow", "OutboxRow", "RulesVersionRow", "utcnow"]

TS = DateTime(timezone=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes: they are UTC."""
    return t if t is None or t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType}


class EventRow(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    unit_key: Mapped[str] = mapped_column(String(128))  # the stats unit id (AOI id)
    unit_code: Mapped[str] = mapped_column(String(16))
    unit_name: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16))  # active | cancelled
    opened_at: Mapped[dt.datetime] = mapped_column(TS)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_message: Mapped[str] = mapped_column(String(256))  # identifier of the newest message
    exercise: Mapped[bool] = mapped_column(default=False)


class MessageRow(Base):
    __tablename__ = "alert_messages"

    identifier: Mapped[str] = mapped_column(String(256), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    sender: Mapped[str] = mapped_column(String(256))
    sent: Mapped[dt.datetime] = mapped_column(TS)
    msg_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    references: Mapped[str | None] = mapped_column(Text, nullable=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(16))
    unit_name: Mapped[str] = mapped_column(String(256))
    collection_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16))
    headline_vi: Mapped[str] = mapped_column(Text)
    headline_en: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(nullable=True)
    xml: Mapped[str] = mapped_column(Text)


class EvaluationRow(Base):
    __tablename__ = "alert_evaluations"
    __table_args__ = (UniqueConstraint("rule_id", "unit_key", "item_id", name="uq_alert_evaluation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    unit_key: Mapped[str] = mapped_column(String(128))
    collection_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[str] = mapped_column(String(256))
    item_datetime: Mapped[dt.datetime] = mapped_column(TS)
    value: Mapped[float | None] = mapped_column(nullable=True)
    triggered: Mapped[bool] = mapped_column()
    message: Mapped[str | None] = mapped_column(String(256), nullable=True)
    evaluated_at: Mapped[dt.datetime] = mapped_column(TS)


class SubscriptionRow(Base):
    __tablename__ = "alert_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("message_id", "subscription_id", name="uq_alert_outbox"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("alert_messages.identifier"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("alert_subscriptions.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(TS)
    lease_until: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    #: set (committed) when a deliverer claims the row, before its POST; cleared when the outcome is recorded.
    #: A row whose lease expired with a token still set was in flight when its deliverer died.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    #: sends whose outcome was never recorded (deliverer killed or lease lost mid-POST)
    unconfirmed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RulesVersionRow(Base):
    __tablename__ = "alert_rule_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # unique: two writers of one version → one wins
    yaml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(String(64))  # key id (or "cli"), never the key
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")

"""The alert store: events, CAP messages, evaluations, webhook subscriptions and the delivery outbox, in
the catalog's database with its own migrations (version table ``alembic_version_alerts``).

A message and its outbox rows are written in one transaction (the transactional outbox): a crash
either leaves both or neither, so no message is lost or sent without being recorded.
"""

from __future__ import annotations

import secrets
from typing import Any, Mapping

from sqlalchemy import select

from alerts.errors import AlertNotFound, InvalidAlertRequest, SubscriptionNotFound
from alerts.models import EventRow, MessageRow, OutboxRow, SubscriptionRow, aware, utcnow
from base.db import Database, make_engine

__all__ = ["AlertStore", "message_dict", "matches", "check_filters", "audit_row", "FILTER_KEYS"]

FILTER_KEYS = ("rules", "units", "min_severity", "status")
_SEVERITY_RANK = {"Unknown": 0, "Minor": 1, "Moderate": 2, "Severe": 3, "Extreme": 4}


def message_dict(m: MessageRow, *, with_xml: bool = False) -> dict[str, Any]:
    out = {
        "identifier": m.identifier, "sender": m.sender, "sent": aware(m.sent).isoformat(), "msgType": m.msg_type, "status": m.status,
        "references": m.references.split(" ") if m.references else [], "rule": m.rule_id, "unit_code": m.unit_code,
        "unit_name": m.unit_name, "collection": m.collection_id, "item": m.item_id, "severity": m.severity,
        "headline_vi": m.headline_vi, "headline_en": m.headline_en, "value": m.value, "event": m.event_id,
    }
    if with_xml:
        out["xml"] = m.xml
    return out


def matches(filters: Mapping[str, Any], m: MessageRow) -> bool:
    """Whether a subscription's ``filters`` take message ``m``."""
    if filters.get("rules") and m.rule_id not in filters["rules"]:
        return False
    if filters.get("units") and m.unit_code not in filters["units"]:
        return False
    if filters.get("status") and m.status not in filters["status"]:
        return False
    if filters.get("min_severity") and m.msg_type != "Cancel":
        return _SEVERITY_RANK.get(m.severity, 0) >= _SEVERITY_RANK[filters["min_severity"]]
    return True


def check_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    f = dict(filters or {})
    bad = set(f) - set(FILTER_KEYS)
    if bad:
        raise InvalidAlertRequest(f"unknown filter(s) {sorted(bad)}; allowed: {', '.join(FILTER_KEYS)}")
    for k in ("rules", "units", "status"):
        if k in f and (not isinstance(f[k], list) or not all(isinstance(x, str) for x in f[k])):
            raise InvalidAlertRequest(f"filter {k!r} must be a list of strings")
    if "status" in f and set(f["status"]) - {"Actual", "Exercise"}:
        raise InvalidAlertRequest("filter 'status' takes Actual and/or Exercise")
    if "min_severity" in f and f["min_severity"] not in _SEVERITY_RANK:
        raise InvalidAlertRequest(f"min_severity must be one of {', '.join(_SEVERITY_RANK)}")
    return f


class AlertStore(Database):
    migrations_package = "alerts"
    version_table = "alembic_version_alerts"

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "AlertStore":
        store = cls(make_engine(url))
        if migrate:
            store.upgrade()
        return store

    def upgrade(self, revision: str = "head") -> None:
        """The alerts' migrations, and the registry's (subscription changes are audited in its trail)."""
        from registry import Registry

        Registry(self.engine).upgrade()
        super().upgrade(revision)

    @classmethod
    def from_settings(cls, settings: Any) -> "AlertStore":
        if settings.database_url is None:
            settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(settings.catalog_url)

    # -- messages -------------------------------------------------------------------------------
    def messages(self, *, active: bool | None = None, rule: str | None = None, unit: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Messages newest first; ``active=True``: only the newest message of each open event."""
        with self.session() as s:
            if active:
                q = select(MessageRow).join(EventRow, EventRow.last_message == MessageRow.identifier).where(EventRow.state == "active")
            else:
                q = select(MessageRow)
            if rule:
                q = q.where(MessageRow.rule_id == rule)
            if unit:
                q = q.where(MessageRow.unit_code == unit)
            rows = s.scalars(q.order_by(MessageRow.sent.desc(), MessageRow.identifier.desc()).limit(limit))
            return [message_dict(m) for m in rows]

    def message(self, identifier: str, *, with_xml: bool = True) -> dict[str, Any]:
        with self.session() as s:
            m = s.get(MessageRow, identifier)
            if m is None:
                raise AlertNotFound(f"no alert message {identifier!r}")
            return message_dict(m, with_xml=with_xml)

    def message_xml(self, identifier: str) -> str:
        return self.message(identifier)["xml"]

    def event_of(self, identifier: str) -> dict[str, Any]:
        with self.session() as s:
            m = s.get(MessageRow, identifier)
            if m is None:
                raise AlertNotFound(f"no alert message {identifier!r}")
            e = s.get(EventRow, m.event_id)
            return {"id": e.id, "rule": e.rule_id, "unit_key": e.unit_key, "unit_code": e.unit_code, "state": e.state, "last_message": e.last_message}

    # -- subscriptions --------------------------------------------------------------------------
    def subscribe(self, url: str, filters: Mapping[str, Any] | None, principal: Any, secret: str | None = None) -> dict[str, Any]:
        """A new webhook subscription (audited in the registry's trail); returns it with its secret (shown once)."""
        from urllib.parse import urlparse

        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.netloc or len(url) > 2000:
            raise InvalidAlertRequest(f"webhook URL must be an absolute http(s) URL, not {url[:100]!r}")
        f = check_filters(filters)
        secret = secret or secrets.token_urlsafe(32)
        if len(secret) < 16:
            raise InvalidAlertRequest("the webhook secret needs at least 16 characters")
        sid = secrets.token_hex(8)
        with self.session() as s:
            s.add(SubscriptionRow(id=sid, url=url, secret=secret, filters=f, active=True, created_at=utcnow(), created_by=principal.actor))
            s.add(audit_row(principal, "alerts.subscribe", sid, {"url": url, "filters": f}))
        return {"id": sid, "url": url, "filters": f, "secret": secret, "active": True}

    def unsubscribe(self, sid: str, principal: Any) -> None:
        with self.session() as s:
            row = s.get(SubscriptionRow, sid)
            if row is None or not row.active:
                raise SubscriptionNotFound(f"no active subscription {sid!r}")
            row.active = False
            for o in s.scalars(select(OutboxRow).where(OutboxRow.subscription_id == sid, OutboxRow.state == "pending")):
                o.state, o.last_error = "dead", "unsubscribed"
            s.add(audit_row(principal, "alerts.unsubscribe", sid, {}))

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [{"id": r.id, "url": r.url, "filters": r.filters, "active": r.active, "created_at": aware(r.created_at).isoformat(),
                     "created_by": r.created_by} for r in s.scalars(select(SubscriptionRow).order_by(SubscriptionRow.created_at))]

    def outbox(self, state: str | None = None) -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(OutboxRow)
            if state:
                q = q.where(OutboxRow.state == state)
            return [{"id": o.id, "message": o.message_id, "subscription": o.subscription_id, "state": o.state, "attempts": o.attempts,
                     "last_error": o.last_error, "unconfirmed": o.unconfirmed} for o in s.scalars(q.order_by(OutboxRow.id))]


def audit_row(principal: Any, action: str, target: str, detail: dict[str, Any]) -> Any:
    from registry.models import AuditRow

    if getattr(principal, "request", None) is not None:
        detail = {**detail, "request": {"method": principal.request[0], "route": principal.request[1]}}
    return AuditRow(at=utcnow(), actor=principal.actor, actor_agency=principal.agency_id, actor_role=principal.role,
                    action=action, target=target, outcome="applied", detail=detail)

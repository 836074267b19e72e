"""The alert store: events, CAP messages, evaluations, webhook subscriptions and the delivery outbox, in
the catalog's database with its own migrations (version table ``alembic_version_alerts``).

A message and its outbox rows are written in one transaction (the transactional outbox): a crash
either leaves both or neither, so no message is lost or sent without being recorded.

The current rule set is the newest row of ``alert_rule_versions`` (else the shipped ``alerts/rules.yaml``):
:meth:`AlertStore.rules` reads the newest version number on every call and re-parses only when it changed,
so several stateless API workers and the command line always evaluate with the same rules.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from alerts.errors import AlertNotFound, InvalidAlertRequest, InvalidRules, RulesVersionConflict, SubscriptionNotFound
from alerts.models import EventRow, MessageRow, OutboxRow, RulesVersionRow, SubscriptionRow, aware, utcnow
from alerts.rules import DEFAULT_RULES, RuleSet, dump_rules, validate_rules, parse_rules
from base.db import Database, make_engine
from base.errors import TooLarge

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

    # -- rules ----------------------------------------------------------------------------------
    MAX_RULES_BYTES = 1_000_000

    def current_rules(self) -> tuple[RuleSet, dict[str, Any], str]:
        """(rule set, where it came from, its YAML text): the newest stored version, else the shipped file."""
        with self.session() as s:
            newest = s.scalar(select(func.max(RulesVersionRow.version)))
            cached = getattr(self, "_rules_cache", None)
            if cached is not None and cached[0] == newest:
                return cached[1], dict(cached[2]), cached[3]
            if newest is None:
                text = DEFAULT_RULES.read_text(encoding="utf-8")
                rules = parse_rules(text, "alerts/rules.yaml")
                meta: dict[str, Any] = {"version": rules.version, "source": "shipped", "file": "alerts/rules.yaml"}
            else:
                row = s.get(RulesVersionRow, newest)
                text = row.yaml
                rules = parse_rules(text, f"stored rule set version {newest}")
                meta = _version_dict(row)
        self._rules_cache = (newest, rules, meta, text)
        return rules, dict(meta), text

    def rules(self) -> RuleSet:
        """The current rule set (what every evaluation uses)."""
        return self.current_rules()[0]

    def set_rules(self, text: str | bytes, principal: Any, *, comment: str = "", fmt: str = "yaml") -> dict[str, Any]:
        """Store a new rule set (YAML text, or ``fmt="json"``) as the current one. It must validate and carry
        exactly the current version + 1 (else :class:`InvalidRules` 400 / :class:`RulesVersionConflict` 409,
        nothing stored). The change and every refused attempt are audited (who: key id and agency)."""
        current = self.rules()
        attempted: Any = None
        try:
            if len(text) > self.MAX_RULES_BYTES:
                raise TooLarge(f"the rule set is larger than {self.MAX_RULES_BYTES} bytes")
            if isinstance(text, bytes):
                try:
                    text = text.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidRules(f"the rule set must be UTF-8 text ({exc})") from None
            if len(comment) > 2000:
                raise InvalidRules("the comment is longer than 2000 characters")
            if fmt == "json":
                try:
                    doc = json.loads(text)
                except ValueError as exc:
                    raise InvalidRules(f"rules: not valid JSON: {exc}") from exc
                rules = validate_rules(doc, "rules")
                text = dump_rules(doc)
            else:
                rules = parse_rules(text, "rules")
            attempted = rules.version
            if rules.version != current.version + 1:
                raise RulesVersionConflict(
                    f"the rule set carries version {rules.version}, but the current version is {current.version}: a change must "
                    f"carry version {current.version + 1} (if someone changed the rules since you read them, read them again "
                    "and apply your change to the current version)")
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            try:
                with self.session() as s:
                    s.add(RulesVersionRow(version=rules.version, yaml=text, created_at=utcnow(), created_by=principal.actor,
                                          agency=principal.agency_id, role=principal.role, comment=comment))
                    s.add(audit_row(principal, "alerts.rules.set", f"rules/{rules.version}",
                                    {"version": rules.version, "previous": current.version, "comment": comment, "sha256": digest}))
            except IntegrityError:
                raise RulesVersionConflict(f"version {rules.version} of the rule set was stored by another change just now: "
                                           "read the rules again and apply your change to the current version") from None
        except (InvalidRules, RulesVersionConflict, TooLarge) as exc:
            status = 409 if isinstance(exc, RulesVersionConflict) else 413 if isinstance(exc, TooLarge) else 400
            with self.session() as s:
                s.add(audit_row(principal, "alerts.rules.set", f"rules/{attempted if attempted is not None else '?'}",
                                {"status": status, "reason": str(exc)[:1000], "previous": current.version, "comment": comment[:500]},
                                outcome="denied"))
            raise
        return self.current_rules()[1]

    def rules_history(self, limit: int = 200) -> list[dict[str, Any]]:
        """Stored versions newest first, ending with the shipped default they started from."""
        with self.session() as s:
            rows = [_version_dict(r) for r in s.scalars(select(RulesVersionRow).order_by(RulesVersionRow.version.desc()).limit(limit))]
        shipped = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"), "alerts/rules.yaml")
        return [*rows, {"version": shipped.version, "source": "shipped", "file": "alerts/rules.yaml"}]

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


def _version_dict(r: RulesVersionRow) -> dict[str, Any]:
    return {"version": r.version, "source": "database", "at": aware(r.created_at).isoformat(), "by": r.created_by, "agency": r.agency,
            "role": r.role, "comment": r.comment, "sha256": hashlib.sha256(r.yaml.encode("utf-8")).hexdigest()}


def audit_row(principal: Any, action: str, target: str, detail: dict[str, Any], outcome: str = "applied") -> Any:
    from registry.models import AuditRow, utcnow as audit_now  # full precision: api.auth compares it with the request's start

    if getattr(principal, "request", None) is not None:
        detail = {**detail, "request": {"method": principal.request[0], "route": principal.request[1]}}
    return AuditRow(at=audit_now(), actor=principal.actor, actor_agency=principal.agency_id, actor_role=principal.role,
                    action=action, target=target, outcome=outcome, detail=detail)

"""Alerts: rules on product statistics → CAP 1.2 messages (Alert / Update / Cancel) per official unit,
delivered as JSON, CAP XML, an Atom feed and signed webhooks through a transactional outbox."""

from alerts.evaluate import DEFAULT_BASE_URL, cancel_event, evaluate_item
from alerts.rules import DEFAULT_RULES, RuleSet, load_rules
from alerts.store import AlertStore

__all__ = ["AlertStore", "evaluate_item", "cancel_event", "load_rules", "RuleSet", "DEFAULT_RULES", "DEFAULT_BASE_URL"]

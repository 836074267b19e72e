"""Errors of the alerts package (categories from :mod:`base.errors`)."""

from __future__ import annotations

from base.errors import Conflict, InvalidRequest, NotFound

__all__ = ["InvalidRules", "InvalidAlertRequest", "AlertNotFound", "SubscriptionNotFound", "RulesVersionConflict"]


class InvalidRules(InvalidRequest):
    """The rules file is unreadable or wrong."""


class InvalidAlertRequest(InvalidRequest):
    """A bad subscription, filter or cancel request."""


class AlertNotFound(NotFound):
    """No such alert message or event."""


class SubscriptionNotFound(NotFound):
    """No such webhook subscription."""


class RulesVersionConflict(Conflict):
    """A rule-set change that does not carry exactly the current version + 1 (optimistic concurrency)."""

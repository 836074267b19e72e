"""Errors of the alerts package (categories from :mod:`base.errors`)."""

from __future__ import annotations

from base.errors import InvalidRequest, NotFound

__all__ = ["InvalidRules", "InvalidAlertRequest", "AlertNotFound", "SubscriptionNotFound"]


class InvalidRules(InvalidRequest):
    """The rules file is unreadable or wrong."""


class InvalidAlertRequest(InvalidRequest):
    """A bad subscription, filter or cancel request."""


class AlertNotFound(NotFound):
    """No such alert message or event."""


class SubscriptionNotFound(NotFound):
    """No such webhook subscription."""

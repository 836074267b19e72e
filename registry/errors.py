"""Registry errors: one class per condition, each under an hpgeo category (which decides HTTP/CLI codes)."""

from __future__ import annotations

from base.errors import Forbidden, InvalidRequest, NotFound, Unauthorized

__all__ = [
    "TaskNotFound", "AgencyNotFound", "PlanNotFound", "ReportNotFound", "InvalidRegistryInput", "InvalidSeed",
    "InvalidApiKey", "NotAllowed",
]


class TaskNotFound(NotFound):
    """No task with this id."""


class AgencyNotFound(NotFound):
    """No agency with this id."""


class PlanNotFound(NotFound):
    """No plan or programme with this id."""


class ReportNotFound(NotFound):
    """The agency has no report for that year."""


class InvalidRegistryInput(InvalidRequest):
    """A status, year, indicator, date or export format the registry does not accept."""


class InvalidSeed(InvalidRequest):
    """The seed file is missing, unreadable or inconsistent."""


class InvalidApiKey(Unauthorized):
    """Missing, malformed, unknown or revoked API key."""


class NotAllowed(Forbidden):
    """The key is valid but may not make this change (e.g. another agency's task)."""

"""One root exception for hpgeo, with categories that decide how a caller reports them.

Domain packages subclass a *category* (never ``HpgeoError`` directly), so the HTTP layer
(``api/errors.py``) and the CLI map whole branches of the tree to a status code or exit code.
"""

from __future__ import annotations

__all__ = [
    "HpgeoError",
    "InvalidRequest",
    "NotFound",
    "Conflict",
    "UpstreamUnavailable",
    "HpgeoWarning",
]


class HpgeoError(Exception):
    """Root of every error hpgeo raises on purpose."""


class InvalidRequest(HpgeoError):
    """The caller's input is wrong (HTTP 400, CLI exit code 2)."""


class NotFound(HpgeoError):
    """A named thing (item, collection, AOI, task) does not exist (HTTP 404)."""


class Conflict(HpgeoError):
    """The request clashes with the current state (HTTP 409)."""


class UpstreamUnavailable(HpgeoError):
    """A data hub or remote store did not answer usefully (HTTP 502)."""


class HpgeoWarning(UserWarning):
    """Soft problems: the work went on, but the user should know."""


class Unauthorized(HpgeoError):
    """No credentials, or credentials that are not valid (HTTP 401)."""


class Forbidden(HpgeoError):
    """Valid credentials that do not allow this action (HTTP 403)."""


class TooLarge(InvalidRequest):
    """The request would need more than a configured limit (HTTP 413), refused before the work starts."""


__all__ += ["Unauthorized", "Forbidden", "TooLarge"]

"""API keys of the registry: generation, hashing and the principal a key stands for.

A key looks like ``hpg_<id>_<secret>``. Only the id (public, used to find the row) and the SHA-256
of the whole key are stored; the key itself is shown once, when created.

Roles, each allowing what the ones before it allow: ``viewer`` (reads that need a key) < ``analyst``
(exports) < ``editor`` (writes of its own agency: the tasks its agency leads, including tasks of the
agencies it succeeded in the 2025 reorganisation, and its reports) < ``admin`` (every write, rules,
subscriptions, keys, the audit trail; only the plan's coordinator, the Department of Science and
Technology, holds admin keys). Keys made before roles existed: ``coordinator`` is ``admin``,
``agency`` is ``editor`` (migration ``r0002`` renames them; :func:`normalise_role` reads both).
A key of an agency that ceased to exist (merged away in the 2025 reorganisation) acts for nobody
after the agency's end date: :meth:`Principal.dissolved_on`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace

__all__ = ["Principal", "new_key", "hash_key", "parse_key_id", "keys_match", "COORDINATOR", "AGENCY", "OPERATOR",
           "VIEWER", "ANALYST", "EDITOR", "ADMIN", "ROLES", "normalise_role", "role_allows"]

VIEWER, ANALYST, EDITOR, ADMIN = "viewer", "analyst", "editor", "admin"
ROLES = (VIEWER, ANALYST, EDITOR, ADMIN)  # in increasing order of rights
COORDINATOR = "coordinator"  # role name of keys made before roles existed: admin
AGENCY = "agency"  # likewise: editor
OPERATOR = "operator"  # the local command line: trusted like an admin
_LEGACY = {COORDINATOR: ADMIN, AGENCY: EDITOR}
_RANK = {r: n for n, r in enumerate(ROLES)} | {OPERATOR: len(ROLES)}


def normalise_role(role: str) -> str:
    """The role name of ``role``, old names (``coordinator``, ``agency``) mapped to ``admin``, ``editor``."""
    return _LEGACY.get(role, role)


def role_allows(has: str, needs: str) -> bool:
    """Whether a key of role ``has`` may do what needs role ``needs`` (unknown roles allow nothing)."""
    if needs not in _RANK:
        raise ValueError(f"unknown role {needs!r}; one of: {', '.join(ROLES)}")
    rank = _RANK.get(normalise_role(has))
    return rank is not None and rank >= _RANK[needs]

_KEY_RE = re.compile(r"^hpg_([0-9a-f]{12})_([A-Za-z0-9_-]{32,})$")


@dataclass(frozen=True)
class Principal:
    """Who is acting: the key id (or ``cli``), its agency and its role."""

    actor: str
    agency_id: str | None
    role: str
    request: tuple[str, str] | None = None  # (method, route) when acting through the API, recorded in the audit
    agency_end: dt.date | None = None  # the day the key's agency ceased to exist (merged away), if it did

    def via(self, method: str, route: str) -> "Principal":
        """The same principal, acting through ``method route`` of the API."""
        return replace(self, request=(method, route))

    @property
    def is_coordinator(self) -> bool:
        """An admin key (the coordinator's) or the local command line."""
        return role_allows(self.role, ADMIN)

    def allows(self, role: str) -> bool:
        """Whether this principal's role includes ``role``."""
        return role_allows(self.role, role)

    def dissolved_on(self, day: dt.date | None = None) -> bool:
        """Whether the key's agency no longer exists on ``day`` (default: today)."""
        return self.agency_end is not None and (day or dt.date.today()) >= self.agency_end


CLI_PRINCIPAL = Principal("cli", None, OPERATOR)
__all__ += ["CLI_PRINCIPAL"]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"hpg_{key_id}_{secrets.token_urlsafe(32)}"


def parse_key_id(key: str) -> str | None:
    """The id part of a well-formed key, else None."""
    m = _KEY_RE.match(key.strip())
    return m.group(1) if m else None


def keys_match(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key.strip()), stored_hash)

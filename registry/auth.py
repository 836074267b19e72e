"""API keys of the registry: generation, hashing and the principal a key stands for.

A key looks like ``hpg_<id>_<secret>``. Only the id (public, used to find the row) and the SHA-256
of the whole key are stored; the key itself is shown once, when created. The coordinator (the
Department of Science and Technology) edits every task; an agency key edits only the tasks its
agency leads (including tasks of the agencies it succeeded in the 2025 reorganisation).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace

__all__ = ["Principal", "new_key", "hash_key", "parse_key_id", "keys_match", "COORDINATOR", "AGENCY", "OPERATOR"]

COORDINATOR = "coordinator"
AGENCY = "agency"
OPERATOR = "operator"  # the local command line: trusted like the coordinator

_KEY_RE = re.compile(r"^hpg_([0-9a-f]{12})_([A-Za-z0-9_-]{32,})$")


@dataclass(frozen=True)
class Principal:
    """Who is acting: the key id (or ``cli``), its agency and its role."""

    actor: str
    agency_id: str | None
    role: str
    request: tuple[str, str] | None = None  # (method, route) when acting through the API, recorded in the audit

    def via(self, method: str, route: str) -> "Principal":
        """The same principal, acting through ``method route`` of the API."""
        return replace(self, request=(method, route))

    @property
    def is_coordinator(self) -> bool:
        return self.role in (COORDINATOR, OPERATOR)


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

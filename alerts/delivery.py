"""Webhook delivery from the transactional outbox.

Each POST carries the CAP XML (``application/cap+xml``) and the headers ``X-Hpgeo-Message-Id`` (the CAP
identifier: receivers deduplicate on it), ``X-Hpgeo-Timestamp`` (Unix seconds) and
``X-Hpgeo-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``; :func:`verify` checks
both and refuses timestamps outside ``tolerance`` seconds (replay protection).

A delivery run claims due rows with a lease (so two runners never post the same row at once), posts,
and records the outcome: delivered, or the next try after an exponential backoff (``backoff`` ·
2^(attempt-1), at most ``max_backoff``), or ``dead`` after ``max_attempts``. Every state change is
committed before the next POST, so a process killed at any point loses nothing: a row whose lease
expired is tried again. The only repeat a crash can cause is the one POST in flight at the kill,
with the same message id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from sqlalchemy import or_, select

from alerts.models import MessageRow, OutboxRow, SubscriptionRow, aware, utcnow
from alerts.store import AlertStore

__all__ = ["DeliveryPolicy", "deliver_due", "deliver_loop", "sign", "verify", "HEADER_ID", "HEADER_TS", "HEADER_SIG"]

log = logging.getLogger(__name__)
HEADER_ID, HEADER_TS, HEADER_SIG = "X-Hpgeo-Message-Id", "X-Hpgeo-Timestamp", "X-Hpgeo-Signature"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff: float = 2.0
    max_backoff: float = 3600.0
    timeout: float = 10.0
    lease: float = 60.0
    batch: int = 50

    def delay(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, body: bytes, signature: str | None, *, now: float | None = None, tolerance: float = 300) -> bool:
    """True when ``signature`` is ours for ``timestamp`` + ``body`` and the timestamp is fresh."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def _claim(store: AlertStore, now: dt.datetime, policy: DeliveryPolicy) -> list[tuple[int, str, str, str, str]]:
    with store.session() as s:
        q = (select(OutboxRow).where(OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now,
                                     or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
             .order_by(OutboxRow.next_attempt_at, OutboxRow.id).limit(policy.batch))
        if store.engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        out = []
        for o in s.scalars(q):
            o.lease_until = now + dt.timedelta(seconds=policy.lease)
            sub = s.get(SubscriptionRow, o.subscription_id)
            msg = s.get(MessageRow, o.message_id)
            out.append((o.id, sub.url, sub.secret, msg.identifier, msg.xml))
        return out


def _record(store: AlertStore, oid: int, ok: bool, error: str | None, policy: DeliveryPolicy) -> str:
    now = utcnow()
    with store.session() as s:
        o = s.get(OutboxRow, oid)
        o.lease_until = None
        if ok:
            o.state, o.delivered_at, o.last_error = "delivered", now, None
            o.attempts += 1
            return o.state
        o.attempts += 1
        o.last_error = (error or "")[:1000]
        if o.attempts >= policy.max_attempts:
            o.state = "dead"
            log.warning("alerts: message %s to subscription %s dead after %d attempts: %s", o.message_id, o.subscription_id, o.attempts, error)
        else:
            o.next_attempt_at = now + dt.timedelta(seconds=policy.delay(o.attempts))
        return o.state


def deliver_due(store: AlertStore, policy: DeliveryPolicy = DeliveryPolicy(), *, post: Callable[..., Any] | None = None) -> dict[str, int]:
    """One pass over the due outbox rows. Returns counts of delivered / retry / dead."""
    post = post or requests.post
    counts = {"delivered": 0, "retry": 0, "dead": 0}
    for oid, url, secret, ident, xml in _claim(store, utcnow(), policy):
        body = xml.encode("utf-8")
        ts = int(time.time())
        headers = {"Content-Type": "application/cap+xml; charset=utf-8", HEADER_ID: ident, HEADER_TS: str(ts), HEADER_SIG: sign(secret, ts, body)}
        try:
            r = post(url, data=body, headers=headers, timeout=policy.timeout, allow_redirects=False)
            ok, err = 200 <= r.status_code < 300, f"HTTP {r.status_code}"
        except requests.RequestException as exc:
            ok, err = False, f"{type(exc).__name__}: {exc}"
        state = _record(store, oid, ok, None if ok else err, policy)
        counts["retry" if state == "pending" else state] += 1
    return counts


def deliver_loop(store: AlertStore, policy: DeliveryPolicy = DeliveryPolicy(), *, every: float = 1.0, stop: Callable[[], bool] | None = None) -> None:
    """Deliver until ``stop()`` says so (forever by default), sleeping ``every`` seconds when idle."""
    while not (stop and stop()):
        c = deliver_due(store, policy)
        if not any(c.values()):
            time.sleep(every)


def pending_count(store: AlertStore) -> int:
    with store.session() as s:
        return len(list(s.scalars(select(OutboxRow.id).where(OutboxRow.state == "pending"))))


__all__ += ["pending_count", "aware"]

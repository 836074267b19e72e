"""Webhook delivery from the transactional outbox: each message to each receiver exactly once *after
deduplication at the receiver*, at least once on the wire.

Each POST carries the CAP XML (``application/cap+xml``) and two equivalent sets of headers:

* `Standard Webhooks <https://www.standardwebhooks.com/>`_: ``webhook-id`` (the CAP identifier, the
  same on every try), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64
  HMAC-SHA256(secret, id + "." + timestamp + "." + body)>``; the key is the subscription secret's UTF-8
  bytes (a Standard Webhooks library takes it as ``bytes``, or as ``"whsec_" + base64(secret)``);
* hpgeo's own: ``X-Hpgeo-Message-Id`` (the CAP identifier), ``X-Hpgeo-Timestamp`` and
  ``X-Hpgeo-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``;

plus ``X-Hpgeo-Attempt`` (1 on the first send; higher on retries and on the resend of a send whose
outcome was lost). :func:`verify` / :func:`verify_standard` check a signature and refuse timestamps
outside ``tolerance`` seconds (replay protection); :func:`accept` is the receiver's side of the
contract (verify, then drop an id already processed).

Sending one outbox row is three steps, each committed on its own:

1. **claim**: one atomic ``UPDATE … WHERE state='pending' AND due AND lease free`` sets a fresh claim
   token, the lease and ``attempts + 1`` (so exactly one deliverer wins a row, on SQLite or PostgreSQL,
   however many run);
2. **POST** (only the winner, only with the row claimed);
3. **record**: ``UPDATE … WHERE claim_token = <ours>``: delivered, or the next try after an
   exponential backoff (``backoff`` · 2^(attempt-1), at most ``max_backoff``), or ``dead`` after
   ``max_attempts`` (a dead-letter row).

A deliverer killed between 1 and 3 leaves the row claimed with its token: when the lease expires the
row is sent again (``unconfirmed`` + 1, a warning in the log) with the **same** ``webhook-id``. That
resend is the only repeat the wire can show, at most one per deliverer killed mid-POST; a receiver
that deduplicates on ``webhook-id`` processes each message exactly once. No sender can close this
window alone: the receiver may have processed the POST and the sender died before reading the answer,
or the request may never have arrived; the two cannot be told apart without asking the receiver.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, MutableSet

import requests
from sqlalchemy import case, or_, select, update

from alerts.models import MessageRow, OutboxRow, SubscriptionRow, aware, utcnow
from alerts.store import AlertStore

__all__ = ["DeliveryPolicy", "Deliverer", "deliver_due", "deliver_loop", "sign", "verify", "sign_standard", "verify_standard",
           "accept", "pending_count", "aware", "HEADER_ID", "HEADER_TS", "HEADER_SIG", "HEADER_ATTEMPT", "SW_ID", "SW_TS", "SW_SIG"]

log = logging.getLogger(__name__)
HEADER_ID, HEADER_TS, HEADER_SIG = "X-Hpgeo-Message-Id", "X-Hpgeo-Timestamp", "X-Hpgeo-Signature"
HEADER_ATTEMPT = "X-Hpgeo-Attempt"
SW_ID, SW_TS, SW_SIG = "webhook-id", "webhook-timestamp", "webhook-signature"
UNKNOWN_OUTCOME = "outcome unknown: the deliverer stopped during the POST"


@dataclass(frozen=True)
class DeliveryPolicy:
    """``timeout`` bounds the connect and each read of a POST (requests' semantics); ``lease`` (how long a
    claim holds before another deliverer may take the row over) must exceed a POST's duration: at least
    3 × ``timeout``."""

    max_attempts: int = 8
    backoff: float = 2.0
    max_backoff: float = 3600.0
    timeout: float = 10.0
    lease: float = 60.0
    batch: int = 50

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff < 0 or self.timeout <= 0 or self.batch < 1:
            raise ValueError("max_attempts ≥ 1, backoff ≥ 0, timeout > 0 and batch ≥ 1 are required")
        if self.lease < 3 * self.timeout:
            raise ValueError(f"the lease ({self.lease} s) must be at least 3 × the POST timeout ({self.timeout} s): "
                             "a shorter lease lets a second deliverer resend a POST still in flight")

    def delay(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)


# -- signatures ---------------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _fresh(timestamp: str | None, now: float | None, tolerance: float) -> bool:
    return bool(timestamp) and timestamp.isdigit() and abs((now if now is not None else time.time()) - int(timestamp)) <= tolerance


def verify(secret: str, timestamp: str | None, body: bytes, signature: str | None, *, now: float | None = None, tolerance: float = 300) -> bool:
    """True when ``signature`` (``X-Hpgeo-Signature``) is ours for ``timestamp`` + ``body`` and the timestamp is fresh."""
    if not signature or not _fresh(timestamp, now, tolerance):
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value (``v1,<base64>``)."""
    mac = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify_standard(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None, tolerance: float = 300) -> bool:
    """True when the Standard Webhooks headers (any case) sign ``body`` with ``secret`` and are fresh."""
    h = {k.lower(): v for k, v in headers.items()}
    mid, ts, sigs = h.get(SW_ID), h.get(SW_TS), h.get(SW_SIG)
    if not mid or not sigs or not _fresh(ts, now, tolerance):
        return False
    want = sign_standard(secret, mid, int(ts), body)
    return any(hmac.compare_digest(want, s) for s in sigs.split(" ") if s.startswith("v1,"))


def accept(secret: str, headers: Mapping[str, str], body: bytes, processed: MutableSet[str], *, lock: Any = None,
           process: Callable[[str, bytes], None] | None = None, now: float | None = None) -> str:
    """The receiver's side of the delivery contract, for a receiver written in Python:

    ``"refused"`` (answer 401) when the signature or timestamp is wrong; ``"duplicate"`` (answer 2xx,
    do nothing) when ``webhook-id`` was processed already; else ``process(id, body)`` runs and the id is
    added to ``processed`` — both under ``lock`` — and the answer is ``"processed"`` (answer 2xx).
    A production receiver keeps ``processed`` in the same database transaction as its processing.
    """
    if not verify_standard(secret, headers, body, now=now):
        return "refused"
    mid = {k.lower(): v for k, v in headers.items()}[SW_ID]
    with lock if lock is not None else _NoLock():
        if mid in processed:
            return "duplicate"
        if process is not None:
            process(mid, body)
        processed.add(mid)
    return "processed"


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


# -- the outbox ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Claim:
    oid: int
    token: str
    attempt: int
    resend: bool  # the previous send's outcome was never recorded
    url: str
    secret: str
    identifier: str
    xml: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _due_ids(store: AlertStore, now: dt.datetime, limit: int) -> list[int]:
    with store.session() as s:
        q = (select(OutboxRow.id).where(OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now,
                                        or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
             .order_by(OutboxRow.next_attempt_at, OutboxRow.id).limit(limit))
        return list(s.scalars(q))


def _claim(store: AlertStore, oid: int, policy: DeliveryPolicy) -> _Claim | None:
    """Claim one row with a fresh token (one atomic conditional UPDATE, committed); None when another
    deliverer has it, or it is no longer due."""
    now, token = _now(), secrets.token_hex(16)
    with store.engine.begin() as conn:  # the UPDATE is the transaction's first statement (no stale SQLite snapshot)
        res = conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id == oid, OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now,
                   or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
            .values(claim_token=token, claimed_at=now, lease_until=now + dt.timedelta(seconds=policy.lease),
                    attempts=OutboxRow.attempts + 1,
                    unconfirmed=OutboxRow.unconfirmed + case((OutboxRow.claim_token.is_(None), 0), else_=1),
                    last_error=case((OutboxRow.claim_token.is_(None), OutboxRow.last_error), else_=UNKNOWN_OUTCOME)))
        if res.rowcount != 1:
            return None
    with store.session() as s:
        o = s.get(OutboxRow, oid)
        if o.claim_token != token:  # cannot happen while the lease holds; never send without the claim
            return None
        sub, msg = s.get(SubscriptionRow, o.subscription_id), s.get(MessageRow, o.message_id)
        c = _Claim(oid, token, o.attempts, o.last_error == UNKNOWN_OUTCOME, sub.url, sub.secret, msg.identifier, msg.xml)
    if c.resend:
        log.warning("alerts: resending message %s to %s (attempt %d): the outcome of the previous send was never recorded "
                    "(deliverer killed or lease lost mid-POST); a receiver that has webhook-id %s already drops it",
                    c.identifier, c.url, c.attempt, c.identifier)
    return c


def _record(store: AlertStore, c: _Claim, ok: bool, error: str | None, policy: DeliveryPolicy) -> str:
    """Record the outcome of claim ``c`` (only if the row is still ours); returns the row's new state, or
    ``"lost"`` when the lease had expired and another deliverer took the row over."""
    now = _now()
    if ok:
        values: dict[str, Any] = {"state": "delivered", "delivered_at": now.replace(microsecond=0), "last_error": None}
    elif c.attempt >= policy.max_attempts:
        values = {"state": "dead", "last_error": (error or "")[:1000]}
    else:
        values = {"state": "pending", "last_error": (error or "")[:1000], "next_attempt_at": now + dt.timedelta(seconds=policy.delay(c.attempt))}
    with store.engine.begin() as conn:
        res = conn.execute(update(OutboxRow).where(OutboxRow.id == c.oid, OutboxRow.claim_token == c.token)
                           .values(claim_token=None, lease_until=None, **values))
    if res.rowcount != 1:
        log.error("alerts: the claim on outbox row %d (message %s) expired during its POST (lease %.0f s); its outcome (%s) "
                  "is dropped and the row's new claimant decides", c.oid, c.identifier, policy.lease, "ok" if ok else error)
        return "lost"
    if values["state"] == "dead":
        log.warning("alerts: message %s dead after %d attempts: %s", c.identifier, c.attempt, error)
    return values["state"]


def headers_for(c: _Claim, ts: int, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/cap+xml; charset=utf-8", SW_ID: c.identifier, SW_TS: str(ts),
            SW_SIG: sign_standard(c.secret, c.identifier, ts, body), HEADER_ID: c.identifier, HEADER_TS: str(ts),
            HEADER_SIG: sign(c.secret, ts, body), HEADER_ATTEMPT: str(c.attempt)}


def deliver_due(store: AlertStore, policy: DeliveryPolicy = DeliveryPolicy(), *, post: Callable[..., Any] | None = None,
                stop: Callable[[], bool] | None = None) -> dict[str, int]:
    """One pass over the due outbox rows (claim → POST → record, row by row). Returns counts of
    delivered / retry / dead (and ``lost``: outcomes dropped because the lease had expired)."""
    post = post or requests.post
    counts = {"delivered": 0, "retry": 0, "dead": 0}
    for oid in _due_ids(store, _now(), policy.batch):
        if stop is not None and stop():
            break
        c = _claim(store, oid, policy)
        if c is None:
            continue
        body = c.xml.encode("utf-8")
        ts = int(time.time())
        try:
            r = post(c.url, data=body, headers=headers_for(c, ts, body), timeout=policy.timeout, allow_redirects=False)
            ok, err = 200 <= r.status_code < 300, f"HTTP {r.status_code}"
        except requests.RequestException as exc:
            ok, err = False, f"{type(exc).__name__}: {exc}"
        state = _record(store, c, ok, None if ok else err, policy)
        key = "retry" if state == "pending" else state
        counts[key] = counts.get(key, 0) + 1
    return counts


def deliver_loop(store: AlertStore, policy: DeliveryPolicy = DeliveryPolicy(), *, every: float = 1.0,
                 stop: threading.Event | Callable[[], bool] | None = None) -> None:
    """Deliver until ``stop`` is set (forever by default), waiting ``every`` seconds when idle. A failing
    pass (database unreachable…) is logged and retried after ``every`` seconds."""
    event = stop if isinstance(stop, threading.Event) else None
    stopped = (event.is_set if event is not None else stop) or (lambda: False)
    while not stopped():
        try:
            c = deliver_due(store, policy, stop=stopped)
        except Exception:  # noqa: BLE001 - a service loop: log loudly, keep going
            log.exception("alerts: delivery pass failed; retrying in %.1f s", every)
            c = {}
        if not any(c.values()):
            if event is not None:
                event.wait(every)
            else:
                time.sleep(every)


class Deliverer:
    """The in-process deliverer of ``hpgeo serve``: :func:`deliver_loop` in a daemon thread.

    It waits (without creating them) until the alert tables exist — the first evaluation creates them —
    so an API that never raises an alert never touches its database for alerts."""

    def __init__(self, url: str, policy: DeliveryPolicy = DeliveryPolicy(), *, every: float = 1.0):
        self.url, self.policy, self.every = url, policy, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.store: AlertStore | None = None

    def start(self) -> "Deliverer":
        self._thread = threading.Thread(target=self._run, name="hpgeo-alerts-deliverer", daemon=True)
        self._thread.start()
        log.info("alerts: in-process webhook deliverer started")
        return self

    def _run(self) -> None:
        from sqlalchemy import inspect

        from base.db import make_engine

        engine = make_engine(self.url)
        try:
            while not self._stop.is_set():
                try:
                    if inspect(engine).has_table("alert_outbox"):
                        break
                except Exception:  # noqa: BLE001
                    log.exception("alerts: deliverer cannot reach the database; retrying")
                self._stop.wait(self.every)
        finally:
            engine.dispose()
        while not self._stop.is_set():
            try:
                self.store = AlertStore.open(self.url)  # brings an older alert schema to head
                break
            except Exception:  # noqa: BLE001 - keep trying: the API must not lose its deliverer silently
                log.exception("alerts: the deliverer cannot open the alert store; retrying in %.0f s", max(self.every, 5.0))
                self._stop.wait(max(self.every, 5.0))
        if self.store is None:
            return
        try:
            deliver_loop(self.store, self.policy, every=self.every, stop=self._stop)
        finally:
            self.store.close()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the loop to stop (after the POST in progress, if any); True when the thread ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.policy.timeout * 3 + self.every + 5)
            alive = self._thread.is_alive()
            if alive:
                log.error("alerts: the deliverer did not stop in time (a POST still in flight)")
            else:
                log.info("alerts: in-process webhook deliverer stopped")
            return not alive
        return True


def pending_count(store: AlertStore) -> int:
    with store.session() as s:
        return len(list(s.scalars(select(OutboxRow.id).where(OutboxRow.state == "pending"))))

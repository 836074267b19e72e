"""Webhooks from the outbox: signed POSTs (hpgeo and Standard Webhooks headers, the latter checked with the
independent ``standardwebhooks`` library), backoff retries, dead-letter, two concurrent deliverers on one
database, and ``kill -9`` of ``hpgeo serve`` in the middle of a POST, with the receiver following the
documented contract (deduplicate on ``webhook-id``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from alerts import evaluate_item
from alerts.delivery import (HEADER_ATTEMPT, HEADER_ID, HEADER_SIG, HEADER_TS, SW_ID, SW_SIG, SW_TS, DeliveryPolicy, accept,
                             deliver_due, sign, sign_standard, verify, verify_standard)
from registry.auth import CLI_PRINCIPAL
from tests.replay.loopback import Loopback

SECRET = "s3cret-for-the-tests-0123456789"


class Receiver(Loopback):
    """A webhook receiver on 127.0.0.1 that follows the contract of docs/alerts.md (verify, then process each
    ``webhook-id`` once). ``wire``: (id, attempt) of every correctly signed POST as it arrived; ``processed``:
    the ids processed. Fails the first ``fail`` requests (500, nothing processed); after processing the
    ``hold_after``-th message it sets ``held`` and waits ``hold`` seconds before answering (the crash window:
    processed at the receiver, not yet acknowledged to the sender)."""

    def __init__(self, fail: int = 0, hold_after: int | None = None, hold: float = 0.0):
        self.fail, self.hold_after, self.hold = fail, hold_after, hold
        self.wire: list[tuple[str, int]] = []
        self.processed: list[str] = []
        self.done: set[str] = set()
        self.bad_sig, self.lock, self.held = 0, threading.Lock(), threading.Event()
        rx = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok_own = verify(SECRET, self.headers[HEADER_TS], body, self.headers[HEADER_SIG])
                if not ok_own or self.headers[HEADER_ID] != self.headers[SW_ID]:
                    rx.bad_sig += 1
                    return self._answer(401)
                with rx.lock:
                    rx.wire.append((self.headers[SW_ID], int(self.headers[HEADER_ATTEMPT])))
                    if rx.fail > 0:
                        rx.fail -= 1
                        return self._answer(500)
                outcome = accept(SECRET, dict(self.headers), body, rx.done, lock=rx.lock, process=lambda mid, _b: rx.processed.append(mid))
                if outcome == "refused":
                    rx.bad_sig += 1
                    return self._answer(401)
                if outcome == "processed" and rx.hold_after is not None and len(rx.processed) == rx.hold_after:
                    rx.held.set()
                    time.sleep(rx.hold)
                self._answer(204)

            def _answer(self, code):
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self._serve(H)
        self.url = self.origin + "/hook"

    def __enter__(self):
        return self


def _messages(world, settings, url):
    cat, store, rules, add_pass = world
    store.subscribe(url, {}, CLI_PRINCIPAL, secret=SECRET)
    ids = []
    for n, ha in enumerate((300.0, 800.0, 0.0), start=1):
        ids += [m["identifier"] for m in evaluate_item(store, cat, "flood-extent", add_pass(n, ha), rules, data_dir=settings.resolved_data_dir)]
    return store, ids


def _drain(store, policy, until, timeout=30.0):
    deadline = time.time() + timeout
    while not until() and time.time() < deadline:
        deliver_due(store, policy)
        time.sleep(0.02)


FAST = DeliveryPolicy(max_attempts=5, backoff=0.05, max_backoff=0.2, timeout=2.0, lease=6.0)


def test_signature_and_replay_protection():
    body = b"<alert/>"
    now = int(time.time())
    s = sign(SECRET, now, body)
    assert verify(SECRET, str(now), body, s, now=now)
    assert not verify(SECRET, str(now), body + b" ", s, now=now)
    assert not verify("other-secret-0123456789", str(now), body, s, now=now)
    assert not verify(SECRET, str(now), body, s, now=now + 301)  # a replay 5 minutes later is refused
    assert not verify(SECRET, None, body, s, now=now)


def test_standard_webhooks_signature_verifies_with_the_reference_library():
    from standardwebhooks import Webhook, WebhookVerificationError

    body, mid, now = "<alert>Hải Phòng</alert>".encode(), "hpgeo-flood-area-11455-0123456789abcdef", int(time.time())
    headers = {SW_ID: mid, SW_TS: str(now), SW_SIG: sign_standard(SECRET, mid, now, body)}
    Webhook(SECRET.encode()).verify(body, headers, json_parse=False)  # raises when wrong
    import base64
    Webhook("whsec_" + base64.b64encode(SECRET.encode()).decode()).verify(body, headers, json_parse=False)
    assert verify_standard(SECRET, headers, body)
    for bad in ({**headers, SW_ID: mid + "x"}, {**headers, SW_TS: str(now - 1)}, {**headers, SW_SIG: headers[SW_SIG][:-4] + "AAA="}):
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET.encode()).verify(body, bad, json_parse=False)
        assert not verify_standard(SECRET, bad, body)
    assert not verify_standard(SECRET, headers, body, now=now + 301)
    seen: set[str] = set()
    assert [accept(SECRET, headers, body, seen) for _ in range(2)] == ["processed", "duplicate"]
    assert accept("other-secret-0123456789", headers, body, set()) == "refused"


def test_lease_must_outlast_a_post():
    with pytest.raises(ValueError, match="lease"):
        DeliveryPolicy(timeout=10.0, lease=20.0)
    assert DeliveryPolicy(timeout=10.0, lease=30.0).lease == 30.0


def test_receiver_failing_three_times_gets_each_message_exactly_once(world, settings):
    with Receiver(fail=3) as rx:
        store, ids = _messages(world, settings, rx.url)
        assert len(ids) == 8  # flood-area 3, flood-fraction 3, flood-growth 2 (Alert on +500 ha, Cancel)
        _drain(store, FAST, lambda: not store.outbox("pending"))
        assert sorted(rx.processed) == sorted(ids) and rx.bad_sig == 0
        assert len(rx.wire) == 8 + 3 and sorted({i for i, _ in rx.wire}) == sorted(ids)
        assert sorted(a for _, a in rx.wire) == [1] * 8 + [2] * 3  # the three failed first tries come again as attempt 2
        box = store.outbox()
        assert {o["state"] for o in box} == {"delivered"} and sum(o["attempts"] for o in box) == 8 + 3
        assert deliver_due(store, FAST) == {"delivered": 0, "retry": 0, "dead": 0}


def test_a_receiver_that_never_recovers_ends_in_dead_letter(world, settings):
    with Receiver(fail=10**6) as rx:
        store, ids = _messages(world, settings, rx.url)
        policy = DeliveryPolicy(max_attempts=3, backoff=0.02, max_backoff=0.05, timeout=2.0, lease=6.0)
        _drain(store, policy, lambda: not store.outbox("pending"))
        dead = store.outbox("dead")
        assert len(dead) == len(ids) and all(o["attempts"] == 3 and o["last_error"] == "HTTP 500" for o in dead)
        assert rx.processed == [] and len(rx.wire) == 3 * len(ids)


def test_backoff_doubles_up_to_the_maximum():
    p = DeliveryPolicy(backoff=2.0, max_backoff=10.0)
    assert [p.delay(n) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_two_concurrent_deliverers_on_one_database_send_each_message_once(world, settings):
    """Two deliverers (own engines, as two processes would have) race over the same due rows: every POST
    on the wire is a different message — none is sent twice, not even before deduplication."""
    from alerts import AlertStore

    with Receiver() as rx:
        store, ids = _messages(world, settings, rx.url)
        stores = [AlertStore.open(settings.catalog_url) for _ in range(2)]
        start, counts = threading.Barrier(2), []

        def run(st):
            start.wait()
            counts.append(deliver_due(st, FAST))

        threads = [threading.Thread(target=run, args=(st,)) for st in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for st in stores:
            st.close()
        assert sorted(i for i, _ in rx.wire) == sorted(ids), (counts, store.outbox())  # the raw wire: each message exactly once
        assert all(a == 1 for _, a in rx.wire) and sorted(rx.processed) == sorted(ids)
        assert sum(c["delivered"] for c in counts) == len(ids)
        assert {o["state"] for o in store.outbox()} == {"delivered"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, port, ready: threading.Event | None = None):
    env = {**os.environ, "HPGEO_DATA_DIR": str(settings.resolved_data_dir), "HPGEO_ALERTS_WEBHOOK_TIMEOUT": "4",
           "HPGEO_ALERTS_LEASE": "12", "HPGEO_ALERTS_DELIVER_EVERY": "0.05", "HPGEO_ALERTS_BACKOFF": "0.05"}
    env.pop("HPGEO_DATABASE_URL", None)
    if settings.database_url:  # the PostgreSQL run (tests/alerts/test_alerts_postgres.py)
        env["HPGEO_DATABASE_URL"] = settings.database_url
    env.pop("HPGEO_ALERTS_DELIVER", None)
    proc = subprocess.Popen([sys.executable, "-m", "hpgeo", "serve", "--port", str(port)], env=env, cwd=os.getcwd(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        if ready is not None and ready.is_set():
            return proc
        try:
            if requests.get(f"http://127.0.0.1:{port}/alerts", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise AssertionError("hpgeo serve exited: " + proc.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("hpgeo serve did not start")


@pytest.mark.slow
def test_kill_9_of_serve_mid_post_then_restart_processes_each_message_exactly_once(world, settings):
    """``hpgeo serve`` delivers in-process; it is killed (SIGKILL) while the receiver holds the answer to a
    POST it has already processed — the crash window. After a restart: the set of ids processed at the
    receiver is the set of messages, each processed once; the raw wire shows exactly that one message twice
    (same ``webhook-id``, attempt 2), and nothing else twice."""
    with Receiver(hold_after=3, hold=30.0) as rx:
        store, ids = _messages(world, settings, rx.url)
        port = _free_port()
        proc = _serve(settings, port, ready=rx.held)
        try:
            assert rx.held.wait(60), "the deliverer never reached the third message"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert len(rx.processed) == 3 and len(rx.wire) == 3
        in_flight = rx.processed[2]
        rx.hold_after = None
        box = {o["message"]: o for o in store.outbox()}
        assert box[in_flight]["state"] == "pending" and box[in_flight]["attempts"] == 1  # claimed, outcome never recorded
        proc = _serve(settings, port)  # the restart; the dead claim's lease (12 s) expires, the row is sent again
        try:
            deadline = time.time() + 60
            while store.outbox("pending") and time.time() < deadline:
                time.sleep(0.1)
            assert not store.outbox("pending")
        finally:
            proc.send_signal(signal.SIGTERM)  # a clean stop ends the lifespan (and the deliverer)
            assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its graceful shutdown
        log = proc.stderr.read().decode()
        assert "in-process webhook deliverer started" in log and "in-process webhook deliverer stopped" in log
        assert sorted(rx.processed) == sorted(ids) and len(rx.processed) == len(set(rx.processed))  # exactly once
        wire_ids = [i for i, _ in rx.wire]
        assert sorted(set(wire_ids)) == sorted(ids)
        assert len(wire_ids) == len(ids) + 1 and wire_ids.count(in_flight) == 2  # the one repeat the wire can show
        assert [a for i, a in rx.wire if i == in_flight] == [1, 2]
        box = {o["message"]: o for o in store.outbox()}
        assert {o["state"] for o in box.values()} == {"delivered"} and box[in_flight]["attempts"] == 2
        assert rx.bad_sig == 0


def test_cli_deliver_one_pass_with_the_settings_and_a_bad_lease_is_refused(world, settings, monkeypatch):
    from typer.testing import CliRunner

    from base.settings import override_settings
    from hpgeo.cli import app

    with Receiver() as rx:
        store, ids = _messages(world, settings, rx.url)
        run = CliRunner()
        with override_settings(settings):
            monkeypatch.setenv("HPGEO_ALERTS_WEBHOOK_TIMEOUT", "20")
            monkeypatch.setenv("HPGEO_ALERTS_LEASE", "30")
            bad = run.invoke(app, ["alerts", "deliver"])
            from base.errors import InvalidRequest  # hpgeo.cli.main turns it into exit code 2

            assert isinstance(bad.exception, InvalidRequest) and "lease" in str(bad.exception) and rx.wire == []  # refused before sending
            ok = run.invoke(app, ["alerts", "deliver", "--lease", "60"])
            assert ok.exit_code == 0, ok.output
        assert sorted(rx.processed) == sorted(ids) and [a for _, a in rx.wire] == [1] * len(ids)
        assert {o["state"] for o in store.outbox()} == {"delivered"}

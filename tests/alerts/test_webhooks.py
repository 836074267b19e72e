"""Webhooks from the outbox: signed POSTs, backoff retries, dead-letter, and a kill -9 mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts import evaluate_item
from alerts.delivery import HEADER_ID, HEADER_SIG, HEADER_TS, DeliveryPolicy, deliver_due, sign, verify
from registry.auth import CLI_PRINCIPAL

SECRET = "s3cret-for-the-tests-0123456789"


class Receiver:
    """A webhook receiver on 127.0.0.1: fails the first ``fail`` requests (500), sleeps ``delay`` per request."""

    def __init__(self, fail: int = 0, delay: float = 0.0):
        self.fail, self.delay, self.seen, self.bad_sig = fail, delay, [], 0
        rx = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(rx.delay)
                if not verify(SECRET, self.headers[HEADER_TS], body, self.headers[HEADER_SIG]):
                    rx.bad_sig += 1
                    self.send_response(401)
                elif rx.fail > 0:
                    rx.fail -= 1
                    self.send_response(500)
                else:
                    rx.seen.append(self.headers[HEADER_ID])
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


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


def test_signature_and_replay_protection():
    body = b"<alert/>"
    now = int(time.time())
    s = sign(SECRET, now, body)
    assert verify(SECRET, str(now), body, s, now=now)
    assert not verify(SECRET, str(now), body + b" ", s, now=now)
    assert not verify("other-secret-0123456789", str(now), body, s, now=now)
    assert not verify(SECRET, str(now), body, s, now=now + 301)  # a replay 5 minutes later is refused
    assert not verify(SECRET, None, body, s, now=now)


def test_receiver_failing_three_times_gets_each_message_exactly_once(world, settings):
    rx = Receiver(fail=3)
    try:
        store, ids = _messages(world, settings, rx.url)
        assert len(ids) == 8  # flood-area 3, flood-fraction 3, flood-growth 2 (Alert on +500 ha, Cancel)
        policy = DeliveryPolicy(max_attempts=5, backoff=0.05, max_backoff=0.2)
        _drain(store, policy, lambda: not store.outbox("pending"))
        assert sorted(rx.seen) == sorted(ids) and rx.bad_sig == 0
        box = store.outbox()
        assert {o["state"] for o in box} == {"delivered"} and sum(o["attempts"] for o in box) == 8 + 3
        assert deliver_due(store, policy) == {"delivered": 0, "retry": 0, "dead": 0}
    finally:
        rx.close()


def test_a_receiver_that_never_recovers_ends_in_dead_letter(world, settings):
    rx = Receiver(fail=10**6)
    try:
        store, ids = _messages(world, settings, rx.url)
        policy = DeliveryPolicy(max_attempts=3, backoff=0.02, max_backoff=0.05)
        _drain(store, policy, lambda: not store.outbox("pending"))
        dead = store.outbox("dead")
        assert len(dead) == len(ids) and all(o["attempts"] == 3 and o["last_error"] == "HTTP 500" for o in dead)
        assert rx.seen == []
    finally:
        rx.close()


def test_backoff_doubles_up_to_the_maximum():
    p = DeliveryPolicy(backoff=2.0, max_backoff=10.0)
    assert [p.delay(n) for n in (1, 2, 3, 4, 5)] == [2.0, 4.0, 8.0, 10.0, 10.0]


@pytest.mark.slow
def test_kill_9_while_delivering_loses_and_duplicates_nothing_by_message_id(world, settings):
    rx = Receiver(delay=0.3)
    try:
        store, ids = _messages(world, settings, rx.url)
        code = ("import sys; from alerts import AlertStore; from alerts.delivery import DeliveryPolicy, deliver_loop; "
                "deliver_loop(AlertStore.open(sys.argv[1]), DeliveryPolicy(lease=1.0, batch=50), every=0.05)")
        proc = subprocess.Popen([sys.executable, "-c", code, settings.catalog_url], cwd=os.getcwd())
        deadline = time.time() + 30
        while len(rx.seen) < 3 and time.time() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 3 <= len(rx.seen) < len(ids), "the kill must land in the middle of the delivery"
        time.sleep(1.1)  # the killed runner's lease expires
        _drain(store, DeliveryPolicy(lease=1.0), lambda: not store.outbox("pending"))
        assert {o["state"] for o in store.outbox()} == {"delivered"}
        assert set(rx.seen) == set(ids)  # nothing lost
        # at most the one POST in flight at the kill is repeated, with the same message id (receivers dedupe on it)
        assert len(rx.seen) - len(set(rx.seen)) <= 1
    finally:
        rx.close()

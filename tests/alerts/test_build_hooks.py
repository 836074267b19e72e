"""Evaluation whenever a product item is built (API build/rebuild routes, ``hpgeo products rebuild``), a
failing evaluation that keeps the item and says so loudly, and the in-process deliverer of the API
(started and stopped with the app's lifespan; off with HPGEO_ALERTS_DELIVER=false)."""

from __future__ import annotations

import logging
import time

import pytest
from typer.testing import CliRunner

from registry.auth import CLI_PRINCIPAL
from tests.alerts.test_webhooks import SECRET, Receiver


@pytest.fixture
def app_client(world, settings, monkeypatch):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from registry import Registry

    def make(deliver: bool = False):
        monkeypatch.setenv("HPGEO_ALERTS_DELIVER", "true" if deliver else "false")
        monkeypatch.setenv("HPGEO_ALERTS_DELIVER_EVERY", "0.05")
        reg = Registry.from_settings(settings, seed_if_empty=True)
        app = create_app(settings)
        app.state.registry = reg
        c = TestClient(app, raise_server_exceptions=False)
        c.coord = {"X-API-Key": reg.create_key("SKHCN", coordinator=True)[1]}
        c.reg = reg
        return c

    return make


def _fake_build(cat, item_id):
    def build_product(name, inputs, parameters, **kw):
        assert name == "flood-sar" and inputs == {"post": ("sentinel-1-grd", "S1-post"), "pre": ("sentinel-1-grd", "S1-pre")}
        return cat.get_item("flood-extent", item_id)
    return build_product


def test_api_build_evaluates_the_built_item(world, settings, app_client, monkeypatch):
    import api.routes.products as routes

    cat, store, rules, add_pass = world
    item = add_pass(1, 300.0)
    monkeypatch.setattr(routes, "build_product", _fake_build(cat, item))
    with app_client() as c:
        body = {"inputs": {"post": "sentinel-1-grd/S1-post", "pre": "sentinel-1-grd/S1-pre"}}
        r = c.post("/products/build/flood-sar", json=body, headers=c.coord)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["status"] == "built" and out["item"]["id"] == item
        msgs = store.messages(active=False)
        assert out["alerts"]["evaluated"] is True and sorted(out["alerts"]["messages"]) == sorted(m["identifier"] for m in msgs)
        assert sorted(m["rule"] for m in msgs) == ["flood-area", "flood-fraction"] and all(m["item"] == item for m in msgs)
        again = c.post("/products/build/flood-sar", json=body, headers=c.coord).json()
        assert again["alerts"] == {"evaluated": True, "messages": []}  # evaluation is idempotent
    c.reg.close()


def test_api_rebuild_keeps_the_item_when_evaluation_fails_and_logs_it(world, settings, app_client, monkeypatch, caplog):
    import api.routes.alerts as alert_routes
    import api.routes.products as routes

    cat, store, rules, add_pass = world
    item = add_pass(1, 300.0)
    monkeypatch.setattr(routes, "rebuild", lambda old, **kw: cat.get_item("flood-extent", item))

    def boom(*a, **kw):
        raise RuntimeError("statistics table unreadable")

    monkeypatch.setattr(alert_routes, "evaluate_item", boom)
    with app_client() as c, caplog.at_level(logging.ERROR):
        r = c.post(f"/products/rebuild/flood-extent/{item}", headers=c.coord)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "built" and r.json()["alerts"] == {"evaluated": False, "error": "RuntimeError: statistics table unreadable"}
    assert cat.get_item("flood-extent", item)["id"] == item  # the item stays
    assert store.messages(active=False) == []
    rec = [x for x in caplog.records if x.levelno == logging.ERROR and "ALERT EVALUATION FAILED" in x.getMessage()]
    assert rec and item in rec[0].getMessage() and rec[0].exc_info is not None
    c.reg.close()


def test_cli_rebuild_evaluates_and_a_failure_is_loud_but_keeps_the_item(world, settings, monkeypatch, caplog):
    import alerts
    import products.build
    from base.settings import override_settings
    from hpgeo.cli import app

    cat, store, rules, add_pass = world
    item1, item2 = add_pass(1, 300.0), add_pass(2, 800.0)
    monkeypatch.setattr(products.build, "rebuild", lambda old, **kw: cat.get_item("flood-extent", old["id"]))
    run = CliRunner()
    with override_settings(settings):
        r = run.invoke(app, ["products", "rebuild", f"flood-extent/{item1}"])
        assert r.exit_code == 0, r.output
        assert "alerts: 2 message(s)" in r.output and sorted(m["rule"] for m in store.messages()) == ["flood-area", "flood-fraction"]
        real = alerts.evaluate_item
        monkeypatch.setattr(alerts, "evaluate_item", lambda *a, **kw: (_ for _ in ()).throw(OSError("disk full")))
        with caplog.at_level(logging.ERROR):
            r = run.invoke(app, ["products", "rebuild", f"flood-extent/{item2}"])
        assert r.exit_code == 0 and "ALERT EVALUATION FAILED" in r.output + (r.stderr or "")
        assert any("ALERT EVALUATION FAILED" in x.getMessage() and item2 in x.getMessage() for x in caplog.records)
        assert cat.get_item("flood-extent", item2)["id"] == item2
        monkeypatch.setattr(alerts, "evaluate_item", real)
        r = run.invoke(app, ["alerts", "evaluate", f"flood-extent/{item2}", "--json"])  # the retry the message names
        assert r.exit_code == 0
        assert sorted((m["rule"], m["msgType"]) for m in store.messages(active=True)) == [("flood-area", "Update"), ("flood-fraction", "Update"), ("flood-growth", "Alert")]


def test_the_api_delivers_in_process_during_its_lifespan(world, settings, app_client):
    from alerts import evaluate_item

    cat, store, rules, add_pass = world
    with Receiver() as rx:
        store.subscribe(rx.url, {}, CLI_PRINCIPAL, secret=SECRET)
        ids = [m["identifier"] for m in evaluate_item(store, cat, "flood-extent", add_pass(1, 300.0), rules, data_dir=settings.resolved_data_dir)]
        c = app_client(deliver=True)
        with c:
            deliverer = c.app.state.alert_deliverer
            deadline = time.time() + 30
            while len(rx.processed) < len(ids) and time.time() < deadline:
                time.sleep(0.05)
            assert sorted(rx.processed) == sorted(ids) and [a for _, a in rx.wire] == [1] * len(ids)
        assert deliverer._thread is not None and not deliverer._thread.is_alive()  # stopped with the app
        assert {o["state"] for o in store.outbox()} == {"delivered"}
        c.reg.close()


def test_the_in_process_deliverer_is_off_with_the_setting(world, settings, app_client):
    from alerts import evaluate_item

    cat, store, rules, add_pass = world
    with Receiver() as rx:
        store.subscribe(rx.url, {}, CLI_PRINCIPAL, secret=SECRET)
        evaluate_item(store, cat, "flood-extent", add_pass(1, 300.0), rules, data_dir=settings.resolved_data_dir)
        c = app_client(deliver=False)
        with c:
            assert c.app.state.alert_deliverer is None
            time.sleep(1.0)
        assert rx.wire == [] and len(store.outbox("pending")) == 2
        c.reg.close()

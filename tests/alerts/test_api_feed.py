"""/alerts over HTTP: JSON, CAP XML, the Atom feed (feedparser) and admin-only, audited subscriptions."""

from __future__ import annotations

import feedparser
import pytest

from alerts import evaluate_item


@pytest.fixture
def client(world, settings):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from registry import Registry

    reg = Registry.from_settings(settings, seed_if_empty=True)
    app = create_app(settings)
    app.state.registry = reg
    with TestClient(app, raise_server_exceptions=False) as c:
        c.reg = reg
        yield c
    reg.close()


def test_json_cap_and_feed_list_exactly_the_active_alerts(world, settings, client):
    cat, store, rules, add_pass = world
    for n, ha in ((1, 300.0), (2, 20.0)):  # flood-area opens then clears; flood-fraction (68 %) opens and clears too
        evaluate_item(store, cat, "flood-extent", add_pass(n, ha), rules, data_dir=settings.resolved_data_dir)
    evaluate_item(store, cat, "flood-extent", add_pass(3, 150.0), rules, data_dir=settings.resolved_data_dir)  # 150 ha, 34 %: both reopen
    active = client.get("/alerts").json()
    history = client.get("/alerts", params={"active": "false"}).json()
    assert sorted(m["rule"] for m in active) == ["flood-area", "flood-fraction"] and all(m["msgType"] == "Alert" for m in active)
    assert len(history) == 6
    one = active[0]["identifier"]
    r = client.get(f"/alerts/{one}.cap")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
    assert f"<identifier>{one}</identifier>" in r.text
    assert client.get(f"/alerts/{one}").json()["identifier"] == one
    assert client.get("/alerts/nope.cap").status_code == 404
    feed = client.get("/alerts/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    links = sorted(link.href for e in parsed.entries for link in e.links if link.type == "application/cap+xml")
    assert links == sorted(f"http://testserver/alerts/{m['identifier']}.cap" for m in active)
    assert client.get("/alerts", params={"bogus": "1"}).status_code == 400


def test_subscriptions_need_the_coordinator_key_and_are_audited(client):
    body = {"url": "http://127.0.0.1:9/hook", "filters": {"min_severity": "Severe"}}
    assert client.post("/alerts/subscriptions", json=body).status_code == 401
    agency = {"X-API-Key": client.reg.create_key("SNNMT")[1]}
    assert client.post("/alerts/subscriptions", json=body, headers=agency).status_code == 403
    coord = {"X-API-Key": client.reg.create_key("SKHCN", coordinator=True)[1]}
    r = client.post("/alerts/subscriptions", json=body, headers=coord)
    assert r.status_code == 201 and len(r.json()["secret"]) >= 32
    sid = r.json()["id"]
    assert client.post("/alerts/subscriptions", json={"url": "ftp://x/y"}, headers=coord).status_code == 400
    assert client.post("/alerts/subscriptions", json={**body, "filters": {"colour": "red"}}, headers=coord).status_code == 400
    assert [s["id"] for s in client.get("/alerts/subscriptions", headers=coord).json()] == [sid]
    assert client.delete(f"/alerts/subscriptions/{sid}", headers=coord).status_code == 204
    assert client.delete(f"/alerts/subscriptions/{sid}", headers=coord).status_code == 404
    actions = [(a["action"], a["outcome"]) for a in client.reg.audit(limit=20)]
    assert ("alerts.subscribe", "applied") in actions and ("alerts.unsubscribe", "applied") in actions
    assert ("auth.refused", "denied") in actions and ("access.refused", "denied") in actions


def test_manual_cancel_references_the_last_message(world, settings, client):
    cat, store, rules, add_pass = world
    msgs = evaluate_item(store, cat, "flood-extent", add_pass(1, 300.0), rules, data_dir=settings.resolved_data_dir)
    alert = next(m for m in msgs if m["rule"] == "flood-area")
    coord = {"X-API-Key": client.reg.create_key("SKHCN", coordinator=True)[1]}
    assert client.post(f"/alerts/{alert['identifier']}/cancel").status_code == 401
    r = client.post(f"/alerts/{alert['identifier']}/cancel", headers=coord)
    assert r.status_code == 200 and r.json()["msgType"] == "Cancel"
    assert r.json()["references"][0].split(",")[1] == alert["identifier"]
    assert client.post(f"/alerts/{alert['identifier']}/cancel", headers=coord).status_code == 400

"""Alert rules changed through the API by an admin key (and ``hpgeo alerts rules``): versioned in the database,
validated, optimistic concurrency (version = current + 1), every change and every refused attempt audited, and
the next evaluation uses the new rules (known answers from the flood fixture of tests/alerts/conftest.py:
Đồ Sơn 300 ha of 440 ha flooded; the shipped `flood-area` levels are 50 ha Moderate, 500 ha Severe)."""

from __future__ import annotations

import json

import pytest
import yaml
from lxml import etree

from alerts.rules import DEFAULT_RULES

CAP_NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
VI_EVENT = "Ngập lụt nghiêm trọng ở Đồ Sơn – cảnh báo sớm"


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
        c.admin = {"X-API-Key": reg.create_key("SKHCN", role="admin")[1]}
        yield c
    reg.close()


def shipped() -> dict:
    return yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))


def with_flood_area(doc: dict, levels: list[dict], version: int) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["version"] = version
    next(r for r in doc["rules"] if r["id"] == "flood-area")["levels"] = levels
    return doc


def put_yaml(client, doc_or_text, headers, **params):
    text = doc_or_text if isinstance(doc_or_text, str) else yaml.safe_dump(doc_or_text, allow_unicode=True, sort_keys=False)
    return client.put("/alerts/rules", content=text.encode("utf-8"), params=params,
                      headers={**(headers or {}), "Content-Type": "application/yaml"})


def rule_audits(reg) -> list[dict]:
    return [a for a in reg.audit(limit=1000) if a["action"] == "alerts.rules.set"]


def evaluate(client, item: str) -> dict[str, dict]:
    r = client.post(f"/alerts/evaluate/flood-extent/{item}", headers=client.admin)
    assert r.status_code == 200, r.text
    return {m["rule"]: m for m in r.json()}


def test_reading_the_rules_is_public_and_shows_the_shipped_default(client):
    r = client.get("/alerts/rules")
    assert r.status_code == 200
    body = r.json()
    assert (body["version"], body["source"]["source"], body["source"]["file"]) == (1, "shipped", "alerts/rules.yaml")
    want = shipped()
    assert {k: body["rules"][k] for k in ("version", "sender", "sender_name", "web")} == {k: want[k] for k in ("version", "sender", "sender_name", "web")}
    assert [{k: got[k] for k in r} for got, r in zip(body["rules"]["rules"], want["rules"], strict=True)] == want["rules"]  # every field of the file
    y = client.get("/alerts/rules.yaml")
    assert y.status_code == 200 and y.headers["content-type"].startswith("application/yaml")
    assert y.content.decode("utf-8") == DEFAULT_RULES.read_text(encoding="utf-8") and y.headers["x-rules-version"] == "1"
    assert client.get("/alerts/rules", params={"bogus": "1"}).status_code == 400


def test_changing_the_rules_needs_an_admin_key_and_every_attempt_is_audited(client):
    reg = client.reg
    doc = with_flood_area(shipped(), [{"min": 80, "severity": "Moderate", "urgency": "Expected"},
                                      {"min": 500, "severity": "Severe", "urgency": "Immediate"}], 2)
    assert put_yaml(client, doc, None).status_code == 401
    refusals = {}
    for role in ("analyst", "editor"):
        key = reg.create_key("SNNMT", role=role)[1]
        r = put_yaml(client, doc, {"X-API-Key": key})
        assert r.status_code == 403 and r.json()["code"] == "RoleTooLow", (role, r.text)
        refusals[role] = key.split("_")[1]
    for path in ("/alerts/rules/history",):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"X-API-Key": reg.create_key("SNNMT", role="editor")[1]}).status_code == 403
    assert client.get("/alerts/rules").json()["version"] == 1  # nothing changed
    denied = [a for a in reg.audit(limit=100) if a["outcome"] == "denied" and a["detail"]["request"] == {"method": "PUT", "route": "/alerts/rules"}]
    assert sorted((a["actor"], a["detail"]["status"]) for a in denied) == sorted(
        [("anonymous", 401), (refusals["analyst"], 403), (refusals["editor"], 403)])

    r = put_yaml(client, doc, client.admin, comment="flood-area: lowest level 80 ha")
    assert r.status_code == 200, r.text
    admin_id = client.admin["X-API-Key"].split("_")[1]
    body = r.json()
    assert body["version"] == 2 and body["source"]["source"] == "database"
    assert (body["source"]["by"], body["source"]["agency"], body["source"]["comment"]) == (admin_id, "SKHCN", "flood-area: lowest level 80 ha")
    assert client.get("/alerts/rules").json()["rules"]["rules"][0]["levels"][0]["min"] == 80
    applied = [a for a in rule_audits(reg) if a["outcome"] == "applied"]
    assert len(applied) == 1 and (applied[0]["actor"], applied[0]["actor_agency"], applied[0]["target"]) == (admin_id, "SKHCN", "rules/2")
    assert applied[0]["detail"]["previous"] == 1 and applied[0]["detail"]["version"] == 2
    assert not [a for a in reg.audit(limit=100) if a["action"] == "api.write"]  # audited once, by the store
    hist = client.get("/alerts/rules/history", headers=client.admin)
    assert hist.status_code == 200
    assert [(h["version"], h["source"], h.get("by")) for h in hist.json()] == [(2, "database", admin_id), (1, "shipped", None)]
    assert client.admin["X-API-Key"] not in json.dumps(reg.audit(limit=1000)) + hist.text


@pytest.mark.parametrize("case", ["yaml", "unknown-field", "descending", "not-a-mapping", "json"])
def test_invalid_rules_are_refused_with_the_location_and_nothing_changes(client, case):
    before = client.get("/alerts/rules.yaml").text
    doc = shipped()
    doc["version"] = 2
    if case == "yaml":
        r = put_yaml(client, "version: 2\nrules: [unclosed\n", client.admin)
        want = "not valid YAML"
    elif case == "unknown-field":
        doc["rules"][0]["colour"] = "red"
        r = put_yaml(client, doc, client.admin)
        want = "rules.0.colour: Extra inputs are not permitted"
    elif case == "descending":
        doc = with_flood_area(doc, [{"min": 500, "severity": "Severe", "urgency": "Immediate"},
                                    {"min": 50, "severity": "Moderate", "urgency": "Expected"}], 2)
        r = put_yaml(client, doc, client.admin)
        want = "rules.0.levels: Value error, levels must have strictly ascending `min`"
    elif case == "not-a-mapping":
        r = put_yaml(client, "- 1\n- 2\n", client.admin)
        want = "must be a mapping"
    else:
        doc["rules"][1]["levels"][0]["severity"] = "Catastrophic"
        r = client.put("/alerts/rules", json=doc, headers=client.admin)
        want = "rules.1.levels.0.severity: Input should be"
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidRules" and want in r.json()["description"], r.json()
    assert client.get("/alerts/rules.yaml").text == before and client.get("/alerts/rules").json()["version"] == 1
    refused = rule_audits(client.reg)
    assert [(a["outcome"], a["detail"]["status"]) for a in refused] == [("denied", 400)] and want in refused[0]["detail"]["reason"]


def test_a_stale_version_is_a_conflict(client):
    doc = shipped()
    for version in (1, 3):  # the current version again, or one ahead of current + 1
        doc["version"] = version
        r = put_yaml(client, doc, client.admin)
        assert r.status_code == 409 and r.json()["code"] == "RulesVersionConflict"
        assert "current version is 1" in r.json()["description"] and "version 2" in r.json()["description"]
    doc["version"] = 2
    assert put_yaml(client, doc, client.admin).status_code == 200
    r = put_yaml(client, doc, client.admin)  # a second writer who read version 1 too
    assert r.status_code == 409 and "current version is 2" in r.json()["description"]
    assert client.get("/alerts/rules").json()["version"] == 2
    assert [(a["outcome"], a["detail"].get("status")) for a in reversed(rule_audits(client.reg))] == [
        ("denied", 409), ("denied", 409), ("applied", None), ("denied", 409)]


def test_a_raised_threshold_changes_the_next_evaluation(world, client):
    cat, store, rules, add_pass = world
    first = evaluate(client, add_pass(1, 300.0))  # shipped rules: 300 ha ≥ 50 → Moderate
    assert (first["flood-area"]["msgType"], first["flood-area"]["severity"]) == ("Alert", "Moderate")
    assert first["flood-fraction"]["msgType"] == "Alert"  # 300/440 = 68 % ≥ 25 %

    # 250 ha is now Severe: the same 300 ha on the next pass is an Update at Severe, with the rules version 2
    doc = with_flood_area(shipped(), [{"min": 100, "severity": "Moderate", "urgency": "Expected"},
                                      {"min": 250, "severity": "Severe", "urgency": "Immediate"}], 2)
    assert put_yaml(client, doc, client.admin).status_code == 200
    second = evaluate(client, add_pass(2, 300.0))
    assert (second["flood-area"]["msgType"], second["flood-area"]["severity"]) == ("Update", "Severe")
    xml = etree.fromstring(client.get(f"/alerts/{second['flood-area']['identifier']}.cap").content)
    params = {p.findtext("cap:valueName", namespaces=CAP_NS): p.findtext("cap:value", namespaces=CAP_NS)
              for p in xml.iterfind(".//cap:info/cap:parameter", CAP_NS)}
    assert params["RULES_VERSION"] == "2"

    # the lowest level raised to 400 ha: 300 ha no longer holds → Cancel; flood-fraction (unchanged) is not touched
    doc = with_flood_area(shipped(), [{"min": 400, "severity": "Severe", "urgency": "Immediate"}], 3)
    assert put_yaml(client, doc, client.admin).status_code == 200
    third = evaluate(client, add_pass(3, 300.0))
    assert third["flood-area"]["msgType"] == "Cancel"
    assert third["flood-fraction"]["msgType"] == "Update"  # 68 % still ≥ 25 %
    assert store.rules().version == 3  # the test's own store on the same database agrees


def test_stateless_workers_agree_on_the_current_rules(world, settings, client):
    """A second app (another API worker) and a second store on the same database see a change at once."""
    from fastapi.testclient import TestClient

    from alerts import AlertStore
    from api.main import create_app

    other_store = AlertStore.from_settings(settings)
    assert other_store.rules().version == 1  # cached at version 1
    app2 = create_app(settings)
    app2.state.registry = client.reg
    with TestClient(app2, raise_server_exceptions=False) as worker2:
        assert worker2.get("/alerts/rules").json()["version"] == 1
        doc = with_flood_area(shipped(), [{"min": 75, "severity": "Minor", "urgency": "Future"}], 2)
        assert put_yaml(client, doc, client.admin).status_code == 200
        got = worker2.get("/alerts/rules").json()
        assert got["version"] == 2 and got["rules"]["rules"][0]["levels"] == [{"min": 75.0, "severity": "Minor", "urgency": "Future"}]
    assert other_store.rules().get("flood-area").level(80).severity == "Minor"
    other_store.close()


def test_yaml_round_trip_keeps_vietnamese_text_and_comments(world, client):
    cat, store, rules, add_pass = world
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace("version: 1\n", "version: 2\n", 1).replace(
        'event_vi: "Ngập lụt"', f'event_vi: "{VI_EVENT}"', 1)
    text = "# Sửa ngưỡng: Phòng Quản lý thiên tai\n" + text
    assert VI_EVENT in text
    r = put_yaml(client, text, client.admin, comment="đổi tên sự kiện")
    assert r.status_code == 200, r.text
    got = client.get("/alerts/rules.yaml")
    assert got.content == text.encode("utf-8")  # byte for byte, the comment and the diacritics included
    assert client.get("/alerts/rules").json()["rules"]["rules"][0]["event_vi"] == VI_EVENT
    assert client.get("/alerts/rules/history", headers=client.admin).json()[0]["comment"] == "đổi tên sự kiện"
    msg = evaluate(client, add_pass(1, 300.0))["flood-area"]
    xml = etree.fromstring(client.get(f"/alerts/{msg['identifier']}.cap").content)
    events = {i.findtext("cap:language", namespaces=CAP_NS): i.findtext("cap:event", namespaces=CAP_NS) for i in xml.iterfind("cap:info", CAP_NS)}
    assert events["vi-VN"] == VI_EVENT

    # a JSON body is stored as YAML that reads back to the same rule set, Vietnamese intact
    doc = yaml.safe_load(text)
    doc["version"] = 3
    r = client.put("/alerts/rules", json=doc, headers=client.admin)
    assert r.status_code == 200, r.text
    stored = client.get("/alerts/rules.yaml").content.decode("utf-8")
    assert VI_EVENT in stored and yaml.safe_load(stored) == doc


def test_cli_rules_show_set_history(world, settings, tmp_path, capsys):
    from hpgeo.cli import main

    assert main(["alerts", "rules", "show"]) == 0
    assert capsys.readouterr().out == DEFAULT_RULES.read_text(encoding="utf-8")
    f = tmp_path / "rules.yaml"
    f.write_text("# raised after the 2025 floods\n" + DEFAULT_RULES.read_text(encoding="utf-8").replace(
        "{min: 50, severity: Moderate", "{min: 120, severity: Moderate", 1), encoding="utf-8")
    assert main(["alerts", "rules", "set", str(f), "-m", "ngưỡng 120 ha"]) == 0  # version 1 in the file, bumped to 2
    capsys.readouterr()
    assert main(["alerts", "rules", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 2 and shown["rules"]["rules"][0]["levels"][0]["min"] == 120 and shown["source"]["by"] == "cli"
    assert main(["alerts", "rules", "show"]) == 0
    assert capsys.readouterr().out.startswith("# raised after the 2025 floods\n")  # the file's comments kept
    assert main(["alerts", "rules", "set", str(f), "--exact"]) == 2  # the file says version 1, current is 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(f.read_text(encoding="utf-8").replace("kind: class_area", "kind: magic", 1), encoding="utf-8")
    assert main(["alerts", "rules", "set", str(bad)]) == 2
    assert main(["alerts", "rules", "history", "--json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    assert [(h["version"], h["source"]) for h in hist] == [(2, "database"), (1, "shipped")] and hist[0]["comment"] == "ngưỡng 120 ha"
    # `hpgeo alerts evaluate` uses the stored rules: 100 ha is below the new 120 ha level, above the shipped 50 ha
    cat, store, _, add_pass = world
    item = add_pass(1, 100.0)
    assert main(["alerts", "evaluate", f"flood-extent/{item}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "flood-area" not in {m["rule"] for m in out}
    from registry import Registry

    reg = Registry.from_settings(settings)
    outcomes = [(a["actor"], a["outcome"], a["detail"].get("status")) for a in reversed(reg.audit(limit=100)) if a["action"] == "alerts.rules.set"]
    reg.close()
    assert outcomes == [("cli", "applied", None), ("cli", "denied", 409), ("cli", "denied", 400)]


def test_an_oversized_rule_set_is_413_audited_and_changes_nothing(client):
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace("version: 1\n", "version: 2\n", 1) + "#" * 1_000_000 + "\n"
    r = put_yaml(client, text, client.admin)
    assert r.status_code == 413 and "1000000 bytes" in r.json()["description"]
    assert client.get("/alerts/rules").json()["version"] == 1
    assert [(a["outcome"], a["detail"]["status"]) for a in rule_audits(client.reg)] == [("denied", 413)]

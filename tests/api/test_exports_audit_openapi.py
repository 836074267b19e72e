"""Exports that stored text cannot break or turn into formulas, refused attempts in the audit trail, and the
error responses declared in the OpenAPI document."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest

V81, V41 = "VUTRU-2030.V.8.1", "VUTRU-2030.V.4.1"
FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tx=1"]


def test_spreadsheet_cells_are_never_formulas(client, coord):
    tasks = [t["id"] for t in client.get("/registry/tasks").json()][:len(FORMULAS)]
    for task, note in zip(tasks, FORMULAS):
        assert client.put(f"/registry/tasks/{task}/status/2026", json={"status": "in_progress", "note": note}, headers=coord).status_code == 200
    r = client.get("/registry/consolidated/2026.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["Nhiem vu"]
    cells = {row[2].value: row[7] for row in ws.iter_rows(min_row=2)}
    for task, note in zip(tasks, FORMULAS):
        assert cells[task].data_type == "s"
        assert cells[task].value == "'" + note
    assert all(c.data_type != "f" for row in openpyxl.load_workbook(io.BytesIO(r.content)).worksheets for line in row.iter_rows() for c in line)


def test_exports_survive_control_characters_already_stored(client, reg):
    from registry.models import ReportRow, TaskStatusRow

    import datetime as dt

    with reg.session() as s:  # as a database written before the checks existed would hold them
        s.add(ReportRow(plan_id="VUTRU-2030", agency_id="SNNMT", year=2026, text="Báo\x01cáo\x0b\x7f", indicators={}, attachments=[],
                        submitted_on=dt.date(2026, 11, 30), submitted_by="cli"))
        s.add(TaskStatusRow(task_id=V81, year=2026, status="in_progress", progress=10, note="=1+1\x02", updated_by="cli"))
    for fmt in ("md", "docx", "xlsx"):
        assert client.get(f"/registry/consolidated/2026.{fmt}").status_code == 200, fmt
    d = docx.Document(io.BytesIO(client.get("/registry/consolidated/2026.docx").content))
    assert "Báo\ufffdcáo\ufffd\ufffd" in [p.text for p in d.paragraphs]
    ws = openpyxl.load_workbook(io.BytesIO(client.get("/registry/consolidated/2026.xlsx").content))["Nhiem vu"]
    note = next(row[7] for row in ws.iter_rows(min_row=2) if row[2].value == V81)
    assert note.value == "'=1+1\ufffd" and note.data_type == "s"
    assert "Báo\ufffdcáo\ufffd\ufffd" in client.get("/registry/consolidated/2026.md").text
    assert client.get("/registry/reports/2026/SNNMT").json()["text"] == "Báo\x01cáo\x0b\x7f"  # JSON escapes them


def _refusals(reg):
    return [a for a in reg.audit(limit=1000) if a["outcome"] == "denied"]


def test_401_attempts_are_audited_with_route_method_key_id_and_reason(client, reg):
    url = f"/registry/tasks/{V41}/status/2026"
    body = {"status": "completed"}
    _, revoked = reg.create_key("SNNMT")
    reg.revoke_key(revoked.split("_")[1])
    unknown = "hpg_0123456789ab_" + "s" * 43
    for headers in ({}, {"X-API-Key": "not-a-key"}, {"X-API-Key": unknown}, {"X-API-Key": revoked}):
        assert client.put(url, json=body, headers=headers).status_code == 401
    got = [(a["actor"], a["actor_agency"], a["action"], a["target"], a["detail"]["reason"], a["detail"]["status"], a["detail"]["request"])
           for a in reversed(_refusals(reg))]
    route = {"method": "PUT", "route": "/registry/tasks/{task_id}/status/{year}"}
    assert got == [
        ("anonymous", None, "auth.refused", route["route"], "this change needs an API key (header X-API-Key)", 401, route),
        ("malformed", None, "auth.refused", route["route"], "malformed API key", 401, route),
        ("0123456789ab", None, "auth.refused", route["route"], "unknown API key", 401, route),
        (revoked.split("_")[1], "SNNMT", "auth.refused", route["route"], "this API key was revoked", 401, route),
    ]
    text = repr(reg.audit(limit=1000))
    assert "s" * 43 not in text and revoked not in text and "not-a-key" not in text
    assert all(a["at"] for a in _refusals(reg))


def test_403_attempts_are_audited_once_with_the_route(client, reg, agency):
    r = client.put(f"/registry/tasks/{V41}/status/2026", json={"status": "completed"}, headers=agency)
    assert r.status_code == 403
    r = client.post("/registry/reminders/2026", json={}, headers=agency)
    assert r.status_code == 403 and r.json()["code"] == "RoleTooLow"
    got = [(a["action"], a["target"], a["detail"]["status"], a["detail"]["request"]) for a in reversed(_refusals(reg))]
    key_id = agency["X-API-Key"].split("_")[1]
    assert got == [
        ("task.status", f"{V41}/status/2026", 403, {"method": "PUT", "route": "/registry/tasks/{task_id}/status/{year}"}),
        ("access.refused", "/registry/reminders/{year}", 403, {"method": "POST", "route": "/registry/reminders/{year}"}),
    ]
    assert {a["actor"] for a in _refusals(reg)} == {key_id}
    assert _refusals(reg)[0]["detail"]["reason"] == "this needs a key with role admin (or higher); this key's role is editor"


def test_applied_changes_record_the_route_too(client, reg, coord):
    assert client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "in_progress"}, headers=coord).status_code == 200
    a = reg.audit(target=f"{V81}/status/2026")[0]
    assert a["outcome"] == "applied" and a["detail"]["request"] == {"method": "PUT", "route": "/registry/tasks/{task_id}/status/{year}"}


EXPECTED = {
    ("put", "/registry/tasks/{task_id}/status/{year}"): {"400", "401", "403", "404", "413", "422"},
    ("post", "/stac/search"): {"400", "413", "422"},
    ("get", "/stac/search"): {"400", "422"},
    ("post", "/products/build/{name}"): {"400", "401", "403", "404", "413", "422"},
    ("get", "/tiles/{collection_id}/{item_id}/{z}/{x}/{y}.png"): {"400", "404", "422"},
    ("get", "/registry/audit"): {"400", "401", "403", "422"},
    ("get", "/healthz"): {"400"},
}


def test_openapi_declares_error_responses_with_the_error_model(client):
    doc = client.get("/openapi.json").json()
    err = doc["components"]["schemas"]["ErrorOut"]
    assert set(err["required"]) == {"code", "description"}
    for (method, path), codes in EXPECTED.items():
        responses = doc["paths"][path][method]["responses"]
        assert {c for c in responses if c.startswith("4")} == codes, path
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            errors = {c: r for c, r in op["responses"].items() if c.startswith("4")}
            if path.startswith(("/stac/collections/{", "/stac/search", "/registry", "/tiles", "/products", "/stats")):
                assert errors, f"{method} {path} declares no error response"
            for code, r in errors.items():
                ref = r["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ValidationErrorOut" if code == "422" else "/ErrorOut"), (path, code)


@pytest.mark.parametrize("url", ["/nope", "/registry/tasks/VUTRU-2030.IX.9"])
def test_not_found_is_code_and_description(client, url):
    r = client.get(url)
    assert r.status_code == 404 and set(r.json()) == {"code", "description"}

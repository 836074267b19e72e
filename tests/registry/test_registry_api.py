"""API under /registry: listing, auth (401/403), audit history, reports, calendar, page, downloads."""

from __future__ import annotations

import io

import docx
import openpyxl

V81 = "VUTRU-2030.V.8.1"  # led by Sở Tài nguyên và Môi trường, now Sở Nông nghiệp và Môi trường
V41 = "VUTRU-2030.V.4.1"  # led by Sở Giáo dục và Đào tạo


def _key(reg, agency, coordinator=False):
    return {"X-API-Key": reg.create_key(agency, coordinator=coordinator)[1]}


def test_tasks_list_each_with_its_lead_agency(client):
    r = client.get("/registry/tasks")
    assert r.status_code == 200
    tasks = r.json()
    assert len(tasks) == 70
    by = {t["local_id"]: t for t in tasks}
    assert by["V.8.1"]["lead_agency"]["id"] == "STNMT"
    assert by["V.8.1"]["lead_agency"]["current"]["name_vi"] == "Sở Nông nghiệp và Môi trường"
    assert by["V.12.1"]["lead_agency"]["name_vi"] == "Thành Đoàn Hải Phòng"
    assert by["III.2.a"]["lead_agency"]["id"] == "SKHCN" and by["III.2.a"]["lead_agency"]["inferred"] is True
    assert all("lead_agency" in t for t in tasks)
    r = client.get("/registry/tasks", params={"type": "remote-sensing-product", "agency": "SNNMT"})
    assert [t["local_id"] for t in r.json()] == ["III.1.c", "III.3.a", "III.3.b", "III.5.b", "V.8.1"]
    assert client.get("/registry/tasks", params={"section": "V.3"}).json()[0]["local_id"] == "V.3.0"
    assert len(client.get("/registry/tasks", params={"section": "V.3"}).json()) == 7


def test_bad_queries_are_4xx_with_a_message(client):
    assert client.get("/registry/tasks", params={"type": "spaceships"}).status_code == 422
    r = client.get("/registry/tasks", params={"agency": "NOPE"})
    assert r.status_code == 404 and "NOPE" in r.json()["description"]
    assert client.get("/registry/tasks/VUTRU-2030.IX.9").status_code == 404
    assert client.get("/registry/calendar", params={"on": "2026-02-30"}).status_code == 422


def test_agency_key_cannot_change_another_agencys_task_and_coordinator_can(client, reg):
    body = {"status": "completed", "progress": 100, "note": "xong"}
    # no key / bad key
    assert client.put(f"/registry/tasks/{V41}/status/2026", json=body).status_code == 401
    assert client.put(f"/registry/tasks/{V41}/status/2026", json=body, headers={"X-API-Key": "hpg_000000000000_" + "x" * 43}).status_code == 401
    env = _key(reg, "SNNMT")
    r = client.put(f"/registry/tasks/{V41}/status/2026", json=body, headers=env)
    assert r.status_code == 403
    assert "SNNMT" in r.json()["description"]
    assert client.get(f"/registry/tasks/{V41}", params={"year": 2026}).json()["status"] == "unreported"  # unchanged
    # its own task (inherited from Sở Tài nguyên và Môi trường) works
    r = client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "in_progress", "progress": 40}, headers=env)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    coord = _key(reg, "SKHCN", coordinator=True)
    r = client.put(f"/registry/tasks/{V41}/status/2026", json=body, headers=coord)
    assert r.status_code == 200
    assert client.get(f"/registry/tasks/{V41}", params={"year": 2026}).json()["status"] == "completed"
    # both attempts on V.4.1 are in the audit history: who, when, what
    audit = client.get("/registry/audit", params={"task": V41}, headers=coord).json()
    assert [(a["actor_agency"], a["actor_role"], a["outcome"]) for a in audit] == [("SKHCN", "admin", "applied"), ("SNNMT", "editor", "denied")]
    assert audit[0]["detail"]["after"]["status"] == "completed" and audit[0]["detail"]["before"] is None
    assert audit[1]["detail"]["attempted"]["status"] == "completed"
    assert all(a["at"] and a["target"] == f"{V41}/status/2026" for a in audit)
    # the audit trail is for the coordinator's admin key only
    r = client.get("/registry/audit", headers=env)
    assert r.status_code == 403 and r.json()["code"] == "RoleTooLow"


def test_invalid_status_changes_nothing(client, reg):
    coord = _key(reg, "SKHCN", coordinator=True)
    assert client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "done?"}, headers=coord).status_code == 422
    assert client.put(f"/registry/tasks/{V81}/status/2026", json={"status": "completed", "progress": 140}, headers=coord).status_code == 422
    r = client.put(f"/registry/tasks/{V81}/status/2035", json={"status": "completed"}, headers=coord)
    assert r.status_code == 400 and "outside plan" in r.json()["description"]
    assert client.get(f"/registry/tasks/{V81}").json()["history"] == []


def test_reports_only_for_own_agency(client, reg):
    env, edu = _key(reg, "SNNMT"), _key(reg, "SGDDT")
    body = {"text": "Báo cáo năm 2026", "indicators": {"space-engineers": 7}, "submitted_on": "2026-12-01",
            "attachments": [{"name": "bang-bieu.xlsx", "url": "https://example.org/b.xlsx"}]}
    assert client.put("/registry/reports/2026/SNNMT", json=body, headers=edu).status_code == 403
    r = client.put("/registry/reports/2026/SNNMT", json=body, headers=env)
    assert r.status_code == 200 and r.json()["indicators"] == {"VUTRU-2030.space-engineers": 7.0}
    bad = client.put("/registry/reports/2026/SNNMT", json=body | {"indicators": {"rockets": 3}}, headers=env)
    assert bad.status_code == 400 and "unknown indicator" in bad.json()["description"]
    assert client.get("/registry/reports/2026/SNNMT").json()["indicators"] == {"VUTRU-2030.space-engineers": 7.0}
    # STNMT no longer exists in 2026: its successor reports
    assert client.put("/registry/reports/2026/STNMT", json=body, headers=_key(reg, "SKHCN", True)).status_code == 400
    ind = client.get("/registry/indicators", params={"year": 2026}).json()
    assert next(i for i in ind if i["id"] == "VUTRU-2030.space-engineers")["value"] == 7


def test_reminders_need_the_coordinator_and_show_in_the_calendar(client, reg):
    assert client.post("/registry/reminders/2026", json={"sent_on": "2026-11-10"}, headers=_key(reg, "SNNMT")).status_code == 403
    r = client.post("/registry/reminders/2026", json={"sent_on": "2026-11-10"}, headers=_key(reg, "SKHCN", True))
    assert r.status_code == 200 and len(r.json()["agencies"]) == 10
    cal = client.get("/registry/calendar", params={"on": "2026-11-16"}).json()["entries"]
    sent = [e for e in cal if e["year"] == 2026 and e["kind"] == "reminder"]
    assert len(sent) == 10 and {e["state"] for e in sent} == {"sent"}
    tpl = client.get("/registry/templates/2026/SNNMT")
    assert tpl.status_code == 200 and "| V.8.1 |" in tpl.text and "trước ngày 18/12/2026" in tpl.text


def test_consolidated_downloads_open(client):
    d = client.get("/registry/consolidated/2026.docx")
    assert d.status_code == 200
    rows = next(t for t in docx.Document(io.BytesIO(d.content)).tables if t.rows[0].cells[0].text == "Cơ quan").rows
    assert len(rows) == 11
    x = client.get("/registry/consolidated/2026.xlsx")
    assert openpyxl.load_workbook(io.BytesIO(x.content))["Tong hop"].max_row == 13
    assert client.get("/registry/consolidated/2026.odt").status_code == 422
    pdf = client.get("/registry/consolidated/2026.pdf")  # LibreOffice headless where installed, else a clear 400
    assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-") if __import__("shutil").which("soffice") else \
        (pdf.status_code, pdf.json()["code"]) == (400, "PdfUnavailable")


def test_registry_page_filters_and_detail(client, reg):
    page = client.get("/registry/page", params={"agency": "SNNMT", "type": "remote-sensing-product"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("<tr data-task=") == 5
    assert "Sổ theo dõi nhiệm vụ" in page.text and 'lang="vi"' in page.text
    en = client.get("/registry/page", params={"lang": "en", "status": "unreported", "agency": "TD"})
    assert "Task registry" in en.text and en.text.count("<tr data-task=") == 1
    reg.set_status(__import__("registry").CLI_PRINCIPAL, V81, 2026, "in_progress", 40, "")
    done = client.get("/registry/page", params={"status": "in_progress", "year": 2026})
    assert done.text.count("<tr data-task=") == 1
    # empty form fields mean "all"
    assert client.get("/registry/page", params={"agency": "", "type": "", "status": ""}).text.count("<tr data-task=") == 70
    detail = client.get(f"/registry/page/{V81}", params={"lang": "en"})
    assert detail.status_code == 200
    assert detail.text.count('class="layer"') == 8
    assert 'href="/viewer?lang=en&amp;collection=flood-extent"' in detail.text
    assert "Department of Agriculture and Environment" in detail.text
    assert client.get("/registry/page/VUTRU-2030.X.1").status_code == 404

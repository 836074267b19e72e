"""The registry pages (HTML): the task table's filters and counts, a task's page (inferred leads said plainly, the
"[?]" gaps checked against the plan's restored text, the indicator history as an inline SVG chart), an agency's
page (duties, reporting state), the language switch and the pages' own static files."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest

from registry import CLI_PRINCIPAL
from registry.seedtext import find_gaps, restorer_notes, strip_resolved

V81 = "VUTRU-2030.V.8.1"
III3B = "VUTRU-2030.III.3.b"


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-task="([^"]+)"', html)


def test_table_filters_and_counts_match_the_json_api(client, reg):
    p = CLI_PRINCIPAL
    reg.set_status(p, V81, 2025, "in_progress", 40, "")
    reg.set_status(p, "VUTRU-2030.V.4.1", 2025, "completed", 100, "")
    every = client.get("/registry/tasks", params={"year": 2025}).json()
    for params in ({}, {"agency": "SNNMT"}, {"type": "remote-sensing-product"}, {"status": "in_progress"},
                   {"agency": "SNNMT", "type": "remote-sensing-product"}, {"status": "completed", "year": 2026}):
        q = {"year": 2025, **params}
        html = client.get("/registry/page", params=q).text
        expected = client.get("/registry/tasks", params=q).json()
        assert _rows(html) == [t["id"] for t in expected], params
        assert f'<span id="count" data-count="{len(expected)}">' in html
        assert f'<span id="total">{len(every)}</span>' in html
        counts = {k: int(v) for k, v in re.findall(r'<li data-status="([^"]+)">.*?<b>(\d+)</b></li>', html)}
        by_status: dict[str, int] = {}
        for t in expected:
            by_status[t["status"]] = by_status.get(t["status"], 0) + 1
        assert counts == by_status, params
    # the year filter: statuses are per year
    assert _rows(client.get("/registry/page", params={"status": "in_progress", "year": 2025}).text) == [V81]
    assert _rows(client.get("/registry/page", params={"status": "in_progress", "year": 2026}).text) == []
    # the selected filters stay selected; the language switch keeps them
    html = client.get("/registry/page", params={"agency": "SNNMT", "type": "remote-sensing-product", "year": 2025}).text
    assert '<option value="SNNMT" selected>' in html and '<option value="remote-sensing-product" selected>' in html
    switch = unescape(re.search(r'id="lang-switch" href="([^"]+)"', html).group(1))
    assert switch == "/registry/page?lang=en&agency=SNNMT&type=remote-sensing-product&year=2025"
    en = client.get(switch).text
    assert 'lang="en"' in en and "Task registry" in en and _rows(en) == _rows(html)
    assert client.get("/registry/page", params={"agency": "NOPE"}).status_code == 404
    assert client.get("/registry/page", params={"type": "nope"}).status_code == 400


def test_inferred_leads_are_said_plainly(client):
    tasks = client.get("/registry/tasks", params={"year": 2026}).json()
    inferred = [t["id"] for t in tasks if t["lead_agency"] and t["lead_agency"]["inferred"]]
    assert III3B in inferred and V81 not in inferred
    html = client.get("/registry/page", params={"year": 2026}).text
    marked = [tid for tid in _rows(html)
              if "badge inferred" in html.split(f'<tr data-task="{tid}"')[1].split("</tr>")[0]]
    assert marked == inferred
    page = client.get(f"/registry/page/{III3B}").text
    assert "Kế hoạch không nêu cơ quan chủ trì nhiệm vụ này. hpgeo suy luận:" in page
    assert "Sở Tài nguyên và Môi trường" in page and "(theo mục V.8.1)" in page
    en = client.get(f"/registry/page/{III3B}", params={"lang": "en"}).text
    assert "The plan names no lead agency for this task. hpgeo infers:" in en
    assert "names no lead" not in client.get(f"/registry/page/{V81}", params={"lang": "en"}).text


def test_known_gap_is_checked_against_the_restored_text(client, seed_file):
    restored = seed_file("plan-004-restored.md").read_text(encoding="utf-8")
    # the restored plan itself keeps the mark: "khôi phục" is the restorer's conjecture for the OCR's "khai phuc"
    assert "nắn ảnh để khôi phục [?], lưu trữ" in restored
    assert "khai phuc" in restorer_notes(restored) and "khai phuc" not in restored.split("\n---\n")[0]
    task = client.get(f"/registry/tasks/{III3B}").json()
    gap = next(g for g in task["gaps"] if g["field"] == "text_vi")
    assert (gap["reading"], gap["state"], gap["source"]) == ("khôi phục", "conjectural", "plan-004-restored.md")
    assert "khai phuc" in gap["ocr"] and "conjecture" in gap["note"]
    page = client.get(f"/registry/page/{III3B}").text
    assert 'khôi phục <a class="gap gap-conjectural" href="#gaps" title="«khôi phục»: cách đọc phỏng đoán của bản phục hồi văn bản">[?]</a>' in page
    items = re.findall(r'<li class="gap-item" data-state="([^"]+)" data-field="([^"]+)">', page)
    assert items == [("conjectural", "text_vi")]
    assert "<code>quet, nin anh dé khai phuc, Iuu trit</code>" in page
    en = client.get(f"/registry/page/{III3B}", params={"lang": "en"}).text
    assert re.findall(r'<li class="gap-item" data-state="([^"]+)" data-field="([^"]+)">', en) == [("conjectural", "summary_en")]
    assert "a conjectural reading of the plan&#x27;s restored text" in en


def test_programme_gaps_without_a_restored_text_are_marked_illegible(client, seed_file):
    src = seed_file("other-programmes-tasks.yaml").read_text(encoding="utf-8")
    assert "timeframe: 2013-2015 [?]" in src and "Sở Khoa học và Công nghệ [?]" in src
    t4 = client.get("/registry/tasks/HOPTAC-2020.III.4").json()
    assert [(g["field"], g["reading"], g["state"]) for g in t4["gaps"]] == [("timeframe", "2013-2015", "illegible")]
    page = client.get("/registry/page/HOPTAC-2020.III.4").text
    assert '2013-2015 <a class="gap gap-illegible"' in page
    assert "không đọc rõ trong bản gốc (bản quét OCR)" in page
    t1 = client.get("/registry/tasks/HOPTAC-2020.III.1").json()
    assert [(g["field"], g["reading"], g["state"]) for g in t1["gaps"]] == [("lead", "Sở Khoa học và Công nghệ", "illegible")]
    # no gap in a plain task
    assert client.get(f"/registry/tasks/{V81}").json()["gaps"] == []


def test_find_gaps_resolves_what_the_restored_text_reads_with_confidence(seed_file):
    restored = seed_file("plan-004-restored.md").read_text(encoding="utf-8")
    text = "Đầu tư công nghệ, thiết bị tiên tiến thực hiện quét, nắn ảnh để khôi phục [?], lưu trữ tài liệu ảnh viễn thám"
    assert [g["state"] for g in find_gaps(text, restored, source="r")] == ["conjectural"]
    # a restorer who had read the word with confidence: the gap is resolved and the mark goes
    confident = restored.replace("nắn ảnh để khôi phục [?], lưu trữ", "nắn ảnh để khôi phục, lưu trữ")
    gaps = find_gaps(text, confident, source="r")
    assert [(g["reading"], g["state"]) for g in gaps] == [("khôi phục", "resolved")]
    assert strip_resolved(text, gaps) == text.replace(" [?]", "")
    # a passage the restored text does not hold at all is illegible
    assert [g["state"] for g in find_gaps("một đoạn không có [?] trong bản phục hồi", restored, source="r")] == ["illegible"]
    assert find_gaps("không có dấu hỏi", restored, source="r") == []


def test_indicator_history_chart_holds_the_reported_values(client, reg):
    p = CLI_PRINCIPAL
    reg.submit_report(p, "SNNMT", 2025, "Báo cáo 2025.", {"space-engineers": 9}, [], dt.date(2025, 12, 10))
    reg.submit_report(p, "SNNMT", 2026, "Báo cáo 2026.", {"space-engineers": 12}, [], dt.date(2026, 12, 10))
    reg.submit_report(p, "SKHCN", 2026, "Báo cáo 2026.", {"space-engineers": 5}, [], dt.date(2026, 12, 12))
    reg.set_status(p, "VUTRU-2030.II.2.c.1", 2025, "in_progress", 20, "")
    reg.set_status(p, "VUTRU-2030.II.2.c.1", 2026, "in_progress", 35, "<script>alert(1)</script>")
    page = client.get("/registry/page/VUTRU-2030.II.2.c.1", params={"year": 2026}).text
    fig = page.split('data-indicator="VUTRU-2030.space-engineers"')[1].split("</figure>")[0]
    bars = re.findall(r'<rect class="bar" data-year="(\d+)" data-value="([^"]+)"', fig)
    assert bars == [("2025", "9"), ("2026", "17")]  # the indicator sums over agencies: 12 + 5
    assert 'class="target"' in fig and "Mục tiêu 100" in fig  # target 100–120 engineers by 2030
    prog = page.split('<figure class="chart progress">')[1].split("</figure>")[0]
    assert re.findall(r'data-year="(\d+)" data-value="([^"]+)"', prog) == [("2025", "20"), ("2026", "35")]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_agency_page_duties_and_reporting_state(client, reg):
    p = CLI_PRINCIPAL
    for aid in ("SNNMT", "SBN"):
        tasks = client.get("/registry/tasks", params={"agency": aid, "year": 2026}).json()
        agency = client.get(f"/registry/agencies/{aid}").json()
        mine = {aid, *agency["predecessors"]}
        lead = [t["id"] for t in tasks if any(l["id"] in mine for l in t["leads"])]
        coop = [t["id"] for t in tasks if t["id"] not in lead]
        assert lead and (V81 in lead if aid == "SNNMT" else coop)
        page = client.get(f"/registry/page/agency/{aid}", params={"year": 2026}).text
        lead_html = page.split('data-role="lead"')[1].split("</table>")[0]
        assert _rows(lead_html) == lead
        if coop:
            assert _rows(page.split('data-role="cooperating"')[1].split("</table>")[0]) == coop
        assert f"Chủ trì ({len(lead)})" in page and f"Phối hợp ({len(coop)})" in page
    page = client.get("/registry/page/agency/SNNMT", params={"year": 2026}).text
    assert 'id="reporting" data-state="due"' in page or 'id="reporting" data-state="overdue"' in page
    reg.submit_report(p, "SNNMT", 2026, "Đã gửi.", {}, [], dt.date(2026, 12, 10))
    page = client.get("/registry/page/agency/SNNMT", params={"year": 2026}).text
    assert 'id="reporting" data-state="submitted"' in page and "Ngày gửi: 10/12/2026" in page and "Hạn gửi: 17/12/2026" in page
    reg.submit_report(p, "SKHCN", 2026, "Gửi muộn.", {}, [], dt.date(2026, 12, 19))
    assert 'data-state="submitted-late"' in client.get("/registry/page/agency/SKHCN", params={"year": 2026}).text
    # a dissolved agency points to its successor and reports no more
    old = client.get("/registry/page/agency/STNMT", params={"year": 2026, "lang": "en"}).text
    assert "merged into" in old and 'href="/registry/page/agency/SNNMT?lang=en&amp;year=2026"' in old
    assert 'data-state="none"' in old
    assert client.get("/registry/page/agency/NOPE").status_code == 404


def test_task_page_without_catalog_items_lists_layers_and_no_map(client):
    page = client.get(f"/registry/page/{V81}").text
    assert 'id="task-map"' not in page and "leaflet.js" not in page
    assert "chưa có sản phẩm trong danh mục" in page


@pytest.mark.parametrize("name,ctype", [("registry.css", "text/css"), ("registry.js", "javascript")])
def test_static_files_are_served_by_the_app(client, name, ctype):
    r = client.get(f"/registry/static/{name}")
    assert r.status_code == 200 and ctype in r.headers["content-type"] and len(r.content) > 500
    for bad in ("../registry_page.py", "x.css", "%2e%2e%2fmaps%2fregistry_page.py"):
        assert client.get(f"/registry/static/{bad}").status_code in (404, 422)
    page = client.get("/registry/page").text
    assert "https://" not in re.sub(r'<a [^>]*href="https://[^"]*"', "", page.split("<main>")[0])  # no CDN in the head

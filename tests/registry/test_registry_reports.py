"""Consolidated annual report: DOCX, XLSX and Markdown hold every agency's status."""

from __future__ import annotations

import datetime as dt

import docx
import openpyxl
import pytest

from hpgeo.cli import main
from registry import CLI_PRINCIPAL
from registry.reports import build_consolidated, export

AGENCIES_2026 = ["SKHCN", "BCHQS", "CATP", "SGDDT", "SNGV", "SNV", "SNNMT", "STC", "UBND_XP", "TD"]


@pytest.fixture
def filled(reg):
    p = CLI_PRINCIPAL
    reg.submit_report(p, "SNNMT", 2026, "Đã xây dựng bản đồ ngập lụt từ ảnh Sentinel-1.", {"space-engineers": 12},
                      [{"name": "phu-luc.pdf", "url": "https://example.org/phu-luc.pdf"}], dt.date(2026, 12, 10))
    reg.submit_report(p, "SKHCN", 2026, "Đã tổ chức hội thảo về công nghệ vũ trụ.", {"space-engineers": 5}, [], dt.date(2026, 12, 19))
    reg.set_status(p, "VUTRU-2030.V.8.1", 2026, "in_progress", 60, "ngập lụt, đường bờ")
    reg.set_status(p, "VUTRU-2030.V.4.1", 2026, "completed", 100, "")
    return reg


def test_consolidated_contents(filled):
    c = build_consolidated(filled, 2026, today=dt.date(2026, 12, 20))
    assert [b.agency_id for b in c.agencies] == AGENCIES_2026
    states = {b.agency_id: b.report_state for b in c.agencies}
    assert states["SNNMT"] == "submitted" and states["SKHCN"] == "submitted-late" and states["CATP"] == "overdue"
    snnmt = next(b for b in c.agencies if b.agency_id == "SNNMT")
    assert [t.local_id for t in snnmt.tasks] == ["III.1.c", "III.3.a", "III.3.b", "III.5.b", "V.8.1"]
    assert snnmt.tasks[-1].status_label == "Đang triển khai" and snnmt.tasks[-1].progress == 60
    eng = next(i for i in c.indicators if i["id"] == "VUTRU-2030.space-engineers")
    assert eng["value"] == 17  # summed over agencies
    # every plan task is in exactly one block
    assert sum(len(b.tasks) for b in c.agencies) + len(c.common) == 70


def test_docx_and_xlsx_open_and_hold_every_agency(filled, tmp_path):
    c = build_consolidated(filled, 2026, today=dt.date(2026, 12, 20))
    d = docx.Document(str(export(c, "docx", tmp_path / "r.docx")))
    first = next(t for t in d.tables if t.rows[0].cells[0].text == "Cơ quan")  # after the Decree 30 header block
    rows = [[cell.text for cell in r.cells] for r in first.rows]
    assert rows[0] == ["Cơ quan", "Mã", "Tình trạng báo cáo", "Ngày gửi", "Số nhiệm vụ chủ trì"]
    assert [r[1] for r in rows[1:]] == AGENCIES_2026
    by = {r[1]: r for r in rows[1:]}
    assert by["SNNMT"][2:4] == ["Đã gửi đúng hạn", "10/12/2026"]
    assert by["SKHCN"][2] == "Gửi muộn"
    assert by["TD"][2:4] == ["Quá hạn", "—"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Đã xây dựng bản đồ ngập lụt từ ảnh Sentinel-1." in text

    wb = openpyxl.load_workbook(export(c, "xlsx", tmp_path / "r.xlsx"))
    assert wb.sheetnames == ["Tong hop", "Nhiem vu", "Chi tieu"]
    summary = list(wb["Tong hop"].iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in summary] == AGENCIES_2026
    assert {r[0]: r[3] for r in summary}["SNNMT"] == "submitted"
    assert {r[0]: r[3] for r in summary}["CATP"] == "overdue"
    tasks = list(wb["Nhiem vu"].iter_rows(min_row=2, values_only=True))
    assert len(tasks) == 70
    v81 = next(r for r in tasks if r[2] == "VUTRU-2030.V.8.1")
    assert (v81[0], v81[5], v81[6]) == ("SNNMT", "in_progress", 60)
    inds = {r[0]: r for r in wb["Chi tieu"].iter_rows(min_row=2, values_only=True)}
    assert inds["Kỹ sư trong lĩnh vực khoa học và công nghệ vũ trụ"][2:6] == (100, 120, 2030, 17)


def test_markdown_and_cli_export(filled, tmp_path, capsys):
    out = tmp_path / "r.md"
    assert main(["registry", "report", "--year", "2026", "--format", "md", "--out", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    for a in AGENCIES_2026:
        assert f"| {a} |" in md
    assert "Sở Nông nghiệp và Môi trường (kế thừa Sở Nông nghiệp và Phát triển nông thôn, Sở Tài nguyên và Môi trường)" in md
    assert main(["registry", "report", "--year", "2026", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "r.xlsx")["Tong hop"]["A4"].value == "SKHCN"
    # no temporary files are left behind
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".db" and "db-" not in p.name and p.name != ".hpgeo-writers.lock") == ["r.md", "r.xlsx"]


def test_bad_export_requests_change_nothing(filled, tmp_path, capsys):
    assert main(["registry", "report", "--year", "2026", "--format", "pdf", "--out", str(tmp_path / "r.pdf")]) == 2
    assert main(["registry", "report", "--year", "2031", "--format", "md", "--out", str(tmp_path / "r.md")]) == 2
    assert main(["registry", "report", "--year", "2026", "--out", str(tmp_path / "missing" / "r.md")]) == 2
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "r.md").exists()
    assert "outside plan VUTRU-2030 (2021–2030)" in capsys.readouterr().err

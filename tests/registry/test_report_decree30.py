"""The consolidated annual report in the form of a Vietnamese administrative document (Decree 30/2020/NĐ-CP,
Phụ lục I): the parts present and in order, A4 and the Decree's margins, Times New Roman 13–14 pt, the task notes
kept, and the product figures equal to those the statistics API serves for the same year (read from the API
in the test, not from the report code)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil

import docx
import pytest
from docx.shared import Mm
from docx.table import Table
from docx.text.paragraph import Paragraph

from registry import CLI_PRINCIPAL
from registry.report_docx import (AlertLine, DocumentHeader, FloodEvent, MangroveChange, MangroveUnit, PdfUnavailable,
                                  ProductFigures, Signature, UnitArea)
from registry.reports import build_consolidated, export

FONT = "Times New Roman"
EMU_PER_MM = 36000


def _blocks(d):
    """The body's paragraphs and tables in document order."""
    for el in d.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(el, d)
        elif tag == "tbl":
            yield Table(el, d)


def _all_runs(d):
    for p in d.paragraphs:
        yield None, p, p.runs
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    yield cell, p, p.runs


def _vn(text: str) -> float:
    """A number printed the Vietnamese way (1.234,56) → float."""
    return float(text.replace(".", "").replace(",", "."))


@pytest.fixture
def filled(reg):
    p = CLI_PRINCIPAL
    reg.submit_report(p, "SNNMT", 2025, "Đã xây dựng bản đồ ngập lụt từ ảnh Sentinel-1.\nĐã cập nhật bản đồ rừng ngập mặn.",
                      {"space-engineers": 12}, [], dt.date(2025, 12, 10))
    reg.set_status(p, "VUTRU-2030.V.8.1", 2025, "in_progress", 60, "ngập lụt, đường bờ; còn thiếu ảnh tháng 10")
    return reg


FIGURES = ProductFigures(
    2025,
    floods=(FloodEvent("flood-extent", "flood-a", dt.date(2025, 9, 15),
                       (UnitArea("tien-lang-kien-thuy", "Tiên Lãng – Kiến Thụy", 1234.5678), UnitArea("do-son", "Đồ Sơn", 7.0))),),
    mangrove=(MangroveChange("mangrove-extent", "mg-a", dt.date(2025, 9, 17),
                             (MangroveUnit("coastal-zone", "Vùng ven biển", 12.25, 3.5),)),),
    alerts=(AlertLine("hpgeo-1", dt.date(2025, 9, 15), "Exercise", "Severe", "Tiên Lãng", "Ngập lụt tại Tiên Lãng"),),
)


def test_report_has_the_decree_30_parts_in_order(filled, tmp_path):
    c = build_consolidated(filled, 2025, today=dt.date(2025, 12, 20))
    header = DocumentHeader(number="125", signature=Signature(title="Phó Giám đốc", name="Nguyễn Văn An", authority="KT. Giám đốc"))
    path = export(c, "docx", tmp_path / "r.docx", figures=FIGURES, header=header, issued_on=dt.date(2026, 2, 5))
    d = docx.Document(str(path))
    blocks = list(_blocks(d))

    # 1. the header block, first in the document: issuing body | national title and motto; number | place and date
    head = blocks[0]
    assert isinstance(head, Table)
    left, right = [cell.text.split("\n") for cell in head.rows[0].cells]
    assert left[:2] == ["ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"]
    assert right[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    number, place_date = (cell.text for cell in head.rows[1].cells)
    assert number == "Số: 125/BC-SKHCN"
    # Decree 30: days below 10 and months below 3 are written with a leading 0
    assert place_date == "Hải Phòng, ngày 05 tháng 02 năm 2026"
    issuing_run = head.rows[0].cells[0].paragraphs[1].runs[0]
    assert issuing_run.bold and head.rows[0].cells[1].paragraphs[1].runs[0].bold

    # 2. then, in order: document type, summary line, "Kính gửi:", the body, "Nơi nhận:" beside the signature block
    texts = [(i, b.text) for i, b in enumerate(blocks) if isinstance(b, Paragraph) and b.text.strip()]
    pos = {}
    for key, pat in [("type", r"^BÁO CÁO$"), ("summary", r"^Kết quả thực hiện năm 2025 Kế hoạch"), ("to", r"^Kính gửi: Ủy ban nhân dân thành phố Hải Phòng\.$"),
                     ("body", r"^Thực hiện Kế hoạch"), ("figures", r"^II\. KẾT QUẢ GIÁM SÁT BẰNG VIỄN THÁM NĂM 2025$"),
                     ("tasks", r"^IV\. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ"), ("close", r"kính báo cáo .* xem xét, chỉ đạo\./\.$")]:
        found = [i for i, t in texts if re.search(pat, t)]
        assert len(found) == 1, (key, found)
        pos[key] = found[0]
    assert list(pos) == sorted(pos, key=pos.get)
    last = blocks[-1]
    assert isinstance(last, Table) and blocks.index(last) > pos["close"]
    recv, sign = (cell.text.split("\n") for cell in last.rows[0].cells)
    assert recv[0] == "Nơi nhận:" and recv[1] == "- Như trên;" and recv[-1].startswith("- Lưu:")
    assert sign[:2] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"] and sign[-1] == "Nguyễn Văn An"

    # 3. A4 and the Decree's margins
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < EMU_PER_MM / 10 and abs(sec.page_height - Mm(297)) < EMU_PER_MM / 10
    assert 20 <= sec.top_margin / EMU_PER_MM <= 25 and 20 <= sec.bottom_margin / EMU_PER_MM <= 25
    assert 30 <= sec.left_margin / EMU_PER_MM <= 35 and 15 <= sec.right_margin / EMU_PER_MM <= 20

    # 4. Times New Roman everywhere (also the East Asian slot); 13–14 pt, "Nơi nhận" 12 pt and its list 11 pt (Decree 30)
    normal = d.styles["Normal"].font
    assert normal.name == FONT and normal.size.pt == 13
    sizes: dict[str, set[float]] = {"text": set(), "recv": set()}
    n = 0
    for cell, p, runs in _all_runs(d):
        for r in runs:
            if not r.text.strip():
                continue
            n += 1
            assert (r.font.name or p.style.font.name) == FONT, r.text
            rfonts = r._r.rPr.rFonts
            assert rfonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == FONT
            size = (r.font.size or p.style.font.size).pt
            sizes["recv" if cell is not None and cell._tc is last.rows[0].cells[0]._tc else "text"].add(size)
    assert n > 300
    assert sizes["text"] <= {13.0, 14.0} and sizes["recv"] == {12.0, 11.0}

    # 5. the figures, Vietnamese number format, and the agencies' report text and task notes kept
    flat = "\n".join(t for _, t in texts)
    tables = [b for b in blocks if isinstance(b, Table)]
    flood = next(t for t in tables if len(t.columns) == 3 and t.rows[0].cells[2].text == "Diện tích ngập (ha)")
    assert [[c.text for c in r.cells] for r in flood.rows[1:]] == [["Tiên Lãng – Kiến Thụy", "tien-lang-kien-thuy", "1.234,57"],
                                                                   ["Đồ Sơn", "do-son", "7,00"]]
    mg = next(t for t in tables if len(t.columns) == 5 and t.rows[0].cells[2].text == "Tăng (ha)")
    assert [c.text for c in mg.rows[1].cells] == ["Vùng ven biển", "coastal-zone", "12,25", "3,50", "8,75"]
    assert "Năm 2025 đã phát 1 cảnh báo (bản tin CAP loại Alert)." in flat
    assert "Đã cập nhật bản đồ rừng ngập mặn." in flat
    v81 = next(r for t in tables if t.rows[0].cells[0].text == "Nhiệm vụ" for r in t.rows if r.cells[0].text == "V.8.1")
    assert [c.text for c in v81.cells][2:] == ["Đang triển khai", "60%", "ngập lụt, đường bờ; còn thiếu ảnh tháng 10"]


def test_report_date_line_and_refusals(filled, tmp_path):
    c = build_consolidated(filled, 2025, today=dt.date(2025, 12, 20))
    d = docx.Document(str(export(c, "docx", tmp_path / "a.docx", figures=None, issued_on=dt.date(2025, 12, 18))))
    head = d.tables[0]
    assert head.rows[1].cells[0].text == "Số: …/BC-SKHCN"  # the clerk gives the number at issue
    assert head.rows[1].cells[1].text == "Hải Phòng, ngày 18 tháng 12 năm 2025"
    assert any(p.text.startswith("Không có số liệu sản phẩm viễn thám") for p in d.paragraphs)  # said, not silently empty
    with pytest.raises(Exception, match="product figures are for 2024"):
        export(c, "docx", tmp_path / "b.docx", figures=ProductFigures(2024))
    assert not (tmp_path / "b.docx").exists()


def test_pdf_through_libreoffice_or_a_clear_refusal(filled, tmp_path):
    c = build_consolidated(filled, 2025, today=dt.date(2025, 12, 20))
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        out = tmp_path / "out"
        out.mkdir()
        with pytest.raises(PdfUnavailable, match="LibreOffice"):
            export(c, "pdf", out / "r.pdf", figures=FIGURES)
        assert list(out.iterdir()) == []  # nothing half-written
        pytest.skip("LibreOffice (soffice) is not installed: PDF refused with a clear message, DOCX only")
    pdf = export(c, "pdf", tmp_path / "r.pdf", figures=FIGURES)
    assert pdf.read_bytes()[:5] == b"%PDF-"


# -- the figures equal those of the statistics API, on the simulated demo --------------------------------
@pytest.fixture(scope="module")
def demo_client(demo_settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(demo_settings)) as c:
        yield c


def _section_tables(d, title_pat: str):
    """(paragraph text, table) pairs after each paragraph matching ``title_pat``."""
    out, last = [], None
    for b in _blocks(d):
        if isinstance(b, Paragraph):
            last = b.text if re.search(title_pat, b.text) else None
        elif last is not None:
            out.append((last, b))
            last = None
    return out


def test_report_figures_equal_the_statistics_api(demo_client):
    c = demo_client
    flood_asset = c.get("/products/flood-sar").json()["outputs"][0]
    flood_asset = flood_asset.get("asset") or flood_asset.get("name")
    items = c.get("/stac/search", params={"collections": "flood-extent", "limit": 100}).json()["features"]
    assert items, "the demo has flood items"
    year = int(items[0]["properties"]["datetime"][:4])
    expected: dict[str, dict[str, float]] = {}
    for it in sorted(items, key=lambda i: i["properties"]["datetime"]):
        if it["properties"]["datetime"][:4] != str(year):
            continue
        r = c.get(f"/stats/flood-extent/{it['id']}")
        if r.status_code == 404:
            continue
        assert r.status_code == 200, r.text
        rows = [x for x in r.json()["rows"] if x.get("class_value") == 1 and x["asset"] == flood_asset]
        expected[it["id"]] = {x["unit"]: round(x["hectares"], 2) for x in rows}
    assert expected and all(expected.values()), "the demo's flood items have per-unit statistics"

    r = c.get(f"/registry/consolidated/{year}.docx", params={"number": "7", "on": f"{year}-12-18"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    d = docx.Document(io.BytesIO(r.content))
    got: dict[str, dict[str, float]] = {}
    for para, table in _section_tables(d, r"^Đợt \d+: ngày"):
        item = re.search(r"flood-extent/([^)]+)\)", para).group(1)
        got[item] = {row.cells[1].text: _vn(row.cells[2].text) for row in table.rows[1:]}
    assert got == expected

    # alerts raised that year: the CAP "Alert" messages the alerts API lists
    msgs = c.get("/alerts", params={"active": "false", "limit": 1000}).json()
    raised = sum(1 for m in msgs if m["msgType"] == "Alert" and m["sent"][:4] == str(year))
    assert any(p.text.startswith(f"Năm {year} đã phát {raised} cảnh báo") for p in d.paragraphs)

    # mangrove change: gain and loss per unit as the API gives them (when the demo's mangrove item has gain/loss)
    mg_items = c.get("/stac/search", params={"collections": "mangrove-extent", "limit": 100}).json()["features"]
    exp_mg: dict[str, dict[str, tuple[float, float]]] = {}
    for it in mg_items:
        if it["properties"]["datetime"][:4] != str(year):
            continue
        s = c.get(f"/stats/mangrove-extent/{it['id']}")
        if s.status_code != 200:
            continue
        by: dict[str, list[float]] = {}
        for x in s.json()["rows"]:
            if x["asset"] == "mangrove" and x.get("class_value") in (2, 3):
                by.setdefault(x["unit"], [0.0, 0.0])[x["class_value"] - 2] = x["hectares"]
        if by:
            exp_mg[it["id"]] = {u: (round(g, 2), round(l, 2)) for u, (g, l) in by.items()}
    got_mg = {}
    for para, table in _section_tables(d, r"\(sản phẩm mangrove-extent/"):
        item = re.search(r"mangrove-extent/([^)]+)\)", para).group(1)
        got_mg[item] = {row.cells[1].text: (_vn(row.cells[2].text), _vn(row.cells[3].text)) for row in table.rows[1:]}
    assert got_mg == exp_mg


def test_cli_writes_the_decree_30_docx_and_refuses_pdf_clearly_without_libreoffice(filled, tmp_path, capsys):
    from hpgeo.cli import main

    out = tmp_path / "out"
    out.mkdir()
    assert main(["registry", "report", "--year", "2025", "--format", "docx", "--out", str(out / "r.docx")]) == 0
    d = docx.Document(str(out / "r.docx"))
    assert d.tables[0].rows[0].cells[1].paragraphs[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    # the CLI hands the catalog's figures in: an empty catalog gives the figures section, saying there were none
    assert any(p.text == "Năm 2025 không có sản phẩm ngập lụt có thống kê." for p in d.paragraphs)
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        capsys.readouterr()
        assert main(["registry", "report", "--year", "2025", "--format", "pdf", "--out", str(out / "r.pdf")]) == 2
        r = capsys.readouterr()
        assert "LibreOffice (soffice), which is not installed" in " ".join((r.err + r.out).split())
        assert sorted(p.name for p in out.iterdir()) == ["r.docx"]

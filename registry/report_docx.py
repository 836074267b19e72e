"""The consolidated annual report as a Vietnamese administrative document (Decree 30/2020/NĐ-CP, Phụ lục I).

The form of a *báo cáo* under Decree 30: the issuing body (with its parent body above it) and the national
title and motto side by side, the number and symbol (``Số: …/BC-SKHCN``) level with the place and date
(``Hải Phòng, ngày 18 tháng 12 năm 2025``), the document type and summary line (``BÁO CÁO`` /
``Kết quả thực hiện …``), ``Kính gửi:``, the body, then ``Nơi nhận:`` beside the signature block (authority,
title, name). A4 (21 × 29.7 cm), margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman,
13–14 pt for the text (12 pt for "Nơi nhận:" and 11 pt for its list, as the Decree sets them); page
numbers from the second page, at the top, centred.

The registry does not read products or alerts (the import contract): the figures of the year's products
(flooded hectares per event and unit, mangrove change, alerts raised) come in as a :class:`ProductFigures`
built by the caller (the API or the shell) from the catalog's statistics.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from base.errors import InvalidRequest
from base.text import printable

# ``c`` below is a registry.reports.Consolidated; not imported, even for type checking: reports imports this module
__all__ = ["UnitArea", "FloodEvent", "MangroveUnit", "MangroveChange", "AlertLine", "ProductFigures", "Signature",
           "DocumentHeader", "write_decree30_docx", "date_line", "vn_number", "convert_to_pdf", "PdfUnavailable",
           "FONT", "PAGE_CM", "MARGINS_MM"]

FONT = "Times New Roman"
PAGE_CM = (21.0, 29.7)
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
BODY_PT = 13
TITLE_PT = 14


class PdfUnavailable(InvalidRequest):
    """PDF output needs LibreOffice (``soffice``), which is not installed here."""


# -- the figures the caller passes in ----------------------------------------------------------------
@dataclass(frozen=True)
class UnitArea:
    unit: str
    name: str
    hectares: float


@dataclass(frozen=True)
class FloodEvent:
    """One flood product item of the year: flooded hectares per administrative unit."""
    collection: str
    item: str
    date: dt.date
    units: tuple[UnitArea, ...]
    simulated: bool = False


@dataclass(frozen=True)
class MangroveUnit:
    unit: str
    name: str
    gain_ha: float
    loss_ha: float

    @property
    def net_ha(self) -> float:
        return self.gain_ha - self.loss_ha


@dataclass(frozen=True)
class MangroveChange:
    collection: str
    item: str
    date: dt.date
    units: tuple[MangroveUnit, ...]
    simulated: bool = False


@dataclass(frozen=True)
class AlertLine:
    identifier: str
    sent: dt.date
    status: str  # CAP status: Actual, Exercise, …
    severity: str
    unit_name: str
    headline_vi: str


@dataclass(frozen=True)
class ProductFigures:
    """The product figures of one year, gathered by the caller from the catalog statistics and alert store."""
    year: int
    floods: tuple[FloodEvent, ...] = ()
    mangrove: tuple[MangroveChange, ...] = ()
    alerts: tuple[AlertLine, ...] = ()
    source: str = "thống kê sản phẩm của danh mục hpgeo (/stats)"

    @property
    def simulated(self) -> bool:
        return any(e.simulated for e in (*self.floods, *self.mangrove))


@dataclass(frozen=True)
class Signature:
    """The signature block: authority (``KT. GIÁM ĐỐC``, ``TL. …``; empty when the head signs), title, name."""
    title: str = "GIÁM ĐỐC"
    name: str = ""
    authority: str = ""


@dataclass(frozen=True)
class DocumentHeader:
    parent_body: str = "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG"
    issuing_body: str = "Sở Khoa học và Công nghệ"  # printed in capitals in the header
    symbol: str = "BC-SKHCN"
    number: str | None = None  # given by the clerk (văn thư) when the report is issued
    place: str = "Hải Phòng"
    recipient: str = "Ủy ban nhân dân thành phố Hải Phòng"
    recipients_list: tuple[str, ...] = ("Như trên;", "Các Sở, ban, ngành thành phố (để biết);", "Lưu: VT, QLKH.")
    signature: Signature = field(default_factory=Signature)


# -- formats ------------------------------------------------------------------------------------------
def date_line(place: str, day: dt.date) -> str:
    """``Hải Phòng, ngày 05 tháng 02 năm 2026``: Decree 30 writes days below 10 and months below 3 with a 0."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {d} tháng {m} năm {day.year}"


def vn_number(v: float, decimals: int = 2) -> str:
    """A number in the Vietnamese format: ``.`` between thousands, ``,`` before the decimals (1.234,56)."""
    s = f"{v:,.{decimals}f}"
    return s.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def _vn_date(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


# -- the document ------------------------------------------------------------------------------------
def _twips(mm: float) -> Any:
    import math

    from docx.shared import Twips

    return Twips(math.ceil(mm * 1440 / 25.4))


class _Doc:
    def __init__(self) -> None:
        import docx
        from docx.shared import Mm, Pt

        self.Pt, self.Mm = Pt, Mm
        self.doc = docx.Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(PAGE_CM[0] * 10), Mm(PAGE_CM[1] * 10)
        # Word stores margins in twips: round up so that none ends below the Decree's minimum
        sec.top_margin, sec.bottom_margin = _twips(MARGINS_MM["top"]), _twips(MARGINS_MM["bottom"])
        sec.left_margin, sec.right_margin = _twips(MARGINS_MM["left"]), _twips(MARGINS_MM["right"])
        for name in ("Normal", "Heading 1", "Heading 2", "Table Grid"):
            st = self.doc.styles[name]
            self._font(st.font, BODY_PT, bold=name.startswith("Heading"))
            if name.startswith("Heading"):
                from docx.shared import RGBColor

                st.font.color.rgb = RGBColor(0, 0, 0)
                st.font.italic = False
                st.paragraph_format.space_before = Pt(6)
                st.paragraph_format.space_after = Pt(3)
        self.doc.styles["Normal"].paragraph_format.space_after = Pt(3)
        self._page_numbers(sec)

    def _font(self, font: Any, size: float, *, bold: bool | None = None, italic: bool | None = None) -> None:
        from docx.oxml.ns import qn

        font.name = FONT
        font.size = self.Pt(size)
        if bold is not None:
            font.bold = bold
        if italic is not None:
            font.italic = italic
        rpr = font.element.get_or_add_rPr() if hasattr(font, "element") else None
        if rpr is not None:  # the East Asian and complex-script slots too, so Word never falls back
            rfonts = rpr.get_or_add_rFonts()
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                rfonts.set(qn(attr), FONT)

    def _page_numbers(self, sec: Any) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        sec.different_first_page_header_footer = True  # Decree 30: no number on the first page
        p = sec.header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), "PAGE")
        r = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "2"
        r.append(t)
        fld.append(r)
        p._p.append(fld)

    def para(self, text: str = "", *, size: float = BODY_PT, bold: bool = False, italic: bool = False, align: str = "justify",
             container: Any = None, indent: bool = False, style: str | None = None) -> Any:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        target = container if container is not None else self.doc
        p = target.add_paragraph(style=style) if style else target.add_paragraph()
        p.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                       "left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        if indent:
            p.paragraph_format.first_line_indent = self.Mm(10)
        if text:
            self.run(p, text, size=size, bold=bold, italic=italic)
        return p

    def run(self, p: Any, text: str, *, size: float = BODY_PT, bold: bool = False, italic: bool = False) -> Any:
        r = p.add_run(printable(text))
        self._font(r.font, size, bold=bold, italic=italic)
        return r

    def heading(self, text: str, level: int = 1) -> Any:
        p = self.doc.add_heading("", level=level)
        self.run(p, text, bold=True)
        return p

    def table(self, header: Iterable[str], rows: Iterable[Iterable[Any]], widths_mm: Iterable[float] | None = None) -> Any:
        header = list(header)
        t = self.doc.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, header):
            self._cell(cell, text, bold=True)
        for row in rows:
            cells = t.add_row().cells
            for cell, text in zip(cells, row):
                self._cell(cell, "" if text is None else str(text))
        if widths_mm:
            for row in t.rows:
                for cell, w in zip(row.cells, widths_mm):
                    cell.width = self.Mm(w)
        return t

    def _cell(self, cell: Any, text: str, *, bold: bool = False) -> None:
        cell.text = ""
        p = cell.paragraphs[0]
        self.run(p, text, bold=bold)


def _no_borders(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    tbl_pr.append(borders)


def write_decree30_docx(c: Any, path: Path, figures: ProductFigures | None, header: DocumentHeader | None = None,
                        issued_on: dt.date | None = None) -> Path:
    """Write the consolidated report ``c`` in the Decree 30 form to ``path`` (atomically).

    ``figures``: the products of ``c.year`` (None: the report says that no product figures were supplied;
    figures of another year are refused). ``issued_on``: the date of the document (default: ``c.generated_on``).
    """
    from registry.output import atomic_write

    if figures is not None and figures.year != c.year:
        raise InvalidRequest(f"product figures are for {figures.year}, the report for {c.year}")
    h = header or DocumentHeader()
    day = issued_on or c.generated_on
    d = _Doc()
    _header_block(d, h, day)
    d.para("BÁO CÁO", size=TITLE_PT, bold=True, align="center")
    d.para(f"Kết quả thực hiện năm {c.year} {c.plan_title_vi}", size=TITLE_PT, bold=True, align="center")
    d.para("")
    kg = d.para("", align="center")
    d.run(kg, "Kính gửi: ", size=TITLE_PT)
    d.run(kg, f"{h.recipient}.", size=TITLE_PT)
    _body(d, c, figures, h)
    _closing(d, h)
    return atomic_write(Path(path), lambda p: d.doc.save(str(p)))


def _header_block(d: _Doc, h: DocumentHeader, day: dt.date) -> None:
    t = d.doc.add_table(rows=2, cols=2)
    _no_borders(t)
    widths = (70, 95)
    for row in t.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = d.Mm(w)
    left, right = t.rows[0].cells
    left.paragraphs[0].alignment = right.paragraphs[0].alignment = 1  # centred
    d.run(left.paragraphs[0], h.parent_body.upper(), size=BODY_PT)
    d.para(h.issuing_body.upper(), size=BODY_PT, bold=True, align="center", container=left)
    d.para("_______", size=BODY_PT, align="center", container=left)
    d.run(right.paragraphs[0], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=BODY_PT, bold=True)
    d.para("Độc lập - Tự do - Hạnh phúc", size=TITLE_PT, bold=True, align="center", container=right)
    d.para("_______________________", size=BODY_PT, align="center", container=right)
    num_cell, date_cell = t.rows[1].cells
    num_cell.paragraphs[0].alignment = 1
    d.run(num_cell.paragraphs[0], f"Số: {h.number or '…'}/{h.symbol}", size=BODY_PT)
    date_cell.paragraphs[0].alignment = 1
    d.run(date_cell.paragraphs[0], date_line(h.place, day), size=TITLE_PT, italic=True)


def _body(d: _Doc, c: Any, figures: ProductFigures | None, h: DocumentHeader) -> None:
    from registry.output import fmt_num

    d.para(f"Thực hiện {c.plan_title_vi}, {h.issuing_body} tổng hợp kết quả thực hiện "
           f"năm {c.year} từ báo cáo của các cơ quan, đơn vị (hạn gửi {_vn_date(c.due)}; đã nhận {c.submitted}/"
           f"{len(c.agencies)} báo cáo) và số liệu giám sát bằng viễn thám, báo cáo như sau:", indent=True)
    d.heading("I. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC CƠ QUAN", 1)
    d.table(("Cơ quan", "Mã", "Tình trạng báo cáo", "Ngày gửi", "Số nhiệm vụ chủ trì"),
            [((b.name_vi + (f" (kế thừa {', '.join(b.predecessors)})" if b.predecessors else "")), b.agency_id,
              b.report_state_label, _vn_date(dt.date.fromisoformat(b.submitted_on)) if b.submitted_on else "—", len(b.tasks))
             for b in c.agencies], (60, 20, 35, 25, 25))
    d.heading(f"II. KẾT QUẢ GIÁM SÁT BẰNG VIỄN THÁM NĂM {c.year}", 1)
    _figures(d, figures)
    d.heading("III. CHỈ TIÊU", 1)
    d.table(("Chỉ tiêu", "Mục tiêu", "Năm đạt", "Giá trị năm báo cáo", "Đơn vị"),
            [(i["name_vi"] or i["name_en"], i["target_text"], i["by_year"] or "—", fmt_num(i["value"]), i["unit"] or "")
             for i in c.indicators], (60, 30, 20, 30, 25))
    d.heading("IV. TÌNH HÌNH THỰC HIỆN NHIỆM VỤ THEO CƠ QUAN", 1)
    for n, b in enumerate(c.agencies, 1):
        d.heading(f"{n}. {b.name_vi} ({b.agency_id})", 2)
        d.para(f"Báo cáo: {b.report_state_label}" + (f", ngày {_vn_date(dt.date.fromisoformat(b.submitted_on))}" if b.submitted_on else "") + ".",
               indent=True)
        if b.report_text:
            for line in b.report_text.split("\n"):
                if line.strip():
                    d.para(line, indent=True)
        _tasks(d, b.tasks)
    d.heading("V. NHIỆM VỤ CHUNG (CÁC SỞ, BAN, NGÀNH, ĐỊA PHƯƠNG; VIỆN, TRƯỜNG)", 1)
    _tasks(d, c.common)
    d.para(f"{h.issuing_body} kính báo cáo {h.recipient} xem xét, chỉ đạo./.", indent=True)


def _tasks(d: _Doc, lines: list[Any]) -> None:
    if not lines:
        d.para("(không có nhiệm vụ chủ trì)", italic=True, indent=True)
        return
    d.table(("Nhiệm vụ", "Nội dung", "Tình trạng", "Tiến độ", "Ghi chú"),
            [(x.local_id, x.summary_vi, x.status_label, "" if x.progress is None else f"{x.progress}%", x.note) for x in lines],
            (18, 70, 25, 17, 35))


def _figures(d: _Doc, f: ProductFigures | None) -> None:
    if f is None:
        d.para("Không có số liệu sản phẩm viễn thám kèm theo báo cáo này (số liệu chưa được cung cấp khi lập báo cáo).",
               italic=True, indent=True)
        return
    d.para(f"Nguồn số liệu: {f.source}. Diện tích tính bằng héc-ta (ha), theo từng đơn vị hành chính và vùng quan tâm"
           " (các vùng có thể chồng lấn nhau, không cộng dồn).", indent=True)
    if f.simulated:
        d.para("Lưu ý: số liệu dưới đây lấy từ dữ liệu MÔ PHỎNG (SIMULATED) của bản trình diễn, không phải số liệu thực tế.",
               bold=True, indent=True)
    d.heading("1. Diện tích ngập lụt theo đợt và theo đơn vị", 2)
    if not f.floods:
        d.para(f"Năm {f.year} không có sản phẩm ngập lụt có thống kê.", indent=True)
    for n, e in enumerate(f.floods, 1):
        d.para(f"Đợt {n}: ngày {_vn_date(e.date)} (sản phẩm {e.collection}/{e.item}).", indent=True)
        d.table(("Đơn vị", "Mã", "Diện tích ngập (ha)"), [(u.name, u.unit, vn_number(u.hectares)) for u in e.units], (80, 45, 40))
    d.heading("2. Biến động rừng ngập mặn", 2)
    if not f.mangrove:
        d.para(f"Năm {f.year} không có sản phẩm biến động rừng ngập mặn có thống kê.", indent=True)
    for m in f.mangrove:
        d.para(f"Ngày {_vn_date(m.date)} (sản phẩm {m.collection}/{m.item}).", indent=True)
        d.table(("Đơn vị", "Mã", "Tăng (ha)", "Giảm (ha)", "Thay đổi thuần (ha)"),
                [(u.name, u.unit, vn_number(u.gain_ha), vn_number(u.loss_ha), vn_number(u.net_ha)) for u in m.units],
                (55, 35, 25, 25, 25))
    d.heading("3. Cảnh báo đã phát", 2)
    raised = len(f.alerts)
    d.para(f"Năm {f.year} đã phát {raised} cảnh báo (bản tin CAP loại Alert)" + ("." if raised else "; không có cảnh báo nào."),
           indent=True)
    if raised:
        d.table(("Ngày", "Mã bản tin", "Trạng thái", "Mức độ", "Đơn vị", "Nội dung"),
                [(_vn_date(a.sent), a.identifier, a.status, a.severity, a.unit_name, a.headline_vi) for a in f.alerts],
                (20, 40, 20, 20, 25, 40))


def _closing(d: _Doc, h: DocumentHeader) -> None:
    d.para("")
    t = d.doc.add_table(rows=1, cols=2)
    _no_borders(t)
    left, right = t.rows[0].cells
    left.width, right.width = d.Mm(85), d.Mm(80)
    p = left.paragraphs[0]
    d.run(p, "Nơi nhận:", size=12, bold=True, italic=True)
    for r in h.recipients_list:
        d.para(f"- {r}", size=11, align="left", container=left)
    s = h.signature
    first = right.paragraphs[0]
    first.alignment = 1
    if s.authority:
        d.run(first, s.authority.upper(), size=TITLE_PT, bold=True)
        d.para(s.title.upper(), size=TITLE_PT, bold=True, align="center", container=right)
    else:
        d.run(first, s.title.upper(), size=TITLE_PT, bold=True)
    d.para("(Ký, ghi rõ họ tên, đóng dấu)", size=BODY_PT, italic=True, align="center", container=right)
    for _ in range(3):
        d.para("", container=right)
    d.para(s.name or "…", size=TITLE_PT, bold=True, align="center", container=right)


# -- PDF ----------------------------------------------------------------------------------------------
def convert_to_pdf(docx_path: Path, pdf_path: Path, *, timeout: float = 180) -> Path:
    """Convert a DOCX to PDF with LibreOffice headless (``soffice --headless --convert-to pdf``), atomically.

    Raises :class:`PdfUnavailable` when LibreOffice is not installed (``apt-get install libreoffice-writer``).
    """
    from registry.output import atomic_write

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise PdfUnavailable("PDF output needs LibreOffice (soffice), which is not installed; "
                             "install libreoffice-writer or use the DOCX")

    def run(out: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="hpgeo-pdf-") as tmp:
            profile = Path(tmp) / "profile"
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                            "--outdir", tmp, str(docx_path)], check=True, timeout=timeout, capture_output=True)
            produced = Path(tmp) / (Path(docx_path).stem + ".pdf")
            if not produced.is_file():
                raise PdfUnavailable(f"LibreOffice did not produce a PDF from {Path(docx_path).name}")
            shutil.copyfile(produced, out)

    return atomic_write(Path(pdf_path), run)

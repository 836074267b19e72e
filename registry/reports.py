"""Reports of the registry: the template sent with the reminder, and the consolidated annual report
the coordinator sends to the City People's Committee, as Markdown, DOCX and XLSX.

:func:`build_consolidated` gathers the data once (pure data, no I/O besides the registry reads);
the writers only format it. Files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from base.text import printable
from registry.calendar import CycleRule
from registry.errors import InvalidRegistryInput
from registry.output import atomic_write as _atomic, fmt_num as _fmt_num
from registry.models import AgencyRow
from registry.rows import agency_chain
from registry.seed import SPACE_PLAN
from registry.template import shorten, template_markdown
from registry.vocab import REPORT_STATES, STATUSES, label

if TYPE_CHECKING:  # pragma: no cover
    from registry.store import Registry

__all__ = ["Consolidated", "AgencyBlock", "build_consolidated", "to_markdown", "write_docx", "write_xlsx", "export",
           "template_markdown", "FORMATS", "COMMON"]

FORMATS = ("md", "docx", "xlsx", "pdf")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: a cell starting so could become a formula
COMMON = "_common"  # block of tasks led by groups ("all departments", institutes) or by no one


@dataclass
class TaskLine:
    id: str
    local_id: str
    summary_vi: str
    status: str
    status_label: str
    progress: int | None
    note: str


@dataclass
class AgencyBlock:
    agency_id: str
    name_vi: str
    predecessors: list[str]
    report_state: str
    report_state_label: str
    submitted_on: str | None
    report_text: str
    tasks: list[TaskLine] = field(default_factory=list)


@dataclass
class Consolidated:
    plan_id: str
    plan_title_vi: str
    year: int
    generated_on: dt.date
    due: dt.date
    agencies: list[AgencyBlock]
    common: list[TaskLine]
    indicators: list[dict[str, Any]]

    @property
    def submitted(self) -> int:
        return sum(b.report_state.startswith("submitted") for b in self.agencies)


def build_consolidated(reg: "Registry", year: int, plan_id: str | None = None, today: dt.date | None = None) -> Consolidated:
    """Every reporting agency of ``year`` with its report state and the status of the tasks it leads."""

    plan_id = plan_id or SPACE_PLAN
    reg.check_year(plan_id, year)
    plan = reg.plan(plan_id)
    rule = CycleRule.from_plan(plan["reporting"])
    due = rule.report_due(year)
    today = today or dt.date.today()
    agencies = reg.reporting_agencies(year, plan_id)
    all_agencies = {a["id"]: a for a in reg.agencies()}
    reports = reg.reports(year, plan_id)
    tasks = reg.list_tasks(plan=plan_id, year=year)
    with reg.session() as s:
        rows = {a.id: a for a in s.scalars(select(AgencyRow))}

    def owner(t: dict[str, Any]) -> str:
        lead = t["lead_agency"]
        if lead is None:
            return COMMON
        for aid in agency_chain(lead["id"], rows, due):
            if aid in agencies:
                return aid
        parent = rows[lead["id"]].parent_id
        if parent and agency_chain(parent, rows, due)[-1] in agencies:
            return agency_chain(parent, rows, due)[-1]
        return COMMON

    lines: dict[str, list[TaskLine]] = {a: [] for a in [*agencies, COMMON]}
    for t in tasks:
        lines[owner(t)].append(TaskLine(t["id"], t["local_id"], shorten(t["text_vi"]), t["status"], label(STATUSES, t["status"]),
                                        t["progress"], t["status_note"] or ""))
    blocks = []
    for a in agencies:
        r = reports.get(a)
        if r is not None:
            sub = dt.date.fromisoformat(r["submitted_on"])
            state = "submitted" if sub <= due else "submitted-late"
        else:
            state = "overdue" if today > due else "due"
        blocks.append(AgencyBlock(
            agency_id=a, name_vi=all_agencies[a]["name_vi"],
            predecessors=[all_agencies[p]["name_vi"] for p in all_agencies[a]["predecessors"]],
            report_state=state, report_state_label=label(REPORT_STATES, state),
            submitted_on=r["submitted_on"] if r else None, report_text=r["text"] if r else "", tasks=lines[a],
        ))
    return Consolidated(plan_id, plan["title_vi"], year, today, due, blocks, lines[COMMON], reg.indicators(plan_id, year))


def to_markdown(c: Consolidated) -> str:
    out = [
        f"# Báo cáo tổng hợp tình hình triển khai năm {c.year}",
        "",
        f"**{c.plan_title_vi}**",
        "",
        f"Sở Khoa học và Công nghệ tổng hợp, báo cáo Ủy ban nhân dân thành phố. Hạn gửi báo cáo của các cơ quan: "
        f"{c.due:%d/%m/%Y}. Lập ngày {c.generated_on:%d/%m/%Y}. Đã nhận {c.submitted}/{len(c.agencies)} báo cáo.",
        "",
        "## 1. Tình hình gửi báo cáo",
        "",
        "| Cơ quan | Mã | Tình trạng báo cáo | Ngày gửi | Số nhiệm vụ chủ trì |",
        "|---|---|---|---|---|",
    ]
    for b in c.agencies:
        name = b.name_vi + (f" (kế thừa {', '.join(b.predecessors)})" if b.predecessors else "")
        out.append(f"| {name} | {b.agency_id} | {b.report_state_label} | {b.submitted_on or '—'} | {len(b.tasks)} |")
    out += ["", "## 2. Chỉ tiêu", "", "| Chỉ tiêu | Mục tiêu | Năm đạt | Giá trị năm báo cáo | Đơn vị |", "|---|---|---|---|---|"]
    for i in c.indicators:
        out.append(f"| {i['name_vi'] or i['name_en']} | {i['target_text']} | {i['by_year'] or '—'} | {_fmt_num(i['value'])} | {i['unit'] or ''} |")
    out += ["", "## 3. Tình hình thực hiện nhiệm vụ theo cơ quan", ""]
    for n, b in enumerate(c.agencies, 1):
        out += [f"### 3.{n}. {b.name_vi} ({b.agency_id})", "", f"Báo cáo: {b.report_state_label}"
                + (f", ngày {b.submitted_on}" if b.submitted_on else "") + ".", ""]
        if b.report_text:
            out += ["> " + b.report_text.replace("\n", "\n> "), ""]
        out += _task_table(b.tasks)
    out += ["## 4. Nhiệm vụ chung (các Sở, ban, ngành, địa phương; viện, trường)", ""] + _task_table(c.common)
    return "\n".join(out).rstrip() + "\n"


def _task_table(lines: list[TaskLine]) -> list[str]:
    if not lines:
        return ["(không có nhiệm vụ chủ trì)", ""]
    out = ["| Nhiệm vụ | Nội dung | Tình trạng | Tiến độ | Ghi chú |", "|---|---|---|---|---|"]
    for t in lines:
        out.append(f"| {t.local_id} | {t.summary_vi.replace('|', '/')} | {t.status_label} | "
                   f"{'' if t.progress is None else str(t.progress) + '%'} | {t.note.replace('|', '/')} |")
    return out + [""]


def write_markdown(c: Consolidated, path: Path) -> Path:
    return _atomic(path, lambda p: Path(p).write_text(printable(to_markdown(c)), encoding="utf-8"))


def _x(value: Any) -> Any:
    """A stored value made safe for a spreadsheet cell: text without characters XML refuses, and never a formula
    (text that starts like one gets a leading apostrophe); numbers and empty cells stay as they are."""
    if not isinstance(value, str):
        return value
    v = printable(value)
    return "'" + v if v.startswith(FORMULA_START) else v


def _row(values: Any) -> list[Any]:
    return [_x(v) for v in values]


def write_docx(c: Consolidated, path: Path, figures: Any = None, header: Any = None, issued_on: dt.date | None = None) -> Path:
    """The report as a Vietnamese administrative document (Decree 30/2020/NĐ-CP): see :mod:`registry.report_docx`.
    ``figures``: the year's :class:`registry.report_docx.ProductFigures` (None: the report says none were supplied)."""
    from registry.report_docx import write_decree30_docx

    return write_decree30_docx(c, path, figures, header, issued_on)


def write_xlsx(c: Consolidated, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Tong hop"
    ws.append(_row([f"Báo cáo tổng hợp năm {c.year}: {c.plan_title_vi}"]))
    ws.append(["Hạn gửi báo cáo", c.due.isoformat(), "Lập ngày", c.generated_on.isoformat()])
    ws.append(["Mã", "Cơ quan", "Tình trạng báo cáo", "Mã tình trạng", "Ngày gửi", "Số nhiệm vụ chủ trì"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for b in c.agencies:
        ws.append(_row([b.agency_id, b.name_vi, b.report_state_label, b.report_state, b.submitted_on or "", len(b.tasks)]))
    wt = wb.create_sheet("Nhiem vu")
    wt.append(["Cơ quan", "Nhiệm vụ", "Mã nhiệm vụ", "Nội dung", "Tình trạng", "Mã tình trạng", "Tiến độ (%)", "Ghi chú"])
    for cell in wt[1]:
        cell.font = Font(bold=True)
    for b in c.agencies:
        for x in b.tasks:
            wt.append(_row([b.agency_id, x.local_id, x.id, x.summary_vi, x.status_label, x.status, x.progress, x.note]))
    for x in c.common:
        wt.append(_row([COMMON, x.local_id, x.id, x.summary_vi, x.status_label, x.status, x.progress, x.note]))
    wi = wb.create_sheet("Chi tieu")
    wi.append(["Chỉ tiêu", "Mục tiêu", "Tối thiểu", "Tối đa", "Năm đạt", "Giá trị", "Đơn vị"])
    for cell in wi[1]:
        cell.font = Font(bold=True)
    for i in c.indicators:
        wi.append(_row([i["name_vi"] or i["name_en"], i["target_text"], i["target_min"], i["target_max"], i["by_year"], i["value"], i["unit"]]))
    for sheet, widths in ((ws, (10, 48, 20, 16, 12, 10)), (wt, (10, 10, 22, 70, 20, 14, 10, 30))):
        for col, w in zip("ABCDEFGH", widths):
            sheet.column_dimensions[col].width = w
    return _atomic(path, lambda p: wb.save(str(p)))


def export(c: Consolidated, fmt: str, path: Path, figures: Any = None, header: Any = None, issued_on: dt.date | None = None) -> Path:
    """Write ``c`` as ``fmt`` (md, docx, xlsx, pdf) to ``path``, atomically. ``figures`` and ``header`` (see
    :mod:`registry.report_docx`) shape the DOCX and the PDF made from it (LibreOffice headless)."""
    if fmt not in FORMATS:
        raise InvalidRegistryInput(f"unknown report format {fmt!r}; one of: {', '.join(FORMATS)}")
    if fmt in ("docx", "pdf"):
        if fmt == "docx":
            return write_docx(c, Path(path), figures, header, issued_on)
        from registry.report_docx import convert_to_pdf

        path = Path(path)
        docx_path = path.with_name(f".{path.stem}.{os.getpid()}.hpgeo-tmp.docx")
        try:
            write_docx(c, docx_path, figures, header, issued_on)
            return convert_to_pdf(docx_path, path)
        finally:
            docx_path.unlink(missing_ok=True)
    writer = {"md": write_markdown, "xlsx": write_xlsx}[fmt]
    return writer(c, Path(path))

"""The report template the coordinator sends with the yearly reminder (Markdown, Vietnamese)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from registry.calendar import CycleRule

__all__ = ["template_markdown", "shorten", "lead_chain", "RegistryReader"]


class RegistryReader(Protocol):
    """The reads a template needs (:class:`registry.store.Registry` has them; the store imports this module)."""

    def agency(self, agency_id: str) -> dict[str, Any]: ...
    def plan(self, plan_id: str) -> dict[str, Any]: ...
    def list_tasks(self, *, plan: str | None, agency: str | None, year: int | None) -> list[dict[str, Any]]: ...
    def indicators(self, plan_id: str, year: int | None) -> list[dict[str, Any]]: ...
    def successor_chain(self, agency_id: str) -> list[str]: ...


def shorten(text: str, n: int = 160) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def template_markdown(reg: RegistryReader, agency_id: str, year: int, plan_id: str, lang: str = "vi") -> str:
    """The report template for one agency: its tasks with empty status columns, and the plan's indicators."""
    agency = reg.agency(agency_id)
    plan = reg.plan(plan_id)
    due = CycleRule.from_plan(plan["reporting"]).report_due(year)
    tasks = reg.list_tasks(plan=plan_id, agency=agency_id, year=year)
    own = [t for t in tasks if t["lead_agency"] and agency_id in lead_chain(reg, t["lead_agency"]["id"])]
    lines = [
        f"# Mẫu báo cáo tình hình triển khai năm {year}",
        "",
        f"Kế hoạch: {plan['title_vi']}",
        f"Cơ quan báo cáo: {agency['name_vi']} ({agency_id})",
        f"Gửi Sở Khoa học và Công nghệ trước ngày {due + dt.timedelta(days=1):%d/%m/%Y}.",
        "",
        "| Nhiệm vụ | Nội dung | Tình trạng | Tiến độ (%) | Kết quả, khó khăn, kiến nghị |",
        "|---|---|---|---|---|",
    ]
    for t in own:
        lines.append(f"| {t['local_id']} | {shorten(t['text_vi'], 200)} |  |  |  |")
    lines += ["", "| Chỉ tiêu | Mục tiêu | Số liệu của cơ quan |", "|---|---|---|"]
    for i in reg.indicators(plan_id, year):
        lines.append(f"| {i['name_vi'] or i['name_en']} | {i['target_text']} {i['unit'] or ''} |  |")
    return "\n".join(lines) + "\n"


def lead_chain(reg: RegistryReader, agency_id: str) -> list[str]:
    """A lead agency and all its successors (a task given to a merged-away agency belongs to its successor)."""
    return reg.successor_chain(agency_id)

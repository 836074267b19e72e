"""Registry rows as the plain dicts the API, CLI and reports use; the agency successor chain."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import AgencyRow, AssignmentRow, IndicatorRow, IndicatorValueRow, PlanRow, ProductLinkRow, ReportRow, TaskRow, TaskStatusRow
from registry.vocab import UNREPORTED

__all__ = ["agency_chain", "by_task", "plan_dict", "agency_ref", "agency_dict", "status_dict", "report_dict", "task_summary", "indicator_dict"]


def agency_chain(agency_id: str, rows: Mapping[str, AgencyRow], on: dt.date | None) -> list[str]:
    """``agency_id`` and its successors in force on ``on`` (``None``: all of them), in order."""
    out = [agency_id]
    cur = rows.get(agency_id)
    while cur is not None and cur.successor_id and cur.successor_id not in out:
        if on is not None and cur.successor_from is not None and on < cur.successor_from:
            break
        out.append(cur.successor_id)
        cur = rows.get(cur.successor_id)
    return out


def by_task(rows: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in rows:
        out.setdefault(r.task_id, []).append(r)
    return out


def plan_dict(p: PlanRow) -> dict[str, Any]:
    return {
        "id": p.id, "kind": p.kind, "title_vi": p.title_vi, "title_en": p.title_en, "title_inferred": p.title_inferred,
        "start_year": p.start_year, "end_year": p.end_year, "decision_number": p.decision_number,
        "decision_date": p.decision_date, "issuer": p.issuer, "source_seed": p.source_seed, "coordinator": p.coordinator_id,
        "notes": p.notes, "reporting": p.reporting,
    }


def agency_ref(agency_id: str, rows: Mapping[str, AgencyRow]) -> dict[str, Any]:
    a = rows[agency_id]
    chain = agency_chain(agency_id, rows, dt.date.today())
    cur = rows[chain[-1]]
    return {"id": a.id, "name_vi": a.name_vi, "name_en": a.name_en,
            "current": None if cur.id == a.id else {"id": cur.id, "name_vi": cur.name_vi, "name_en": cur.name_en}}


def agency_dict(a: AgencyRow, rows: Mapping[str, AgencyRow]) -> dict[str, Any]:
    return {
        "id": a.id, "name_vi": a.name_vi, "name_en": a.name_en, "kind": a.kind, "parent": a.parent_id,
        "coordinator": a.coordinator, "reports_annually": a.reports_annually,
        "successor": a.successor_id, "successor_from": a.successor_from.isoformat() if a.successor_from else None,
        "predecessors": sorted(x.id for x in rows.values() if x.successor_id == a.id),
        "after_2025": a.after_2025, "successor_basis": a.successor_basis, "successor_verified": a.successor_verified,
        "note": a.note,
    }


def status_dict(r: TaskStatusRow) -> dict[str, Any]:
    return {"task": r.task_id, "year": r.year, "status": r.status, "progress": r.progress, "note": r.note,
            "updated_by": r.updated_by, "updated_at": r.updated_at.isoformat() if r.updated_at else None}


def report_dict(r: ReportRow) -> dict[str, Any]:
    return {"plan": r.plan_id, "agency": r.agency_id, "year": r.year, "text": r.text, "indicators": dict(r.indicators),
            "attachments": list(r.attachments), "submitted_on": r.submitted_on.isoformat(), "submitted_by": r.submitted_by}


def task_summary(t: TaskRow, assigns: list[AssignmentRow], rows: Mapping[str, AgencyRow], st: TaskStatusRow | None,
                  year: int, links: list[ProductLinkRow], section_title: str | None) -> dict[str, Any]:
    leads = sorted((a for a in assigns if a.role == "lead"), key=lambda a: a.position)
    coop = sorted((a for a in assigns if a.role == "cooperating"), key=lambda a: a.position)
    lead_refs = [agency_ref(a.agency_id, rows) | {"inferred": a.inferred, "via": a.via, "note": a.note} for a in leads]
    return {
        "id": t.id,
        "plan": t.plan_id,
        "local_id": t.local_id,
        "section": {"code": t.section_code, "title_vi": section_title},
        "kind": t.kind,
        "types": list(t.types),
        "text_vi": t.text_vi,
        "summary_en": t.summary_en,
        "lead_agency": lead_refs[0] if lead_refs else None,
        "leads": lead_refs,
        "cooperating_agencies": [agency_ref(a.agency_id, rows) for a in coop],
        "year": year,
        "status": st.status if st else UNREPORTED,
        "progress": st.progress if st else None,
        "status_note": st.note if st else None,
        "products": [{"collection": l.collection_id, "relation": l.relation} for l in sorted(links, key=lambda l: l.collection_id)],
        "gaps": list((t.extra or {}).get("gaps", [])),  # "[?]" readings of the source, see registry.seedtext.find_gaps
    }


def indicator_dict(s: Session, i: IndicatorRow, year: int) -> dict[str, Any]:
    """An indicator with its target and the value reached in ``year`` (sum or maximum over the agencies)."""
    # values stored before they were checked may be NaN or infinite: they count as not reported
    vals = [v for v in s.scalars(select(IndicatorValueRow).where(IndicatorValueRow.indicator_id == i.id, IndicatorValueRow.year == year))
            if v.value is not None and math.isfinite(v.value)]
    value: float | None
    if not vals:
        value = None
    elif i.aggregate == "sum":
        value = sum(v.value for v in vals)
    else:
        value = max(v.value for v in vals)
    met = None
    if value is not None and i.target_min is not None:
        met = value >= i.target_min
    return {
        "id": i.id, "plan": i.plan_id, "task": i.task_id, "name_vi": i.name_vi, "name_en": i.name_en, "unit": i.unit,
        "target_min": i.target_min, "target_max": i.target_max, "target_text": i.target_text, "by_year": i.by_year,
        "aggregate": i.aggregate, "year": year, "value": value, "target_met": met,
        "by_agency": {v.agency_id: v.value for v in vals},
    }

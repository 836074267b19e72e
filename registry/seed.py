"""The registry's seed document: where it is, reading and checking it, and writing its rows.

A seed (format ``hpgeo-registry-seed/1``, built by :mod:`registry.seedbuild`) holds plans, sections,
tasks, agencies, assignments, product links and indicators; yearly status, reports, keys and the audit
trail are never in it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping

import yaml
from sqlalchemy import delete
from sqlalchemy.orm import Session

from registry.errors import InvalidSeed
from registry.models import AgencyRow, AssignmentRow, IndicatorRow, PlanRow, ProductLinkRow, SectionRow, TaskRow

__all__ = ["SEED_FILE", "SPACE_PLAN", "read_seed", "parse_date", "write_seed_rows"]

SEED_FILE = Path(__file__).resolve().parent / "data" / "registry.yaml"
SPACE_PLAN = "VUTRU-2030"


def read_seed(path: Path | str | None = None) -> dict[str, Any]:
    """Parse and sanity-check a registry seed file (default: the project's own)."""
    p = Path(path) if path else SEED_FILE
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidSeed(f"seed file not found: {p}") from exc
    except yaml.YAMLError as exc:
        raise InvalidSeed(f"seed file {p} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != "hpgeo-registry-seed/1":
        raise InvalidSeed(f"{p} is not an hpgeo registry seed (format hpgeo-registry-seed/1)")
    for key in ("agencies", "plans"):
        if not isinstance(doc.get(key), list) or not doc[key]:
            raise InvalidSeed(f"{p}: '{key}' must be a non-empty list")
    return doc


def parse_date(v: Any) -> dt.date | None:
    """A date, an ISO date string or None → date or None."""
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))


def write_seed_rows(s: Session, doc: Mapping[str, Any], progress: Any = None) -> dict[str, int]:
    """Insert or update (merge) the rows of seed ``doc`` in session ``s``; the counts per kind of row.

    Unknown agencies (as successor, parent, lead or cooperating agency) raise :class:`InvalidSeed`.
    ``progress``: an optional rich Progress advanced per task.
    """
    counts = {"plans": 0, "agencies": 0, "tasks": 0, "assignments": 0, "product_links": 0, "indicators": 0}
    total = sum(len(p.get("tasks", [])) for p in doc["plans"])
    bar = progress.add_task("loading registry", total=total) if progress is not None else None
    agency_ids = {a["id"] for a in doc["agencies"]}
    for a in doc["agencies"]:
        for ref in ("successor", "parent"):
            if a.get(ref) and a[ref] not in agency_ids:
                raise InvalidSeed(f"agency {a['id']}: unknown {ref} {a[ref]!r}")
        s.merge(AgencyRow(
            id=a["id"], name_vi=a["name_vi"], name_en=a["name_en"], kind=a["kind"], parent_id=a.get("parent"),
            coordinator=bool(a.get("coordinator")), reports_annually=bool(a.get("reports_annually")),
            successor_id=a.get("successor"), successor_from=parse_date(a.get("successor_from")),
            after_2025=a.get("after_2025"), successor_basis=a.get("successor_basis"),
            successor_verified=a.get("successor_verified"), note=a.get("note"),
        ))
        counts["agencies"] += 1
    s.flush()
    for p in doc["plans"]:
        s.merge(PlanRow(
            id=p["id"], kind=p["kind"], title_vi=p["title_vi"], title_en=p["title_en"],
            title_inferred=bool(p.get("title_inferred")), start_year=int(p["start_year"]), end_year=int(p["end_year"]),
            decision_number=p.get("decision_number"), decision_date=p.get("decision_date"), issuer=p.get("issuer"),
            source_seed=p["source_seed"], coordinator_id=p["coordinator"], notes=p.get("notes"), reporting=p.get("reporting"),
        ))
        counts["plans"] += 1
        s.flush()
        for sec in p.get("sections", []):
            s.merge(SectionRow(plan_id=p["id"], code=sec["code"], title_vi=sec["title_vi"],
                               parent_code=sec.get("parent"), position=int(sec["position"])))
        for t in p.get("tasks", []):
            for l in t["leads"] + [{"agency": c} for c in t["cooperating"]]:
                if l["agency"] not in agency_ids:
                    raise InvalidSeed(f"task {t['id']}: unknown agency {l['agency']!r}")
            s.merge(TaskRow(
                id=t["id"], plan_id=p["id"], local_id=t["local_id"], section_code=t["section"], parent_id=t.get("parent"),
                position=int(t["position"]), kind=t["kind"], types=list(t["types"]), text_vi=t["text_vi"],
                summary_en=t["summary_en"], text_source=t.get("text_source") or "body", targets=t.get("targets") or [],
                recurrence=t.get("recurrence"), deadlines=t.get("deadlines") or [], timeframe=t.get("timeframe"),
                condition=t.get("condition"), notes=t.get("notes"),
                extra={k: t.get(k) or [] for k in ("references", "related", "tags", "gaps")},
            ))
            s.flush()
            s.execute(delete(AssignmentRow).where(AssignmentRow.task_id == t["id"]))
            s.execute(delete(ProductLinkRow).where(ProductLinkRow.task_id == t["id"]))
            for i, l in enumerate(t["leads"]):
                s.add(AssignmentRow(task_id=t["id"], agency_id=l["agency"], role="lead", position=i,
                                    inferred=bool(l.get("inferred")), via=l.get("via"), note=l.get("note")))
                counts["assignments"] += 1
            for i, c in enumerate(t["cooperating"]):
                s.add(AssignmentRow(task_id=t["id"], agency_id=c, role="cooperating", position=i))
                counts["assignments"] += 1
            for link in t.get("products", []):
                s.add(ProductLinkRow(task_id=t["id"], collection_id=link["collection"], relation=link["relation"]))
                counts["product_links"] += 1
            counts["tasks"] += 1
            if bar is not None:
                progress.advance(bar)
        for ind in p.get("indicators", []):
            s.merge(IndicatorRow(
                id=f"{p['id']}.{ind['id']}", plan_id=p["id"],
                task_id=f"{p['id']}.{ind['task']}" if ind.get("task") else None,
                name_vi=ind.get("name_vi"), name_en=ind["name_en"], unit=ind.get("unit"),
                target_min=ind.get("target_min"), target_max=ind.get("target_max"),
                target_text=str(ind.get("target_text") or ""), by_year=ind.get("by_year"), aggregate=ind.get("aggregate") or "latest",
            ))
            counts["indicators"] += 1
    return counts

"""``/registry/…``: the plan's tasks, agencies, yearly status, reports, the reporting calendar, the
consolidated annual report, the audit trail and the registry page of the viewer.

Reads are public; changes need an API key (``X-API-Key``, see :mod:`api.auth`): an editor key of an
agency changes only its own tasks and reports, the coordinator's admin key changes everything and
alone records reminders and reads the audit trail. Every change and every refused attempt is in
``GET /registry/audit``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path as PathParam, Query
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AdminDep, EditorDep, RegistryDep
from api.errors import error_responses
from api.validation import STRICT_QUERY
from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.report_figures import product_figures
from base.errors import NotFound
from ingest.catalog import SearchQuery
from maps.registry_page import render_agency_page, render_task_detail, render_task_table, static_file, task_layer
from registry import SPACE_PLAN
from registry.report_docx import DocumentHeader, Signature
from registry.reports import build_consolidated, export
from registry.vocab import STATUSES, TYPES, UNREPORTED

router = APIRouter(prefix="/registry", tags=["registry"], dependencies=STRICT_QUERY)
STRICT_BODY = ConfigDict(extra="forbid", allow_inf_nan=False)  # unknown fields and NaN/Infinity are refused (422)

TypeName = Literal[tuple(TYPES)]  # type: ignore[valid-type]
StatusName = Literal[tuple(STATUSES)]  # type: ignore[valid-type]
StatusFilter = Literal[tuple([*STATUSES, UNREPORTED])]  # type: ignore[valid-type]
Lang = Literal["vi", "en"]

PlanQ = Annotated[str, Query(description="Plan or programme id; the 2030 space plan is `VUTRU-2030`.")]
YearQ = Annotated[int | None, Query(ge=2013, le=2100, description="Year of the status shown (default: this year).")]
YearP = Annotated[int, PathParam(ge=2013, le=2100, description="Reporting year.")]
TaskP = Annotated[str, PathParam(description="Stable task id, e.g. `VUTRU-2030.V.8.1`.", max_length=96)]
AgencyP = Annotated[str, PathParam(description="Agency id, e.g. `SNNMT` (see /registry/agencies).", max_length=32)]

MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class StatusIn(BaseModel):
    model_config = STRICT_BODY

    status: StatusName = Field(description="Status of the task in that year.")  # type: ignore[valid-type]
    progress: int | None = Field(None, ge=0, le=100, description="Progress in percent (optional).")
    note: str = Field("", max_length=20000, description="Results, difficulties, proposals.")


class Attachment(BaseModel):
    model_config = STRICT_BODY

    name: str = Field(min_length=1, max_length=256, description="File name shown in the report.")
    url: str = Field(min_length=1, max_length=2048, description="Where the attachment can be fetched.")
    media_type: str | None = Field(None, max_length=128)


class ReportIn(BaseModel):
    model_config = STRICT_BODY

    text: str = Field(min_length=1, max_length=100000, description="The report text (Vietnamese).")
    indicators: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict, description="Indicator values (finite, ≥ 0), e.g. {\"space-engineers\": 14}.")
    attachments: list[Attachment] = Field(default_factory=list)
    submitted_on: dt.date | None = Field(None, description="Day the report was sent (default: today).")


class RemindersIn(BaseModel):
    model_config = STRICT_BODY

    sent_on: dt.date | None = Field(None, description="Day the reminder and template were sent (default: today).")


@router.get("/plans", summary="Plans and programmes in the registry", responses=error_responses(400))
def plans(registry: RegistryDep) -> list[dict[str, Any]]:
    return registry.plans()


@router.get("/plans/{plan_id}", summary="One plan with its sections", responses=error_responses(400, 404))
def plan(registry: RegistryDep, plan_id: Annotated[str, PathParam(description="Plan id, e.g. `VUTRU-2030`.")]) -> dict[str, Any]:
    return registry.plan(plan_id)


@router.get("/agencies", summary="Agencies, with their successors after the 2025 reorganisation", responses=error_responses(400))
def agencies(registry: RegistryDep) -> list[dict[str, Any]]:
    return registry.agencies()


@router.get("/agencies/{agency_id}", summary="One agency", responses=error_responses(400, 404, 422))
def agency(registry: RegistryDep, agency_id: AgencyP) -> dict[str, Any]:
    return registry.agency(agency_id)


@router.get("/tasks", summary="Tasks with their lead agency and status, filtered", responses=error_responses(400, 404, 422))
def tasks(
    registry: RegistryDep,
    plan: PlanQ = SPACE_PLAN,
    agency: Annotated[str | None, Query(description="Lead or cooperating agency id (also matches the agencies it succeeded).")] = None,
    type: Annotated[TypeName | None, Query(description="Task type.")] = None,  # type: ignore[valid-type]
    status: Annotated[StatusFilter | None, Query(description="Status in `year`; `unreported` = none recorded.")] = None,  # type: ignore[valid-type]
    kind: Annotated[str | None, Query(description="task, objective, oversight, reporting, coordination, funding, …")] = None,
    section: Annotated[str | None, Query(description="Section code, e.g. `III` or `V.8`.")] = None,
    year: YearQ = None,
) -> list[dict[str, Any]]:
    return registry.list_tasks(plan=plan, agency=agency, type=type, status=status, kind=kind, section=section, year=year)


@router.get("/tasks/{task_id}", summary="One task: agencies, deadlines, status by year, product links", responses=error_responses(400, 404, 422))
def task(registry: RegistryDep, task_id: TaskP, year: YearQ = None) -> dict[str, Any]:
    return registry.task(task_id, year)


@router.put("/tasks/{task_id}/status/{year}", summary="Set a task's status for a year (editor key of the lead agency, or admin)", responses=error_responses(400, 401, 403, 404, 413, 422))
def set_status(registry: RegistryDep, principal: EditorDep, task_id: TaskP, year: YearP, body: StatusIn) -> dict[str, Any]:
    return registry.set_status(principal, task_id, year, body.status, body.progress, body.note)


@router.get("/indicators", summary="Indicators with targets and the values reported for a year", responses=error_responses(400, 404, 422))
def indicators(registry: RegistryDep, plan: PlanQ = SPACE_PLAN, year: YearQ = None) -> list[dict[str, Any]]:
    return registry.indicators(plan, year)


@router.get("/reports/{year}", summary="Annual reports received for a year, by agency", responses=error_responses(400, 404, 422))
def reports(registry: RegistryDep, year: YearP, plan: PlanQ = SPACE_PLAN) -> dict[str, Any]:
    return {"year": year, "plan": plan, "agencies": registry.reporting_agencies(year, plan), "reports": registry.reports(year, plan)}


@router.get("/reports/{year}/{agency_id}", summary="One agency's annual report", responses=error_responses(400, 404, 422))
def report(registry: RegistryDep, year: YearP, agency_id: AgencyP, plan: PlanQ = SPACE_PLAN) -> dict[str, Any]:
    return registry.report(agency_id, year, plan)


@router.put("/reports/{year}/{agency_id}", summary="Submit or replace an agency's annual report (editor key of that agency, or admin)", responses=error_responses(400, 401, 403, 404, 413, 422))
def submit_report(registry: RegistryDep, principal: EditorDep, year: YearP, agency_id: AgencyP, body: ReportIn,
                  plan: PlanQ = SPACE_PLAN) -> dict[str, Any]:
    return registry.submit_report(principal, agency_id, year, body.text, body.indicators,
                                  [a.model_dump() for a in body.attachments], body.submitted_on, plan)


@router.get("/calendar", summary="Reminders sent and reports due on a day (reporting cycle of section VI)", responses=error_responses(400, 404, 422))
def calendar(
    registry: RegistryDep,
    on: Annotated[dt.date | None, Query(description="Day to look at, YYYY-MM-DD (default: today).")] = None,
    plan: PlanQ = SPACE_PLAN,
) -> dict[str, Any]:
    day = on or dt.date.today()
    return {"on": day.isoformat(), "plan": plan, "entries": [e.as_dict() for e in registry.calendar(day, plan)]}


@router.post("/reminders/{year}", summary="Record that the coordinator sent the reminder and template (admin key)", responses=error_responses(400, 401, 403, 404, 413, 422))
def send_reminders(registry: RegistryDep, principal: AdminDep, year: YearP,
                   body: Annotated[RemindersIn, Body()] = RemindersIn(), plan: PlanQ = SPACE_PLAN) -> dict[str, Any]:
    day = body.sent_on or dt.date.today()
    return {"year": year, "sent_on": day.isoformat(), "agencies": registry.record_reminders(principal, year, day, plan)}


@router.get("/templates/{year}/{agency_id}", summary="The report template of an agency (Markdown)", response_class=PlainTextResponse,
            responses={200: {"content": {MEDIA["md"]: {"schema": {"type": "string"}}}, "description": "The template."}, **error_responses(400, 404, 422)})
def template(registry: RegistryDep, year: YearP, agency_id: AgencyP, plan: PlanQ = SPACE_PLAN) -> PlainTextResponse:
    return PlainTextResponse(registry.report_template(agency_id, year, plan), media_type="text/markdown; charset=utf-8")


@router.get("/consolidated/{year}.{fmt}", summary="Consolidated annual report for the City People's Committee", response_class=Response,
            description="The DOCX (and the PDF made from it with LibreOffice headless, where installed; 400 otherwise) has the "
                        "form of a Vietnamese administrative document (Decree 30/2020/NĐ-CP, Phụ lục I) and the year's product "
                        "figures from the catalog statistics (flooded hectares per event and unit, mangrove change, alerts raised). "
                        "Example: `/registry/consolidated/2025.docx?number=125&signer=Nguyễn Văn A`.",
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "The report as Markdown, DOCX, XLSX or PDF."},
                       **error_responses(400, 404, 422)})
def consolidated(
    registry: RegistryDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    year: YearP,
    fmt: Annotated[Literal["md", "docx", "xlsx", "pdf"], PathParam(description="md, docx, xlsx or pdf.")],
    plan: PlanQ = SPACE_PLAN,
    number: Annotated[str | None, Query(max_length=16, pattern=r"^[0-9]{1,6}$", description="Document number given by the clerk (default: left blank, `…`).")] = None,
    signer: Annotated[str | None, Query(max_length=80, description="Name of the signatory.")] = None,
    signer_title: Annotated[str, Query(max_length=60, description="Title of the signatory.")] = "GIÁM ĐỐC",
    authority: Annotated[str, Query(max_length=20, description="Signing authority, e.g. `KT. GIÁM ĐỐC` (empty: the head signs).")] = "",
    on: Annotated[dt.date | None, Query(description="Date of the document (default: today).")] = None,
) -> Response:
    c = build_consolidated(registry, year, plan)
    figures = product_figures(catalog, year, settings) if fmt in ("docx", "pdf") else None
    header = DocumentHeader(number=number, signature=Signature(title=signer_title, name=signer or "", authority=authority))
    with tempfile.TemporaryDirectory(prefix="hpgeo-report-") as tmp:
        path = export(c, fmt, Path(tmp) / f"report.{fmt}", figures=figures, header=header, issued_on=on)
        data = path.read_bytes()
    name = f"bao-cao-tong-hop-{plan}-{year}.{fmt}"
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/audit", summary="Audit history: who changed what, when, and refused attempts (admin key)", responses=error_responses(400, 401, 403, 422))
def audit(
    registry: RegistryDep,
    principal: AdminDep,
    target: Annotated[str | None, Query(description="e.g. `VUTRU-2030.V.8.1/status/2026`.")] = None,
    task: Annotated[str | None, Query(description="All entries about one task.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most entries returned, newest first.")] = 200,
) -> list[dict[str, Any]]:
    entries = registry.audit(target=target, limit=limit if task is None else 10_000)
    if task is not None:
        entries = [e for e in entries if e["target"].split("/")[0] == task][:limit]
    return entries


@router.get("", include_in_schema=False)
def registry_home(lang: Lang = "vi") -> RedirectResponse:
    return RedirectResponse(f"/registry/page?lang={lang}")


@router.get("/static/{name}", include_in_schema=False)
def registry_static(name: Annotated[str, PathParam(max_length=32)]) -> FileResponse:
    try:
        return FileResponse(static_file(name))
    except KeyError:
        raise NotFound(f"no static file {name!r}") from None


@router.get("/page", response_class=HTMLResponse, summary="Registry page: task table filtered by agency, type, status and year, with counts",
            description="Example: `/registry/page?agency=SNNMT&type=remote-sensing-product&year=2026&lang=en`.",
            responses=error_responses(400, 404, 422))
def page(
    registry: RegistryDep,
    lang: Annotated[Lang, Query(description="vi (default) or en.")] = "vi",
    agency: Annotated[str | None, Query(description="Agency id.", max_length=32)] = None,
    type: Annotated[str | None, Query(description="Task type.", max_length=64)] = None,
    status: Annotated[str | None, Query(description="Status in `year`.", max_length=32)] = None,
    year: YearQ = None,
    plan: PlanQ = SPACE_PLAN,
) -> HTMLResponse:
    y = year or dt.date.today().year
    # an empty form field means "all"
    agency, type, status = agency or None, type or None, status or None
    rows = registry.list_tasks(plan=plan, agency=agency, type=type, status=status, year=y)
    total = len(registry.list_tasks(plan=plan, year=y)) if (agency or type or status) else len(rows)
    return HTMLResponse(render_task_table(rows, registry.agencies(), lang=lang, year=y, agency=agency, type=type, status=status, total=total))


@router.get("/page/agency/{agency_id}", response_class=HTMLResponse, summary="Registry page of one agency: duties and reporting state",
            description="Example: `/registry/page/agency/SNNMT?year=2026`.", responses=error_responses(400, 404, 422))
def agency_page(registry: RegistryDep, agency_id: AgencyP, lang: Annotated[Lang, Query(description="vi or en.")] = "vi",
                year: YearQ = None, plan: PlanQ = SPACE_PLAN) -> HTMLResponse:
    y = year or dt.date.today().year
    a = registry.agency(agency_id)  # 404 for an unknown agency
    tasks = registry.list_tasks(plan=plan, agency=agency_id, year=y)
    chain = set(registry.successor_chain(agency_id))
    with_pred = chain | set(a["predecessors"])
    lead = [t for t in tasks if any(l["id"] in with_pred for l in t["leads"])]
    coop = [t for t in tasks if t not in lead]
    reporting = None
    plan_info = registry.plan(plan)
    if plan_info.get("reporting") and plan_info["start_year"] <= y <= plan_info["end_year"]:
        c = build_consolidated(registry, y, plan)
        block = next((b for b in c.agencies if b.agency_id == agency_id), None)
        if block is not None:
            reporting = {"state": block.report_state, "due": f"{c.due:%d/%m/%Y}",
                         "submitted_on": dt.date.fromisoformat(block.submitted_on).strftime("%d/%m/%Y") if block.submitted_on else None}
    return HTMLResponse(render_agency_page(a, lead, coop, reporting, lang=lang, year=y))


@router.get("/page/{task_id}", response_class=HTMLResponse,
            summary="Registry page of one task: its product layers on a small map, its indicators by year, its uncertain readings",
            description="Example: `/registry/page/VUTRU-2030.V.8.1?lang=en`.", responses=error_responses(400, 404, 422))
def task_page(registry: RegistryDep, catalog: CatalogDep, base: BaseUrlDep, task_id: TaskP,
              lang: Annotated[Lang, Query(description="vi or en.")] = "vi", year: YearQ = None) -> HTMLResponse:
    t = registry.task(task_id, year)
    kinds = catalog.collection_kinds()
    layers = []
    for p in t["products"]:
        if p["relation"] != "product" or p["collection"] not in kinds:
            continue
        latest = next(iter(catalog.search(SearchQuery.build(collections=[p["collection"]], limit=1))), None)
        layer = task_layer(latest, base) if latest else None
        if layer:
            layers.append(layer)
    history = []
    if t["indicators"]:
        plan_info = registry.plan(t["plan"])
        last = min(t["year"], plan_info["end_year"])
        by_year = {y: {i["id"]: i for i in registry.indicators(t["plan"], y)} for y in range(plan_info["start_year"], last + 1)}
        for ind in t["indicators"]:
            pts = [(y, v[ind["id"]]["value"]) for y, v in by_year.items() if ind["id"] in v and v[ind["id"]]["value"] is not None]
            history.append({**ind, "points": pts})
    return HTMLResponse(render_task_detail(t, lang=lang, layers=layers, indicator_history=history))

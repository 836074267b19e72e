"""The registry: the plan's tasks, agencies, yearly status, reports, reminders, keys and the audit trail.

Every write runs in one transaction and writes its audit entry in that same transaction; a write
that is refused (wrong agency) is not applied, and the refusal is recorded in its own transaction.
The same code runs on SQLite (default, same file as the catalog) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Mapping

from sqlalchemy import delete, select

from base.db import Database, make_engine
from registry import calendar as cal
from registry.auth import ADMIN, CLI_PRINCIPAL, EDITOR, ROLES, Principal, hash_key, keys_match, new_key, normalise_role, parse_key_id
from registry.errors import (
    AgencyNotFound,
    InvalidApiKey,
    InvalidRegistryInput,
    NotAllowed,
    PlanNotFound,
    ReportNotFound,
    TaskNotFound,
)
from registry.models import (
    AgencyRow,
    ApiKeyRow,
    AssignmentRow,
    AuditRow,
    IndicatorRow,
    IndicatorValueRow,
    PlanRow,
    ProductLinkRow,
    ReminderRow,
    ReportRow,
    SectionRow,
    TaskRow,
    TaskStatusRow,
    utcnow,
)
from registry.rows import agency_chain, agency_dict, by_task, indicator_dict, plan_dict, report_dict, status_dict, task_summary
from registry.seed import SEED_FILE, SPACE_PLAN, read_seed, write_seed_rows
from registry.template import template_markdown
from registry.validate import MAX_SHORT, check_text, check_value
from registry.vocab import STATUSES, TYPES, UNREPORTED

__all__ = ["Registry", "SEED_FILE", "SPACE_PLAN", "read_seed"]

log = logging.getLogger(__name__)


class Registry(Database):
    """The task registry on a SQLAlchemy engine. Create with :meth:`open` / :meth:`from_settings`."""

    migrations_package = "registry"
    version_table = "alembic_version_registry"

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, migrate: bool = True, seed_if_empty: bool = False) -> "Registry":
        reg = cls(make_engine(url))
        if migrate:
            reg.upgrade()
        if seed_if_empty and reg.is_empty():
            log.info("registry: empty database, loading the project's seed file %s", SEED_FILE.name)
            reg.load(read_seed())
        return reg

    @classmethod
    def from_settings(cls, settings: Any, *, seed_if_empty: bool = False) -> "Registry":
        """The registry in the catalog's database (``Settings.catalog_url``)."""
        s = settings
        if s.database_url is None:
            s.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(s.catalog_url, seed_if_empty=seed_if_empty)

    def is_empty(self) -> bool:
        with self.session() as s:
            return s.scalar(select(PlanRow.id).limit(1)) is None

    # -- loading --------------------------------------------------------------------------------
    def load(self, doc: Mapping[str, Any], principal: Principal = CLI_PRINCIPAL, progress: Any = None) -> dict[str, int]:
        """Insert or update plans, agencies, tasks, assignments, links and indicators from a seed document.

        One transaction: all or nothing. Yearly status, reports, keys and the audit trail are kept.
        ``progress``: an optional rich Progress to advance per task.
        """
        with self.session() as s:
            counts = write_seed_rows(s, doc, progress)
            s.add(self._audit(principal, "registry.load", "registry", "applied", {"counts": counts}))
        return counts

    # -- reading --------------------------------------------------------------------------------
    def plans(self) -> list[dict[str, Any]]:
        with self.session() as s:
            out = []
            for p in s.scalars(select(PlanRow).order_by(PlanRow.start_year.desc(), PlanRow.id)):
                n = len(list(s.scalars(select(TaskRow.id).where(TaskRow.plan_id == p.id))))
                out.append(plan_dict(p) | {"tasks": n})
            return out

    def plan(self, plan_id: str = SPACE_PLAN) -> dict[str, Any]:
        with self.session() as s:
            p = s.get(PlanRow, plan_id)
            if p is None:
                raise PlanNotFound(f"no plan {plan_id!r}")
            secs = s.scalars(select(SectionRow).where(SectionRow.plan_id == plan_id).order_by(SectionRow.position))
            return plan_dict(p) | {"sections": [{"code": x.code, "title_vi": x.title_vi, "parent": x.parent_code} for x in secs]}

    def agencies(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = {a.id: a for a in s.scalars(select(AgencyRow).order_by(AgencyRow.id))}
            return [agency_dict(a, rows) for a in rows.values()]

    def agency(self, agency_id: str) -> dict[str, Any]:
        with self.session() as s:
            rows = {a.id: a for a in s.scalars(select(AgencyRow))}
            if agency_id not in rows:
                raise AgencyNotFound(f"no agency {agency_id!r}; see /registry/agencies")
            return agency_dict(rows[agency_id], rows)

    def successor_chain(self, agency_id: str, on: dt.date | None = None, rows: Mapping[str, AgencyRow] | None = None) -> list[str]:
        """``agency_id`` and its successors in force on ``on`` (default: all of them)."""
        if rows is None:
            with self.session() as s:
                rows = {a.id: a for a in s.scalars(select(AgencyRow))}
        return agency_chain(agency_id, rows, on)

    def reporting_agencies(self, year: int, plan_id: str = SPACE_PLAN) -> list[str]:
        """Agencies that owe the coordinator a report for ``year``: the plan's reporting agencies,
        each replaced by its successor if it was merged away before that year's deadline."""
        with self.session() as s:
            p = s.get(PlanRow, plan_id)
            if p is None or not p.reporting:
                raise PlanNotFound(f"plan {plan_id!r} has no reporting cycle")
            rows = {a.id: a for a in s.scalars(select(AgencyRow))}
            due = cal.CycleRule.from_plan(p.reporting).report_due(year)
            out: list[str] = []
            for a in p.reporting["agencies"]:
                cur = agency_chain(a, rows, due)[-1]
                if cur not in out:
                    out.append(cur)
            return out

    def list_tasks(
        self,
        *,
        plan: str | None = SPACE_PLAN,
        agency: str | None = None,
        type: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        section: str | None = None,
        year: int | None = None,
    ) -> list[dict[str, Any]]:
        """Tasks with their lead agency and status in ``year`` (default: this year), filtered.

        ``agency`` matches lead and cooperating agencies, and also the agencies it succeeded (so
        filtering by Sở Nông nghiệp và Môi trường lists the tasks given to Sở Tài nguyên và Môi trường).
        """
        year = year or dt.date.today().year
        if type is not None and type not in TYPES:
            raise InvalidRegistryInput(f"unknown task type {type!r}; one of: {', '.join(TYPES)}")
        if status is not None and status not in STATUSES and status != UNREPORTED:
            raise InvalidRegistryInput(f"unknown status {status!r}; one of: {', '.join([*STATUSES, UNREPORTED])}")
        with self.session() as s:
            rows = {a.id: a for a in s.scalars(select(AgencyRow))}
            if agency is not None and agency not in rows:
                raise AgencyNotFound(f"no agency {agency!r}; see /registry/agencies")
            if plan is not None and s.get(PlanRow, plan) is None:
                raise PlanNotFound(f"no plan {plan!r}")
            q = select(TaskRow)
            if plan is not None:
                q = q.where(TaskRow.plan_id == plan)
            if kind is not None:
                q = q.where(TaskRow.kind == kind)
            tasks = list(s.scalars(q.order_by(TaskRow.plan_id, TaskRow.position)))
            ids = [t.id for t in tasks]
            assigns = by_task(s.scalars(select(AssignmentRow).where(AssignmentRow.task_id.in_(ids))))
            statuses = {r.task_id: r for r in s.scalars(select(TaskStatusRow).where(TaskStatusRow.year == year, TaskStatusRow.task_id.in_(ids)))}
            links = by_task(s.scalars(select(ProductLinkRow).where(ProductLinkRow.task_id.in_(ids))))
            secs = {(x.plan_id, x.code): x.title_vi for x in s.scalars(select(SectionRow))}
            out = []
            for t in tasks:
                if type is not None and type not in t.types:
                    continue
                if section is not None and not (t.section_code == section or t.section_code.startswith(section + ".")):
                    continue
                a = assigns.get(t.id, [])
                if agency is not None and not any(agency in agency_chain(x.agency_id, rows, None) for x in a):
                    continue
                st = statuses.get(t.id)
                if status is not None and (st.status if st else UNREPORTED) != status:
                    continue
                out.append(task_summary(t, a, rows, st, year, links.get(t.id, []), secs.get((t.plan_id, t.section_code))))
            return out

    def task(self, task_id: str, year: int | None = None) -> dict[str, Any]:
        """One task with its assignments, status per year, product links, indicators and related tasks."""
        year = year or dt.date.today().year
        with self.session() as s:
            t = s.get(TaskRow, task_id)
            if t is None:
                raise TaskNotFound(f"no task {task_id!r}; list them with GET /registry/tasks")
            rows = {a.id: a for a in s.scalars(select(AgencyRow))}
            a = list(s.scalars(select(AssignmentRow).where(AssignmentRow.task_id == task_id).order_by(AssignmentRow.role, AssignmentRow.position)))
            history = list(s.scalars(select(TaskStatusRow).where(TaskStatusRow.task_id == task_id).order_by(TaskStatusRow.year)))
            st = next((h for h in history if h.year == year), None)
            links = list(s.scalars(select(ProductLinkRow).where(ProductLinkRow.task_id == task_id)))
            sec = s.get(SectionRow, (t.plan_id, t.section_code))
            d = task_summary(t, a, rows, st, year, links, sec.title_vi if sec else None)
            inds = list(s.scalars(select(IndicatorRow).where(IndicatorRow.task_id == task_id)))
            d.update({
                "targets": t.targets,
                "deadlines": t.deadlines,
                "recurrence": t.recurrence,
                "timeframe": t.timeframe,
                "condition": t.condition,
                "notes": t.notes,
                "text_source": t.text_source,
                "parent": t.parent_id,
                "children": list(s.scalars(select(TaskRow.id).where(TaskRow.parent_id == task_id).order_by(TaskRow.position))),
                "references": t.extra.get("references", []),
                "related": t.extra.get("related", []),
                "tags": t.extra.get("tags", []),
                "gaps": t.extra.get("gaps", []),
                "history": [status_dict(h) for h in history],
                "indicators": [indicator_dict(s, i, year) for i in inds],
            })
            return d

    def indicators(self, plan_id: str = SPACE_PLAN, year: int | None = None) -> list[dict[str, Any]]:
        """Indicators of a plan with their target and the value reached in ``year`` (aggregated over agencies)."""
        year = year or dt.date.today().year
        with self.session() as s:
            if s.get(PlanRow, plan_id) is None:
                raise PlanNotFound(f"no plan {plan_id!r}")
            rows = s.scalars(select(IndicatorRow).where(IndicatorRow.plan_id == plan_id).order_by(IndicatorRow.id))
            return [indicator_dict(s, i, year) for i in rows]

    def report(self, agency_id: str, year: int, plan_id: str = SPACE_PLAN) -> dict[str, Any]:
        with self.session() as s:
            r = s.scalar(select(ReportRow).where(ReportRow.plan_id == plan_id, ReportRow.agency_id == agency_id, ReportRow.year == year))
            if r is None:
                raise ReportNotFound(f"no {year} report from {agency_id!r} for plan {plan_id!r}")
            return report_dict(r)

    def reports(self, year: int, plan_id: str = SPACE_PLAN) -> dict[str, dict[str, Any]]:
        with self.session() as s:
            rs = s.scalars(select(ReportRow).where(ReportRow.plan_id == plan_id, ReportRow.year == year))
            return {r.agency_id: report_dict(r) for r in rs}

    def audit(self, *, target: str | None = None, agency: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Audit entries, newest first; ``target`` a task id / report key, ``agency`` the acting agency."""
        with self.session() as s:
            q = select(AuditRow)
            if target is not None:
                q = q.where(AuditRow.target == target)
            if agency is not None:
                q = q.where(AuditRow.actor_agency == agency)
            rows = s.scalars(q.order_by(AuditRow.id.desc()).limit(limit))
            return [
                {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "actor_agency": r.actor_agency, "actor_role": r.actor_role,
                 "action": r.action, "target": r.target, "outcome": r.outcome, "detail": r.detail}
                for r in rows
            ]

    # -- the reporting cycle --------------------------------------------------------------------
    def calendar(self, on: dt.date, plan_id: str = SPACE_PLAN) -> list[cal.CalendarEntry]:
        """Reminders and reports of the cycle of ``on.year`` (and what is still outstanding from the previous one)."""
        with self.session() as s:
            p = s.get(PlanRow, plan_id)
            if p is None or not p.reporting:
                raise PlanNotFound(f"plan {plan_id!r} has no reporting cycle")
            rule = cal.CycleRule.from_plan(p.reporting)
            years = (on.year - 1, on.year)
            reminders = {(r.year, r.agency_id): r.sent_on for r in s.scalars(
                select(ReminderRow).where(ReminderRow.plan_id == plan_id, ReminderRow.year.in_(years)))}
            reports = {(r.year, r.agency_id): r.submitted_on for r in s.scalars(
                select(ReportRow).where(ReportRow.plan_id == plan_id, ReportRow.year.in_(years)))}
            coordinator, first_year, last_year = p.coordinator_id, p.start_year, p.end_year
        if on.year - 1 > last_year:
            return []
        return cal.cycle_entries(on, lambda y: self.reporting_agencies(y, plan_id) if y <= last_year else [], reminders, reports,
                                 coordinator=coordinator, rule=rule, first_year=first_year)

    def report_template(self, agency_id: str, year: int, plan_id: str = SPACE_PLAN, lang: str = "vi") -> str:
        """The report template the coordinator sends with the reminder: the agency's tasks, to fill in."""
        return template_markdown(self, agency_id, year, plan_id, lang)

    def record_reminders(self, principal: Principal, year: int, sent_on: dt.date, plan_id: str = SPACE_PLAN) -> list[str]:
        """Record that the coordinator sent the reminder with the template to every reporting agency."""
        self.check_year(plan_id, year)
        agencies = self.reporting_agencies(year, plan_id)
        target = f"{plan_id}/reminders/{year}"
        if not principal.is_coordinator:
            self._deny(principal, "reminders.record", target, "only the coordinator sends the reminders")
        templates = {a: self.report_template(a, year, plan_id) for a in agencies}
        with self.session() as s:
            for a in agencies:
                s.merge(ReminderRow(plan_id=plan_id, year=year, agency_id=a, sent_on=sent_on, sent_by=principal.actor, template=templates[a]))
            s.add(self._audit(principal, "reminders.record", target, "applied", {"after": {"sent_on": sent_on.isoformat(), "agencies": agencies}}))
        return agencies

    # -- writes with permission checks ----------------------------------------------------------
    def set_status(self, principal: Principal, task_id: str, year: int, status: str, progress: int | None = None, note: str = "") -> dict[str, Any]:
        """Set the status of a task for a year. Agencies: their own tasks only; coordinator: any task."""
        if status not in STATUSES:
            raise InvalidRegistryInput(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
        if progress is not None and not 0 <= progress <= 100:
            raise InvalidRegistryInput(f"progress must be between 0 and 100 (got {progress})")
        check_text(note, "note")
        with self.session() as s:
            t = s.get(TaskRow, task_id)
            if t is None:
                raise TaskNotFound(f"no task {task_id!r}")
            plan_id = t.plan_id
        self.check_year(plan_id, year)
        target = f"{task_id}/status/{year}"
        self._check_writer(principal, "task.status", target, {"status": status, "progress": progress, "note": note})
        if not self.can_edit(principal, task_id):
            self._deny(principal, "task.status", target, f"agency {principal.agency_id} does not lead task {task_id}",
                       {"status": status, "progress": progress, "note": note})
        with self.session() as s:
            row = s.scalar(select(TaskStatusRow).where(TaskStatusRow.task_id == task_id, TaskStatusRow.year == year))
            before = status_dict(row) if row else None
            if row is None:
                row = TaskStatusRow(task_id=task_id, year=year, status=status)
                s.add(row)
            row.status, row.progress, row.note = status, progress, note
            row.updated_by, row.updated_at = principal.actor, utcnow()
            s.flush()
            after = status_dict(row)
            s.add(self._audit(principal, "task.status", target, "applied", {"before": before, "after": after}))
            return after

    def submit_report(
        self,
        principal: Principal,
        agency_id: str,
        year: int,
        text: str,
        indicators: Mapping[str, float] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        submitted_on: dt.date | None = None,
        plan_id: str = SPACE_PLAN,
    ) -> dict[str, Any]:
        """Store (or replace) an agency's annual report. Agencies: their own only; coordinator: any."""
        self.check_year(plan_id, year)
        check_text(text, "the report text", required=True)
        agencies = self.reporting_agencies(year, plan_id)
        if agency_id not in agencies:
            self.agency(agency_id)  # 404 for unknown agencies
            raise InvalidRegistryInput(f"{agency_id} does not report on plan {plan_id} for {year}; reporting agencies: {', '.join(agencies)}")
        target = f"{plan_id}/reports/{agency_id}/{year}"
        self._check_writer(principal, "report.submit", target)
        if not principal.is_coordinator and principal.agency_id != agency_id:
            self._deny(principal, "report.submit", target, f"agency {principal.agency_id} cannot submit the report of {agency_id}")
        inds = {}
        with self.session() as s:
            known = {i.id for i in s.scalars(select(IndicatorRow).where(IndicatorRow.plan_id == plan_id))}
        for k, v in (indicators or {}).items():
            full = k if k in known else f"{plan_id}.{k}"
            if full not in known:
                raise InvalidRegistryInput(f"unknown indicator {k!r}; known: {', '.join(sorted(x.split('.', 1)[1] for x in known))}")
            inds[full] = check_value(v, f"indicator {k!r}")
        atts = []
        for n, a in enumerate(attachments or []):
            if not isinstance(a, Mapping) or not a.get("name") or not (a.get("url") or a.get("path")):
                raise InvalidRegistryInput("each attachment needs a 'name' and a 'url' (or 'path')")
            media = a.get("media_type")
            atts.append({"name": check_text(a["name"], f"attachment {n} name", max_len=256),
                         "url": check_text(a.get("url") or a.get("path"), f"attachment {n} url", max_len=MAX_SHORT),
                         "media_type": None if media is None else check_text(media, f"attachment {n} media_type", max_len=128)})
        day = submitted_on or dt.date.today()
        with self.session() as s:
            row = s.scalar(select(ReportRow).where(ReportRow.plan_id == plan_id, ReportRow.agency_id == agency_id, ReportRow.year == year))
            before = report_dict(row) if row else None
            if row is None:
                row = ReportRow(plan_id=plan_id, agency_id=agency_id, year=year)
                s.add(row)
            row.text, row.indicators, row.attachments = text, inds, atts
            row.submitted_on, row.submitted_by, row.updated_at = day, principal.actor, utcnow()
            s.execute(delete(IndicatorValueRow).where(IndicatorValueRow.agency_id == agency_id, IndicatorValueRow.year == year,
                                                      IndicatorValueRow.indicator_id.in_(known)))
            for k, v in inds.items():
                s.add(IndicatorValueRow(indicator_id=k, agency_id=agency_id, year=year, value=v))
            s.flush()
            after = report_dict(row)
            s.add(self._audit(principal, "report.submit", target, "applied", {"before": before, "after": after}))
            return after

    def can_edit(self, principal: Principal, task_id: str) -> bool:
        """Coordinator: every task. Agency: tasks it leads, or that an agency it succeeded (or a unit under it) leads."""
        if principal.is_coordinator:
            return True
        if principal.agency_id is None:
            return False
        with self.session() as s:
            rows = {a.id: a for a in s.scalars(select(AgencyRow))}
            leads = list(s.scalars(select(AssignmentRow.agency_id).where(AssignmentRow.task_id == task_id, AssignmentRow.role == "lead")))
        for lead in leads:
            owners = set(agency_chain(lead, rows, None))
            parent = rows[lead].parent_id if lead in rows else None
            if parent:
                owners |= set(agency_chain(parent, rows, None))
            if principal.agency_id in owners:
                return True
        return False

    # -- keys -----------------------------------------------------------------------------------
    def create_key(self, agency_id: str, coordinator: bool = False, label: str = "", principal: Principal = CLI_PRINCIPAL,
                   role: str | None = None) -> tuple[str, str]:
        """Create a key of ``role`` (viewer, analyst, editor, admin; default editor, or admin with
        ``coordinator=True``) for ``agency_id``; returns ``(key_id, key)``. The key is not stored, only its hash.
        Admin keys belong to the plan's coordinator only; agencies that ceased to exist get no new keys."""
        role = normalise_role(role) if role is not None else (ADMIN if coordinator else EDITOR)
        if role not in ROLES:
            raise InvalidRegistryInput(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
        with self.session() as s:
            a = s.get(AgencyRow, agency_id)
            if a is None:
                raise AgencyNotFound(f"no agency {agency_id!r}; see `hpgeo registry agencies`")
            if role == ADMIN and not a.coordinator:
                raise InvalidRegistryInput(f"{agency_id} is not the plan's coordinator; admin (coordinator) keys belong to "
                                           f"{', '.join(s.scalars(select(AgencyRow.id).where(AgencyRow.coordinator)))}")
            end = _agency_end(a)
            if end is not None and dt.date.today() >= end:
                raise InvalidRegistryInput(f"{agency_id} ceased to exist on {end.isoformat()} (succeeded by {a.successor_id}); "
                                           f"create the key for {a.successor_id}")
            check_text(label, "key label", max_len=MAX_SHORT)
            key_id, key = new_key()
            s.add(ApiKeyRow(id=key_id, key_hash=hash_key(key), agency_id=agency_id, role=role, label=label))
            s.add(self._audit(principal, "key.create", f"keys/{key_id}", "applied", {"after": {"agency": agency_id, "role": role, "label": label}}))
        return key_id, key

    def revoke_key(self, key_id: str, principal: Principal = CLI_PRINCIPAL) -> None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise InvalidRegistryInput(f"no key {key_id!r}")
            row.revoked_at = utcnow()
            s.add(self._audit(principal, "key.revoke", f"keys/{key_id}", "applied", {}))

    def keys(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [
                {"id": k.id, "agency": k.agency_id, "role": normalise_role(k.role), "label": k.label, "created_at": k.created_at.isoformat(),
                 "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                for k in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            ]

    def authenticate(self, key: str | None) -> Principal:
        """The principal of a key; :class:`InvalidApiKey` (401) when missing, malformed, unknown or revoked."""
        if not key:
            raise InvalidApiKey("this change needs an API key (header X-API-Key)")
        key_id = parse_key_id(key)
        if key_id is None:
            raise InvalidApiKey("malformed API key")
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or not keys_match(key, row.key_hash):
                raise InvalidApiKey("unknown API key")
            if row.revoked_at is not None:
                raise InvalidApiKey("this API key was revoked")
            return Principal(row.id, row.agency_id, normalise_role(row.role), agency_end=_agency_end(s.get(AgencyRow, row.agency_id)))

    def key_owner(self, key: str | None) -> Principal:
        """Who a refused key claims to be, for the audit: its id and agency when the id is known, else
        ``anonymous`` (no key) or ``malformed``. Never the key itself."""
        if not key:
            return Principal("anonymous", None, "none")
        key_id = parse_key_id(key)
        if key_id is None:
            return Principal("malformed", None, "none")
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
        return Principal(key_id, row.agency_id if row else None, normalise_role(row.role) if row else "unknown")

    # -- helpers --------------------------------------------------------------------------------
    def check_year(self, plan_id: str, year: int) -> None:
        """Raise unless ``plan_id`` exists and ``year`` is within its years."""
        with self.session() as s:
            p = s.get(PlanRow, plan_id)
            if p is None:
                raise PlanNotFound(f"no plan {plan_id!r}")
            if not p.start_year <= year <= p.end_year:
                raise InvalidRegistryInput(f"year {year} is outside plan {plan_id} ({p.start_year}–{p.end_year})")

    @staticmethod
    def _audit(principal: Principal, action: str, target: str, outcome: str, detail: dict[str, Any]) -> AuditRow:
        if principal.request is not None:
            detail = {**detail, "request": {"method": principal.request[0], "route": principal.request[1]}}
        return AuditRow(at=utcnow(), actor=principal.actor, actor_agency=principal.agency_id, actor_role=principal.role,
                        action=action, target=target[:160], outcome=outcome, detail=detail)

    def _check_writer(self, principal: Principal, action: str, target: str, attempted: dict[str, Any] | None = None) -> None:
        """Deny (403, audited) a write by a key below editor, or by a key of an agency that no longer exists."""
        if not principal.allows(EDITOR):
            self._deny(principal, action, target, f"a {principal.role} key cannot change the registry (needs editor)", attempted)
        if principal.dissolved_on():
            self._deny(principal, action, target, f"agency {principal.agency_id} ceased to exist on {principal.agency_end}; "
                       "its keys can no longer change anything (use a key of its successor)", attempted)

    def _deny(self, principal: Principal, action: str, target: str, reason: str, attempted: dict[str, Any] | None = None) -> None:
        """Record a refused change (own transaction) and raise :class:`NotAllowed` (403), marked as audited."""
        with self.session() as s:
            s.add(self._audit(principal, action, target, "denied", {"reason": reason, "attempted": attempted, "status": 403}))
        exc = NotAllowed(reason)
        exc.audited = True  # type: ignore[attr-defined]
        raise exc

    def audited_since(self, actor: str, since: dt.datetime) -> bool:
        """Whether an audit entry by ``actor`` was written at or after ``since``."""
        with self.session() as s:
            return s.scalar(select(AuditRow.id).where(AuditRow.actor == actor, AuditRow.at >= since).limit(1)) is not None

    def record_request(self, principal: Principal, method: str, route: str, status: int, params: Mapping[str, str]) -> None:
        """Record a change made through an API route whose domain code keeps no audit of its own (product
        builds, alert evaluation and cancel): who (key id, agency, role), which route, the path parameters."""
        detail = {"status": status, "request": {"method": method, "route": route},
                  "params": {str(k)[:64]: str(v)[:200] for k, v in list(params.items())[:10]}}
        with self.session() as s:
            s.add(AuditRow(at=utcnow(), actor=principal.actor[:64], actor_agency=principal.agency_id, actor_role=principal.role[:16],
                           action="api.write", target=route[:160], outcome="applied", detail=detail))

    def record_refusal(self, principal: Principal, method: str, route: str, status: int, reason: str) -> None:
        """Record an attempt the API refused before it reached a registry write (401: no or bad key;
        403: a key without the right, e.g. an agency key building products), in its own transaction.
        ``principal.actor`` is a key id (or ``anonymous`` / ``malformed``), never the key itself."""
        action = "auth.refused" if status == 401 else "access.refused"
        detail = {"reason": reason[:500], "status": status, "request": {"method": method, "route": route}}
        with self.session() as s:
            s.add(AuditRow(at=utcnow(), actor=principal.actor[:64], actor_agency=principal.agency_id, actor_role=principal.role[:16],
                           action=action, target=route[:160], outcome="denied", detail=detail))


def _agency_end(a: AgencyRow | None) -> dt.date | None:
    """The day an agency ceased to exist: when its successor took over (None: it still exists)."""
    if a is None or not a.successor_id:
        return None
    return a.successor_from

"""``hpgeo registry``: the task registry of the 2030 space-technology plan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from hpgeo.cli.common import console, progress
from registry.errors import InvalidRegistryInput
from registry.vocab import REPORT_STATES, STATUSES, TYPES, UNREPORTED, label

app = typer.Typer(
    help="Registry of the plan's tasks: who does what, yearly status, the reporting cycle (reminder before "
    "15 November, reports before 18 December) and the consolidated annual report.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="API keys of the registry (only their hashes are stored).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

PLAN_OPT = typer.Option("VUTRU-2030", "--plan", help="Plan or programme id (VUTRU-2030 = the 2030 space plan).")


def _registry(seed_if_empty: bool = True):  # noqa: ANN202 - registry.Registry
    import logging

    from base.settings import get_settings
    from registry import Registry

    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations run on open; keep the output clean

    return Registry.from_settings(get_settings(), seed_if_empty=seed_if_empty)


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRegistryInput(f"not a date (YYYY-MM-DD): {value!r}") from exc


@app.command("load")
def load(
    file: Path = typer.Option(None, "--file", help="Seed file to load (default: the project's registry/data/registry.yaml)."),
) -> None:
    """Load (or update) plans, agencies, tasks, assignments, product links and indicators from the seed file.

    Runs in one transaction: all or nothing. Yearly status, reports, keys and the audit history are kept.
    """
    from registry import read_seed

    doc = read_seed(file)
    reg = _registry(seed_if_empty=False)
    with progress() as bar:
        counts = reg.load(doc, progress=bar)
    console.print("loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@app.command("list")
def list_tasks(
    agency: str = typer.Option(None, "--agency", "-a", help="Agency id (lead or cooperating; also matches the agencies it succeeded)."),
    type: str = typer.Option(None, "--type", "-t", help=f"Task type: {', '.join(TYPES)}."),
    status: str = typer.Option(None, "--status", "-s", help=f"Status in --year: {', '.join([*STATUSES, UNREPORTED])}."),
    kind: str = typer.Option(None, "--kind", help="task, objective, oversight, reporting, coordination, funding, …"),
    section: str = typer.Option(None, "--section", help="Section code, e.g. III or V.8."),
    year: int = typer.Option(None, "--year", help="Year of the status shown (default: this year)."),
    plan: str = PLAN_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the tasks with their lead agency and status."""
    rows = _registry().list_tasks(plan=plan, agency=agency, type=type, status=status, kind=kind, section=section, year=year)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table(title=f"{len(rows)} task(s)")
    for col in ("id", "lead agency", "type", "status", "text"):
        t.add_column(col, overflow="fold")
    for r in rows:
        lead = r["lead_agency"]
        t.add_row(r["local_id"], (lead["id"] + ("*" if lead["inferred"] else "")) if lead else "—", ", ".join(r["types"]),
                  label(STATUSES, r["status"]), r["text_vi"][:90])
    console.print(t)
    console.print("* lead inferred (the plan names none)", style="dim")


@app.command("show")
def show(
    task_id: str = typer.Argument(..., help="Task id, e.g. VUTRU-2030.V.8.1 (or V.8.1 for the space plan)."),
    year: int = typer.Option(None, "--year", help="Year of the status shown (default: this year)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one task: text, agencies, deadlines, status by year and linked product collections."""
    reg = _registry()
    tid = task_id if "-" in task_id.split(".")[0] else f"VUTRU-2030.{task_id}"
    d = reg.task(tid, year)
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=1))
        return
    lead = "; ".join(f"{a['name_vi']} ({a['id']}{', suy luận' if a['inferred'] else ''})" for a in d["leads"]) or "—"
    console.print(f"[bold]{d['id']}[/] [{d['kind']}] {d['section']['code']} {d['section']['title_vi'] or ''}")
    console.print(d["text_vi"])
    console.print(f"[dim]{d['summary_en']}[/]")
    console.print(f"chủ trì: {lead}")
    if d["cooperating_agencies"]:
        console.print("phối hợp: " + "; ".join(a["name_vi"] for a in d["cooperating_agencies"]))
    console.print(f"tình trạng {d['year']}: {label(STATUSES, d['status'])}")
    for h in d["history"]:
        console.print(f"  {h['year']}: {label(STATUSES, h['status'])} {'' if h['progress'] is None else str(h['progress']) + '%'} {h['note']}")
    for p in d["products"]:
        console.print(f"{p['relation']}: {p['collection']}  /viewer?collection={p['collection']}")


@app.command("calendar")
def calendar(
    on: str = typer.Option(None, "--on", help="Day to look at, YYYY-MM-DD (default: today)."),
    plan: str = PLAN_OPT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Reminders sent and reports due on a day, per section VI of the plan.

    The coordinator sends the reminder with the template before 15 November; agencies report before
    18 December; reports still missing from last year's cycle are listed as overdue.
    """
    day = _parse_day(on)
    entries = _registry().calendar(day, plan)
    if as_json:
        typer.echo(json.dumps({"on": day.isoformat(), "entries": [e.as_dict() for e in entries]}, ensure_ascii=False, indent=1))
        return
    t = Table(title=f"reporting calendar on {day.isoformat()}")
    for col in ("year", "duty", "agency", "due", "state", "done on", "days left"):
        t.add_column(col)
    t.caption = "reminder: coordinator → agency (with template) · report: agency → coordinator · consolidation: → City PC"
    names = {"reminder": "reminder", "report": "report", "consolidation": "consolidation"}
    for e in entries:
        t.add_row(str(e.year), names[e.kind], e.agency_id, e.due.isoformat() if e.due else "—", label(REPORT_STATES, e.state, "en"),
                  e.done_on.isoformat() if e.done_on else "", "" if e.days_left is None else str(e.days_left))
    console.print(t)


@app.command("remind")
def remind(
    year: int = typer.Option(..., "--year", help="Reporting year."),
    sent_on: str = typer.Option(None, "--sent-on", help="Day the reminder went out, YYYY-MM-DD (default: today)."),
    plan: str = PLAN_OPT,
) -> None:
    """Record that the coordinator sent the reminder and the report template to every reporting agency."""
    from registry import CLI_PRINCIPAL

    agencies = _registry().record_reminders(CLI_PRINCIPAL, year, _parse_day(sent_on), plan)
    console.print(f"reminder recorded for {len(agencies)} agencies: {', '.join(agencies)}")


@app.command("report")
def report(
    year: int = typer.Option(..., "--year", help="Reporting year."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, docx, xlsx or pdf (pdf: LibreOffice headless, soffice)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: ./bao-cao-tong-hop-<plan>-<year>.<format>)."),
    plan: str = PLAN_OPT,
) -> None:
    """Write the consolidated annual report for the City People's Committee (every agency's status).

    The file is written atomically: a reader never sees a half-written report.
    """
    from registry.reports import FORMATS, build_consolidated, export

    if fmt not in FORMATS:
        raise InvalidRegistryInput(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
    c = build_consolidated(_registry(), year, plan)
    figures = None
    if fmt in ("docx", "pdf"):  # the Decree 30 document carries the year's product figures from the catalog
        from api.report_figures import product_figures
        from base.settings import get_settings
        from hpgeo.cli.common import open_catalog

        catalog = open_catalog()
        try:
            figures = product_figures(catalog, year, get_settings())
        finally:
            catalog.close()
    path = export(c, fmt, out or Path(f"bao-cao-tong-hop-{plan}-{year}.{fmt}"), figures=figures)
    console.print(f"wrote {path} ({c.submitted}/{len(c.agencies)} agency reports received)")


@app.command("agencies")
def agencies(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List agencies and their successors after the 2025 reorganisation."""
    rows = _registry().agencies()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table(title=f"{len(rows)} agencies")
    for col in ("id", "name", "kind", "successor", "from"):
        t.add_column(col)
    for a in rows:
        t.add_row(a["id"], a["name_vi"], a["kind"], a["successor"] or "", a["successor_from"] or "")
    console.print(t)


@keys_app.command("create")
def keys_create(
    agency: str = typer.Option(..., "--agency", help="Agency id the key belongs to (see `hpgeo registry agencies`)."),
    role: str = typer.Option("editor", "--role", help="viewer, analyst (exports), editor (its agency's tasks and reports, product builds) "
                             "or admin (the plan's coordinator agency only: everything, rules, subscriptions, keys, audit)."),
    coordinator: bool = typer.Option(False, "--coordinator", help="Same as --role admin (kept for older scripts)."),
    label_: str = typer.Option("", "--label", help="Free text to recognise the key later."),
) -> None:
    """Create an API key and print it ONCE (only its hash is stored)."""
    role = "admin" if coordinator else role
    key_id, key = _registry().create_key(agency, role=role, label=label_)
    console.print(f"key id {key_id} ({role} key of {agency}); store it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, agencies, roles; never the keys)."""
    t = Table(title="API keys")
    for col in ("id", "agency", "role", "label", "created", "revoked"):
        t.add_column(col)
    for k in _registry().keys():
        t.add_row(k["id"], k["agency"], k["role"], k["label"], k["created_at"][:19], (k["revoked_at"] or "")[:19])
    console.print(t)


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="Key id (the part after hpg_).")) -> None:
    """Revoke a key: it stops working at once."""
    _registry().revoke_key(key_id)
    console.print(f"revoked {key_id}")

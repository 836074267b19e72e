"""The reporting cycle of section VI: reminder before 15 November, reports before 18 December."""

from __future__ import annotations

import datetime as dt
import json

from hpgeo.cli import main
from registry.calendar import CycleRule, cycle_entries

D = dt.date


def _entries(on, reports=None, reminders=None, agencies=("A", "B")):
    return cycle_entries(on, lambda y: list(agencies), reminders or {}, reports or {}, coordinator="C")


def _find(entries, year, kind, agency):
    return [e for e in entries if (e.year, e.kind, e.agency_id) == (year, kind, agency)]


def test_deadlines_are_the_last_days_before_15_november_and_18_december():
    assert CycleRule().reminder_due(2026) == D(2026, 11, 14)
    assert CycleRule().report_due(2026) == D(2026, 12, 17)


def test_on_the_last_day_the_report_is_due_and_the_day_after_18_december_overdue():
    rep = {(2026, "A"): D(2026, 12, 15)}
    on17 = _entries(D(2026, 12, 17), rep)
    assert _find(on17, 2026, "report", "B")[0].state == "due"
    assert _find(on17, 2026, "report", "B")[0].days_left == 0
    after = _entries(D(2026, 12, 20), rep)
    b = _find(after, 2026, "report", "B")[0]
    assert (b.state, b.days_left, b.due) == ("overdue", -3, D(2026, 12, 17))
    a = _find(after, 2026, "report", "A")[0]
    assert (a.state, a.done_on) == ("submitted", D(2026, 12, 15))
    assert _find(after, 2026, "consolidation", "C")[0].state == "open"
    late = _entries(D(2026, 12, 20), {(2026, "B"): D(2026, 12, 19)})
    assert _find(late, 2026, "report", "B")[0].state == "submitted-late"


def test_year_boundary_keeps_last_years_missing_reports():
    rep = {(2026, "A"): D(2026, 12, 15)}
    dec31 = _entries(D(2026, 12, 31), rep)
    jan1 = _entries(D(2027, 1, 1), rep)
    # 31 December: the 2026 cycle in full
    assert {(e.kind, e.agency_id, e.state) for e in dec31 if e.year == 2026} == {
        ("reminder", "A", "overdue"), ("reminder", "B", "overdue"), ("report", "A", "submitted"),
        ("report", "B", "overdue"), ("consolidation", "C", "open")}
    # 1 January: only B's missing 2026 report is carried over; the 2027 cycle is upcoming
    old = [e for e in jan1 if e.year == 2026]
    assert [(e.kind, e.agency_id, e.state, e.days_left) for e in old] == [("report", "B", "overdue", -15)]
    new = [e for e in jan1 if e.year == 2027]
    assert {(e.kind, e.agency_id, e.state, e.due) for e in new} == {
        ("reminder", "A", "upcoming", D(2027, 11, 14)), ("reminder", "B", "upcoming", D(2027, 11, 14)),
        ("report", "A", "upcoming", D(2027, 12, 17)), ("report", "B", "upcoming", D(2027, 12, 17))}
    assert _find(jan1, 2027, "reminder", "A")[0].days_left == 317


def test_reminder_states():
    on = D(2026, 11, 16)
    e = _entries(on, reminders={(2026, "A"): D(2026, 11, 10), (2026, "B"): D(2026, 11, 15)})
    assert _find(e, 2026, "reminder", "A")[0].state == "sent"
    assert _find(e, 2026, "reminder", "B")[0].state == "sent-late"
    assert _find(e, 2026, "report", "A")[0].state == "due"
    oct = _entries(D(2026, 10, 5))
    assert _find(oct, 2026, "reminder", "A")[0].state == "due"  # window opens 1 October
    assert _find(oct, 2026, "report", "A")[0].state == "upcoming"


def test_cli_calendar_on_16_november_2026(reg, capsys):
    assert main(["registry", "remind", "--year", "2026", "--sent-on", "2026-11-10"]) == 0
    capsys.readouterr()
    assert main(["registry", "calendar", "--on", "2026-11-16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    agencies = ["BCHQS", "CATP", "SGDDT", "SKHCN", "SNGV", "SNNMT", "SNV", "STC", "TD", "UBND_XP"]
    reminders = [e for e in out["entries"] if e["year"] == 2026 and e["kind"] == "reminder"]
    assert [e["agency_id"] for e in reminders] == agencies
    assert {(e["state"], e["done_on"], e["due"]) for e in reminders} == {("sent", "2026-11-10", "2026-11-14")}
    reports = [e for e in out["entries"] if e["year"] == 2026 and e["kind"] == "report"]
    assert [e["agency_id"] for e in reports] == agencies
    assert {(e["state"], e["due"], e["days_left"]) for e in reports} == {("due", "2026-12-17", 31)}
    # nothing was received for 2025 in this fresh registry: the ten 2025 reports are overdue
    old = [e for e in out["entries"] if e["year"] == 2025]
    assert len(old) == 10 and {e["state"] for e in old} == {"overdue"}
    # the table form prints too
    assert main(["registry", "calendar", "--on", "2026-11-16"]) == 0
    table = capsys.readouterr().out
    assert table.count("2026-11-14") == 10 and table.count("2026-12-17") == 10


def test_calendar_before_the_reorganisation_uses_the_old_agencies(reg):
    entries = reg.calendar(D(2025, 1, 5))
    old = sorted(e.agency_id for e in entries if e.year == 2024)
    assert old == sorted(["SKHCN", "BCHQS", "CATP", "SGDDT", "STTTT", "SNGV", "SNV", "STNMT", "SKHDT", "STC", "UBND_QH", "TD"])


def test_cli_calendar_bad_date_exits_2(reg, capsys):
    assert main(["registry", "calendar", "--on", "2026-13-40"]) == 2
    assert "not a date" in capsys.readouterr().err

"""The yearly reporting cycle of section VI of the space plan, as pure functions.

Section VI.2: agencies send their report to the Department of Science and Technology (the
coordinator) "trước ngày 18 tháng 12 hàng năm" and the coordinator sends the reminder with the
report template "trước ngày 15 tháng 11 hàng năm"; the coordinator then consolidates and reports to
the City People's Committee. "Before the 18th" is read as "the 17th at the latest" (see the seed file).

:func:`cycle_entries` turns the recorded reminders and reports into dated entries for a given day:
the cycle of that year, plus whatever is still outstanding from the previous year's cycle (so an
unsent report does not vanish on 1 January).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping

__all__ = ["CycleRule", "CalendarEntry", "DEFAULT_RULE", "cycle_entries"]


@dataclass(frozen=True)
class CycleRule:
    """Last days (inclusive) of the reminder and the report in each year."""

    reminder_month: int = 11
    reminder_last_day: int = 14
    report_month: int = 12
    report_last_day: int = 17

    def reminder_due(self, year: int) -> dt.date:
        return dt.date(year, self.reminder_month, self.reminder_last_day)

    def report_due(self, year: int) -> dt.date:
        return dt.date(year, self.report_month, self.report_last_day)

    @classmethod
    def from_plan(cls, reporting: Mapping[str, Any] | None) -> "CycleRule":
        if not reporting:
            return DEFAULT_RULE
        return cls(
            reminder_month=int(reporting["reminder"]["month"]),
            reminder_last_day=int(reporting["reminder"]["last_day"]),
            report_month=int(reporting["report"]["month"]),
            report_last_day=int(reporting["report"]["last_day"]),
        )


DEFAULT_RULE = CycleRule()


@dataclass(frozen=True)
class CalendarEntry:
    """One duty of one cycle.

    ``kind``: ``reminder`` (coordinator → agency), ``report`` (agency → coordinator) or
    ``consolidation`` (coordinator → City People's Committee, no date set by the plan).
    ``state``: ``sent``/``sent-late`` (reminder done), ``submitted``/``submitted-late`` (report done),
    ``due`` (window open), ``upcoming``, ``overdue``, ``open`` (consolidation under way).
    ``days_left``: days from the day asked about to ``due`` (negative once overdue; None when done or undated).
    """

    year: int
    kind: str
    agency_id: str
    due: dt.date | None
    state: str
    done_on: dt.date | None = None
    days_left: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["due"] = self.due.isoformat() if self.due else None
        d["done_on"] = self.done_on.isoformat() if self.done_on else None
        return d


def _entry(year: int, kind: str, agency: str, due: dt.date, done: dt.date | None, on: dt.date, window_opens: dt.date) -> CalendarEntry:
    if done is not None and done <= on:
        state = ("sent" if kind == "reminder" else "submitted") + ("" if done <= due else "-late")
        return CalendarEntry(year, kind, agency, due, state, done, None)
    if on > due:
        return CalendarEntry(year, kind, agency, due, "overdue", None, (due - on).days)
    state = "due" if on >= window_opens else "upcoming"
    return CalendarEntry(year, kind, agency, due, state, None, (due - on).days)


def cycle_entries(
    on: dt.date,
    agencies_for_year: Callable[[int], list[str]],
    reminders: Mapping[tuple[int, str], dt.date],
    reports: Mapping[tuple[int, str], dt.date],
    coordinator: str = "SKHCN",
    rule: CycleRule = DEFAULT_RULE,
    first_year: int | None = None,
) -> list[CalendarEntry]:
    """Entries of the cycle of ``on.year`` and the outstanding ones of the previous cycle.

    ``reminders`` and ``reports`` map ``(year, agency_id)`` to the day the reminder was sent / the
    report submitted. The reminder window opens on 1 October; the report window opens when the
    reminder was sent or its deadline passed, whichever is first. Years before ``first_year`` (the
    plan's first reporting year) are not listed.
    """
    out: list[CalendarEntry] = []
    for year in (on.year - 1, on.year):
        if first_year is not None and year < first_year:
            continue
        rem_due, rep_due = rule.reminder_due(year), rule.report_due(year)
        entries: list[CalendarEntry] = []
        for agency in agencies_for_year(year):
            sent = reminders.get((year, agency))
            entries.append(_entry(year, "reminder", agency, rem_due, sent, on, dt.date(year, 10, 1)))
            opens = min(sent, rem_due + dt.timedelta(days=1)) if sent else rem_due + dt.timedelta(days=1)
            entries.append(_entry(year, "report", agency, rep_due, reports.get((year, agency)), on, opens))
        if on > rep_due:
            entries.append(CalendarEntry(year, "consolidation", coordinator, None, "open"))
        if year < on.year:
            # previous cycle: only the reports still outstanding (a late reminder no longer matters)
            entries = [e for e in entries if e.kind == "report" and e.state == "overdue"]
        out.extend(entries)
    order = {"reminder": 0, "report": 1, "consolidation": 2}
    return sorted(out, key=lambda e: (e.year, order[e.kind], e.agency_id))

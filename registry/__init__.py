"""Registry of the 2030 space-technology plan's tasks (and of the 2013–2020 S&T programmes).

Plans, sections, tasks (Vietnamese text, English summary, type, targets, deadlines), agencies with
their successors after the 2025 reorganisation, lead/cooperating assignments, yearly status per
task, annual reports per agency, links from tasks to product collections, indicators with targets,
the yearly reporting cycle of section VI, API keys and an audit trail. No web framework here: the
API (``api/routes/registry.py``) and the CLI (``hpgeo registry``) call :class:`Registry`.
"""

from registry.auth import CLI_PRINCIPAL, Principal
from registry.calendar import CalendarEntry, CycleRule
from registry.store import SEED_FILE, SPACE_PLAN, Registry, read_seed

__all__ = ["Registry", "read_seed", "SEED_FILE", "SPACE_PLAN", "Principal", "CLI_PRINCIPAL", "CalendarEntry", "CycleRule"]

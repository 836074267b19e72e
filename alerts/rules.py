"""Alert rules: a versioned YAML file (``alerts/rules.yaml`` ships the defaults) read into checked models.

A rule watches one kind of product statistic per unit and maps the level it reaches to the CAP
``severity`` / ``urgency``; ``certainty``, ``category`` and the event code are the rule's own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.errors import InvalidRules

__all__ = ["Level", "Rule", "RuleSet", "load_rules", "parse_rules", "dump_rules", "validate_rules", "DEFAULT_RULES", "SEVERITIES", "URGENCIES", "CERTAINTIES", "CATEGORIES"]

DEFAULT_RULES = Path(str(resources.files("alerts").joinpath("rules.yaml")))

SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    min: float
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"]


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    kind: Literal["class_area", "growth", "transects"]
    collections: tuple[str, ...] = Field(min_length=1)
    asset: str
    classes: tuple[int, ...] = ()
    metric: Literal["hectares", "fraction", "count"]
    max_rate_m_per_yr: float | None = None
    category: Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"]
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
    event_code: str = Field(pattern=r"^[A-Z0-9-]{1,32}$")
    event_vi: str
    event_en: str
    what_vi: str
    what_en: str
    unit: str
    levels: tuple[Level, ...] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _ascending(cls, v: tuple[Level, ...]) -> tuple[Level, ...]:
        mins = [lv.min for lv in v]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            raise ValueError("levels must have strictly ascending `min`")
        return v

    def level(self, value: float | None) -> Level | None:
        """The highest level ``value`` reaches (None: below the lowest, the condition does not hold)."""
        if value is None:
            return None
        reached = [lv for lv in self.levels if value >= lv.min]
        return reached[-1] if reached else None

    def format(self, value: float) -> str:
        if self.metric == "fraction":
            return f"{value * 100:.1f} %"
        if self.metric == "count":
            return f"{int(value)}"
        return f"{value:.1f} ha"


class RuleSet(_Strict):
    version: int = Field(ge=1)
    sender: str = Field(pattern=r"^[^\s,<&]+$")
    sender_name: str
    web: str = Field(pattern=r"^https?://")
    rules: tuple[Rule, ...]

    @field_validator("rules")
    @classmethod
    def _unique(cls, v: tuple[Rule, ...]) -> tuple[Rule, ...]:
        ids = [r.id for r in v]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        return v

    def for_collection(self, collection: str) -> list[Rule]:
        return [r for r in self.rules if collection in r.collections]

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise InvalidRules(f"no rule {rule_id!r}")


def validate_rules(doc: object, where: str) -> RuleSet:
    """A parsed document (mapping) as a checked :class:`RuleSet`; :class:`InvalidRules` names the first error and where."""
    if not isinstance(doc, dict):
        raise InvalidRules(f"{where}: the rule set must be a mapping")
    try:
        return RuleSet.model_validate(doc)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise InvalidRules(f"{where}: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}") from exc


def parse_rules(text: str, where: str = "rules", **overrides: object) -> RuleSet:
    """The rule set in the YAML (or JSON, a subset of YAML) ``text``; :class:`InvalidRules` names the
    pydantic location and message of the first error (``rules.0.levels: Value error, …``)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRules(f"{where}: not valid YAML: {exc}") from exc
    if isinstance(doc, dict):
        doc.update({k: v for k, v in overrides.items() if v is not None})
    return validate_rules(doc, where)


def dump_rules(rules: RuleSet | dict) -> str:
    """YAML text of a rule set (UTF-8 text kept as is: Vietnamese stays readable), readable back by :func:`parse_rules`."""
    doc = rules.model_dump(mode="json") if isinstance(rules, RuleSet) else rules
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False)


def load_rules(path: Path | str | None = None, **overrides: object) -> RuleSet:
    """The rule set in ``path`` (default: the shipped rules), with top-level ``overrides`` (e.g. ``sender``)."""
    p = Path(path) if path else DEFAULT_RULES
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRules(f"{p}: cannot read the rules: {exc}") from exc
    return parse_rules(text, str(p), **overrides)

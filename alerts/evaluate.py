"""Evaluating the rules on a product item: per (rule, official unit) an event whose first message is a
CAP ``Alert``, later ones ``Update`` (referencing the previous), and a ``Cancel`` when the condition
clears. Each (rule, unit, item) is evaluated once: re-evaluating a pass changes nothing, sends nothing.
An item older than the newest one evaluated for that rule and unit is recorded but raises nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from sqlalchemy import func, select

from alerts import units as official
from alerts.area import cap_rings, class_area
from alerts.cap import EXERCISE_EN, EXERCISE_VI, CapInfo, CapMessage, cap_xml, reference
from alerts.errors import AlertNotFound, InvalidAlertRequest
from alerts.models import EvaluationRow, EventRow, MessageRow, OutboxRow, SubscriptionRow, aware, utcnow
from alerts.rules import Rule, RuleSet
from alerts.store import AlertStore, audit_row, matches, message_dict
from geo.aoi import AOI, builtin_aois, builtin_ids
from ingest.catalog.query import parse_datetime
from ingest.items import resolve_href
from products.stats_models import item_stats, timeseries

__all__ = ["evaluate_item", "cancel_event", "Unit", "DEFAULT_BASE_URL"]

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Unit:
    official: official.OfficialUnit
    aoi: AOI  # the statistics unit standing for it

    @property
    def desc(self) -> str:
        o = self.official
        return o.name if o.code != official.CITY_CODE or self.aoi.kind == "city" else f"{o.name} ({self.aoi.name_vi})"


def _aois(catalog: Any) -> dict[str, AOI]:
    out = {a.id: a for a in builtin_aois()}
    out.update({a.id: a for a in catalog.aois(include_builtin=False)})
    return out


def resolve_units(catalog: Any, unit_ids: list[str], on: dt.date) -> list[Unit]:
    """Official units of the statistics units, one per code: several AOIs with the same code (built-in
    AOIs all stand for the city) give the one of kind ``city`` valid on ``on``, else the largest."""
    aois, builtin = _aois(catalog), builtin_ids()
    by_code: dict[str, list[Unit]] = {}
    for uid in unit_ids:
        a = aois.get(uid)
        if a is None or not a.valid_on(on):
            continue
        o = official.match_aoi(a.id, a.name_vi, a.properties, builtin=a.id in builtin)
        by_code.setdefault(o.code, []).append(Unit(o, a))
    out = []
    for code in sorted(by_code):
        cands = by_code[code]
        out.append(next((u for u in cands if u.aoi.kind == "city"), None) or max(cands, key=lambda u: (u.aoi.area_km2(), u.aoi.id)))
    return out


def _class_value(rule: Rule, rows: list[dict[str, Any]], unit_id: str) -> float | None:
    sel = [r for r in rows if r["unit"] == unit_id and r["asset"] == rule.asset and r.get("class_value") in rule.classes]
    if not sel:
        return None
    return round(sum(r["fraction" if rule.metric == "fraction" else "hectares"] or 0.0 for r in sel), 6)


def _previous_value(catalog: Any, rule: Rule, unit_id: str, before: dt.datetime) -> float | None:
    rows = [r for c in rule.collections for r in timeseries(catalog, unit_id, c)
            if r["asset"] == rule.asset and r.get("class_value") in rule.classes and parse_datetime(r["datetime"]) < before]
    if not rows:
        return None
    last = max(parse_datetime(r["datetime"]) for r in rows)
    return _class_value(rule, [r for r in rows if parse_datetime(r["datetime"]) == last], unit_id)


def _transect_count(item: dict[str, Any], rule: Rule, unit: Unit, data_dir: Path) -> float | None:
    asset = item["assets"].get(rule.asset)
    if asset is None:
        return None
    doc = json.loads(Path(resolve_href(asset["href"], data_dir)).read_text(encoding="utf-8"))
    n = 0
    for f in doc.get("features", []):
        lrr = f.get("properties", {}).get("lrr")
        if lrr is not None and lrr == lrr and lrr <= (rule.max_rate_m_per_yr or 0.0) and shape(f["geometry"]).intersects(unit.aoi.geometry):
            n += 1
    return float(n)


def _identifier(rule: Rule, unit: Unit, collection: str, item_id: str, msg_type: str) -> str:
    h = hashlib.sha256(f"{rule.id}|{unit.official.code}|{collection}|{item_id}|{msg_type}".encode()).hexdigest()[:16]
    return f"hpgeo-{rule.id}-{unit.official.code}-{h}"


def _area_rings(item: dict[str, Any], rule: Rule, unit: Unit, data_dir: Path, msg_type: str) -> list[list[tuple[float, float]]]:
    geom = None
    if msg_type != "Cancel" and rule.kind in ("class_area", "growth") and rule.asset in item["assets"]:
        try:
            geom = class_area(resolve_href(item["assets"][rule.asset]["href"], data_dir), rule.classes, unit.aoi.geometry)
        except Exception as exc:  # the outline of the unit still locates the alert
            log.warning("alerts: affected area of %s not vectorised (%s); using the unit outline", item["id"], exc)
    return cap_rings(geom if geom is not None else unit.aoi.geometry)


def _texts(rule: Rule, unit: Unit, msg_type: str, value: float | None, when: dt.datetime, collection: str, item_id: str,
           exercise: bool) -> tuple[CapInfo, CapInfo]:
    pv, pe = (EXERCISE_VI, EXERCISE_EN) if exercise else ("", "")
    o = unit.official
    day = when.strftime("%d/%m/%Y")
    v = rule.format(value) if value is not None else "—"
    low = rule.format(rule.levels[0].min)
    if msg_type == "Cancel":
        hv = f"{pv}Hủy cảnh báo {rule.event_vi.lower()} – {o.name}"
        he = f"{pe}Cancelled: {rule.event_en} – {o.name_en}"
        dv = f"Điều kiện cảnh báo không còn: {rule.what_vi} tại {unit.desc} là {v} (ngưỡng {low}), theo sản phẩm {collection}/{item_id} ngày {day}."
        de = f"The alert condition has cleared: {rule.what_en} in {o.name_en} is {v} (threshold {low}), product {collection}/{item_id} of {when.date()}."
    else:
        upd_v, upd_e = (" (cập nhật)", " (update)") if msg_type == "Update" else ("", "")
        hv = f"{pv}{rule.event_vi} – {o.name}{upd_v}: {v}"
        he = f"{pe}{rule.event_en} – {o.name_en}{upd_e}: {v}"
        dv = f"{rule.what_vi.capitalize()} tại {unit.desc}: {v} (ngưỡng {low}), theo sản phẩm {collection}/{item_id} ngày {day}."
        de = f"{rule.what_en.capitalize()} in {o.name_en}: {v} (threshold {low}), product {collection}/{item_id} of {when.date()}."
    if exercise:
        dv += " Đây là dữ liệu MÔ PHỎNG, chỉ dùng cho diễn tập."
        de += " These are SIMULATED data, for exercises only."
    iv = "Theo dõi thông tin từ chính quyền địa phương và làm theo hướng dẫn." if msg_type != "Cancel" else None
    ie = "Follow the local authorities' information and instructions." if msg_type != "Cancel" else None
    return CapInfo("vi-VN", rule.event_vi, hv, dv, iv), CapInfo("en-US", rule.event_en, he, de, ie)


def _emit(s: Any, rules: RuleSet, rule: Rule, unit: Unit, item: dict[str, Any], msg_type: str, value: float | None, severity: str,
          urgency: str, event: EventRow | None, *, data_dir: Path, base_url: str, now: dt.datetime, exercise: bool) -> MessageRow:
    collection, item_id = item["collection"], item["id"]
    when = parse_datetime(item["properties"].get("datetime") or item["properties"]["start_datetime"])
    ident = _identifier(rule, unit, collection, item_id, msg_type)
    refs: list[str] = []
    if event is not None:
        prev = s.get(MessageRow, event.last_message)
        refs = [reference(prev.sender, prev.identifier, aware(prev.sent))]
        if now <= aware(prev.sent):
            now = aware(prev.sent) + dt.timedelta(seconds=1)
    vi, en = _texts(rule, unit, msg_type, value, when, collection, item_id, exercise)
    base = base_url.rstrip("/")
    msg = CapMessage(
        identifier=ident, sender=rules.sender, sent=now, status="Exercise" if exercise else "Actual", msg_type=msg_type,
        category=rule.category, urgency=urgency, severity=severity, certainty=rule.certainty, event_code=rule.event_code,
        sender_name=rules.sender_name, web=f"{base}/alerts/{ident}", area_desc=unit.desc,
        geocode=(official.GEOCODE_NAME, unit.official.code), infos=(vi, en),
        polygons=_area_rings(item, rule, unit, data_dir, msg_type),
        resources=(("Bản đồ sản phẩm / product viewer", "text/html", f"{base}/viewer?collection={collection}&item={item_id}"),
                   ("Lớp bản đồ TileJSON / map tiles", "application/json", f"{base}/tiles/{collection}/{item_id}/tilejson.json")),
        parameters=(("RULES_VERSION", str(rules.version)), ("HPGEO_RULE", rule.id), ("HPGEO_ITEM", f"{collection}/{item_id}"),
                    ("HPGEO_VALUE", "" if value is None else f"{value:g}")),
        references=refs, note="Simulated data: exercise only / Dữ liệu mô phỏng: chỉ dùng diễn tập" if exercise else None,
    )
    if event is None:
        event = EventRow(rule_id=rule.id, unit_key=unit.official.code, unit_code=unit.official.code, unit_name=unit.official.name,
                         state="active", opened_at=now, last_message=ident, exercise=exercise)
        s.add(event)
        s.flush()
    row = MessageRow(identifier=ident, event_id=event.id, sender=rules.sender, sent=now, msg_type=msg_type, status=msg.status,
                     references=" ".join(refs) or None, rule_id=rule.id, unit_code=unit.official.code, unit_name=unit.official.name,
                     collection_id=collection, item_id=item_id, severity=severity, headline_vi=vi.headline, headline_en=en.headline,
                     value=value, xml=cap_xml(msg).decode("utf-8"))
    s.add(row)
    event.last_message = ident
    if msg_type == "Cancel":
        event.state, event.closed_at = "cancelled", now
    for sub in s.scalars(select(SubscriptionRow).where(SubscriptionRow.active.is_(True))):
        if matches(sub.filters or {}, row):
            s.add(OutboxRow(message_id=ident, subscription_id=sub.id, state="pending", attempts=0, next_attempt_at=utcnow()))  # due at once (``now`` may be a forced later sent time)
    return row


def evaluate_item(store: AlertStore, catalog: Any, collection: str, item_id: str, rules: RuleSet, *, data_dir: Path,
                  base_url: str = DEFAULT_BASE_URL, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Evaluate every rule of ``collection`` on one item; returns the messages it produced (often none).

    Zonal statistics missing for a statistics rule are computed first (imported units if any, else
    the built-in AOIs). One transaction per (rule, unit): the message, the event and the outbox rows.
    """
    from products.zonal import item_zonal_stats

    data_dir = Path(data_dir)
    todo = rules.for_collection(collection)
    if not todo:
        return []
    item = catalog.get_item(collection, item_id)
    p = item["properties"]
    when = parse_datetime(p.get("datetime") or p["start_datetime"])
    exercise = bool(p.get("hpgeo:simulated"))
    rows = item_stats(catalog, collection, item_id)
    if not rows and any(r.kind != "transects" for r in todo):
        kind = "imported" if catalog.aois(on=when.date(), include_builtin=False) else "aoi"
        rows = [r | {"unit": r["unit_id"], "datetime": when.isoformat()} for r in item_zonal_stats(catalog, collection, item_id, data_dir=data_dir, units=kind)]
    if rows:
        unit_ids = sorted({r["unit"] for r in rows})
    else:
        footprint = shape(item["geometry"])
        unit_ids = sorted(a.id for a in _aois(catalog).values() if a.valid_on(when.date()) and a.geometry.intersects(footprint))
        imported = [u for u in unit_ids if u not in builtin_ids()]
        unit_ids = imported or unit_ids
    units = resolve_units(catalog, unit_ids, when.date())
    now = (now or utcnow()).replace(microsecond=0)
    out: list[dict[str, Any]] = []
    for rule in todo:
        for unit in units:
            if rule.kind == "class_area":
                value = _class_value(rule, rows, unit.aoi.id)
            elif rule.kind == "growth":
                cur, prev = _class_value(rule, rows, unit.aoi.id), _previous_value(catalog, rule, unit.aoi.id, when)
                value = None if cur is None or prev is None else round(cur - prev, 6)
            else:
                value = _transect_count(item, rule, unit, data_dir)
            msg = _decide(store, rules, rule, unit, item, value, when, data_dir=data_dir, base_url=base_url, now=now, exercise=exercise)
            if msg is not None:
                out.append(msg)
    return out


def _decide(store: AlertStore, rules: RuleSet, rule: Rule, unit: Unit, item: dict[str, Any], value: float | None, when: dt.datetime, **kw: Any) -> dict[str, Any] | None:
    key = unit.official.code
    with store.session() as s:
        done = s.scalar(select(EvaluationRow.id).where(EvaluationRow.rule_id == rule.id, EvaluationRow.unit_key == key,
                                                       EvaluationRow.item_id == item["id"]))
        if done is not None:
            return None
        newest = s.scalar(select(func.max(EvaluationRow.item_datetime)).where(EvaluationRow.rule_id == rule.id, EvaluationRow.unit_key == key))
        stale = newest is not None and aware(newest) > when
        event = s.scalars(select(EventRow).where(EventRow.rule_id == rule.id, EventRow.unit_key == key, EventRow.state == "active")).first()
        level = rule.level(value)
        row = None
        if not stale:
            if level is not None:
                row = _emit(s, rules, rule, unit, item, "Update" if event else "Alert", value, level.severity, level.urgency, event, **kw)
            elif event is not None:
                prev = s.get(MessageRow, event.last_message)
                row = _emit(s, rules, rule, unit, item, "Cancel", value, prev.severity, "Past", event, **kw)
        s.add(EvaluationRow(rule_id=rule.id, unit_key=key, collection_id=item["collection"], item_id=item["id"], item_datetime=when,
                            value=value, triggered=level is not None, message=row.identifier if row else None, evaluated_at=utcnow()))
        return message_dict(row) if row is not None else None


def cancel_event(store: AlertStore, catalog: Any, identifier: str, rules: RuleSet, principal: Any, *, data_dir: Path,
                 base_url: str = DEFAULT_BASE_URL, now: dt.datetime | None = None) -> dict[str, Any]:
    """Cancel by hand the open event whose message is ``identifier`` (an operator's decision, audited)."""
    ev = store.event_of(identifier)
    if ev["state"] != "active":
        raise InvalidAlertRequest(f"the event of {identifier} is already cancelled")
    with store.session() as s:
        event = s.get(EventRow, ev["id"])
        last = s.get(MessageRow, event.last_message)
        try:
            item = catalog.get_item(last.collection_id, last.item_id)
        except Exception as exc:
            raise AlertNotFound(f"the item {last.collection_id}/{last.item_id} of {identifier} is gone") from exc
        rule = rules.get(event.rule_id)
        aois = _aois(catalog)
        aoi = next((a for a in aois.values() if official.match_aoi(a.id, a.name_vi, a.properties, builtin=a.id in builtin_ids()).code == event.unit_code
                    and (a.kind == "city" or event.unit_code != official.CITY_CODE)), None)
        if aoi is None:
            raise AlertNotFound(f"no unit geometry for code {event.unit_code}")
        unit = Unit(official.by_code(event.unit_code), aoi)
        row = _emit(s, rules, rule, unit, item, "Cancel", last.value, last.severity, "Past", event, data_dir=Path(data_dir), base_url=base_url,
                    now=(now or utcnow()).replace(microsecond=0), exercise=event.exercise)
        s.add(audit_row(principal, "alerts.cancel", row.identifier, {"event": event.id, "references": row.references}))
        return message_dict(row)

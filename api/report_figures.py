"""The product figures of a year for the consolidated annual report, read from the catalog's stored statistics
(the same rows ``GET /stats/{collection}/{item}`` serves) and the alert store.

The registry may not import products or alerts (the import contract): this module, in the API layer, gathers
them into a :class:`registry.report_docx.ProductFigures` and hands that to the report writer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alerts import AlertStore
from ingest.catalog import SearchQuery
from products.flood import FLOOD
from products.mangrove import GAIN, LOSS
from products.registry import algorithms
from products.stats_models import item_stats
from registry.report_docx import AlertLine, FloodEvent, MangroveChange, MangroveUnit, ProductFigures, UnitArea

__all__ = ["product_figures", "FLOOD_COLLECTION", "MANGROVE_COLLECTION"]

FLOOD_COLLECTION = "flood-extent"
MANGROVE_COLLECTION = "mangrove-extent"


def _items_of_year(catalog: Any, collection: str, year: int) -> list[dict[str, Any]]:
    if collection not in catalog.collection_kinds():
        return []
    q = SearchQuery.build(collections=[collection], datetime=f"{year}-01-01T00:00:00Z/{year}-12-31T23:59:59Z", limit=1000)
    items = list(catalog.search(q))
    return sorted(items, key=lambda it: (it["properties"].get("datetime") or "", it["id"]))


def _class_asset(collection: str) -> str:
    """The asset holding a product collection's classes: its algorithm's first output."""
    return next(a.outputs[0].asset for a in algorithms().values() if a.collection == collection)


def _rows(catalog: Any, collection: str, item: str, classes: tuple[int, ...]) -> list[dict[str, Any]]:
    """The item's stored statistics rows of ``classes`` in its class asset, once per (unit set, unit, class)."""
    asset = _class_asset(collection)
    seen: set[tuple[Any, ...]] = set()
    out = []
    for r in item_stats(catalog, collection, item):
        key = (r.get("unit_set"), r["unit"], r.get("class_value"))
        if r["asset"] != asset or r.get("class_value") not in classes or key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


def _date(item: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(str(item["properties"]["datetime"])[:10])


def product_figures(catalog: Any, year: int, settings: Any = None) -> ProductFigures:
    """Flooded hectares per flood item (event) and unit, mangrove gain/loss per unit, and the alerts raised
    (CAP ``Alert`` messages sent) in ``year``. Items without stored statistics are left out (they have no figures)."""
    floods = []
    for it in _items_of_year(catalog, FLOOD_COLLECTION, year):
        rows = _rows(catalog, FLOOD_COLLECTION, it["id"], (FLOOD,))
        if not rows:
            continue
        units = tuple(UnitArea(r["unit"], r.get("unit_name") or r["unit"], float(r["hectares"] or 0.0)) for r in rows)
        floods.append(FloodEvent(FLOOD_COLLECTION, it["id"], _date(it), units, bool(it["properties"].get("hpgeo:simulated"))))
    mangrove = []
    for it in _items_of_year(catalog, MANGROVE_COLLECTION, year):
        by_unit: dict[str, dict[str, Any]] = {}
        for r in _rows(catalog, MANGROVE_COLLECTION, it["id"], (GAIN, LOSS)):
            u = by_unit.setdefault(r["unit"], {"name": r.get("unit_name") or r["unit"], GAIN: 0.0, LOSS: 0.0})
            u[r["class_value"]] = float(r["hectares"] or 0.0)
        if by_unit:
            mangrove.append(MangroveChange(MANGROVE_COLLECTION, it["id"], _date(it),
                                           tuple(MangroveUnit(k, v["name"], v[GAIN], v[LOSS]) for k, v in sorted(by_unit.items())),
                                           bool(it["properties"].get("hpgeo:simulated"))))
    alerts: list[AlertLine] = []
    if settings is not None:
        store = AlertStore.from_settings(settings)
        try:
            for m in store.messages(active=None, limit=100000):
                sent = dt.datetime.fromisoformat(m["sent"]).date()
                if m["msgType"] == "Alert" and sent.year == year:
                    alerts.append(AlertLine(m["identifier"], sent, m["status"], m["severity"] or "", m["unit_name"] or "",
                                            m["headline_vi"] or ""))
        finally:
            store.close()
    alerts.sort(key=lambda a: (a.sent, a.identifier))
    return ProductFigures(year, tuple(floods), tuple(mangrove), tuple(alerts))

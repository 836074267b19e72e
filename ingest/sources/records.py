"""Scene records in the catalog: what the hubs list, before and after it is downloaded.

Model: a separate STAC collection ``scene-records``. Each search result becomes one item there
(id = product id, geometry = footprint, ``datetime``, ``eo:cloud_cover``, ``platform``) with
``hpgeo:status`` = ``listed``; its assets point at the hub (``source``: the product download URL,
``thumbnail``: the quicklook), never at local files. After a verified fetch and the ARD step, the same
record becomes ``ingested`` and names its analysis-ready item (``hpgeo:ard_item`` =
``<collection>/<id>``, and a ``derived`` link). The ARD items live in the input collections
(``sentinel-1-grd`` ...) and only ever hold complete, verified data. Keeping records apart means
product code and tile links never meet an item without pixels, and a search never downgrades an
ingested record (its status is kept when the hub lists it again).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from shapely.geometry import mapping

from ingest.items import EXT, collection, iso
from ingest.sources.base import SceneRecord

__all__ = ["RECORDS_COLLECTION", "records_collection", "record_item", "register_records", "mark_ingested", "STATUSES"]

RECORDS_COLLECTION = "scene-records"
STATUSES = ("listed", "ingested")


def records_collection() -> dict[str, Any]:
    """The STAC collection of scene records."""
    return collection(
        RECORDS_COLLECTION,
        "Scene records found at data hubs",
        "Products listed by DHuS, STAC APIs, the Copernicus Data Space and local archives for Hai Phong's "
        "areas of interest: footprint, acquisition time, cloud cover and where to download them. "
        "hpgeo:status tells whether a record was only listed or has been ingested (see hpgeo:ard_item).",
        keywords=["scene records", "search results", "provenance"],
        license="various",
        providers=[{"name": "ESA / Copernicus, USGS, STAC providers", "roles": ["producer", "host"]}],
        summaries={"hpgeo:status": list(STATUSES)},
    )


def record_item(record: SceneRecord, status: str = "listed") -> dict[str, Any]:
    """A STAC item (dict) describing ``record``. Pure: no I/O."""
    props: dict[str, Any] = {
        "datetime": iso(record.datetime),
        "title": record.title,
        "hpgeo:status": status,
        "hpgeo:source": record.source,
        "hpgeo:remote_id": record.remote_id or record.id,
    }
    if record.platform:
        props["platform"] = record.platform.lower()
    if record.product_type:
        props["hpgeo:product_type"] = record.product_type
    if record.collection:
        props["hpgeo:target_collection"] = record.collection
    if record.cloud_cover is not None:
        props["eo:cloud_cover"] = round(float(record.cloud_cover), 4)
    exts = [EXT["eo"]] if record.cloud_cover is not None else []
    assets: dict[str, Any] = {}
    if record.download_url:
        src: dict[str, Any] = {"href": record.download_url, "roles": ["data", "source"], "title": "Product at the hub"}
        if record.size is not None:
            src["file:size"] = record.size
        if record.checksum is not None:
            src["hpgeo:checksum"] = str(record.checksum)
        assets["source"] = src
        exts.append(EXT["file"])
    if record.quicklook_url:
        assets["thumbnail"] = {"href": record.quicklook_url, "roles": ["thumbnail"], "title": "Quicklook"}
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": sorted(set(exts)),
        "id": record.id,
        "collection": RECORDS_COLLECTION,
        "geometry": mapping(record.footprint),
        "bbox": list(record.footprint.bounds),
        "properties": props,
        "assets": assets,
        "links": [],
    }


def register_records(catalog: Any, records: Iterable[SceneRecord]) -> list[str]:
    """Put the records in the catalog (one transaction); an ingested record keeps its status. Returns changed ids."""
    catalog.put_collection(records_collection(), kind="input")
    items = []
    for rec in records:
        item = record_item(rec)
        if catalog.has_item(RECORDS_COLLECTION, rec.id):
            old = catalog.get_item(RECORDS_COLLECTION, rec.id)
            for key in ("hpgeo:status", "hpgeo:ard_item"):
                if key in old["properties"]:
                    item["properties"][key] = old["properties"][key]
            item["links"] = old.get("links", [])
        items.append(item)
    return catalog.put_items(items) if items else []


def mark_ingested(catalog: Any, record: SceneRecord, ard_collection: str, ard_id: str) -> None:
    """The record's scene is in the catalog as ``ard_collection/ard_id`` (complete and verified)."""
    item = record_item(record, status="ingested")
    item["properties"]["hpgeo:ard_item"] = f"{ard_collection}/{ard_id}"
    item["links"] = [{"rel": "derived", "href": f"../../{ard_collection}/items/{ard_id}", "type": "application/geo+json"}]
    catalog.put_collection(records_collection(), kind="input")
    catalog.put_items([item])


def records_in(catalog: Any, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The scene-record items (all, or those with ``ids``), newest first."""
    from ingest.catalog import SearchQuery

    return list(catalog.search(SearchQuery.build(collections=[RECORDS_COLLECTION], ids=list(ids or []) or None)))

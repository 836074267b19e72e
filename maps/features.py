"""The vector layers hpgeo publishes (OGC API – Features style and as vector tiles), in one registry.

Layers:

- ``flood-polygons``: flood (new water) polygons vectorised from every ``flood-extent`` item's class raster,
  with hectares (on the product's metric grid), the item id and datetime;
- ``oil-slick-candidates``: the candidate polygons of every ``oil-slick-candidates`` item (unconfirmed);
- ``shorelines`` and ``transects``: the vector assets of every ``shoreline`` item;
- ``aois``: the areas of interest (built-in and imported);
- ``admin-units``: imported administrative units (AOIs of an administrative kind), with the official code and
  name the alerts use (:func:`alerts.units.match_aoi`).

:func:`query` filters by bbox (intersecting features), datetime (the product item's), item id, and pages with
limit/offset. Geometries are WGS 84.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from maps.errors import RenderError
from products.export import ADMIN_KINDS
from products.vectors import VectorFeature, item_class_polygons, item_vector_asset

__all__ = ["Layer", "LAYERS", "layer", "query", "UnknownLayer", "FeaturePage"]


class UnknownLayer(RenderError):
    """No vector layer with that name."""


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    description: str
    collection: str | None  # product collection the features come from (None: AOIs)
    geometry_type: str
    load: Callable[..., list[VectorFeature]]  # (catalog, data_dir, item dict) → features; AOI layers: (catalog) → features


def _flood(catalog: Any, data_dir: Path, item: dict[str, Any]) -> list[VectorFeature]:
    from products.flood import FLOOD

    return item_class_polygons(item, data_dir, class_values=[FLOOD])


def _oil(catalog: Any, data_dir: Path, item: dict[str, Any]) -> list[VectorFeature]:
    from products.oil import CANDIDATE

    return item_class_polygons(item, data_dir, class_values=[CANDIDATE])


def _asset(name: str) -> Callable[..., list[VectorFeature]]:
    def load(catalog: Any, data_dir: Path, item: dict[str, Any]) -> list[VectorFeature]:
        if name not in item.get("assets", {}):
            return []
        return item_vector_asset(item, name, data_dir)

    return load


def _aoi_feature(a: Any, extra: dict[str, Any] | None = None) -> VectorFeature:
    props = {"id": a.id, "name_vi": a.name_vi, "name_en": a.name_en, "kind": a.kind, "source": a.source,
             "valid_from": a.valid_from.isoformat() if a.valid_from else None, "valid_to": a.valid_to.isoformat() if a.valid_to else None}
    return VectorFeature(a.id, a.geometry, props | (extra or {}))


def _aois(catalog: Any) -> list[VectorFeature]:
    return [_aoi_feature(a) for a in catalog.aois()]


def _admin_units(catalog: Any) -> list[VectorFeature]:
    from alerts.units import CITY_CODE, match_aoi

    out = []
    for a in catalog.aois(include_builtin=False):
        if a.kind not in ADMIN_KINDS:
            continue
        u = match_aoi(a.id, a.name_vi, a.properties)
        matched = u.code != CITY_CODE or a.kind == "city"  # match_aoi falls back to the city for an unmatched unit
        out.append(_aoi_feature(a, {"official_code": u.code if matched else None, "official_name": u.name if matched else None}))
    return out


LAYERS: dict[str, Layer] = {
    l.name: l
    for l in (
        Layer("flood-polygons", "Flood polygons", "Flood (new water) polygons vectorised from each flood-extent item, with hectares.",
              "flood-extent", "Polygon", _flood),
        Layer("oil-slick-candidates", "Oil-slick candidates (unconfirmed)", "Dark-spot candidates of each oil-slick-candidates item.",
              "oil-slick-candidates", "Polygon", _oil),
        Layer("shorelines", "Shorelines", "Dated waterlines of each shoreline item.", "shoreline", "MultiLineString", _asset("shorelines")),
        Layer("transects", "Shoreline transects", "Transects with NSM, EPR, LRR of each shoreline item.", "shoreline", "LineString",
              _asset("transects")),
        Layer("aois", "Areas of interest", "Built-in and imported areas of interest.", None, "Polygon", _aois),
        Layer("admin-units", "Administrative units", "Imported administrative units with their official codes.", None, "Polygon", _admin_units),
    )
}


def layer(name: str) -> Layer:
    if name not in LAYERS:
        raise UnknownLayer(f"no vector layer {name!r}; layers: {', '.join(LAYERS)}")
    return LAYERS[name]


@dataclass
class FeaturePage:
    features: list[VectorFeature]
    matched: int


def features(catalog: Any, data_dir: Path, name: str, *, bbox: tuple[float, float, float, float] | None = None,
             datetime: str | None = None, item: str | None = None) -> list[VectorFeature]:
    """Every feature of a layer matching the filters (bbox: intersecting; datetime/item: of the product items)."""
    from ingest.catalog import SearchQuery

    lay = layer(name)
    area: BaseGeometry | None = box(*bbox) if bbox is not None else None
    if lay.collection is None:
        if item is not None or datetime is not None:
            raise UnknownLayer(f"layer {name!r} has no product items: item and datetime do not apply")
        found = lay.load(catalog)
    else:
        q = SearchQuery.build(collections=[lay.collection], ids=[item] if item else None, datetime=datetime, bbox=bbox, limit=1)
        found = []
        for it in sorted(catalog.search(q), key=lambda i: i["id"]):
            found += lay.load(catalog, data_dir, it)
    if area is not None:
        found = [f for f in found if f.geometry.intersects(area)]
    return found


def query(catalog: Any, data_dir: Path, name: str, *, limit: int = 100, offset: int = 0, **filters: Any) -> FeaturePage:
    feats = features(catalog, data_dir, name, **filters)
    return FeaturePage(feats[offset: offset + limit], len(feats))

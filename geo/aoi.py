"""Areas of interest: geometry + CRS + validity period.

Built-in AOIs are the project's own coarse working areas (``geo/data/haiphong_aois.geojson``);
official boundaries (the city, the 114 post-2025 communes, wards and special zones) are imported
from files with :func:`read_aoi_file` and kept in the catalog. Geometries at rest are WGS 84.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import PROCESSING_CRS, WGS84, reproject_geometry
from geo.errors import AOINotFound, GeometryRepaired, InvalidGeometry, UnreadableFile

__all__ = [
    "AOI",
    "OFFICIAL_AREA_KM2",
    "builtin_aois",
    "builtin_ids",
    "approximate_ids",
    "is_approximate",
    "read_aoi_file",
    "check_geometry",
    "display_feature",
    "geometry_from_geojson",
    "select_valid",
    "find_aoi",
    "slugify",
    "MAX_VERTICES",
    "MAX_FILE_BYTES",
]

_POLYGONAL = ("Polygon", "MultiPolygon")

#: Largest number of vertices of one imported feature. Official commune boundaries have a few
#: thousand; more means an over-digitised file that should be simplified before import.
MAX_VERTICES = 200_000
#: Largest boundary file accepted by :func:`read_aoi_file` (for a Shapefile: .shp + .dbf + .shx).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Metres per degree of latitude (the display simplification tolerance is given in metres).
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class AOI:
    """An area of interest. ``geometry`` is always WGS 84 (lon, lat); the period is inclusive."""

    id: str
    name_vi: str
    name_en: str
    geometry: BaseGeometry
    kind: str = "area"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: str = "hpgeo"
    properties: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.geometry.is_empty or self.geometry.geom_type not in _POLYGONAL:
            raise InvalidGeometry(f"AOI {self.id!r}: geometry must be a non-empty polygon, got {self.geometry.geom_type}")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise InvalidGeometry(f"AOI {self.id!r}: valid_from {self.valid_from} is after valid_to {self.valid_to}")

    def valid_on(self, day: dt.date | None) -> bool:
        if day is None:
            return True
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return tuple(self.geometry.bounds)  # type: ignore[return-value]

    def geometry_in(self, crs: Any = PROCESSING_CRS) -> BaseGeometry:
        return reproject_geometry(self.geometry, WGS84, crs)

    def area_km2(self) -> float:
        return self.geometry_in(PROCESSING_CRS).area / 1e6

    def to_feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": mapping(self.geometry),
            "properties": {
                "id": self.id,
                "name_vi": self.name_vi,
                "name_en": self.name_en,
                "kind": self.kind,
                "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "source": self.source,
                **self.properties,
            },
        }

    @classmethod
    def from_feature(cls, feature: dict[str, Any], source: str | None = None) -> "AOI":
        p = dict(feature.get("properties") or {})
        known = {"id", "name_vi", "name_en", "kind", "valid_from", "valid_to", "source"}
        return cls(
            id=str(p.get("id") or feature.get("id")),
            name_vi=p.get("name_vi") or p.get("name_en") or str(p.get("id")),
            name_en=p.get("name_en") or p.get("name_vi") or str(p.get("id")),
            geometry=shape(feature["geometry"]),
            kind=p.get("kind") or "area",
            valid_from=_date(p.get("valid_from")),
            valid_to=_date(p.get("valid_to")),
            source=source or p.get("source") or "hpgeo",
            properties={k: v for k, v in p.items() if k not in known},
        )


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


#: official areas the approximations can be compared with (km²)
OFFICIAL_AREA_KM2 = {
    # Hải Phòng after its merger with Hải Dương on 1 July 2025: Resolution 202/2025/QH15 of the National Assembly
    "haiphong-2025": (3194.72, "Nghị quyết 202/2025/QH15 (Resolution 202/2025/QH15), 12 June 2025"),
}


@lru_cache(maxsize=1)
def _builtin() -> tuple[AOI, ...]:
    """The built-in AOIs, each flagged ``approximate`` with its own area: they are hand-drawn outlines for the demo
    and for processing extents, not official boundaries (import those with ``hpgeo aoi import``)."""
    text = resources.files("geo").joinpath("data/haiphong_aois.geojson").read_text(encoding="utf-8")
    fc = json.loads(text)
    source = "hpgeo built-in (hand-drawn approximation, not an official boundary)"
    out = []
    for f in fc["features"]:
        a = AOI.from_feature(f, source=source)
        area = round(a.area_km2(), 1)
        note = (f"hand-drawn approximate outline ({area:,.1f} km²), not an official boundary: areas and statistics over it "
                "are approximate; import official boundaries with `hpgeo aoi import`")
        extra: dict[str, Any] = {"approximate": True, "area_km2": area, "approximation_note": note}
        if a.id in OFFICIAL_AREA_KM2:
            official, ref = OFFICIAL_AREA_KM2[a.id]
            extra.update({"official_area_km2": official, "official_area_source": ref,
                          "area_error_pct": round(100.0 * (area - official) / official, 1)})
            extra["approximation_note"] = note.replace("not an official boundary", f"the official area is {official:,.2f} km² ({ref})")
        a.properties.update(extra)
        out.append(a)
    return tuple(out)


def is_approximate(aoi_id: str) -> bool:
    """True for a built-in (hand-drawn, approximate) AOI id."""
    return any(a.id == aoi_id and a.properties.get("approximate") for a in _builtin())


def builtin_aois() -> list[AOI]:
    """The project's built-in Hai Phong AOIs."""
    return list(_builtin())


def approximate_ids() -> frozenset[str]:
    """Ids of the AOIs whose outline is an approximation (every built-in one)."""
    return frozenset(a.id for a in _builtin() if a.properties.get("approximate"))


def builtin_ids() -> frozenset[str]:
    """Ids of the built-in AOIs (they cannot be replaced or deleted)."""
    return frozenset(a.id for a in _builtin())


def geometry_from_geojson(geojson: dict[str, Any]) -> BaseGeometry:
    """``shape(geojson)``, five times faster for (multi)polygons (rings go through numpy, not Python tuples)."""
    def poly(rings: list) -> Polygon:
        return Polygon(np.asarray(rings[0], dtype=float), [np.asarray(r, dtype=float) for r in rings[1:]])

    try:
        if geojson.get("type") == "Polygon":
            return poly(geojson["coordinates"]) if geojson["coordinates"] else Polygon()
        if geojson.get("type") == "MultiPolygon":
            return MultiPolygon([poly(p) for p in geojson["coordinates"] if p])
    except (ValueError, TypeError, IndexError):  # ragged or odd coordinates: let shapely say what is wrong
        pass
    return shape(geojson)


def display_feature(aoi: AOI, simplify_m: float = 0.0) -> dict[str, Any]:
    """The AOI as a GeoJSON feature for display, with its area (``area_km2``, of the exact geometry)
    and ``display`` = {simplify_m, vertices (served), vertices_exact}.

    ``simplify_m`` > 0 simplifies the outline (Douglas-Peucker, topology preserved) with that
    tolerance in metres and rounds coordinates to 1e-6° (about 0.1 m): a boundary with a million
    vertices becomes a few thousand. 0 returns the exact geometry.
    """
    geom = aoi.geometry
    if simplify_m > 0:
        geom = shapely.simplify(geom, simplify_m / _M_PER_DEG, preserve_topology=True)
        geom = shapely.transform(geom, lambda xy: xy.round(6))
    feature = aoi.to_feature()
    feature["geometry"] = mapping(geom)
    feature["properties"]["area_km2"] = round(aoi.area_km2(), 3)
    feature["properties"]["display"] = {
        "simplify_m": simplify_m,
        "vertices": int(shapely.get_num_coordinates(geom)),
        "vertices_exact": int(shapely.get_num_coordinates(aoi.geometry)),
    }
    return feature


def select_valid(aois: Iterable[AOI], on: dt.date | None) -> list[AOI]:
    return [a for a in aois if a.valid_on(on)]


def find_aoi(aois: Iterable[AOI], aoi_id: str, on: dt.date | None = None) -> AOI:
    for a in aois:
        if a.id == aoi_id and a.valid_on(on):
            return a
    when = f" valid on {on}" if on else ""
    raise AOINotFound(f"no AOI {aoi_id!r}{when}")


def slugify(text: str) -> str:
    """ASCII id from a (Vietnamese) name: 'Đồ Sơn' -> 'do-son'."""
    import unicodedata

    text = text.replace("Đ", "D").replace("đ", "d")
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-") or "aoi"


def read_aoi_file(
    path: str | Path,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    kind: str = "admin",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    id_prefix: str = "",
    where: dict[str, Any] | None = None,
    max_vertices: int = MAX_VERTICES,
    max_bytes: int = MAX_FILE_BYTES,
    repair: bool = False,
) -> list[AOI]:
    """Read polygon features from GeoJSON, GeoPackage, Shapefile or KML into AOIs (WGS 84).

    Raises :class:`UnreadableFile` for a file that cannot be parsed or is larger than ``max_bytes``,
    and :class:`InvalidGeometry` (naming the feature) when a feature is empty, not polygonal, has a
    non-finite or out-of-range coordinate, more than ``max_vertices`` vertices, or is not a valid
    polygon (self-intersection...; repaired with a warning instead when ``repair``).
    ``where`` keeps only features whose attributes equal the given values (e.g. ``{"period": "after"}``).
    """
    import geopandas as gpd

    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    size = _file_bytes(path)
    if size > max_bytes:
        raise UnreadableFile(
            f"{path}: {size / 2**20:,.1f} MiB is larger than the limit of {max_bytes / 2**20:,.1f} MiB; "
            "split or simplify the file, or raise --max-mb"
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError, ValueError...
        raise UnreadableFile(f"{path}: cannot read as a vector file ({exc.__class__.__name__}: {exc})") from exc
    if where:
        for k, v in where.items():
            if k not in gdf.columns:
                raise UnreadableFile(f"{path}: no attribute {k!r} (have: {', '.join(map(str, gdf.columns))})")
            gdf = gdf[gdf[k].astype(str) == str(v)]
    if len(gdf) == 0:
        raise InvalidGeometry(f"{path}: no features")
    if gdf.crs is None:
        warnings.warn(f"{path}: no CRS given, assuming WGS 84", GeometryRepaired, stacklevel=2)
        gdf = gdf.set_crs(4326)
    gdf = gdf.to_crs(4326)

    name_col = name_field or _first_col(
        gdf, ("name_vi", "ten_xa", "ten_huyen", "ten_tinh", "ten", "Ten", "TEN", "name", "Name", "NAME", "NAME_1")
    )
    id_col = id_field or _first_col(gdf, ("id", "ID", "ma_xa", "ma"), unique=True)
    for col, label in ((id_field, "--id-field"), (name_field, "--name-field")):
        if col and col not in gdf.columns:
            raise UnreadableFile(f"{path}: {label} {col!r} not among attributes {', '.join(map(str, gdf.columns))}")

    out: list[AOI] = []
    seen: set[str] = set()
    for i, row in enumerate(gdf.itertuples(index=False)):
        rec = row._asdict()
        name = str(rec[name_col]) if name_col and _present(rec.get(name_col)) else f"{path.stem} {i + 1}"
        geom = check_geometry(rec.get("geometry"), f"{path}: feature {i + 1} ({name!r})", max_vertices=max_vertices, repair=repair)
        base = str(rec[id_col]) if id_col and _present(rec.get(id_col)) else slugify(name)
        aoi_id = id_prefix + slugify(base)
        if aoi_id in seen:
            aoi_id = f"{aoi_id}-{i + 1}"
        seen.add(aoi_id)
        props = {k: _plain(v) for k, v in rec.items() if k != "geometry"}
        out.append(
            AOI(
                id=aoi_id,
                name_vi=name,
                name_en=name,
                geometry=geom,
                kind=kind,
                valid_from=valid_from,
                valid_to=valid_to,
                source=f"imported from {path.name}",
                properties={"attributes": props},
            )
        )
    return out


def check_geometry(geom: BaseGeometry | None, what: str, *, max_vertices: int = MAX_VERTICES, repair: bool = False) -> BaseGeometry:
    """A polygonal, non-empty, finite, in-range, valid WGS 84 geometry, or :class:`InvalidGeometry`.

    ``what`` names the feature in the message. An invalid polygon (e.g. a self-intersecting ring) is
    refused unless ``repair``, in which case it is repaired with ``make_valid`` and a
    :class:`GeometryRepaired` warning.
    """
    if geom is None or geom.is_empty:
        raise InvalidGeometry(f"{what} has no geometry (empty)")
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in _POLYGONAL]
        geom = shapely.union_all(polys) if polys else geom
    geom = shapely.force_2d(geom)
    if geom.geom_type not in _POLYGONAL:
        raise InvalidGeometry(f"{what} is a {geom.geom_type}; AOIs must be polygons")
    n = shapely.get_num_coordinates(geom)
    if n > max_vertices:
        raise InvalidGeometry(
            f"{what} has {n:,} vertices, more than the limit of {max_vertices:,}: simplify it first "
            f"(e.g. `ogr2ogr -simplify 0.00001 out.gpkg in.gpkg`, or mapshaper -simplify), or raise --max-vertices"
        )
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        bad = xy[~np.isfinite(xy).all(axis=1)][0]
        raise InvalidGeometry(f"{what} has a non-finite coordinate ({bad[0]}, {bad[1]})")
    out = (xy[:, 0] < -180) | (xy[:, 0] > 180) | (xy[:, 1] < -90) | (xy[:, 1] > 90)
    if out.any():
        lon, lat = xy[out][0]
        raise InvalidGeometry(
            f"{what} has a coordinate out of range: lon {lon:g}, lat {lat:g} (WGS 84 needs -180..180, -90..90; "
            "is the CRS of the file declared?)"
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if not repair:
            raise InvalidGeometry(f"{what} is not a valid polygon ({reason}); fix it (QGIS 'Fix geometries', ST_MakeValid) or pass --repair")
        geom = shapely.make_valid(geom)
        if geom.geom_type == "GeometryCollection":
            geom = shapely.union_all([g for g in geom.geoms if g.geom_type in _POLYGONAL])
        if geom.is_empty or geom.geom_type not in _POLYGONAL:
            raise InvalidGeometry(f"{what} is not a valid polygon ({reason}) and cannot be repaired into one")
        warnings.warn(f"{what} was invalid ({reason}); repaired", GeometryRepaired, stacklevel=3)
    return geom


def _file_bytes(path: Path) -> int:
    """Size of a vector file; a Shapefile counts with its .dbf and .shx."""
    if path.suffix.lower() != ".shp":
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() in (".shp", ".dbf", ".shx"))


def _first_col(gdf: Any, names: tuple[str, ...], unique: bool = False) -> str | None:
    """First of ``names`` that is a column with values (all distinct, if ``unique``)."""
    for n in names:
        if n in gdf.columns:
            col = gdf[n]
            if col.notna().any() and (not unique or (col.notna().all() and col.is_unique)):
                return n
    return None


def _present(v: Any) -> bool:
    import pandas as pd

    return v is not None and not (isinstance(v, float) and pd.isna(v)) and v is not pd.NaT and str(v) != ""


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        try:
            return v.item()
        except Exception:
            return str(v)
    return str(v)



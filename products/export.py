"""Exports of product items and statistics tables: clipped, reprojected, in the formats GIS staff open.

What can be exported:

- a product item's raster (its class map, or any GeoTIFF asset by ``asset``) as a Cloud-Optimized GeoTIFF;
- the same class map as vectors (one polygon per connected patch of a class, with ``hectares`` measured on the
  product's own metric grid, :mod:`products.vectors`) as GeoPackage, GeoJSON, Shapefile (zip) or CSV (attributes,
  ``crs`` and the geometry as ``wkt``);
- a product's GeoJSON vector asset (a shoreline item's ``shorelines`` or ``transects``) in the vector formats;
- the statistics table of an item (hectares per unit and class) as CSV.

Clip region: a WGS 84 ``bbox``, an AOI id or an administrative unit id (an AOI whose kind is administrative:
city, commune, ward, special zone…) — at most one; none exports the whole item. Target CRS: one of
:data:`EXPORT_CRS` (WGS 84, UTM 48N, VN-2000 / TM-3 105°45′ for Hải Phòng and 105°30′). For VN-2000 the datum
shift PROJ selects (its best available operation for this area, e.g. ``VN-2000 to WGS 84 (2)``) is named in
the file: GeoTIFF tag ``HPGEO_DATUM_OPERATION``, GeoPackage metadata and layer description, GeoJSON
``description``, and a ``<name>.txt`` sidecar in the Shapefile zip.

Size: :func:`plan_export` estimates the bytes from the window to read and the data type (raster and
vectorised exports) or the asset's size (vector assets) from metadata only, and refuses more than
``max_bytes`` with :class:`ExportTooLarge` (HTTP 413) before any pixel is read or any file is created.
Files are written to a temporary beside the destination and renamed (:mod:`geo.tempfiles`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from base.errors import InvalidRequest, NotFound, TooLarge
from geo.crs import WGS84, norm_crs, reproject_geometry
from geo.gdal import open_checked
from geo.tempfiles import atomic_path, temp_dir
from ingest.items import resolve_href
from products.errors import InvalidInputs
from products.vectors import (
    NotVectorisable, VectorFeature, item_class_polygons, item_vector_asset, product_output, raster_asset, raster_window,
)

__all__ = [
    "EXPORT_CRS", "FORMATS", "MEDIA_TYPES", "ADMIN_KINDS", "InvalidExport", "InvalidBBox", "ExportTooLarge", "StatsNotComputed", "Region", "ExportPlan",
    "parse_crs", "parse_bbox", "resolve_region", "datum_operation", "plan_export", "write_export", "stats_csv", "export_name",
]

#: The CRSs exports are offered in.
EXPORT_CRS: dict[str, str] = {
    "EPSG:4326": "WGS 84 (longitude, latitude)",
    "EPSG:32648": "WGS 84 / UTM zone 48N (hpgeo's processing CRS)",
    "EPSG:9210": "VN-2000 / TM-3 105°45′ (Hải Phòng's mapping zone)",
    "EPSG:9209": "VN-2000 / TM-3 105°30′ (the former Hải Dương area)",
}
FORMATS: tuple[str, ...] = ("tif", "gpkg", "geojson", "shp.zip", "csv")
MEDIA_TYPES: dict[str, str] = {
    "tif": "image/tiff; application=geotiff; profile=cloud-optimized",
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "shp.zip": "application/zip",
    "csv": "text/csv; charset=utf-8",
}
#: AOI kinds that are administrative units (the ``unit`` clip region).
ADMIN_KINDS = frozenset({"city", "province", "district", "commune", "ward", "special-zone", "special_zone", "admin", "town"})
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_BYTES = {"uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "uint32": 4, "int32": 4, "float32": 4, "float64": 8, "int64": 8, "uint64": 8}
#: Bytes per vectorised feature kept in memory / written, per source cell (an upper bound for class maps).
_VECTOR_BYTES_PER_CELL = 8


class InvalidExport(InvalidRequest):
    """An export parameter is wrong (format, CRS, region, asset)."""


class InvalidBBox(InvalidExport):
    """A bbox that is not four finite, ordered WGS 84 numbers on the Earth."""


class ExportTooLarge(TooLarge):
    """The export would be larger than the configured limit."""


class StatsNotComputed(NotFound):
    """No statistics are stored for that item."""


@dataclass(frozen=True)
class Region:
    """Where to clip: a WGS 84 geometry and how it was named (``bbox=…``, ``aoi=…``, ``unit=…``), or the whole item."""

    geometry: BaseGeometry | None = None
    label: str = "whole item"


def parse_crs(text: str | None) -> str:
    """``text`` normalised to one of :data:`EXPORT_CRS` (``EPSG:9210``, ``epsg:9210`` or ``9210``); else :class:`InvalidExport`."""
    if text is None or text == "":
        return "EPSG:4326"
    t = str(text).strip().upper()
    if re.fullmatch(r"\d{4,5}", t):
        t = f"EPSG:{t}"
    if t not in EXPORT_CRS:
        shown = str(text)[:40]
        raise InvalidExport(f"crs {shown!r} is not offered; one of: {', '.join(EXPORT_CRS)}")
    return t


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees (WGS 84), finite, ordered and on the Earth; else :class:`InvalidExport`."""
    parts = str(text).split(",")
    if len(parts) != 4:
        raise InvalidBBox("bbox must be 4 numbers: west,south,east,north (degrees, WGS 84)")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise InvalidBBox("bbox must be 4 numbers: west,south,east,north (degrees, WGS 84)") from None
    if not all(np.isfinite(v) for v in (w, s, e, n)):
        raise InvalidBBox("bbox values must be finite numbers")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidBBox(f"bbox {w},{s},{e},{n} is not west<east in [-180, 180] and south<north in [-90, 90]")
    return w, s, e, n


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidExport(f"{what} must be an id of letters, digits, '.', '_' or '-' (at most 128), not {str(value)[:40]!r}")
    return value


def resolve_region(catalog: Any, *, bbox: str | None = None, aoi: str | None = None, unit: str | None = None) -> Region:
    """The clip region from at most one of ``bbox``, ``aoi`` (an AOI id) and ``unit`` (an administrative unit's AOI id)."""
    given = [k for k, v in (("bbox", bbox), ("aoi", aoi), ("unit", unit)) if v not in (None, "")]
    if len(given) > 1:
        raise InvalidExport(f"give at most one of bbox, aoi and unit (got {', '.join(given)})")
    if bbox not in (None, ""):
        b = parse_bbox(bbox)  # type: ignore[arg-type]
        return Region(box(*b), f"bbox={','.join(repr(v) for v in b)}")
    if aoi not in (None, ""):
        a = catalog.aoi(_check_id(aoi, "aoi"))  # type: ignore[arg-type]
        return Region(a.geometry, f"aoi={a.id}")
    if unit not in (None, ""):
        a = catalog.aoi(_check_id(unit, "unit"))  # type: ignore[arg-type]
        if a.kind not in ADMIN_KINDS:
            raise InvalidExport(f"{a.id!r} is an AOI of kind {a.kind!r}, not an administrative unit (use aoi={a.id})")
        return Region(a.geometry, f"unit={a.id}")
    return Region()


def datum_operation(src: Any, dst: Any) -> dict[str, Any]:
    """The coordinate operation PROJ selects from ``src`` to ``dst`` (its best available one, as GDAL and
    geopandas use): name, accuracy in metres (when PROJ knows it) and the PROJ pipeline."""
    from pyproj import CRS as PCRS
    from pyproj.transformer import TransformerGroup

    s, d = PCRS.from_user_input(norm_crs(src).to_wkt()), PCRS.from_user_input(norm_crs(dst).to_wkt())
    if s == d:
        return {"operation": "none (same CRS)", "accuracy_m": 0.0, "pipeline": ""}
    group = TransformerGroup(s, d, always_xy=True)
    if not group.transformers:
        raise InvalidExport(f"PROJ has no operation from {s.name} to {d.name}")
    t = group.transformers[0]
    acc = t.accuracy if t.accuracy is not None and t.accuracy >= 0 else None
    return {"operation": t.description, "accuracy_m": acc, "pipeline": t.definition, "source_crs": s.name, "target_crs": d.name}


def export_name(collection_id: str, item_id: str, crs: str, fmt: str) -> str:
    return f"{collection_id}_{item_id}_{crs.replace(':', '')}.{fmt}"


def _layer_name(collection_id: str) -> str:
    """A clean layer name (letters, digits, underscores) from the collection id."""
    return re.sub(r"[^A-Za-z0-9_]", "_", collection_id)[:60] or "layer"


@dataclass
class ExportPlan:
    """What an export will do, decided from metadata only (no pixel read)."""

    item: dict[str, Any]
    fmt: str
    crs: str
    region: Region
    kind: str  # "raster" | "class-vectors" | "vector-asset"
    asset: str
    source: str
    estimated_bytes: int
    data_dir: Path
    remote_prefixes: tuple[str, ...] = ()
    datum: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return export_name(self.item.get("collection", "items"), self.item["id"], self.crs, self.fmt)

    def metadata(self) -> dict[str, str]:
        p = self.item.get("properties", {})
        return {
            "HPGEO_SOURCE_ITEM": f"{self.item.get('collection')}/{self.item['id']}",
            "HPGEO_SOURCE_ASSET": self.asset,
            "HPGEO_CLIP": self.region.label,
            "HPGEO_CRS": self.crs,
            "HPGEO_DATUM_OPERATION": str(self.datum.get("operation", "")),
            "HPGEO_DATUM_ACCURACY_M": "" if self.datum.get("accuracy_m") is None else str(self.datum["accuracy_m"]),
            "HPGEO_DATUM_PIPELINE": str(self.datum.get("pipeline", "")),
            "HPGEO_SIMULATED": "yes" if p.get("hpgeo:simulated") else "no",
            "HPGEO_DATETIME": str(p.get("datetime") or p.get("start_datetime") or ""),
        }


def plan_export(
    catalog: Any,
    data_dir: Path,
    collection_id: str,
    item_id: str,
    fmt: str,
    *,
    crs: str | None = None,
    region: Region | None = None,
    asset: str | None = None,
    max_bytes: int,
    remote_prefixes: tuple[str, ...] = (),
) -> ExportPlan:
    """Check the request and estimate its size (:class:`ExportTooLarge` above ``max_bytes``), reading metadata only."""
    if fmt not in FORMATS:
        raise InvalidExport(f"format {str(fmt)[:20]!r} is not offered; one of: {', '.join(FORMATS)}")
    target = parse_crs(crs)
    region = region or Region()
    item = catalog.get_item(collection_id, item_id)  # 404 for an unknown collection or item
    if "hpgeo:provenance" not in item.get("properties", {}):
        raise InvalidExport(f"{collection_id}/{item_id} is not a product item (exports are of products)")
    if asset is not None:
        _check_id(asset, "asset")
    assets = item.get("assets", {})
    geojson_assets = [k for k, a in assets.items() if a.get("type") == "application/geo+json"]
    spec = product_output(item)
    if fmt == "tif" or (spec is not None and (asset is None or asset == spec.asset)):
        key = raster_asset(item, asset)
        if fmt != "tif" and (spec is None or key != spec.asset):
            raise InvalidExport(f"asset {key!r} of {item_id} is continuous, not a class map: export it as tif")
        kind = "raster" if fmt == "tif" else "class-vectors"
        source = resolve_href(assets[key]["href"], Path(data_dir), remote_prefixes)
        with open_checked(source, allow_remote=bool(remote_prefixes)) as ds:  # metadata only: no pixel is read
            win = raster_window(ds, region.geometry.bounds if region.geometry is not None else None)
            if win is None:
                raise InvalidExport(f"the clip region ({region.label}) does not overlap {collection_id}/{item_id}")
            cells = int(win.width) * int(win.height)
            per_cell = sum(_BYTES.get(str(d), 8) for d in ds.dtypes) if kind == "raster" else _VECTOR_BYTES_PER_CELL
            src_crs = ds.crs
        est = cells * per_cell
    else:
        key = asset or (geojson_assets[0] if geojson_assets else None)
        tiffs = [k for k, a in assets.items() if str(a.get("type", "")).startswith("image/tiff")]
        if (key is None and tiffs) or key in tiffs:
            raise InvalidExport(f"{collection_id}/{item_id}: raster asset {key or tiffs[0]!r} holds continuous values, not classes: "
                                "export it as tif (only class maps are vectorised)")
        if key is None or key not in geojson_assets:
            raise InvalidExport(f"{collection_id}/{item_id} has no class raster or GeoJSON asset {asset or ''!r} to export as {fmt} "
                                f"(vector assets: {', '.join(geojson_assets) or 'none'})")
        kind = "vector-asset"
        source = resolve_href(assets[key]["href"], Path(data_dir))
        try:
            est = Path(source).stat().st_size * 2
        except OSError as exc:
            raise InvalidInputs(f"{collection_id}/{item_id}: asset {key!r} cannot be read ({exc.strerror})") from None
        src_crs = WGS84
    if est > max_bytes:
        raise ExportTooLarge(f"this export would be about {est:,} bytes, over the limit of {max_bytes:,} (HPGEO_MAX_EXPORT_BYTES); "
                             "clip it with bbox, aoi or unit")
    datum = datum_operation(src_crs if kind == "raster" else WGS84, target)  # vectors are reprojected from WGS 84
    return ExportPlan(item, fmt, target, region, kind, key, str(source), est, Path(data_dir), tuple(remote_prefixes), datum)


# --- writers ---------------------------------------------------------------------------------------


def write_export(plan: ExportPlan, dst: str | Path) -> Path:
    """Write the planned export to ``dst`` atomically; returns ``dst``."""
    dst = Path(dst)
    if plan.kind == "raster":
        _write_raster(plan, dst)
        return dst
    feats = _features(plan)
    _write_vectors(plan, feats, dst)
    return dst


def _features(plan: ExportPlan) -> list[VectorFeature]:
    if plan.kind == "class-vectors":
        return item_class_polygons(plan.item, plan.data_dir, within=plan.region.geometry, asset=plan.asset, remote_prefixes=plan.remote_prefixes)
    return item_vector_asset(plan.item, plan.asset, plan.data_dir, within=plan.region.geometry)


def _write_raster(plan: ExportPlan, dst: Path) -> None:
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    from geo.cog import write_cog
    from geo.grid import Grid

    spec = product_output(plan.item)
    categorical = spec is not None and spec.asset == plan.asset
    with open_checked(plan.source, allow_remote=bool(plan.remote_prefixes)) as ds:
        win = raster_window(ds, plan.region.geometry.bounds if plan.region.geometry is not None else None)
        data = ds.read(window=win)
        src_transform = ds.window_transform(win)
        src_crs, nodata, dtype, names = ds.crs, ds.nodata, ds.dtypes[0], list(ds.descriptions)
        src_tags = ds.tags()
    if nodata is None:
        nodata = 255 if dtype == "uint8" else (np.nan if dtype.startswith("float") else 0)
    dst_crs = norm_crs(plan.crs)
    h, w = data.shape[1:]
    left, top = src_transform.c, src_transform.f
    right, bottom = left + src_transform.a * w, top + src_transform.e * h
    res = None if dst_crs.is_geographic else abs(src_transform.a)
    transform, width, height = calculate_default_transform(src_crs, dst_crs, w, h, left, bottom, right, top, resolution=res)
    out = np.full((data.shape[0], height, width), nodata, dtype=data.dtype)
    for b in range(data.shape[0]):
        reproject(data[b], out[b], src_transform=src_transform, src_crs=src_crs, dst_transform=transform, dst_crs=dst_crs,
                  src_nodata=nodata, dst_nodata=nodata, resampling=Resampling.nearest if categorical else Resampling.bilinear)
    if plan.region.geometry is not None:
        outside = geometry_mask([mapping(reproject_geometry(plan.region.geometry, WGS84, dst_crs))], out_shape=(height, width),
                                transform=transform, invert=False)
        out[:, outside] = nodata
    grid = Grid(shape=(height, width), transform=transform, crs_wkt=dst_crs.to_wkt())
    tags = {**{k: v for k, v in src_tags.items() if k.startswith("HPGEO_")}, **plan.metadata(),
            "TIFFTAG_IMAGEDESCRIPTION": f"{plan.metadata()['HPGEO_SOURCE_ITEM']} in {plan.crs}; datum operation: {plan.datum.get('operation')}"}
    write_cog(dst, out, grid, nodata=nodata, band_names=[n or f"band{i + 1}" for i, n in enumerate(names)], tags=tags)


def _frame(plan: ExportPlan, feats: list[VectorFeature]) -> Any:
    import geopandas as gpd

    rows = [f.properties | {"fid_text": f.id} for f in feats]
    gdf = gpd.GeoDataFrame(rows, geometry=[f.geometry for f in feats], crs="EPSG:4326")
    if gdf.empty:
        gdf = gpd.GeoDataFrame({"fid_text": []}, geometry=[], crs="EPSG:4326")
    for c in gdf.columns:
        if c != "geometry" and gdf[c].dtype == object:
            gdf[c] = gdf[c].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    return gdf.to_crs(plan.crs) if plan.crs != "EPSG:4326" else gdf


def _description(plan: ExportPlan) -> str:
    m = plan.metadata()
    return (f"hpgeo export of {m['HPGEO_SOURCE_ITEM']} (asset {m['HPGEO_SOURCE_ASSET']}, {m['HPGEO_CLIP']}) in {plan.crs} "
            f"({EXPORT_CRS[plan.crs]}); datum operation: {m['HPGEO_DATUM_OPERATION']}"
            + (f" (accuracy {m['HPGEO_DATUM_ACCURACY_M']} m)" if m["HPGEO_DATUM_ACCURACY_M"] else "")
            + ("; SIMULATED data" if m["HPGEO_SIMULATED"] == "yes" else ""))


def _write_vectors(plan: ExportPlan, feats: list[VectorFeature], dst: Path) -> None:
    import pyogrio

    gdf = _frame(plan, feats)
    layer = _layer_name(plan.item.get("collection") or "export")
    meta = plan.metadata()
    if plan.fmt == "gpkg":
        with atomic_path(dst, suffix=".gpkg") as tmp:
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", dataset_metadata=meta, layer_metadata=meta,
                                    layer_options={"DESCRIPTION": _description(plan), "IDENTIFIER": layer})
    elif plan.fmt == "geojson":
        with atomic_path(dst, suffix=".geojson") as tmp:
            opts = {"DESCRIPTION": _description(plan), "RFC7946": "YES"} if plan.crs == "EPSG:4326" else {"DESCRIPTION": _description(plan)}
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GeoJSON", layer_options=opts)
    elif plan.fmt == "shp.zip":
        base = dst.name.removesuffix(".shp.zip")
        with temp_dir(dst, "shp") as work, atomic_path(dst) as tmp:
            pyogrio.write_dataframe(gdf, work / f"{layer}.shp", layer=layer, driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
            (work / f"{layer}.txt").write_text(_description(plan) + "\n" + "\n".join(f"{k}={v}" for k, v in meta.items()) + "\n", encoding="utf-8")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for f in sorted(work.iterdir()):
                    z.write(f, arcname=f"{base}/{f.name}")
    elif plan.fmt == "csv":
        with atomic_path(dst, suffix=".csv") as tmp:
            cols = [c for c in gdf.columns if c != "geometry"]
            with open(tmp, "w", encoding="utf-8", newline="") as fh:  # plain CSV: the geometry as WKT, its CRS in a column
                w = csv.writer(fh)
                w.writerow(cols + ["crs", "wkt"])
                for row, g in zip(gdf[cols].itertuples(index=False), gdf.geometry):
                    w.writerow([_csv_value(v) for v in row] + [plan.crs, g.wkt if g is not None else ""])
    else:  # plan_export refuses other formats
        raise InvalidExport(f"format {plan.fmt!r} is not a vector format")


def _csv_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return v


def stats_csv(catalog: Any, collection_id: str, item_id: str, dst: str | Path) -> Path:
    """The stored statistics of a product item (per unit and class) as CSV at ``dst`` (atomic)."""
    from products.stats_models import item_stats

    item = catalog.get_item(collection_id, item_id)
    if "hpgeo:provenance" not in item.get("properties", {}):
        raise InvalidExport(f"{collection_id}/{item_id} is not a product item")
    rows = item_stats(catalog, collection_id, item_id)
    if not rows:
        raise StatsNotComputed(f"no statistics stored for {collection_id}/{item_id}; run `hpgeo products stats {collection_id}/{item_id} --units aoi`")
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in cols})
    dst = Path(dst)
    with atomic_path(dst, suffix=".csv") as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    return dst

"""Vector views of product items: class polygons vectorised from a class raster (flood, oil-slick candidates),
and the vector assets a product already writes (shoreline waterlines and transects).

Polygons follow the raster's cell edges (``rasterio.features.shapes``, 4-connected), so a class polygon's
area in the raster's metric CRS is exactly its cell count × cell area; ``hectares`` is that area, computed
on the product's own grid before any reprojection. Features come back in WGS 84 (lon, lat) with the item
id, the product datetime, the class value and name. Rasters in a geographic CRS are refused (their cells
have no single area). Vectorising reads the whole window asked for: callers bound it first
(:func:`raster_window`, the export size limit).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, reproject_geometry, transform_bounds
from geo.gdal import open_checked
from ingest.items import resolve_href
from products.errors import InvalidInputs

__all__ = [
    "VectorFeature", "class_polygons", "item_class_polygons", "item_vector_asset", "raster_asset", "product_output",
    "raster_window", "NotVectorisable",
]


class NotVectorisable(InvalidInputs):
    """The item has no class raster (or vector asset) that can be given as vectors."""


@dataclass(frozen=True)
class VectorFeature:
    """One feature: WGS 84 geometry, properties, a stable id."""

    id: str
    geometry: BaseGeometry
    properties: dict[str, Any]

    def to_geojson(self) -> dict[str, Any]:
        from shapely.geometry import mapping

        return {"type": "Feature", "id": self.id, "geometry": mapping(self.geometry), "properties": dict(self.properties)}


def product_output(item: Mapping[str, Any]) -> Any:
    """The registered output spec of the item's first categorical raster output (or None)."""
    from products.registry import get

    prov = item.get("properties", {}).get("hpgeo:provenance")
    if not prov:
        return None
    try:
        alg = get(prov["algorithm"])
    except Exception:  # an algorithm no longer registered: no class names to give
        return None
    for spec in alg.outputs:
        if spec.categorical and spec.asset in item.get("assets", {}):
            return spec
    return None


def raster_asset(item: Mapping[str, Any], asset: str | None = None) -> str:
    """The key of the raster asset to use: ``asset`` if given (must be a GeoTIFF), else the product's class output,
    else the first GeoTIFF asset."""
    assets = item.get("assets", {})
    tiffs = [k for k, a in assets.items() if str(a.get("type", "")).startswith("image/tiff")]
    if asset is not None:
        if asset not in tiffs:
            raise NotVectorisable(f"item {item['id']!r} has no GeoTIFF asset {asset!r} (has: {', '.join(tiffs) or 'none'})")
        return asset
    spec = product_output(item)
    if spec is not None:
        return spec.asset
    if not tiffs:
        raise NotVectorisable(f"item {item['id']!r} has no raster asset")
    return tiffs[0]


def raster_window(ds: Any, bounds_wgs84: tuple[float, float, float, float] | None) -> Any:
    """The window of ``ds`` covering ``bounds_wgs84`` (whole raster when None), cut to the raster; None if empty."""
    from rasterio.windows import Window, from_bounds

    full = Window(0, 0, ds.width, ds.height)
    if bounds_wgs84 is None:
        return full
    l, b, r, t = transform_bounds(bounds_wgs84, WGS84, ds.crs)
    import math

    w = from_bounds(l, b, r, t, transform=ds.transform)
    c0, r0 = max(0, math.floor(w.col_off)), max(0, math.floor(w.row_off))
    c1, r1 = min(ds.width, math.ceil(w.col_off + w.width)), min(ds.height, math.ceil(w.row_off + w.height))
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def class_polygons(
    path: str | Path,
    classes: Mapping[int, str],
    *,
    within: BaseGeometry | None = None,
    nodata: int | None = None,
    base_props: Mapping[str, Any] | None = None,
    id_prefix: str = "",
) -> list[VectorFeature]:
    """Polygons of the cells of each value of ``classes`` in a single-band class raster, in WGS 84.

    ``within`` (WGS 84) limits the window read and clips the polygons (exact intersection, computed in the
    raster's CRS); ``hectares`` is the (clipped) polygon area in the raster's CRS.
    """
    from rasterio.features import shapes

    with open_checked(path) as ds:
        crs = ds.crs
        if crs is None or not crs.is_projected or abs(crs.linear_units_factor[1] - 1.0) > 1e-9:
            raise NotVectorisable(f"{Path(path).name}: class polygons need a projected CRS in metres, not {crs}")
        win = raster_window(ds, within.bounds if within is not None else None)
        if win is None:
            return []
        data = ds.read(1, window=win)
        transform = ds.window_transform(win)
    clip = reproject_geometry(within, WGS84, crs) if within is not None else None
    wanted = [int(v) for v in classes if nodata is None or int(v) != int(nodata)]
    mask = np.isin(data, np.asarray(wanted, dtype=data.dtype))
    if clip is not None:  # cells touching the clip region only (the polygons are then cut exactly)
        from rasterio.features import geometry_mask

        mask &= geometry_mask([clip], out_shape=data.shape, transform=transform, invert=True, all_touched=True)
    pairs = [(shape(g), int(v)) for g, v in shapes(data, mask=mask, transform=transform, connectivity=4)]
    if not pairs:
        return []
    geoms = np.array([g for g, _ in pairs], dtype=object)
    values = [v for _, v in pairs]
    if clip is not None:
        shapely.prepare(clip)
        geoms = shapely.intersection(geoms, clip)
        geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    areas = shapely.area(geoms)
    tr = Transformer.from_crs(crs.to_wkt(), "EPSG:4326", always_xy=True)
    wgs = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    out: list[VectorFeature] = []
    n = 0
    for g, v, area in zip(wgs, values, areas):
        if g is None or g.is_empty or not area > 0:
            continue
        n += 1
        props = {**(base_props or {}), "class_value": v, "class_name": classes.get(v, str(v)), "hectares": round(float(area) / 1e4, 6)}
        out.append(VectorFeature(f"{id_prefix}{v}-{n}", g, props))
    return out


def _polygonal(g: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of an intersection (lines and points where a patch only touches the clip are dropped)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


_cache: OrderedDict[tuple[Any, ...], list[VectorFeature]] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 32


def item_class_polygons(
    item: Mapping[str, Any],
    data_dir: Path,
    *,
    class_values: Iterable[int] | None = None,
    within: BaseGeometry | None = None,
    asset: str | None = None,
    remote_prefixes: Iterable[str] = (),
) -> list[VectorFeature]:
    """Class polygons of a product item's class raster (all classes but no data, or ``class_values``).

    Results for the whole raster (no ``within``) are cached per file and modification time."""
    spec = product_output(item)
    key = raster_asset(item, asset)
    if spec is None or spec.asset != key:
        raise NotVectorisable(f"item {item['id']!r}: asset {key!r} is not a class map (only class rasters are vectorised)")
    classes = {int(k): v for k, v in spec.classes.items() if spec.nodata is None or int(k) != int(spec.nodata)}
    if class_values is not None:
        keep = {int(v) for v in class_values}
        classes = {k: v for k, v in classes.items() if k in keep}
    path = resolve_href(item["assets"][key]["href"], Path(data_dir), remote_prefixes)
    p = item.get("properties", {})
    base = {"item": item["id"], "collection": item.get("collection"), "datetime": p.get("datetime") or p.get("start_datetime"),
            "asset": key, "simulated": bool(p.get("hpgeo:simulated", False))}
    if within is not None:
        return class_polygons(path, classes, within=within, nodata=spec.nodata, base_props=base, id_prefix=f"{item['id']}-")
    try:
        mtime = Path(path).stat().st_mtime_ns
    except OSError:
        mtime = None
    ck = (str(path), mtime, tuple(sorted(classes)))
    with _lock:
        if ck in _cache:
            _cache.move_to_end(ck)
            return _cache[ck]
    feats = class_polygons(path, classes, nodata=spec.nodata, base_props=base, id_prefix=f"{item['id']}-")
    with _lock:
        _cache[ck] = feats
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return feats


def item_vector_asset(item: Mapping[str, Any], asset: str, data_dir: Path, *, within: BaseGeometry | None = None) -> list[VectorFeature]:
    """Features of a GeoJSON asset of an item (e.g. a shoreline item's ``shorelines`` or ``transects``), in WGS 84,
    with the item id and datetime added; ``within`` (WGS 84) clips them."""
    import pyogrio

    a = item.get("assets", {}).get(asset)
    if a is None or a.get("type") != "application/geo+json":
        raise NotVectorisable(f"item {item['id']!r} has no GeoJSON asset {asset!r}")
    path = resolve_href(a["href"], Path(data_dir))
    if str(path).startswith(("/vsi", "http:", "https:")) or not Path(path).is_file():
        raise NotVectorisable(f"item {item['id']!r}: asset {asset!r} is not a local file")
    if not str(path).lower().endswith((".geojson", ".json")):
        raise NotVectorisable(f"item {item['id']!r}: asset {asset!r} is not a .geojson file")
    gdf = pyogrio.read_dataframe(path)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    p = item.get("properties", {})
    base = {"item": item["id"], "collection": item.get("collection"), "datetime": p.get("datetime") or p.get("start_datetime"),
            "asset": asset, "simulated": bool(p.get("hpgeo:simulated", False))}
    out: list[VectorFeature] = []
    cols = [c for c in gdf.columns if c != "geometry"]
    for i, row in enumerate(gdf.itertuples(index=False)):
        g = row.geometry
        if g is None or g.is_empty:
            continue
        if within is not None:
            if not g.intersects(within):
                continue
            g = g.intersection(within)
            if g.is_empty:
                continue
        props = {c: _plain(getattr(row, c)) for c in cols}
        out.append(VectorFeature(f"{item['id']}-{asset}-{i}", g, {**props, **base}))
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v

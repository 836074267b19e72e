"""CRS helpers: one CRS type inside the code (:class:`rasterio.crs.CRS`), normalised at the edge.

Processing happens in UTM zone 48N (EPSG:32648), which covers all of Hai Phong including
Bach Long Vi (107.7 E); tiles are Web Mercator (EPSG:3857); geometries at rest are WGS 84.
VN-2000 (EPSG:3405 UTM 48N; EPSG:9210 TM-3 105 30') is offered for exports to Vietnamese agencies.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pyproj import Transformer
from rasterio.crs import CRS
from shapely.geometry.base import BaseGeometry
import numpy as np
import shapely

from geo.errors import CRSMismatch, GeoError

__all__ = [
    "WGS84",
    "PROCESSING_CRS",
    "TILE_CRS",
    "VN2000_UTM48N",
    "VN2000_TM3_HAIPHONG",
    "norm_crs",
    "check_same_crs",
    "reproject_geometry",
    "transform_bounds",
]

WGS84 = CRS.from_epsg(4326)
PROCESSING_CRS = CRS.from_epsg(32648)
TILE_CRS = CRS.from_epsg(3857)
VN2000_UTM48N = CRS.from_epsg(3405)
VN2000_TM3_HAIPHONG = CRS.from_epsg(9210)


def norm_crs(value: Any) -> CRS:
    """Accept an EPSG int, 'EPSG:n' string, WKT, PROJ string, pyproj or rasterio CRS; return a rasterio CRS."""
    if value is None:
        raise GeoError("a CRS is required")
    if isinstance(value, CRS):
        return value
    try:
        if isinstance(value, int):
            return CRS.from_epsg(value)
        if hasattr(value, "to_wkt"):
            return CRS.from_wkt(value.to_wkt())
        return CRS.from_user_input(value)
    except Exception as exc:  # rasterio raises CRSError; keep the message
        raise GeoError(f"not a CRS: {value!r} ({exc})") from exc


def check_same_crs(a: Any, b: Any) -> CRS:
    ca, cb = norm_crs(a), norm_crs(b)
    if ca != cb:
        raise CRSMismatch(f"CRS differ: {ca.to_string()} vs {cb.to_string()}")
    return ca


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def reproject_geometry(geom: BaseGeometry, src: Any, dst: Any) -> BaseGeometry:
    """Reproject a shapely geometry between CRSs (x/y order, i.e. lon/lat for WGS 84)."""
    s, d = norm_crs(src), norm_crs(dst)
    if s == d:
        return geom
    tr = _transformer(s.to_wkt(), d.to_wkt())

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)


def transform_bounds(bounds: tuple[float, float, float, float], src: Any, dst: Any) -> tuple[float, float, float, float]:
    """Bounds reprojected with densified edges (rasterio.warp.transform_bounds)."""
    from rasterio.warp import transform_bounds as _tb

    s, d = norm_crs(src), norm_crs(dst)
    if s == d:
        return tuple(bounds)  # type: ignore[return-value]
    return tuple(_tb(s, d, *bounds, densify_pts=21))  # type: ignore[return-value]

"""The affected area of an alert, from the product itself: the cells of the rule's classes inside the
unit, vectorised, as CAP polygons (lat,lon order, closed rings, ≤ ``max_vertices`` vertices each,
the ``max_polygons`` largest). Where the product gives no cells (a shoreline rule, an empty mask),
the unit's own outline stands for the area.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

__all__ = ["class_area", "cap_rings", "MAX_VERTICES", "MAX_POLYGONS"]

MAX_VERTICES = 100
MAX_POLYGONS = 5
_MAX_READ = 1024  # read the class map at most this many cells a side (overviews): the outline, not the census


def class_area(raster: str | Path, classes: Iterable[int], within: BaseGeometry) -> BaseGeometry | None:
    """WGS 84 union of the cells of ``classes`` in ``raster`` inside ``within`` (WGS 84), or None."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.features import shapes
    from rasterio.transform import Affine

    from geo.crs import WGS84, reproject_geometry

    with rasterio.open(raster) as ds:
        scale = max(1.0, max(ds.width, ds.height) / _MAX_READ)
        h, w = max(1, int(ds.height / scale)), max(1, int(ds.width / scale))
        data = ds.read(1, out_shape=(h, w), resampling=Resampling.nearest)
        transform = ds.transform @ Affine.scale(ds.width / w, ds.height / h)
        crs = ds.crs
    mask = np.isin(data, list(classes))
    if not mask.any():
        return None
    polys = [shape(g) for g, _ in shapes(mask.astype("uint8"), mask=mask, transform=transform)]
    geom = reproject_geometry(unary_union(polys), crs, WGS84).intersection(within)
    return None if geom.is_empty else geom


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def cap_rings(geom: BaseGeometry, max_vertices: int = MAX_VERTICES, max_polygons: int = MAX_POLYGONS) -> list[list[tuple[float, float]]]:
    """Exterior rings of the largest polygons of ``geom`` as closed (lat, lon) lists of ≤ ``max_vertices``."""
    out: list[list[tuple[float, float]]] = []
    for poly in sorted(_polygons(geom), key=lambda p: p.area, reverse=True)[:max_polygons]:
        ring = Polygon(poly.exterior)
        tol = 0.0
        while len(ring.exterior.coords) > max_vertices or not ring.is_valid:
            tol = tol * 2 if tol else 1e-5
            simpler = poly.simplify(tol, preserve_topology=True)
            ring = Polygon(simpler.exterior) if isinstance(simpler, Polygon) and not simpler.is_empty else ring.convex_hull
            if tol > 1.0:
                ring = Polygon(poly.convex_hull.exterior).simplify(tol)
                break
        coords: Sequence[tuple[float, ...]] = list(ring.exterior.coords)
        if len(coords) < 4:
            continue
        out.append([(round(c[1], 5), round(c[0], 5)) for c in coords])
    return out

"""Mapbox Vector Tiles of the vector layers (:mod:`maps.features`), encoded with the PyPI ``mapbox-vector-tile``.

A tile of WebMercatorQuad ``z/x/y`` holds the features of one layer that intersect the tile, reprojected to
EPSG:3857, clipped to the tile plus a buffer of :data:`BUFFER` units (so strokes do not show seams), and
quantised to an extent of 4096 with the tile's top-left corner at (0, 0) and y growing downwards (MVT 2.1).
The encoder is given y-up coordinates (``y_coord_down=False``, tile bounds as ``quantize_bounds``) and flips them
itself. The tile layer is named after the hpgeo layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import TILE_CRS, WGS84, reproject_geometry
from maps.errors import RenderError
from maps.features import features, layer
from maps.tiles import WEB_MERCATOR
from products.vectors import VectorFeature

__all__ = ["EXTENT", "BUFFER", "TileOutOfRange", "encode_features", "layer_tile", "check_tile"]

EXTENT = 4096
BUFFER = 64
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


class TileOutOfRange(RenderError):
    """z/x/y is not a WebMercatorQuad tile (or above the highest zoom served)."""


def check_tile(z: int, x: int, y: int, max_zoom: int) -> None:
    if not (0 <= z <= max_zoom):
        raise TileOutOfRange(f"zoom {z} is outside 0..{max_zoom}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise TileOutOfRange(f"tile {z}/{x}/{y} does not exist (x and y must be in 0..{n - 1} at zoom {z})")


def _props(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in p.items():
        if v is None:
            continue
        if isinstance(v, (dict, list, tuple)):
            v = json.dumps(v, ensure_ascii=False)
        elif not isinstance(v, (str, int, float, bool)):
            v = str(v)
        out[str(k)] = v
    return out


def encode_features(feats: Iterable[VectorFeature], layer_name: str, z: int, x: int, y: int) -> bytes:
    """Encode WGS 84 features into the MVT of tile ``z/x/y`` (clipped, quantised to :data:`EXTENT`)."""
    import mapbox_vector_tile

    b = WEB_MERCATOR.xy_bounds(x, y, z)
    minx, miny, maxx, maxy = b.left, b.bottom, b.right, b.top
    pad = (maxx - minx) * BUFFER / EXTENT
    out = []
    for f in feats:
        g: BaseGeometry = reproject_geometry(f.geometry, WGS84, TILE_CRS)
        g = shapely.clip_by_rect(g, minx - pad, miny - pad, maxx + pad, maxy + pad)
        if g.is_empty:
            continue
        out.append({"geometry": g, "properties": _props(f.properties), "id": None})
    if not out:
        return b""
    for i, f in enumerate(out):  # integer ids (MVT ids are unsigned integers)
        f["id"] = i + 1
    return mapbox_vector_tile.encode(
        [{"name": layer_name, "features": out}],
        default_options={"quantize_bounds": (minx, miny, maxx, maxy), "extents": EXTENT, "y_coord_down": False},
    )


def layer_tile(catalog: Any, data_dir: Path, name: str, z: int, x: int, y: int, *, max_zoom: int = 24) -> bytes:
    """The MVT of layer ``name`` at ``z/x/y`` (empty bytes when no feature is there)."""
    layer(name)
    check_tile(z, x, y, max_zoom)
    w, s, e, n = WEB_MERCATOR.bounds(x, y, z)
    feats = features(catalog, data_dir, name, bbox=(w, s, e, n))
    return encode_features(feats, name, z, x, y)

"""An immutable raster grid: shape + affine transform + CRS (after odc-geo's GeoBox).

Every product declares the grid it writes to; combining rasters on different grids raises
:class:`geo.errors.GridMismatch` instead of silently resampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import Polygon, box

from geo.crs import WGS84, norm_crs, reproject_geometry, transform_bounds
from geo.errors import GeoError, GridMismatch

__all__ = ["Grid", "georef"]


@dataclass(frozen=True)
class Grid:
    """Pixel grid. ``shape`` is (height, width); ``transform`` maps (col, row) to the pixel's upper-left corner."""

    shape: tuple[int, int]
    transform: Affine
    crs_wkt: str

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_bbox(cls, bbox: tuple[float, float, float, float], crs: Any, resolution: float) -> "Grid":
        """Grid covering ``bbox`` (in ``crs`` units) with square pixels snapped to multiples of ``resolution``."""
        if resolution <= 0:
            raise GeoError("resolution must be positive")
        minx, miny, maxx, maxy = bbox
        if not (maxx > minx and maxy > miny):
            raise GeoError(f"empty bbox {bbox}")
        x0 = math.floor(minx / resolution) * resolution
        y1 = math.ceil(maxy / resolution) * resolution
        x1 = math.ceil(maxx / resolution) * resolution
        y0 = math.floor(miny / resolution) * resolution
        w = int(round((x1 - x0) / resolution))
        h = int(round((y1 - y0) / resolution))
        return cls((h, w), Affine(resolution, 0.0, x0, 0.0, -resolution, y1), norm_crs(crs).to_wkt())

    @classmethod
    def from_dataset(cls, ds: Any) -> "Grid":
        """From an open rasterio dataset."""
        return cls((ds.height, ds.width), ds.transform, norm_crs(ds.crs).to_wkt())

    @classmethod
    def from_dataarray(cls, da: Any) -> "Grid":
        """From an xarray object carrying rioxarray's spatial metadata."""
        rio = da.rio
        if rio.crs is None:
            raise GeoError("DataArray has no CRS")
        return cls((rio.height, rio.width), rio.transform(recalc=True), norm_crs(rio.crs).to_wkt())

    # -- properties ---------------------------------------------------------------------------
    @property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def resolution(self) -> tuple[float, float]:
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        x0, y0 = t.c, t.f
        x1, y1 = t @ (self.width, self.height)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @property
    def pixel_area(self) -> float:
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)

    def footprint(self, crs: Any = WGS84) -> Polygon:
        """The grid's outline as a polygon in ``crs`` (densified, so it stays exact after reprojection)."""
        poly = box(*self.bounds).segmentize(max(self.bounds[2] - self.bounds[0], self.bounds[3] - self.bounds[1]) / 20)
        return reproject_geometry(poly, self.crs, crs)

    def bounds_in(self, crs: Any = WGS84) -> tuple[float, float, float, float]:
        return transform_bounds(self.bounds, self.crs, crs)

    def coords(self) -> dict[str, np.ndarray]:
        """Pixel-centre coordinates, as xarray/rioxarray expect them."""
        t = self.transform
        xs = t.c + t.a * (np.arange(self.width) + 0.5)
        ys = t.f + t.e * (np.arange(self.height) + 0.5)
        return {"y": ys, "x": xs}

    # -- checks -------------------------------------------------------------------------------
    def check_same(self, other: "Grid", what: str = "rasters") -> None:
        if self.shape != other.shape or not self.transform.almost_equals(other.transform, 1e-6) or self.crs != other.crs:
            raise GridMismatch(f"{what} are on different grids: {self} vs {other}")

    def __str__(self) -> str:  # compact, for error messages
        r = self.resolution[0]
        return f"Grid({self.height}x{self.width} @ {r:g} {self.crs.to_string()}, origin=({self.transform.c:g}, {self.transform.f:g}))"


def georef(out: Any, like: Any) -> Any:
    """``out`` (an xarray DataArray) with ``like``'s CRS and transform written back.

    ``xr.where`` and most arithmetic drop rioxarray's grid mapping; products put it back with this
    before returning a result, so every output carries its georeferencing.
    """
    if like.rio.crs is None:
        return out
    return out.rio.write_crs(like.rio.crs).rio.write_transform(like.rio.transform())

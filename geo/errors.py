"""Errors of the geo package (one class per condition, under the hpgeo categories)."""

from __future__ import annotations

from base.errors import HpgeoWarning, InvalidRequest, NotFound

__all__ = [
    "GeoError",
    "CRSMismatch",
    "GridMismatch",
    "InvalidGeometry",
    "UnreadableFile",
    "InvalidCOG",
    "AOINotFound",
    "GeometryRepaired",
]


class GeoError(InvalidRequest):
    """Base of geo's input errors."""


class CRSMismatch(GeoError):
    """Two things that must share a CRS do not."""


class GridMismatch(GeoError):
    """Two rasters that must share a grid (shape, transform, CRS) do not."""


class InvalidGeometry(GeoError):
    """A geometry is empty, of the wrong type, or cannot be repaired."""


class UnreadableFile(GeoError):
    """A vector or raster file cannot be opened or parsed."""


class InvalidCOG(GeoError):
    """A written file fails Cloud-Optimized GeoTIFF validation."""


class AOINotFound(NotFound):
    """No AOI with that id (valid on that date)."""


class GeometryRepaired(HpgeoWarning):
    """An invalid geometry was repaired with make_valid."""

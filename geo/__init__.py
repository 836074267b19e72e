"""geo: CRS helpers, grids, AOIs and COG I/O for hpgeo (no web framework here)."""

from geo.crs import PROCESSING_CRS, TILE_CRS, WGS84, norm_crs, reproject_geometry
from geo.errors import GeoError
from geo.grid import Grid

__all__ = ["PROCESSING_CRS", "TILE_CRS", "WGS84", "norm_crs", "reproject_geometry", "Grid", "GeoError"]

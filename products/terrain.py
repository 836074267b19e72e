"""Terrain exclusions for SAR water mapping: steep slopes, radar shadow and layover, from a DEM.

Water cannot pond on steep slopes, and a SAR sensor sees nothing in radar shadow and a mix of
slopes in layover, so flood services exclude those pixels (GFM's exclusion mask; Martinis et
al. 2015; Twele et al. 2016). With a DEM on the product grid (metres, projected CRS):

* slope (degrees) and aspect from Horn's (1981) 3×3 finite differences;
* the terrain slope component along the radar look direction, α (positive when the ground faces
  the sensor): α = atan(tan(slope) · cos(aspect_downhill − (look_azimuth + 180°)));
* layover where α ≥ θ (the ground faces the sensor more steeply than the incidence angle θ),
  shadow where −α ≥ 90° − θ (the ground faces away more steeply than the grazing angle);
  this is the local, per-pixel criterion (Kropatsch & Strobl 1990; Meyer 2019, SAR Handbook ch. 2),
  without ray tracing of distant terrain;
* exclusion = slope > max_slope_deg (5° by default) ∨ shadow ∨ layover ∨ (elevation > max_elevation_m
  if given).

Lazy on dask input (``map_overlap`` with a one-pixel halo).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from products.compute import sum_by_chunk_rows
from products.errors import InvalidInputs

__all__ = ["TerrainParams", "slope_aspect", "shadow_layover", "terrain_exclusion"]


class TerrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")  # nested in the flood parameters: unknown keys refused there too

    max_slope_deg: float = Field(5.0, gt=0, le=90, description="Pixels steeper than this (degrees) are excluded.")
    max_elevation_m: float | None = Field(None, ge=-500, le=9000, description="Pixels higher than this (m above the DEM datum) are excluded.")
    incidence_deg: float = Field(37.0, gt=0, lt=90, description="Radar incidence angle (degrees; S1 IW mid-swath ≈ 37°).")
    look_azimuth_deg: float = Field(
        80.0, ge=0, lt=360, description="Azimuth the radar looks towards (degrees from north; S1 ascending right-looking ≈ 80°, descending ≈ 280°)."
    )


def _horn_block(z: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """(2, h, w): slope (deg) and downhill aspect (deg from north, clockwise) by Horn (1981)."""
    zp = np.pad(z.astype(np.float64), 1, mode="edge")
    a, b, c = zp[:-2, :-2], zp[:-2, 1:-1], zp[:-2, 2:]
    d, f = zp[1:-1, :-2], zp[1:-1, 2:]
    g, h, i = zp[2:, :-2], zp[2:, 1:-1], zp[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * dx)  # towards east
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8.0 * dy)  # towards south (rows grow southwards)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    # downhill direction: (-dzdx east, +dzdy north) since north = -south
    aspect = (np.degrees(np.arctan2(-dzdx, dzdy)) + 360.0) % 360.0
    return np.stack([slope, aspect]).astype(np.float32)


def _pixel_size(dem: xr.DataArray) -> tuple[float, float]:
    crs = dem.rio.crs
    if crs is None:
        raise InvalidInputs("the DEM has no CRS")
    if crs.is_geographic:
        raise InvalidInputs("the DEM must be on a projected grid in metres (it is geographic); put it on the product grid first")
    rx, ry = dem.rio.resolution()
    return abs(float(rx)), abs(float(ry))


def slope_aspect(dem: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Slope (degrees, 0–90) and downhill aspect (degrees from north, clockwise) of a DEM in metres."""
    dx, dy = _pixel_size(dem)
    data = dem.data
    if hasattr(data, "map_overlap"):
        slope = data.map_overlap(lambda b: _horn_block(b, dx, dy)[0], depth=1, boundary="nearest", dtype=np.float32)
        aspect = data.map_overlap(lambda b: _horn_block(b, dx, dy)[1], depth=1, boundary="nearest", dtype=np.float32)
    else:
        out = _horn_block(np.asarray(data), dx, dy)
        slope, aspect = out[0], out[1]
    return dem.copy(data=slope).astype(np.float32), dem.copy(data=aspect).astype(np.float32)


def shadow_layover(slope: xr.DataArray, aspect: xr.DataArray, incidence_deg: float, look_azimuth_deg: float) -> tuple[xr.DataArray, xr.DataArray]:
    """(shadow, layover) boolean masks from slope/aspect and the radar geometry (local criterion)."""
    towards_sensor = (look_azimuth_deg + 180.0) % 360.0
    rel = np.radians(aspect - towards_sensor)
    alpha = np.degrees(np.arctan(np.tan(np.radians(slope)) * np.cos(rel)))  # >0: facing the sensor
    layover = alpha >= incidence_deg
    shadow = -alpha >= 90.0 - incidence_deg
    return shadow, layover


def terrain_exclusion(dem: xr.DataArray, params: TerrainParams | None = None) -> tuple[xr.DataArray, dict[str, Any]]:
    """Boolean exclusion mask (True = exclude) on the DEM grid, and counts of each reason."""
    p = params or TerrainParams()
    slope, aspect = slope_aspect(dem)
    shadow, layover = shadow_layover(slope, aspect, p.incidence_deg, p.look_azimuth_deg)
    steep = slope > p.max_slope_deg
    excl = steep | shadow | layover
    if p.max_elevation_m is not None:
        excl = excl | (dem > p.max_elevation_m)
    excl = excl & np.isfinite(dem)
    diag = {
        "excluded_steep_pixels": int(sum_by_chunk_rows(steep)),
        "excluded_shadow_pixels": int(sum_by_chunk_rows(shadow)),
        "excluded_layover_pixels": int(sum_by_chunk_rows(layover)),
    }
    return excl, diag

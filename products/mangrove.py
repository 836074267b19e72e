"""Mangrove extent from Sentinel-2 with the Mangrove Vegetation Index, and gain/loss between two dates.

MVI = (NIR − green) / (SWIR1 − green) (Baloloy et al. 2020, ISPRS J. 166: 95–117), with Sentinel-2
B08 (NIR), B03 (green) and B11 (SWIR1) surface reflectance. A pixel is mangrove where
MVI ∈ [4.5, 16.5], the range the authors report for mangroves (their published threshold; no tuning),
and it is vegetated (NDVI ≥ 0.2) — open water and bare ground, where SWIR1 ≈ green makes the ratio
unstable, are excluded by that guard and by SWIR1 − green > 0.

Classes: 0 not mangrove · 1 mangrove (both dates when a ``before`` scene is given) · 2 gain (mangrove
now, not before) · 3 loss (mangrove before, not now) · 255 no data (cloud or outside either scene).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pydantic import Field, model_validator

from base.errors import HpgeoWarning
from products.compute import isin, sum_by_chunk_rows
from products.errors import InsufficientCoverage, InvalidInputs, InvalidParameters
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register

__all__ = ["MANGROVE_CLASSES", "MangroveParams", "mvi", "mangrove_mask", "mangrove_classes", "Mangrove"]

NOT_MANGROVE, MANGROVE, GAIN, LOSS, NODATA = 0, 1, 2, 3, 255
MANGROVE_CLASSES = {NOT_MANGROVE: "not mangrove", MANGROVE: "mangrove", GAIN: "mangrove gain", LOSS: "mangrove loss", NODATA: "no data"}
ASSETS = ("B03", "B04", "B08", "B11")


class MangroveParams(ProductParams):
    mvi_min: float = Field(4.5, gt=0, description="Lower MVI bound of mangroves (Baloloy et al. 2020).")
    mvi_max: float = Field(16.5, gt=0, description="Upper MVI bound of mangroves (Baloloy et al. 2020).")
    ndvi_min: float = Field(0.2, ge=-1, le=1, description="Vegetation guard: minimum NDVI.")

    @model_validator(mode="after")
    def _ordered(self) -> "MangroveParams":
        if self.mvi_min >= self.mvi_max:
            raise ValueError(f"mvi_min ({self.mvi_min}) must be below mvi_max ({self.mvi_max})")
        return self


def mvi(green: xr.DataArray, nir: xr.DataArray, swir1: xr.DataArray) -> xr.DataArray:
    """Mangrove Vegetation Index (unitless); NaN where SWIR1 − green ≤ 0 (water, where the ratio is meaningless)."""
    den = swir1 - green
    return ((nir - green) / den).where(den > 0)


def mangrove_mask(bands: Mapping[str, xr.DataArray], p: MangroveParams) -> tuple[xr.DataArray, xr.DataArray]:
    """(mangrove boolean, valid boolean) from reflectance bands B03, B04, B08, B11."""
    g, r, n, s = (bands[a].astype(np.float32) for a in ASSETS)
    m = mvi(g, n, s)
    ndvi = (n - r) / (n + r)
    valid = np.isfinite(g) & np.isfinite(r) & np.isfinite(n) & np.isfinite(s)
    return (m >= p.mvi_min) & (m <= p.mvi_max) & (ndvi >= p.ndvi_min), valid


def mangrove_classes(now: Mapping[str, xr.DataArray], before: Mapping[str, xr.DataArray] | None, p: MangroveParams) -> xr.DataArray:
    """uint8 classes (see module doc); lazy for dask input, on ``now``'s grid."""
    m_now, v_now = mangrove_mask(now, p)
    if before is None:
        out = xr.where(v_now, m_now.astype(np.uint8), NODATA)
    else:
        m_pre, v_pre = mangrove_mask(before, p)
        cls = xr.where(m_now & m_pre, MANGROVE, NOT_MANGROVE)
        cls = xr.where(m_now & ~m_pre, GAIN, cls)
        cls = xr.where(~m_now & m_pre, LOSS, cls)
        out = xr.where(v_now & v_pre, cls, NODATA)
    like = now["B08"]
    out = out.astype(np.uint8)
    if like.rio.crs is not None:
        out = out.rio.write_crs(like.rio.crs).rio.write_transform(like.rio.transform())
    return out


@register
class Mangrove(Algorithm):
    name = "mangrove"
    version = "1.0.0"
    title = "Mangrove extent and gain/loss (MVI)"
    title_vi = "Diện tích rừng ngập mặn và tăng/giảm (chỉ số MVI)"
    description = __doc__ or ""
    collection = "mangrove-extent"
    inputs = (
        InputSpec("scene", ("sentinel-2-l2a",), ASSETS, "Surface reflectance at the date mapped", resample=S2_20M_BANDS),
        InputSpec("before", ("sentinel-2-l2a",), ASSETS, "Earlier scene for gain/loss", optional=True, resample=S2_20M_BANDS),
    )
    outputs = (OutputSpec("mangrove", "uint8", "Mangrove extent / gain / loss", nodata=NODATA, classes=MANGROVE_CLASSES, colormap="mangrove"),)
    Params = MangroveParams
    references = ("Baloloy, A. B., Blanco, A. C., Ana, R. R. C. S., Nadaoka, K. (2020) Development and application of a new mangrove vegetation index (MVI) for rapid and accurate mangrove mapping. ISPRS J. Photogramm. Remote Sens. 166, 95–117.",)

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        if params.mvi_min >= params.mvi_max:
            raise InvalidParameters(f"mangrove: mvi_min {params.mvi_min} must be below mvi_max {params.mvi_max}")
        for role, bands in inputs.items():
            missing = [a for a in ASSETS if a not in bands]
            if missing:
                raise InvalidInputs(f"mangrove: input {role!r} lacks {', '.join(missing)}")
        out = mangrove_classes(inputs["scene"], inputs.get("before"), params)
        diag: dict[str, Any] = {"index": "MVI", "mvi_range": [params.mvi_min, params.mvi_max], "mode": "gain/loss" if "before" in inputs else "extent"}
        valid = int(sum_by_chunk_rows(out != NODATA))
        if valid == 0:
            raise InsufficientCoverage("mangrove: no pixel is clear in every input (all cloud, no data or outside the scenes)")
        found = int(sum_by_chunk_rows(isin(out, (MANGROVE, GAIN, LOSS))))
        diag.update({"valid_pixels": valid, "mangrove_pixels": found})
        if found == 0:  # an all-"not mangrove" map: say why instead of returning it silently
            msg = (f"mangrove: no clear pixel has MVI in [{params.mvi_min:g}, {params.mvi_max:g}] with NDVI ≥ {params.ndvi_min:g}"
                   f"{' on either date' if 'before' in inputs else ''}: the map is all 'not mangrove' (no mangrove in the scene, "
                   "or the MVI range of Baloloy et al. 2020 does not fit this sensor/season)")
            diag["note"] = msg
            warnings.warn(msg, HpgeoWarning, stacklevel=2)
        out.attrs["hpgeo:diagnostics"] = diag
        return {"mangrove": out}

"""Flood and water extent from a Sentinel-1 pair: Lee filter, Otsu thresholds on dB, change detection.

Classes: 0 not water · 1 flood (water now, not before, with a backscatter drop) · 2 water before and
after (permanent/reference water: sea, rivers, ponds) · 255 no data. Without a pre-event scene the
product is a water mask: 1 = water (flood or permanent, not separable), 0 = not water.

Method (fixed, documented, no tuning to a test scene):
1. σ0 dB → linear power, Lee filter (window 5, ENL 4.4 for IW GRD-HR), back to dB;
2. Otsu threshold on the filtered post-event histogram (−35…10 dB, 0.05 dB bins); the same for the
   pre-event scene;
3. water_post = post < T_post; water_pre = pre < T_pre; drop = post − pre < −change_db (3 dB);
4. flood = water_post ∧ ¬water_pre ∧ drop; permanent = water_post ∧ water_pre.
References: Otsu (1979); Lee (1980); Martinis et al. (2009, 2015) and the Copernicus Global Flood
Monitoring ensemble for split-based thresholding and change detection.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from products.registry import Algorithm, InputSpec, OutputSpec, register
from products.sar import db_to_linear, lee_filter, linear_to_db, otsu_threshold

__all__ = ["SarFloodParams", "SarFlood", "sar_flood_classes", "FLOOD_CLASSES"]

NOT_WATER, FLOOD, PERMANENT, NODATA = 0, 1, 2, 255
FLOOD_CLASSES = {NOT_WATER: "not water", FLOOD: "flood (new water)", PERMANENT: "permanent water", NODATA: "no data"}


class SarFloodParams(BaseModel):
    polarization: Literal["vv", "vh"] = Field("vv", description="Band used for thresholding.")
    filter_size: int = Field(5, ge=3, le=15, description="Lee filter window (odd, pixels).")
    enl: float = Field(4.4, gt=0, description="Equivalent number of looks of the input (IW GRD-HR: 4.4).")
    change_db: float = Field(3.0, ge=0, le=20, description="Backscatter drop (dB) required for new water.")
    threshold_db: float | None = Field(None, description="Fixed threshold instead of Otsu (dB).")


def _filtered_db(db: xr.DataArray, p: SarFloodParams) -> xr.DataArray:
    return linear_to_db(lee_filter(db_to_linear(db.astype(np.float32)), p.filter_size, p.enl))


def sar_flood_classes(
    post_db: xr.DataArray, pre_db: xr.DataArray | None = None, params: SarFloodParams | None = None
) -> tuple[xr.DataArray, dict[str, Any]]:
    """Classify water/flood from σ0 dB DataArrays on the same grid. Returns (uint8 classes, diagnostics)."""
    p = params or SarFloodParams()
    post_f = _filtered_db(post_db, p)
    t_post, eta_post = (p.threshold_db, None) if p.threshold_db is not None else otsu_threshold(post_f)
    water_post = post_f < t_post
    valid = np.isfinite(post_db)
    diag: dict[str, Any] = {"threshold_post_db": round(float(t_post), 3), "bimodality_post": eta_post}
    if pre_db is None:
        out = xr.where(valid, water_post.astype(np.uint8), NODATA).astype(np.uint8)
        diag["mode"] = "single-scene water"
        return _georef(out, post_db), diag
    pre_f = _filtered_db(pre_db, p)
    t_pre, eta_pre = (p.threshold_db, None) if p.threshold_db is not None else otsu_threshold(pre_f)
    water_pre = pre_f < t_pre
    drop = (post_f - pre_f) < -p.change_db
    valid = valid & np.isfinite(pre_db)
    cls = xr.where(water_post & water_pre, PERMANENT, NOT_WATER)
    cls = xr.where(water_post & ~water_pre & drop, FLOOD, cls)
    cls = xr.where(valid, cls, NODATA).astype(np.uint8)
    diag.update({"threshold_pre_db": round(float(t_pre), 3), "bimodality_pre": eta_pre, "mode": "change detection"})
    return _georef(cls, post_db), diag


def _georef(out: xr.DataArray, like: xr.DataArray) -> xr.DataArray:
    """xr.where drops rioxarray's grid mapping: put the input's CRS and transform back."""
    if like.rio.crs is None:
        return out
    return out.rio.write_crs(like.rio.crs).rio.write_transform(like.rio.transform())


@register
class SarFlood(Algorithm):
    name = "flood-sar"
    version = "1.0.0"
    title = "Flood extent from Sentinel-1 (Otsu + change detection)"
    title_vi = "Vùng ngập lụt từ Sentinel-1 (ngưỡng Otsu + phát hiện biến động)"
    description = __doc__ or ""
    collection = "flood-extent"
    inputs = (
        InputSpec("post", ("sentinel-1-grd",), ("vv", "vh"), "Scene during or after the event"),
        InputSpec("pre", ("sentinel-1-grd",), ("vv", "vh"), "Reference scene before the event", optional=True),
    )
    outputs = (
        OutputSpec("flood", "uint8", "Flood / water classes", nodata=NODATA, classes=FLOOD_CLASSES, colormap="flood"),
    )
    Params = SarFloodParams
    references = (
        "Otsu, N. (1979) A threshold selection method from gray-level histograms. IEEE SMC 9(1).",
        "Lee, J.-S. (1980) Digital image enhancement and noise filtering by use of local statistics. IEEE PAMI 2(2).",
        "Martinis, S. et al. (2015) A fully automated TerraSAR-X based flood service. ISPRS J. 104.",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        pol = params.polarization
        post = inputs["post"][pol]
        pre = inputs["pre"][pol] if "pre" in inputs else None
        cls, diag = sar_flood_classes(post, pre, params)
        cls.attrs["hpgeo:diagnostics"] = diag
        return {"flood": cls}

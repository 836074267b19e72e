"""Oil-slick CANDIDATES from Sentinel-1: dark spots on the sea with area and shape filters.

Every detection is a *candidate*: wind shadows, biogenic films, rain cells and upwelling also
damp the sea's backscatter ("look-alikes"); confirmation needs an analyst, ancillary data (wind,
ship AIS) or a field report. Items, classes and legends say so.

Method (fixed, documented; after the adaptive-threshold detectors reviewed by Solberg 2012 and
Fingas & Brown 2014):
1. VV σ0 dB, Lee filter (5×5, ENL 4.4);
2. sea = below the scene's Otsu level (open water vs land) and, after a morphological opening with
   a disk of ``sea_opening_m`` (300 m), part of a body of water wider than rivers and ponds;
3. local sea background = mean of the filtered dB over sea pixels in a ``window_m`` (2 km) square;
   dark spot = sea pixel more than ``contrast_db`` (3 dB) below its background (oil damps the
   Bragg waves by 3–10 dB);
4. connected dark spots (8-connectivity) are kept as candidates when their area is between
   ``min_area_ha`` (5 ha) and ``max_area_km2`` (50 km², larger dark areas are low-wind zones) and
   their elongation (major/minor axis of the equivalent ellipse) is ≥ ``min_elongation`` (2.0),
   since spills are stretched by wind and currents while low-wind areas are compact.

Classes: 0 sea, no candidate · 1 oil-slick candidate · 2 dark spot rejected by the filters ·
3 land / not assessed · 255 no data. Each candidate's area (ha), elongation, compactness (4πA/P²),
mean contrast (dB) and centroid (lon, lat) are listed in the item's diagnostics.

Memory: connected-component labelling needs the whole scene's dark-spot mask in memory (1 byte per
pixel plus 4 for labels); the filtering steps are lazy.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field
from scipy import ndimage

from products.flood import SarFloodParams, _filtered_db, _georef, global_threshold
from products.registry import Algorithm, InputSpec, OutputSpec, register

__all__ = ["OIL_CLASSES", "OilParams", "OilCandidates", "oil_candidates"]

SEA, CANDIDATE, REJECTED, LAND, NODATA = 0, 1, 2, 3, 255
OIL_CLASSES = {SEA: "sea, no candidate", CANDIDATE: "oil-slick candidate (unconfirmed)", REJECTED: "dark spot rejected (area/shape)", LAND: "land or not assessed", NODATA: "no data"}


class OilParams(BaseModel):
    contrast_db: float = Field(3.0, gt=0, le=20, description="Dark spot: this many dB below the local sea background.")
    window_m: float = Field(2000.0, gt=0, description="Side of the square window of the local sea background (m).")
    sea_opening_m: float = Field(300.0, ge=0, description="Opening radius (m) that removes rivers and ponds from the sea mask.")
    min_area_ha: float = Field(5.0, ge=0, description="Smallest candidate (ha).")
    max_area_km2: float = Field(50.0, gt=0, description="Largest candidate (km²); larger dark areas are low-wind zones.")
    min_elongation: float = Field(2.0, ge=1, description="Smallest major/minor axis ratio of a candidate.")
    max_listed: int = Field(100, ge=0, le=10000, description="At most this many candidates are listed in the diagnostics.")


def _local_sea_mean(x: np.ndarray, sea: np.ndarray, size: int) -> np.ndarray:
    v = np.where(sea, x, 0.0).astype(np.float64)
    w = ndimage.uniform_filter(sea.astype(np.float64), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ndimage.uniform_filter(v, size, mode="constant") / w).astype(np.float32)


def _shape(mask: np.ndarray, res: float) -> tuple[float, float, float]:
    """(area m², elongation, compactness 4πA/P²) of one object's boolean mask."""
    ys, xs = np.nonzero(mask)
    area = float(len(ys)) * res * res
    if len(ys) < 3:
        return area, 1.0, 1.0
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    ev = np.sort(np.linalg.eigvalsh(cov + np.eye(2) / 12.0))  # +1/12: a pixel's own extent
    elong = float(np.sqrt(ev[1] / ev[0]))
    edge = mask & ~ndimage.binary_erosion(mask)
    perim = float(edge.sum()) * res
    compact = float(4 * np.pi * area / perim**2) if perim > 0 else 1.0
    return area, elong, min(compact, 1.0)


def oil_candidates(vv_db: xr.DataArray, params: OilParams | None = None) -> tuple[xr.DataArray, dict[str, Any]]:
    """Classes (uint8, see :data:`OIL_CLASSES`) and diagnostics with the candidates' attributes."""
    p = params or OilParams()
    res = abs(float(vv_db.rio.resolution()[0]))
    if vv_db.rio.crs is None or vv_db.rio.crs.is_geographic:
        from products.errors import InvalidInputs

        raise InvalidInputs("oil-slick detection needs σ0 on a projected grid in metres")
    filt = _filtered_db(vv_db, SarFloodParams())
    s = global_threshold(filt)
    x = np.asarray(filt.values, dtype=np.float32)  # the labelling below needs the whole scene
    valid = np.isfinite(x)
    water = valid & (x < s.threshold)
    r = int(round(p.sea_opening_m / res))
    if r > 0:
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disk = xx**2 + yy**2 <= r * r
        core = ndimage.binary_opening(water, structure=disk)
        # sea = water bodies that contain an opened core (keeps the slick itself, drops rivers/ponds)
        lab, _ = ndimage.label(water, structure=np.ones((3, 3), bool))
        keep = np.unique(lab[core])
        sea = np.isin(lab, keep[keep > 0])
    else:
        sea = water
    size = max(int(round(p.window_m / res)) | 1, 3)
    bg = _local_sea_mean(x, sea, size)
    contrast = bg - x
    dark = sea & (contrast > p.contrast_db)
    lab, n = ndimage.label(dark, structure=np.ones((3, 3), bool))
    cls = np.full(x.shape, LAND, np.uint8)
    cls[sea] = SEA
    cls[dark] = REJECTED
    cls[~valid] = NODATA
    listed: list[dict[str, Any]] = []
    n_cand = 0
    transform = vv_db.rio.transform()
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(vv_db.rio.crs, "EPSG:4326", always_xy=True)
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        m = lab[sl] == i
        area_px = int(m.sum())
        area_m2 = area_px * res * res
        if area_m2 < p.min_area_ha * 1e4 or area_m2 > p.max_area_km2 * 1e6:
            continue
        area, elong, compact = _shape(m, res)
        if elong < p.min_elongation:
            continue
        cls[sl][m] = CANDIDATE
        n_cand += 1
        if len(listed) < p.max_listed:
            cy, cx = ndimage.center_of_mass(m)
            ex, ey = transform * (sl[1].start + cx + 0.5, sl[0].start + cy + 0.5)
            lon, lat = to_wgs.transform(ex, ey)
            listed.append({
                "id": n_cand,
                "area_ha": round(area / 1e4, 2),
                "elongation": round(elong, 2),
                "compactness": round(compact, 3),
                "mean_contrast_db": round(float(contrast[sl][m].mean()), 2),
                "centroid": [round(lon, 6), round(lat, 6)],
                "status": "candidate (unconfirmed)",
            })
    out = vv_db.copy(data=cls)
    diag = {
        "sea_threshold_db": round(s.threshold, 3),
        "dark_spots": int(n),
        "candidates": n_cand,
        "candidate_list": listed,
        "note": "oil-slick CANDIDATES from dark-spot detection; not confirmed spills",
    }
    return _georef(out, vv_db), diag


@register
class OilCandidates(Algorithm):
    name = "oil-candidates"
    version = "1.0.0"
    title = "Oil-slick candidates (SAR dark spots, unconfirmed)"
    title_vi = "Vết dầu nghi ngờ — ứng viên chưa xác nhận (vùng tối SAR)"
    description = __doc__ or ""
    collection = "oil-slick-candidates"
    inputs = (InputSpec("scene", ("sentinel-1-grd",), ("vv",), "Sentinel-1 scene over the sea"),)
    outputs = (OutputSpec("candidates", "uint8", "Oil-slick candidates (unconfirmed) and dark spots", nodata=NODATA, classes=OIL_CLASSES, colormap="oil-candidates"),)
    Params = OilParams
    references = (
        "Solberg, A.H.S. (2012) Remote sensing of ocean oil-spill pollution. Proc. IEEE 100(10).",
        "Fingas, M., Brown, C. (2014) Review of oil spill remote sensing. Marine Pollution Bulletin 83(1).",
        "Solberg, A.H.S., Brekke, C., Husøy, P.O. (2007) Oil spill detection in Radarsat and Envisat SAR images. IEEE TGRS 45(3).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        cls, diag = oil_candidates(inputs["scene"]["vv"], params)
        cls.attrs["hpgeo:diagnostics"] = diag
        return {"candidates": cls}

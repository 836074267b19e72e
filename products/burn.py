"""Burn severity from a Sentinel-2 pair: NBR, dNBR and the USGS severity classes (Cát Bà forest fires).

NBR = (NIR − SWIR2) / (NIR + SWIR2) with S2 B08 (842 nm; B8A where the item has it) and B12
(2190 nm); dNBR = NBR_pre − NBR_post, reported ×1000 as the USGS FIREMON tables do (Key & Benson
2006). Classes by the USGS dNBR breakpoints (×1000, lower bound inclusive):

==== ============================ ==================
code class                        dNBR ×1000
==== ============================ ==================
1    enhanced regrowth, high      < −250
2    enhanced regrowth, low       −250 … −101
3    unburned                     −100 … +99
4    low severity                 +100 … +269
5    moderate-low severity        +270 … +439
6    moderate-high severity       +440 … +659
7    high severity                ≥ +660
255  no data (cloud, shadow, missing in either date)
==== ============================ ==================

Clouds and shadows are masked with each date's L2A scene classification, and so is water (SCL 6
in either date): dNBR describes vegetation, and turbidity changes would read as "regrowth".
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, Mapping

import numpy as np
import xarray as xr
from pydantic import Field

from geo.grid import georef
from base.errors import HpgeoWarning
from products.errors import InsufficientCoverage, InvalidInputs
from products.optical import normalized_difference, scl_valid
from products.compute import isin, sum_by_chunk_rows
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register

__all__ = ["BURN_CLASSES", "DNBR_BREAKS", "nbr", "dnbr", "severity_classes", "BurnParams", "BurnSeverity"]

NODATA = 255
SCL_WATER = 6
DNBR_NODATA = -32768
BURN_CLASSES = {
    1: "enhanced regrowth, high",
    2: "enhanced regrowth, low",
    3: "unburned",
    4: "low severity",
    5: "moderate-low severity",
    6: "moderate-high severity",
    7: "high severity",
    NODATA: "no data",
}
# lower bounds (dNBR ×1000) of classes 2..7 (Key & Benson 2006, USGS)
DNBR_BREAKS = (-250.0, -100.0, 100.0, 270.0, 440.0, 660.0)


def nbr(nir: xr.DataArray, swir2: xr.DataArray) -> xr.DataArray:
    """Normalised burn ratio (unitless, −1…1)."""
    return normalized_difference(nir, swir2)


def dnbr(pre_nbr: xr.DataArray, post_nbr: xr.DataArray) -> xr.DataArray:
    """dNBR ×1000 (pre − post; positive = vegetation lost)."""
    return ((pre_nbr - post_nbr) * 1000.0).astype(np.float32)


def severity_classes(d: xr.DataArray) -> xr.DataArray:
    """USGS class codes 1–7 of dNBR ×1000 (255 where NaN). Lazy for dask input."""
    data = d.data
    if hasattr(data, "map_blocks"):
        out = data.map_blocks(_classify_block, dtype=np.uint8)
    else:
        out = _classify_block(np.asarray(data))
    return d.copy(data=out).astype(np.uint8)


def _classify_block(x: np.ndarray) -> np.ndarray:
    cls = (np.digitize(x, DNBR_BREAKS, right=False) + 1).astype(np.uint8)
    cls[~np.isfinite(x)] = NODATA
    return cls


class BurnParams(ProductParams):
    nir_band: Literal["auto", "B08", "B8A"] = Field("auto", description="NIR band: B8A (865 nm) when present, else B08 (842 nm).")
    mask_water: bool = Field(True, description="Mask pixels the L2A scene classification calls water (SCL 6) in either date.")


def _nbr_of(bands: Mapping[str, xr.DataArray], nir_band: str, mask_water: bool = True) -> tuple[xr.DataArray, str]:
    nir = nir_band if nir_band != "auto" else ("B8A" if "B8A" in bands else "B08")
    for b in (nir, "B12"):
        if b not in bands:
            raise InvalidInputs(f"burn severity needs Sentinel-2 band {b}; the item has {', '.join(bands)}")
    x = nbr(bands[nir], bands["B12"])
    if "SCL" in bands:
        x = x.where(scl_valid(bands["SCL"]))
        if mask_water:
            x = x.where(bands["SCL"].astype(np.float32).round() != SCL_WATER)
    return x, nir


@register
class BurnSeverity(Algorithm):
    name = "burn-severity"
    version = "1.0.0"
    title = "Burn severity (dNBR, USGS classes) from Sentinel-2"
    title_vi = "Mức độ cháy rừng (dNBR, phân cấp USGS) từ Sentinel-2"
    description = __doc__ or ""
    collection = "burn-severity"
    inputs = (
        InputSpec("post", ("sentinel-2-l2a",), ("B08", "B8A", "B12", "SCL"), "Scene after the fire", resample=S2_20M_BANDS),
        InputSpec("pre", ("sentinel-2-l2a",), ("B08", "B8A", "B12", "SCL"), "Scene before the fire", resample=S2_20M_BANDS),
    )
    outputs = (
        OutputSpec("severity", "uint8", "Burn severity class (USGS dNBR breakpoints)", nodata=NODATA, classes=BURN_CLASSES, colormap="burn-severity"),
        OutputSpec("dnbr", "int16", "dNBR ×1000 (pre − post)", nodata=DNBR_NODATA, unit="1e-3", colormap="rdylgn_r", rescale=(-500.0, 1000.0)),
    )
    Params = BurnParams
    references = (
        "Key, C.H., Benson, N.C. (2006) Landscape assessment: ground measure of severity, the Composite Burn Index; and remote sensing of severity, the Normalized Burn Ratio. USDA RMRS-GTR-164-CD.",
        "UN-SPIDER Recommended Practice: Burn Severity Mapping (dNBR classes after USGS).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        post, nir_post = _nbr_of(inputs["post"], params.nir_band, params.mask_water)
        pre, _nir_pre = _nbr_of(inputs["pre"], params.nir_band, params.mask_water)
        d = georef(dnbr(pre, post), inputs["post"][nir_post])
        sev = georef(severity_classes(d), d)
        dn = georef(xr.where(np.isfinite(d), d.clip(-2000, 2000).round(), DNBR_NODATA).astype(np.int16), d)
        burned = isin(sev, (4, 5, 6, 7))
        n_burned = int(sum_by_chunk_rows(burned))
        sev.attrs["hpgeo:diagnostics"] = {"nir_band": nir_post, "burned_pixels": n_burned}
        if int(sum_by_chunk_rows(np.isfinite(d))) == 0:
            raise InsufficientCoverage("burn severity: no pixel is clear on both dates (cloud, water or no data everywhere)")
        if n_burned == 0:  # a map with no burn at all: say so, with the largest dNBR seen
            top = float(d.max(skipna=True))
            msg = (f"burn severity: no pixel reaches the USGS 'low severity' dNBR of 0.1 (largest dNBR {top / 1000:.3f}): "
                   "no burn between the dates, or the dates do not bracket the fire")
            sev.attrs["hpgeo:diagnostics"]["note"] = msg
            warnings.warn(msg, HpgeoWarning, stacklevel=2)
        return {"severity": sev, "dnbr": dn}

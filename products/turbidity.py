"""Turbidity (FNU) of coastal and estuarine water from Sentinel-2 red reflectance (Nechad et al.).

Single-band semi-analytical algorithm of Nechad et al. (2009, 2010), with the red-band turbidity
calibration that Dogliotti et al. (2015) publish and use for all coastal and estuarine waters:

    T = A_T · ρw / (1 − ρw / C)      [FNU]

with ρw the water-leaving reflectance (unitless, = π·Rrs) in the red band, A_T = 228.1 FNU and
C = 0.1641 (calibrated at 645 nm; applied to S2 band 4, 665 nm, as Dogliotti et al. do for red bands
of other sensors; sensor-specific recalibrations can be passed as parameters). L2A bottom-of-atmosphere reflectance stands in for ρw
(no glint or adjacency correction: a documented approximation; ACOLITE/C2RCC water-leaving
reflectance is better where available). Applied only to water: MNDWI above its Otsu level
(``products.optical``) and a clear L2A scene classification; ρw ≥ C (outside the model's domain)
and land are no data. Values are clipped to 0…``max_fnu``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import xarray as xr
from pydantic import Field

from geo.grid import georef
import warnings

from base.errors import HpgeoWarning
from products.errors import InsufficientCoverage, InvalidInputs
from products.optical import index_otsu, mndwi, scl_valid
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register

__all__ = ["NECHAD_S2_B4", "nechad_turbidity", "TurbidityParams", "Turbidity"]

# Nechad et al. (2009) red-band turbidity calibration as published in Dogliotti et al. (2015), Table 1 (645 nm)
NECHAD_S2_B4 = {"A_T": 228.1, "C": 0.1641}


def nechad_turbidity(rho_w: xr.DataArray, a_t: float = NECHAD_S2_B4["A_T"], c: float = NECHAD_S2_B4["C"]) -> xr.DataArray:
    """Turbidity (FNU) from water-leaving reflectance ρw (unitless); NaN where ρw ≥ C or missing."""
    rho = rho_w.astype(np.float32)
    t = a_t * rho / (1.0 - rho / c)
    return t.where((rho < c) & np.isfinite(rho)).astype(np.float32)


class TurbidityParams(ProductParams):
    a_t: float = Field(NECHAD_S2_B4["A_T"], gt=0, description="Nechad A_T (FNU); default: red band, Nechad et al. 2009 / Dogliotti et al. 2015.")
    c: float = Field(NECHAD_S2_B4["C"], gt=0, lt=1, description="Nechad C (unitless reflectance); default: red band, Nechad et al. 2009 / Dogliotti et al. 2015.")
    max_fnu: float = Field(1000.0, gt=0, le=10_000, description="Upper clip of the output (FNU).")
    water_threshold: float | None = Field(None, ge=-1, le=1, description="Fixed MNDWI water threshold instead of Otsu.")


@register
class Turbidity(Algorithm):
    name = "turbidity"
    version = "1.0.0"
    title = "Turbidity (FNU) from Sentinel-2 red reflectance (Nechad)"
    title_vi = "Độ đục nước (FNU) từ phản xạ kênh đỏ Sentinel-2 (Nechad)"
    description = __doc__ or ""
    collection = "turbidity"
    inputs = (InputSpec("scene", ("sentinel-2-l2a",), ("B04", "B03", "B11", "SCL"), "Sentinel-2 L2A scene", resample=S2_20M_BANDS),)
    outputs = (OutputSpec("turbidity", "float32", "Turbidity of water pixels (FNU)", nodata=float("nan"), unit="FNU", colormap="turbidity", rescale=(0.0, 100.0)),)
    Params = TurbidityParams
    references = (
        "Nechad, B., Ruddick, K.G., Neukermans, G. (2009) Calibration and validation of a generic multisensor algorithm for mapping of turbidity in coastal waters. Proc. SPIE 7473.",
        "Nechad, B., Ruddick, K.G., Park, Y. (2010) Calibration and validation of a generic multisensor algorithm for mapping of total suspended matter in turbid waters. RSE 114(4).",
        "Nechad, B., Dogliotti, A., Ruddick, K., Doxaran, D. (2016) Particulate backscattering retrieval from remotely-sensed turbidity in various coastal and riverine turbid waters. ESA Living Planet Symposium, SP-740.",
        "Dogliotti, A.I. et al. (2015) A single algorithm to retrieve turbidity from remotely-sensed data in all coastal and estuarine waters. RSE 156.",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        bands = inputs["scene"]
        for b in ("B04", "B03", "B11"):
            if b not in bands:
                raise InvalidInputs(f"turbidity needs Sentinel-2 band {b}; the item has {', '.join(bands)}")
        idx = mndwi(bands["B03"], bands["B11"])
        if "SCL" in bands:
            idx = idx.where(scl_valid(bands["SCL"]))
        clear = int(np.isfinite(idx).sum())
        if clear == 0:
            raise InsufficientCoverage("turbidity: no pixel is clear (all cloud, no data or masked by the scene classification)")
        t_w, eta = (params.water_threshold, None) if params.water_threshold is not None else index_otsu(idx)
        water = idx > t_w
        turb = nechad_turbidity(bands["B04"].where(water), params.a_t, params.c).clip(0.0, params.max_fnu)
        out = georef(turb, bands["B04"])
        diag: dict[str, Any] = {"water_threshold_mndwi": round(float(t_w), 4), "bimodality_mndwi": eta, "nechad_A_T": params.a_t, "nechad_C": params.c}
        n_water = int(water.sum())
        n_out = int(np.isfinite(out).sum())
        diag.update({"clear_pixels": clear, "water_pixels": n_water, "turbidity_pixels": n_out})
        if n_out == 0:  # an all-no-data map: say why instead of returning it silently
            if n_water == 0:
                msg = (f"turbidity: no clear pixel is water (MNDWI > {float(t_w):.4g}) among {clear} clear pixels: the map is all no data")
            else:
                msg = (f"turbidity: all {n_water} water pixels have red reflectance ≥ C = {params.c:g} (outside the Nechad model) "
                       "or missing: the map is all no data")
            diag["note"] = msg
            warnings.warn(msg, HpgeoWarning, stacklevel=2)
        out.attrs["hpgeo:diagnostics"] = diag
        return {"turbidity": out}

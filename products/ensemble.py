"""Ensemble flood extent with a likelihood (0–100), after the Copernicus Global Flood Monitoring service.

GFM runs three independent flood algorithms and combines them by majority vote, reporting the mean
of their likelihoods (Salamon et al. 2021; Bauer-Marschallinger et al. 2022). hpgeo's three members:

1. **SAR change detection** (``flood-sar``'s method): Lee filter, Otsu on post and pre σ0 dB, new
   water with a backscatter drop > 3 dB. Likelihood L₁ = P(w|post) · (1 − P(w|pre)) where the drop
   holds, else 0.
2. **SAR single-scene, split-based**: the post-event σ0 thresholded by split-based Otsu (bimodal
   256-px tiles pooled; Martinis et al. 2009, Chini et al. 2017). L₂ = P_split(w|post) · (1 − P(w|pre)),
   the pre-event water being the reference (permanent) water mask that GFM also removes.
3. **Optical**: MNDWI of the post-event Sentinel-2 scene thresholded by Otsu (``water-optical``);
   L₃ = P(w|MNDWI_post) · (1 − P_ref), with P_ref from a pre-event S2 scene when given, else the SAR
   pre-event posterior. Cloudy pixels and missing scenes abstain.

P(w|x) is the Bayesian posterior of water with Gaussian class models fitted to the two sides of
each Otsu split and equal priors (monotone: 1 below the water mean, 0 above the land mean).

Combination: a member votes flood where Lᵢ ≥ 0.5; the ensemble is flood where more than half of the
members with data vote flood, and on a tie (one of two) where the mean likelihood ≥ 50.
``likelihood`` = 100 · mean(Lᵢ) over the members with data. Permanent water = water before (SAR
pre-event Otsu) and after (majority of members' water posteriors ≥ 0.5). Classes as ``flood-sar``:
0 not water · 1 flood · 2 permanent water · 255 no data; likelihood 255 = no data.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, Mapping

import numpy as np
import xarray as xr
from pydantic import Field

from geo.grid import georef
from products.errors import InsufficientCoverage, ThresholdUnreliable
from products.flood import (
    DEM_COLLECTIONS,
    FLOOD,
    FLOOD_CLASSES,
    LeeWindow,
    NODATA,
    NOT_WATER,
    PERMANENT,
    SarFloodParams,
    filtered_db,
    class_stats,
    global_threshold,
    split_based_threshold,
    water_posterior,
)
from products.optical import mndwi, scl_valid
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register
from products.sar import histogram, otsu_from_histogram
from products.terrain import TerrainParams, terrain_exclusion

__all__ = ["EnsembleParams", "FloodEnsemble", "ensemble_flood"]

LIKELIHOOD_NODATA = 255
# intermediates of at most this many pixels are computed once and kept in memory (4 bytes each);
# larger scenes stay lazy and are recomputed block by block, so memory stays bounded
PERSIST_MAX_PIXELS = 2**25


def _persist_small(*arrays: xr.DataArray) -> tuple[xr.DataArray, ...]:
    if all(hasattr(a.data, "dask") for a in arrays) and sum(a.size for a in arrays) <= PERSIST_MAX_PIXELS:
        import dask

        persisted = dask.persist(*[a.data for a in arrays])
        return tuple(a.copy(data=d) for a, d in zip(arrays, persisted))
    return arrays


class EnsembleParams(ProductParams):
    polarization: Literal["vv", "vh"] = Field("vv", description="SAR band used by the SAR members.")
    filter_size: LeeWindow = Field(5, description="Lee filter window (odd, pixels).")
    enl: float = Field(4.4, gt=0, le=100, description="Equivalent number of looks (IW GRD-HR: 4.4).")
    change_db: float = Field(3.0, ge=0, le=20, description="Backscatter drop (dB) required by the change member.")
    tile_size: int = Field(256, ge=32, le=4096, description="Tile size (pixels) of the split-based member.")
    terrain: TerrainParams = Field(default_factory=TerrainParams, description="Exclusions applied when a DEM is given.")


def _index_stats(idx: xr.DataArray) -> Any:
    """Otsu split of an index image on [−1, 1] (0.01 bins) with class moments; 'water' is the HIGH side."""
    counts, centres = histogram(idx.clip(-1.0, 1.0 - 1e-6), -1.0, 1.0, 0.01)
    if counts.sum() < 1000:
        raise InsufficientCoverage("too few clear optical pixels for a threshold")
    t, eta = otsu_from_histogram(counts, centres)
    if eta < 0.5:
        warnings.warn(f"weakly bimodal MNDWI histogram (eta={eta:.2f})", ThresholdUnreliable, stacklevel=2)
    # negate so that water is the low side, as for σ0 dB
    return class_stats(counts[::-1], -centres[::-1], -t, eta)


def _optical_posterior(bands: Mapping[str, xr.DataArray]) -> tuple[xr.DataArray, dict[str, Any]]:
    idx = mndwi(bands["B03"], bands["B11"])
    if "SCL" in bands:
        idx = idx.where(scl_valid(bands["SCL"]))
    s = _index_stats(idx)
    return water_posterior(-idx, s), {"threshold_mndwi": round(-s.threshold, 4)}


def ensemble_flood(
    post_db: xr.DataArray,
    pre_db: xr.DataArray,
    optical_post: Mapping[str, xr.DataArray] | None = None,
    optical_pre: Mapping[str, xr.DataArray] | None = None,
    dem: xr.DataArray | None = None,
    params: EnsembleParams | None = None,
) -> tuple[xr.DataArray, xr.DataArray, dict[str, Any]]:
    """(classes uint8, likelihood uint8 0–100/255, diagnostics) on the post-event grid."""
    p = params or EnsembleParams()
    sp = SarFloodParams(polarization=p.polarization, filter_size=p.filter_size, enl=p.enl, change_db=p.change_db)  # type: ignore[arg-type]
    post_f = filtered_db(post_db, sp)
    pre_f = filtered_db(pre_db, sp)
    post_f, pre_f = _persist_small(post_f, pre_f)
    s_post = global_threshold(post_f)
    s_pre = global_threshold(pre_f)
    s_split, d_split = split_based_threshold(post_f, p.tile_size)
    p_post = water_posterior(post_f, s_post)
    p_pre = water_posterior(pre_f, s_pre)
    p_split = water_posterior(post_f, s_split)
    drop = (post_f - pre_f) < -p.change_db
    valid = np.isfinite(post_db) & np.isfinite(pre_db)

    members: list[tuple[xr.DataArray, xr.DataArray]] = []  # (flood likelihood 0–1, water posterior)
    members.append((xr.where(drop, p_post * (1 - p_pre), 0.0).where(valid), p_post))
    members.append(((p_split * (1 - p_pre)).where(valid), p_split))
    diag: dict[str, Any] = {
        "threshold_post_db": round(s_post.threshold, 3),
        "threshold_pre_db": round(s_pre.threshold, 3),
        "threshold_split_db": round(s_split.threshold, 3),
        **d_split,
        "members": ["sar-change", "sar-split"],
    }
    if optical_post is not None and all(b in optical_post for b in ("B03", "B11")):
        try:
            p_opt, d_opt = _optical_posterior(optical_post)
        except InsufficientCoverage as exc:
            diag["optical_skipped"] = str(exc)
        else:
            if optical_pre is not None and all(b in optical_pre for b in ("B03", "B11")):
                p_ref, d_ref = _optical_posterior(optical_pre)
                p_ref = p_ref.fillna(p_pre)
                diag["threshold_mndwi_pre"] = d_ref["threshold_mndwi"]
            else:
                p_ref = p_pre
            members.append(((p_opt * (1 - p_ref)).where(valid), p_opt))
            diag["threshold_mndwi_post"] = d_opt["threshold_mndwi"]
            diag["members"].append("optical-mndwi")

    like = xr.concat([m[0] for m in members], dim="member")
    water = xr.concat([m[1] for m in members], dim="member")
    n = like.notnull().sum("member")
    votes = (like >= 0.5).sum("member")
    mean_like = like.mean("member", skipna=True)
    flood = (2 * votes > n) | ((2 * votes == n) & (mean_like >= 0.5))
    water_votes = (water >= 0.5).sum("member")
    permanent = (pre_f < s_pre.threshold) & (2 * water_votes > water.notnull().sum("member"))
    ok = valid & (n > 0)
    if dem is not None:
        excluded, d_terrain = terrain_exclusion(dem, p.terrain)
        ok = ok & ~excluded
        diag.update(d_terrain)
    cls = xr.where(permanent, PERMANENT, NOT_WATER)
    cls = xr.where(flood & ~permanent, FLOOD, cls)
    cls = xr.where(ok, cls, NODATA).astype(np.uint8)
    lik = xr.where(ok, (100 * mean_like.fillna(0)).round(), LIKELIHOOD_NODATA).astype(np.uint8)
    cls, lik = _persist_small(cls, lik)
    return georef(cls, post_db), georef(lik, post_db), diag


@register
class FloodEnsemble(Algorithm):
    name = "flood-ensemble"
    version = "1.0.0"
    title = "Ensemble flood extent and likelihood (SAR change, SAR split-based, optical MNDWI)"
    title_vi = "Vùng ngập lụt tổ hợp và khả năng ngập (SAR biến động, SAR phân ô, quang học MNDWI)"
    description = __doc__ or ""
    collection = "flood-ensemble"
    inputs = (
        InputSpec("post", ("sentinel-1-grd",), ("vv", "vh"), "Sentinel-1 scene during or after the event"),
        InputSpec("pre", ("sentinel-1-grd",), ("vv", "vh"), "Sentinel-1 reference scene before the event"),
        InputSpec("optical", ("sentinel-2-l2a",), ("B03", "B11", "SCL"), "Sentinel-2 L2A scene after the event", optional=True, resample=S2_20M_BANDS),
        InputSpec("optical_pre", ("sentinel-2-l2a",), ("B03", "B11", "SCL"), "Sentinel-2 L2A scene before the event", optional=True, resample=S2_20M_BANDS),
        InputSpec("dem", DEM_COLLECTIONS, ("elevation",), "Elevation (m) for slope/shadow/layover exclusion", optional=True),
    )
    outputs = (
        OutputSpec("flood", "uint8", "Ensemble flood / water classes (majority vote)", nodata=NODATA, classes=FLOOD_CLASSES, colormap="flood-ensemble"),
        OutputSpec("likelihood", "uint8", "Flood likelihood (mean of the members)", nodata=LIKELIHOOD_NODATA, unit="%", colormap="flood-likelihood", rescale=(0.0, 100.0)),
    )
    Params = EnsembleParams
    references = (
        "Salamon, P. et al. (2021) The new, systematic global flood monitoring product of the Copernicus Emergency Management Service. IGARSS 2021.",
        "Bauer-Marschallinger, B. et al. (2022) Satellite-based flood mapping through Bayesian inference from a Sentinel-1 SAR datacube. Remote Sensing 14(15).",
        "Martinis, S., Twele, A., Voigt, S. (2009) Split-based automatic thresholding on TerraSAR-X data. NHESS 9.",
        "Chini, M. et al. (2017) A hierarchical split-based approach for parametric thresholding of SAR images. IEEE TGRS 55(12).",
        "Xu, H. (2006) Modification of normalised difference water index (NDWI). IJRS 27(14).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        pol = params.polarization
        dem = inputs["dem"].get("elevation") if "dem" in inputs else None
        cls, lik, diag = ensemble_flood(
            inputs["post"][pol], inputs["pre"][pol], inputs.get("optical"), inputs.get("optical_pre"), dem, params
        )
        cls.attrs["hpgeo:diagnostics"] = diag
        return {"flood": cls, "likelihood": lik}

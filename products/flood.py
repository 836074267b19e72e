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
5. optional (``thresholding="split"``): split-based thresholding (Martinis et al. 2009; Chini et al.
   2017): the image is cut into tiles (256 px); tiles whose Otsu split is clearly bimodal
   (Ashman's D > 2 and each class ≥ 10 % of the tile) are pooled and the threshold is the Otsu level
   of the pooled histogram; with fewer than 5 such tiles the global Otsu level is used;
6. optional DEM input: pixels on slopes > 5°, in radar shadow or in layover (``products.terrain``)
   are excluded (class 255), as GFM's exclusion mask does.
References: Otsu (1979); Lee (1980); Martinis et al. (2009, 2015) and the Copernicus Global Flood
Monitoring ensemble for split-based thresholding and change detection.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Mapping

import numpy as np
import xarray as xr
from pydantic import AfterValidator, BaseModel, Field

from geo.grid import georef
from products.registry import Algorithm, InputSpec, OutputSpec, ProductParams, register
from products.sar import db_to_linear, histogram, lee_filter, linear_to_db, otsu_from_histogram
from products.terrain import TerrainParams, terrain_exclusion

__all__ = [
    "SarFloodParams",
    "LeeWindow",
    "SarFlood",
    "sar_flood_classes",
    "FLOOD_CLASSES",
    "ClassStats",
    "split_based_threshold",
    "class_stats",
    "water_posterior",
    "DEM_COLLECTIONS",
]

DEM_COLLECTIONS = ("cop-dem-glo-30", "dem")

NOT_WATER, FLOOD, PERMANENT, NODATA = 0, 1, 2, 255
FLOOD_CLASSES = {NOT_WATER: "not water", FLOOD: "flood (new water)", PERMANENT: "permanent water", NODATA: "no data"}


def _odd(n: int) -> int:
    if n % 2 == 0:
        raise ValueError(f"the Lee filter window must be odd (3, 5, 7, …), got {n}")
    return n


# the Lee filter's window: odd (it is centred on the pixel), 3…15 px
LeeWindow = Annotated[int, Field(ge=3, le=15), AfterValidator(_odd)]


class SarFloodParams(ProductParams):
    polarization: Literal["vv", "vh"] = Field("vv", description="Band used for thresholding.")
    filter_size: LeeWindow = Field(5, description="Lee filter window (odd, pixels).")
    enl: float = Field(4.4, gt=0, le=100, description="Equivalent number of looks of the input (IW GRD-HR: 4.4).")
    change_db: float = Field(3.0, ge=0, le=20, description="Backscatter drop (dB) required for new water.")
    threshold_db: float | None = Field(None, ge=-50, le=10, description="Fixed threshold instead of Otsu (dB).")
    thresholding: Literal["otsu", "split"] = Field("otsu", description="Global Otsu, or split-based (bimodal tiles pooled).")
    tile_size: int = Field(256, ge=32, le=4096, description="Tile size (pixels) of split-based thresholding.")
    terrain: TerrainParams = Field(default_factory=TerrainParams, description="Exclusions applied when a DEM is given.")


def filtered_db(db: xr.DataArray, p: SarFloodParams) -> xr.DataArray:
    return linear_to_db(lee_filter(db_to_linear(db.astype(np.float32)), p.filter_size, p.enl))


# --- thresholds ----------------------------------------------------------------------------------
HIST_LO, HIST_HI, HIST_BIN = -35.0, 10.0, 0.05


class ClassStats(BaseModel):
    """Two-class split of a histogram: threshold and Gaussian moments of each side (dB)."""

    threshold: float
    eta: float
    mean_water: float
    std_water: float
    mean_land: float
    std_land: float
    fraction_water: float


def class_stats(counts: np.ndarray, centres: np.ndarray, threshold: float, eta: float) -> ClassStats:
    """Means, standard deviations and proportions of the two sides of ``threshold``."""
    c = counts.astype(np.float64)
    lo = centres < threshold

    def moments(m: np.ndarray) -> tuple[float, float]:
        w = c[m]
        if w.sum() == 0:
            return float(threshold), 1.0
        mu = float((w * centres[m]).sum() / w.sum())
        sd = float(np.sqrt((w * (centres[m] - mu) ** 2).sum() / w.sum()))
        return mu, max(sd, 1e-3)

    mw, sw = moments(lo)
    ml, sl = moments(~lo)
    return ClassStats(threshold=threshold, eta=eta, mean_water=mw, std_water=sw, mean_land=ml, std_land=sl, fraction_water=float(c[lo].sum() / max(c.sum(), 1)))


def _ashman_d(s: ClassStats) -> float:
    """Ashman et al. (1994) bimodality: D = √2 |μ1 − μ2| / √(σ1² + σ2²); D > 2 separates cleanly."""
    return float(np.sqrt(2.0) * abs(s.mean_water - s.mean_land) / np.sqrt(s.std_water**2 + s.std_land**2))


def _tile_histograms(x: xr.DataArray, tile: int, edges: np.ndarray) -> np.ndarray:
    """(ny, nx, nbins) histograms of tiles of ``x`` (lazy per tile for dask input)."""
    import dask.array as da

    from products.compute import compute_by_chunk_rows

    data = x.data
    if not hasattr(data, "dask"):
        arr = da.from_array(np.asarray(data), chunks=(tile, tile))
    elif all(c % tile == 0 for cs in data.chunks for c in cs[:-1]):
        arr = data  # chunks are whole tiles: histogram the tiles inside each chunk, no rechunk
    else:
        arr = data.rechunk((tile, tile))
    nb = len(edges) - 1

    def block_hist(b: np.ndarray) -> np.ndarray:
        ny, nx = -(-b.shape[0] // tile), -(-b.shape[1] // tile)
        out = np.zeros((ny, nx, nb), np.int64)
        for j in range(ny):
            for i in range(nx):
                t = b[j * tile : (j + 1) * tile, i * tile : (i + 1) * tile]
                v = t[np.isfinite(t)]
                out[j, i], _ = np.histogram(np.clip(v, edges[0], edges[-1] - 1e-6), bins=edges)
        return out

    chunks = (tuple(-(-c // tile) for c in arr.chunks[0]), tuple(-(-c // tile) for c in arr.chunks[1]), (nb,))
    return compute_by_chunk_rows(arr.map_blocks(block_hist, new_axis=2, chunks=chunks, dtype=np.int64))


def split_based_threshold(
    x: xr.DataArray,
    tile: int = 256,
    lo: float = HIST_LO,
    hi: float = HIST_HI,
    bin_width: float = HIST_BIN,
    min_ashman_d: float = 2.0,
    min_class_fraction: float = 0.1,
    min_tiles: int = 5,
) -> tuple[ClassStats, dict[str, Any]]:
    """Split-based threshold (Martinis et al. 2009; Chini et al. 2017) of a dB (or index) image.

    Tiles with a clearly bimodal Otsu split (Ashman D > ``min_ashman_d``, both classes ≥
    ``min_class_fraction`` of the tile, ≥ half the tile valid) are pooled; the threshold is the Otsu
    level of the pooled histogram. Falls back to the global histogram with fewer than ``min_tiles``.
    """
    edges = np.arange(lo, hi + bin_width / 2, bin_width)
    centres = (edges[:-1] + edges[1:]) / 2
    hists = _tile_histograms(x, tile, edges)
    ny, nx, _ = hists.shape
    selected = np.zeros((ny, nx), bool)
    for j in range(ny):
        for i in range(nx):
            c = hists[j, i]
            if c.sum() < tile * tile / 2:
                continue
            t, eta = otsu_from_histogram(c, centres)
            st = class_stats(c, centres, t, eta)
            if _ashman_d(st) > min_ashman_d and min_class_fraction <= st.fraction_water <= 1 - min_class_fraction:
                selected[j, i] = True
    n_sel = int(selected.sum())
    pooled = hists[selected].sum(axis=0) if n_sel >= min_tiles else hists.reshape(-1, len(centres)).sum(axis=0)
    if pooled.sum() == 0:
        from products.errors import InsufficientCoverage

        raise InsufficientCoverage("no valid pixels for a threshold")
    t, eta = otsu_from_histogram(pooled, centres)
    diag = {"split_tiles": int(ny * nx), "split_tiles_selected": n_sel, "split_fallback_global": n_sel < min_tiles}
    return class_stats(pooled, centres, t, eta), diag


def global_threshold(
    x: xr.DataArray, lo: float = HIST_LO, hi: float = HIST_HI, bin_width: float = HIST_BIN, min_pixels: int = 1000, min_eta: float = 0.5
) -> ClassStats:
    """Global Otsu threshold with the class moments, from one histogram pass (same checks as
    :func:`products.sar.otsu_threshold`: too few pixels → InsufficientCoverage, η < 0.5 → warning)."""
    import warnings

    from products.errors import InsufficientCoverage, ThresholdUnreliable

    counts, centres = histogram(x.clip(lo, hi - 1e-6), lo, hi, bin_width)
    if counts.sum() < min_pixels:
        raise InsufficientCoverage(f"only {int(counts.sum())} valid pixels (need {min_pixels}) for a threshold")
    t, eta = otsu_from_histogram(counts, centres)
    if eta < min_eta:
        warnings.warn(f"weakly bimodal histogram (eta={eta:.2f} < {min_eta}); threshold {t:.2f} may be unreliable", ThresholdUnreliable, stacklevel=2)
    return class_stats(counts, centres, t, eta)


def water_posterior(x: xr.DataArray, s: ClassStats) -> xr.DataArray:
    """P(water | x) with Gaussian class models from ``s`` and equal priors (cf. Bauer-Marschallinger
    et al. 2022, GFM's TU Wien algorithm); 1 below the water mean, 0 above the land mean (monotone)."""

    def logpdf(v: xr.DataArray, mu: float, sd: float) -> xr.DataArray:
        return -0.5 * ((v - mu) / sd) ** 2 - np.log(sd)

    d = logpdf(x, s.mean_land, s.std_land) - logpdf(x, s.mean_water, s.std_water)
    p = 1.0 / (1.0 + np.exp(d.clip(-50, 50)))  # the method: np.clip on a DataArray computes it eagerly
    p = xr.where(x <= s.mean_water, 1.0, xr.where(x >= s.mean_land, 0.0, p))
    return p.where(np.isfinite(x)).astype(np.float32)


def _threshold(x: xr.DataArray, p: SarFloodParams) -> tuple[ClassStats, dict[str, Any]]:
    if p.threshold_db is not None:
        counts, centres = histogram(x.clip(HIST_LO, HIST_HI - 1e-6), HIST_LO, HIST_HI, HIST_BIN)
        return class_stats(counts, centres, p.threshold_db, float("nan")), {}
    if p.thresholding == "split":
        return split_based_threshold(x, p.tile_size)
    return global_threshold(x), {}


def sar_flood_classes(
    post_db: xr.DataArray,
    pre_db: xr.DataArray | None = None,
    params: SarFloodParams | None = None,
    dem: xr.DataArray | None = None,
) -> tuple[xr.DataArray, dict[str, Any]]:
    """Classify water/flood from σ0 dB DataArrays on the same grid. Returns (uint8 classes, diagnostics)."""
    p = params or SarFloodParams()
    post_f = filtered_db(post_db, p)
    s_post, d_post = _threshold(post_f, p)
    water_post = post_f < s_post.threshold
    valid = np.isfinite(post_db)
    diag: dict[str, Any] = {"threshold_post_db": round(float(s_post.threshold), 3), "bimodality_post": _num(s_post.eta), **d_post}
    if dem is not None:
        excluded, d_terrain = terrain_exclusion(dem, p.terrain)
        valid = valid & ~excluded
        diag.update(d_terrain)
    if pre_db is None:
        out = xr.where(valid, water_post.astype(np.uint8), NODATA).astype(np.uint8)
        diag["mode"] = "single-scene water"
        return georef(out, post_db), diag
    pre_f = filtered_db(pre_db, p)
    s_pre, d_pre = _threshold(pre_f, p)
    water_pre = pre_f < s_pre.threshold
    drop = (post_f - pre_f) < -p.change_db
    valid = valid & np.isfinite(pre_db)
    cls = xr.where(water_post & water_pre, PERMANENT, NOT_WATER)
    cls = xr.where(water_post & ~water_pre & drop, FLOOD, cls)
    cls = xr.where(valid, cls, NODATA).astype(np.uint8)
    diag.update({"threshold_pre_db": round(float(s_pre.threshold), 3), "bimodality_pre": _num(s_pre.eta), "mode": "change detection"})
    diag.update({f"{k}_pre": v for k, v in d_pre.items()})
    return georef(cls, post_db), diag


def _num(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)



@register
class SarFlood(Algorithm):
    name = "flood-sar"
    version = "1.1.0"
    title = "Flood extent from Sentinel-1 (Otsu + change detection)"
    title_vi = "Vùng ngập lụt từ Sentinel-1 (ngưỡng Otsu + phát hiện biến động)"
    description = __doc__ or ""
    collection = "flood-extent"
    inputs = (
        InputSpec("post", ("sentinel-1-grd",), ("vv", "vh"), "Scene during or after the event"),
        InputSpec("pre", ("sentinel-1-grd",), ("vv", "vh"), "Reference scene before the event", optional=True),
        InputSpec("dem", DEM_COLLECTIONS, ("elevation",), "Elevation (m) for slope/shadow/layover exclusion", optional=True),
    )
    outputs = (
        OutputSpec("flood", "uint8", "Flood / water classes", nodata=NODATA, classes=FLOOD_CLASSES, colormap="flood"),
    )
    Params = SarFloodParams
    references = (
        "Otsu, N. (1979) A threshold selection method from gray-level histograms. IEEE SMC 9(1).",
        "Lee, J.-S. (1980) Digital image enhancement and noise filtering by use of local statistics. IEEE PAMI 2(2).",
        "Martinis, S. et al. (2015) A fully automated TerraSAR-X based flood service. ISPRS J. 104.",
        "Martinis, S., Twele, A., Voigt, S. (2009) Towards operational near real-time flood detection using a split-based automatic thresholding procedure on high resolution TerraSAR-X data. NHESS 9.",
        "Chini, M. et al. (2017) A hierarchical split-based approach for parametric thresholding of SAR images: flood inundation as a test case. IEEE TGRS 55(12).",
        "Horn, B.K.P. (1981) Hill shading and the reflectance map. Proc. IEEE 69(1).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        pol = params.polarization
        post = inputs["post"][pol]
        pre = inputs["pre"][pol] if "pre" in inputs else None
        dem = inputs["dem"]["elevation"] if "dem" in inputs and "elevation" in inputs["dem"] else None
        cls, diag = sar_flood_classes(post, pre, params, dem=dem)
        cls.attrs["hpgeo:diagnostics"] = diag
        return {"flood": cls}

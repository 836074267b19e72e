"""Shoreline: sub-pixel waterlines from Sentinel-2, transects and DSAS change rates (product ``shoreline``).

Method (fixed and documented; the defaults are CoastSat's published settings, Vos et al. 2019):
1. water index per date: MNDWI = (green − SWIR1)/(green + SWIR1) (Xu 2006; S2 B03/B11, the 20 m
   SWIR resampled bilinearly to 10 m as CoastSat does) or NDWI = (green − NIR)/(green + NIR)
   (McFeeters 1996);
2. the level: Otsu's (1979) threshold on the histogram of the valid index values (−1…1, bins of
   0.005), i.e. the split between the water and land modes;
3. the waterline: marching squares (``skimage.measure.find_contours``) at that level, sub-pixel,
   vertices at pixel-centre coordinates mapped through the grid's affine transform; contours
   shorter than ``min_length_m`` (500 m) dropped; vertices closer than ``cloud_buffer_m`` (300 m) to
   a cloud/shadow/no-data pixel dropped (cloud-aware); optionally only vertices within
   ``max_dist_ref_m`` of the baseline kept;
4. baseline: given, or the longest waterline of the best-covered date smoothed over
   ``baseline_smoothing_m``; transects every ``transect_spacing_m`` perpendicular to it, pointing
   seaward; chainage of each waterline on each transect (most seaward crossing by default);
5. optional tide handling from a water-level series (``products.tide``: plain CSV, IOC, UHSLC hourly or
   daily): the stage z of each date relative to the series' mean sea level (``tide_reference="msl"``, the
   default; or the series' own datum when it is already referenced to a known level), then keep only dates
   inside a tide-stage window and/or move positions to ``tide_reference_m`` with Δx = (z − z_ref)/tanβ; the
   reference used is stated in the diagnostics and each date's ``tide_m`` is its stage above it;
6. per transect: NSM, EPR, LRR with r², standard error and 95 % confidence interval (DSAS v5).

Outputs: a raster of the LRR (m/yr) painted on each transect's alongshore cell (the map layer), the
dated waterlines and the transects with their statistics as vectors (GeoJSON, GeoPackage).

Memory and tiling of the waterline extraction: :mod:`products.waterline`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import shapely
import xarray as xr
from pydantic import Field, field_validator
from shapely.geometry import LineString, MultiLineString

from products.errors import InsufficientCoverage, InvalidInputs
from products.compute import isin
from products.registry import S2_20M_BANDS, Algorithm, InputSpec, OutputSpec, ProductParams, register
from products.sar import otsu_threshold
from products.shoreline_assets import VECTOR_ASSETS, DatedShoreline, ShorelineAnalysis, summary, write_vectors
from products.shoreline_transects import chainages, change_statistics, make_transects, smooth_baseline
from products.tide import TideError, WaterLevels, in_stage_window, read_water_levels, tide_correction, tide_stage, to_datetime64
from products.waterline import WATERLINE_TILE, extract_waterline, kept_runs, metric_crs

__all__ = [
    "ShorelineParams",
    "Shoreline",
    "DatedShoreline",
    "ShorelineAnalysis",
    "water_index",
    "waterline_level",
    "extract_waterline",
    "analyse_shorelines",
    "rate_raster",
    "working_crs",
    "CLOUD_SCL",
    "WATERLINE_TILE",
]

CLOUD_SCL = (0, 1, 3, 8, 9, 10)  # S2 L2A SCL: no data, saturated, cloud shadow, cloud medium/high, cirrus


class ShorelineParams(ProductParams):
    index: Literal["mndwi", "ndwi"] = Field("mndwi", description="Water index: MNDWI (green/SWIR1) or NDWI (green/NIR).")
    transect_spacing_m: float = Field(100.0, ge=10, le=5000, description="Distance between transects along the baseline (m).")
    transect_land_m: float = Field(200.0, ge=0, le=5000, description="Transect length behind (landward of) the baseline (m).")
    transect_sea_m: float = Field(300.0, gt=0, le=5000, description="Transect length in front of (seaward of) the baseline (m).")
    seaward: Literal["auto", "left", "right"] = Field("auto", description="Side of the baseline (walking from its start) where the sea is; auto = from the water index.")
    baseline_smoothing_m: float = Field(500.0, ge=0, le=10000, description="Moving-average window used to smooth an automatic baseline (m).")
    baseline_wgs84: list[tuple[float, float]] | None = Field(None, description="Baseline vertices (lon, lat), WGS 84; default: derived from the waterlines.")
    min_length_m: float = Field(500.0, ge=0, le=100_000, description="Drop waterline contours shorter than this (m; CoastSat min_length_sl).")
    cloud_buffer_m: float = Field(300.0, ge=0, le=5000, description="Drop waterline vertices this close to cloud/shadow/no-data pixels (m; CoastSat dist_clouds).")
    max_dist_ref_m: float = Field(250.0, gt=0, le=10_000, description="Keep only waterline vertices this close to the baseline (m; CoastSat max_dist_ref).")
    intersection: Literal["seaward", "landward", "median"] = Field("seaward", description="Which crossing to use when a waterline crosses a transect several times.")
    min_points: int = Field(3, ge=2, le=1000, description="Fewest dated positions for statistics on a transect.")
    tide_series: str | None = Field(None, description="Water-level CSV in the data directory's tides/ folder (file name only).")
    tide_reference: Literal["msl", "datum"] = Field("msl", description="What water levels are relative to: the mean sea level of the series (default) or the series' own datum (only for a series already referenced to a known level, e.g. MSL).")
    tide_reference_m: float = Field(0.0, ge=-100, le=100, description="Reference elevation the positions are corrected to (m above tide_reference).")
    tide_units: Literal["m", "cm", "mm"] | None = Field(None, description="Units of the water-level file; default: from its column name or format (UHSLC: mm), else metres.")
    beach_slope: float | None = Field(None, gt=0, le=1, description="Beach-face slope tanβ for the horizontal tide correction; None = no correction.")
    tide_window_m: tuple[float, float] | None = Field(None, description="Keep only dates whose water level is in [low, high] (m above tide_reference).")

    @field_validator("tide_series")
    @classmethod
    def _plain_name(cls, v: str | None) -> str | None:
        if v is not None and (not v or "/" in v or "\\" in v or v.startswith(".")):
            raise ValueError("tide_series must be a plain file name in the tides/ folder")
        return v

    @field_validator("baseline_wgs84")
    @classmethod
    def _two_vertices(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        if v is not None:
            if len(v) < 2:
                raise ValueError("a baseline needs at least two vertices")
            if any(not (-180 <= lon <= 180 and -90 <= lat <= 90) for lon, lat in v):
                raise ValueError("baseline vertices must be (lon, lat) in degrees")
        return v

    @field_validator("tide_window_m")
    @classmethod
    def _ordered_window(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (-100 <= v[0] <= v[1] <= 100):
            raise ValueError("tide_window_m must be [low, high] with low ≤ high, in metres (−100…100)")
        return v


def water_index(green: xr.DataArray, other: xr.DataArray) -> xr.DataArray:
    """(green − other)/(green + other) as float32, NaN where either is missing or the sum is not positive."""
    g, o = green.astype(np.float32), other.astype(np.float32)
    s = g + o
    out = ((g - o) / s).where(s > 0)
    out = out.clip(-1.0, 1.0).astype(np.float32)
    if green.rio.crs is not None:
        out = out.rio.write_crs(green.rio.crs).rio.write_transform(green.rio.transform())
    return out


def waterline_level(index: xr.DataArray, min_pixels: int = 1000) -> tuple[float, float]:
    """Otsu level of the water index and its bimodality η (warns via ThresholdUnreliable when weak)."""
    return otsu_threshold(index, lo=-1.0, hi=1.0, bin_width=0.005, min_pixels=min_pixels)


def analyse_shorelines(
    times: Sequence[Any],
    indices: Sequence[xr.DataArray],
    params: ShorelineParams,
    *,
    unusable: Sequence[Any] | None = None,
    baseline: LineString | None = None,
    tides: WaterLevels | None = None,
    item_ids: Sequence[str] | None = None,
) -> ShorelineAnalysis:
    """Run steps 2–6 of the method on dated water-index rasters of one grid.

    Waterlines, baseline, transects and the analysis are in :func:`working_crs` of the grid (its own
    CRS when projected in metres; the local UTM zone when geographic), so every metre parameter is in metres."""
    if len(times) != len(indices) or len(indices) < 2:
        raise InvalidInputs("shoreline: need two or more dated water-index images (times and images must pair up)")
    crs = working_crs(indices[0])
    t64 = to_datetime64(times)
    masks = list(unusable) if unusable is not None else [None] * len(indices)
    shorelines: list[DatedShoreline] = []
    for i, (t, idx) in enumerate(zip(t64, indices)):
        try:
            level, eta = waterline_level(idx)
        except InsufficientCoverage:
            shorelines.append(DatedShoreline(t, MultiLineString(), float("nan"), 0.0, used=False, item=_at(item_ids, i)))
            continue
        geom = extract_waterline(
            idx, level, unusable=masks[i], cloud_buffer_m=params.cloud_buffer_m, min_length_m=params.min_length_m,
            reference=baseline, max_dist_ref_m=params.max_dist_ref_m, out_crs=crs,
        )
        shorelines.append(DatedShoreline(t, geom, float(level), float(eta), item=_at(item_ids, i)))
    if baseline is None:
        best = max(shorelines, key=lambda s: s.geometry.length)
        if best.geometry.is_empty:
            raise InsufficientCoverage("shoreline: no waterline found on any date (all cloudy, or no land/water edge)")
        longest = max(best.geometry.geoms, key=lambda g: g.length)
        baseline = smooth_baseline(longest, params.baseline_smoothing_m)
        for s in shorelines:
            s.geometry = _near(s.geometry, baseline, params.max_dist_ref_m)
    seaward = params.seaward if params.seaward != "auto" else _seaward_side(baseline, indices, params, crs)
    transects = make_transects(baseline, params.transect_spacing_m, params.transect_land_m, params.transect_sea_m, seaward)
    raw = chainages(transects, [s.geometry for s in shorelines], params.intersection)
    pos = raw.copy()
    diag: dict[str, Any] = {"dates": len(shorelines), "transects": len(transects), "seaward": seaward}
    if tides is not None and (params.beach_slope is not None or params.tide_window_m is not None):
        z, diag["tide_reference"] = tide_stage(tides, t64, params.tide_reference)
        for s, zi in zip(shorelines, z):
            s.tide_m = round(float(zi), 4)
        if params.tide_window_m is not None:
            ok = in_stage_window(z, *params.tide_window_m)
            for s, k in zip(shorelines, ok):
                s.used = s.used and bool(k)
        if params.beach_slope is not None:
            pos = pos + tide_correction(z, params.tide_reference_m, params.beach_slope)[:, None]
        diag["tide_series"] = tides.name
    elif params.beach_slope is not None or params.tide_window_m is not None:
        raise InvalidInputs("shoreline: beach_slope/tide_window_m need a water-level series (tide_series)")
    used = np.array([s.used for s in shorelines])
    pos[~used] = np.nan
    stats = [change_statistics(t64, pos[:, j], params.min_points) for j in range(len(transects))]
    diag["dates_used"] = int(used.sum())
    diag["transects_with_rates"] = int(sum(np.isfinite(s.lrr) for s in stats))
    return ShorelineAnalysis(crs, shorelines, baseline, transects, raw, pos, stats, diag)


def working_crs(index: xr.DataArray) -> Any:
    """The CRS the shoreline analysis runs in: the grid's if projected in metres, else its local UTM zone."""
    from rasterio.transform import array_bounds

    ny, nx = index.shape[-2:]
    w, s, e, n = array_bounds(ny, nx, index.rio.transform())
    return metric_crs(index.rio.crs, (min(w, e), min(s, n), max(w, e), max(s, n)))


def _at(seq: Sequence[str] | None, i: int) -> str | None:
    return seq[i] if seq is not None else None


def _near(geom: MultiLineString, ref: LineString, dist: float) -> MultiLineString:
    pieces: list[np.ndarray] = []
    for g in geom.geoms:
        xy = shapely.get_coordinates(g)
        pieces += kept_runs(xy, shapely.distance(shapely.points(xy), ref) <= dist, closed=bool(g.is_closed))
    return MultiLineString(pieces)


def _seaward_side(baseline: LineString, indices: Sequence[xr.DataArray], p: ShorelineParams, crs: Any = None) -> Literal["left", "right"]:
    """The side whose transect ends have the higher median water index (over all dates); ``baseline`` in ``crs``."""
    from geo.crs import reproject_geometry

    trs = make_transects(baseline, p.transect_spacing_m, p.transect_land_m, p.transect_sea_m, "left")
    left_end = np.array([t.point_at(t.length) for t in trs])
    right_end = np.array([t.origin for t in trs])
    vals = {"left": [], "right": []}  # type: dict[str, list[float]]
    pts = np.concatenate([left_end, right_end])
    if crs is not None and indices[0].rio.crs is not None and crs != indices[0].rio.crs:
        pts = shapely.get_coordinates(reproject_geometry(shapely.multipoints(pts), crs, indices[0].rio.crs))
    n = len(left_end)
    for idx in indices:  # point samples only: a lazy index computes just the chunks under the transect ends
        v = np.asarray(idx.sel(x=xr.DataArray(pts[:, 0]), y=xr.DataArray(pts[:, 1]), method="nearest").values)
        for side, part in (("left", v[:n]), ("right", v[n:])):
            vals[side] += [float(a) for a in part if np.isfinite(a)]
    if not vals["left"] or not vals["right"]:
        raise InsufficientCoverage("shoreline: cannot tell the seaward side (transect ends are outside the images); set seaward")
    return "left" if np.median(vals["left"]) > np.median(vals["right"]) else "right"


def rate_raster(analysis: ShorelineAnalysis, like: xr.DataArray, spacing_m: float) -> xr.DataArray:
    """LRR (m/yr, float32, NaN elsewhere) painted on each transect's alongshore cell, on ``like``'s grid.

    Lazy (dask): each block (``like``'s chunks, else :data:`WATERLINE_TILE` px) is rasterised on its
    own from the transect cells that touch it, so no stage holds the whole grid."""
    import dask.array as da

    from geo.crs import reproject_geometry

    src = getattr(analysis, "crs", None) or like.rio.crs  # transects are in the analysis CRS (metres)
    shapes = [
        (reproject_geometry(tr.line.buffer(spacing_m / 2.0, cap_style="flat"), src, like.rio.crs), float(st.lrr))
        for tr, st in zip(analysis.transects, analysis.stats)
        if np.isfinite(st.lrr)
    ]
    ny, nx = like.shape[-2:]
    T = like.rio.transform()
    chunks = like.chunks[-2:] if like.chunks is not None else (WATERLINE_TILE, WATERLINE_TILE)
    geoms = [g for g, _ in shapes]
    boxes = shapely.bounds(geoms).reshape(-1, 4) if geoms else np.zeros((0, 4))

    def paint(block: np.ndarray, block_info: Any = None) -> np.ndarray:
        from rasterio.features import rasterize
        from affine import Affine
        from rasterio.windows import Window, bounds

        (r0, r1), (c0, c1) = block_info[0]["array-location"][-2:]
        out = np.full((r1 - r0, c1 - c0), np.nan, np.float32)
        left, bottom, right, top = bounds(Window(c0, r0, c1 - c0, r1 - r0), T)
        pad = abs(T.a) + abs(T.e)
        hit = (boxes[:, 0] <= right + pad) & (boxes[:, 2] >= left - pad) & (boxes[:, 1] <= top + pad) & (boxes[:, 3] >= bottom - pad)
        sel = [shapes[k] for k in np.flatnonzero(hit)]
        if sel:
            out = rasterize(sel, out_shape=out.shape, transform=T @ Affine.translation(c0, r0), fill=np.nan, dtype="float32")
        return out

    arr = da.zeros((ny, nx), chunks=chunks, dtype=np.float32).map_blocks(paint, dtype=np.float32)
    out = xr.DataArray(arr, dims=("y", "x"), coords={"y": like.y.values, "x": like.x.values}, name="rate")
    return out.rio.write_crs(like.rio.crs).rio.write_transform(T).rio.write_nodata(np.nan, encoded=False)


@register
class Shoreline(Algorithm):
    name = "shoreline"
    version = "1.1.0"  # 1.1: tide stages relative to the series mean sea level by default (tide_reference)
    title = "Shoreline position and change rates (Sentinel-2, DSAS statistics)"
    title_vi = "Đường bờ và tốc độ biến động (Sentinel-2, thống kê DSAS)"
    description = __doc__ or ""
    collection = "shoreline"
    inputs = (
        InputSpec("scenes", ("sentinel-2-l2a",), ("B03", "B11", "B08", "SCL"), "Two or more dated scenes of the same grid (time, y, x)",
                  series=True, min_items=2, resample=S2_20M_BANDS,
                  roles=(("B03", "green"), ("B08", "nir"), ("B11", "swir16"))),
    )
    extra_assets = VECTOR_ASSETS
    outputs = (
        OutputSpec("rate", "float32", "Linear regression rate of shoreline change (m/yr, + = accretion)", nodata=float("nan"), unit="m/yr", colormap="shoreline-rate", rescale=(-10.0, 10.0)),
    )
    Params = ShorelineParams
    references = (
        "Vos, K. et al. (2019) CoastSat: a Google Earth Engine-enabled Python toolkit to extract shorelines from publicly available satellite imagery. Env. Modelling & Software 122.",
        "Himmelstoss, E.A. et al. (2021) Digital Shoreline Analysis System (DSAS) version 5.1 user guide. USGS Open-File Report 2021-1091.",
        "Bishop-Taylor, R. et al. (2021) Mapping Australia's dynamic coastline at mean sea level using three decades of Landsat imagery. RSE 267.",
        "Xu, H. (2006) Modification of normalised difference water index (NDWI) to enhance open water features. IJRS 27(14).",
        "Otsu, N. (1979) A threshold selection method from gray-level histograms. IEEE SMC 9(1).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        """``inputs["scenes"][band]`` are (time, y, x) DataArrays with a ``time`` coordinate on one grid;
        optional ``inputs["tides"]["levels"]`` is a :class:`~products.tide.WaterLevels`; ``params.baseline``
        comes from ``baseline_wgs84``. Returns ``rate`` (raster) and ``analysis`` (:class:`ShorelineAnalysis`)."""
        from geo.crs import WGS84, reproject_geometry

        sc = inputs["scenes"]
        other = "B11" if params.index == "mndwi" else "B08"
        for band in ("B03", other):
            if band not in sc:
                raise InvalidInputs(f"shoreline ({params.index}): scenes lack band {band}")
        g, o = sc["B03"], sc[other]
        times = list(g["time"].values)
        # lazy: each date's index is read twice (Otsu histogram, then waterline tiles), never whole
        idx = [water_index(g.isel(time=i), o.isel(time=i)) for i in range(len(times))]
        masks: list[Any] = []
        for i in range(len(times)):
            m = None
            if "SCL" in sc:
                scl = sc["SCL"].isel(time=i)
                m = isin(scl.fillna(0).astype(int), CLOUD_SCL)
            masks.append(m)
        baseline = None
        if params.baseline_wgs84:
            baseline = reproject_geometry(LineString(params.baseline_wgs84), WGS84, working_crs(idx[0]))
        tides = (inputs.get("tides") or {}).get("levels")
        ids = list(g.coords["item"].values) if "item" in g.coords else None
        analysis = analyse_shorelines(times, idx, params, unusable=masks, baseline=baseline, tides=tides, item_ids=ids)
        rate = rate_raster(analysis, idx[0], params.transect_spacing_m)
        rate.attrs["hpgeo:diagnostics"] = analysis.diagnostics
        return {"rate": rate, "analysis": analysis}

    # -- hooks of the build engine --
    def input_assets(self, spec: InputSpec, params: Any) -> tuple[str, ...]:
        return ("B03", "B11" if params.index == "mndwi" else "B08", "SCL")

    def required_roles(self, spec: InputSpec, params: Any) -> tuple[str, ...]:
        return ("green", "swir16") if params.index == "mndwi" else ("green", "nir")

    def _tide_path(self, params: Any, data_dir: Path) -> Path | None:
        if not params.tide_series:
            return None
        path = Path(data_dir) / "tides" / params.tide_series
        if not path.is_file():
            raise TideError(f"shoreline: no water-level series {params.tide_series!r} in {Path(data_dir) / 'tides'}")
        return path

    def extra_provenance(self, params: Any, data_dir: Path) -> dict[str, Any]:
        """The tide file's SHA-256 (None without one): a changed series gives another item."""
        path = self._tide_path(params, data_dir)
        return {"tide_series_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path else None}

    def extra_inputs(self, params: Any, data_dir: Path) -> dict[str, Mapping[str, Any]]:
        path = self._tide_path(params, data_dir)
        return {"tides": {"levels": read_water_levels(path, units=params.tide_units)}} if path else {}

    def write_extra_assets(self, outputs: Mapping[str, Any], out_dir: Path) -> None:
        write_vectors(outputs["analysis"], out_dir)

    def statistics(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"rate": summary(outputs["analysis"])}

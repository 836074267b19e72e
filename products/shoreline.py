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
5. optional tide handling from a water-level series (``products.tide``): keep only dates inside a
   tide-stage window and/or move positions to a reference level with Δx = (z − z_ref)/tanβ;
6. per transect: NSM, EPR, LRR with r², standard error and 95 % confidence interval (DSAS v5).

Outputs: a raster of the LRR (m/yr) painted on each transect's alongshore cell (the map layer), the
dated waterlines and the transects with their statistics as vectors (GeoJSON, GeoPackage).

Memory: ``Shoreline.run`` keeps the bands lazy. Per date the index is read twice, chunk by chunk:
once for the Otsu histogram (dask), once tile by tile (``WATERLINE_TILE`` = 2048 px) for the
waterline, each tile with the last row/column of its upper/left neighbours (so every marching-squares
cell is seen once; pieces are joined at their shared end vertices) and the cloud/no-data distance
accumulated per tile from a band of ``cloud_buffer_m`` around it (exact, as a whole-image distance
transform). At most one index tile (float64, ~34 MB at 2048 px, plus its distance transform over the
tile and buffer) and one SCL tile are in memory at once, with one index row and a buffer-wide band of
the mask across the scene; the vertices, transects and statistics are small. The seaward side samples
the index at the transect ends only; the ``rate`` raster is lazy, rasterised block by block when written.
Tiling gives the same vertices as one whole-image ``find_contours`` (up to floating-point rounding of
the tile offsets); a closed ring may start at another vertex, and where the cloud/reference filter cuts
a ring its kept run through the ring's start vertex is one line (before tiling it was split there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import shapely
import xarray as xr
from pydantic import BaseModel, Field, field_validator
from shapely.geometry import LineString, MultiLineString

from products.errors import InsufficientCoverage, InvalidInputs
from products.compute import isin
from products.registry import Algorithm, InputSpec, OutputSpec, register
from products.sar import otsu_threshold
from products.shoreline_transects import Transect, TransectStats, chainages, change_statistics, make_transects, smooth_baseline
from products.tide import WaterLevels, in_stage_window, tide_correction, to_datetime64

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
    "CLOUD_SCL",
    "WATERLINE_TILE",
]

CLOUD_SCL = (0, 1, 3, 8, 9, 10)  # S2 L2A SCL: no data, saturated, cloud shadow, cloud medium/high, cirrus


class ShorelineParams(BaseModel):
    index: Literal["mndwi", "ndwi"] = Field("mndwi", description="Water index: MNDWI (green/SWIR1) or NDWI (green/NIR).")
    transect_spacing_m: float = Field(100.0, ge=10, le=5000, description="Distance between transects along the baseline (m).")
    transect_land_m: float = Field(200.0, ge=0, le=5000, description="Transect length behind (landward of) the baseline (m).")
    transect_sea_m: float = Field(300.0, gt=0, le=5000, description="Transect length in front of (seaward of) the baseline (m).")
    seaward: Literal["auto", "left", "right"] = Field("auto", description="Side of the baseline (walking from its start) where the sea is; auto = from the water index.")
    baseline_smoothing_m: float = Field(500.0, ge=0, le=10000, description="Moving-average window used to smooth an automatic baseline (m).")
    baseline_wgs84: list[tuple[float, float]] | None = Field(None, description="Baseline vertices (lon, lat), WGS 84; default: derived from the waterlines.")
    min_length_m: float = Field(500.0, ge=0, description="Drop waterline contours shorter than this (m; CoastSat min_length_sl).")
    cloud_buffer_m: float = Field(300.0, ge=0, description="Drop waterline vertices this close to cloud/shadow/no-data pixels (m; CoastSat dist_clouds).")
    max_dist_ref_m: float = Field(250.0, gt=0, description="Keep only waterline vertices this close to the baseline (m; CoastSat max_dist_ref).")
    intersection: Literal["seaward", "landward", "median"] = Field("seaward", description="Which crossing to use when a waterline crosses a transect several times.")
    min_points: int = Field(3, ge=2, description="Fewest dated positions for statistics on a transect.")
    tide_series: str | None = Field(None, description="Water-level CSV in the data directory's tides/ folder (file name only).")
    tide_reference_m: float = Field(0.0, description="Reference elevation the positions are corrected to (m, same datum as the series).")
    beach_slope: float | None = Field(None, gt=0, le=1, description="Beach-face slope tanβ for the horizontal tide correction; None = no correction.")
    tide_window_m: tuple[float, float] | None = Field(None, description="Keep only dates whose water level is in [low, high] (m).")

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


WATERLINE_TILE = 2048  # px per side of the tiles the waterline is extracted from (the readers' dask chunk size)


def extract_waterline(
    index: xr.DataArray,
    level: float,
    *,
    unusable: Any = None,
    cloud_buffer_m: float = 300.0,
    min_length_m: float = 500.0,
    reference: LineString | None = None,
    max_dist_ref_m: float = 250.0,
    tile: int | None = None,
) -> MultiLineString:
    """Sub-pixel waterline (map coordinates of ``index``'s CRS) at ``level``; see the module docstring.

    ``index`` (and ``unusable``, a boolean array or DataArray of the same grid) may be lazy: they are
    read tile by tile (``tile`` px, default :data:`WATERLINE_TILE`), each tile once. A tile also takes
    the last row of the tile above and the last column of the tile to its left (kept from the tiles
    already read), so marching squares sees every 2×2 cell of the image exactly once; the pieces that
    end on those shared rows/columns meet at identical vertices and are joined with ``shapely.line_merge``.
    The cloud buffer is the exact Euclidean distance (as a whole-image distance transform would give),
    accumulated per tile as the minimum over each tile's unusable pixels within the buffer's reach.
    """
    from scipy import ndimage
    from skimage import measure

    if index.ndim != 2:
        raise InvalidInputs(f"water index must be 2-D, got shape {index.shape}")
    ny, nx = (int(n) for n in index.shape)
    if unusable is not None and tuple(unusable.shape) != (ny, nx):
        raise InvalidInputs(f"unusable mask shape {tuple(unusable.shape)} differs from the water index {(ny, nx)}")
    step = int(tile or WATERLINE_TILE)
    if step < 2:
        raise InvalidInputs("waterline tile size must be at least 2 px")
    T = index.rio.transform()
    res = abs(T.a)
    buffered = cloud_buffer_m > 0
    reach = int(np.floor(cloud_buffer_m / res)) + 1 if buffered else 0  # px: farther unusable pixels cannot drop a vertex
    halo = reach + 1  # + the shared row/column above/left of a tile
    pieces: list[_Piece] = []
    above_val = np.full(nx, np.nan)  # index row r0 − 1 (the tile row above's last row)
    above_bad = np.zeros((0, nx), bool)  # unusable rows [r0 − len, r0)
    for r0 in range(0, ny, step):
        r1 = min(r0 + step, ny)
        top = 1 if r0 > 0 else 0
        next_val = np.empty(nx)
        tail = min(halo, r1 - r0) if buffered else 0
        next_bad = np.zeros((tail, nx), bool)
        left_val = np.full(r1 - r0, np.nan)
        left_bad = np.zeros((r1 - r0, 0), bool)
        for c0 in range(0, nx, step):
            c1 = min(c0 + step, nx)
            left = 1 if c0 > 0 else 0
            core = np.asarray(index[r0:r1, c0:c1], dtype=np.float64)
            bad = ~np.isfinite(core)
            if unusable is not None:
                bad |= np.asarray(unusable[r0:r1, c0:c1], dtype=bool)
            win = np.empty((r1 - r0 + top, c1 - c0 + left))
            win[top:, left:] = core
            if top:
                win[0, :] = above_val[c0 - left : c1]
            if left:
                win[top:, 0] = left_val
            new = _tile_pieces(measure, win, level, r0 - top, c0 - left, (r0 > 0, r1 < ny, c0 > 0, c1 < nx), (ny, nx))
            for p in new:
                if p.complete and _map_length(p.rc, T) < min_length_m:
                    continue  # a whole short contour: dropped now (step 3), nothing to join
                pieces.append(p)
            if buffered:
                _cloud_distance(pieces, bad, above_bad, left_bad, (r0, r1, c0, c1), halo, (ny, nx), ndimage)
            next_val[c0:c1] = core[-1]
            left_val = core[:, -1]
            if buffered:
                next_bad[:, c0:c1] = bad[len(bad) - tail :]
                left_bad = np.concatenate([left_bad, bad], axis=1)[:, -halo:]
            del core, bad, win
        above_val = next_val
        if buffered:
            above_bad = np.concatenate([above_bad, next_bad], axis=0)[-halo:]
    return _assemble(pieces, T, res, cloud_buffer_m if buffered else None, min_length_m, reference, max_dist_ref_m)


@dataclass
class _Piece:
    """A contour (piece) in global (row, col) pixel coordinates and its vertices' distance (px) to the nearest unusable pixel."""

    rc: np.ndarray
    pix: np.ndarray  # (n, 2) int: the pixel each vertex is nearest to
    far: np.ndarray  # (n,) float: distance (px) to the nearest unusable pixel seen so far (inf: none)
    complete: bool  # closed, or not ending on a row/column shared with another tile
    box: tuple[int, int, int, int]  # pixel rows/cols bounding box (inclusive)


def _tile_pieces(measure: Any, win: np.ndarray, level: float, dr: int, dc: int, seams: tuple[bool, bool, bool, bool], shape: tuple[int, int]) -> list[_Piece]:
    if min(win.shape) < 2:
        return []
    out: list[_Piece] = []
    top, bottom, left, right = seams
    h, w = win.shape
    for rc in measure.find_contours(win, level):
        if len(rc) < 2:
            continue
        closed = bool(np.array_equal(rc[0], rc[-1]))
        ends = rc[[0, -1]]
        on_seam = (top and (ends[:, 0] == 0).any()) or (bottom and (ends[:, 0] == h - 1).any()) or (
            left and (ends[:, 1] == 0).any()) or (right and (ends[:, 1] == w - 1).any())
        g = rc + np.array([dr, dc], dtype=np.float64)
        pix = np.column_stack([np.clip(np.rint(g[:, 0]).astype(np.int64), 0, shape[0] - 1), np.clip(np.rint(g[:, 1]).astype(np.int64), 0, shape[1] - 1)])
        box = (int(pix[:, 0].min()), int(pix[:, 0].max()), int(pix[:, 1].min()), int(pix[:, 1].max()))
        out.append(_Piece(g, pix, np.full(len(g), np.inf), closed or not on_seam, box))
    return out


def _map_xy(rc: np.ndarray, T: Any) -> np.ndarray:
    cols, rows = rc[:, 1] + 0.5, rc[:, 0] + 0.5
    return np.column_stack([T.a * cols + T.b * rows + T.c, T.d * cols + T.e * rows + T.f])


def _map_length(rc: np.ndarray, T: Any) -> float:
    return float(np.hypot(*np.diff(_map_xy(rc, T), axis=0).T).sum())


def _cloud_distance(pieces: list[_Piece], bad: np.ndarray, above_bad: np.ndarray, left_bad: np.ndarray, box: tuple[int, int, int, int], halo: int, shape: tuple[int, int], ndimage: Any) -> None:
    """Lower each vertex's distance to the unusable pixels known so far around this tile (rows above, tiles to the left, the tile)."""
    r0, r1, c0, c1 = box
    ny, nx = shape
    wr0, wr1, wc0, wc1 = max(r0 - halo, 0), min(r1 + halo, ny), max(c0 - halo, 0), min(c1 + halo, nx)
    W = np.zeros((wr1 - wr0, wc1 - wc0), bool)
    n_above = min(r0 - wr0, len(above_bad))
    if n_above:
        W[r0 - wr0 - n_above : r0 - wr0] = above_bad[len(above_bad) - n_above :, wc0:wc1]
    n_left = min(c0 - wc0, left_bad.shape[1])
    if n_left:
        W[r0 - wr0 : r1 - wr0, c0 - wc0 - n_left : c0 - wc0] = left_bad[:, left_bad.shape[1] - n_left :]
    W[r0 - wr0 : r1 - wr0, c0 - wc0 : c1 - wc0] = bad
    if not W.any():
        return
    D = ndimage.distance_transform_edt(~W)
    for p in pieces:
        if p.box[1] < wr0 or p.box[0] >= wr1 or p.box[3] < wc0 or p.box[2] >= wc1:
            continue
        r, c = p.pix[:, 0], p.pix[:, 1]
        inside = (r >= wr0) & (r < wr1) & (c >= wc0) & (c < wc1)
        p.far[inside] = np.minimum(p.far[inside], D[r[inside] - wr0, c[inside] - wc0])


def _assemble(pieces: list[_Piece], T: Any, res: float, cloud_buffer_m: float | None, min_length_m: float, reference: LineString | None, max_dist_ref_m: float) -> MultiLineString:
    """Join the tile pieces (shared end vertices), then the length, cloud and reference filters of step 3."""

    def with_flag(p: _Piece) -> np.ndarray:
        keep = p.far * res > cloud_buffer_m if cloud_buffer_m is not None else np.ones(len(p.rc), bool)
        return np.column_stack([p.rc, keep.astype(np.float64)])

    lines = [with_flag(p) for p in pieces if p.complete]
    loose = [with_flag(p) for p in pieces if not p.complete]
    if loose:
        merged = shapely.line_merge(shapely.multilinestrings([shapely.linestrings(a) for a in loose]), directed=True)
        lines += [shapely.get_coordinates(g, include_z=True) for g in shapely.get_parts(merged)]
    out: list[np.ndarray] = []
    for a in lines:
        xy = _map_xy(a[:, :2], T)
        if np.hypot(*np.diff(xy, axis=0).T).sum() < min_length_m:
            continue
        keep = a[:, 2] > 0.5
        if reference is not None:
            keep &= shapely.distance(shapely.points(xy), reference) <= max_dist_ref_m
        out += _runs(xy, keep, closed=bool(np.array_equal(a[0, :2], a[-1, :2])))
    return MultiLineString(out)


def _runs(xy: np.ndarray, keep: np.ndarray, closed: bool = False) -> list[np.ndarray]:
    """Consecutive kept vertices as separate lines (at least two vertices each); on a closed ring the
    run through its first/last vertex is one line (the ring's start vertex is arbitrary)."""
    out: list[np.ndarray] = []
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return out
    splits = np.flatnonzero(np.diff(idx) > 1) + 1
    runs = np.split(idx, splits)
    if closed and len(runs) > 1 and keep[0] and keep[-1]:
        runs = [np.concatenate([runs[-1], runs[0][1:]])] + runs[1:-1]
    for run in runs:
        if len(run) >= 2:
            out.append(xy[run])
    return out


@dataclass
class DatedShoreline:
    time: np.datetime64
    geometry: MultiLineString
    level: float
    eta: float
    tide_m: float | None = None
    used: bool = True
    item: str | None = None


@dataclass
class ShorelineAnalysis:
    """Everything the product writes: dated waterlines, baseline, transects, positions and statistics."""

    crs: Any
    shorelines: list[DatedShoreline]
    baseline: LineString
    transects: list[Transect]
    raw_positions: np.ndarray  # dates × transects, m
    positions: np.ndarray  # after tide filter/correction
    stats: list[TransectStats] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        return np.array([s.time for s in self.shorelines], dtype="datetime64[ns]")


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
    """Run steps 2–6 of the method on dated water-index rasters of one grid (baseline in the grid's CRS)."""
    if len(times) != len(indices) or len(indices) < 2:
        raise InvalidInputs("shoreline: need two or more dated water-index images (times and images must pair up)")
    crs = indices[0].rio.crs
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
            reference=baseline, max_dist_ref_m=params.max_dist_ref_m,
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
    seaward = params.seaward if params.seaward != "auto" else _seaward_side(baseline, indices, params)
    transects = make_transects(baseline, params.transect_spacing_m, params.transect_land_m, params.transect_sea_m, seaward)
    raw = chainages(transects, [s.geometry for s in shorelines], params.intersection)
    pos = raw.copy()
    diag: dict[str, Any] = {"dates": len(shorelines), "transects": len(transects), "seaward": seaward}
    if tides is not None and (params.beach_slope is not None or params.tide_window_m is not None):
        z = tides.at(t64)
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


def _at(seq: Sequence[str] | None, i: int) -> str | None:
    return seq[i] if seq is not None else None


def _near(geom: MultiLineString, ref: LineString, dist: float) -> MultiLineString:
    pieces: list[np.ndarray] = []
    for g in geom.geoms:
        xy = shapely.get_coordinates(g)
        pieces += _runs(xy, shapely.distance(shapely.points(xy), ref) <= dist, closed=bool(g.is_closed))
    return MultiLineString(pieces)


def _seaward_side(baseline: LineString, indices: Sequence[xr.DataArray], p: ShorelineParams) -> Literal["left", "right"]:
    """The side whose transect ends have the higher median water index (over all dates)."""
    trs = make_transects(baseline, p.transect_spacing_m, p.transect_land_m, p.transect_sea_m, "left")
    left_end = np.array([t.point_at(t.length) for t in trs])
    right_end = np.array([t.origin for t in trs])
    vals = {"left": [], "right": []}  # type: dict[str, list[float]]
    pts = np.concatenate([left_end, right_end])
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

    shapes = [
        (tr.line.buffer(spacing_m / 2.0, cap_style="flat"), float(st.lrr))
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
    version = "1.0.0"
    title = "Shoreline position and change rates (Sentinel-2, DSAS statistics)"
    title_vi = "Đường bờ và tốc độ biến động (Sentinel-2, thống kê DSAS)"
    description = __doc__ or ""
    collection = "shoreline"
    multi_date = True  # built from a dated series by products.shoreline_build.build_shoreline
    inputs = (
        InputSpec("scenes", ("sentinel-2-l2a",), ("B03", "B11", "B08", "SCL"), "Two or more dated scenes of the same grid (time, y, x)"),
    )
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
            baseline = reproject_geometry(LineString(params.baseline_wgs84), WGS84, idx[0].rio.crs)
        tides = (inputs.get("tides") or {}).get("levels")
        ids = list(g.coords["item"].values) if "item" in g.coords else None
        analysis = analyse_shorelines(times, idx, params, unusable=masks, baseline=baseline, tides=tides, item_ids=ids)
        rate = rate_raster(analysis, idx[0], params.transect_spacing_m)
        rate.attrs["hpgeo:diagnostics"] = analysis.diagnostics
        return {"rate": rate, "analysis": analysis}

"""Sub-pixel waterlines from a water-index raster, tile by tile in bounded memory (step 3 of ``products.shoreline``).

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

Metre parameters on any grid: lengths, the cloud buffer and the reference distance are measured in
metres. On a projected grid in metres these are the map units. On a geographic grid (degrees, e.g.
EPSG:4326) the vertices are mapped to the local UTM zone (:func:`metric_crs`) before lengths and
reference distances are taken, and the cloud distance transform uses each tile's pixel size in metres
(east and north, at the tile's centre) — the raster is not resampled. A geographic grid wider than one
UTM zone (6°), beyond ±84° latitude, or a projected grid not in metres is refused (InvalidInputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import xarray as xr
from shapely.geometry import LineString, MultiLineString

from products.errors import InvalidInputs

__all__ = ["WATERLINE_TILE", "extract_waterline", "kept_runs", "metric_crs"]

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
    out_crs: Any = None,
) -> MultiLineString:
    """Sub-pixel waterline (map coordinates of ``index``'s CRS) at ``level``; see the module docstring.

    ``index`` (and ``unusable``, a boolean array or DataArray of the same grid) may be lazy: they are
    read tile by tile (``tile`` px, default :data:`WATERLINE_TILE`), each tile once. A tile also takes
    the last row of the tile above and the last column of the tile to its left (kept from the tiles
    already read), so marching squares sees every 2×2 cell of the image exactly once; the pieces that
    end on those shared rows/columns meet at identical vertices and are joined with ``shapely.line_merge``.
    The cloud buffer is the exact Euclidean distance (as a whole-image distance transform would give),
    accumulated per tile as the minimum over each tile's unusable pixels within the buffer's reach.
    The result (and ``reference``) are in ``out_crs`` (default: ``index``'s CRS); all distances in metres.
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
    frame = _Frame(index.rio.crs, T, (ny, nx), out_crs)
    buffered = cloud_buffer_m > 0
    reach = int(np.floor(cloud_buffer_m / frame.min_pixel_m())) + 1 if buffered else 0  # px: farther unusable pixels cannot drop a vertex
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
                if p.complete and _length(frame.metric(_map_xy(p.rc, T))) < min_length_m:
                    continue  # a whole short contour: dropped now (step 3), nothing to join
                pieces.append(p)
            if buffered:
                _cloud_distance(pieces, bad, above_bad, left_bad, (r0, r1, c0, c1), halo, (ny, nx), ndimage, frame)
            next_val[c0:c1] = core[-1]
            left_val = core[:, -1]
            if buffered:
                next_bad[:, c0:c1] = bad[len(bad) - tail :]
                left_bad = np.concatenate([left_bad, bad], axis=1)[:, -halo:]
            del core, bad, win
        above_val = next_val
        if buffered:
            above_bad = np.concatenate([above_bad, next_bad], axis=0)[-halo:]
    return _assemble(pieces, T, frame, cloud_buffer_m if buffered else None, min_length_m, reference, max_dist_ref_m)


def metric_crs(crs: Any, bounds: tuple[float, float, float, float]) -> Any:
    """The CRS in which a grid's metre parameters are measured: its own when projected in metres, the
    local UTM zone (WGS 84) of the grid's centre when geographic; refuses what cannot work (InvalidInputs)."""
    from rasterio.crs import CRS

    if crs is None:
        raise InvalidInputs("the water index has no CRS: metre parameters cannot be applied")
    if not crs.is_geographic:
        unit, factor = crs.linear_units_factor
        if abs(factor - 1.0) > 1e-9:
            raise InvalidInputs(f"the grid's CRS is in {unit}, not metres: reproject it to a metric CRS (e.g. UTM)")
        return crs
    left, bottom, right, top = bounds
    if right - left > 6.0 or max(abs(bottom), abs(top)) > 84.0:
        raise InvalidInputs(
            f"geographic grid spans {right - left:.1f}° of longitude, latitudes {bottom:.1f}…{top:.1f}°: wider than one UTM "
            "zone or polar, metre parameters cannot be applied; reproject it to a projected CRS"
        )
    lon, lat = (left + right) / 2, (bottom + top) / 2
    zone = min(int(np.floor((lon + 180.0) / 6.0)) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


class _Frame:
    """Map coordinates of the grid → metres (the metric CRS) and → the output CRS."""

    def __init__(self, crs: Any, T: Any, shape: tuple[int, int], out_crs: Any) -> None:
        from rasterio.transform import array_bounds

        from geo.crs import norm_crs

        ny, nx = shape
        b = array_bounds(ny, nx, T)
        self.T, self.crs = T, crs
        self.shape = shape
        self.metric_crs = metric_crs(crs, _lrbt(b))
        self.geographic = bool(crs.is_geographic)
        self.out_crs = norm_crs(out_crs) if out_crs is not None else crs
        self._to_metric = None if self.metric_crs == crs else _xy_transformer(crs, self.metric_crs)
        self._to_out = None if self.out_crs == crs else _xy_transformer(crs, self.out_crs)
        self._out_to_metric = None if self.out_crs == self.metric_crs else _xy_transformer(self.out_crs, self.metric_crs)

    def metric(self, xy: np.ndarray) -> np.ndarray:
        return xy if self._to_metric is None else self._to_metric(xy)

    def out(self, xy: np.ndarray) -> np.ndarray:
        return xy if self._to_out is None else self._to_out(xy)

    def reference_metric(self, ref: LineString) -> LineString:
        return ref if self._out_to_metric is None else shapely.transform(ref, self._out_to_metric)

    def pixel_m(self, row: float, col: float) -> tuple[float, float]:
        """(north–south, east–west) size in metres of the pixel at (row, col)."""
        T = self.T
        if not self.geographic:
            return (float(np.hypot(T.b, T.e)), float(np.hypot(T.a, T.d)))
        rc = np.array([[row, col], [row + 1, col], [row, col + 1]], dtype=np.float64) - 0.5
        m = self.metric(_map_xy(rc, T))
        return (float(np.hypot(*(m[1] - m[0]))), float(np.hypot(*(m[2] - m[0]))))

    def min_pixel_m(self) -> float:
        """The smallest pixel side in metres anywhere on the grid (first/last row and column corners)."""
        ny, nx = self.shape
        return min(min(self.pixel_m(r, c)) for r in (0, ny - 1) for c in (0, nx - 1))


def _lrbt(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    west, south, east, north = b
    return (min(west, east), min(south, north), max(west, east), max(south, north))


def _xy_transformer(src: Any, dst: Any) -> Any:
    from pyproj import Transformer

    tr = Transformer.from_crs(src.to_wkt(), dst.to_wkt(), always_xy=True)

    def f(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return f


def _length(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


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


def _cloud_distance(pieces: list[_Piece], bad: np.ndarray, above_bad: np.ndarray, left_bad: np.ndarray, box: tuple[int, int, int, int], halo: int, shape: tuple[int, int], ndimage: Any, frame: "_Frame") -> None:
    """Lower each vertex's distance (m) to the unusable pixels known so far around this tile (rows above, tiles to the left, the tile).

    The pixel size in metres is the tile centre's (on a geographic grid it varies by < 0.1 % across a 2048 px tile at 10 m)."""
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
    D = ndimage.distance_transform_edt(~W, sampling=frame.pixel_m((r0 + r1) / 2, (c0 + c1) / 2))
    for p in pieces:
        if p.box[1] < wr0 or p.box[0] >= wr1 or p.box[3] < wc0 or p.box[2] >= wc1:
            continue
        r, c = p.pix[:, 0], p.pix[:, 1]
        inside = (r >= wr0) & (r < wr1) & (c >= wc0) & (c < wc1)
        p.far[inside] = np.minimum(p.far[inside], D[r[inside] - wr0, c[inside] - wc0])


def _assemble(pieces: list[_Piece], T: Any, frame: _Frame, cloud_buffer_m: float | None, min_length_m: float, reference: LineString | None, max_dist_ref_m: float) -> MultiLineString:
    """Join the tile pieces (shared end vertices), then the length, cloud and reference filters of step 3."""

    def with_flag(p: _Piece) -> np.ndarray:
        keep = p.far > cloud_buffer_m if cloud_buffer_m is not None else np.ones(len(p.rc), bool)
        return np.column_stack([p.rc, keep.astype(np.float64)])

    lines = [with_flag(p) for p in pieces if p.complete]
    loose = [with_flag(p) for p in pieces if not p.complete]
    if loose:
        merged = shapely.line_merge(shapely.multilinestrings([shapely.linestrings(a) for a in loose]), directed=True)
        lines += [shapely.get_coordinates(g, include_z=True) for g in shapely.get_parts(merged)]
    out: list[np.ndarray] = []
    ref_m = frame.reference_metric(reference) if reference is not None else None
    for a in lines:
        xy = _map_xy(a[:, :2], T)
        xy_m = frame.metric(xy)
        if _length(xy_m) < min_length_m:
            continue
        keep = a[:, 2] > 0.5
        if ref_m is not None:
            keep &= shapely.distance(shapely.points(xy_m), ref_m) <= max_dist_ref_m
        out += kept_runs(frame.out(xy), keep, closed=bool(np.array_equal(a[0, :2], a[-1, :2])))
    return MultiLineString(out)


def kept_runs(xy: np.ndarray, keep: np.ndarray, closed: bool = False) -> list[np.ndarray]:
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



"""Rectify scanned historical images with ground control points (GCPs) → georeferenced COG.

Conventions:

* Pixel positions (``col``, ``row``) are GDAL's: (0, 0) is the upper-left *corner* of the first
  pixel, so the centre of pixel (i, j) is (j + 0.5, i + 0.5). ``x``/``y`` are map coordinates
  (easting/northing, or lon/lat for geographic CRSs) in the GCPs' CRS.
* ``polynomialN`` fits x, y = P_N(col, row) by least squares (the "forward" transform, for the
  output extent and map residuals) and col, row = Q_N(x, y) (the "inverse"), as GDAL's GCP
  polynomials do. Order N has (N+1)(N+2)/2 coefficients per axis and needs that many GCPs.
* ``tps`` is a thin-plate spline (``scipy.interpolate.RBFInterpolator``) through the GCPs; it is
  exact at every GCP, so its residuals are *leave-one-out* residuals (refit without the GCP, then
  predict it), which is what tells a wrong GCP apart.
* Residuals are reported per GCP in pixels (from the inverse transform) and in map units (from
  the forward one); RMS is sqrt(mean(dcol² + drow²)). A fit whose pixel RMS exceeds ``max_rms``
  is rejected with :class:`InconsistentGCPs` naming the GCP with the largest residual.
* A least-squares fit's own residuals flatter it (with exactly (N+1)(N+2)/2 GCPs an order-N polynomial
  passes through every GCP: RMS 0 whatever the true error). So *leave-one-out* residuals are always
  reported too (each GCP predicted by the fit to the others, for every method) with their RMS, in the
  result and in the COG's tags. When the GCPs leave no spare point (leave-one-out impossible) or when
  the leave-one-out RMS exceeds ``max_rms`` (the order is too high for these GCPs), a
  :class:`~ingest.readers.errors.FewSpareGCPs` warning says so; fewer GCPs than the order's unknowns
  are refused (:class:`TooFewGCPs`, exit 2 in the CLI). The COG's tags: ``HPGEO_RECTIFY_METHOD``,
  ``HPGEO_RMS_PIXELS``/``_MAP``, ``HPGEO_LOO_RMS_PIXELS``/``_MAP``, ``HPGEO_SPARE_GCPS``,
  ``HPGEO_GCP_RESIDUALS`` (JSON per GCP) and ``HPGEO_RECTIFY_WARNINGS``.
* The pixels are warped by GDAL (``SRC_METHOD=GCP_POLYNOMIAL``/``MAX_GCP_ORDER=N`` or ``GCP_TPS``), chunk by chunk,
  from a VRT carrying the GCPs: the same models as :func:`fit` (least squares is invariant to the
  normalisation, and so is the thin-plate spline), so the residuals describe the warp that was done, to
  GDAL's 0.125 px approximation (``tests/ingest/test_rectify.py`` checks the warped pixels against
  :func:`fit`'s inverse).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from scipy.interpolate import RBFInterpolator

from geo.cog import dataarray_to_cog
from geo.crs import PROCESSING_CRS, WGS84, norm_crs
from geo.gdal import SCAN_DRIVERS, open_checked, safe_env
from geo.grid import Grid
from ingest.readers.errors import (
    CollinearGCPs,
    DuplicateGCPs,
    GCPOutsideImage,
    InconsistentGCPs,
    MalformedGCPFile,
    NonFiniteGCPs,
    ProductNotFound,
    FewSpareGCPs,
    TooFewGCPs,
    UnknownRectifyMethod,
)
from ingest.readers.geotiff import existing_file, safe_band_names

__all__ = ["GCP", "Residual", "RectifyResult", "METHODS", "read_gcps", "min_gcps", "validate_gcps", "fit", "rectify",
           "residuals_json", "gdal_method_options", "warp_with_gcps"]

Method = Literal["polynomial1", "polynomial2", "polynomial3", "tps"]
METHODS: tuple[str, ...] = ("polynomial1", "polynomial2", "polynomial3", "tps")


@dataclass(frozen=True)
class GCP:
    """One ground control point: image position (col, row; pixels) ↔ map position (x, y)."""

    id: str
    col: float
    row: float
    x: float
    y: float


@dataclass(frozen=True)
class Residual:
    id: str
    dcol: float
    drow: float
    dx: float
    dy: float

    @property
    def pixels(self) -> float:
        return math.hypot(self.dcol, self.drow)

    @property
    def map_units(self) -> float:
        return math.hypot(self.dx, self.dy)


@dataclass
class RectifyResult:
    method: str
    crs: Any
    residuals: list[Residual]
    rms_pixels: float
    rms_map: float
    grid: Grid | None = None
    path: Path | None = None
    #: leave-one-out residuals (GCP predicted by the fit to the others; NaN where the others cannot
    #: determine the fit); None when the GCPs leave no spare point
    loo_residuals: list[Residual] | None = None
    loo_rms_pixels: float | None = None
    loo_rms_map: float | None = None
    spare_gcps: int = 0  # GCPs beyond the unknowns of the transform (its degrees of freedom)
    warnings: list[str] = field(default_factory=list)
    forward: Any = field(default=None, repr=False)  # (col, row) → (x, y) in crs
    inverse: Any = field(default=None, repr=False)  # (x, y) → (col, row)

    @property
    def worst(self) -> Residual:
        return max(self.residuals, key=lambda r: r.pixels)


# -- GCP input --------------------------------------------------------------------------------
_COLS = {
    "id": ("id", "name", "gcp"),
    "col": ("pixel", "col", "column", "px"),
    "row": ("line", "row", "py"),
    "x": ("x", "lon", "longitude", "easting", "mapx"),
    "y": ("y", "lat", "latitude", "northing", "mapy"),
}


def read_gcps(path: str | os.PathLike, default_crs: Any = None) -> tuple[list[GCP], Any]:
    """Read a GCP CSV (header: id, pixel/col, line/row, x/lon, y/lat [, crs]).

    The GCPs' CRS is the ``crs`` column (one value for all rows), else EPSG:4326 when the map
    columns are named lon/lat, else ``default_crs``.
    """
    p = Path(path)
    if not p.is_file():
        raise ProductNotFound(f"GCP file not found: {p}")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
        cols = {}
        for key, names in _COLS.items():
            found = next((header[n] for n in names if n in header), None)
            if found is None and key != "id":
                raise MalformedGCPFile(f"{p.name}: no {key} column; expected one of {', '.join(names)} (got {', '.join(header)})")
            cols[key] = found
        gcps, crss = [], set()
        for i, rec in enumerate(reader, start=2):
            try:
                vals = [float(rec[cols[k]]) for k in ("col", "row", "x", "y")]
            except (TypeError, ValueError) as exc:
                raise MalformedGCPFile(f"{p.name} line {i}: not a number ({exc})") from exc
            gid = (rec[cols["id"]] or "").strip() if cols["id"] else ""
            gcps.append(GCP(gid or str(i - 1), *vals))
            if "crs" in header and rec[header["crs"]]:
                crss.add(rec[header["crs"]].strip())
    if len(crss) > 1:
        raise MalformedGCPFile(f"{p.name}: GCPs in several CRSs ({', '.join(sorted(crss))}); use one")
    if crss:
        crs = norm_crs(crss.pop())
    elif cols["x"].strip().lower() in ("lon", "longitude"):
        crs = WGS84
    else:
        crs = norm_crs(default_crs if default_crs is not None else PROCESSING_CRS)
    return gcps, crs


def min_gcps(method: str) -> int:
    """GCPs needed: (n+1)(n+2)/2 for polynomial order n; 3 for a thin-plate spline (its affine part)."""
    if method not in METHODS:
        raise UnknownRectifyMethod(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if method == "tps":
        return 4  # 3 for the affine part + 1 so leave-one-out residuals exist
    n = int(method[-1])
    return (n + 1) * (n + 2) // 2


def validate_gcps(gcps: list[GCP], image_shape: tuple[int, int], method: str) -> None:
    """Reject GCP sets that cannot define ``method``'s transform, with the offending GCP named."""
    need = min_gcps(method)
    for g in gcps:
        if not all(math.isfinite(v) for v in (g.col, g.row, g.x, g.y)):
            raise NonFiniteGCPs(f"GCP {g.id} has a NaN or infinite coordinate: {g}")
    h, w = image_shape
    for g in gcps:
        if not (0 <= g.col <= w and 0 <= g.row <= h):
            raise GCPOutsideImage(f"GCP {g.id} at pixel ({g.col:g}, {g.row:g}) is outside the {w} x {h} image")
    ids = [g.id for g in gcps]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DuplicateGCPs(f"GCP id {dup} is used more than once")
    for kind, pts, tol in (("pixel", _px(gcps), 1e-3), ("map", _xy(gcps), None)):
        span = np.ptp(pts, axis=0).max() if len(pts) else 0.0
        t = tol if tol is not None else max(span, 1e-9) * 1e-9
        for i in range(len(pts)):
            d = np.hypot(*(pts[i + 1 :] - pts[i]).T)
            if d.size and d.min() <= t:
                j = i + 1 + int(d.argmin())
                raise DuplicateGCPs(f"GCPs {gcps[i].id} and {gcps[j].id} have the same {kind} position")
    if len(gcps) < need:
        raise TooFewGCPs(f"{method} needs at least {need} GCPs, got {len(gcps)}")
    for kind, pts in (("pixel", _px(gcps)), ("map", _xy(gcps))):
        c = pts - pts.mean(axis=0)
        s = np.linalg.svd(c, compute_uv=False)
        if s[0] == 0 or s[-1] / s[0] < 1e-3:
            raise CollinearGCPs(f"the GCPs are (nearly) collinear in {kind} space; spread them over the image")
    if method != "tps":
        n = int(method[-1])
        for kind, pts in (("pixel", _px(gcps)), ("map", _xy(gcps))):
            a = _design(_normalise(pts)[0], n)
            if np.linalg.matrix_rank(a) < a.shape[1]:
                raise CollinearGCPs(f"the GCPs' {kind} positions do not determine an order-{n} polynomial "
                                    "(too many on one line or curve); add GCPs elsewhere or lower the order")


def _px(gcps: list[GCP]) -> np.ndarray:
    return np.array([[g.col, g.row] for g in gcps], dtype=np.float64).reshape(-1, 2)


def _xy(gcps: list[GCP]) -> np.ndarray:
    return np.array([[g.x, g.y] for g in gcps], dtype=np.float64).reshape(-1, 2)


# -- transforms -------------------------------------------------------------------------------
def _normalise(pts: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    centre = pts.mean(axis=0)
    scale = float(np.abs(pts - centre).max()) or 1.0
    return (pts - centre) / scale, (centre, scale)


def _design(u: np.ndarray, order: int) -> np.ndarray:
    return np.stack([u[:, 0] ** (i - j) * u[:, 1] ** j for i in range(order + 1) for j in range(i + 1)], axis=1)


class _Poly:
    """Least-squares 2-D polynomial src → dst on normalised coordinates (well conditioned)."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, order: int) -> None:
        u, self._norm = _normalise(src)
        self.order = order
        self.coef, *_ = np.linalg.lstsq(_design(u, order), dst, rcond=None)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        centre, scale = self._norm
        return _design((np.asarray(pts, dtype=np.float64) - centre) / scale, self.order) @ self.coef


class _TPS:
    def __init__(self, src: np.ndarray, dst: np.ndarray) -> None:
        u, self._norm = _normalise(src)
        self._rbf = RBFInterpolator(u, dst, kernel="thin_plate_spline", degree=1)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        centre, scale = self._norm
        return self._rbf((np.asarray(pts, dtype=np.float64) - centre) / scale)


def _make(method: str, src: np.ndarray, dst: np.ndarray) -> Any:
    return _TPS(src, dst) if method == "tps" else _Poly(src, dst, int(method[-1]))


def fit(gcps: list[GCP], method: str, *, crs: Any = PROCESSING_CRS, max_rms: float = 5.0) -> RectifyResult:
    """Fit forward and inverse transforms; residuals per GCP (leave-one-out for ``tps``) and leave-one-out
    residuals for every method; :class:`FewSpareGCPs` warnings (also in ``.warnings``) when the GCPs leave
    no spare point or the leave-one-out RMS exceeds ``max_rms``.

    ``gcps`` must already be in ``crs`` (see :func:`rectify` for reprojection).
    """
    px, xy = _px(gcps), _xy(gcps)
    fwd, inv = _make(method, px, xy), _make(method, xy, px)
    unknowns = 3 if method == "tps" else min_gcps(method)  # tps: its affine part
    spare = len(gcps) - unknowns
    loo_px, loo_xy, undetermined = _leave_one_out(method, px, xy) if spare > 0 else (None, None, [])
    if method == "tps":
        pred_px, pred_xy = loo_px, loo_xy  # exact at every GCP: its residuals are the leave-one-out ones
    else:
        pred_px, pred_xy = inv(xy), fwd(px)
    res = _residuals(gcps, pred_px - px, pred_xy - xy)
    out = RectifyResult(method=method, crs=norm_crs(crs), residuals=res, rms_pixels=_rms(pred_px - px), rms_map=_rms(pred_xy - xy),
                        forward=fwd, inverse=inv, spare_gcps=spare)
    if loo_px is None:
        out.warnings.append(
            f"{method} has {unknowns} unknowns per axis and the {len(gcps)} GCPs leave no spare point: the fit passes through "
            f"every GCP, so its RMS ({out.rms_pixels:.3f} px) says nothing about its accuracy and no leave-one-out check is "
            f"possible; add GCPs (at least {unknowns + 1}, better {2 * unknowns}) or lower the order")
    else:
        out.loo_residuals = _residuals(gcps, loo_px - px, loo_xy - xy)
        ok = ~np.isnan(loo_px[:, 0])
        if ok.any():
            out.loo_rms_pixels, out.loo_rms_map = _rms((loo_px - px)[ok]), _rms((loo_xy - xy)[ok])
        if undetermined:
            out.warnings.append(
                f"{method}: without GCP(s) {', '.join(gcps[i].id for i in undetermined)} the others do not determine the fit, so their "
                "leave-one-out residual is undefined; add GCPs near them")
        if out.loo_rms_pixels is not None and out.loo_rms_pixels > max_rms:
            w = max((r for r in out.loo_residuals if math.isfinite(r.pixels)), key=lambda r: r.pixels)
            out.warnings.append(
                f"{method}: leave-one-out RMS is {out.loo_rms_pixels:.2f} px (> {max_rms:g} px) while the fit's RMS is "
                f"{out.rms_pixels:.2f} px: with {spare} spare GCP(s) the order is too high for these GCPs or GCP {w.id} "
                f"is wrong (predicted {w.pixels:.2f} px off by the others); add GCPs or lower the order")
    for msg in out.warnings:
        warnings.warn(FewSpareGCPs(msg), stacklevel=2)
    return out


def _rms(d: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum(np.asarray(d) ** 2, axis=1))))


def _residuals(gcps: list[GCP], dpx: np.ndarray, dxy: np.ndarray) -> list[Residual]:
    return [Residual(g.id, *map(float, dpx[i]), *map(float, dxy[i])) for i, g in enumerate(gcps)]


def _leave_one_out(method: str, px: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Each GCP predicted (pixel from map, map from pixel) by the fit to all the others; NaN where they are too few."""
    n = len(px)
    pred_px, pred_xy = np.full_like(px, np.nan), np.full_like(xy, np.nan)
    undetermined: list[int] = []
    for i in range(n):
        keep = np.arange(n) != i
        if method != "tps":
            order = int(method[-1])
            if any(np.linalg.matrix_rank(_design(_normalise(p[keep])[0], order)) < (order + 1) * (order + 2) // 2 for p in (px, xy)):
                undetermined.append(i)
                continue
        pred_px[i] = _make(method, xy[keep], px[keep])(xy[i : i + 1])[0]
        pred_xy[i] = _make(method, px[keep], xy[keep])(px[i : i + 1])[0]
    return pred_px, pred_xy, undetermined


# -- the whole step ---------------------------------------------------------------------------
def rectify(
    scan: str | os.PathLike,
    gcps: list[GCP],
    dst: str | os.PathLike | None,
    *,
    method: str = "polynomial1",
    gcp_crs: Any = PROCESSING_CRS,
    crs: Any = PROCESSING_CRS,
    resolution: float | None = None,
    max_rms: float = 5.0,
    warp_mem_mb: int = 256,
    chunks: int = 1024,
    acquired: dt.datetime | None = None,
) -> RectifyResult:
    """Georeference ``scan`` with ``gcps`` and warp it (bilinear) to a COG at ``dst`` in ``crs``.

    The warp is GDAL's (``SRC_METHOD=GCP_POLYNOMIAL`` with ``MAX_GCP_ORDER=N``, or ``GCP_TPS``): the scan is read
    through a VRT carrying the GCPs and warped chunk by chunk (at most ``warp_mem_mb`` MB of working buffer) into a
    tiled GeoTIFF, then written as a COG ``chunks`` pixels at a time, so a large scan never sits in memory. GDAL fits
    the same least-squares polynomials (both directions) and the same thin-plate spline as :func:`fit`, whose
    residuals are reported.

    ``resolution`` (``crs`` units) defaults to the scan's mean ground pixel size. Output pixels
    outside the scan are nodata (0 for integer scans, NaN for float). With ``dst=None`` only the
    fit is done (a dry run that still reports residuals and enforces ``max_rms``).
    """
    p = existing_file(scan)
    # the scan through hpgeo's GDAL gate: TIFF/JPEG 2000/PNG/JPEG only (never a VRT that reads other files or URLs),
    # file-size and pixel limits before any read, complex refused
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a scan is not georeferenced: expected
        with open_checked(p, drivers=SCAN_DRIVERS) as ds:
            shape, count, dtype, driver = (ds.height, ds.width), ds.count, ds.dtypes[0], ds.driver
            names = safe_band_names(ds.descriptions)
    validate_gcps(gcps, shape, method)
    gcps = _to_crs(gcps, norm_crs(gcp_crs), norm_crs(crs))
    result = fit(gcps, method, crs=crs, max_rms=max_rms)
    if result.rms_pixels > max_rms:
        w = result.worst
        raise InconsistentGCPs(
            f"{method} fit RMS is {result.rms_pixels:.2f} px (> {max_rms:g} px): GCP {w.id} is off by "
            f"{w.pixels:.2f} px; check it or raise --max-rms"
        )
    if dst is None:
        return result
    grid = _output_grid(result, shape, resolution)
    nodata = float("nan") if np.dtype(dtype).kind == "f" else 0
    # GDAL reads "a:b=c" as the item "a" (':' separates names from values too): tag names use '_' only
    tags = {"HPGEO_RECTIFY_METHOD": method, "HPGEO_RMS_PIXELS": f"{result.rms_pixels:.3f}",
            "HPGEO_RMS_MAP": f"{result.rms_map:.3f}", "HPGEO_GCPS": len(gcps), "HPGEO_SOURCE": p.name,
            "HPGEO_SPARE_GCPS": result.spare_gcps, "HPGEO_LOO_RMS_PIXELS": _fmt(result.loo_rms_pixels),
            "HPGEO_LOO_RMS_MAP": _fmt(result.loo_rms_map), "HPGEO_GCP_RESIDUALS": residuals_json(result)}
    if result.warnings:
        tags["HPGEO_RECTIFY_WARNINGS"] = " | ".join(result.warnings)
    if acquired is not None:
        tags["TIFFTAG_DATETIME"] = acquired.astimezone(dt.timezone.utc).strftime("%Y:%m:%d %H:%M:%S")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dst.name}.", dir=dst.parent) as tmp:
        warped = warp_with_gcps(p, gcps, result.crs, grid, Path(tmp), method=method, nodata=nodata, warp_mem_mb=warp_mem_mb,
                                driver=driver)
        import rioxarray

        with rioxarray.open_rasterio(warped, chunks={"band": count, "y": chunks, "x": chunks}) as da:
            result.path = dataarray_to_cog(dst, da, nodata=nodata, band_names=names, tags=tags)
    result.grid = grid
    return result


def _fmt(v: float | None) -> str:
    return "none" if v is None else f"{v:.3f}"


def residuals_json(result: RectifyResult) -> str:
    """Per-GCP residuals as JSON (the COG tag ``HPGEO_GCP_RESIDUALS``): fit and leave-one-out, pixels and map units.

    ``loo_px``/``loo_map`` are null when the GCPs leave no spare point or the others cannot determine the fit."""
    import json

    loo = {r.id: r for r in result.loo_residuals or []}

    def num(v: float) -> float | None:
        return round(v, 4) if math.isfinite(v) else None

    return json.dumps([{"id": r.id, "px": num(r.pixels), "map": num(r.map_units),
                        "loo_px": num(loo[r.id].pixels) if r.id in loo else None,
                        "loo_map": num(loo[r.id].map_units) if r.id in loo else None} for r in result.residuals])


def gdal_method_options(method: str) -> dict[str, str]:
    """GDAL transformer options of a method: ``GCP_POLYNOMIAL`` of order N, or ``GCP_TPS``."""
    if method == "tps":
        return {"SRC_METHOD": "GCP_TPS"}
    min_gcps(method)  # rejects unknown methods
    return {"SRC_METHOD": "GCP_POLYNOMIAL", "MAX_GCP_ORDER": method[-1]}


def warp_with_gcps(
    scan: Path, gcps: list[GCP], crs: Any, grid: Grid, workdir: Path, *, method: str, nodata: float, warp_mem_mb: int = 256,
    driver: str | None = None,
) -> Path:
    """Warp ``scan`` onto ``grid`` through ``gcps`` (in ``crs``) with GDAL, bilinear; returns a tiled GeoTIFF in ``workdir``.

    GDAL evaluates the model exactly at some pixels of each scanline and interpolates between them within
    0.125 scan pixels (rasterio's fixed approximation tolerance, gdalwarp's default ``-et``).

    The scan is not copied: a VRT next to the output points at it and carries the GCPs. ``driver`` (the one
    :func:`geo.gdal.open_checked` accepted) pins how GDAL opens the scan to make that VRT."""
    import rasterio.shutil
    from rasterio.control import GroundControlPoint
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    vrt, out = workdir / "scan.vrt", workdir / "warped.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with safe_env(), rasterio.open(scan.resolve(), driver=driver) as src_ds:
            rasterio.shutil.copy(src_ds, str(vrt), driver="VRT")
        with rasterio.open(vrt, "r+") as v:
            v.gcps = ([GroundControlPoint(row=g.row, col=g.col, x=g.x, y=g.y, id=g.id) for g in gcps], norm_crs(crs))
    with rasterio.open(vrt) as src:
        bands = list(range(1, src.count + 1))
        profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=src.count, dtype=src.dtypes[0],
                       crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True, blockxsize=512,
                       blockysize=512, compress="deflate", BIGTIFF="IF_SAFER")
        with rasterio.open(out, "w", **profile) as dst:
            reproject(rasterio.band(src, bands), rasterio.band(dst, bands), dst_nodata=nodata,
                      resampling=Resampling.bilinear, warp_mem_limit=warp_mem_mb,
                      **gdal_method_options(method))
    return out


def _to_crs(gcps: list[GCP], src: Any, dst: Any) -> list[GCP]:
    if src == dst:
        return gcps
    from rasterio.warp import transform

    xs, ys = transform(src, dst, [g.x for g in gcps], [g.y for g in gcps])
    return [GCP(g.id, g.col, g.row, x, y) for g, x, y in zip(gcps, xs, ys)]


def _output_grid(result: RectifyResult, shape: tuple[int, int], resolution: float | None) -> Grid:
    h, w = shape
    n = 50
    edge = np.concatenate([
        np.column_stack([np.linspace(0, w, n), np.zeros(n)]),
        np.column_stack([np.linspace(0, w, n), np.full(n, h)]),
        np.column_stack([np.zeros(n), np.linspace(0, h, n)]),
        np.column_stack([np.full(n, w), np.linspace(0, h, n)]),
    ])
    xy = result.forward(edge)
    if resolution is None:
        # mean ground size of a pixel: sqrt(|det J|) of the forward transform at the image centre
        c = np.array([[w / 2, h / 2], [w / 2 + 1, h / 2], [w / 2, h / 2 + 1]])
        f = result.forward(c)
        resolution = math.sqrt(abs(np.cross(f[1] - f[0], f[2] - f[0])))
    if not resolution > 0:
        raise CollinearGCPs("the fitted transform is degenerate (zero pixel size)")
    minx, miny = xy.min(axis=0)
    maxx, maxy = xy.max(axis=0)
    width = max(1, math.ceil((maxx - minx) / resolution))
    height = max(1, math.ceil((maxy - miny) / resolution))
    return Grid((height, width), Affine(resolution, 0, minx, 0, -resolution, maxy), norm_crs(result.crs).to_wkt())

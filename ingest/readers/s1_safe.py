"""Sentinel-1 GRD SAFE reader: manifest, annotation, calibration and noise LUTs → σ0 in dB.

Conventions (ESA "Sentinel-1 Level 1 Detailed Algorithm Definition", S1-TN-MDA-52-7445, and the
thermal-denoising note MPC-0392):

* ``line`` is the azimuth row and ``pixel`` the range column of the GRD image, both 0-based.
* Calibration vectors give A (sigmaNought, betaNought, gamma, dn) at sparse (line, pixel) positions;
  they are interpolated **bilinearly**: linearly along pixel inside each vector, then linearly between
  the two vectors that bracket a line (values beyond the first/last vector are held constant).
* Thermal noise N (in DN² units) is ``noiseRangeLut × noiseAzimuthLut`` for IPF ≥ 2.9; the azimuth
  LUT is given per block (``firstAzimuthLine..lastAzimuthLine`` × ``firstRangeSample..lastRangeSample``,
  inclusive), interpolated along line and constant across the block's range. Older products carry a
  single ``noiseVector``/``noiseLut`` (range LUT only).
* σ0 (linear, m²/m²) = (DN² − N) / A_σ²; values ≤ 0 (noise-dominated pixels) are clipped to
  :data:`SIGMA0_FLOOR` before dB = 10·log10(σ0).
"""

from __future__ import annotations

import os
import warnings
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window
from shapely.geometry import Polygon

from geo.crs import WGS84, norm_crs
from ingest.readers import _xml
from ingest.readers.errors import (
    MalformedMetadata,
    MeasurementShapeMismatch,
    NoMeasurement,
    ProductNotFound,
    UnknownBand,
    UnsupportedProduct,
)
from ingest.scene import BandInfo, Scene

__all__ = [
    "SIGMA0_FLOOR",
    "S1Manifest",
    "S1Annotation",
    "CalibrationLUT",
    "NoiseLUT",
    "NoiseAzimuthBlock",
    "S1GrdProduct",
    "parse_manifest",
    "parse_annotation",
    "parse_calibration",
    "parse_noise",
    "interp_vectors",
    "utm_crs_for",
    "read_s1_grd",
]

SIGMA0_FLOOR = 1e-5
"""Linear σ0 floor (−50 dB) for pixels where noise subtraction leaves ≤ 0."""

LutKind = Literal["sigmaNought", "betaNought", "gamma", "dn"]


# -- metadata ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class S1Manifest:
    """What ``manifest.safe`` says about the product. Times are UTC; footprint is lon/lat (WGS 84)."""

    mission: str  # "S1A", "S1B"
    mode: str  # "IW", "EW", "SM"
    product_type: str  # "GRD"
    polarisations: tuple[str, ...]
    start: Any  # datetime
    stop: Any
    absolute_orbit: int
    relative_orbit: int | None
    orbit_pass: str  # "ascending" / "descending"
    footprint: Polygon
    ipf_version: str | None
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → pol → relative href

    @property
    def platform(self) -> str:
        return f"sentinel-1{self.mission[-1].lower()}"


def parse_manifest(path: str | os.PathLike) -> S1Manifest:
    """Parse a Sentinel-1 ``manifest.safe`` (any IPF version)."""
    root = _xml.parse(path)
    where = Path(path).name
    number = _xml.text(root, "number", where)
    pols = tuple(e.text.strip() for e in _xml.iter_local(root, "transmitterReceiverPolarisation") if e.text)
    orbits = {e.get("type"): int(e.text) for e in _xml.iter_local(root, "orbitNumber") if e.text}
    rel = {e.get("type"): int(e.text) for e in _xml.iter_local(root, "relativeOrbitNumber") if e.text}
    coords = _xml.text(root, "coordinates", where)
    try:
        latlon = [tuple(float(v) for v in pair.split(",")) for pair in coords.split()]
        footprint = Polygon([(lon, lat) for lat, lon in latlon])
    except ValueError as exc:
        raise MalformedMetadata(f"footprint coordinates in {where} are not 'lat,lon' pairs: {coords!r}") from exc
    software = next((e for e in _xml.iter_local(root, "software") if e.get("name") == "Sentinel-1 IPF"), None)
    files: dict[str, dict[str, str]] = {}
    kinds = {
        "s1Level1ProductSchema": "annotation",
        "s1Level1CalibrationSchema": "calibration",
        "s1Level1NoiseSchema": "noise",
        "s1Level1MeasurementSchema": "measurement",
    }
    for obj in _xml.iter_local(root, "dataObject"):
        kind = kinds.get(obj.get("repID", ""))
        loc = _xml.find(obj, "fileLocation")
        if kind is None or loc is None:
            continue
        href = loc.get("href", "")
        m = re.search(r"-(hh|hv|vv|vh)-", Path(href).name)
        if m:
            files.setdefault(kind, {})[m.group(1).upper()] = href
    return S1Manifest(
        mission=f"S1{number}",
        mode=_xml.text(root, "mode", where),
        product_type=_xml.text(root, "productType", where),
        polarisations=pols,
        start=_xml.parse_time(_xml.text(root, "startTime", where)),
        stop=_xml.parse_time(_xml.text(root, "stopTime", where)),
        absolute_orbit=orbits.get("start") or orbits[next(iter(orbits))],
        relative_orbit=rel.get("start"),
        orbit_pass=_xml.text(root, "pass", where).lower(),
        footprint=footprint,
        ipf_version=software.get("version") if software is not None else None,
        files=files,
    )


@dataclass(frozen=True)
class S1Annotation:
    """Image annotation of one polarisation: size, spacing (metres), incidence and geolocation grid."""

    polarisation: str
    number_of_lines: int
    number_of_samples: int
    range_pixel_spacing: float
    azimuth_pixel_spacing: float
    incidence_angle_mid_swath: float  # degrees
    grid_line: np.ndarray  # geolocation grid points (n,)
    grid_pixel: np.ndarray
    grid_lat: np.ndarray  # degrees
    grid_lon: np.ndarray
    grid_height: np.ndarray  # metres above the ellipsoid
    grid_incidence: np.ndarray  # degrees

    @property
    def shape(self) -> tuple[int, int]:
        return (self.number_of_lines, self.number_of_samples)

    def gcps(self, row_off: int = 0, col_off: int = 0) -> list[GroundControlPoint]:
        """The geolocation grid as rasterio GCPs (x=lon, y=lat, WGS 84), shifted to a window's origin.

        Grid (line, pixel) positions refer to pixel *centres*, so 0.5 is added to reach GDAL's
        corner-based pixel/line convention.
        """
        return [
            GroundControlPoint(row=float(r) - row_off + 0.5, col=float(c) - col_off + 0.5, x=float(x), y=float(y), z=float(z))
            for r, c, x, y, z in zip(self.grid_line, self.grid_pixel, self.grid_lon, self.grid_lat, self.grid_height)
        ]


def parse_annotation(path: str | os.PathLike) -> S1Annotation:
    root = _xml.parse(path)
    where = Path(path).name
    pts = list(_xml.iter_local(root, "geolocationGridPoint"))
    if not pts:
        raise MalformedMetadata(f"no geolocationGridPoint in {where}")

    def col(name: str) -> np.ndarray:
        return np.array([float(_xml.text(p, name, where)) for p in pts])

    return S1Annotation(
        polarisation=_xml.text(root, "polarisation", where),
        number_of_lines=int(_xml.text(root, "numberOfLines", where)),
        number_of_samples=int(_xml.text(root, "numberOfSamples", where)),
        range_pixel_spacing=float(_xml.text(root, "rangePixelSpacing", where)),
        azimuth_pixel_spacing=float(_xml.text(root, "azimuthPixelSpacing", where)),
        incidence_angle_mid_swath=float(_xml.text(root, "incidenceAngleMidSwath", where)),
        grid_line=col("line"),
        grid_pixel=col("pixel"),
        grid_lat=col("latitude"),
        grid_lon=col("longitude"),
        grid_height=col("height"),
        grid_incidence=col("incidenceAngle"),
    )


@dataclass(frozen=True)
class CalibrationLUT:
    """Calibration vectors: ``lines`` (n,), per-vector ``pixels`` and ``values[kind]`` arrays."""

    lines: np.ndarray
    pixels: list[np.ndarray]
    values: dict[str, list[np.ndarray]]
    absolute_calibration_constant: float

    def grid(self, kind: LutKind, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """A (``kind``) on the (rows × cols) pixel grid, bilinearly interpolated."""
        return interp_vectors(self.lines, self.pixels, self.values[kind], rows, cols)


def parse_calibration(path: str | os.PathLike) -> CalibrationLUT:
    root = _xml.parse(path)
    where = Path(path).name
    vecs = list(_xml.iter_local(root, "calibrationVector"))
    if not vecs:
        raise MalformedMetadata(f"no calibrationVector in {where}")
    values: dict[str, list[np.ndarray]] = {k: [] for k in ("sigmaNought", "betaNought", "gamma", "dn")}
    for v in vecs:
        for k in values:
            values[k].append(_xml.floats(v, k, where))
    const = _xml.opt_text(root, "absoluteCalibrationConstant")
    return CalibrationLUT(
        lines=np.array([int(_xml.text(v, "line", where)) for v in vecs]),
        pixels=[_xml.floats(v, "pixel", where) for v in vecs],
        values=values,
        absolute_calibration_constant=float(const) if const else 1.0,
    )


@dataclass(frozen=True)
class NoiseAzimuthBlock:
    """One azimuth noise block; line/sample bounds are inclusive."""

    swath: str
    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    lines: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class NoiseLUT:
    """Thermal noise in DN²: range vectors (per azimuth line) and, for IPF ≥ 2.9, azimuth blocks."""

    lines: np.ndarray
    pixels: list[np.ndarray]
    range_values: list[np.ndarray]
    azimuth_blocks: tuple[NoiseAzimuthBlock, ...] = ()

    def grid(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """N on the (rows × cols) grid = range LUT × azimuth LUT (1 where no azimuth block covers)."""
        rng = interp_vectors(self.lines, self.pixels, self.range_values, rows, cols)
        if not self.azimuth_blocks:
            return rng
        az = np.ones_like(rng)
        for b in self.azimuth_blocks:
            rsel = (rows >= b.first_line) & (rows <= b.last_line)
            csel = (cols >= b.first_sample) & (cols <= b.last_sample)
            if rsel.any() and csel.any():
                vals = np.interp(rows[rsel], b.lines, b.values)
                az[np.ix_(rsel, csel)] = vals[:, None]
        return rng * az


def parse_noise(path: str | os.PathLike) -> NoiseLUT:
    root = _xml.parse(path)
    where = Path(path).name
    rvecs = list(_xml.iter_local(root, "noiseRangeVector"))
    lut_name = "noiseRangeLut"
    if not rvecs:  # IPF < 2.9
        rvecs, lut_name = list(_xml.iter_local(root, "noiseVector")), "noiseLut"
    if not rvecs:
        raise MalformedMetadata(f"neither noiseRangeVector nor noiseVector in {where}")
    blocks = tuple(
        NoiseAzimuthBlock(
            swath=_xml.opt_text(b, "swath") or "",
            first_line=int(_xml.text(b, "firstAzimuthLine", where)),
            last_line=int(_xml.text(b, "lastAzimuthLine", where)),
            first_sample=int(_xml.text(b, "firstRangeSample", where)),
            last_sample=int(_xml.text(b, "lastRangeSample", where)),
            lines=_xml.floats(b, "line", where),
            values=_xml.floats(b, "noiseAzimuthLut", where),
        )
        for b in _xml.iter_local(root, "noiseAzimuthVector")
    )
    return NoiseLUT(
        lines=np.array([int(_xml.text(v, "line", where)) for v in rvecs]),
        pixels=[_xml.floats(v, "pixel", where) for v in rvecs],
        range_values=[_xml.floats(v, lut_name, where) for v in rvecs],
        azimuth_blocks=blocks,
    )


def interp_vectors(
    lines: np.ndarray, pixels: list[np.ndarray], values: list[np.ndarray], rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Bilinear interpolation of sparse LUT vectors onto a (len(rows), len(cols)) float64 grid.

    Each vector is first interpolated along ``cols`` at its own pixel positions; rows between two
    vectors are a linear blend of the two; rows outside [lines[0], lines[-1]] take the edge vector.
    """
    rows = np.asarray(rows, dtype=np.float64)
    cols = np.asarray(cols, dtype=np.float64)
    lines = np.asarray(lines, dtype=np.float64)
    if len(lines) == 1:
        return np.broadcast_to(np.interp(cols, pixels[0], values[0]), (rows.size, cols.size)).copy()
    i = np.clip(np.searchsorted(lines, rows, side="right") - 1, 0, len(lines) - 2)
    needed = np.unique(np.concatenate([i, i + 1]))
    along = {k: np.interp(cols, pixels[k], values[k]) for k in needed}
    w = np.clip((rows - lines[i]) / (lines[i + 1] - lines[i]), 0.0, 1.0)
    lo = np.stack([along[k] for k in i])
    hi = np.stack([along[k] for k in i + 1])
    return lo * (1.0 - w)[:, None] + hi * w[:, None]


# -- the product ------------------------------------------------------------------------------
@dataclass
class S1GrdProduct:
    """A Sentinel-1 GRD SAFE folder: its manifest and, per polarisation, annotation and LUTs."""

    path: Path
    manifest: S1Manifest
    annotations: dict[str, S1Annotation]
    calibration: dict[str, CalibrationLUT]
    noise: dict[str, NoiseLUT]

    @classmethod
    def open(cls, path: str | os.PathLike) -> "S1GrdProduct":
        """Read the metadata of a SAFE folder (or its ``manifest.safe``); polarisations whose
        annotation files are absent are skipped."""
        p = Path(path)
        if p.is_file():
            p = p.parent
        if not (p / "manifest.safe").is_file():
            raise ProductNotFound(f"no manifest.safe in {p}")
        man = parse_manifest(p / "manifest.safe")
        if man.product_type != "GRD":
            raise UnsupportedProduct(f"{p.name}: product type {man.product_type}, only GRD is supported")
        ann, cal, noi = {}, {}, {}
        for pol, href in man.files.get("annotation", {}).items():
            files = {k: p / man.files.get(k, {}).get(pol, "-") for k in ("calibration", "noise")}
            if not (p / href).is_file() or not all(f.is_file() for f in files.values()):
                continue
            ann[pol] = parse_annotation(p / href)
            cal[pol] = parse_calibration(files["calibration"])
            noi[pol] = parse_noise(files["noise"])
        if not ann:
            raise UnsupportedProduct(f"{p.name}: no polarisation has annotation, calibration and noise files")
        return cls(p, man, ann, cal, noi)

    @property
    def polarisations(self) -> list[str]:
        return sorted(self.annotations)

    def _check_pol(self, pol: str) -> str:
        pol = pol.upper()
        if pol not in self.annotations:
            raise UnknownBand(f"polarisation {pol} not available; the product has {', '.join(self.polarisations)}")
        return pol

    def sigma0(
        self, pol: str, dn: np.ndarray, row_off: int = 0, col_off: int = 0, *, db: bool = True, denoise: bool = True
    ) -> np.ndarray:
        """σ0 of a DN block whose upper-left pixel is (row_off, col_off) in the full image.

        Returns float32 dB (``db=True``) or linear m²/m². DN = 0 (no-data border) → NaN.
        """
        pol = self._check_pol(pol)
        dn = np.asarray(dn)
        rows = np.arange(row_off, row_off + dn.shape[0])
        cols = np.arange(col_off, col_off + dn.shape[1])
        a = self.calibration[pol].grid("sigmaNought", rows, cols)
        power = dn.astype(np.float64) ** 2
        if denoise:
            power = power - self.noise[pol].grid(rows, cols)
        s0 = np.maximum(power / (a * a), SIGMA0_FLOOR)
        out = 10.0 * np.log10(s0) if db else s0
        out = np.where(dn == 0, np.nan, out)
        return out.astype(np.float32)

    def sigma0_lazy(self, pol: str, dn: Any, *, db: bool = True, denoise: bool = True) -> Any:
        """σ0 of a full-size dask array of DN, block by block (memory bounded by the chunk size)."""
        import dask.array as da

        pol = self._check_pol(pol)
        if tuple(dn.shape) != self.annotations[pol].shape:
            raise MeasurementShapeMismatch(f"DN array {tuple(dn.shape)} ≠ annotation size {self.annotations[pol].shape}")
        dn = da.asarray(dn)

        def block(x: np.ndarray, block_info: dict | None = None) -> np.ndarray:
            (r0, _), (c0, _) = block_info[0]["array-location"]  # type: ignore[index]
            return self.sigma0(pol, x, r0, c0, db=db, denoise=denoise)

        return dn.map_blocks(block, dtype=np.float32)

    def measurement_path(self, pol: str) -> Path:
        pol = self._check_pol(pol)
        href = self.manifest.files.get("measurement", {}).get(pol)
        if href is None or not (self.path / href).is_file():
            raise NoMeasurement(f"{self.path.name}: measurement TIFF for {pol} is absent (metadata-only product)")
        return self.path / href


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS 84 UTM zone CRS containing (lon, lat)."""
    zone = int((lon + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def read_s1_grd(
    path: str | os.PathLike,
    *,
    polarisations: list[str] | None = None,
    window: Window | None = None,
    dst_crs: Any | None = None,
    resolution: float = 10.0,
    workdir: str | os.PathLike | None = None,
    chunks: int = 1024,
) -> Scene:
    """Read a GRD SAFE with its measurement TIFFs into a :class:`Scene` of σ0 in dB, geocoded.

    Calibration and denoising run block by block in radar geometry (``window`` restricts to a
    sub-window), the result is written with the annotation's geolocation grid as GCPs, and GDAL
    warps it through the GCPs to ``dst_crs`` (default: the UTM zone of the footprint centre) at
    ``resolution`` metres. Bands are lazy (dask) reads of GeoTIFFs kept in ``workdir``.
    """
    import rioxarray

    prod = S1GrdProduct.open(path)
    pols = [prod._check_pol(p) for p in (polarisations or prod.polarisations)]
    man = prod.manifest
    c = man.footprint.centroid
    crs = norm_crs(dst_crs) if dst_crs is not None else utm_crs_for(c.x, c.y)
    out_dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hpgeo-s1-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    bands, info = {}, {}
    for pol in pols:
        src_path = prod.measurement_path(pol)
        geocoded = out_dir / f"{prod.path.stem}_{pol.lower()}_sigma0_db.tif"
        _calibrate_and_geocode(prod, pol, src_path, geocoded, window, crs, resolution)
        band = rioxarray.open_rasterio(geocoded, chunks={"band": 1, "y": chunks, "x": chunks}, masked=True)
        name = pol.lower()
        bands[name] = band.squeeze("band", drop=True).rename(name)
        info[name] = BandInfo(name=name, description=f"σ0 {pol}, thermal-noise removed", unit="dB", polarization=pol, nodata=float("nan"))
    ann = prod.annotations[pols[0]]
    props = {
        "sar:instrument_mode": man.mode,
        "sar:frequency_band": "C",
        "sar:center_frequency": 5.405,
        "sar:polarizations": list(man.polarisations),
        "sar:product_type": man.product_type,
        "sar:pixel_spacing_range": ann.range_pixel_spacing,
        "sar:pixel_spacing_azimuth": ann.azimuth_pixel_spacing,
        "sat:orbit_state": man.orbit_pass,
        "sat:absolute_orbit": man.absolute_orbit,
        "sat:relative_orbit": man.relative_orbit,
        "view:incidence_angle": ann.incidence_angle_mid_swath,
        "processing:software": {"Sentinel-1 IPF": man.ipf_version},
        "end_datetime": man.stop.isoformat(),
    }
    return Scene(
        id=prod.path.name.removesuffix(".SAFE"),
        collection="sentinel-1-grd",
        platform=man.platform,
        instrument="c-sar",
        processing_level="GRD",
        datetime=man.start,
        bands=bands,
        band_info=info,
        footprint=man.footprint,
        properties=props,
        source=str(prod.path),
    )


def _calibrate_and_geocode(
    prod: S1GrdProduct, pol: str, src_path: Path, dst: Path, window: Window | None, crs: CRS, resolution: float
) -> None:
    ann = prod.annotations[pol]
    radar = dst.with_suffix(".radar.tif")
    with rasterio.open(src_path) as src:
        if (src.height, src.width) != ann.shape:
            raise MeasurementShapeMismatch(f"{src_path.name} is {src.height}x{src.width}, annotation says {ann.shape}")
        win = window or Window(0, 0, src.width, src.height)
        win = win.intersection(Window(0, 0, src.width, src.height))
        r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
        profile = dict(driver="GTiff", height=h, width=w, count=1, dtype="float32", nodata=float("nan"),
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # GCPs are attached below
            out = rasterio.open(radar, "w", **profile)
        with out:
            for rr in range(0, h, 1024):
                for cc in range(0, w, 1024):
                    sub = Window(c0 + cc, r0 + rr, min(1024, w - cc), min(1024, h - rr))
                    dn = src.read(1, window=sub)
                    out.write(prod.sigma0(pol, dn, r0 + rr, c0 + cc), 1, window=Window(cc, rr, sub.width, sub.height))
            out.gcps = (ann.gcps(r0, c0), WGS84)
    try:
        # GDAL's chunked warper through the geolocation grid (thin-plate spline through all grid
        # points): memory stays bounded by warp_mem_limit, not by the image size.
        with rasterio.open(radar) as src:
            gcps, gcrs = src.gcps
            transform, width, height = calculate_default_transform(
                gcrs, crs, src.width, src.height, gcps=gcps, resolution=resolution, SRC_METHOD="GCP_TPS"
            )
            profile = dict(driver="GTiff", height=height, width=width, count=1, dtype="float32", crs=crs,
                           transform=transform, nodata=float("nan"), tiled=True, blockxsize=512, blockysize=512,
                           compress="deflate")
            with rasterio.open(dst, "w", **profile) as out:
                reproject(rasterio.band(src, 1), rasterio.band(out, 1), gcps=gcps, src_crs=gcrs, dst_crs=crs,
                          dst_transform=transform, src_nodata=float("nan"), dst_nodata=float("nan"),
                          resampling=Resampling.bilinear, warp_mem_limit=256, SRC_METHOD="GCP_TPS")
    finally:
        radar.unlink(missing_ok=True)

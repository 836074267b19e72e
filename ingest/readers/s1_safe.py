"""Sentinel-1 GRD SAFE reader: manifest, annotation, calibration and noise LUTs → σ0 in dB.

The LUTs are parsed and interpolated by :mod:`ingest.readers.s1_luts` (re-exported here).

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
from typing import Any

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
from geo.gdal import open_checked
from ingest.readers import archive, xmlmeta
from ingest.readers.errors import (
    MalformedMetadata,
    MeasurementShapeMismatch,
    NoMeasurement,
    ProductNotFound,
    UnknownBand,
    UnsupportedProduct,
)
from ingest.readers.product import MTL_SUFFIXES, S2_MTD, ProductMeta, product_file, s2_mtd, safe_dir
from ingest.readers.s1_luts import CalibrationLUT, NoiseAzimuthBlock, NoiseLUT, interp_vectors, parse_calibration, parse_noise
from ingest.scene import BandInfo, Scene
from ingest.sources.errors import UnsupportedFile

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
    "manifest_metadata",
    "S1SafeReader",
]

SIGMA0_FLOOR = 1e-5
"""Linear σ0 floor (−50 dB) for pixels where noise subtraction leaves ≤ 0."""

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
    root = xmlmeta.parse(path)
    where = Path(path).name
    number = xmlmeta.text(root, "number", where)
    pols = tuple(e.text.strip() for e in xmlmeta.iter_local(root, "transmitterReceiverPolarisation") if e.text)
    orbits = {e.get("type"): int(e.text) for e in xmlmeta.iter_local(root, "orbitNumber") if e.text}
    rel = {e.get("type"): int(e.text) for e in xmlmeta.iter_local(root, "relativeOrbitNumber") if e.text}
    coords = xmlmeta.text(root, "coordinates", where)
    try:
        latlon = [tuple(float(v) for v in pair.split(",")) for pair in coords.split()]
        footprint = Polygon([(lon, lat) for lat, lon in latlon])
    except ValueError as exc:
        raise MalformedMetadata(f"footprint coordinates in {where} are not 'lat,lon' pairs: {coords!r}") from exc
    software = next((e for e in xmlmeta.iter_local(root, "software") if e.get("name") == "Sentinel-1 IPF"), None)
    files: dict[str, dict[str, str]] = {}
    kinds = {
        "s1Level1ProductSchema": "annotation",
        "s1Level1CalibrationSchema": "calibration",
        "s1Level1NoiseSchema": "noise",
        "s1Level1MeasurementSchema": "measurement",
    }
    for obj in xmlmeta.iter_local(root, "dataObject"):
        kind = kinds.get(obj.get("repID", ""))
        loc = xmlmeta.find(obj, "fileLocation")
        if kind is None or loc is None:
            continue
        href = loc.get("href", "")
        m = re.search(r"-(hh|hv|vv|vh)-", Path(href).name)
        if m:
            files.setdefault(kind, {})[m.group(1).upper()] = href
    return S1Manifest(
        mission=f"S1{number}",
        mode=xmlmeta.text(root, "mode", where),
        product_type=xmlmeta.text(root, "productType", where),
        polarisations=pols,
        start=xmlmeta.parse_time(xmlmeta.text(root, "startTime", where)),
        stop=xmlmeta.parse_time(xmlmeta.text(root, "stopTime", where)),
        absolute_orbit=orbits.get("start") or orbits[next(iter(orbits))],
        relative_orbit=rel.get("start"),
        orbit_pass=xmlmeta.text(root, "pass", where).lower(),
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
    root = xmlmeta.parse(path)
    where = Path(path).name
    pts = list(xmlmeta.iter_local(root, "geolocationGridPoint"))
    if not pts:
        raise MalformedMetadata(f"no geolocationGridPoint in {where}")

    def col(name: str) -> np.ndarray:
        return np.array([float(xmlmeta.text(p, name, where)) for p in pts])

    return S1Annotation(
        polarisation=xmlmeta.text(root, "polarisation", where),
        number_of_lines=int(xmlmeta.text(root, "numberOfLines", where)),
        number_of_samples=int(xmlmeta.text(root, "numberOfSamples", where)),
        range_pixel_spacing=float(xmlmeta.text(root, "rangePixelSpacing", where)),
        azimuth_pixel_spacing=float(xmlmeta.text(root, "azimuthPixelSpacing", where)),
        incidence_angle_mid_swath=float(xmlmeta.text(root, "incidenceAngleMidSwath", where)),
        grid_line=col("line"),
        grid_pixel=col("pixel"),
        grid_lat=col("latitude"),
        grid_lon=col("longitude"),
        grid_height=col("height"),
        grid_incidence=col("incidenceAngle"),
    )


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
            files = {k: product_file(p, man.files.get(k, {}).get(pol, "-")) for k in ("calibration", "noise")}
            if not product_file(p, href).is_file() or not all(f.is_file() for f in files.values()):
                continue
            ann[pol] = parse_annotation(product_file(p, href))
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
        if href is None or not product_file(self.path, href).is_file():
            raise NoMeasurement(f"{self.path.name}: measurement TIFF for {pol} is absent (metadata-only product)")
        return product_file(self.path, href)


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
    with open_checked(src_path) as src:  # GeoTIFF only (never a VRT), size limits, no complex (an SLC)
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


# -- the registry's view ----------------------------------------------------------------------
_COORDS = re.compile(rb"<gml:coordinates>([^<]+)</gml:coordinates>")
_START = re.compile(rb"<safe:startTime>([^<]+)</safe:startTime>")
_PTYPE = re.compile(rb"<s1sarl1:productType>([^<]+)<")
_FAMILY = re.compile(rb"<safe:familyName>([^<]+)</safe:familyName>\s*<safe:number>([^<]+)<")


def manifest_metadata(manifest: bytes, name: str) -> ProductMeta:
    """Record metadata from the bytes of a SAFE ``manifest.safe`` (footprint, start time, product type, platform).

    A Sentinel-2 manifest here means its MTD file is missing: :class:`UnsupportedFile` says so."""
    fam = _FAMILY.search(manifest)
    if (fam and (fam.group(1) + fam.group(2)).upper().replace(b"-", b"").startswith(b"SENTINEL2")) or b"sentinel-2/msi" in manifest:
        raise UnsupportedFile(f"{name}: Sentinel-2 SAFE without MTD_MSIL1C.xml / MTD_MSIL2A.xml next to its manifest.safe")
    coords, start = _COORDS.search(manifest), _START.search(manifest)
    if not coords or not start:
        raise UnsupportedFile(f"{name}: manifest.safe has no footprint or start time")
    try:
        pts = [tuple(float(v) for v in c.split(b",")) for c in coords.group(1).split()]
        footprint = Polygon([(lon, lat) for lat, lon in pts])
        when = xmlmeta.parse_time(start.group(1).decode())
    except ValueError as exc:
        raise MalformedMetadata(f"{name}: manifest.safe footprint or start time unreadable: {exc}") from None
    ptype = _PTYPE.search(manifest)
    platform = f"{fam.group(1).decode().title()}{fam.group(2).decode()}" if fam else None
    return ProductMeta(footprint=footprint, datetime=when, product_type=ptype.group(1).decode() if ptype else None, platform=platform)


def _manifest_member(names: list[str]) -> str | None:
    return next((n for n in names if n.endswith(".SAFE/manifest.safe") or n == "manifest.safe"), None)


class S1SafeReader:
    """Sentinel-1 GRD SAFE folders (``manifest.safe``, no Sentinel-2 MTD) and their archives → σ0 (dB)."""

    name = "sentinel-1-safe"

    def can_describe(self, path: Path) -> bool:
        if path.is_dir():
            return (path / "manifest.safe").is_file() and s2_mtd(path) is None
        if not archive.is_archive(path):
            return False
        names = archive.members(path)
        return (_manifest_member(names) is not None and archive.member_by_basename(names, S2_MTD) is None
                and not any(n.endswith(MTL_SUFFIXES) and n.count("/") < 2 for n in names))

    def describe(self, path: Path) -> ProductMeta:
        if path.is_dir():
            return manifest_metadata(self.key_file(path).read_bytes(), path.name)
        return manifest_metadata(archive.read_member(path, _manifest_member(archive.members(path)) or "manifest.safe"), path.name)

    def key_file(self, folder: Path) -> Path:
        return folder / "manifest.safe"  # it lists every file's checksum

    def can_read(self, fetched: Any) -> bool:
        return fetched.record.collection == "sentinel-1-grd" and safe_dir(fetched.paths) is not None

    def read(self, fetched: Any) -> Scene:
        return read_s1_grd(safe_dir(fetched.paths))

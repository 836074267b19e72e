"""Sentinel-2 L1C/L2A SAFE reader: product and tile metadata, reflectance, SCL valid mask.

Conventions (ESA S2 Product Specification Document and the processing-baseline 04.00 note):

* Reflectance (TOA for L1C, BOA for L2A, unitless 0-1) = (DN + offset) / quantification, where
  offset is ``RADIO_ADD_OFFSET`` (L1C) or ``BOA_ADD_OFFSET`` (L2A) per band — −1000 from baseline
  04.00 on, absent (0) before — and quantification is ``QUANTIFICATION_VALUE`` /
  ``BOA_QUANTIFICATION_VALUE`` (10000).
* DN = NODATA special value (0) → NaN; SATURATED (65535) is kept as a value but marked invalid.
* L2A scene classification (SCL, 20 m): classes 0 no data, 1 saturated/defective, 3 cloud shadow,
  8/9 cloud medium/high probability and 10 thin cirrus are invalid; 11 snow is invalid only when
  ``keep_snow=False``.
* Band ids in the metadata are 0-based indices into B1..B12 with B8A after B8 (bandId 8 = B8A).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from ingest.readers import archive, xmlmeta
from ingest.readers.errors import MalformedMetadata, MissingProductFile, ProductNotFound, UnknownBand
from ingest.readers.geotiff import open_lazy
from ingest.readers.product import S2_COLLECTIONS, S2_MTD, ProductMeta, product_file, product_dirs, s2_mtd, safe_dir
from ingest.scene import BandInfo, Scene
from ingest.sources.errors import UnsupportedFile

__all__ = [
    "BAND_NAMES",
    "SCL_INVALID",
    "S2ProductMetadata",
    "S2TileMetadata",
    "parse_product_metadata",
    "parse_tile_metadata",
    "to_reflectance",
    "scl_valid",
    "read_s2_safe",
    "S2Manifest",
    "parse_s2_manifest",
    "mtd_metadata",
    "S2SafeReader",
]

BAND_NAMES = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
"""Band name by metadata bandId (0-based)."""

SCL_INVALID = (0, 1, 3, 8, 9, 10)
SCL_SNOW = 11
_COMMON = {"B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge", "B06": "rededge",
           "B07": "rededge", "B08": "nir", "B8A": "nir08", "B09": "nir09", "B10": "cirrus", "B11": "swir16",
           "B12": "swir22"}


@dataclass(frozen=True)
class S2ProductMetadata:
    """Product-level metadata (MTD_MSIL1C.xml / MTD_MSIL2A.xml). Footprint is lon/lat WGS 84."""

    level: str  # "L1C" or "L2A"
    product_uri: str
    spacecraft: str  # "Sentinel-2A"
    processing_baseline: str  # "02.06"
    sensing_start: Any  # datetime, UTC
    orbit_number: int | None
    orbit_direction: str | None
    quantification: float
    offsets: dict[str, float]  # band name → additive DN offset (empty before baseline 04.00)
    nodata: int
    saturated: int
    cloud_cover: float  # percent
    footprint: Polygon
    image_files: list[str] = field(default_factory=list)  # relative, without extension
    central_wavelength: dict[str, float] = field(default_factory=dict)  # micrometres

    @property
    def platform(self) -> str:
        return self.spacecraft.lower()

    def offset(self, band: str) -> float:
        return self.offsets.get(band, 0.0)


def parse_product_metadata(path: str | os.PathLike) -> S2ProductMetadata:
    root = xmlmeta.parse(path)
    where = Path(path).name
    ptype = xmlmeta.text(root, "PRODUCT_TYPE", where)
    level = "L2A" if "2A" in ptype else "L1C"
    quant = xmlmeta.opt_text(root, "BOA_QUANTIFICATION_VALUE") or xmlmeta.text(root, "QUANTIFICATION_VALUE", where)
    offsets = {}
    for tag in ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET"):
        for e in xmlmeta.iter_local(root, tag):
            offsets[BAND_NAMES[int(e.get("band_id", "-1"))]] = float(e.text or 0)
    special = {xmlmeta.text(s, "SPECIAL_VALUE_TEXT", where): int(xmlmeta.text(s, "SPECIAL_VALUE_INDEX", where))
               for s in xmlmeta.iter_local(root, "Special_Values")}
    pos = xmlmeta.floats(root, "EXT_POS_LIST", where)
    if pos.size < 8 or pos.size % 2:
        raise MalformedMetadata(f"EXT_POS_LIST in {where} is not a list of lat lon pairs")
    lat, lon = pos[0::2], pos[1::2]
    wl = {}
    for s in xmlmeta.iter_local(root, "Spectral_Information"):
        c = xmlmeta.opt_text(s, "CENTRAL")
        if c:
            wl[BAND_NAMES[int(s.get("bandId", "0"))]] = float(c) / 1000.0
    orbit = xmlmeta.opt_text(root, "SENSING_ORBIT_NUMBER")
    return S2ProductMetadata(
        level=level,
        product_uri=xmlmeta.text(root, "PRODUCT_URI", where),
        spacecraft=xmlmeta.text(root, "SPACECRAFT_NAME", where),
        processing_baseline=xmlmeta.text(root, "PROCESSING_BASELINE", where),
        sensing_start=xmlmeta.parse_time(xmlmeta.text(root, "PRODUCT_START_TIME", where)),
        orbit_number=int(orbit) if orbit else None,
        orbit_direction=(xmlmeta.opt_text(root, "SENSING_ORBIT_DIRECTION") or "").lower() or None,
        quantification=float(quant),
        offsets=offsets,
        nodata=special.get("NODATA", 0),
        saturated=special.get("SATURATED", 65535),
        cloud_cover=float(xmlmeta.text(root, "Cloud_Coverage_Assessment", where)),
        footprint=Polygon(list(zip(lon, lat))),
        image_files=[e.text.strip() for e in xmlmeta.iter_local(root, "IMAGE_FILE") if e.text],
        central_wavelength=wl,
    )


@dataclass(frozen=True)
class S2TileMetadata:
    """Tile metadata (GRANULE/*/MTD_TL.xml). Angles in degrees; geoposition in the tile's UTM CRS."""

    tile_id: str
    epsg: int
    sensing_time: Any
    sizes: dict[int, tuple[int, int]]  # resolution (m) → (rows, cols)
    geoposition: dict[int, tuple[float, float, float, float]]  # resolution → (ulx, uly, xdim, ydim)
    sun_zenith: float
    sun_azimuth: float
    view_zenith: dict[str, float]  # band → mean viewing zenith
    view_azimuth: dict[str, float]
    cloudy_pixel_percentage: float

    @property
    def mgrs_tile(self) -> str:
        return self.tile_id.split("_T")[-1].split("_")[0] if "_T" in self.tile_id else ""


def parse_tile_metadata(path: str | os.PathLike) -> S2TileMetadata:
    root = xmlmeta.parse(path)
    where = Path(path).name
    code = xmlmeta.text(root, "HORIZONTAL_CS_CODE", where)
    sizes = {int(s.get("resolution", 0)): (int(xmlmeta.text(s, "NROWS", where)), int(xmlmeta.text(s, "NCOLS", where)))
             for s in xmlmeta.iter_local(root, "Size")}
    geo = {int(g.get("resolution", 0)): tuple(float(xmlmeta.text(g, k, where)) for k in ("ULX", "ULY", "XDIM", "YDIM"))
           for g in xmlmeta.iter_local(root, "Geoposition")}
    sun = xmlmeta.find(root, "Mean_Sun_Angle")
    if sun is None:
        raise MalformedMetadata(f"<Mean_Sun_Angle> missing in {where}")
    vz, va = {}, {}
    for v in xmlmeta.iter_local(root, "Mean_Viewing_Incidence_Angle"):
        b = BAND_NAMES[int(v.get("bandId", "0"))]
        vz[b], va[b] = float(xmlmeta.text(v, "ZENITH_ANGLE", where)), float(xmlmeta.text(v, "AZIMUTH_ANGLE", where))
    return S2TileMetadata(
        tile_id=xmlmeta.text(root, "TILE_ID", where),
        epsg=int(code.split(":")[-1]),
        sensing_time=xmlmeta.parse_time(xmlmeta.text(root, "SENSING_TIME", where)),
        sizes=sizes,
        geoposition=geo,  # type: ignore[arg-type]
        sun_zenith=float(xmlmeta.text(sun, "ZENITH_ANGLE", where)),
        sun_azimuth=float(xmlmeta.text(sun, "AZIMUTH_ANGLE", where)),
        view_zenith=vz,
        view_azimuth=va,
        cloudy_pixel_percentage=float(xmlmeta.text(root, "CLOUDY_PIXEL_PERCENTAGE", where)),
    )


@dataclass(frozen=True)
class S2Manifest:
    """What a S2 ``manifest.safe`` says (enough to catalogue a product before reading its MTD)."""

    platform: str  # "sentinel-2a"
    start: Any  # datetime, UTC
    absolute_orbit: int | None
    relative_orbit: int | None
    orbit_direction: str | None
    footprint: Polygon  # lon/lat
    files: list[str] = field(default_factory=list)  # relative hrefs


def parse_s2_manifest(path: str | os.PathLike) -> S2Manifest:
    """Parse a Sentinel-2 ``manifest.safe`` (gml footprint as 'lat lon' pairs)."""
    root = xmlmeta.parse(path)
    where = Path(path).name
    orbit = xmlmeta.find(root, "orbitNumber")
    coords = xmlmeta.floats(root, "coordinates", where)
    if coords.size < 8 or coords.size % 2:
        raise MalformedMetadata(f"footprint coordinates in {where} are not lat lon pairs")
    rel = xmlmeta.opt_text(root, "relativeOrbitNumber")
    return S2Manifest(
        platform=f"sentinel-{xmlmeta.text(root, 'number', where).lower()}",
        start=xmlmeta.parse_time(xmlmeta.text(root, "startTime", where)),
        absolute_orbit=int(orbit.text) if orbit is not None and orbit.text else None,
        relative_orbit=int(rel) if rel else None,
        orbit_direction=(orbit.get("groundTrackDirection") or None) if orbit is not None else None,
        footprint=Polygon(list(zip(coords[1::2], coords[0::2]))),
        files=[e.get("href", "").removeprefix("./") for e in xmlmeta.iter_local(root, "fileLocation")],
    )


def to_reflectance(dn: Any, quantification: float, offset: float = 0.0, nodata: int = 0) -> Any:
    """(DN + offset) / quantification as float32; DN == nodata → NaN. Works on numpy, dask, xarray."""
    refl = (dn.astype(np.float32) + np.float32(offset)) / np.float32(quantification)
    if hasattr(refl, "where"):
        return refl.where(dn != nodata)
    return np.where(dn == nodata, np.float32(np.nan), refl).astype(np.float32)


def scl_valid(scl: Any, keep_snow: bool = True) -> Any:
    """True where the L2A scene class is usable (see module docstring)."""
    bad = list(SCL_INVALID) + ([] if keep_snow else [SCL_SNOW])
    if hasattr(scl, "isin"):
        return ~scl.isin(bad)
    return ~np.isin(scl, bad)


def _find_image(safe: Path, meta: S2ProductMetadata, band: str) -> Path:
    for rel in meta.image_files:
        name = Path(rel).name
        if name.endswith(f"_{band}") or f"_{band}_" in name:
            for ext in (".jp2", ".tif"):
                if (f := product_file(safe, rel + ext)).is_file():
                    return f
    raise MissingProductFile(f"no image file for {band} in {safe.name} (listed: {len(meta.image_files)} files)")


def _has_image(safe: Path, meta: S2ProductMetadata, band: str) -> bool:
    try:
        _find_image(safe, meta, band)
    except MissingProductFile:
        return False
    return True


def read_s2_safe(
    path: str | os.PathLike, *, bands: list[str] | None = None, keep_snow: bool = True, chunks: int = 1024
) -> Scene:
    """Read a S2 L1C/L2A SAFE folder into a Scene of reflectance bands (lazy, float32, NaN nodata).

    ``bands`` defaults to every spectral band whose image file is on disk. For L2A the finest resolution listed for a
    band is used and ``valid`` comes from SCL (upsampled by pixel repetition to the finest band's
    grid); for L1C ``valid`` is where all bands have data and are not saturated.
    """
    safe = Path(path)
    mtd = s2_mtd(safe)
    if mtd is None:
        raise ProductNotFound(f"no MTD_MSIL1C.xml or MTD_MSIL2A.xml in {safe}")
    meta = parse_product_metadata(mtd)
    tiles = sorted(safe.glob("GRANULE/*/MTD_TL.xml"))
    if not tiles:
        raise MissingProductFile(f"no GRANULE/*/MTD_TL.xml in {safe.name}")
    tile = parse_tile_metadata(tiles[0])
    wanted = bands or [b for b in BAND_NAMES if _has_image(safe, meta, b)]  # default: bands on disk
    out, info, raws = {}, {}, {}
    for b in wanted:
        if b not in BAND_NAMES:
            raise UnknownBand(f"{b} is not a Sentinel-2 band; use one of {', '.join(BAND_NAMES)}")
        raw = open_lazy(_find_image(safe, meta, b), chunks=chunks).isel(band=0, drop=True)
        raws[b] = raw
        refl = to_reflectance(raw, meta.quantification, meta.offset(b), meta.nodata)
        out[b] = refl.rio.write_crs(raw.rio.crs).rename(b)
        info[b] = BandInfo(name=b, unit="1", common_name=_COMMON[b], center_wavelength=meta.central_wavelength.get(b),
                           nodata=float("nan"), scale=1.0 / meta.quantification,
                           offset=meta.offset(b) / meta.quantification)
    finest = min(raws, key=lambda k: abs(raws[k].rio.resolution()[0])) if raws else None
    valid = None
    if finest is not None:
        ref = raws[finest]
        if meta.level == "L2A":
            scl = open_lazy(_find_image(safe, meta, "SCL"), chunks=chunks).isel(band=0, drop=True)
            factor = int(round(abs(scl.rio.resolution()[0] / ref.rio.resolution()[0])))
            v = scl_valid(scl.data, keep_snow)
            if factor > 1:
                v = v.repeat(factor, axis=0).repeat(factor, axis=1)
            valid = ref.copy(data=v[: ref.shape[0], : ref.shape[1]]).rename("valid")
        else:
            ok = (ref != meta.nodata) & (ref != meta.saturated)
            valid = ok.rename("valid")
    return Scene(
        id=meta.product_uri.removesuffix(".SAFE"),
        collection="sentinel-2-l2a" if meta.level == "L2A" else "sentinel-2-l1c",
        platform=meta.platform,
        instrument="msi",
        processing_level=meta.level,
        datetime=meta.sensing_start,
        bands=out,
        band_info=info,
        valid=valid,
        footprint=meta.footprint,
        cloud_cover=meta.cloud_cover,
        properties={
            "eo:cloud_cover": meta.cloud_cover,
            "s2:processing_baseline": meta.processing_baseline,
            "s2:mgrs_tile": tile.mgrs_tile,
            "s2:tile_id": tile.tile_id,
            "proj:epsg": tile.epsg,
            "view:sun_elevation": 90.0 - tile.sun_zenith,
            "view:sun_azimuth": tile.sun_azimuth,
            "view:incidence_angle": float(np.mean(list(tile.view_zenith.values()))) if tile.view_zenith else None,
            "sat:relative_orbit": meta.orbit_number,
            "sat:orbit_state": meta.orbit_direction,
        },
        source=str(safe),
    )


# -- the registry's view ----------------------------------------------------------------------
def mtd_metadata(mtd: Path) -> ProductMeta:
    """Record metadata from a S2 MTD file: id = PRODUCT_URI without ``.SAFE``, footprint, sensing start, PRODUCT_TYPE
    (S2MSI1C → sentinel-2-l1c, S2MSI2A → sentinel-2-l2a), platform and cloud cover."""
    meta = parse_product_metadata(mtd)
    ptype = xmlmeta.opt_text(xmlmeta.parse(mtd), "PRODUCT_TYPE") or ("S2MSI2A" if meta.level == "L2A" else "S2MSI1C")
    collection = {"S2MSI1C": "sentinel-2-l1c", "S2MSI2A": "sentinel-2-l2a"}.get(ptype) or S2_COLLECTIONS[meta.level]
    uri = meta.product_uri
    return ProductMeta(footprint=meta.footprint, datetime=meta.sensing_start, id=uri[: -len(".SAFE")] if uri.endswith(".SAFE") else uri,
                       product_type=ptype, platform=meta.platform, collection=collection, cloud_cover=meta.cloud_cover)


class S2SafeReader:
    """Sentinel-2 L1C/L2A SAFE folders (``MTD_MSIL1C.xml`` / ``MTD_MSIL2A.xml``) and their archives → reflectance."""

    name = "sentinel-2-safe"

    def can_describe(self, path: Path) -> bool:
        if path.is_dir():
            return s2_mtd(path) is not None
        return archive.is_archive(path) and archive.member_by_basename(archive.members(path), S2_MTD) is not None

    def describe(self, path: Path) -> ProductMeta:
        if path.is_dir():
            return mtd_metadata(s2_mtd(path) or path / S2_MTD[0])
        return archive.parse_member(path, archive.member_by_basename(archive.members(path), S2_MTD) or S2_MTD[0], mtd_metadata)

    def key_file(self, folder: Path) -> Path:
        manifest = folder / "manifest.safe"  # it lists every file's checksum
        return manifest if manifest.is_file() else s2_mtd(folder) or manifest

    def can_read(self, fetched: Any) -> bool:
        """A SAFE for a Sentinel-2 record (one without its MTD is refused by :meth:`read`, not read as loose JP2s)."""
        return fetched.record.collection in S2_COLLECTIONS.values() and (
            bool(product_dirs(fetched.paths, lambda d: s2_mtd(d) is not None)) or safe_dir(fetched.paths) is not None)

    def read(self, fetched: Any) -> Scene:
        rec = fetched.record
        found = product_dirs(fetched.paths, lambda d: s2_mtd(d) is not None)
        if not found:
            raise UnsupportedFile(f"{rec.id}: no reader for {rec.product_type or 'this kind of'} SAFE products (no "
                                  "MTD_MSIL1C.xml/MTD_MSIL2A.xml found); Sentinel-1 GRD and Sentinel-2 L1C/L2A are read")
        if len(found) > 1:
            raise UnsupportedFile(f"{rec.id}: {len(found)} Sentinel-2 SAFE products in one fetch ({', '.join(d.name for d in found)})")
        scene = read_s2_safe(found[0])
        if scene.collection != rec.collection:
            raise UnsupportedFile(f"{rec.id}: listed as {rec.collection} but {found[0].name} holds a {scene.collection} product")
        if not scene.bands:
            raise UnsupportedFile(f"{rec.id}: none of the image files listed in the product metadata is in {found[0].name}")
        return scene

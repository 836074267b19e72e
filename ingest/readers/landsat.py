"""Landsat Collection 2 Level-2 reader: MTL (txt or xml), SR/ST scaling, QA_PIXEL valid mask.

Conventions (USGS Landsat 8-9 C2 L2 Science Product Guide, LSDS-1619):

* Surface reflectance (unitless) = DN × 0.0000275 − 0.2; surface temperature (kelvin) =
  DN × 0.00341802 + 149.0. The MTL's ``REFLECTANCE_MULT/ADD_BAND_n`` and
  ``TEMPERATURE_MULT/ADD_BAND_ST_Bn`` take precedence when present. DN 0 is fill → NaN.
* QA_PIXEL bits: 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud shadow, 5 snow, 6 clear,
  7 water. A pixel is valid when none of bits 0-4 is set (and bit 5, when ``keep_snow=False``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from shapely.geometry import Polygon

from ingest.readers import archive, xmlmeta
from ingest.readers.errors import MalformedMetadata, MissingProductFile, ProductNotFound, UnknownBand
from ingest.readers.geotiff import open_lazy
from ingest.readers.product import MTL_SUFFIXES, ProductMeta, mtl, product_dirs, product_file
from ingest.scene import BandInfo, Scene
from ingest.sources.errors import UnsupportedFile

__all__ = [
    "SR_SCALE", "SR_OFFSET", "ST_SCALE", "ST_OFFSET", "QA_BITS",
    "parse_mtl", "decode_qa_pixel", "qa_valid", "scale_sr", "scale_st", "read_landsat_c2l2",
    "COLLECTION", "mtl_metadata", "one_product", "mtl_member", "LandsatC2Reader",
]
COLLECTION = "landsat-c2-l2"

SR_SCALE, SR_OFFSET = 2.75e-5, -0.2
ST_SCALE, ST_OFFSET = 0.00341802, 149.0
QA_BITS = {"fill": 0, "dilated_cloud": 1, "cirrus": 2, "cloud": 3, "cloud_shadow": 4, "snow": 5, "clear": 6, "water": 7}
_INVALID_BITS = ("fill", "dilated_cloud", "cirrus", "cloud", "cloud_shadow")

_COMMON = {  # (sensor family, band) → eo common name
    "oli": {"SR_B1": "coastal", "SR_B2": "blue", "SR_B3": "green", "SR_B4": "red", "SR_B5": "nir08",
            "SR_B6": "swir16", "SR_B7": "swir22", "ST_B10": "lwir11"},
    "tm": {"SR_B1": "blue", "SR_B2": "green", "SR_B3": "red", "SR_B4": "nir08", "SR_B5": "swir16",
           "SR_B7": "swir22", "ST_B6": "lwir"},
}


def parse_mtl(path: str | os.PathLike) -> dict[str, str]:
    """Flatten an MTL file (ODL text ``KEY = value`` with GROUPs, or its XML twin) to ``{KEY: value}``."""
    p = Path(path)
    if not p.is_file():
        raise MissingProductFile(f"MTL file not found: {p}")
    if p.suffix.lower() == ".xml":
        root = xmlmeta.parse(p)
        return {xmlmeta.local(e): e.text.strip() for e in root.iter() if len(e) == 0 and e.text and e.text.strip()}
    out: dict[str, str] = {}
    for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        line = line.strip()
        if not line or line == "END" or line.startswith(("GROUP", "END_GROUP")):
            continue
        m = re.match(r"^([A-Z0-9_]+)\s*=\s*(.*)$", line)
        if not m:
            raise MalformedMetadata(f"{p.name} line {n} is not 'KEY = value': {line[:60]!r}")
        out[m.group(1)] = m.group(2).strip().strip('"')
    return out


def decode_qa_pixel(qa: Any) -> dict[str, Any]:
    """Each QA_PIXEL flag (see :data:`QA_BITS`) as a boolean array of ``qa``'s shape."""
    q = qa.astype("uint16") if hasattr(qa, "astype") else np.asarray(qa, dtype=np.uint16)
    return {name: (q >> bit) & 1 == 1 for name, bit in QA_BITS.items()}


def qa_valid(qa: Any, keep_snow: bool = True) -> Any:
    """True where none of the fill, dilated cloud, cirrus, cloud, cloud shadow (and snow) bits is set."""
    bits = list(_INVALID_BITS) + ([] if keep_snow else ["snow"])
    mask = sum(1 << QA_BITS[b] for b in bits)
    return (qa.astype("uint16") & mask) == 0 if hasattr(qa, "astype") else (np.uint16(qa) & mask) == 0


def _scale(dn: Any, scale: float, offset: float, fill: int = 0) -> Any:
    v = dn.astype(np.float32) * np.float32(scale) + np.float32(offset)
    if hasattr(v, "where"):
        return v.where(dn != fill)
    return np.where(np.asarray(dn) == fill, np.float32(np.nan), v).astype(np.float32)


def scale_sr(dn: Any, scale: float = SR_SCALE, offset: float = SR_OFFSET) -> Any:
    """Surface reflectance (unitless) from SR DN; fill (0) → NaN."""
    return _scale(dn, scale, offset)


def scale_st(dn: Any, scale: float = ST_SCALE, offset: float = ST_OFFSET) -> Any:
    """Surface temperature (K) from ST DN; fill (0) → NaN."""
    return _scale(dn, scale, offset)


def read_landsat_c2l2(
    path: str | os.PathLike, *, bands: list[str] | None = None, keep_snow: bool = True, chunks: int = 1024
) -> Scene:
    """Read a C2 L2 product folder (or its MTL file) into a Scene: SR bands as reflectance, ST bands
    in kelvin, ``valid`` from QA_PIXEL. ``bands`` (e.g. ``["SR_B4", "ST_B10"]``) defaults to all SR/ST
    bands listed in the MTL whose files are present."""
    p = Path(path)
    folder = p.parent if p.is_file() else p
    mtl = parse_mtl(p if p.is_file() else LandsatC2Reader().key_file(folder))
    try:
        pid = mtl["LANDSAT_PRODUCT_ID"]
        spacecraft = mtl["SPACECRAFT_ID"]  # "LANDSAT_8"
        date = mtl["DATE_ACQUIRED"]
    except KeyError as exc:
        raise MalformedMetadata(f"MTL of {folder.name} lacks {exc.args[0]}") from exc
    files = {}
    for k, v in mtl.items():
        m = re.match(r"FILE_NAME_BAND_(ST_B\d+|\d+)$", k)
        if m:
            files[m.group(1) if m.group(1).startswith("ST") else f"SR_B{m.group(1)}"] = v
    files = {b: product_file(folder, f) for b, f in files.items()}  # MTL file names stay inside the folder
    wanted = bands or [b for b, f in files.items() if f.is_file()]
    family = "oli" if spacecraft in ("LANDSAT_8", "LANDSAT_9") else "tm"
    out, info = {}, {}
    for b in wanted:
        if b not in files:
            raise UnknownBand(f"{b} is not in {pid}; it has {', '.join(files)}")
        if not files[b].is_file():
            raise MissingProductFile(f"{files[b].name} listed in the MTL is not in {folder}")
        raw = open_lazy(files[b], chunks=chunks).isel(band=0, drop=True)
        n = b.split("_B")[1]
        if b.startswith("ST"):
            sc, off = float(mtl.get(f"TEMPERATURE_MULT_BAND_ST_B{n}", ST_SCALE)), float(mtl.get(f"TEMPERATURE_ADD_BAND_ST_B{n}", ST_OFFSET))
            unit = "K"
        else:
            sc, off = float(mtl.get(f"REFLECTANCE_MULT_BAND_{n}", SR_SCALE)), float(mtl.get(f"REFLECTANCE_ADD_BAND_{n}", SR_OFFSET))
            unit = "1"
        out[b] = _scale(raw, sc, off).rio.write_crs(raw.rio.crs).rename(b)
        info[b] = BandInfo(name=b, unit=unit, common_name=_COMMON[family].get(b), nodata=float("nan"), scale=sc, offset=off)
    valid = None
    qa_file = mtl.get("FILE_NAME_QUALITY_L1_PIXEL")
    if qa_file and product_file(folder, qa_file).is_file():
        qa = open_lazy(product_file(folder, qa_file), chunks=chunks).isel(band=0, drop=True)
        valid = qa_valid(qa, keep_snow).rename("valid")
    t = mtl.get("SCENE_CENTER_TIME", "00:00:00").rstrip("Z")
    when = xmlmeta.parse_time(f"{date}T{t}")
    corners = [(float(mtl[f"CORNER_{c}_LON_PRODUCT"]), float(mtl[f"CORNER_{c}_LAT_PRODUCT"]))
               for c in ("UL", "UR", "LR", "LL") if f"CORNER_{c}_LAT_PRODUCT" in mtl]
    cloud = float(mtl["CLOUD_COVER"]) if "CLOUD_COVER" in mtl else None
    return Scene(
        id=pid,
        collection="landsat-c2-l2",
        platform=spacecraft.lower().replace("_", "-"),
        instrument=mtl.get("SENSOR_ID", "").lower().replace("_", "/"),
        processing_level=mtl.get("PROCESSING_LEVEL", "L2SP"),
        datetime=when,
        bands=out,
        band_info=info,
        valid=valid,
        footprint=Polygon(corners) if len(corners) == 4 else None,
        cloud_cover=cloud,
        properties={
            "eo:cloud_cover": cloud,
            "landsat:wrs_path": mtl.get("WRS_PATH"),
            "landsat:wrs_row": mtl.get("WRS_ROW"),
            "landsat:collection_category": mtl.get("COLLECTION_CATEGORY"),
            "view:sun_elevation": float(mtl["SUN_ELEVATION"]) if "SUN_ELEVATION" in mtl else None,
            "view:sun_azimuth": float(mtl["SUN_AZIMUTH"]) if "SUN_AZIMUTH" in mtl else None,
        },
        source=str(folder),
    )



# -- the registry's view ----------------------------------------------------------------------
def mtl_metadata(mtl_path: Path) -> ProductMeta:
    """Record metadata from a C2 L2 MTL: id = LANDSAT_PRODUCT_ID, DATE_ACQUIRED + SCENE_CENTER_TIME, the four
    CORNER_*_PRODUCT corners, PROCESSING_LEVEL, platform ``landsat-N``, CLOUD_COVER (−1, "not assessed", → None)."""
    mtl = parse_mtl(mtl_path)
    where = mtl_path.name
    level = mtl.get("PROCESSING_LEVEL", "")
    if not level.startswith("L2"):
        raise UnsupportedFile(f"{where}: processing level {level or 'unknown'} — only Landsat Collection 2 Level-2 "
                              "(L2SP/L2SR) products are read")
    if mtl.get("COLLECTION_NUMBER") and mtl["COLLECTION_NUMBER"].strip() not in ("2", "02"):
        raise UnsupportedFile(f"{where}: Landsat collection {mtl['COLLECTION_NUMBER']} — only Collection 2 is read")
    missing = [k for k in ("LANDSAT_PRODUCT_ID", "SPACECRAFT_ID", "DATE_ACQUIRED") if k not in mtl]
    corners = []
    for c in ("UL", "UR", "LR", "LL"):
        lat, lon = f"CORNER_{c}_LAT_PRODUCT", f"CORNER_{c}_LON_PRODUCT"
        missing += [k for k in (lat, lon) if k not in mtl]
        if lat in mtl and lon in mtl:
            corners.append((_number(mtl, lon), _number(mtl, lat)))
    if missing:
        raise MalformedMetadata(f"{where} lacks {', '.join(missing)}")
    when = xmlmeta.parse_time(f"{mtl['DATE_ACQUIRED']}T{mtl.get('SCENE_CENTER_TIME', '00:00:00').rstrip('Z')}")
    m = re.fullmatch(r"LANDSAT_(\d+)", mtl["SPACECRAFT_ID"].strip().upper())
    if not m:
        raise MalformedMetadata(f"{where}: SPACECRAFT_ID {mtl['SPACECRAFT_ID']!r} is not LANDSAT_<n>")
    cloud = _number(mtl, "CLOUD_COVER") if mtl.get("CLOUD_COVER") not in (None, "") else None
    if cloud is not None and cloud < 0:  # USGS writes -1 when the cloud cover could not be assessed
        cloud = None
    return ProductMeta(footprint=Polygon(corners), datetime=when, id=mtl["LANDSAT_PRODUCT_ID"], product_type=level,
                       platform=f"landsat-{int(m.group(1))}", collection=COLLECTION, cloud_cover=cloud)


def _number(mtl: dict[str, str], key: str) -> float:
    try:
        return float(mtl[key])
    except ValueError:
        raise MalformedMetadata(f"{key} = {mtl[key]!r} is not a number") from None


def one_product(mtls: Iterable[str], where: str) -> None:
    """Refuse a folder or archive that mixes several Landsat products (the txt and xml MTL of one product are fine)."""
    ids = sorted({m.rstrip("/").rsplit("/", 1)[-1].rsplit("_MTL.", 1)[0] for m in mtls})
    if len(ids) > 1:
        raise UnsupportedFile(f"{where} holds {len(ids)} Landsat products ({', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''}); "
                              "give each product its own folder or archive")


def mtl_member(names: Sequence[str]) -> str | None:
    """The MTL member of an archive holding one Landsat product (at its top or in one folder), if any."""
    for suffix in MTL_SUFFIXES:
        hits = [n for n in names if n.endswith(suffix) and n.count("/") < 2]
        if hits:
            return min(hits, key=lambda n: (n.count("/"), n))
    return None


class LandsatC2Reader:
    """Landsat Collection 2 Level-2 product folders (``*_MTL.txt`` / ``*_MTL.xml``) and their archives."""

    name = "landsat-c2-l2"

    def can_describe(self, path: Path) -> bool:
        if path.is_dir():
            return mtl(path) is not None
        return archive.is_archive(path) and mtl_member(archive.members(path)) is not None

    def describe(self, path: Path) -> ProductMeta:
        if path.is_dir():
            one_product((q.name for s in MTL_SUFFIXES for q in path.glob(f"*{s}")), path.name)
            return mtl_metadata(self.key_file(path))
        names = archive.members(path)
        one_product((n for n in names if n.endswith(MTL_SUFFIXES)), path.name)
        return archive.parse_member(path, mtl_member(names) or "", mtl_metadata)

    def key_file(self, folder: Path) -> Path:
        found = mtl(folder)
        if found is None:
            raise ProductNotFound(f"no *_MTL.txt or *_MTL.xml in {folder}")
        return found

    def can_read(self, fetched: Any) -> bool:
        """A Landsat record's product folder; a local record without one is refused by :meth:`read` (a STAC record's
        band COGs go to the GeoTIFF reader)."""
        rec = fetched.record
        return rec.collection == COLLECTION and (rec.source == "local" or bool(product_dirs(fetched.paths, lambda d: mtl(d) is not None)))

    def read(self, fetched: Any) -> Scene:
        rec = fetched.record
        found = product_dirs(fetched.paths, lambda d: mtl(d) is not None)
        if not found:
            raise UnsupportedFile(f"{rec.id}: no *_MTL.txt/*_MTL.xml among the fetched files")
        if len(found) > 1:
            raise UnsupportedFile(f"{rec.id}: {len(found)} Landsat products in one fetch ({', '.join(d.name for d in found)})")
        scene = read_landsat_c2l2(found[0])
        if not scene.bands:
            raise UnsupportedFile(f"{rec.id}: none of the SR/ST band files listed in the MTL is in {found[0].name}")
        return scene

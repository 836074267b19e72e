"""The declared, read-only registry of product readers, asked in this order:

1. :class:`~ingest.readers.s1_safe.S1SafeReader` — Sentinel-1 GRD SAFE (``manifest.safe``);
2. :class:`~ingest.readers.s2_safe.S2SafeReader` — Sentinel-2 L1C/L2A SAFE (``MTD_MSIL1C/2A.xml``);
3. :class:`~ingest.readers.landsat.LandsatC2Reader` — Landsat Collection 2 Level-2 (``*_MTL.txt/xml``);
4. :class:`~ingest.readers.geotiff.GeoTiffReader` — any GeoTIFF/COG/JPEG2000.

The first reader that says yes (``can_describe`` for a listed path, ``can_read`` for fetched files) takes the
product. The simulator's scene folders are not among them: the simulator stands on ``ingest`` (it may not be
imported from here), and its folders are read by :func:`simulator.scenes.read_simulated` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.readers import archive
from ingest.readers.geotiff import GeoTiffReader
from ingest.readers.landsat import LandsatC2Reader
from ingest.readers.product import RASTER_SUFFIXES, Reader, safe_dir
from ingest.readers.s1_safe import S1SafeReader
from ingest.readers.s2_safe import S2SafeReader
from ingest.scene import Scene
from ingest.sources.errors import UnsupportedFile

__all__ = ["READERS", "reader_named", "describing_reader", "is_product_dir", "is_candidate_file", "key_file", "reading_reader", "read"]

READERS: tuple[Reader, ...] = (S1SafeReader(), S2SafeReader(), LandsatC2Reader(), GeoTiffReader())
"""Every reader, in the order they are asked (a tuple: the registry cannot be changed at run time)."""


def reader_named(name: str) -> Reader:
    for r in READERS:
        if r.name == name:
            return r
    raise KeyError(f"no reader named {name!r}; readers: {', '.join(r.name for r in READERS)}")


def describing_reader(path: Path) -> Reader:
    """The reader of a listed file, product folder or archive; :class:`UnsupportedFile` saying what was expected."""
    p = Path(path)
    for r in READERS:
        if r.can_describe(p):
            return r
    if p.is_dir():
        raise UnsupportedFile(f"{p} is a directory without manifest.safe, MTD_MSIL1C/2A.xml or *_MTL.txt/xml")
    if archive.is_archive(p):
        raise UnsupportedFile(f"{p.name}: neither a SAFE product, a Landsat product (*_MTL.txt/xml) nor GeoTIFF/JPEG2000 files inside")
    raise UnsupportedFile(f"{p.name}: not a GeoTIFF/COG/JPEG2000 file, SAFE directory, Landsat product folder or .zip/.tar archive")


def is_product_dir(p: Path) -> bool:
    """A folder that is one product (a SAFE, a Landsat product folder): its files belong to it."""
    return p.is_dir() and any(r.can_describe(p) for r in READERS)


def key_file(folder: Path) -> Path:
    """The file whose checksum stands for a product folder (the SAFE manifest, else the S2 MTD or the Landsat MTL)."""
    return describing_reader(folder).key_file(folder)


def is_candidate_file(p: Path) -> bool:
    """A loose file a folder search lists: a raster or an archive."""
    return p.is_file() and (p.name.lower().endswith(RASTER_SUFFIXES) or archive.is_archive(p))


def reading_reader(fetched: Any) -> Reader:
    """The reader of fetched files (archives already extracted), chosen by the record's collection *and* what is on
    disk, so a STAC record of sentinel-2-l2a band COGs still goes through the GeoTIFF reader."""
    for r in READERS:
        if r.can_read(fetched):
            return r
    rec = fetched.record
    if safe_dir(fetched.paths) is not None:
        raise UnsupportedFile(f"{rec.id}: no reader for {rec.product_type or 'this kind of'} SAFE products; "
                              "Sentinel-1 GRD and Sentinel-2 L1C/L2A are read")
    raise UnsupportedFile(f"{rec.id}: no GeoTIFF/COG/JPEG2000 file among the fetched files")


def read(fetched: Any) -> Scene:
    """The Scene of fetched files, by the first reader that can read them."""
    return reading_reader(fetched).read(fetched)

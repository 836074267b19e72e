"""What the readers share: the :class:`Reader` protocol, the record metadata a reader gives
(:class:`ProductMeta`), and how products lie on disk (SAFE folders, MTD/MTL files, loose rasters).

A reader answers two questions about two kinds of input:

* a *listed* path (a file, a product folder or a ``.zip``/``.tar`` archive, not extracted):
  ``can_describe(path)`` and ``describe(path) -> ProductMeta`` (metadata only, for the scene record);
  ``key_file(folder)`` names the file whose checksum stands for a product folder;
* *fetched* files (:class:`ingest.sources.base.FetchedScene`, archives already extracted):
  ``can_read(fetched)`` and ``read(fetched) -> Scene``.

The registry (:mod:`ingest.readers.registry`) asks the readers in its declared order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

from shapely.geometry.base import BaseGeometry

from base.paths import UnsafePath
from ingest.scene import Scene

if TYPE_CHECKING:
    from ingest.sources.base import FetchedScene

__all__ = ["Reader", "ProductMeta", "RASTER_SUFFIXES", "S2_MTD", "MTL_SUFFIXES", "S2_COLLECTIONS", "s2_mtd", "mtl",
           "safe_dir", "product_dirs", "rasters", "product_file"]

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2")
S2_MTD = ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml")  # preference order
MTL_SUFFIXES = ("_MTL.txt", "_MTL.xml")  # preference order
S2_COLLECTIONS = {"L1C": "sentinel-2-l1c", "L2A": "sentinel-2-l2a"}  # processing level → hpgeo collection


@dataclass(frozen=True)
class ProductMeta:
    """What a product's metadata says, for its scene record. ``None``: the reader cannot tell (the record then
    falls back to the file: its name for the id, its modification time for the date)."""

    footprint: BaseGeometry  # WGS 84
    datetime: dt.datetime | None
    id: str | None = None
    product_type: str | None = None
    platform: str | None = None
    collection: str | None = None
    cloud_cover: float | None = None


class Reader(Protocol):
    """One product format."""

    name: str

    def can_describe(self, path: Path) -> bool:
        """Whether ``path`` (file, product folder or archive, as listed) holds a product of this format."""

    def describe(self, path: Path) -> ProductMeta:
        """The record metadata of the product at ``path`` (metadata files only, no pixels)."""

    def key_file(self, folder: Path) -> Path:
        """The file whose checksum stands for the product folder ``folder``."""

    def can_read(self, fetched: "FetchedScene") -> bool:
        """Whether this reader turns these fetched files (and their record's collection) into a Scene."""

    def read(self, fetched: "FetchedScene") -> Scene:
        """The Scene of the fetched files."""


def product_file(folder: Path, href: str) -> Path:
    """A file a product's metadata names (manifest href, MTD image, MTL file name), inside the product folder:
    an absolute path, a ``..`` component, a URL or GDAL ``/vsi…`` path, a backslash or a NUL byte is refused
    (:class:`base.paths.UnsafePath`), whatever the metadata says. The check is on the name: symbolic links that a
    user's own product folder holds (an annexed archive) are followed; extracted archives and downloads hold none
    (:func:`ingest.readers.archive.extract` writes plain files only)."""
    parts = href.replace("\\", "/").split("/") if isinstance(href, str) else []
    if (not isinstance(href, str) or not href or "\x00" in href or "\\" in href or href.startswith("/") or "://" in href
            or ".." in parts or (len(href) > 1 and href[1] == ":")):
        raise UnsafePath(f"{folder.name}: file {str(href)[:120]!r} named by the product's metadata is not inside it")
    return folder / href


def s2_mtd(folder: Path) -> Path | None:
    """The product metadata file of a Sentinel-2 SAFE folder, if ``folder`` is one."""
    return next((folder / n for n in S2_MTD if (folder / n).is_file()), None)


def mtl(folder: Path) -> Path | None:
    """The MTL file of a Landsat product folder (txt preferred to xml), if ``folder`` is one."""
    for suffix in MTL_SUFFIXES:
        hits = sorted(q for q in folder.glob(f"*{suffix}") if q.is_file())
        if hits:
            return hits[0]
    return None


def safe_dir(paths: Sequence[Path]) -> Path | None:
    """The first SAFE folder among ``paths`` or their children (named ``*.SAFE`` or holding ``manifest.safe``)."""
    for p in paths:
        if p.is_dir() and (p.name.endswith(".SAFE") or (p / "manifest.safe").is_file()):
            return p
        if p.is_dir():
            safe = next((q for q in sorted(p.glob("*.SAFE")) if q.is_dir()), None)
            if safe is not None:
                return safe
    return None


def product_dirs(paths: Iterable[Path], is_product: Callable[[Path], Any]) -> list[Path]:
    """Folders among ``paths`` (themselves, their children, or the folder of a loose file) that ``is_product``."""
    seen: list[Path] = []
    for p in paths:
        for d in ([p, *sorted(c for c in p.iterdir() if c.is_dir())] if p.is_dir() else [p.parent]):
            if d not in seen and is_product(d):
                seen.append(d)
    return seen


def rasters(paths: Iterable[Path]) -> list[Path]:
    """GeoTIFF/JPEG2000 files among ``paths`` and under the folders among them, in name order per folder."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.name.lower().endswith(RASTER_SUFFIXES))
        elif p.name.lower().endswith(RASTER_SUFFIXES):
            out.append(p)
    return out

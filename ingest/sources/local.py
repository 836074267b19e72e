"""Local folders and archives: GeoTIFF/COG/JPEG2000 files, SAFE directories, Landsat product folders,
``.zip``/``.tar`` of any of them.

What a product is, and what its record is made of, is the readers' business (:mod:`ingest.readers.registry`,
asked in order: Sentinel-1 SAFE, Sentinel-2 SAFE, Landsat Collection 2 Level-2, any GeoTIFF/JPEG2000):

* Sentinel-1 SAFE (``manifest.safe``): the manifest's footprint, start time, product type.
* Sentinel-2 L1C/L2A SAFE (``MTD_MSIL1C.xml`` / ``MTD_MSIL2A.xml``): id = PRODUCT_URI without ``.SAFE``,
  the MTD's footprint, sensing start, PRODUCT_TYPE (S2MSI1C → sentinel-2-l1c, S2MSI2A → sentinel-2-l2a)
  and cloud cover.
* Landsat Collection 2 Level-2 (a folder, ``.tar`` or ``.zip`` holding ``*_MTL.txt`` / ``*_MTL.xml``):
  id = LANDSAT_PRODUCT_ID, DATE_ACQUIRED + SCENE_CENTER_TIME, the four CORNER_*_PRODUCT corners,
  CLOUD_COVER, platform ``landsat-N``; collection landsat-c2-l2.
* Anything else: GeoTIFF/COG/JPEG2000 raster bounds and TIFF date (collection local-imagery). Its band roles
  (``eo:common_name``: green, nir, …, what products bind to) come from ``LocalSource(band_roles=…)`` (CLI
  ``--bands blue,green,red,nir``) or the file's own band metadata; without either its bands have no role and
  no product takes them as known bands. An integer raster with a colour table is a class map (categorical: its
  codes and dtype kept, nearest resampling and overviews, the colour table as ``classification:classes``);
  ``LocalSource(categorical=True)`` (CLI ``--categorical``) says so of a plain integer label raster.

``search`` reads each candidate's metadata and keeps those over the AOI and period; the record's
checksum is the SHA-256 of the file or archive (of a product folder: of its manifest, MTD or MTL), so
``fetch`` can tell a file that changed since it was listed. ``fetch`` verifies and, for archives,
extracts into ``dest_dir/<id>/`` (through a temporary directory renamed into place, refusing members
that would escape it). :func:`read_scene` turns fetched files into a Scene with the reader registry.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterator, Sequence

from base.paths import confine, safe_name
from ingest.readers import registry
from ingest.readers.archive import extract, is_archive
from ingest.readers.product import RASTER_SUFFIXES
from ingest.scene import Scene
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, product_id, target_collection
from ingest.sources.download import file_checksum, verify_file
from ingest.sources.errors import InvalidSourceQuery, SceneNotFound

__all__ = ["LocalSource", "record_for", "read_scene", "unpack", "file_id", "RASTER_SUFFIXES"]

UTC = dt.timezone.utc


def record_for(path: Path, band_roles: Sequence[str | None] | None = None, categorical: bool | None = None) -> SceneRecord:
    """The record of one file, SAFE directory, Landsat product folder or archive (metadata only, plus its SHA-256).

    ``band_roles`` (one ``eo:common_name`` or None per band) go with the record to the GeoTIFF reader; a product
    folder (SAFE, Landsat) has its own band table, so giving roles for it is refused; so is ``categorical`` (True: the
    raster holds class codes; False: values, even with a colour table; None: a colour table decides)."""
    p = Path(path)
    if not p.exists():
        raise SceneNotFound(f"no such file: {p}")
    reader = registry.describing_reader(p)  # UnsupportedFile for anything no reader takes
    if band_roles is not None and reader.name != "geotiff":
        raise InvalidSourceQuery(f"{p.name} is a {reader.name} product with its own band table; band roles are for plain rasters")
    if categorical is not None and reader.name != "geotiff":
        raise InvalidSourceQuery(f"{p.name} is a {reader.name} product with its own band table; --categorical is for plain rasters")
    meta = reader.describe(p)
    if p.is_dir():
        checksum, size = Checksum("sha256", file_checksum(reader.key_file(p), "sha256")), None
    else:
        checksum, size = Checksum("sha256", file_checksum(p, "sha256")), p.stat().st_size
    when = meta.datetime or dt.datetime.fromtimestamp(p.stat().st_mtime, UTC)
    name = p.name[: -len(".tar.gz")] if p.name.endswith(".tar.gz") else (p.stem if p.is_file() else p.name)
    return SceneRecord(
        id=meta.id or file_id(product_id(name)),  # an id from the product's metadata is checked as it is
        title=p.name,
        source="local",
        platform=meta.platform,
        product_type=meta.product_type,
        datetime=when,
        footprint=meta.footprint,
        collection=meta.collection or target_collection(meta.product_type) or "local-imagery",
        cloud_cover=meta.cloud_cover,
        size=size,
        checksum=checksum,
        download_url=p.resolve().as_uri(),
        remote_id=str(p.resolve()),
        properties={**({"hpgeo:band_roles": list(band_roles)} if band_roles is not None else {}),
                    **({"hpgeo:categorical": categorical} if categorical is not None else {})},
    )


def file_id(name: str) -> str:
    """A scene id from the user's own file name: characters other than letters, digits and ``._@+=-`` become ``_``
    (``scene 1.tif`` → ``scene_1``); leading dots and dashes are dropped. (Ids read from a product's metadata are not
    rewritten: an unsafe one is refused.)"""
    return re.sub(r"[^A-Za-z0-9._@+=-]", "_", name).lstrip("._-")[:200]


class LocalSource(Source):
    """Files, SAFE directories, Landsat product folders and archives under ``paths`` (directories are searched
    recursively; the files inside a product folder belong to that product). No network, so no settings."""

    kind = "local"
    list_before_fetch = False

    def __init__(self, paths: Sequence[str | Path], band_roles: str | Sequence[str | None] | None = None,
                 categorical: bool | None = None):
        from ingest.readers.geotiff import parse_band_roles

        if not paths:
            raise InvalidSourceQuery("give at least one file or folder")
        self.paths = [Path(p) for p in paths]
        self.band_roles = parse_band_roles(band_roles) if band_roles is not None else None
        self.categorical = categorical
        for p in self.paths:
            if not p.exists():
                raise SceneNotFound(f"no such file or folder: {p}")

    def candidates(self) -> Iterator[Path]:
        """Files, product folders and archives under the paths, in name order."""
        for p in self.paths:
            if p.is_file() or registry.is_product_dir(p):
                yield p
                continue
            products: list[Path] = []
            for q in sorted(p.rglob("*")):
                if ".partial" in q.parts or ".SAFE" in str(q.parent) or any(r in q.parents for r in products):
                    continue
                if registry.is_product_dir(q):
                    products.append(q)
                    yield q
                elif registry.is_candidate_file(q):
                    yield q

    def search(self, aoi: Any = None, interval: Any = None, **_: Any) -> Iterator[SceneRecord]:
        geom, iv = as_geometry(aoi), as_interval(interval)
        for p in self.candidates():
            rec = record_for(p, self.band_roles, self.categorical)
            if geom is not None and not rec.footprint.intersects(geom):
                continue
            if iv is not None and ((iv.start and rec.datetime < iv.start) or (iv.end and rec.datetime > iv.end)):
                continue
            yield rec

    def fetch(self, record: SceneRecord, dest_dir: Path, progress: Progress | None = None) -> FetchedScene:
        """Verify the file against its record; extract archives into ``dest_dir/<id>/``."""
        p = Path(record.remote_id or "")
        if not p.exists():
            raise SceneNotFound(f"{record.id}: {p} is gone")
        if p.is_dir():
            verify_file(registry.key_file(p), None, record.checksum)
            return FetchedScene(record, (p,), p.parent, str(record.checksum))
        verify_file(p, record.size, record.checksum)
        if progress:
            progress(p.stat().st_size, p.stat().st_size)
        if not is_archive(p):
            return FetchedScene(record, (p,), p.parent, str(record.checksum))
        root = confine(safe_name(record.id, "scene id"), dest_dir)
        if not root.exists():
            extract(p, root)
        paths = sorted(q for q in root.iterdir())
        return FetchedScene(record, tuple(paths), root, str(record.checksum))


def unpack(fetched: FetchedScene) -> FetchedScene:
    """Replace archives among the fetched files by their extracted contents (``root/<id>.extracted/``, extracted once)."""
    if not any(p.is_file() and is_archive(p) for p in fetched.paths):
        return fetched
    out: list[Path] = []
    for p in fetched.paths:
        if p.is_file() and is_archive(p):
            target = confine(f"{safe_name(fetched.record.id, 'scene id')}.extracted", fetched.root)
            if not target.exists():
                extract(p, target)
            out += sorted(target.iterdir())
        else:
            out.append(p)
    return FetchedScene(fetched.record, tuple(out), fetched.root, fetched.checksum)


def read_scene(fetched: FetchedScene) -> Scene:
    """A Scene from fetched files, by the first reader of :data:`ingest.readers.registry.READERS` that can read them
    (chosen by the record's collection *and* what is on disk, so a STAC record of sentinel-2-l2a band COGs still goes
    through the GeoTIFF reader), then labelled with the record: id, collection, date, platform, cloud cover, source.

    Archives (a .zip from a DHuS or OData hub) are first extracted next to them, atomically."""
    fetched = unpack(fetched)
    rec = fetched.record
    scene = registry.read(fetched)
    scene.id = rec.id
    scene.collection = rec.collection or "local-imagery"
    scene.datetime = rec.datetime
    scene.platform = (rec.platform or scene.platform).lower()
    scene.cloud_cover = rec.cloud_cover if rec.cloud_cover is not None else scene.cloud_cover
    if scene.cloud_cover is not None and "eo:cloud_cover" in scene.properties:
        scene.properties["eo:cloud_cover"] = scene.cloud_cover
    scene.source = rec.download_url or rec.remote_id or scene.source
    return scene

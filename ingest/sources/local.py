"""Local folders and archives: GeoTIFF/COG/JPEG2000 files, SAFE directories, Landsat product folders,
``.zip``/``.tar`` of any of them.

Products recognised, and what their record is made of:

* Sentinel-1 SAFE (``manifest.safe``): the manifest's footprint, start time, product type.
* Sentinel-2 L1C/L2A SAFE (``MTD_MSIL1C.xml`` / ``MTD_MSIL2A.xml``): id = PRODUCT_URI without ``.SAFE``,
  the MTD's footprint, sensing start, PRODUCT_TYPE (S2MSI1C → sentinel-2-l1c, S2MSI2A → sentinel-2-l2a)
  and cloud cover.
* Landsat Collection 2 Level-2 (a folder, ``.tar`` or ``.zip`` holding ``*_MTL.txt`` / ``*_MTL.xml``):
  id = LANDSAT_PRODUCT_ID, DATE_ACQUIRED + SCENE_CENTER_TIME, the four CORNER_*_PRODUCT corners,
  CLOUD_COVER, platform ``landsat-N``; collection landsat-c2-l2.
* Anything else: GeoTIFF/COG/JPEG2000 raster bounds and TIFF date (collection local-imagery).

``search`` reads each candidate's metadata and keeps those over the AOI and period; the record's
checksum is the SHA-256 of the file or archive (of a product folder: of its manifest, MTD or MTL), so
``fetch`` can tell a file that changed since it was listed. ``fetch`` verifies and, for archives,
extracts into ``dest_dir/<id>/`` (through a temporary directory renamed into place, refusing members
that would escape it). :func:`read_scene` turns fetched files into a Scene with ``ingest.readers``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from shapely.geometry import Polygon, box

from ingest.scene import Scene
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, product_id, target_collection
from ingest.sources.download import file_checksum, verify_file
from ingest.sources.errors import InvalidSourceQuery, SceneNotFound, UnsupportedFile

__all__ = ["LocalSource", "record_for", "read_scene", "RASTER_SUFFIXES"]

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
UTC = dt.timezone.utc
_COORDS = re.compile(rb"<gml:coordinates>([^<]+)</gml:coordinates>")
_START = re.compile(rb"<safe:startTime>([^<]+)</safe:startTime>")
_PTYPE = re.compile(rb"<s1sarl1:productType>([^<]+)<")
_FAMILY = re.compile(rb"<safe:familyName>([^<]+)</safe:familyName>\s*<safe:number>([^<]+)<")
S2_MTD = ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml")
MTL_SUFFIXES = ("_MTL.txt", "_MTL.xml")  # preference order
_S2_LEVEL_COLLECTION = {"L1C": "sentinel-2-l1c", "L2A": "sentinel-2-l2a"}


def _is_archive(p: Path) -> bool:
    return p.name.lower().endswith(ARCHIVE_SUFFIXES)


def _members(p: Path) -> list[str]:
    if p.name.lower().endswith(".zip"):
        with zipfile.ZipFile(p) as z:
            return z.namelist()
    with tarfile.open(p) as t:
        return t.getnames()


def _read_member(p: Path, name: str) -> bytes:
    if p.name.lower().endswith(".zip"):
        with zipfile.ZipFile(p) as z:
            return z.read(name)
    with tarfile.open(p) as t:
        f = t.extractfile(name)
        if f is None:
            raise UnsupportedFile(f"{p.name}: {name} is not a regular file")
        return f.read()


def _vsi(p: Path, member: str) -> str:
    prefix = "/vsizip/" if p.name.lower().endswith(".zip") else "/vsitar/"
    return f"{prefix}{p}/{member}"


def _s2_mtd(folder: Path) -> Path | None:
    """The product metadata file of a Sentinel-2 SAFE folder, if ``folder`` is one."""
    return next((folder / n for n in S2_MTD if (folder / n).is_file()), None)


def _mtl(folder: Path) -> Path | None:
    """The MTL file of a Landsat product folder (txt preferred to xml), if ``folder`` is one."""
    for suffix in MTL_SUFFIXES:
        hits = sorted(q for q in folder.glob(f"*{suffix}") if q.is_file())
        if hits:
            return hits[0]
    return None


def _is_product_dir(p: Path) -> bool:
    """A SAFE directory (S1 manifest or S2 MTD) or a Landsat product folder (MTL)."""
    return p.is_dir() and ((p / "manifest.safe").is_file() or _s2_mtd(p) is not None or _mtl(p) is not None)


def _key_file(folder: Path) -> Path:
    """The file whose checksum stands for a product folder: the SAFE manifest (it lists every file's
    checksum), else the S2 MTD, else the Landsat MTL."""
    key = folder / "manifest.safe"
    if key.is_file():
        return key
    key = _s2_mtd(folder) or _mtl(folder)
    if key is None:
        raise UnsupportedFile(f"{folder} is a directory without manifest.safe, MTD_MSIL1C/2A.xml or *_MTL.txt/xml")
    return key


def _member_by_basename(names: Sequence[str], basenames: Sequence[str], max_depth: int = 2) -> str | None:
    """The shallowest archive member named one of ``basenames`` (in their order of preference)."""
    for base in basenames:
        hits = [n for n in names if n.rstrip("/").rsplit("/", 1)[-1] == base and n.count("/") < max_depth]
        if hits:
            return min(hits, key=lambda n: n.count("/"))
    return None


def _mtl_member(names: Sequence[str]) -> str | None:
    """The MTL member of an archive holding one Landsat product (at its top or in one folder), if any."""
    for suffix in MTL_SUFFIXES:
        hits = [n for n in names if n.endswith(suffix) and n.count("/") < 2]
        if hits:
            return min(hits, key=lambda n: (n.count("/"), n))
    return None


def _one_product(mtls: Iterable[str], where: str) -> None:
    """Refuse a folder or archive that mixes several Landsat products (the txt and xml MTL of one product are fine)."""
    ids = sorted({m.rstrip("/").rsplit("/", 1)[-1].rsplit("_MTL.", 1)[0] for m in mtls})
    if len(ids) > 1:
        raise UnsupportedFile(f"{where} holds {len(ids)} Landsat products ({', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''}); "
                              "give each product its own folder or archive")


def _parse_member(p: Path, member: str, parse: Any) -> Any:
    """``parse(path)`` of an archive member, written to a temporary file of the same name."""
    with tempfile.TemporaryDirectory(prefix="hpgeo-meta-") as tmp:
        f = Path(tmp) / member.rstrip("/").rsplit("/", 1)[-1]
        f.write_bytes(_read_member(p, member))
        return parse(f)


def _s2_meta(mtd: Path) -> tuple[str, Polygon, dt.datetime, str, str, str, float]:
    """(product id, footprint, sensing start, product type, platform, collection, cloud cover) from a S2 MTD."""
    from ingest.readers import _xml
    from ingest.readers.s2_safe import parse_product_metadata

    meta = parse_product_metadata(mtd)
    ptype = _xml.opt_text(_xml.parse(mtd), "PRODUCT_TYPE") or ("S2MSI2A" if meta.level == "L2A" else "S2MSI1C")
    coll = target_collection(ptype) or _S2_LEVEL_COLLECTION[meta.level]
    return (product_id(meta.product_uri), meta.footprint, meta.sensing_start, ptype, meta.platform, coll,
            meta.cloud_cover)


def _landsat_meta(mtl_path: Path) -> tuple[str, Polygon, dt.datetime, str, str, float | None]:
    """(product id, footprint, acquisition time, processing level, platform, cloud cover) from a C2 L2 MTL."""
    from ingest.readers import _xml
    from ingest.readers.errors import MalformedMetadata
    from ingest.readers.landsat import parse_mtl

    mtl = parse_mtl(mtl_path)
    where = mtl_path.name
    level = mtl.get("PROCESSING_LEVEL", "")
    if not level.startswith("L2"):
        raise UnsupportedFile(f"{where}: processing level {level or 'unknown'} — only Landsat Collection 2 Level-2 "
                              "(L2SP/L2SR) products are read")
    if mtl.get("COLLECTION_NUMBER") and int(mtl["COLLECTION_NUMBER"]) != 2:
        raise UnsupportedFile(f"{where}: Landsat collection {mtl['COLLECTION_NUMBER']} — only Collection 2 is read")
    missing = [k for k in ("LANDSAT_PRODUCT_ID", "SPACECRAFT_ID", "DATE_ACQUIRED") if k not in mtl]
    corners = []
    for c in ("UL", "UR", "LR", "LL"):
        lat, lon = f"CORNER_{c}_LAT_PRODUCT", f"CORNER_{c}_LON_PRODUCT"
        missing += [k for k in (lat, lon) if k not in mtl]
        if lat in mtl and lon in mtl:
            corners.append((float(mtl[lon]), float(mtl[lat])))
    if missing:
        raise MalformedMetadata(f"{where} lacks {', '.join(missing)}")
    when = _xml.parse_time(f"{mtl['DATE_ACQUIRED']}T{mtl.get('SCENE_CENTER_TIME', '00:00:00').rstrip('Z')}")
    m = re.fullmatch(r"LANDSAT_(\d+)", mtl["SPACECRAFT_ID"].strip().upper())
    if not m:
        raise MalformedMetadata(f"{where}: SPACECRAFT_ID {mtl['SPACECRAFT_ID']!r} is not LANDSAT_<n>")
    cloud = float(mtl["CLOUD_COVER"]) if mtl.get("CLOUD_COVER") not in (None, "") else None
    if cloud is not None and cloud < 0:  # USGS writes -1 when the cloud cover could not be assessed
        cloud = None
    return mtl["LANDSAT_PRODUCT_ID"], Polygon(corners), when, level, f"landsat-{int(m.group(1))}", cloud


def _raster_meta(path: str) -> tuple[Any, dt.datetime | None]:
    import rasterio
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise UnsupportedFile(f"{path} has no CRS (scanned images go through `hpgeo ingest rectify`)")
            bounds = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
            tag = ds.tags().get("TIFFTAG_DATETIME")
    except rasterio.errors.RasterioIOError as exc:
        raise UnsupportedFile(f"GDAL cannot read {path}: {exc}") from None
    when = dt.datetime.strptime(tag, "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC) if tag else None
    return box(*bounds), when


def _safe_meta(manifest: bytes, name: str) -> tuple[Polygon, dt.datetime, str | None, str | None]:
    fam = _FAMILY.search(manifest)
    if (fam and (fam.group(1) + fam.group(2)).upper().replace(b"-", b"").startswith(b"SENTINEL2")) or b"sentinel-2/msi" in manifest:
        raise UnsupportedFile(f"{name}: Sentinel-2 SAFE without MTD_MSIL1C.xml / MTD_MSIL2A.xml next to its manifest.safe")
    coords, start = _COORDS.search(manifest), _START.search(manifest)
    if not coords or not start:
        raise UnsupportedFile(f"{name}: manifest.safe has no footprint or start time")
    pts = [tuple(float(v) for v in c.split(b",")) for c in coords.group(1).split()]
    footprint = Polygon([(lon, lat) for lat, lon in pts])
    when = dt.datetime.fromisoformat(start.group(1).decode().rstrip("Z")).replace(tzinfo=UTC)
    ptype = _PTYPE.search(manifest)
    platform = f"{fam.group(1).decode().title()}{fam.group(2).decode()}" if fam else None
    return footprint, when, ptype.group(1).decode() if ptype else None, platform


def record_for(path: Path) -> SceneRecord:
    """The record of one file, SAFE directory, Landsat product folder or archive (metadata only, plus its SHA-256)."""
    p = Path(path)
    if not p.exists():
        raise SceneNotFound(f"no such file: {p}")
    ptype = platform = pid = collection = None
    cloud: float | None = None
    if p.is_dir():
        key = _key_file(p)  # raises UnsupportedFile for any other directory
        mtd, mtl = _s2_mtd(p), _mtl(p)
        if mtd is not None:
            pid, footprint, when, ptype, platform, collection, cloud = _s2_meta(mtd)
        elif key.name == "manifest.safe":
            footprint, when, ptype, platform = _safe_meta(key.read_bytes(), p.name)
        elif mtl is not None:
            _one_product((q.name for s in MTL_SUFFIXES for q in p.glob(f"*{s}")), p.name)
            pid, footprint, when, ptype, platform, cloud = _landsat_meta(mtl)
            collection = "landsat-c2-l2"
        checksum, size = Checksum("sha256", file_checksum(key, "sha256")), None
    elif _is_archive(p):
        names = _members(p)
        mtd = _member_by_basename(names, S2_MTD)
        mtl = None if mtd else _mtl_member(names)
        manifest = next((n for n in names if n.endswith(".SAFE/manifest.safe") or n == "manifest.safe"), None)
        if mtd:
            pid, footprint, when, ptype, platform, collection, cloud = _parse_member(p, mtd, _s2_meta)
        elif mtl:
            _one_product((n for n in names if n.endswith(MTL_SUFFIXES)), p.name)
            pid, footprint, when, ptype, platform, cloud = _parse_member(p, mtl, _landsat_meta)
            collection = "landsat-c2-l2"
        elif manifest:
            footprint, when, ptype, platform = _safe_meta(_read_member(p, manifest), p.name)
        else:
            rasters = [n for n in names if n.lower().endswith(RASTER_SUFFIXES)]
            if not rasters:
                raise UnsupportedFile(f"{p.name}: neither a SAFE product, a Landsat product (*_MTL.txt/xml) nor "
                                      "GeoTIFF/JPEG2000 files inside")
            metas = [_raster_meta(_vsi(p, n)) for n in rasters]
            from shapely import union_all

            footprint, when = union_all([m[0] for m in metas]).envelope, next((m[1] for m in metas if m[1]), None)
        checksum, size = Checksum("sha256", file_checksum(p, "sha256")), p.stat().st_size
    elif p.name.lower().endswith(RASTER_SUFFIXES):
        footprint, when = _raster_meta(str(p))
        checksum, size = Checksum("sha256", file_checksum(p, "sha256")), p.stat().st_size
    else:
        raise UnsupportedFile(f"{p.name}: not a GeoTIFF/COG/JPEG2000 file, SAFE directory, Landsat product folder "
                              "or .zip/.tar archive")
    when = when or dt.datetime.fromtimestamp(p.stat().st_mtime, UTC)
    name = p.name[: -len(".tar.gz")] if p.name.endswith(".tar.gz") else (p.stem if p.is_file() else p.name)
    return SceneRecord(
        id=pid or product_id(name),
        title=p.name,
        source="local",
        platform=platform,
        product_type=ptype,
        datetime=when,
        footprint=footprint,
        collection=collection or target_collection(ptype) or "local-imagery",
        cloud_cover=cloud,
        size=size,
        checksum=checksum,
        download_url=p.resolve().as_uri(),
        remote_id=str(p.resolve()),
    )


class LocalSource(Source):
    """Files, SAFE directories, Landsat product folders and archives under ``paths`` (directories are searched
    recursively; the files inside a product folder belong to that product)."""

    kind = "local"

    def __init__(self, paths: Sequence[str | Path]):
        if not paths:
            raise InvalidSourceQuery("give at least one file or folder")
        self.paths = [Path(p) for p in paths]
        for p in self.paths:
            if not p.exists():
                raise SceneNotFound(f"no such file or folder: {p}")

    def candidates(self) -> Iterator[Path]:
        """Files, product folders and archives under the paths, in name order."""
        for p in self.paths:
            if p.is_file() or _is_product_dir(p):
                yield p
                continue
            products: list[Path] = []
            for q in sorted(p.rglob("*")):
                if ".partial" in q.parts or ".SAFE" in str(q.parent) or any(r in q.parents for r in products):
                    continue
                if _is_product_dir(q):
                    products.append(q)
                    yield q
                elif q.is_file() and (q.name.lower().endswith(RASTER_SUFFIXES) or _is_archive(q)):
                    yield q

    def search(self, aoi: Any = None, interval: Any = None, **_: Any) -> Iterator[SceneRecord]:
        geom, iv = as_geometry(aoi), as_interval(interval)
        for p in self.candidates():
            rec = record_for(p)
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
            verify_file(_key_file(p), None, record.checksum)
            return FetchedScene(record, (p,), p.parent, str(record.checksum))
        verify_file(p, record.size, record.checksum)
        if progress:
            progress(p.stat().st_size, p.stat().st_size)
        if not _is_archive(p):
            return FetchedScene(record, (p,), p.parent, str(record.checksum))
        root = Path(dest_dir) / record.id
        if not root.exists():
            _extract(p, root)
        paths = sorted(q for q in root.iterdir())
        return FetchedScene(record, tuple(paths), root, str(record.checksum))


def unpack(fetched: FetchedScene) -> FetchedScene:
    """Replace archives among the fetched files by their extracted contents (``root/<id>/``, extracted once)."""
    if not any(p.is_file() and _is_archive(p) for p in fetched.paths):
        return fetched
    out: list[Path] = []
    for p in fetched.paths:
        if p.is_file() and _is_archive(p):
            target = fetched.root / f"{fetched.record.id}.extracted"
            if not target.exists():
                _extract(p, target)
            out += sorted(target.iterdir())
        else:
            out.append(p)
    return FetchedScene(fetched.record, tuple(out), fetched.root, fetched.checksum)


def _extract(archive: Path, root: Path) -> None:
    """Extract into a temporary sibling, then rename: ``root`` exists only complete."""
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        base = tmp.resolve()
        for name in _members(archive):
            if not (base / name).resolve().is_relative_to(base):
                raise UnsupportedFile(f"{archive.name}: member {name!r} would be written outside the target folder")
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _rasters(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.name.lower().endswith(RASTER_SUFFIXES))
        elif p.name.lower().endswith(RASTER_SUFFIXES):
            out.append(p)
    return out


def _product_dirs(paths: Iterable[Path], is_product: Any) -> list[Path]:
    """Folders among ``paths`` (themselves, their children, or the folder of a loose file) that ``is_product``."""
    seen: list[Path] = []
    for p in paths:
        for d in ([p, *sorted(c for c in p.iterdir() if c.is_dir())] if p.is_dir() else [p.parent]):
            if d not in seen and is_product(d):
                seen.append(d)
    return seen


def _safe_dir(paths: Sequence[Path]) -> Path | None:
    for p in paths:
        if p.is_dir() and (p.name.endswith(".SAFE") or (p / "manifest.safe").is_file()):
            return p
        if p.is_dir():
            safe = next((q for q in sorted(p.glob("*.SAFE")) if q.is_dir()), None)
            if safe is not None:
                return safe
    return None


def read_scene(fetched: FetchedScene) -> Scene:
    """A Scene from fetched files: a Sentinel-1 GRD SAFE through ``ingest.readers.s1_safe``, a Sentinel-2
    L1C/L2A SAFE through ``ingest.readers.s2_safe``, a Landsat Collection 2 Level-2 product through
    ``ingest.readers.landsat``; GeoTIFF/COG/JPEG2000 files through ``ingest.readers.geotiff`` (one band per file,
    named after it; multi-band files keep their names).

    The reader is chosen by the record's collection *and* what is on disk, so a STAC record of
    sentinel-2-l2a band COGs still goes through the GeoTIFF reader.

    Archives (a .zip from a DHuS or OData hub) are first extracted next to them, atomically."""
    fetched = unpack(fetched)
    rec = fetched.record
    s2 = _product_dirs(fetched.paths, lambda d: _s2_mtd(d) is not None) if rec.collection in _S2_LEVEL_COLLECTION.values() else []
    landsat = _product_dirs(fetched.paths, lambda d: _mtl(d) is not None) if rec.collection == "landsat-c2-l2" else []
    safe = None if s2 else _safe_dir(fetched.paths)
    if s2:
        if len(s2) > 1:
            raise UnsupportedFile(f"{rec.id}: {len(s2)} Sentinel-2 SAFE products in one fetch ({', '.join(d.name for d in s2)})")
        from ingest.readers.s2_safe import read_s2_safe

        scene = read_s2_safe(s2[0])
        if scene.collection != rec.collection:
            raise UnsupportedFile(f"{rec.id}: listed as {rec.collection} but {s2[0].name} holds a {scene.collection} product")
        if not scene.bands:
            raise UnsupportedFile(f"{rec.id}: none of the image files listed in the product metadata is in {s2[0].name}")
    elif landsat:
        if len(landsat) > 1:
            raise UnsupportedFile(f"{rec.id}: {len(landsat)} Landsat products in one fetch ({', '.join(d.name for d in landsat)})")
        from ingest.readers.landsat import read_landsat_c2l2

        scene = read_landsat_c2l2(landsat[0])
        if not scene.bands:
            raise UnsupportedFile(f"{rec.id}: none of the SR/ST band files listed in the MTL is in {landsat[0].name}")
    elif safe is not None:
        if rec.collection != "sentinel-1-grd":
            what = rec.product_type or "this kind of"
            hint = " (no MTD_MSIL1C.xml/MTD_MSIL2A.xml found)" if rec.collection in _S2_LEVEL_COLLECTION.values() else ""
            raise UnsupportedFile(f"{rec.id}: no reader for {what} SAFE products{hint}; "
                                  "Sentinel-1 GRD and Sentinel-2 L1C/L2A are read")
        from ingest.readers.s1_safe import read_s1_grd

        scene = read_s1_grd(safe)
    else:
        if rec.collection == "landsat-c2-l2" and rec.source == "local":
            raise UnsupportedFile(f"{rec.id}: no *_MTL.txt/*_MTL.xml among the fetched files")
        files = _rasters(fetched.paths)
        if not files:
            raise UnsupportedFile(f"{rec.id}: no GeoTIFF/COG/JPEG2000 file among the fetched files")
        from ingest.readers.geotiff import read_raster

        parts = [read_raster(f, collection=rec.collection or "local-imagery", datetime=rec.datetime) for f in files]
        scene = parts[0]
        if len(parts) > 1 or (rec.assets and len(scene.bands) == 1):  # STAC assets: bands named after the asset keys
            for f, part in zip(files, parts):
                if len(part.bands) != 1:
                    raise UnsupportedFile(f"{f.name}: multi-band files must come alone")
            scene.bands = {f.stem: next(iter(p.bands.values())).rename(f.stem) for f, p in zip(files, parts)}
            scene.band_info = {f.stem: next(iter(p.band_info.values())) for f, p in zip(files, parts)}
            scene.valid = None
    scene.id = rec.id
    scene.collection = rec.collection or "local-imagery"
    scene.datetime = rec.datetime
    scene.platform = (rec.platform or scene.platform).lower()
    scene.cloud_cover = rec.cloud_cover if rec.cloud_cover is not None else scene.cloud_cover
    if scene.cloud_cover is not None and "eo:cloud_cover" in scene.properties:
        scene.properties["eo:cloud_cover"] = scene.cloud_cover
    scene.source = rec.download_url or rec.remote_id or scene.source
    return scene

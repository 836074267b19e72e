"""Local folders and archives: GeoTIFF/COG/JPEG2000 files, SAFE directories, ``.zip``/``.tar`` of either.

``search`` reads each candidate's metadata (raster bounds and TIFF date, or the SAFE manifest's
footprint and start time) and keeps those over the AOI and period; the record's checksum is the
file's SHA-256, so ``fetch`` can tell a file that changed since it was listed. ``fetch`` verifies and,
for archives, extracts into ``dest_dir/<id>/`` (through a temporary directory renamed into place,
refusing members that would escape it). :func:`read_scene` turns fetched files into a Scene with
``ingest.readers``.
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
    coords, start = _COORDS.search(manifest), _START.search(manifest)
    if not coords or not start:
        raise UnsupportedFile(f"{name}: manifest.safe has no footprint or start time")
    pts = [tuple(float(v) for v in c.split(b",")) for c in coords.group(1).split()]
    footprint = Polygon([(lon, lat) for lat, lon in pts])
    when = dt.datetime.fromisoformat(start.group(1).decode().rstrip("Z")).replace(tzinfo=UTC)
    ptype = _PTYPE.search(manifest)
    fam = _FAMILY.search(manifest)
    platform = f"{fam.group(1).decode().title()}{fam.group(2).decode()}" if fam else None
    return footprint, when, ptype.group(1).decode() if ptype else None, platform


def record_for(path: Path) -> SceneRecord:
    """The record of one file, SAFE directory or archive (metadata only, plus its SHA-256)."""
    p = Path(path)
    if not p.exists():
        raise SceneNotFound(f"no such file: {p}")
    ptype = platform = None
    if p.is_dir():
        if not (p / "manifest.safe").exists():
            raise UnsupportedFile(f"{p} is a directory without manifest.safe")
        footprint, when, ptype, platform = _safe_meta((p / "manifest.safe").read_bytes(), p.name)
        checksum, size = Checksum("sha256", file_checksum(p / "manifest.safe", "sha256")), None
    elif _is_archive(p):
        names = _members(p)
        manifest = next((n for n in names if n.endswith(".SAFE/manifest.safe") or n == "manifest.safe"), None)
        if manifest:
            footprint, when, ptype, platform = _safe_meta(_read_member(p, manifest), p.name)
        else:
            rasters = [n for n in names if n.lower().endswith(RASTER_SUFFIXES)]
            if not rasters:
                raise UnsupportedFile(f"{p.name}: neither a SAFE product nor GeoTIFF/JPEG2000 files inside")
            metas = [_raster_meta(_vsi(p, n)) for n in rasters]
            from shapely import union_all

            footprint, when = union_all([m[0] for m in metas]).envelope, next((m[1] for m in metas if m[1]), None)
        checksum, size = Checksum("sha256", file_checksum(p, "sha256")), p.stat().st_size
    elif p.name.lower().endswith(RASTER_SUFFIXES):
        footprint, when = _raster_meta(str(p))
        checksum, size = Checksum("sha256", file_checksum(p, "sha256")), p.stat().st_size
    else:
        raise UnsupportedFile(f"{p.name}: not a GeoTIFF/COG/JPEG2000 file, SAFE directory or .zip/.tar archive")
    when = when or dt.datetime.fromtimestamp(p.stat().st_mtime, UTC)
    name = p.name[: -len(".tar.gz")] if p.name.endswith(".tar.gz") else (p.stem if p.is_file() else p.name)
    return SceneRecord(
        id=product_id(name),
        title=p.name,
        source="local",
        platform=platform,
        product_type=ptype,
        datetime=when,
        footprint=footprint,
        collection=target_collection(ptype) or "local-imagery",
        size=size,
        checksum=checksum,
        download_url=p.resolve().as_uri(),
        remote_id=str(p.resolve()),
    )


class LocalSource(Source):
    """Files, SAFE directories and archives under ``paths`` (directories are searched recursively)."""

    kind = "local"

    def __init__(self, paths: Sequence[str | Path]):
        if not paths:
            raise InvalidSourceQuery("give at least one file or folder")
        self.paths = [Path(p) for p in paths]
        for p in self.paths:
            if not p.exists():
                raise SceneNotFound(f"no such file or folder: {p}")

    def candidates(self) -> Iterator[Path]:
        """Files, SAFE directories and archives under the paths, in name order."""
        for p in self.paths:
            if p.is_file() or (p / "manifest.safe").exists():
                yield p
                continue
            for q in sorted(p.rglob("*")):
                if q.is_dir() and (q / "manifest.safe").exists():
                    yield q
                elif q.is_file() and (q.name.lower().endswith(RASTER_SUFFIXES) or _is_archive(q)) and ".SAFE" not in str(q.parent) and ".partial" not in q.parts:
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
            verify_file(p / "manifest.safe", None, record.checksum)
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


def read_scene(fetched: FetchedScene) -> Scene:
    """A Scene from fetched files: an S1 GRD SAFE through ``ingest.readers.s1_safe``; GeoTIFF/COG/JPEG2000
    files through ``ingest.readers.geotiff`` (one band per file, named after it; multi-band files keep their names)."""
    rec = fetched.record
    safe = next((q for p in fetched.paths for q in ([p] if p.name.endswith(".SAFE") else p.glob("*.SAFE") if p.is_dir() else [])), None)
    if safe is None and fetched.path.is_dir() and (fetched.path / "manifest.safe").exists():
        safe = fetched.path
    if safe is not None:
        if rec.collection != "sentinel-1-grd":
            raise UnsupportedFile(f"{rec.id}: no reader for {rec.product_type or 'this'} SAFE products yet (Sentinel-1 GRD only)")
        from ingest.readers.s1_safe import read_s1_grd

        scene = read_s1_grd(safe)
    else:
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
    scene.source = rec.download_url or rec.remote_id or scene.source
    return scene

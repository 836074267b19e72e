"""Search → scene records in the catalog → (optionally) fetch, verify, ARD, one item per scene.

Re-running is idempotent: records are upserted by id (unchanged ones are not rewritten), downloads
that already verified are kept, and ``write_ard(..., source_checksum=...)`` skips scenes whose item is
current. Only verified files reach the reader, and the ARD item is written last, so neither a killed
download nor a checksum mismatch leaves an item behind.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from base.errors import HpgeoError, InvalidRequest, NotFound
from ingest.ard import is_current, write_ard
from ingest.readers.errors import UnsupportedProduct
from ingest.sources.base import Progress, SceneRecord, Source
from ingest.sources.local import read_scene
from ingest.sources.records import RECORDS_COLLECTION, mark_ingested, register_records

__all__ = ["IngestReport", "run_ingest", "ingest_record"]

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one run did."""

    records: list[SceneRecord] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (record id, message)
    errors: list[Exception] = field(default_factory=list)  # the error of each failed record, in the same order

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def refused(self) -> list[str]:
        """Ids of records whose input was refused (bad or hostile content: exit code 2), not merely unavailable."""
        return [rid for (rid, _), e in zip(self.failed, self.errors) if isinstance(e, (InvalidRequest, NotFound))]


# what GDAL, PROJ, rioxarray and GEOS raise on data they cannot use, met while a lazy scene is read and written
def _unreadable_errors() -> tuple[type[BaseException], ...]:
    from pyproj.exceptions import CRSError, ProjError
    from rasterio.errors import RasterioError
    from rioxarray.exceptions import RioXarrayError
    from shapely.errors import GEOSException

    return (RasterioError, CRSError, ProjError, RioXarrayError, GEOSException, ValueError, ZeroDivisionError)


def ingest_record(source: Source, record: SceneRecord, *, catalog: Any, data_dir: Path, aoi: Any = None, progress: Progress | None = None) -> bool:
    """Fetch, verify and write one scene's ARD item. Returns False when the item was already current.

    A refusal of the content (:class:`~base.errors.InvalidRequest`; GDAL/PROJ errors of a scene that cannot be read
    become :class:`~ingest.readers.errors.UnsupportedProduct`) removes every file and folder this call created under
    ``data_dir/raw/<source>`` (downloads, extractions) and the ARD step leaves nothing; an unavailable upstream keeps
    the verified files and partial downloads, so a re-run resumes."""
    collection = record.collection or "local-imagery"
    options = ingest_options(record)
    if record.checksum is not None and is_current(catalog, collection, record.id, str(record.checksum), data_dir, options):
        log.info("%s/%s is current, not fetched again", collection, record.id)
        return False
    dest = Path(data_dir) / "raw" / source.kind
    before = _entries(Path(data_dir), dest)
    try:
        try:
            fetched = source.fetch(record, dest, progress=progress)
            scene = read_scene(fetched)
            item = write_ard(scene, catalog=catalog, data_dir=Path(data_dir), aoi=aoi, source_checksum=fetched.checksum or None,
                             options=options)
        except _unreadable_errors() as exc:
            log.debug("%s: unreadable", record.id, exc_info=True)
            raise UnsupportedProduct(f"{record.id} cannot be read (corrupt, truncated or not georeferenced usably): {str(exc)[:300]}") from None
    except (InvalidRequest, NotFound):
        _remove_new(Path(data_dir), dest, before)
        raise
    mark_ingested(catalog, record, scene.collection, scene.id)
    return item is not None


def ingest_options(record: SceneRecord) -> dict[str, Any] | None:
    """The options the user gave for this record's content (``--bands``, ``--categorical``), or None: part of what
    makes an item current, so the same file ingested again with other options is written again."""
    opts = {k: record.properties[k] for k in ("hpgeo:band_roles", "hpgeo:categorical") if record.properties.get(k) is not None}
    return opts or None


def _entries(data_dir: Path, dest: Path) -> tuple[set[Path], set[str]]:
    """Which of the folders down to ``dest`` exist, and what ``dest`` holds (its names, and those of its ``.partial``)."""
    chain = {d for d in (data_dir / "raw", dest) if d.exists()}
    names = {p.name for p in dest.iterdir()} if dest.is_dir() else set()
    return chain, names


def _remove_new(data_dir: Path, dest: Path, before: tuple[set[Path], set[str]]) -> None:
    chain, names = before
    if dest.is_dir():
        for p in dest.iterdir():
            if p.name not in names:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    for d in (dest, data_dir / "raw"):
        if d not in chain:
            with contextlib.suppress(OSError):
                d.rmdir()


def run_ingest(
    source: Source,
    area: Any,
    interval: Any,
    *,
    catalog: Any,
    data_dir: Path,
    download: bool = False,
    clip: Any = None,
    progress_for: Callable[[SceneRecord], Progress | None] | None = None,
    **filters: Any,
) -> IngestReport:
    """Search ``source``, put the records in the catalog and, with ``download``, ingest each scene.

    Every record of the search is built (and checked: safe ids and asset keys, http(s) hrefs) before anything is
    written, so a hostile answer changes nothing. A hub's records are put in the catalog before their downloads (a
    killed download leaves the record listed, to resume); a local source's only with their analysis-ready item
    (:attr:`Source.list_before_fetch`). A scene that fails (download, checksum, reader) is reported and the others go
    on; a record whose content was refused and that this run listed is removed again. Errors of the *request* (bad
    area, bad interval) propagate before anything is written.
    """
    report = IngestReport(records=list(source.search(area, interval, **filters)))
    listed_before = {r.id for r in report.records if catalog.has_item(RECORDS_COLLECTION, r.id)} if download else set()
    if not download or source.list_before_fetch:
        register_records(catalog, report.records)
    log.info("%s: %d scene record(s) listed", source.kind, len(report.records))
    if not download:
        return report
    for rec in report.records:
        try:
            done = ingest_record(source, rec, catalog=catalog, data_dir=data_dir, aoi=clip, progress=progress_for(rec) if progress_for else None)
        except HpgeoError as exc:
            log.error("%s: %s", rec.id, exc)
            report.failed.append((rec.id, str(exc)))
            report.errors.append(exc)
            if isinstance(exc, (InvalidRequest, NotFound)) and rec.id not in listed_before and catalog.has_item(RECORDS_COLLECTION, rec.id):
                catalog.delete_item(RECORDS_COLLECTION, rec.id)
            continue
        (report.ingested if done else report.current).append(rec.id)
    return report

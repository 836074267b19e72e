"""Search → scene records in the catalog → (optionally) fetch, verify, ARD, one item per scene.

Re-running is idempotent: records are upserted by id (unchanged ones are not rewritten), downloads
that already verified are kept, and ``write_ard(..., source_checksum=...)`` skips scenes whose item is
current. Only verified files reach the reader, and the ARD item is written last, so neither a killed
download nor a checksum mismatch leaves an item behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ingest.ard import is_current, write_ard
from ingest.sources.base import Progress, SceneRecord, Source
from ingest.sources.local import read_scene
from ingest.sources.records import mark_ingested, register_records

__all__ = ["IngestReport", "run_ingest", "ingest_record"]

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one run did."""

    records: list[SceneRecord] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (record id, message)

    @property
    def ok(self) -> bool:
        return not self.failed


def ingest_record(source: Source, record: SceneRecord, *, catalog: Any, data_dir: Path, aoi: Any = None, progress: Progress | None = None) -> bool:
    """Fetch, verify and write one scene's ARD item. Returns False when the item was already current."""
    collection = record.collection or "local-imagery"
    if record.checksum is not None and is_current(catalog, collection, record.id, str(record.checksum), data_dir):
        log.info("%s/%s is current, not fetched again", collection, record.id)
        return False
    fetched = source.fetch(record, Path(data_dir) / "raw" / source.kind, progress=progress)
    scene = read_scene(fetched)
    item = write_ard(scene, catalog=catalog, data_dir=Path(data_dir), aoi=aoi, source_checksum=fetched.checksum or None)
    mark_ingested(catalog, record, scene.collection, scene.id)
    return item is not None


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

    A scene that fails (download, checksum, reader) is reported and the others go on; hpgeo errors
    of the *request* (bad area, bad interval) propagate before anything is written.
    """
    from base.errors import HpgeoError

    report = IngestReport(records=list(source.search(area, interval, **filters)))
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
            continue
        (report.ingested if done else report.current).append(rec.id)
    return report

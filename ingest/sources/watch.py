"""Scheduled ingestion: for each configured job (source + AOI + collection), search since the last
successful search and ingest what is new.

Config (YAML)::

    every: 3600                 # seconds between cycles (default HPGEO_WATCH_EVERY)
    jobs:
      - name: s1-haiphong
        source: stac            # stac | dhus | odata | local
        url: https://earth-search.aws.element84.com/v1   # for local: paths: [/data/incoming]
        aoi: haiphong-2025      # or bbox: [106.0, 20.0, 107.8, 21.3]
        collection: sentinel-1-grd   # STAC collection / OData collection (SENTINEL-1)
        product_type: GRD       # optional; platform (DHuS), max_cloud, limit too
        start: 2025-01-01       # first search starts here (default: lookback_days before now)
        lookback_days: 7
        download: true

State: ``{job: {"last_search": ISO, "records": n, "ingested": n}}`` in a JSON file written atomically
(temporary file + rename); a job's ``last_search`` moves only when its cycle succeeded, and the next
search starts an ``overlap`` before it, so late-published scenes are not missed (records are upserted).

Local jobs (folders that files are dropped into) are not searched by date window: an archive from 1998
copied in today is new although its acquisition date is old. Their state is by file *identity*:
``"seen"`` maps the SHA-256 of every file (or product folder's key file) ingested or found current to the
path and id it had, and ``"files"`` caches each path's (size, mtime_ns, inode, ctime_ns, sha256) so an
unchanged file is not hashed again (any change of the bytes changes the ctime, which no user can set). A file whose content was seen — renamed, moved to a subfolder, touched, or
copied again — is not ingested again; a file replaced by new content (same name or not) is. A file that
failed is not marked seen, so it is tried again next cycle. A local job's ``start`` (if given) is a fixed
lower bound on acquisition dates, never moved by the cycles.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from ingest.sources.base import Source
from ingest.sources.errors import InvalidWatchConfig
from ingest.sources.pipeline import IngestReport, run_ingest

__all__ = ["WatchJob", "WatchConfig", "load_config", "load_state", "save_state", "run_cycle", "watch_forever", "make_source"]

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
SOURCES = ("stac", "dhus", "odata", "local")


@dataclass(frozen=True)
class WatchJob:
    """One scheduled search."""

    name: str
    source: str
    url: str | None = None
    paths: tuple[str, ...] = ()
    aoi: str | None = None
    bbox: tuple[float, ...] | None = None
    collection: str | None = None
    product_type: str | None = None
    platform: str | None = None
    max_cloud: float | None = None
    limit: int | None = None
    start: dt.datetime | None = None
    lookback_days: float = 7.0
    download: bool = True


@dataclass(frozen=True)
class WatchConfig:
    jobs: tuple[WatchJob, ...]
    every: float | None = None
    overlap_hours: float = 24.0
    extra: dict[str, Any] = field(default_factory=dict)


def _job(raw: Any, i: int) -> WatchJob:
    if not isinstance(raw, dict):
        raise InvalidWatchConfig(f"job {i + 1} is not a mapping")
    known = set(WatchJob.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise InvalidWatchConfig(f"job {raw.get('name', i + 1)}: unknown keys {sorted(unknown)}")
    if not raw.get("name") or raw.get("source") not in SOURCES:
        raise InvalidWatchConfig(f"job {i + 1} needs a name and a source among {SOURCES}")
    if raw["source"] == "local" and not raw.get("paths"):
        raise InvalidWatchConfig(f"job {raw['name']}: a local job needs paths")
    if raw["source"] != "local" and not raw.get("url"):
        raise InvalidWatchConfig(f"job {raw['name']}: needs a url")
    if not raw.get("aoi") and not raw.get("bbox") and raw["source"] != "local":
        raise InvalidWatchConfig(f"job {raw['name']}: needs an aoi or a bbox")
    vals = dict(raw)
    if "start" in vals and vals["start"] is not None:
        s = vals["start"]
        s = dt.datetime.combine(s, dt.time()) if isinstance(s, dt.date) and not isinstance(s, dt.datetime) else s
        s = dt.datetime.fromisoformat(str(s).replace("Z", "+00:00")) if isinstance(s, str) else s
        vals["start"] = s.replace(tzinfo=UTC) if s.tzinfo is None else s
    vals["paths"] = tuple(vals.get("paths") or ())
    vals["bbox"] = tuple(vals["bbox"]) if vals.get("bbox") else None
    try:
        return WatchJob(**vals)
    except (TypeError, ValueError) as exc:
        raise InvalidWatchConfig(f"job {raw['name']}: {exc}") from None


def load_config(path: Path) -> WatchConfig:
    """Read and validate the YAML config."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InvalidWatchConfig(f"no watch config at {path}") from None
    except yaml.YAMLError as exc:
        raise InvalidWatchConfig(f"{path} is not valid YAML: {exc}") from None
    jobs = tuple(_job(j, i) for i, j in enumerate(doc.get("jobs") or []))
    if not jobs:
        raise InvalidWatchConfig(f"{path} lists no jobs")
    if len({j.name for j in jobs}) != len(jobs):
        raise InvalidWatchConfig(f"{path}: job names must be unique")
    return WatchConfig(jobs=jobs, every=doc.get("every"), overlap_hours=float(doc.get("overlap_hours", 24.0)))


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def save_state(path: Path, state: dict[str, dict[str, Any]]) -> None:
    """Write the state atomically: a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def make_source(job: WatchJob, settings: Any = None) -> Source:
    """The driver a job names, configured by ``settings`` (a :class:`base.settings.Settings`)."""
    if job.source == "stac":
        from ingest.sources.stac import StacSource

        return StacSource(job.url or "", settings=settings)
    if job.source == "dhus":
        from ingest.sources.dhus import DhusSource

        return DhusSource(job.url, settings=settings)
    if job.source == "odata":
        from ingest.sources.odata import ODataSource

        return ODataSource(job.url, settings=settings)
    from ingest.sources.local import LocalSource

    return LocalSource(list(job.paths))


def _filters(job: WatchJob) -> dict[str, Any]:
    f: dict[str, Any] = {"max_cloud": job.max_cloud, "limit": job.limit}
    if job.source == "stac" and job.collection:
        f["collections"] = [job.collection]
    if job.source == "odata" and job.collection:
        f["collection"] = job.collection
    if job.source in ("dhus", "odata"):
        f["product_type"] = job.product_type
    if job.source == "dhus":
        f["platform"] = job.platform
    return f


class _UnseenLocalFiles:
    """A local source listing only files whose content (SHA-256) the job has not ingested yet."""

    def __init__(self, src: Any, seen: dict[str, Any], files: dict[str, list[Any]]) -> None:
        self.src, self.seen, self.files = src, seen, files
        self.kind, self.list_before_fetch = src.kind, src.list_before_fetch
        self.skipped: list[str] = []
        self._listed: set[str] = set()  # contents listed in this cycle (two copies of one file: the first only)

    def __enter__(self) -> "_UnseenLocalFiles":
        return self

    def __exit__(self, *exc: object) -> None:
        self.src.__exit__(*exc)

    def _stat(self, p: Path) -> list[int]:
        st = p.stat()
        # ctime: no user can set it, and any write, replacement or rename changes it, so an equal stat means
        # unchanged bytes even when a replacement kept the size and the mtime and got the old inode back
        return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]

    def search(self, aoi: Any = None, interval: Any = None, **kw: Any) -> Any:
        from ingest.sources.base import as_geometry, as_interval
        from ingest.sources.local import record_for

        geom, iv = as_geometry(aoi), as_interval(interval)
        for p in self.src.candidates():
            key = str(Path(p).resolve())
            stat = self._stat(Path(p))
            cached = self.files.get(key)
            if cached and cached[:4] == stat and cached[4] in self.seen:
                continue  # unchanged since it was hashed, and its content is known: not even hashed again
            rec = record_for(Path(p), self.src.band_roles, getattr(self.src, "categorical", None))
            sha = rec.checksum.value if rec.checksum else None
            self.files[key] = stat + [sha]
            if sha in self._listed:
                log.info("watch: %s has the same content as another file of this cycle: not ingested twice", p)
                self.skipped.append(str(p))
                continue
            if sha in self.seen:
                was = self.seen[sha]
                log.info("watch: %s has the content of %s (%s), already ingested: renamed, moved or touched, not ingested again",
                         p, was.get("path"), was.get("id"))
                self.skipped.append(str(p))
                continue
            if geom is not None and not rec.footprint.intersects(geom):
                continue
            if iv is not None and ((iv.start and rec.datetime < iv.start) or (iv.end and rec.datetime > iv.end)):
                continue
            if sha:
                self._listed.add(sha)
            yield rec

    def fetch(self, record: Any, dest_dir: Path, progress: Any = None) -> Any:
        return self.src.fetch(record, dest_dir, progress=progress)


def _run_local(job: WatchJob, src: Any, jstate: dict[str, Any], catalog: Any, data_dir: Path, area: Any) -> IngestReport:
    """One cycle of a local job by file identity (module docstring); updates ``jstate`` in place."""
    seen: dict[str, Any] = dict(jstate.get("seen") or {})
    files: dict[str, list[Any]] = dict(jstate.get("files") or {})
    wrapped = _UnseenLocalFiles(src, seen, files)
    interval = (job.start, None) if job.start else None
    report = run_ingest(wrapped, area, interval, catalog=catalog, data_dir=data_dir, download=job.download,
                        clip=area if job.aoi else None)
    failed = {rid for rid, _ in report.failed}
    for rec in report.records:
        if rec.id not in failed and rec.checksum is not None and (not job.download or rec.id in report.ingested or rec.id in report.current):
            seen[rec.checksum.value] = {"path": str(Path(rec.remote_id or "")), "id": rec.id}
    jstate["seen"], jstate["files"] = seen, {k: v for k, v in files.items() if Path(k).exists()}
    return report


def run_cycle(
    config: WatchConfig,
    *,
    catalog: Any,
    data_dir: Path,
    state_path: Path,
    now: dt.datetime | None = None,
    settings: Any = None,
    source_factory: Callable[[WatchJob, Any], Source] = make_source,
) -> dict[str, IngestReport | Exception]:
    """One pass over the jobs. A failing job is logged and keeps its last_search; the others go on."""
    from base.errors import HpgeoError

    now = now or dt.datetime.now(UTC)
    state = load_state(state_path)
    results: dict[str, IngestReport | Exception] = {}
    for job in config.jobs:
        last = state.get(job.name, {}).get("last_search")
        if last:
            start = dt.datetime.fromisoformat(last) - dt.timedelta(hours=config.overlap_hours)
        else:
            start = job.start or now - dt.timedelta(days=job.lookback_days)
        area = catalog.aoi(job.aoi) if job.aoi else job.bbox
        jstate = dict(state.get(job.name) or {})
        try:
            with source_factory(job, settings) as src:
                if job.source == "local" and hasattr(src, "candidates"):
                    report = _run_local(job, src, jstate, catalog, data_dir, area)
                else:
                    report = run_ingest(src, area, (start, now), catalog=catalog, data_dir=data_dir, download=job.download, clip=area if job.aoi else None, **_filters(job))
        except HpgeoError as exc:
            log.error("watch %s: %s", job.name, exc)
            results[job.name] = exc
            continue
        results[job.name] = report
        log.info(
            "watch %s: %s → %s: %d record(s), %d ingested, %d current, %d failed",
            job.name, start.isoformat(), now.isoformat(), len(report.records), len(report.ingested), len(report.current), len(report.failed),
        )
        if job.source == "local" and "seen" in jstate:
            # identity state is kept even when some file failed (the failed ones are not in it: tried again)
            jstate.update({"last_search": now.isoformat() if report.ok else jstate.get("last_search"),
                           "records": len(report.records), "ingested": len(report.ingested)})
            state[job.name] = {k: v for k, v in jstate.items() if v is not None}
            save_state(state_path, state)
        elif report.ok:
            state[job.name] = {"last_search": now.isoformat(), "records": len(report.records), "ingested": len(report.ingested)}
            save_state(state_path, state)
    return results


def watch_forever(config: WatchConfig, *, every: float, sleep: Callable[[float], Any] = time.sleep, **kw: Any) -> None:
    """Run cycles until interrupted, ``every`` seconds apart (measured start to start)."""
    cycle = 0
    while True:
        cycle += 1
        t0 = time.monotonic()
        log.info("watch: cycle %d", cycle)
        run_cycle(config, **kw)
        sleep(max(0.0, every - (time.monotonic() - t0)))

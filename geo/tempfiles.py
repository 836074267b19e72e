"""Temporary files of atomic writes, and the one cleanup that knows every temporary left by a killed writer.

Every writer of a final file ``<folder>/<name>`` works on a temporary in the same folder (so the final
rename is atomic) named ``.<name>.<tag>.<pid>-<rand>.hpgeo-tmp`` — a file, or a directory holding the
intermediates of a multi-step write (:func:`temp_dir`; rio-cogeo's own ``tmp*.tif`` goes inside it, because
it puts that file beside the destination it is given). The final name appears only complete
(:func:`atomic_path`, :func:`write_text_atomic`).

:func:`clean_data_dir` walks the whole data directory (``raw/`` included) and removes:

- ours: names containing ``.hpgeo-tmp`` (files and directories; older ``.<name>.<hex>.hpgeo-tmp<suffix>``
  forms and registry reports' ``.<name>.<pid>.hpgeo-tmp`` included);
- rio-cogeo's ``tmp<8 chars>.tif`` (``tempfile.NamedTemporaryFile(dir=<dst folder>, suffix=".tif")``) of
  older versions of :mod:`geo.cog`;
- ``tempfile.mkdtemp/mkstemp(prefix=".<name>.", dir=<folder>)`` siblings (archive extraction, rectify,
  watch state): hidden ``.<name>.<8 chars>``;
- ``*.tmp`` files (older simulator markers and ``scene.json``).

Not touched: SQLite's ``-journal``/``-wal``/``-shm`` (the catalog needs them to recover) and resumable
downloads (``.partial/*.part``).

Concurrency: every writing ``hpgeo`` process holds a shared lock on ``<data dir>/.hpgeo-writers.lock``
for its lifetime (:func:`hold_writer_lock`). The cleanup removes everything above only when it can take
that lock exclusively (no other writer alive; a killed process loses its lock); otherwise it removes only
our temporaries whose writer pid is gone, so a live writer's files are never pulled from under it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Iterator

__all__ = [
    "TMP_MARK", "LOCK_NAME", "temp_path", "temp_dir", "atomic_path", "write_text_atomic", "is_temporary",
    "publish", "clean_folder", "clean_data_dir", "hold_writer_lock",
]

log = logging.getLogger(__name__)

TMP_MARK = ".hpgeo-tmp"
LOCK_NAME = ".hpgeo-writers.lock"
_PID = re.compile(r"\.(\d+)(?:-[0-9a-f]{8})?\.hpgeo-tmp")
_RIO_COGEO = re.compile(r"tmp[a-z0-9_]{8}\.tif")
_MKTEMP = re.compile(r"\..+\.[a-z0-9_]{8}")
_KEEP_SUFFIXES = ("-journal", "-wal", "-shm", ".part")
_held: dict[Path, int] = {}


def temp_path(dst: str | os.PathLike[str], tag: str = "tmp") -> Path:
    """A fresh temporary name beside ``dst``: ``.<name>.<tag>.<pid>-<rand>.hpgeo-tmp``."""
    dst = Path(dst)
    return dst.with_name(f".{dst.name}.{tag}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TMP_MARK}")


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


@contextlib.contextmanager
def temp_dir(dst: str | os.PathLike[str], tag: str = "work") -> Iterator[Path]:
    """A temporary directory beside ``dst`` for intermediates of its write; removed on exit."""
    d = temp_path(dst, tag)
    d.parent.mkdir(parents=True, exist_ok=True)
    d.mkdir()
    try:
        yield d
    finally:
        _remove(d)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(tmp: Path, dst: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``dst`` (atomic on one file system)."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)
    _fsync_dir(dst.parent)


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str], tag: str = "tmp", suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``dst``; on failure it is removed.

    ``suffix`` is appended for writers that pick a format from the extension (``.geojson``, ``.gpkg``)."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    t = temp_path(dst, tag)
    tmp = t.with_name(t.name + suffix)
    try:
        yield tmp
        publish(tmp, dst)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_temporary(name: str, is_dir: bool = False) -> str | None:
    """Which kind of temporary ``name`` is: ``"ours"``, ``"library"`` (rio-cogeo, tempfile, ``*.tmp``) or None."""
    if TMP_MARK in name:
        return "ours"
    if name.endswith(_KEEP_SUFFIXES) or name == LOCK_NAME:
        return None
    if _RIO_COGEO.fullmatch(name) or _MKTEMP.fullmatch(name) or (not is_dir and name.endswith(".tmp")):
        return "library"
    return None


def _stale(name: str, kind: str, exclusive: bool) -> bool:
    if exclusive:
        return True
    if kind != "ours":
        return False  # may be a live writer's: only removed when no writer holds the lock
    m = _PID.search(name)
    return bool(m) and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1)))


def clean_folder(folder: str | os.PathLike[str], *, recursive: bool = False, exclusive: bool = False) -> list[Path]:
    """Remove the stale temporaries in ``folder`` (and below if ``recursive``); return them.

    ``exclusive``: the caller knows no other writer is alive (see :func:`clean_data_dir`), so every
    temporary pattern is stale; otherwise only our temporaries whose writer process is gone."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for root, dirs, files in os.walk(folder):
        for names, is_dir in ((list(dirs), True), (files, False)):
            for name in names:
                kind = is_temporary(name, is_dir)
                if kind and _stale(name, kind, exclusive):
                    p = Path(root) / name
                    _remove(p)
                    removed.append(p)
                    if is_dir:
                        dirs.remove(name)
        if not recursive:
            break
    return removed


def _lock_fd(data_dir: Path) -> int:
    data_dir = Path(data_dir).resolve()
    if data_dir not in _held:
        data_dir.mkdir(parents=True, exist_ok=True)
        _held[data_dir] = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    return _held[data_dir]


def hold_writer_lock(data_dir: str | os.PathLike[str]) -> None:
    """Hold a shared writer lock on ``data_dir`` until the process exits (idempotent)."""
    fcntl.flock(_lock_fd(Path(data_dir)), fcntl.LOCK_SH)


def clean_data_dir(data_dir: str | os.PathLike[str], *, hold: bool = True) -> list[Path]:
    """Remove every stale temporary under ``data_dir`` (see the module docstring) and, with ``hold``,
    keep a shared writer lock for the rest of the process. Returns the removed paths."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    fd = _lock_fd(data_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        exclusive = True
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
        exclusive = False
    try:
        removed = clean_folder(data_dir, recursive=True, exclusive=exclusive)
    finally:
        if hold:
            fcntl.flock(fd, fcntl.LOCK_SH)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
    if removed:
        log.warning("removed %d temporary file(s) left by interrupted writers under %s", len(removed), data_dir)
    return removed

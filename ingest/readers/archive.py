"""``.zip`` / ``.tar`` (``.tar.gz``, ``.tgz``) archives of products: list, read one member, GDAL paths of members,
and safe extraction (through a temporary folder renamed into place, refusing members that would escape it)."""

from __future__ import annotations

import functools
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

from ingest.sources.errors import UnsupportedFile

__all__ = ["ARCHIVE_SUFFIXES", "is_archive", "members", "read_member", "parse_member", "vsi_path", "member_by_basename", "extract"]

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def is_archive(p: Path) -> bool:
    return p.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_zip(p: Path) -> bool:
    return p.name.lower().endswith(".zip")


def members(p: Path) -> list[str]:
    """Member names of an archive (listed once per file version: a .tar.gz is read through to list it)."""
    st = p.stat()
    return list(_members(str(p.resolve()), st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=64)
def _members(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    try:
        if _is_zip(Path(path)):
            with zipfile.ZipFile(path) as z:
                return tuple(z.namelist())
        with tarfile.open(path) as t:
            return tuple(t.getnames())
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise UnsupportedFile(f"{Path(path).name} is not a readable archive: {exc}") from None


def read_member(p: Path, name: str) -> bytes:
    if _is_zip(p):
        with zipfile.ZipFile(p) as z:
            return z.read(name)
    with tarfile.open(p) as t:
        f = t.extractfile(name)
        if f is None:
            raise UnsupportedFile(f"{p.name}: {name} is not a regular file")
        return f.read()


def parse_member(p: Path, member: str, parse: Callable[[Path], Any]) -> Any:
    """``parse(path)`` of an archive member, written to a temporary file of the same name."""
    with tempfile.TemporaryDirectory(prefix="hpgeo-meta-") as tmp:
        f = Path(tmp) / member.rstrip("/").rsplit("/", 1)[-1]
        f.write_bytes(read_member(p, member))
        return parse(f)


def vsi_path(p: Path, member: str) -> str:
    """The GDAL virtual path of an archive member (read in place, not extracted)."""
    prefix = "/vsizip/" if _is_zip(p) else "/vsitar/"
    return f"{prefix}{p}/{member}"


def member_by_basename(names: Sequence[str], basenames: Sequence[str], max_depth: int = 2) -> str | None:
    """The shallowest archive member named one of ``basenames`` (in their order of preference)."""
    for base in basenames:
        hits = [n for n in names if n.rstrip("/").rsplit("/", 1)[-1] == base and n.count("/") < max_depth]
        if hits:
            return min(hits, key=lambda n: n.count("/"))
    return None


def extract(archive: Path, root: Path) -> None:
    """Extract into a temporary sibling, then rename: ``root`` exists only complete."""
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        base = tmp.resolve()
        for name in members(archive):
            if not (base / name).resolve().is_relative_to(base):
                raise UnsupportedFile(f"{archive.name}: member {name!r} would be written outside the target folder")
        if _is_zip(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

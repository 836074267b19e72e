"""``.zip`` / ``.tar`` (``.tar.gz``, ``.tgz``) archives of products: list, read one member, GDAL paths of members,
and safe extraction (through a temporary folder renamed into place, refusing members that would escape it)."""

from __future__ import annotations

import functools
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

from base.paths import confine
from ingest.sources.errors import UnsupportedFile

__all__ = ["ARCHIVE_SUFFIXES", "is_archive", "members", "read_member", "parse_member", "vsi_path", "member_by_basename", "extract", "check_members",
           "MAX_MEMBERS", "MAX_TOTAL_BYTES", "BOMB_BYTES", "BOMB_RATIO"]

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def is_archive(p: Path) -> bool:
    return p.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_zip(p: Path) -> bool:
    return p.name.lower().endswith(".zip")


MAX_MEMBERS = 20_000  # a Sentinel-1/2 SAFE has a few hundred files, a Landsat tar about twenty
MAX_TOTAL_BYTES = 64 << 30  # declared uncompressed size of all members
BOMB_BYTES = 1 << 30  # above this, the uncompressed total may be at most BOMB_RATIO × the archive's size
BOMB_RATIO = 20
MAX_MEMBER_READ = 64 << 20  # a metadata member read into memory (manifest, MTD, MTL)


def members(p: Path) -> list[str]:
    """Member names of an archive (listed once per file version: a .tar.gz is read through to list it), after
    :func:`check_members`: an archive with a member that could escape, a link, a duplicate or bomb-like sizes is
    refused (:class:`UnsupportedFile`) before anything is read from it."""
    st = p.stat()
    return list(_members(str(p.resolve()), st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=64)
def _members(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    name = Path(path).name
    try:
        if _is_zip(Path(path)):
            with zipfile.ZipFile(path) as z:
                entries = [(i.filename, _zip_kind(i), i.file_size) for i in z.infolist()]
        else:
            with tarfile.open(path) as t:
                entries = [(m.name, _tar_kind(m), m.size) for m in t.getmembers()]
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise UnsupportedFile(f"{name} is not a readable archive: {exc}") from None
    check_members(name, entries, size)
    return tuple(n for n, *_ in entries)


def _zip_kind(i: zipfile.ZipInfo) -> str:
    mode = i.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symlink"
    return "dir" if i.is_dir() else "file"


def _tar_kind(m: tarfile.TarInfo) -> str:
    if m.issym():
        return "symlink"
    if m.islnk():
        return "hard link"
    if m.isdir():
        return "dir"
    return "file" if m.isreg() else "special file"


def check_members(archive_name: str, entries: Sequence[tuple[str, str, int]], archive_size: int) -> None:
    """Refuse an archive whose members (name, kind, declared size) are not plain files and folders with relative
    names that stay inside the extraction folder, each named once, within the member-count and size limits."""
    if len(entries) > MAX_MEMBERS:
        raise UnsupportedFile(f"{archive_name}: {len(entries):,} members, over the limit of {MAX_MEMBERS:,}")
    seen: set[str] = set()
    total = 0
    for name, kind, size in entries:
        shown = name[:120]
        if kind not in ("file", "dir"):
            raise UnsupportedFile(f"{archive_name}: member {shown!r} is a {kind}; only files and folders are extracted")
        parts = name.replace("\\", "/").split("/")
        if (not name or "\x00" in name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":")
                or any(part in ("..",) for part in parts) or any(ord(c) < 32 for c in name)):
            raise UnsupportedFile(f"{archive_name}: member {shown!r} would be written outside the target folder")
        key = "/".join(part for part in parts if part not in ("", ".")).lower()
        if not key and kind == "dir":  # "./" of a tar made with `tar -C folder .`
            continue
        if not key:
            raise UnsupportedFile(f"{archive_name}: member {shown!r} has no name")
        if kind == "file" and key in seen:
            raise UnsupportedFile(f"{archive_name}: member {shown!r} appears twice")
        seen.add(key)
        total += max(0, int(size))
    if total > MAX_TOTAL_BYTES or (total > BOMB_BYTES and total > BOMB_RATIO * max(1, archive_size)):
        raise UnsupportedFile(f"{archive_name}: members declare {total:,} bytes uncompressed from {archive_size:,} bytes "
                              f"(limits: {MAX_TOTAL_BYTES:,} bytes, and {BOMB_RATIO}× the archive above {BOMB_BYTES:,})")


def read_member(p: Path, name: str, max_bytes: int = MAX_MEMBER_READ) -> bytes:
    """The bytes of one member (of an archive :func:`members` accepted), at most ``max_bytes``."""
    if name not in members(p):
        raise UnsupportedFile(f"{p.name}: no member {name[:120]!r}")
    if _is_zip(p):
        with zipfile.ZipFile(p) as z:
            if z.getinfo(name).file_size > max_bytes:
                raise UnsupportedFile(f"{p.name}: member {name} is over {max_bytes:,} bytes")
            with z.open(name) as f:
                return f.read(max_bytes + 1)[:max_bytes]
    with tarfile.open(p) as t:
        f = t.extractfile(name)
        if f is None:
            raise UnsupportedFile(f"{p.name}: {name} is not a regular file")
        if t.getmember(name).size > max_bytes:
            raise UnsupportedFile(f"{p.name}: member {name} is over {max_bytes:,} bytes")
        return f.read(max_bytes)


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
    """Extract into a temporary sibling, then rename: ``root`` exists only complete.

    The members are checked first (:func:`members`); each is then written by hpgeo itself, as a regular file or a
    folder at a path confined to the temporary folder (no links, no permissions or owners from the archive)."""
    names = members(archive)  # refuses escaping names, links, duplicates and bombs before anything is written
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        base = tmp.resolve()
        if _is_zip(archive):
            with zipfile.ZipFile(archive) as z:
                for info in z.infolist():
                    _write_member(base, info.filename, info.is_dir(), lambda i=info: z.open(i))
        else:
            with tarfile.open(archive) as t:
                for m in t.getmembers():
                    _write_member(base, m.name, m.isdir(), lambda m=m: t.extractfile(m))
        if not names:
            raise UnsupportedFile(f"{archive.name} is empty")
        tmp.rename(root)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UnsupportedFile(f"{archive.name} cannot be extracted: {exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_member(base: Path, name: str, is_dir: bool, opener: Callable[[], Any]) -> None:
    dest = confine(name.rstrip("/") or ".", base)
    if is_dir:
        dest.mkdir(parents=True, exist_ok=True)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = opener()
    if src is None:
        raise UnsupportedFile(f"member {name[:120]!r} is not a regular file")
    with src, open(dest, "xb") as out:  # "x": a member never overwrites another (or a link)
        shutil.copyfileobj(src, out, 1 << 20)

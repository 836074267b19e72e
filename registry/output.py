"""What the report writers share: atomic file writes and the printing of indicator values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from registry.errors import InvalidRegistryInput

__all__ = ["atomic_write", "fmt_num"]


def atomic_write(path: Path, write: Any) -> Path:
    """Call ``write(tmp)`` on a temporary name beside ``path``, then rename it to ``path`` (a reader never sees
    half a file; a failed write leaves nothing behind)."""
    path = Path(path)
    if not path.parent.exists():
        raise InvalidRegistryInput(f"output folder does not exist: {path.parent}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.hpgeo-tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def fmt_num(v: float | None) -> str:
    """An indicator value as the reports print it: integers without decimals, ``—`` for none."""
    if v is None:
        return "—"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"

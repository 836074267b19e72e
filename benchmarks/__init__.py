"""Benchmarks (``python -m benchmarks``): speed and memory of products on full-size inputs.

Results go to ``docs/benchmarks.md``; tests never assert timings.
"""

from __future__ import annotations

import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(title: str, body: str, command: str, path: Path = DOC) -> None:
    """Replace (or append) the section ``## title`` of docs/benchmarks.md, atomically.

    The section runs to the next ``## `` heading, so notes kept under their own ``## `` heading survive.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nMeasured with `make bench`; each section says how.\n"
    section = f"## {title}\n\n_measured {time.strftime('%Y-%m-%d')} with `{command}`_\n\n{body.strip()}\n"
    head, sep, rest = text.partition(f"## {title}\n")
    if sep:
        nxt = rest.find("\n## ")
        text = head + section + (rest[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)

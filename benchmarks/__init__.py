"""Benchmarks (``python -m benchmarks``): speed and memory of products on full-size inputs.

Results go to ``docs/benchmarks.md``; tests never assert timings.
"""

from __future__ import annotations

import os
import platform
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


def machine_line() -> str:
    """CPU model, nproc, memory and the load average now (for the figures' context)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        mem_s = f", {mem / 1024 ** 2:.1f} GiB RAM"
    except (OSError, StopIteration):
        mem_s = ""
    la = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, nproc {os.cpu_count()}{mem_s}, load average {la} (1 / 5 / 15 min)"

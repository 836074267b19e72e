"""``python -m benchmarks [memory|tiles] [options]``: run one benchmark (default: memory) and record it in docs/benchmarks.md.

``memory [--size N] [--product NAME]`` is :mod:`benchmarks.memory`; ``tiles …`` passes its options to :mod:`benchmarks.tiles`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from benchmarks import memory

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
MARK = "<!-- memory-benchmark -->"


def _record(res: dict) -> None:
    """Replace the memory section of docs/benchmarks.md (written atomically)."""
    section = (
        f"{MARK}\n## Peak memory of a product on a 10980 × 10980 two-band input\n\n"
        f"`python -m benchmarks memory` (benchmarks/memory.py): a synthetic Sentinel-1 VV+VH pair (float32 dB COGs, "
        f"{res['size']} × {res['size']} px at 10 m) in a temporary catalog, `{res['product']}` built through "
        f"`products.build.build_product` in a fresh process (2 dask threads, GDAL_CACHEMAX={memory.GDAL_CACHEMAX_MB} MB); "
        f"peak RSS from `getrusage(RUSAGE_SELF).ru_maxrss`. "
        f"Limit: 2 GB.\n\n"
        f"| date | machine | product | input | peak RSS | wall time (build) |\n|---|---|---|---|---|---|\n"
        f"| {dt.date.today()} | {memory.machine()} | {res['product']} | 2 × {res['size']}² float32 | "
        f"**{res['peak_rss_mib']:.0f} MiB** | {res['wall_s']:.0f} s |\n\n"
        f"Class areas of that run: `{json.dumps(res['statistics'], ensure_ascii=False)}`\n{MARK}\n"
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\nMeasured, never asserted in tests.\n\n"
    if text.count(MARK) >= 2:
        a, rest = text.split(MARK, 1)
        _, b = rest.split(MARK, 1)
        text = a + section.rstrip("\n") + b
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(DOC)


def main() -> None:
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "tiles":
        from benchmarks import tiles

        sys.exit(tiles.main(sys.argv[2:]))
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("name", nargs="?", default="memory", choices=["memory"])
    ap.add_argument("--size", type=int, default=memory.SIZE)
    ap.add_argument("--product", default="flood-sar")
    ap.add_argument("--no-record", action="store_true", help="Print only; do not update docs/benchmarks.md.")
    a = ap.parse_args()
    res = memory.run(a.product, size=a.size)
    print(json.dumps(res, ensure_ascii=False))
    if not a.no_record and a.size == memory.SIZE:
        _record(res)


if __name__ == "__main__":
    main()

"""``python -m benchmarks [memory|tiles|crash|load|latency] [options]``: run one benchmark (default: memory) and record it
in docs/benchmarks.md (memory, tiles, latency) or docs/reliability.md (crash, load).

``memory [--size N] [--product NAME ...] [--data-dir D]`` is :mod:`benchmarks.memory` (all products by default); ``tiles …``,
``crash …``, ``load …`` and ``latency …`` pass their options to :mod:`benchmarks.tiles`, :mod:`benchmarks.crash`,
:mod:`benchmarks.load` and :mod:`benchmarks.latency`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks import memory, write_section

MEMORY_TITLE = "Peak memory of products on 10980 × 10980 inputs"

# command → module under benchmarks/ with ``main(argv) -> int`` (each records its own section)
COMMANDS = {
    "tiles": "tiles",
    "crash": "crash",
    "latency": "latency",
    "load": "load",
}


def _record(results: list[dict]) -> None:
    """Replace the memory section of docs/benchmarks.md."""
    rows = "".join(
        f"| {r['product']} | {r['inputs']} | **{r['peak_rss_mib']:.0f} MiB** | {r['wall_s']:.0f} s |\n" for r in results
    )
    body = (
        f"Machine: {memory.machine()}.\n\n"
        f"benchmarks/memory.py writes synthetic full-tile scenes (Sentinel-1 VV+VH σ0 dB float32 at 10 m; Sentinel-2 L2A "
        f"reflectance float32, B02 B03 B04 B08 at 10 m, B8A B11 B12 and SCL at 20 m as in the real product) into a temporary "
        f"catalog, then builds each product through `products.build.build_product` in a fresh process (2 dask threads, "
        f"GDAL_CACHEMAX={memory.GDAL_CACHEMAX_MB} MB); peak RSS from `getrusage(RUSAGE_SELF).ru_maxrss`, wall time of the "
        f"build (read, compute, COG write with overviews, class areas, catalog item). Limit: 2 GB (2048 MiB).\n\n"
        f"| product | inputs | peak RSS | wall time |\n|---|---|---:|---:|\n{rows}\n"
        f"Class areas per product (hectares) are in each run's JSON output.\n"
    )
    write_section(MEMORY_TITLE, body, "python -m benchmarks memory")


def main() -> None:
    import sys
    import tempfile

    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        import importlib

        module = importlib.import_module(f"benchmarks.{COMMANDS[sys.argv[1]]}")
        sys.exit(module.main(sys.argv[2:]))
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description="Peak memory and wall time of product builds on full-tile synthetic inputs.")
    ap.add_argument("name", nargs="?", default="memory", choices=["memory"])
    ap.add_argument("--size", type=int, default=memory.SIZE, help="Side of the input scenes in 10 m pixels (default: a Sentinel-2 tile, 10980).")
    ap.add_argument("--product", action="append", choices=sorted(memory.PRODUCT_INPUTS), help="Product to build (repeatable; default: all).")
    ap.add_argument("--data-dir", type=Path, help="Keep and reuse the synthetic inputs here (default: a temporary directory).")
    ap.add_argument("--no-record", action="store_true", help="Print only; do not update docs/benchmarks.md.")
    a = ap.parse_args()
    products = a.product or list(memory.PRODUCT_INPUTS)
    data_dir = a.data_dir or Path(tempfile.mkdtemp(prefix="hpgeo-bench-"))
    results = []
    try:
        for name in products:
            res = memory.run(name, size=a.size, data_dir=data_dir)
            print(json.dumps(res, ensure_ascii=False), flush=True)
            results.append(res)
    finally:
        if a.data_dir is None:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
    if not a.no_record and a.size == memory.SIZE and len(results) == len(memory.PRODUCT_INPUTS):
        _record(results)


if __name__ == "__main__":
    main()

"""Peak memory of a product built on a full Sentinel-2-tile-sized (10980 × 10980) two-band input.

The parent writes a synthetic Sentinel-1 pair of bands (VV, VH σ0 in dB, float32, 10 m, UTM 48N, tiled
COGs written window by window) and its catalog item into a temporary data directory, then builds the
product through :func:`products.build.build_product` and the real catalog in a *fresh* subprocess, which
reports ``getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set size) and the wall time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 10980
BLOCK = 1024
# GDAL's block cache defaults to 5 % of RAM (1.2 GB on a 24 GB host) and counts towards the process's RSS;
# deployments cap it the same way (GDAL_CACHEMAX, in MB).
GDAL_CACHEMAX_MB = os.environ.get("GDAL_CACHEMAX", "256")


def write_input(data_dir: Path, size: int = SIZE, seed: int = 0) -> tuple[str, str]:
    """Synthetic S1 VV/VH (dB) COGs + item: land (−8 / −15 dB) with a water band (−21 / −28 dB), speckled."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from geo.crs import PROCESSING_CRS, WGS84
    from geo.grid import Grid
    from ingest.catalog import Catalog
    from ingest.items import INPUT_COLLECTIONS, RasterAsset, raster_item
    from ingest.scene import BandInfo

    item_id = f"BENCH-S1-{size}"
    rel = Path("ard") / "sentinel-1-grd" / item_id
    (data_dir / rel).mkdir(parents=True, exist_ok=True)
    transform = from_origin(600000.0, 2400000.0, 10.0, 10.0)
    rng = np.random.default_rng(seed)
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="float32", crs=PROCESSING_CRS, transform=transform,
                   nodata=float("nan"), tiled=True, blockxsize=512, blockysize=512, compress="deflate", BIGTIFF="IF_SAFER")
    means = {"vv": (-8.0, -21.0), "vh": (-15.0, -28.0)}
    for pol, (land, water) in means.items():
        tmp = data_dir / rel / f"{pol}.tmp.tif"
        with rasterio.open(tmp, "w", **profile) as ds:
            for r0 in range(0, size, BLOCK):
                h = min(BLOCK, size - r0)
                cols = np.arange(size)
                is_water = (cols[None, :] > size * 0.6) | ((np.arange(r0, r0 + h)[:, None] // 700) % 5 == 0)
                mean_lin = 10 ** (np.where(is_water, water, land) / 10)
                speckle = rng.gamma(4.4, 1 / 4.4, (h, size))
                ds.write((10 * np.log10(mean_lin * speckle)).astype(np.float32), 1, window=Window(0, r0, size, h))
        from rio_cogeo.cogeo import cog_translate
        from rio_cogeo.profiles import cog_profiles

        cog_translate(str(tmp), str(data_dir / rel / f"{pol}.tif"), cog_profiles.get("deflate"), quiet=True, in_memory=False)
        tmp.unlink()
    grid = Grid((size, size), transform, PROCESSING_CRS.to_wkt())
    assets = {
        pol: RasterAsset(href=(rel / f"{pol}.tif").as_posix(), grid=grid, band=BandInfo(pol, f"σ0 {pol.upper()} (dB)", unit="dB", nodata=float("nan")), dtype="float32")
        for pol in means
    }
    cat = Catalog.open(f"sqlite:///{data_dir / 'catalog.db'}")
    cat.put_collection(INPUT_COLLECTIONS["sentinel-1-grd"], kind="input")
    cat.put_items([raster_item(item_id=item_id, collection_id="sentinel-1-grd", datetime=dt.datetime(2025, 9, 15, tzinfo=dt.timezone.utc),
                               footprint=grid.footprint(WGS84), assets=assets, properties={"title": "benchmark input (synthetic)"}, simulated=True)])
    cat.close()
    return "sentinel-1-grd", item_id


def _child(data_dir: str, product: str, role: str, collection: str, item_id: str) -> None:
    """Run in a fresh interpreter: build and print peak RSS."""
    import dask

    from ingest.catalog import Catalog
    from products.build import build_product

    cat = Catalog.open(f"sqlite:///{Path(data_dir) / 'catalog.db'}")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        item = build_product(product, {role: (collection, item_id)}, {}, catalog=cat, data_dir=Path(data_dir), force=True)
    wall = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": round(peak_kib / 1024, 1), "wall_s": round(wall, 1), "item": item["id"] if item else None,
                      "statistics": item["properties"]["hpgeo:statistics"] if item else None}))


def run(product: str = "flood-sar", role: str = "post", size: int = SIZE, keep: Path | None = None) -> dict[str, Any]:
    data_dir = Path(keep or tempfile.mkdtemp(prefix="hpgeo-bench-"))
    t0 = time.perf_counter()
    collection, item_id = write_input(data_dir, size)
    prep = time.perf_counter() - t0
    code = f"from benchmarks.memory import _child; _child({str(data_dir)!r}, {product!r}, {role!r}, {collection!r}, {item_id!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env={**os.environ, "HPGEO_LOG_LEVEL": "WARNING", "GDAL_CACHEMAX": GDAL_CACHEMAX_MB})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update({"product": product, "size": size, "input_bands": 2, "input_write_s": round(prep, 1), "data_dir": str(data_dir)})
    if keep is None:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return res


def machine() -> str:
    ncpu = os.cpu_count()
    mem = ""
    try:
        mem = f", {int(open('/proc/meminfo').read().split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return f"{platform.machine()} {platform.system()} {platform.release()}, {ncpu} CPU(s){mem}, Python {platform.python_version()}"

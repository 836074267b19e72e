"""Peak memory of products built on full Sentinel-2-tile-sized (10980 × 10980) inputs.

The parent writes synthetic scenes into a data directory (Sentinel-1 VV+VH σ0 in dB, float32, 10 m;
Sentinel-2 L2A reflectance, float32, B02 B03 B04 B08 at 10 m and B8A B11 B12 SCL at 20 m, as the real
product; UTM 48N; tiled COGs written window by window) with their catalog items, then builds each product
through :func:`products.build.build_product` and the real catalog in a *fresh* subprocess, which reports
``getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set size) and the wall time.
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


S2_10M = ("B02", "B03", "B04", "B08")
S2_20M = ("B8A", "B11", "B12")
# surface reflectance per class: B02 B03 B04 B08 B8A B11 B12 (typical spectra; SCL code)
S2_SPECTRA = {
    "water": ((0.05, 0.06, 0.04, 0.02, 0.02, 0.01, 0.005), 6),
    "vegetation": ((0.03, 0.06, 0.04, 0.35, 0.36, 0.18, 0.08), 4),
    "bare": ((0.10, 0.13, 0.16, 0.22, 0.23, 0.28, 0.22), 5),
    "burnt": ((0.04, 0.05, 0.06, 0.10, 0.11, 0.22, 0.20), 5),
}
# the inputs of each product in the benchmark: role → synthetic scene
PRODUCT_INPUTS: dict[str, dict[str, str]] = {
    "flood-sar": {"post": "s1-post", "pre": "s1-pre"},
    "flood-ensemble": {"post": "s1-post", "pre": "s1-pre", "optical": "s2-post"},
    "oil-candidates": {"scene": "s1-post"},
    "water-optical": {"scene": "s2-post"},
    "turbidity": {"scene": "s2-post"},
    "burn-severity": {"post": "s2-post", "pre": "s2-pre"},
    "mangrove": {"scene": "s2-post", "before": "s2-pre"},
    "landcover": {"scene": "s2-post"},
    "shoreline": {"t00": "s2-pre", "t01": "s2-mid", "t02": "s2-post"},  # a series: the members of input "scenes"
}
SCENES = {"s1-post": ("sentinel-1-grd", 0), "s1-pre": ("sentinel-1-grd", 1), "s2-post": ("sentinel-2-l2a", 2), "s2-pre": ("sentinel-2-l2a", 3),
          "s2-mid": ("sentinel-2-l2a", 4)}


def _rows(size: int, r0: int, h: int, seed: int) -> np.ndarray:
    """Class codes of rows r0..r0+h: 0 water (sea east of 60 % of the width, stripes), 1 vegetation, 2 bare, 3 burnt,
    4 dark streak on the sea. Post scenes (even seeds) have wider water stripes (flood) and a burnt square; the
    Sentinel-1 post scene (seed 0) has thin elongated dark streaks on the sea."""
    cols = np.arange(size)[None, :]
    rows = np.arange(r0, r0 + h)[:, None]
    period = max(size // 16, 1)
    stripe = (rows // period) % 5 == 0 if seed % 2 else (rows // period) % 5 <= 1
    cls = np.where((cols // period) % 3 == 0, 2, 1)  # 1 vegetation, 2 bare
    if seed % 2 == 0:
        cls = np.where((abs(rows - size * 0.3) < size * 0.08) & (abs(cols - size * 0.3) < size * 0.08), 3, cls)  # burnt
    coast = 0.6 - 0.003 * {3: 2, 4: 1}.get(seed, 0)  # the Sentinel-2 coast moves east from pre to mid to post
    cls = np.where((cols > size * coast) | stripe, 0, cls)  # 0 water
    if seed == 0:  # thin elongated dark streaks on the sea (oil-slick-like)
        cls = np.where((cols > size * 0.7) & (cols < size * 0.9) & (rows % max(size // 6, 1) < max(size // 500, 2)), 4, cls)
    return cls.astype(np.uint8)


def _write(path: Path, size: int, dtype: str, nodata: float | int, fill: Any, factor: int = 1) -> None:
    """Write a tiled GeoTIFF block row by block row with ``fill(r0, h)`` (rows on the 10 m grid), then make it a COG."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    from geo.crs import PROCESSING_CRS

    n = size // factor
    profile = dict(driver="GTiff", width=n, height=n, count=1, dtype=dtype, crs=PROCESSING_CRS, transform=from_origin(600000.0, 2400000.0, 10.0 * factor, 10.0 * factor),
                   nodata=nodata, tiled=True, blockxsize=512, blockysize=512, compress="deflate", BIGTIFF="IF_SAFER")
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as ds:
        for r0 in range(0, size, BLOCK):
            h = min(BLOCK, size - r0)
            a = fill(r0, h)
            if factor > 1:
                a = a[::factor, ::factor]
            ds.write(a.astype(dtype), 1, window=Window(0, r0 // factor, n, a.shape[0]))
    cog_translate(str(tmp), str(path), cog_profiles.get("deflate"), quiet=True, in_memory=False)
    tmp.unlink()


def write_scene(data_dir: Path, key: str, size: int = SIZE) -> tuple[str, str]:
    """One synthetic scene (Sentinel-1 σ0 dB VV+VH, or Sentinel-2 L2A reflectance with 20 m bands and SCL) + its item."""
    import rasterio

    from geo.crs import WGS84
    from geo.grid import Grid
    from ingest.catalog import Catalog
    from ingest.items import INPUT_COLLECTIONS, RasterAsset, raster_item
    from ingest.scene import BandInfo

    collection, seed = SCENES[key]
    item_id = f"BENCH-{key.upper()}-{size}"
    rel = Path("ard") / collection / item_id
    (data_dir / rel).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    assets: dict[str, RasterAsset] = {}
    bands: list[tuple[str, BandInfo, str, Any, int]] = []
    if collection == "sentinel-1-grd":
        for pol, means in {"vv": (-21.0, -8.0, -10.0, -13.0, -28.0), "vh": (-28.0, -15.0, -18.0, -20.0, -33.0)}.items():
            def fill(r0: int, h: int, means: tuple[float, ...] = means) -> np.ndarray:
                mean_lin = 10 ** (np.asarray(means)[_rows(size, r0, h, seed)] / 10)
                return 10 * np.log10(mean_lin * rng.gamma(4.4, 1 / 4.4, (h, size)))
            bands.append((pol, BandInfo(pol, f"σ0 {pol.upper()} (dB)", unit="dB", polarization=pol.upper(), nodata=float("nan")), "float32", fill, 1))
        when = dt.datetime(2025, 9, 15 if seed == 0 else 3, tzinfo=dt.timezone.utc)
    else:
        names = S2_10M + S2_20M
        table = np.array([S2_SPECTRA[c][0] for c in ("water", "vegetation", "bare", "burnt", "water")], np.float32)
        for b in names:
            k = names.index(b)
            def fill(r0: int, h: int, k: int = k) -> np.ndarray:
                return table[_rows(size, r0, h, seed), k] * rng.normal(1.0, 0.05, (h, size)).astype(np.float32)
            bands.append((b, BandInfo(b, f"{b} surface reflectance", unit="1", common_name=b, nodata=float("nan")), "float32", fill, 1 if b in S2_10M else 2))
        scl = np.array([S2_SPECTRA[c][1] for c in ("water", "vegetation", "bare", "burnt", "water")], np.uint8)
        bands.append(("SCL", BandInfo("SCL", "Scene classification (L2A)", nodata=0, categorical=True), "uint8", lambda r0, h: scl[_rows(size, r0, h, seed)], 2))
        when = dt.datetime(2025, 9, {2: 16, 3: 1, 4: 8}[seed], 3, 30, tzinfo=dt.timezone.utc)
    for name, info, dtype, fill, factor in bands:
        path = data_dir / rel / f"{name}.tif"
        _write(path, size, dtype, info.nodata, fill, factor)
        with rasterio.open(path) as ds:
            grid = Grid.from_dataset(ds)
        assets[name] = RasterAsset(href=(rel / f"{name}.tif").as_posix(), grid=grid, band=info, dtype=dtype)
    cat = Catalog.open(f"sqlite:///{data_dir / 'catalog.db'}")
    cat.put_collection(INPUT_COLLECTIONS[collection], kind="input")
    footprint = next(iter(assets.values())).grid.footprint(WGS84)
    cat.put_items([raster_item(item_id=item_id, collection_id=collection, datetime=when, footprint=footprint, assets=assets,
                               properties={"title": f"benchmark input {key} (synthetic)"}, simulated=True)])
    cat.close()
    return collection, item_id


def _child(data_dir: str, product: str, roles_json: str) -> None:
    """Run in a fresh interpreter: build and print peak RSS."""
    import dask

    from ingest.catalog import Catalog
    from products.build import build_product
    from products.registry import get

    roles: dict[str, Any] = {r: tuple(v) for r, v in json.loads(roles_json).items()}
    series = get(product).series_input()
    if series is not None:  # the t00, t01, … members of a series input
        roles = {series.role: list(roles.values())}
    cat = Catalog.open(f"sqlite:///{Path(data_dir) / 'catalog.db'}")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        item = build_product(product, roles, {}, catalog=cat, data_dir=Path(data_dir), force=True)
    wall = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mib": round(peak_kib / 1024, 1), "wall_s": round(wall, 1), "item": item["id"] if item else None,
                      "statistics": item["properties"]["hpgeo:statistics"] if item else None}))


def input_description(product: str, size: int = SIZE) -> str:
    """E.g. ``2 × S1 (VV, VH) 10980²`` for the benchmark table."""
    parts = []
    for key in PRODUCT_INPUTS[product].values():
        parts.append("S1 VV+VH" if key.startswith("s1") else "S2 L2A 7 bands + SCL")
    counts: dict[str, int] = {}
    for p_ in parts:
        counts[p_] = counts.get(p_, 0) + 1
    return " + ".join(f"{n} × {p_}" if n > 1 else p_ for p_, n in counts.items()) + f", {size}²"


def run(product: str = "flood-sar", size: int = SIZE, data_dir: Path | None = None) -> dict[str, Any]:
    """Build ``product`` on synthetic full-tile inputs in a fresh process. Inputs already in ``data_dir`` are reused."""
    if product not in PRODUCT_INPUTS:
        raise SystemExit(f"no benchmark inputs for {product!r}; choose from {', '.join(PRODUCT_INPUTS)}")
    own = data_dir is None
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="hpgeo-bench-"))
    t0 = time.perf_counter()
    roles = {}
    for role, key in PRODUCT_INPUTS[product].items():
        collection, _ = SCENES[key]
        item_id = f"BENCH-{key.upper()}-{size}"
        if not (data_dir / "ard" / collection / item_id / ".done").exists():
            write_scene(data_dir, key, size)
            (data_dir / "ard" / collection / item_id / ".done").touch()
        roles[role] = (collection, item_id)
    prep = time.perf_counter() - t0
    code = f"from benchmarks.memory import _child; _child({str(data_dir)!r}, {product!r}, {json.dumps(roles)!r})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env={**os.environ, "HPGEO_LOG_LEVEL": "WARNING", "GDAL_CACHEMAX": GDAL_CACHEMAX_MB})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update({"product": product, "size": size, "inputs": input_description(product, size), "input_write_s": round(prep, 1), "data_dir": str(data_dir)})
    if own:
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

"""Tile-serving benchmark: latency and throughput of /tiles PNGs from the real server on 127.0.0.1.

Builds (or reuses) the simulated demo in a data directory, starts ``hpgeo serve`` in a subprocess,
requests every tile of the flood product at zooms 11–14 sequentially (cold), the same tiles again (in-process LRU
warm), revalidates them with their ETags (304), then with 8 concurrent clients, and writes the figures to
docs/benchmarks.md.

    python -m benchmarks.tiles [--data-dir DIR] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import morecantile

from benchmarks import write_section

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 60) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


def run(data_dir: Path, workers: int) -> str:
    env = {**os.environ, "HPGEO_DATA_DIR": str(data_dir), "HPGEO_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "hpgeo", "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    srv = subprocess.Popen(
        [sys.executable, "-m", "hpgeo", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"{base}/healthz", timeout=180)
        item = httpx.get(f"{base}/stac/search", params={"collections": "flood-extent", "limit": 1}).json()["features"][0]
        xyz = next(l["href"] for l in item["links"] if l["rel"] == "xyz")
        w, s, e, n = item["bbox"]
        tms = morecantile.tms.get("WebMercatorQuad")
        urls = [
            xyz.replace("{z}", str(t.z)).replace("{x}", str(t.x)).replace("{y}", str(t.y))
            for z in (11, 12, 13, 14)
            for t in tms.tiles(w, s, e, n, [z])
        ]
        with httpx.Client(timeout=30) as c:
            c.get(urls[0])  # warm-up (imports, GDAL caches)
            load = os.getloadavg()[0]
            lat = []
            t0 = time.perf_counter()
            for u in urls:
                t = time.perf_counter()
                r = c.get(u)
                r.raise_for_status()
                lat.append((time.perf_counter() - t) * 1000)
            seq_s = time.perf_counter() - t0
            # the same tiles again: served from the in-process LRU (api.routes.tiles.TILE_CACHE_BYTES)
            warm, etags = [], []
            t0 = time.perf_counter()
            for u in urls:
                t = time.perf_counter()
                r = c.get(u)
                r.raise_for_status()
                warm.append((time.perf_counter() - t) * 1000)
                etags.append(r.headers["etag"])
            warm_s = time.perf_counter() - t0
            # revalidation: If-None-Match with the ETag → 304, no pixel read
            reval = []
            t0 = time.perf_counter()
            for u, e in zip(urls, etags):
                t = time.perf_counter()
                r = c.get(u, headers={"If-None-Match": e})
                if r.status_code != 304:
                    raise RuntimeError(f"{u}: expected 304, got {r.status_code}")
                reval.append((time.perf_counter() - t) * 1000)
            reval_s = time.perf_counter() - t0

        def get(u: str) -> float:
            t = time.perf_counter()
            httpx.get(u, timeout=30).raise_for_status()
            return (time.perf_counter() - t) * 1000

        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            conc = list(pool.map(get, urls))
        conc_s = time.perf_counter() - t0
    finally:
        srv.terminate()
        srv.wait(timeout=20)
    q = statistics.quantiles
    return "\n".join(
        [
            f"Tiles of the simulated flood product (uint8 COG, 2103×1794 px at 10 m), zooms 11–14: {len(urls)} tiles, "
            f"`hpgeo serve --workers {workers}`, {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load:.1f} when the runs started (other jobs on the machine slow every row alike).",
            "",
            "| run | tiles/s | p50 ms | p95 ms | max ms |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| sequential, 1 client | {len(urls) / seq_s:.1f} | {statistics.median(lat):.1f} | {q(lat, n=20)[18]:.1f} | {max(lat):.1f} |",
            f"| 8 concurrent clients | {len(urls) / conc_s:.1f} | {statistics.median(conc):.1f} | {q(conc, n=20)[18]:.1f} | {max(conc):.1f} |",
            f"| sequential again, LRU warm | {len(urls) / warm_s:.1f} | {statistics.median(warm):.1f} | {q(warm, n=20)[18]:.1f} | {max(warm):.1f} |",
            f"| revalidation (If-None-Match → 304) | {len(urls) / reval_s:.1f} | {statistics.median(reval):.1f} | {q(reval, n=20)[18]:.1f} | {max(reval):.1f} |",
            "",
            "Rows 3–4: the same tiles again, now answered from the bounded in-process LRU (at most 32 MiB of rendered tiles per "
            "worker) and, with their ETags, as 304 without reading a pixel. The 8-client run (row 2) comes after them, with "
            "a new connection per request.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.tiles", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="Demo data directory to build or reuse (default: a temp dir).")
    ap.add_argument("--workers", type=int, default=1, help="API worker processes.")
    a = ap.parse_args(argv)
    if a.data_dir:
        body = run(a.data_dir, a.workers)
    else:
        with tempfile.TemporaryDirectory() as d:
            body = run(Path(d), a.workers)
    print(body)
    write_section("Tiles", body, "python -m benchmarks.tiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pass-to-alert latency: a new simulated Sentinel-1 pass lands in a watched folder → ingest → flood product
→ zonal statistics → alert rules → the signed CAP message at a webhook receiver on 127.0.0.1.

``python -m benchmarks latency [--size N] [--timeout S] [--no-record]``

Setup (not timed): a temporary data directory with its catalog; the reference pass (Sentinel-1 VV+VH σ0 dB,
float32, 10 m, UTM 48N over Hải Phòng, the same synthetic classes as :mod:`benchmarks.memory`) ingested;
the new pass written as a simulated scene folder (``scene.json`` + ``vv.tif`` + ``vh.tif``, the format of
:mod:`simulator.scenes`) in a staging folder; a webhook receiver on 127.0.0.1 subscribed; the in-process
deliverer of ``hpgeo serve`` (:class:`alerts.delivery.Deliverer`) running.

Timed, from the moment the pass folder is renamed into the watched folder:

* **detect**: the watcher's poll (every 0.2 s) finds the new folder;
* **ingest**: :func:`simulator.scenes.read_simulated` + :func:`ingest.ard.write_ard` (ARD COGs, catalog item);
* **product**: ``flood-sar`` on (new pass, reference) through :func:`products.build.build_product` (2 dask threads);
* **statistics**: :func:`products.zonal.item_zonal_stats` on the built-in AOIs;
* **rules**: :func:`alerts.evaluate_item` (CAP messages + outbox rows committed);
* **delivery**: until the receiver has the first correctly signed (Standard Webhooks signature verified)
  CAP message of the pass, and until it has all of them.

The watcher is this benchmark's poll of the folder: simulated scene folders are not a format of the local
source of ``hpgeo ingest watch`` (which reads SAFE / Landsat / GeoTIFF products); ingest, product,
statistics, rules and delivery are the service's own code. The pipeline runs in a child process killed
after ``--timeout`` seconds; the temporary directory is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 10980
TITLE = "Pass-to-alert latency (Sentinel-1 pass → signed CAP message at a webhook)"
TARGET_S = 300.0
SECRET = "latency-benchmark-secret-0123456789"
ORIGIN = (640000.0, 2325000.0)  # UTM 48N top-left: 106.33–107.4 E, 20.0–21.0 N at full size (Hải Phòng and its sea)


def _write_band(path: Path, size: int, seed: int, means: tuple[float, ...]) -> None:
    """σ0 dB of the synthetic classes of :func:`benchmarks.memory._rows` with gamma speckle, block row by block row."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from benchmarks.memory import BLOCK, _rows
    from geo.crs import PROCESSING_CRS

    rng = np.random.default_rng(seed + 100)
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="float32", crs=PROCESSING_CRS,
                   transform=from_origin(*ORIGIN, 10.0, 10.0), nodata=float("nan"), tiled=True, blockxsize=512, blockysize=512,
                   compress="deflate", BIGTIFF="IF_SAFER")
    with rasterio.open(path, "w", **profile) as ds:
        for r0 in range(0, size, BLOCK):
            h = min(BLOCK, size - r0)
            lin = 10 ** (np.asarray(means)[_rows(size, r0, h, seed)] / 10) * rng.gamma(4.4, 1 / 4.4, (h, size))
            ds.write((10 * np.log10(lin)).astype("float32"), 1, window=Window(0, r0, size, h))


def write_pass(folder: Path, size: int, *, seed: int, when: dt.datetime) -> str:
    """A simulated Sentinel-1 GRD scene folder (the :mod:`simulator.scenes` format); returns its id."""
    import rasterio
    from shapely.geometry import mapping

    from geo.crs import WGS84
    from geo.grid import Grid

    folder.mkdir(parents=True, exist_ok=True)
    for pol, means in {"vv": (-21.0, -8.0, -10.0, -13.0, -28.0), "vh": (-28.0, -15.0, -18.0, -20.0, -33.0)}.items():
        _write_band(folder / f"{pol}.tif", size, seed, means)
    with rasterio.open(folder / "vv.tif") as ds:
        footprint = Grid.from_dataset(ds).footprint(WGS84)
    sid = f"S1A_IW_GRDH_LATENCY_{when:%Y%m%dT%H%M%S}_{size}"
    meta = {"id": sid, "kind": "s1-grd", "platform": "sentinel-1a", "instrument": "c-sar", "level": "GRD", "datetime": when.isoformat(),
            "footprint": mapping(footprint), "orbit_state": "ascending", "relative_orbit": 26, "polarizations": ["VV", "VH"], "enl": 4.4,
            "scenario": "latency-benchmark", "simulated": True}
    (folder / "scene.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return sid


class _Receiver:
    """Webhook receiver on 127.0.0.1: keeps (arrival time, webhook-id) of every correctly signed CAP POST."""

    def __init__(self) -> None:
        from alerts.delivery import SW_ID, verify_standard

        self.got: list[tuple[float, str]] = []
        self.bad = 0
        rx = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_standard(SECRET, dict(self.headers), body) and b"urn:oasis:names:tc:emergency:cap:1.2" in body
                if ok:
                    rx.got.append((time.perf_counter(), self.headers[SW_ID]))
                else:
                    rx.bad += 1
                self.send_response(204 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cap"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _child(data_dir: str, size: int) -> None:
    """The pipeline, in a fresh interpreter; prints one JSON line."""
    import dask

    from alerts import AlertStore, evaluate_item
    from alerts.delivery import Deliverer, DeliveryPolicy
    from base.settings import Settings, override_settings
    from ingest.ard import write_ard
    from ingest.catalog import Catalog
    from products.build import build_product
    from products.zonal import item_zonal_stats
    from registry.auth import CLI_PRINCIPAL
    from simulator.scenes import read_simulated

    d = Path(data_dir)
    settings = Settings(data_dir=d, database_url=None)
    with override_settings(settings), dask.config.set(scheduler="threads", num_workers=2):
        cat = Catalog.from_settings(settings)
        store = AlertStore.from_settings(settings)
        # -- setup, not timed ------------------------------------------------------------------------
        t = time.perf_counter()
        ref_dir, staging, watched = d / "raw" / "reference", d / "raw" / "staging", d / "incoming"
        watched.mkdir(parents=True)
        write_pass(ref_dir, size, seed=1, when=dt.datetime(2025, 9, 3, 11, 0, tzinfo=dt.timezone.utc))
        ref = write_ard(read_simulated(ref_dir), catalog=cat, data_dir=d)
        new_id = write_pass(staging / "pass", size, seed=0, when=dt.datetime(2025, 9, 15, 11, 0, tzinfo=dt.timezone.utc))
        rx = _Receiver()
        store.subscribe(rx.url, {}, CLI_PRINCIPAL, secret=SECRET)
        deliverer = Deliverer(settings.catalog_url, DeliveryPolicy(timeout=10.0, lease=60.0), every=0.2).start()
        setup_s = time.perf_counter() - t
        load_before = os.getloadavg()
        try:
            # -- the pass lands ---------------------------------------------------------------------
            t0 = time.perf_counter()
            os.rename(staging / "pass", watched / "pass")
            marks: dict[str, float] = {}
            found = None
            while found is None:  # the watcher
                found = next((p for p in sorted(watched.iterdir()) if (p / "scene.json").exists()), None)
                if found is None:
                    time.sleep(0.2)
            marks["detect"] = time.perf_counter()
            scene = read_simulated(found)
            write_ard(scene, catalog=cat, data_dir=d)
            marks["ingest"] = time.perf_counter()
            item = build_product("flood-sar", {"post": (scene.collection, scene.id), "pre": (ref["collection"], ref["id"])}, {},
                                 catalog=cat, data_dir=d, force=True)
            marks["product"] = time.perf_counter()
            rows = item_zonal_stats(cat, item["collection"], item["id"], data_dir=d, units="aoi")
            marks["statistics"] = time.perf_counter()
            msgs = evaluate_item(store, cat, item["collection"], item["id"], store.rules(), data_dir=d)
            marks["rules"] = time.perf_counter()
            ids = {m["identifier"] for m in msgs}
            if not ids:
                raise RuntimeError("the simulated flood raised no alert: nothing to deliver")
            first = None
            while True:
                got = {i: ts for ts, i in rx.got if i in ids}
                if got and first is None:
                    first = min(got.values())
                if len(got) == len(ids):
                    break
                time.sleep(0.02)
            marks["delivery_first"], marks["delivery_all"] = first, max(got.values())
        finally:
            deliverer.stop()
            rx.close()
            store.close()
            cat.close()
        load_after = os.getloadavg()
    order = ["detect", "ingest", "product", "statistics", "rules", "delivery_first"]
    stages, prev = {}, t0
    for k in order:
        stages[k] = round(marks[k] - prev, 2)
        prev = marks[k]
    print(json.dumps({
        "size": size, "scene": new_id, "item": item["id"], "stages_s": stages,
        "delivery_all_s": round(marks["delivery_all"] - marks["rules"], 2),
        "total_first_s": round(marks["delivery_first"] - t0, 2), "total_all_s": round(marks["delivery_all"] - t0, 2),
        "messages": len(ids), "exercise": all(m["status"] == "Exercise" for m in msgs), "bad_signatures": rx.bad,
        "units_with_stats": len({r["unit_id"] for r in rows}), "setup_s": round(setup_s, 1),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
    }, ensure_ascii=False), flush=True)


def run(size: int = SIZE, timeout: float = 1800.0) -> dict[str, Any]:
    """Run the pipeline in a child process (killed with its process group after ``timeout`` s)."""
    data_dir = Path(tempfile.mkdtemp(prefix="hpgeo-latency-"))
    code = f"from benchmarks.latency import _child; _child({str(data_dir)!r}, {int(size)})"
    env = {**os.environ, "HPGEO_LOG_LEVEL": "WARNING", "HPGEO_ALERTS_DELIVER": "false", "GDAL_CACHEMAX": os.environ.get("GDAL_CACHEMAX", "256")}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1], env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"latency benchmark exceeded its {timeout:.0f} s bound and was stopped") from None
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"latency benchmark child failed (exit {proc.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def record(res: dict[str, Any]) -> None:
    from benchmarks import write_section
    from benchmarks.memory import machine

    names = {"detect": "pass detected in the watched folder", "ingest": "ingest (ARD COGs + catalog item)",
             "product": "flood-sar product (COG, class areas, item)", "statistics": "zonal statistics (built-in AOIs)",
             "rules": "rules → CAP messages + outbox", "delivery_first": "delivery: first signed CAP at the receiver"}
    rows = "".join(f"| {names[k]} | {v:.1f} s |\n" for k, v in res["stages_s"].items())
    verdict = "within" if res["total_first_s"] <= TARGET_S else "**over**"
    body = (
        f"Machine: {machine()}. **Shared**: other jobs ran on the 2 cores during the measurement (load average "
        f"{res['load_before'][0]:.1f} before, {res['load_after'][0]:.1f} after), so the figures are upper bounds for an idle machine.\n\n"
        f"`benchmarks/latency.py`: a simulated Sentinel-1 IW GRD pass ({res['size']} × {res['size']} px, VV + VH σ0 dB float32, 10 m) "
        f"is renamed into a watched folder next to its reference pass (already ingested); a 0.2 s poll finds it, and the service's "
        f"own code ingests it, builds `flood-sar` against the reference (2 dask threads), computes the zonal statistics on the "
        f"built-in AOIs, evaluates the shipped rules and delivers through the outbox with the in-process deliverer of `hpgeo serve` "
        f"to a webhook receiver on 127.0.0.1 that verifies each signature.\n\n"
        f"| stage | time |\n|---|---:|\n{rows}| **pass → first signed CAP message** | **{res['total_first_s']:.1f} s** |\n\n"
        f"All {res['messages']} messages of the pass (status Exercise) were at the receiver {res['total_all_s']:.1f} s after the pass "
        f"landed ({res['delivery_all_s']:.1f} s after the rules); {res['bad_signatures']} bad signatures. "
        f"Target ≤ {TARGET_S:.0f} s: {verdict}."
        + (" The target is not shown met here: under a load average of ~{:.0f} on 2 cores each stage ran at a fraction of the CPU; "
           "compare the product stage with the `flood-sar` row of the memory section above (same input size, quieter machine), "
           "and re-run on an idle machine to judge the 5-minute target.".format(res["load_before"][0]) if res["total_first_s"] > TARGET_S else "")
        + "\n"
    )
    write_section(TITLE, body, "python -m benchmarks latency")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks latency", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=SIZE, help="Side of the passes in 10 m pixels (default 10980, a full tile; e.g. 1024 for a quick run).")
    ap.add_argument("--timeout", type=float, default=1800.0, help="Stop the run after this many seconds (default 1800).")
    ap.add_argument("--no-record", action="store_true", help="Print only; do not update docs/benchmarks.md.")
    a = ap.parse_args(argv)
    if a.size < 256:
        ap.error("--size must be at least 256")
    res = run(a.size, a.timeout)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    if not a.no_record and a.size == SIZE:
        record(res)
    return 0 if res["total_first_s"] <= TARGET_S or a.size != SIZE else 1


if __name__ == "__main__":
    sys.exit(main())

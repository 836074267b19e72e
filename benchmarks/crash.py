"""Crash-consistency trials: SIGKILL ``hpgeo`` writers at random points, re-run, check the data directory.

Three commands, N trials each, every one in a subprocess with its own ``HPGEO_DATA_DIR``:

- ``ingest``: ``hpgeo ingest file <zip>`` of a local archive holding a 4-band GeoTIFF (a new archive per trial,
  so every trial is a first ingest: extraction to ``raw/local/``, ARD COGs, the item); one data dir per series;
- ``products``: ``hpgeo products build flood-sar --items … --param change_db=<per trial>`` on a copy of the demo
  data (a new parameter value per trial, so a new item id: files, then the record); one data dir per series;
- ``demo``: ``hpgeo demo`` in a fresh data dir per trial (simulation into ``raw/``, 16 ingests, 11 products).

A trial starts the command, sends SIGKILL to its process group after a delay drawn uniformly from
[0.2 s, T] (T: the command's full run time, measured once per series before the trials), then runs the
same command to completion and checks (:func:`check`):

- the catalog: every local asset of every item exists, opens (rasterio for rasters, with a read of the last
  block; GeoJSON/CSV/GeoPackage parsed) and, for COGs, validates; no two items share a file;
- no orphan: nothing under the data dir is a temporary (:func:`geo.tempfiles.is_temporary`, ours or a
  library's) and every file outside the known inputs (``raw/``, ``tides/``, the catalog db and its WAL/journal,
  the writer lock, the watch state) is an asset of an item.

``python -m benchmarks crash [--trials 20] [--only ingest|products|demo]`` writes the figures to docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
HPGEO = [sys.executable, "-m", "hpgeo"]
KNOWN_TOP = {"raw", "tides"}
KNOWN_FILES = {"catalog.db", "catalog.db-wal", "catalog.db-shm", "catalog.db-journal", ".hpgeo-writers.lock", "watch-state.json"}
COMMANDS = ("ingest", "products", "demo")


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPGEO_")}
    env.update(HPGEO_DATA_DIR=str(data_dir), HPGEO_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    return env


# --- checking a data directory ------------------------------------------------------------------------


def _open_asset(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        import rasterio

        from geo.cog import validate_cog

        with rasterio.open(path) as ds:
            last = list(ds.block_windows(1))[-1][1]
            ds.read(1, window=last)
        validate_cog(path)
    elif suffix in (".geojson", ".json"):
        json.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        if not path.read_text(encoding="utf-8").strip():
            raise ValueError("empty CSV")
    elif suffix == ".gpkg":
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ValueError("GeoPackage integrity check failed")
            con.execute("SELECT count(*) FROM gpkg_contents").fetchone()
    elif path.stat().st_size == 0:
        raise ValueError("empty file")


def check(data_dir: Path) -> dict[str, Any]:
    """Consistency of the catalog and files under ``data_dir``: {"items", "problems", "orphans"}."""
    from base.settings import Settings
    from geo.tempfiles import is_temporary
    from ingest.catalog import Catalog, SearchQuery
    from ingest.items import resolve_href

    data_dir = Path(data_dir).resolve()
    problems: list[str] = []
    referenced: dict[Path, str] = {}
    cat = Catalog.from_settings(Settings(data_dir=data_dir))
    keys: set[tuple[str, str]] = set()
    n = 0
    for it in cat.search(SearchQuery.build(limit=None)):
        n += 1
        key = (it["collection"], it["id"])
        if key in keys:
            problems.append(f"duplicate item {key}")
        keys.add(key)
        for name, asset in it.get("assets", {}).items():
            href = asset["href"]
            if "://" in href:
                continue
            path = Path(resolve_href(href, data_dir)).resolve()
            who = f"{key[0]}/{key[1]}:{name}"
            if path in referenced:
                problems.append(f"{who} shares {path.name} with {referenced[path]}")
            referenced[path] = who
            if not path.is_file():
                problems.append(f"{who}: missing {href}")
                continue
            try:
                _open_asset(path)
            except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
                problems.append(f"{who}: {href} does not open: {exc}")
    orphans: list[str] = []
    for root, dirs, files in os.walk(data_dir):
        rel_root = Path(root).relative_to(data_dir)
        for d in list(dirs):
            if is_temporary(d, True):
                orphans.append(str(rel_root / d) + "/")
                dirs.remove(d)
        for f in files:
            rel = rel_root / f
            if is_temporary(f):
                orphans.append(str(rel))
            elif rel.parts[0] in KNOWN_TOP or (len(rel.parts) == 1 and f in KNOWN_FILES):
                continue
            elif (data_dir / rel).resolve() not in referenced:
                orphans.append(str(rel))
    return {"items": n, "problems": problems, "orphans": orphans}


# --- the commands ---------------------------------------------------------------------------------------


def write_ingest_input(folder: Path, k: int, size: int = 1500) -> Path:
    """``VNR_trial_<k>.zip`` holding a 4-band uint16 GeoTIFF (2.5 m, EPSG:32648, over Hải Phòng)."""
    import numpy as np
    import rasterio
    from affine import Affine

    folder.mkdir(parents=True, exist_ok=True)
    name = f"VNR_trial_{k:04d}"
    tif = folder / f"{name}.tif"
    rng = np.random.default_rng(k)
    with rasterio.open(tif, "w", driver="GTiff", width=size, height=size, count=4, dtype="uint16", nodata=0, crs="EPSG:32648",
                       transform=Affine(2.5, 0, 680000 + 100 * k, 0, -2.5, 2310000), tiled=True) as ds:
        ds.write(rng.integers(1, 4000, (4, size, size), dtype=np.uint16))
        ds.update_tags(TIFFTAG_DATETIME=f"2024:05:{1 + k % 28:02d} 03:20:{k % 60:02d}")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(tif, tif.name)
    tif.unlink()
    return archive


def flood_inputs(data_dir: Path) -> list[str]:
    """``--items`` of flood-sar on the demo's two Sentinel-1 scenes (from the product the demo built)."""
    from base.settings import Settings
    from ingest.catalog import Catalog, SearchQuery

    cat = Catalog.from_settings(Settings(data_dir=data_dir))
    item = next(iter(cat.search(SearchQuery.build(collections=["flood-extent"], limit=1))))
    inputs = item["properties"]["hpgeo:provenance"]["inputs"]
    return [f"{role}={v['collection']}/{v['id']}" for role, v in sorted(inputs.items())]


class Series:
    """One command's trials: ``command(k)`` gives trial k's argv and data dir (after any preparation)."""

    def __init__(self, name: str, workdir: Path, demo_template: Callable[[], Path]):
        self.name, self.workdir, self.demo_template = name, workdir / name, demo_template
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        if name == "products":
            shutil.copytree(demo_template(), self.data_dir, ignore=shutil.ignore_patterns(".hpgeo-writers.lock"))
            self.items = flood_inputs(self.data_dir)

    @property
    def label(self) -> str:
        return {"ingest": "hpgeo ingest file VNR_trial_<k>.zip", "products": "hpgeo products build flood-sar --items … --param change_db=<k>",
                "demo": "hpgeo demo"}[self.name]

    def command(self, k: int) -> tuple[list[str], Path]:
        if self.name == "ingest":
            return HPGEO + ["ingest", "file", str(write_ingest_input(self.workdir / "inputs", k))], self.data_dir
        if self.name == "products":
            args = ["products", "build", "flood-sar"] + [a for i in self.items for a in ("--items", i)]
            return HPGEO + args + ["--param", f"change_db={2.0 + 0.01 * (k % 1500):.2f}"], self.data_dir
        data_dir = self.workdir / f"data-{k:03d}"
        shutil.rmtree(data_dir, ignore_errors=True)
        return HPGEO + ["demo"], data_dir


def _run(argv: list[str], data_dir: Path, timeout: float) -> tuple[int, float, str]:
    """Run to completion; a run past ``timeout`` gets SIGABRT (faulthandler prints every thread's stack), rc -1."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env_for(data_dir), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGABRT)
        _out, err = p.communicate()
        rc, err = -1, f"TIMEOUT after {timeout:.0f} s; stacks:\n{err[-6000:]}"
    return rc, time.monotonic() - t0, err[-6000:]


def trial(argv: list[str], data_dir: Path, kill_after: float, timeout: float) -> dict[str, Any]:
    """Start ``argv``, SIGKILL it after ``kill_after`` s (unless done), re-run to completion, check."""
    p = subprocess.Popen(argv, env=env_for(data_dir), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        p.wait(kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        killed = True
    rc, wall, err = _run(argv, data_dir, timeout)
    res = check(data_dir)
    ok = rc == 0 and not res["problems"]
    return {"kill_after_s": round(kill_after, 2), "killed": killed, "rerun_rc": rc, "rerun_s": round(wall, 1),
            "consistent": ok, "items": res["items"], "problems": res["problems"][:5], "orphans": res["orphans"][:10],
            "n_orphans": len(res["orphans"]), **({"stderr": err} if rc else {})}


def run_series(name: str, trials: int, workdir: Path, demo_template: Callable[[], Path], seed: int = 10,
               timeout: float = 600, log: Callable[[dict[str, Any]], None] | None = None,
               max_kill: float | None = None) -> dict[str, Any]:
    """Calibrate T with one full run, then ``trials`` kill/re-run trials of command ``name``."""
    s = Series(name, workdir, demo_template)
    rng = random.Random(seed)
    argv, data_dir = s.command(10_000)  # calibration: a full run on an input no trial uses
    rc, full_s, err = _run(argv, data_dir, timeout)
    if rc != 0:
        raise RuntimeError(f"{name}: calibration run failed ({rc}): {err}")
    if name == "demo":
        shutil.rmtree(data_dir, ignore_errors=True)
    top = min(full_s, max_kill) if max_kill else full_s
    out = []
    for k in range(trials):
        argv, data_dir = s.command(k)
        r = {"command": name, "trial": k, **trial(argv, data_dir, rng.uniform(0.2, top), timeout)}
        if name == "demo" and r["consistent"] and not r["n_orphans"]:
            shutil.rmtree(data_dir, ignore_errors=True)  # keep only the failing ones
        out.append(r)
        if log:
            log(r)
    kills = [r["kill_after_s"] for r in out]
    return {
        "command": name, "argv": " ".join(argv[2:]), "label": s.label, "trials": trials, "full_run_s": round(full_s, 1),
        "killed": sum(r["killed"] for r in out), "consistent": sum(r["consistent"] for r in out),
        "with_orphans": sum(bool(r["n_orphans"]) for r in out), "orphans": sum(r["n_orphans"] for r in out),
        "kill_min_s": min(kills) if kills else None, "kill_median_s": round(statistics.median(kills), 2) if kills else None,
        "kill_max_s": max(kills) if kills else None,
        "kill_quartile_counts": _quartiles(kills, top), "failures": [r for r in out if not r["consistent"] or r["n_orphans"]],
    }


def _quartiles(kills: list[float], top: float) -> list[int]:
    q = [0, 0, 0, 0]
    for k in kills:
        q[min(int(4 * k / top), 3)] += 1
    return q


def demo_template_factory(workdir: Path, timeout: float = 900) -> Callable[[], Path]:
    """A full demo data dir, built once on first use."""
    path = workdir / "demo-template"

    def get() -> Path:
        if not (path / "catalog.db").exists():
            rc, _wall, err = _run(HPGEO + ["demo"], path, timeout)
            if rc != 0:
                raise RuntimeError(f"demo failed: {err}")
        return path

    return get


# --- the benchmark command ------------------------------------------------------------------------------

TITLE = "Crash consistency (SIGKILL at random points)"


def record(results: list[dict[str, Any]], trials: int, wall_s: float, path: Path | None = None) -> None:
    from benchmarks import machine_line, write_section

    rows = "".join(
        f"| `{r['label']}` | {r['trials']} | {r['killed']} | **{r['consistent']}/{r['trials']}** | "
        f"{r['orphans']} ({r['with_orphans']} trials) | {r['full_run_s']} s | {r['kill_min_s']} / {r['kill_median_s']} / {r['kill_max_s']} s "
        f"| {' · '.join(map(str, r['kill_quartile_counts']))} |\n"
        for r in results
    )
    total = sum(r["trials"] for r in results)
    good = sum(r["consistent"] for r in results)
    clean = total - sum(r["with_orphans"] for r in results)
    fails = [f for r in results for f in r["failures"]]
    body = (
        f"Machine: {machine_line()}. {total} trials in {wall_s / 60:.0f} min.\n\n"
        "Each trial starts the command in a subprocess, SIGKILLs its process group after a delay drawn uniformly from "
        "[0.2 s, T] (T = the command's full run time, measured once before the series), then runs the same command to "
        "completion and checks the data directory (benchmarks/crash.py `check`): every local asset of every item exists, "
        "opens with rasterio (last block read, COG validated) or parses (GeoJSON, CSV, GeoPackage integrity check), no "
        "two items share a file; and no orphan: no temporary (ours `.hpgeo-tmp`, rio-cogeo `tmp*.tif`, tempfile "
        "`.<name>.<8 chars>`, `*.tmp`) anywhere, and no file outside `raw/`, `tides/` and the catalog db that is not an "
        "item's asset. `ingest`: a new 4-band 1500 × 1500 GeoTIFF in a .zip per trial, one data dir per series; "
        "`products`: flood-sar with a new `change_db` per trial (a new item) on a copy of the demo data; `demo`: a fresh "
        "data dir per trial.\n\n"
        "| command | trials | killed before the end | consistent | orphan files | T | kill time min / median / max | kills per quarter of T |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{rows}\n"
        f"**{good}/{total} consistent, {clean}/{total} without an orphan file.**"
        + ("" if not fails else "\n\nFailures:\n\n" + "".join(
            f"- {f['command']} #{f['trial']} (kill at {f['kill_after_s']} s): {'; '.join(f['problems'][:2] + f['orphans'][:3])}\n" for f in fails[:10]))
    )
    write_section(TITLE, body, f"python -m benchmarks crash --trials {trials}", path=path or RELIABILITY)


RELIABILITY = ROOT / "docs" / "reliability.md"


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m benchmarks crash", description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20, help="Trials per command (default 20).")
    ap.add_argument("--only", action="append", choices=COMMANDS, help="Command to try (repeatable; default all three).")
    ap.add_argument("--workdir", type=Path, help="Keep the data dirs here (default: a temporary directory, removed).")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--no-record", action="store_true", help="Print only; do not update docs/reliability.md.")
    a = ap.parse_args(argv)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="hpgeo-crash-"))
    template = demo_template_factory(workdir)
    t0 = time.monotonic()
    results = []
    try:
        for name in a.only or COMMANDS:
            res = run_series(name, a.trials, workdir, template, seed=a.seed + COMMANDS.index(name),
                             log=lambda r: print(json.dumps(r, ensure_ascii=False), flush=True))
            print(json.dumps({k: v for k, v in res.items() if k != "failures"}, ensure_ascii=False), flush=True)
            results.append(res)
    finally:
        if a.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if not a.no_record:
        record(results, a.trials, time.monotonic() - t0)
    bad = sum(r["trials"] - r["consistent"] + r["with_orphans"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

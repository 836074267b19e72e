"""Crash safety: temporaries have one known place and one cleanup; SIGKILL at random points of ``hpgeo demo``,
``hpgeo products build`` and ``hpgeo ingest file`` leaves, after a re-run, a consistent catalog and no orphan.

The full figures (20 trials per command) are ``python -m benchmarks crash`` in docs/reliability.md; here a few
trials (1 demo, 2 product builds on its data, 2 ingests) keep the test near two and a half minutes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from benchmarks.crash import HPGEO, check, flood_inputs, trial, write_ingest_input
from geo.cog import write_cog
from geo.grid import Grid
from geo.tempfiles import LOCK_NAME, atomic_path, clean_data_dir, is_temporary, temp_path

ROOT = Path(__file__).resolve().parents[2]


def _grid(n: int = 64) -> Grid:
    return Grid.from_bbox((680000, 2310000 - 10 * n, 680000 + 10 * n, 2310000), "EPSG:32648", 10)


def test_rio_cogeo_temporary_is_inside_our_temporary_dir(tmp_path, monkeypatch):
    import rio_cogeo.cogeo as rc

    seen: list[str | None] = []
    real = rc.tempfile.NamedTemporaryFile

    def spy(*a, **kw):
        seen.append(str(kw.get("dir")))
        return real(*a, **kw)

    monkeypatch.setattr(rc.tempfile, "NamedTemporaryFile", spy)
    out = write_cog(tmp_path / "a.tif", np.ones((64, 64), np.uint8), _grid())
    assert seen and all(".a.tif.cog." in d and d.endswith(".hpgeo-tmp") for d in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]
    with rasterio.open(out) as ds:
        assert ds.read(1).sum() == 64 * 64


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    dst = tmp_path / "x.geojson"
    with pytest.raises(RuntimeError):
        with atomic_path(dst, suffix=".geojson") as tmp:
            tmp.write_text("{")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_patterns():
    assert is_temporary(temp_path(Path("/d/B04.tif"), "cog").name) == "ours"
    assert is_temporary("tmpab_d1x9z.tif") == "library"  # rio-cogeo
    assert is_temporary(".S1A.zip.k2j3h4g5", True) == "library"  # tempfile.mkdtemp(prefix=".<name>.")
    assert is_temporary(".scene.json.tmp") == "library"
    for keep in ("catalog.db-wal", "catalog.db-journal", "a.zip.part", "B04.tif", LOCK_NAME, ".partial", "tmp_notes.tif"):
        assert is_temporary(keep) is None, keep


def _make_temporaries(d: Path, live_pid: int) -> dict[str, Path]:
    (d / "raw" / "s").mkdir(parents=True)
    (d / "raw" / ".partial").mkdir()
    made = {
        "dead": d / "raw" / "s" / ".B04.tif.cog.999999999-0badc0de.hpgeo-tmp",
        "live": d / "raw" / "s" / f".B08.tif.cog.{live_pid}-0badc0de.hpgeo-tmp",
        "rio": d / "raw" / "s" / "tmpk3j2h1g0.tif",
        "mkdtemp": d / "raw" / ".S1A.zip.k2j3h4g5",
        "old": d / "raw" / "s" / ".scene.json.tmp",
    }
    for name, p in made.items():
        (p.mkdir() if name == "mkdtemp" else p.write_bytes(b"x"))
    for keep in ("catalog.db", "catalog.db-wal", "raw/s/B04.tif", "raw/.partial/a.zip.part"):
        (d / keep).write_bytes(b"x")
    return made


def test_cleanup_spares_a_live_writer_then_removes_everything(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", f"from geo.tempfiles import hold_writer_lock; hold_writer_lock({str(d)!r}); "
                               "print('held', flush=True); import time; time.sleep(60)"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        made = _make_temporaries(d, holder.pid)
        removed = set(clean_data_dir(d, hold=False))
        assert removed == {made["dead"]}  # another writer is alive: only temporaries of dead pids go
    finally:
        holder.kill()
        holder.wait()
    removed = set(clean_data_dir(d, hold=False))
    assert removed == {made[k] for k in ("live", "rio", "mkdtemp", "old")}
    left = sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())
    assert left == sorted([LOCK_NAME, "catalog.db", "catalog.db-wal", "raw/.partial/a.zip.part", "raw/s/B04.tif"])


def test_check_finds_orphans_and_missing_assets(tmp_path):
    from benchmarks.crash import env_for

    d = tmp_path / "data"
    argv = HPGEO + ["ingest", "file", str(write_ingest_input(tmp_path / "in", 1, size=300))]
    subprocess.run(argv, env=env_for(d), cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert check(d) == {"items": 2, "problems": [], "orphans": []}
    ard = d / "ard" / "local-imagery" / "VNR_trial_0001"
    (ard / "tmpab_d1x9z.tif").write_bytes(b"x")
    (ard / "stray.tif").write_bytes(b"x")
    (ard / "b1.tif").write_bytes((ard / "b1.tif").read_bytes()[:1000])  # truncated
    (ard / "b2.tif").unlink()
    res = check(d)
    assert set(res["orphans"]) == {"ard/local-imagery/VNR_trial_0001/tmpab_d1x9z.tif", "ard/local-imagery/VNR_trial_0001/stray.tif"}
    assert len(res["problems"]) == 2 and any("b1.tif does not open" in p for p in res["problems"])
    assert any("missing" in p and "b2.tif" in p for p in res["problems"])


@pytest.mark.slow
def test_sigkill_trials_leave_a_consistent_catalog_and_no_orphan(tmp_path):
    rng = random.Random(int(os.environ.get("HPGEO_CRASH_SEED", time.time())))
    results = []
    demo_dir = tmp_path / "demo"
    results.append(("demo", trial(HPGEO + ["demo"], demo_dir, rng.uniform(1.0, 30.0), timeout=600)))
    items = flood_inputs(demo_dir)
    for k in range(2):
        argv = HPGEO + ["products", "build", "flood-sar"] + [a for i in items for a in ("--items", i)] + ["--param", f"change_db={5 + k}.5"]
        results.append(("products", trial(argv, demo_dir, rng.uniform(0.5, 6.0), timeout=300)))
    for k in range(2):
        argv = HPGEO + ["ingest", "file", str(write_ingest_input(tmp_path / "inputs", k, size=600))]
        results.append(("ingest", trial(argv, demo_dir, rng.uniform(0.5, 4.0), timeout=300)))
    for name, r in results:
        assert r["rerun_rc"] == 0, (name, r)
        assert r["consistent"] and r["problems"] == [], (name, r)
        assert r["n_orphans"] == 0, (name, r)
    assert check(demo_dir)["items"] >= 27 + 2 + 4

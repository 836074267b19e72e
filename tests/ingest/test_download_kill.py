"""SIGKILL an ``hpgeo ingest stac --download`` mid-download, run it again: it resumes and completes, with one
item and no partial item in the catalog; a checksum mismatch is rejected and no item is written."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from ingest.catalog import Catalog
from ingest.sources.records import RECORDS_COLLECTION
from tests.replay.files import FileServer

ROOT = Path(__file__).resolve().parents[2]
SCENE = "S2A_TEST_20250101_HAIPHONG"


def _geotiff(path: Path) -> bytes:
    rng = np.random.default_rng(3)
    data = rng.random((1, 1024, 1024), dtype=np.float32)  # 4 MiB of incompressible pixels
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="float32",
                       crs="EPSG:32648", transform=from_origin(650000, 2330000, 10, 10), nodata=-1) as ds:
        ds.write(data)
    return path.read_bytes()


def _item(url: str, data: bytes, md5: str) -> dict:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": SCENE, "collection": "sentinel-2-l2a",
        "geometry": {"type": "Polygon", "coordinates": [[[106.4, 20.9], [106.5, 20.9], [106.5, 21.0], [106.4, 21.0], [106.4, 20.9]]]},
        "bbox": [106.4, 20.9, 106.5, 21.0],
        "properties": {"datetime": "2025-01-01T03:25:00Z", "platform": "sentinel-2a", "eo:cloud_cover": 5.0},
        "assets": {"data": {"href": f"{url}/files/scene.tif", "type": "image/tiff; application=geotiff", "roles": ["data"],
                            "file:size": len(data), "file:checksum": "d50110" + md5}},
        "links": [],
    }


def _cli(url: str, data_dir: Path, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "HPGEO_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "HPGEO_DOWNLOAD_BACKOFF": "0"}
    env.pop("HPGEO_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "hpgeo", "ingest", "stac", url, "-c", "sentinel-2-l2a", "--download"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_sigkill_mid_download_then_resume(tmp_path):
    data = _geotiff(tmp_path / "src.tif")
    data_dir = tmp_path / "data"
    part = data_dir / "raw" / "stac" / SCENE / ".partial" / "data.tif.part"
    with FileServer({"/files/scene.tif": data}, rate=400_000) as srv:
        srv.stac_item = _item(srv.url, data, hashlib.md5(data).hexdigest())
        proc = _cli(srv.url, data_dir, tmp_path)
        deadline = time.time() + 60
        while not (part.exists() and part.stat().st_size > 600_000):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "download never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = part.stat().st_size
        assert 0 < killed_at < len(data)
        cat = Catalog.open(f"sqlite:///{data_dir / 'catalog.db'}")
        assert not cat.has_item("sentinel-2-l2a", SCENE)  # no partial item
        assert cat.get_item(RECORDS_COLLECTION, SCENE)["properties"]["hpgeo:status"] == "listed"
        assert not (data_dir / "raw" / "stac" / SCENE / "data.tif").exists()

        srv.rate = None
        proc = _cli(srv.url, data_dir, tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        ranges = [r for m, p, r in srv.log if p == "/files/scene.tif" and r]
        assert ranges and int(ranges[-1][6:-1]) >= killed_at  # resumed from the part, not from zero
        assert (data_dir / "raw" / "stac" / SCENE / "data.tif").read_bytes() == data
        assert not part.exists()
        assert cat.count_items("sentinel-2-l2a") == 1
        item = cat.get_item("sentinel-2-l2a", SCENE)
        assert item["properties"]["eo:cloud_cover"] == 5.0 and item["properties"]["datetime"] == "2025-01-01T03:25:00Z"
        assert Path(data_dir / item["assets"]["data"]["href"]).exists()
        record = cat.get_item(RECORDS_COLLECTION, SCENE)
        assert record["properties"]["hpgeo:status"] == "ingested"
        assert record["properties"]["hpgeo:ard_item"] == f"sentinel-2-l2a/{SCENE}"

        gets = len([1 for m, p, r in srv.log if p == "/files/scene.tif"])
        proc = _cli(srv.url, data_dir, tmp_path)  # idempotent: nothing downloaded or written again
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert len([1 for m, p, r in srv.log if p == "/files/scene.tif"]) == gets
        assert cat.count_items("sentinel-2-l2a") == 1 and cat.count_items(RECORDS_COLLECTION) == 1


@pytest.mark.timeout(120)
def test_checksum_mismatch_is_rejected_and_no_item_written(tmp_path):
    data = _geotiff(tmp_path / "src.tif")
    data_dir = tmp_path / "data"
    with FileServer({"/files/scene.tif": data}) as srv:
        srv.stac_item = _item(srv.url, data, "0" * 32)
        proc = _cli(srv.url, data_dir, tmp_path)
        _, err = proc.communicate(timeout=100)
    assert proc.returncode == 3, err.decode()
    assert "md5" in err.decode()
    cat = Catalog.open(f"sqlite:///{data_dir / 'catalog.db'}")
    assert cat.count_items("sentinel-2-l2a") == 0
    assert cat.get_item(RECORDS_COLLECTION, SCENE)["properties"]["hpgeo:status"] == "listed"
    assert not (data_dir / "raw" / "stac" / SCENE / "data.tif").exists()
    assert not (data_dir / "raw" / "stac" / SCENE / ".partial" / "data.tif.part").exists()

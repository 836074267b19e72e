"""Local archives (search by footprint/date, verify + extract) and the watch cycle with its state file."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from ingest.catalog import Catalog
from ingest.sources.errors import ChecksumMismatch, InvalidWatchConfig
from ingest.sources.local import LocalSource
from ingest.sources.records import RECORDS_COLLECTION
from ingest.sources.watch import load_config, load_state, run_cycle

UTC = dt.timezone.utc


def _archive(folder):
    folder.mkdir()
    tif = folder / "vnredsat_20240315.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(680000, 2320000, 10, 10), nodata=0) as ds:
        ds.write(np.arange(1, 64 * 64 + 1, dtype="uint16").reshape(1, 64, 64))
        ds.update_tags(TIFFTAG_DATETIME="2024:03:15 03:10:00")
    z = folder / "VNREDSAT_20240315.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(tif, "vnredsat_20240315.tif")
    tif.unlink()
    return z


def test_local_archive_search_and_verified_extract(tmp_path):
    z = _archive(tmp_path / "in")
    with LocalSource([tmp_path / "in"]) as src:
        assert list(src.search((100.0, 10.0, 101.0, 11.0), None)) == []  # elsewhere
        assert list(src.search(None, "2024-04-01/2024-04-30")) == []  # another month
        (rec,) = src.search((106.5, 20.7, 106.9, 21.0), "2024-03-01/2024-03-31")
        assert rec.id == "VNREDSAT_20240315" and rec.datetime == dt.datetime(2024, 3, 15, 3, 10, tzinfo=UTC)
        assert rec.collection == "local-imagery" and rec.checksum.algorithm == "sha256"
        fetched = src.fetch(rec, tmp_path / "raw")
        assert [p.name for p in fetched.paths] == ["vnredsat_20240315.tif"]
        z.write_bytes(z.read_bytes() + b"tampered")
        with pytest.raises(ChecksumMismatch):
            src.fetch(rec, tmp_path / "raw2")
        assert not (tmp_path / "raw2").exists()


def test_watch_once_ingests_then_lists_nothing_already_seen(tmp_path):
    _archive(tmp_path / "in")
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(f"jobs:\n  - name: archive\n    source: local\n    paths: [{tmp_path / 'in'}]\n    bbox: [106.5, 20.7, 106.9, 21.0]\n    start: 2024-01-01\n")
    cat = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    state = tmp_path / "state.json"
    now = dt.datetime(2024, 6, 1, tzinfo=UTC)
    res = run_cycle(load_config(cfg), catalog=cat, data_dir=tmp_path / "data", state_path=state, now=now)
    assert res["archive"].ingested == ["VNREDSAT_20240315"]
    assert cat.count_items("local-imagery") == 1
    assert cat.get_item(RECORDS_COLLECTION, "VNREDSAT_20240315")["properties"]["hpgeo:status"] == "ingested"
    st = load_state(state)["archive"]
    assert {k: st[k] for k in ("last_search", "records", "ingested")} == {"last_search": "2024-06-01T00:00:00+00:00", "records": 1, "ingested": 1}
    assert [v["id"] for v in st["seen"].values()] == ["VNREDSAT_20240315"]  # a local job's state is by file content
    res = run_cycle(load_config(cfg), catalog=cat, data_dir=tmp_path / "data", state_path=state, now=now + dt.timedelta(days=1))
    assert res["archive"].records == []  # its content was seen: not listed again
    assert json.loads(state.read_text())["archive"]["last_search"] == "2024-06-02T00:00:00+00:00"
    assert cat.count_items("local-imagery") == 1


def test_watch_config_is_validated(tmp_path):
    cfg = tmp_path / "w.yaml"
    cfg.write_text("jobs:\n  - name: x\n    source: ftp\n")
    with pytest.raises(InvalidWatchConfig, match="source"):
        load_config(cfg)

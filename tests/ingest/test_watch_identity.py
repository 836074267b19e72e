"""``hpgeo ingest watch`` on a local folder by file identity (issue 14): an old-dated archive dropped in after
the first cycle is ingested; a renamed, moved, touched or copied file is not ingested again; a file replaced
by new content is."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from ingest.catalog import Catalog, SearchQuery
from ingest.sources.watch import load_config, load_state, run_cycle

UTC = dt.timezone.utc


def _tif(path, when: str, seed: int):
    with rasterio.open(path, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(680000, 2320000, 10, 10), nodata=0) as ds:
        ds.write((np.random.default_rng(seed).integers(1, 60000, (1, 32, 32))).astype("uint16"))
        ds.update_tags(TIFFTAG_DATETIME=when)
    return path


@pytest.fixture
def watch(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(f"jobs:\n  - name: inbox\n    source: local\n    paths: [{inbox}]\n    bbox: [106.5, 20.7, 106.9, 21.0]\n")
    cat = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    state = tmp_path / "state.json"
    day = [dt.datetime(2025, 6, 1, tzinfo=UTC)]

    def cycle():
        day[0] += dt.timedelta(days=1)
        return run_cycle(load_config(cfg), catalog=cat, data_dir=tmp_path / "data", state_path=state, now=day[0])["inbox"]

    yield inbox, cat, cycle, state
    cat.close()


def _ids(cat):
    return sorted(it["id"] for it in cat.search(SearchQuery.build(collections=["local-imagery"], limit=100)))


def test_a_late_old_dated_archive_is_ingested(watch):
    inbox, cat, cycle, _ = watch
    _tif(inbox / "scan_2025.tif", "2025:05:30 03:00:00", 1)
    assert cycle().ingested == ["scan_2025"]
    _tif(inbox / "archive_1998.tif", "1998:11:02 03:00:00", 2)  # acquired 27 years before the last search
    rep = cycle()
    assert rep.ingested == ["archive_1998"] and rep.ok
    assert _ids(cat) == ["archive_1998", "scan_2025"]
    assert cat.get_item("local-imagery", "archive_1998")["properties"]["datetime"].startswith("1998-11-02")
    assert cycle().records == []


def test_renamed_moved_touched_or_copied_files_are_not_ingested_again(watch):
    inbox, cat, cycle, state = watch
    _tif(inbox / "a.tif", "2024:03:15 03:10:00", 3)
    assert cycle().ingested == ["a"]
    (inbox / "a.tif").rename(inbox / "renamed.tif")
    assert cycle().records == []
    (inbox / "sub").mkdir()
    (inbox / "renamed.tif").rename(inbox / "sub" / "moved.tif")
    assert cycle().records == []
    st = (inbox / "sub" / "moved.tif").stat()
    os.utime(inbox / "sub" / "moved.tif", ns=(st.st_atime_ns, st.st_mtime_ns + 86_400 * 10**9))  # touched
    assert cycle().records == []
    shutil.copy(inbox / "sub" / "moved.tif", inbox / "copy.tif")  # re-sent under another name
    assert cycle().records == []
    assert _ids(cat) == ["a"]
    seen = load_state(state)["inbox"]["seen"]
    sha = hashlib.sha256((inbox / "copy.tif").read_bytes()).hexdigest()  # independent of the code under test
    assert list(seen) == [sha] and seen[sha]["id"] == "a"


def test_two_copies_dropped_together_are_ingested_once(watch):
    inbox, cat, cycle, _ = watch
    _tif(inbox / "x1.tif", "2024:03:15 03:10:00", 4)
    shutil.copy(inbox / "x1.tif", inbox / "x2.tif")
    rep = cycle()
    assert rep.ingested == ["x1"] and _ids(cat) == ["x1"]


def test_a_file_replaced_by_new_content_is_ingested(watch):
    inbox, cat, cycle, state = watch
    _tif(inbox / "daily.tif", "2024:03:15 03:10:00", 5)
    assert cycle().ingested == ["daily"]
    old_sha = hashlib.sha256((inbox / "daily.tif").read_bytes()).hexdigest()
    st = (inbox / "daily.tif").stat()
    (inbox / "daily.tif").unlink()
    _tif(inbox / "daily.tif", "2024:03:16 03:10:00", 6)  # same name, same size, new pixels and date
    os.utime(inbox / "daily.tif", ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime
    assert (inbox / "daily.tif").stat().st_size == st.st_size
    rep = cycle()
    assert rep.ingested == ["daily"]
    new_sha = hashlib.sha256((inbox / "daily.tif").read_bytes()).hexdigest()
    assert new_sha != old_sha and set(load_state(state)["inbox"]["seen"]) == {old_sha, new_sha}
    assert cat.get_item("local-imagery", "daily")["properties"]["datetime"].startswith("2024-03-16")


def test_an_unchanged_file_is_not_hashed_again(watch, monkeypatch):
    import ingest.sources.local as local

    inbox, cat, cycle, _ = watch
    _tif(inbox / "big.tif", "2024:03:15 03:10:00", 7)
    assert cycle().ingested == ["big"]
    calls = []
    real = local.record_for
    monkeypatch.setattr(local, "record_for", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    assert cycle().records == [] and calls == []  # stat (size, mtime, inode, ctime) unchanged: no read at all
    os.utime(inbox / "big.tif")  # touched: read and hashed once, recognised, not ingested
    assert cycle().records == [] and [p.name for p in calls] == ["big.tif"]

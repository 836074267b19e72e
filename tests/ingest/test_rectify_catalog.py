"""Rectified scans reach the catalog (issue 14): ``hpgeo ingest rectify --datetime`` puts the COG in the
``scanned-archive`` collection with its GCP fit (method, RMS, leave-one-out RMS, the residual of every GCP), dated by
the user, never by the file's modification time; a failed catalogue step leaves no item and no COG."""

from __future__ import annotations

import re

import numpy as np
import pytest
import rasterio
from typer.testing import CliRunner

from base.settings import Settings, override_settings
from ingest.rectify import read_gcps, rectify
from tests.ingest.test_rectify import _app, make_gcps, scan, write_csv  # noqa: F401  (scan is a fixture)


@pytest.fixture
def env(tmp_path, monkeypatch):
    from ingest.catalog import Catalog

    s = Settings(data_dir=tmp_path / "data", database_url=None)
    monkeypatch.setenv("HPGEO_DATA_DIR", str(tmp_path / "data"))
    with override_settings(s):
        cat = Catalog.from_settings(s)
        yield s, cat
        cat.close()


def _items(cat, collection="scanned-archive"):
    from ingest.catalog import SearchQuery

    return list(cat.search(SearchQuery.build(collections=[collection], limit=100)))


def _run(args):
    return CliRunner().invoke(_app(), ["rectify", *map(str, args)])


def test_rectified_scan_is_catalogued_with_its_residuals(env, scan, tmp_path):
    s, cat = env
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(4, 0.3))
    out = tmp_path / "scan_1965_rectified.tif"
    r = _run([scan, "--gcps", csv_path, "--method", "polynomial2", "--crs", "EPSG:32648", "--out", out, "--datetime", "1965-03-10"])
    assert r.exit_code == 0, r.output
    items = _items(cat)
    assert [i["id"] for i in items] == ["scan_1965_rectified"]
    item = items[0]
    assert item["collection"] == "scanned-archive"
    assert item["properties"]["datetime"].startswith("1965-03-10T00:00:00")
    rect = item["properties"]["hpgeo:rectification"]
    # the same fit, recomputed here by the library call (dry run), is what the item carries
    points, gcp_crs = read_gcps(csv_path, default_crs="EPSG:32648")
    ref = rectify(scan, points, None, method="polynomial2", gcp_crs=gcp_crs, crs="EPSG:32648")
    assert rect["method"] == "polynomial2" and rect["gcps"] == 16 and rect["spare_gcps"] == 10
    assert rect["rms_pixels"] == pytest.approx(ref.rms_pixels, abs=1e-3)
    assert rect["loo_rms_pixels"] == pytest.approx(ref.loo_rms_pixels, abs=1e-3)
    assert [g["id"] for g in rect["residuals"]] == [g.id for g in ref.residuals]
    by_id = {g.id: g for g in ref.residuals}
    loo = {g.id: g for g in ref.loo_residuals}
    for g in rect["residuals"]:
        assert g["px"] == pytest.approx(by_id[g["id"]].pixels, abs=1e-3)
        assert g["loo_px"] == pytest.approx(loo[g["id"]].pixels, abs=1e-3)
    assert max(g["loo_px"] for g in rect["residuals"]) > max(g["px"] for g in rect["residuals"])  # LOO is the honest one
    # the CLI printed the same RMS
    printed = float(re.search(r"RMS: ([0-9.]+) px", r.output).group(1))
    assert printed == pytest.approx(rect["rms_pixels"], abs=1e-3)
    assert "leave-one-out" in item["properties"]["tt09:accuracy"]
    # the catalogued COG holds the rectified pixels (same as the file rectify wrote)
    from ingest.items import resolve_href

    asset = next(iter(item["assets"].values()))
    with rasterio.open(resolve_href(asset["href"], s.resolved_data_dir)) as a, rasterio.open(out) as b:
        assert a.crs.to_epsg() == 32648 and a.transform == b.transform
        got, want = a.read(1, masked=True), b.read(1, masked=True).astype("float32")
        assert np.ma.allclose(got, want)


def test_without_a_date_nothing_is_catalogued_and_the_file_is_refused_at_ingest(env, scan, tmp_path):
    from ingest.sources.errors import UnsupportedFile
    from ingest.sources.local import record_for

    s, cat = env
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(4, 0.3))
    out = tmp_path / "undated.tif"
    r = _run([scan, "--gcps", csv_path, "--method", "polynomial2", "--out", out])
    assert r.exit_code == 0, r.output
    assert "not catalogued" in r.output and out.exists()
    assert _items(cat) == []
    # ingesting the undated scan by hand is refused, not dated by its mtime
    with pytest.raises(UnsupportedFile, match="rectified scan without an acquisition date"):
        record_for(out)


def test_bad_dates_exit_2_and_write_nothing(env, scan, tmp_path):
    s, cat = env
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(4, 0.3))
    for bad in ("yesterday", "1965-13-40", "3020"):
        out = tmp_path / f"bad_{abs(hash(bad))}.tif"
        r = _run([scan, "--gcps", csv_path, "--method", "polynomial2", "--out", out, "--datetime", bad])
        assert r.exit_code != 0
        assert "--datetime" in (r.output + str(r.exception))
        assert not out.exists()
    assert _items(cat) == []


def test_a_failed_catalogue_step_leaves_no_item_and_no_cog(env, scan, tmp_path, monkeypatch):
    import ingest.sources.pipeline as pipeline

    s, cat = env
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(4, 0.3))
    out = tmp_path / "fails.tif"

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pipeline, "write_ard_item", boom, raising=False)
    monkeypatch.setattr(pipeline, "run_ingest", boom)
    r = _run([scan, "--gcps", csv_path, "--method", "polynomial2", "--out", out, "--datetime", "1965"])
    assert r.exit_code != 0
    assert not out.exists()
    assert _items(cat) == []

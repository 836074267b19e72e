"""The demo is idempotent; the CLI rejects bad input with exit code 2 and changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hpgeo.cli import main
from base.settings import Settings, override_settings
from ingest.catalog import Catalog, SearchQuery


def _snapshot(cat: Catalog, data_dir: Path) -> tuple[list, dict]:
    items = sorted((i["collection"], i["id"], json.dumps(i, sort_keys=True)) for i in cat.search(SearchQuery.build()))
    files = {str(p.relative_to(data_dir)): p.stat().st_mtime_ns for p in data_dir.rglob("*.tif")}
    return items, files


def test_demo_twice_leaves_the_same_items(demo_settings, demo_catalog, capsys):
    data_dir = demo_settings.resolved_data_dir
    items_before, files_before = _snapshot(demo_catalog, data_dir)
    assert len(items_before) >= 5 and len(files_before) >= 20
    with override_settings(demo_settings):
        assert main(["demo"]) == 0
    items_after, files_after = _snapshot(demo_catalog, data_dir)
    assert items_after == items_before  # same ids, same content, no duplicates
    assert files_after == files_before  # not even rewritten
    out = capsys.readouterr().out
    assert f"0 new, {sum(1 for c, _, _ in items_before if c.startswith(('sentinel', 'landsat')))} unchanged" in out
    assert "0 built" in out


@pytest.fixture()
def empty_env(tmp_path):
    s = Settings(data_dir=tmp_path / "data")
    with override_settings(s):
        yield s


def _aoi_count(s: Settings) -> int:
    return len(Catalog.from_settings(s).aois(include_builtin=False))


def test_aoi_import_real_boundaries_with_validity(empty_env, shared_file, capsys):
    f = shared_file("vector/haiphong/haiphong_province_old_and_new.geojson")
    assert main(["aoi", "import", str(f), "--valid-from", "2025-07-01", "--where", "ten_tinh=TP Hải Phòng", "--id-prefix", "official-"]) == 0
    aois = Catalog.from_settings(empty_env).aois(include_builtin=False)
    assert [a.id for a in aois] == ["official-tp-hai-phong"]
    a = aois[0]
    assert a.valid_from.isoformat() == "2025-07-01" and a.geometry.geom_type in ("Polygon", "MultiPolygon")
    # the merged city (Hai Phong + Hai Duong) is about 3,200 km² of land
    assert 2500 < a.area_km2() < 3500
    assert main(["aoi", "list", "--on", "2025-06-30", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert "official-tp-hai-phong" not in [f["id"] for f in listed["features"]]


def test_aoi_import_kml(empty_env, shared_file):
    f = shared_file("vector/haiphong/vn_63_provinces_pre2025_ODM.kml")
    assert main(["aoi", "import", str(f), "--valid-to", "2025-06-30", "--name-field", "ten_tinh", "--id-prefix", "p63-"]) == 0
    assert _aoi_count(empty_env) == 63


@pytest.mark.parametrize(
    "content,name",
    [
        ("this is not json {", "broken.geojson"),
        ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[106,20],[107,21]]}}]}', "line.geojson"),
        ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"ok"},"geometry":{"type":"Polygon","coordinates":[[[106,20],[107,20],[107,21],[106,20]]]}},{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106,20]}}]}', "mixed.geojson"),
        ('{"type":"FeatureCollection","features":[]}', "empty.geojson"),
        ("", "empty.gpkg"),
        ("not a shapefile", "x.shp"),
    ],
)
def test_aoi_import_bad_files_exit_2_and_change_nothing(empty_env, tmp_path, capsys, content, name):
    f = tmp_path / name
    f.write_text(content)
    assert main(["aoi", "import", str(f)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and name in err.replace("\n", "")
    assert _aoi_count(empty_env) == 0


def test_aoi_import_bad_options_exit_2(empty_env, tmp_path, capsys):
    f = tmp_path / "ok.geojson"
    f.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"ok"},"geometry":{"type":"Polygon","coordinates":[[[106,20],[107,20],[107,21],[106,20]]]}}]}')
    assert main(["aoi", "import", str(f), "--valid-from", "1 July"]) == 2
    assert main(["aoi", "import", str(f), "--valid-from", "2025-07-01", "--valid-to", "2025-01-01"]) == 2
    assert main(["aoi", "import", str(tmp_path / "missing.geojson")]) == 2
    assert _aoi_count(empty_env) == 0
    assert main(["aoi", "import", str(f)]) == 0 and _aoi_count(empty_env) == 1


def test_catalog_search_cli(demo_settings, capsys):
    with override_settings(demo_settings):
        assert main(["catalog", "search", "--collection", "sentinel-1-grd", "--bbox", "106.6,20.6,106.8,20.8", "--datetime", "2025-09-10/2025-09-20", "--json"]) == 0
        fc = json.loads(capsys.readouterr().out)
        assert [f["id"] for f in fc["features"]] == ["SIM-S1A-IW-GRDH-20250915T110231-HAIPHONG"]
        assert main(["catalog", "search", "--bbox", "106,20,105,21"]) == 2
        assert "west" in capsys.readouterr().err
        assert main(["catalog", "search", "--datetime", "last week"]) == 2


def test_aoi_delete(empty_env, tmp_path, capsys):
    from typer.testing import CliRunner

    from hpgeo.cli import app

    f = tmp_path / "two.geojson"
    ring = [[106, 20], [106.1, 20], [106.1, 20.1], [106, 20]]
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "Polygon", "coordinates": [[[x + k, y] for x, y in ring]]}}
        for k, n in ((0, "Một"), (0.2, "Hai"))]}))
    assert main(["aoi", "import", str(f)]) == 0 and _aoi_count(empty_env) == 2
    # asked, declined: nothing deleted (exit 1)
    declined = CliRunner().invoke(app, ["aoi", "delete", "mot"], input="n\n")
    assert declined.exit_code == 1 and "Delete AOI 'mot'" in declined.output and _aoi_count(empty_env) == 2
    capsys.readouterr()
    assert main(["aoi", "delete", "mot", "--yes"]) == 0
    assert "deleted AOI mot" in capsys.readouterr().out
    assert [a.id for a in Catalog.from_settings(empty_env).aois(include_builtin=False)] == ["hai"]
    assert main(["aoi", "delete", "mot", "--yes"]) == 2
    assert "no imported AOI 'mot'" in capsys.readouterr().err
    assert main(["aoi", "delete", "cat-ba", "--yes"]) == 2
    assert "built-in AOI and cannot be deleted" in capsys.readouterr().err.replace("\n", " ")
    assert "cat-ba" in [a.id for a in Catalog.from_settings(empty_env).aois()] and _aoi_count(empty_env) == 1

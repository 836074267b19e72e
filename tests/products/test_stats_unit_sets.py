"""Statistics per unit set are stored side by side (issue 14): computing an item's statistics over the
imported communes no longer deletes those over the built-in AOIs, and migration 0004 keys old rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box, mapping

from base.settings import Settings, override_settings

X0, Y1, CELL, N = 670000.0, 2290000.0, 20.0, 100  # a 2 × 2 km UTM 48N class map near Đồ Sơn
FLOOD_COLS = 30  # columns 0..29 are flood (class 1), the rest not water (class 0)
WHEN = dt.datetime(2025, 9, 12, 11, 0, tzinfo=dt.timezone.utc)


def _utm_box_ll(x0, y0, x1, y1):
    from pyproj import Transformer

    t = Transformer.from_crs(32648, 4326, always_xy=True)
    return Polygon([t.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))])


@pytest.fixture
def world(tmp_path: Path):
    import rasterio
    from rasterio.transform import from_origin

    from geo.aoi import AOI
    from ingest.catalog import Catalog

    s = Settings(data_dir=tmp_path, database_url=None)
    with override_settings(s):
        cat = Catalog.from_settings(s)
        data = np.zeros((N, N), "uint8")
        data[:, :FLOOD_COLS] = 1
        tif = tmp_path / "flood.tif"
        with rasterio.open(tif, "w", driver="GTiff", width=N, height=N, count=1, dtype="uint8", crs="EPSG:32648",
                           transform=from_origin(X0, Y1, CELL, CELL), nodata=255) as ds:
            ds.write(data, 1)
        foot = _utm_box_ll(X0, Y1 - N * CELL, X0 + N * CELL, Y1)
        mid = X0 + N * CELL / 2
        cat.put_aois([
            AOI("west", "Tây", "West", _utm_box_ll(X0, Y1 - N * CELL, mid, Y1), kind="commune", valid_from=dt.date(2025, 7, 1)),
            AOI("east", "Đông", "East", _utm_box_ll(mid, Y1 - N * CELL, X0 + N * CELL, Y1), kind="commune", valid_from=dt.date(2025, 7, 1)),
        ])
        cat.put_collection({"type": "Collection", "id": "flood-extent", "stac_version": "1.0.0", "description": "flood", "license": "proprietary",
                            "extent": {"spatial": {"bbox": [list(foot.bounds)]}, "temporal": {"interval": [[None, None]]}}, "links": []}, kind="product")
        cat.put_item({"type": "Feature", "stac_version": "1.0.0", "id": "flood-test", "collection": "flood-extent",
                      "geometry": mapping(foot), "bbox": list(foot.bounds),
                      "properties": {"datetime": WHEN.isoformat().replace("+00:00", "Z"), "hpgeo:provenance": {"algorithm": "flood-sar", "inputs": {}}},
                      "assets": {"flood": {"href": str(tif), "type": "image/tiff; application=geotiff"}}, "links": []})
        yield s, cat
        cat.close()


def _by_key(rows):
    return {(r["unit_set"], r["unit"], r["class_value"]): r["hectares"] for r in rows}


def test_two_unit_sets_keep_both_their_rows(world):
    from products.stats_models import item_stats, timeseries
    from products.zonal import item_zonal_stats

    s, cat = world
    kw = dict(data_dir=s.resolved_data_dir)
    item_zonal_stats(cat, "flood-extent", "flood-test", units="aoi", **kw)
    aoi_rows = _by_key(item_stats(cat, "flood-extent", "flood-test"))
    assert aoi_rows and {k[0] for k in aoi_rows} == {"aoi"}
    item_zonal_stats(cat, "flood-extent", "flood-test", units="imported", **kw)
    both = _by_key(item_stats(cat, "flood-extent", "flood-test"))
    assert {k[0] for k in both} == {"aoi", "imported"}
    assert {k: v for k, v in both.items() if k[0] == "aoi"} == aoi_rows  # the first set is intact
    # known answer: 20 m cells (0.04 ha); west holds the 30 flooded columns and 20 dry ones, east 50 dry ones
    assert both[("imported", "west", 1)] == pytest.approx(N * FLOOD_COLS * 0.04, rel=1e-3)
    assert both[("imported", "west", 0)] == pytest.approx(N * (50 - FLOOD_COLS) * 0.04, rel=1e-3)
    assert both[("imported", "east", 1)] == pytest.approx(0.0, abs=1e-6)
    assert both[("imported", "east", 0)] == pytest.approx(N * 50 * 0.04, rel=1e-3)
    # recomputing the built-in set replaces its rows only, never the imported ones
    item_zonal_stats(cat, "flood-extent", "flood-test", units="aoi", **kw)
    assert _by_key(item_stats(cat, "flood-extent", "flood-test")) == both
    assert len(item_stats(cat, "flood-extent", "flood-test", "imported")) == 2 * 3  # 2 units × 3 classes (no data left out)
    assert [r["unit_set"] for r in timeseries(cat, "west", "flood-extent", 1, unit_set="imported")] == ["imported"]
    assert timeseries(cat, "west", "flood-extent", 1, unit_set="aoi") == []


def test_an_explicit_unit_list_needs_its_own_set_name(world):
    from geo.aoi import AOI
    from products.errors import InvalidInputs
    from products.stats_models import item_stats
    from products.zonal import item_zonal_stats

    s, cat = world
    grid = [AOI("g1", "Ô 1", "Cell 1", _utm_box_ll(X0, Y1 - N * CELL, X0 + 10 * CELL, Y1), kind="grid")]
    with pytest.raises(InvalidInputs, match="unit_set"):
        item_zonal_stats(cat, "flood-extent", "flood-test", data_dir=s.resolved_data_dir, units=grid)
    with pytest.raises(InvalidInputs, match="unit set"):
        item_zonal_stats(cat, "flood-extent", "flood-test", data_dir=s.resolved_data_dir, units=grid, unit_set="bad/../name")
    item_zonal_stats(cat, "flood-extent", "flood-test", data_dir=s.resolved_data_dir, units="imported")
    item_zonal_stats(cat, "flood-extent", "flood-test", data_dir=s.resolved_data_dir, units=grid, unit_set="grid-1km")
    rows = _by_key(item_stats(cat, "flood-extent", "flood-test"))
    assert {k[0] for k in rows} == {"imported", "grid-1km"}
    assert rows[("grid-1km", "g1", 1)] == pytest.approx(N * 10 * 0.04, rel=1e-3)


def test_stats_routes_show_the_sets_side_by_side(world):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from products.zonal import item_zonal_stats

    s, cat = world
    for units in ("aoi", "imported"):
        item_zonal_stats(cat, "flood-extent", "flood-test", data_dir=s.resolved_data_dir, units=units)
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        body = c.get("/stats/flood-extent/flood-test").json()
        assert body["unit_sets"] == ["aoi", "imported"] and {"west", "east"} <= set(body["units"])
        one = c.get("/stats/flood-extent/flood-test", params={"unit_set": "imported"}).json()
        assert {r["unit"] for r in one["rows"]} == {"west", "east"}
        ts = c.get("/stats/timeseries", params={"unit": "west", "collection": "flood-extent", "class": 1, "unit_set": "imported"}).json()
        assert ts["count"] == 1 and ts["rows"][0]["hectares"] == pytest.approx(120.0, rel=1e-3)
        missing = c.get("/stats/flood-extent/flood-test", params={"unit_set": "nope"})
        assert missing.status_code == 404 and "unit set 'nope'" in missing.json()["description"]
        bad = c.get("/stats/flood-extent/flood-test", params={"unit_set": "../x"})
        assert bad.status_code in (400, 422)


def test_migration_0004_keys_old_rows_by_unit_set(tmp_path):
    """Rows written under 0003 (no unit set) get ``aoi`` for built-in AOI ids and ``imported`` otherwise."""
    from sqlalchemy import text

    from ingest.catalog import Catalog
    from products.stats_models import item_stats, store_stats

    cat = Catalog.open(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    cat.upgrade("0003")
    with cat.engine.begin() as conn:
        for unit in ("do-son", "11455"):
            conn.execute(text(
                "INSERT INTO product_stats (collection_id, item_id, asset, unit_id, unit_name, datetime, class_value, class_name, "
                "hectares, fraction, valid_hectares, computed_at) VALUES ('flood-extent', 'it', 'flood', :u, '', '2025-09-12 11:00:00', 1, "
                "'flood', 5.0, 0.5, 10.0, '2025-09-12 12:00:00')"), {"u": unit})
    cat.upgrade()
    with cat.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version_catalog")).scalar() == "0004"
    assert {(r["unit"], r["unit_set"]) for r in item_stats(cat, "flood-extent", "it")} == {("do-son", "aoi"), ("11455", "imported")}
    # the same unit in a second set is now a distinct row, not a key conflict or a replacement
    store_stats(cat, "flood-extent", "it", [{"asset": "flood", "unit_id": "do-son", "unit_name": "", "datetime": WHEN, "class_value": 1,
                                             "class_name": "flood", "hectares": 7.0, "fraction": 0.7, "valid_hectares": 10.0}], unit_set="grid")
    got = {(r["unit"], r["unit_set"]): r["hectares"] for r in item_stats(cat, "flood-extent", "it")}
    assert got == {("do-son", "aoi"): 5.0, ("11455", "imported"): 5.0, ("do-son", "grid"): 7.0}
    cat.close()

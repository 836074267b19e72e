"""Exports of the demo's products (/exports and `hpgeo export`): formats GDAL opens, the right CRS, a control point
transformed independently with pyproj, hectares equal to the statistics API's, roles, size limit, hostile input.

Independent truth: pyproj (coordinates, the datum operation's name), rasterio/numpy reading the product's own
COG (pixel counts, polygon corners), pyogrio/rasterio/rio-cogeo reading the exported files.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
from pyproj import Transformer

from base.settings import override_settings

FLOOD, PERMANENT = 1, 2
UNIT = "tien-lang-kien-thuy"  # a built-in AOI the demo computes statistics for


@pytest.fixture(scope="module")
def demo(demo_settings, demo_catalog):
    """(app factory, keys, flood item) on the demo data; keys: analyst and viewer of SNNMT."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ingest.catalog import SearchQuery
    from registry import Registry

    reg = Registry.from_settings(demo_settings, seed_if_empty=True)
    keys = {"analyst": {"X-API-Key": reg.create_key("SNNMT", role="analyst")[1]},
            "viewer": {"X-API-Key": reg.create_key("SNNMT", role="viewer")[1]}}
    clients = []

    def make(**overrides):
        app = create_app(demo_settings.model_copy(update=overrides), catalog=demo_catalog)
        app.state.registry = reg
        c = TestClient(app, raise_server_exceptions=False)
        clients.append(c)
        return c

    items = list(demo_catalog.search(SearchQuery.build(collections=["flood-extent"], limit=1)))
    from products.stats_models import item_stats

    flood = next(it for it in items if any(r["unit"] == UNIT for r in item_stats(demo_catalog, "flood-extent", it["id"])))
    yield make, keys, flood
    for c in clients:
        c.close()
    reg.close()


def _source(demo_settings, item) -> Path:
    from ingest.items import resolve_href

    return Path(resolve_href(item["assets"]["flood"]["href"], demo_settings.resolved_data_dir))


def _stats_ha(client, item) -> dict[int, float]:
    r = client.get(f"/stats/flood-extent/{item['id']}")
    assert r.status_code == 200, r.text
    rows = [x for x in r.json()["rows"] if x["unit"] == UNIT and x["asset"] == "flood"]
    return {x["class_value"]: x["hectares"] for x in rows}


def _get(client, url, headers, tmp_path, name) -> Path:
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    p = tmp_path / name
    p.write_bytes(r.content)
    return p


def _corner_vertex(src: Path) -> tuple[float, float]:
    """The upper-left corner (EPSG:32648) of the top-most, left-most flood cell: a corner of a flood polygon."""
    with rasterio.open(src) as ds:
        a = ds.read(1)
        t = ds.transform
    rows, cols = np.nonzero(a == FLOOD)
    r = rows.min()
    c = cols[rows == r].min()
    return t.c + c * t.a, t.f + r * t.e


def test_geopackage_in_vn2000_has_crs_datum_control_point_and_hectares(demo, demo_settings, tmp_path):
    make, keys, item = demo
    c = make()
    gpkg = _get(c, f"/exports/flood-extent/{item['id']}.gpkg?crs=EPSG:9210", keys["analyst"], tmp_path, "f.gpkg")
    info = pyogrio.read_info(gpkg)
    assert pyogrio.list_layers(gpkg)[:, 0].tolist() == ["flood_extent"]
    assert info["crs"] == "EPSG:9210"
    # the datum shift PROJ selects for WGS 84 → VN-2000 TM-3 105°45′, named independently by pyproj
    from pyproj.transformer import TransformerGroup

    best = TransformerGroup("EPSG:4326", "EPSG:9210", always_xy=True).transformers[0]
    assert "VN-2000 to WGS 84" in best.description
    meta = pyogrio.read_info(gpkg, layer="flood_extent")["layer_metadata"] or {}
    assert meta["HPGEO_DATUM_OPERATION"] == best.description
    assert pyogrio.read_info(gpkg)["dataset_metadata"]["HPGEO_DATUM_OPERATION"] == best.description
    assert meta["HPGEO_SIMULATED"] == "yes"
    gdf = pyogrio.read_dataframe(gpkg)
    # control point: a polygon corner in EPSG:32648, transformed by pyproj alone, is a vertex of the export (≤ 1 m)
    x, y = _corner_vertex(_source(demo_settings, item))
    ex, ey = Transformer.from_crs("EPSG:32648", "EPSG:9210", always_xy=True).transform(x, y)
    import shapely

    verts = shapely.get_coordinates(gdf.geometry.values)
    d = np.hypot(verts[:, 0] - ex, verts[:, 1] - ey).min()
    assert d < 1.0, d
    # whole item: hectares per class = the product's cell counts × cell area (numpy on the COG)
    with rasterio.open(_source(demo_settings, item)) as ds:
        a = ds.read(1)
        cell_ha = abs(ds.transform.a * ds.transform.e) / 1e4
    for v in (FLOOD, PERMANENT):
        assert gdf.loc[gdf.class_value == v, "hectares"].sum() == pytest.approx((a == v).sum() * cell_ha, rel=1e-9)


def test_clipped_exports_match_the_statistics_api_within_half_a_percent(demo, tmp_path):
    make, keys, item = demo
    c = make()
    want = _stats_ha(c, item)
    assert want[FLOOD] > 10
    gpkg = _get(c, f"/exports/flood-extent/{item['id']}.gpkg?crs=EPSG:9210&aoi={UNIT}", keys["analyst"], tmp_path, "u.gpkg")
    gdf = pyogrio.read_dataframe(gpkg)
    tif = _get(c, f"/exports/flood-extent/{item['id']}.tif?crs=EPSG:9210&aoi={UNIT}", keys["analyst"], tmp_path, "u.tif")
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 9210
        a = ds.read(1)
        px_ha = abs(ds.transform.a * ds.transform.e) / 1e4
    for v in (FLOOD, PERMANENT):
        if want.get(v, 0) < 1:
            continue
        assert gdf.loc[gdf.class_value == v, "hectares"].sum() == pytest.approx(want[v], rel=0.005)
        assert gdf.loc[gdf.class_value == v].geometry.area.sum() / 1e4 == pytest.approx(want[v], rel=0.005)  # measured in VN-2000
        assert (a == v).sum() * px_ha == pytest.approx(want[v], rel=0.005)


def test_geotiff_in_vn2000_is_a_cog_with_the_datum_tag_and_lands_within_a_metre(demo, demo_settings, tmp_path):
    from rio_cogeo.cogeo import cog_validate

    make, keys, item = demo
    tif = _get(make(), f"/exports/flood-extent/{item['id']}.tif?crs=EPSG:9210", keys["analyst"], tmp_path, "f.tif")
    assert cog_validate(str(tif), quiet=True)[0]
    src = _source(demo_settings, item)
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 9210
        tags = ds.tags()
        out, ot = ds.read(1), ds.transform
    assert "VN-2000 to WGS 84" in tags["HPGEO_DATUM_OPERATION"] and tags["HPGEO_SIMULATED"] == "yes"
    with rasterio.open(src) as ds:
        a, st = ds.read(1), ds.transform
    # control point: the centre of mass of the flood cells, moved with pyproj, is where the export's flood cells are
    r, cc = np.nonzero(a == FLOOD)
    x, y = st.c + (cc + 0.5) * st.a, st.f + (r + 0.5) * st.e
    ex, ey = Transformer.from_crs("EPSG:32648", "EPSG:9210", always_xy=True).transform(x, y)
    r2, c2 = np.nonzero(out == FLOOD)
    ox, oy = ot.c + (c2 + 0.5) * ot.a, ot.f + (r2 + 0.5) * ot.e
    assert np.hypot(ox.mean() - np.mean(ex), oy.mean() - np.mean(ey)) < 1.0
    # and single cells: interior flood cells (5×5 all flood) land on flood in the export
    from scipy.ndimage import binary_erosion

    inner = binary_erosion(a == FLOOD, np.ones((5, 5), bool))
    rr, ci = np.nonzero(inner)
    pick = np.linspace(0, len(rr) - 1, 50).astype(int)
    px, py = Transformer.from_crs("EPSG:32648", "EPSG:9210", always_xy=True).transform(st.c + (ci[pick] + 0.5) * st.a, st.f + (rr[pick] + 0.5) * st.e)
    inv = ~ot
    cols, rows = inv * (np.asarray(px), np.asarray(py))
    assert (out[rows.astype(int), cols.astype(int)] == FLOOD).all()


def test_other_formats_and_crs(demo, demo_settings, tmp_path):
    make, keys, item = demo
    c = make()
    z = _get(c, f"/exports/flood-extent/{item['id']}.shp.zip?crs=EPSG:9209&bbox=106.6,20.62,106.7,20.7", keys["analyst"], tmp_path, "f.shp.zip")
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        assert {Path(n).suffix for n in names} >= {".shp", ".shx", ".dbf", ".prj", ".cpg", ".txt"}
        txt = zf.read(next(n for n in names if n.endswith(".txt"))).decode()
        assert "VN-2000 to WGS 84" in txt and "EPSG:9209" in txt
        zf.extractall(tmp_path / "shp")
    shp = next((tmp_path / "shp").rglob("*.shp"))
    assert shp.stem == "flood_extent"
    info = pyogrio.read_info(shp)
    assert "105-30" in info["crs"] or info["crs"] == "EPSG:9209"
    gj = _get(c, f"/exports/flood-extent/{item['id']}.geojson?bbox=106.6,20.62,106.7,20.7", keys["analyst"], tmp_path, "f.geojson")
    doc = json.loads(gj.read_text())
    assert doc["name"] == "flood_extent" and doc["features"]
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 106.5 < lon < 106.8 and 20.5 < lat < 20.8
    r = c.get(f"/exports/flood-extent/{item['id']}.csv?crs=EPSG:32648&bbox=106.6,20.62,106.7,20.7", headers=keys["analyst"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    import csv

    csv.field_size_limit(1 << 30)  # a large patch's WKT is longer than the csv module's default field limit
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and {row["crs"] for row in rows} == {"EPSG:32648"}
    from shapely import wkt

    g = wkt.loads(rows[0]["wkt"])
    assert 600_000 < g.centroid.x < 700_000 and 2_270_000 < g.centroid.y < 2_300_000  # UTM 48N metres
    assert float(rows[0]["hectares"]) == pytest.approx(g.area / 1e4, abs=1e-6)  # hectares are given to 6 decimals (0.01 m²)
    utm = _get(c, f"/exports/flood-extent/{item['id']}.tif?crs=EPSG:32648&bbox=106.6,20.62,106.7,20.7", keys["analyst"], tmp_path, "u.tif")
    with rasterio.open(utm) as ds:
        assert ds.crs.to_epsg() == 32648
        w, s, e, n = rasterio.warp.transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
        assert 106.59 < w and e < 106.71 and 20.61 < s and n < 20.71
    # every export was streamed from a temporary that is gone once sent
    exports = demo_settings.resolved_data_dir / "exports"
    assert not exports.exists() or list(exports.iterdir()) == []


def test_statistics_table_as_csv(demo):
    make, keys, item = demo
    c = make()
    r = c.get(f"/exports/stats/flood-extent/{item['id']}.csv", headers=keys["analyst"])
    assert r.status_code == 200, r.text
    import csv

    rows = list(csv.DictReader(io.StringIO(r.text)))
    api = c.get(f"/stats/flood-extent/{item['id']}").json()["rows"]
    assert len(rows) == len(api)
    got = {(x["unit"], x["class_value"]): float(x["hectares"]) for x in rows if x.get("hectares")}
    assert got == {(x["unit"], str(x["class_value"])): x["hectares"] for x in api if x.get("hectares") is not None}


def test_roles_no_key_401_viewer_403(demo):
    make, keys, item = demo
    c = make()
    for url in (f"/exports/flood-extent/{item['id']}.gpkg", f"/exports/stats/flood-extent/{item['id']}.csv"):
        assert c.get(url).status_code == 401
        r = c.get(url, headers=keys["viewer"])
        assert r.status_code == 403 and r.json()["code"]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "catalog.db" not in p.name and "registry" not in p.name}


def test_oversized_export_is_413_and_writes_nothing(demo, demo_settings):
    make, keys, item = demo
    c = make(max_export_bytes=10_000)
    root = demo_settings.resolved_data_dir
    before = _files(root)
    for fmt in ("tif", "gpkg"):
        r = c.get(f"/exports/flood-extent/{item['id']}.{fmt}?crs=EPSG:9210", headers=keys["analyst"])
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "ExportTooLarge" and "10,000" in r.json()["description"]
    assert _files(root) - before == set()
    # a small clip fits the same limit
    r = c.get(f"/exports/flood-extent/{item['id']}.tif?bbox=106.65,20.65,106.652,20.652", headers=keys["analyst"])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("query", [
    "crs=EPSG:3857", "crs=%2Bproj%3Dlonglat", "crs=EPSG:9210%27%3B--", "crs=" + "9" * 40,
    "bbox=1,2,3", "bbox=nan,20,106,21", "bbox=106.8,20.6,106.6,20.8", "bbox=200,0,210,10", "bbox=a,b,c,d",
    "aoi=../../etc/passwd", "aoi=%00x", "unit=do-son", "bbox=106.6,20.6,106.8,20.8&aoi=do-son", "asset=../flood",
    "colour=red", "bbox=10,10,11,11",
])
def test_hostile_parameters_are_400(demo, query):
    make, keys, item = demo
    r = make().get(f"/exports/flood-extent/{item['id']}.gpkg?{query}", headers=keys["analyst"])
    assert r.status_code == 400, (query, r.status_code, r.text)
    assert set(r.json()) >= {"code", "description"}


@pytest.mark.parametrize("path", ["/exports/flood-extent/{id}.exe", "/exports/flood-extent/{id}", "/exports/flood-extent/..%2F{id}.tif",
                                  "/exports/stats/flood-extent/{id}.xlsx"])
def test_hostile_paths(demo, path):
    make, keys, item = demo
    r = make().get(path.format(id=item["id"]), headers=keys["analyst"])
    assert r.status_code in (400, 404, 422), r.text
    assert r.status_code != 200


def test_unknown_item_404_and_continuous_raster_needs_tif(demo, demo_catalog):
    from ingest.catalog import SearchQuery

    make, keys, item = demo
    c = make()
    assert c.get("/exports/flood-extent/nope.gpkg", headers=keys["analyst"]).status_code == 404
    turb = next(demo_catalog.search(SearchQuery.build(collections=["turbidity"], limit=1)), None)
    if turb is None:
        pytest.skip("the demo built no turbidity item")
    r = c.get(f"/exports/turbidity/{turb['id']}.gpkg", headers=keys["analyst"])
    assert r.status_code == 400 and "tif" in r.json()["description"]
    w, s, e, n = turb["bbox"]
    bb = f"{w + 0.01},{s + 0.01},{e - 0.01},{n - 0.01}"
    r = c.get(f"/exports/turbidity/{turb['id']}.tif?crs=EPSG:9210&bbox={bb}", headers=keys["analyst"])
    assert r.status_code == 200
    with rasterio.open(io.BytesIO(r.content)) as ds:
        assert ds.crs.to_epsg() == 9210 and ds.dtypes[0].startswith("float")


def test_shoreline_transects_export(demo, demo_catalog, tmp_path):
    from ingest.catalog import SearchQuery

    make, keys, _ = demo
    sh = next(demo_catalog.search(SearchQuery.build(collections=["shoreline"], limit=1)), None)
    if sh is None:
        pytest.skip("the demo built no shoreline item")
    p = _get(make(), f"/exports/shoreline/{sh['id']}.gpkg?asset=transects&crs=EPSG:9210", keys["analyst"], tmp_path, "t.gpkg")
    gdf = pyogrio.read_dataframe(p)
    assert pyogrio.read_info(p)["crs"] == "EPSG:9210" and len(gdf) > 3 and "lrr" in {c.lower() for c in gdf.columns}


def test_cli_export(demo, demo_settings, tmp_path):
    from hpgeo.cli import main

    make, keys, item = demo
    out = tmp_path / "cli.gpkg"
    with override_settings(demo_settings):
        assert main(["export", f"flood-extent/{item['id']}", "--format", "gpkg", "--crs", "EPSG:9209", "--aoi", UNIT, "--out", str(out)]) == 0
        assert pyogrio.read_info(out)["crs"] == "EPSG:9209"
        assert main(["export", f"flood-extent/{item['id']}", "--format", "gpkg", "--crs", "EPSG:3857", "--out", str(tmp_path / "x.gpkg")]) == 2
        assert not (tmp_path / "x.gpkg").exists()
        stats = tmp_path / "s.csv"
        assert main(["export", f"flood-extent/{item['id']}", "--stats", "--out", str(stats)]) == 0
        assert UNIT in stats.read_text()
    assert not [n for n in os.listdir(tmp_path) if "hpgeo-tmp" in n]


def test_unit_clip_equals_the_cells_inside_a_grid_aligned_unit(demo, demo_settings, demo_catalog, tmp_path):
    """An administrative unit whose edges follow the product's cell edges: its export holds exactly the class cells
    of that block of the raster (numpy count × cell area), in the vector and in the raster export."""
    from shapely.geometry import box
    from shapely.ops import transform as shp_transform

    from geo.aoi import AOI

    make, keys, item = demo
    a, t = None, None
    with rasterio.open(_source(demo_settings, item)) as ds:
        a, t = ds.read(1), ds.transform
    r0, r1, c0, c1 = 400, 900, 300, 1000  # a block of cells
    x0, x1 = t.c + c0 * t.a, t.c + c1 * t.a
    y0, y1 = t.f + r0 * t.e, t.f + r1 * t.e
    to_ll = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
    utm_box = box(x0, y1, x1, y0).segmentize(5.0)  # densified: straight in UTM, so nearly straight in lon/lat too
    geom = shp_transform(lambda x, y: to_ll.transform(x, y), utm_box)
    demo_catalog.put_aois([AOI("xa-export-grid", "Xã Thử Lưới", "Grid test commune", geom, kind="commune")])
    try:
        c = make()
        gpkg = _get(c, f"/exports/flood-extent/{item['id']}.gpkg?crs=EPSG:32648&unit=xa-export-grid", keys["analyst"], tmp_path, "g.gpkg")
        gdf = pyogrio.read_dataframe(gpkg)
        tif = _get(c, f"/exports/flood-extent/{item['id']}.tif?crs=EPSG:32648&unit=xa-export-grid", keys["analyst"], tmp_path, "g.tif")
        with rasterio.open(tif) as ds:
            out = ds.read(1)
        block = a[r0:r1, c0:c1]
        cell_ha = abs(t.a * t.e) / 1e4
        for v in (FLOOD, PERMANENT):
            want = (block == v).sum() * cell_ha
            assert want > 1
            assert gdf.loc[gdf.class_value == v, "hectares"].sum() == pytest.approx(want, rel=1e-4)
            assert (out == v).sum() * cell_ha == pytest.approx(want, rel=1e-3)
        assert make().get(f"/exports/flood-extent/{item['id']}.gpkg?unit=tien-lang-kien-thuy", headers=keys["analyst"]).status_code == 400
    finally:
        demo_catalog.delete_aoi("xa-export-grid")

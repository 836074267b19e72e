"""Vector layers (/features, OGC API – Features style) and their Mapbox Vector Tiles, on the demo's products.

Independent truth: the flood product's own COG read with rasterio/numpy (cell counts, a polygon corner),
pyproj + morecantile for where a vertex must land in a tile, mapbox_vector_tile.decode for the tile.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

FLOOD = 1


@pytest.fixture(scope="module")
def fc(demo_settings, demo_catalog):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from ingest.catalog import SearchQuery

    c = TestClient(create_app(demo_settings, catalog=demo_catalog), raise_server_exceptions=False)
    flood = next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"], limit=1)))
    yield c, flood
    c.close()


def _cog(demo_settings, item):
    from ingest.items import resolve_href

    with rasterio.open(resolve_href(item["assets"]["flood"]["href"], demo_settings.resolved_data_dir)) as ds:
        return ds.read(1), ds.transform


def _all(c, url):
    """Follow the next links; returns (features, pages, numberMatched of the first page)."""
    feats, pages, matched = [], 0, None
    while url:
        r = c.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/geo+json")
        doc = r.json()
        matched = doc["numberMatched"] if matched is None else matched
        assert doc["numberReturned"] == len(doc["features"])
        feats += doc["features"]
        pages += 1
        nxt = [l["href"] for l in doc["links"] if l["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    return feats, pages, matched


def test_layers_are_listed_with_links(fc):
    c, _ = fc
    doc = c.get("/features/collections").json()
    names = [x["id"] for x in doc["collections"]]
    assert names == ["flood-polygons", "oil-slick-candidates", "shorelines", "transects", "aois", "admin-units"]
    one = c.get("/features/collections/flood-polygons").json()
    assert {l["rel"] for l in one["links"]} >= {"self", "items", "tiles"}
    assert c.get("/features/collections/nope").status_code == 404
    assert "conf/geojson" in " ".join(c.get("/features/conformance").json()["conformsTo"])


def test_flood_polygons_page_through_and_their_hectares_are_the_cells_of_the_raster(fc, demo_settings):
    c, item = fc
    feats, pages, matched = _all(c, f"/features/collections/flood-polygons/items?item={item['id']}&limit=500")
    assert matched == len(feats) and pages == -(-matched // 500) and pages > 1
    assert len({f["id"] for f in feats}) == len(feats)
    assert {f["properties"]["item"] for f in feats} == {item["id"]}
    assert {f["properties"]["class_value"] for f in feats} == {FLOOD}
    a, t = _cog(demo_settings, item)
    cell_ha = abs(t.a * t.e) / 1e4
    assert sum(f["properties"]["hectares"] for f in feats) == pytest.approx((a == FLOOD).sum() * cell_ha, rel=1e-6)
    # each polygon's own area, measured by pyproj on the ellipsoid, agrees with its hectares (UTM scale ≈ 1)
    from pyproj import Geod
    from shapely.geometry import shape

    geod = Geod(ellps="WGS84")
    big = max(feats, key=lambda f: f["properties"]["hectares"])
    assert abs(geod.geometry_area_perimeter(shape(big["geometry"]))[0]) / 1e4 == pytest.approx(big["properties"]["hectares"], rel=2e-3)


def test_bbox_datetime_and_item_filters(fc):
    c, item = fc
    bb = (106.65, 20.65, 106.70, 20.70)
    from shapely.geometry import box, shape

    feats, _, _ = _all(c, "/features/collections/flood-polygons/items?bbox=" + ",".join(map(str, bb)) + "&limit=1000")
    assert feats and all(shape(f["geometry"]).intersects(box(*bb)) for f in feats)
    whole = c.get("/features/collections/flood-polygons/items?limit=1").json()["numberMatched"]
    assert len(feats) < whole
    assert c.get("/features/collections/flood-polygons/items?bbox=10,10,11,11").json()["numberMatched"] == 0
    assert c.get("/features/collections/flood-polygons/items?datetime=2020-01-01T00:00:00Z/2020-12-31T00:00:00Z").json()["numberMatched"] == 0
    assert c.get("/features/collections/flood-polygons/items?datetime=2025-09-01T00:00:00Z/2025-09-30T00:00:00Z").json()["numberMatched"] == whole
    assert c.get("/features/collections/flood-polygons/items?item=SIM-nothing").json()["numberMatched"] == 0
    for bad in ("bbox=1,2,3", "bbox=nan,1,2,3", "datetime=yesterday", "limit=0", "colour=red", "item=../x"):
        r = c.get(f"/features/collections/flood-polygons/items?{bad}")
        assert r.status_code in (400, 422), (bad, r.text)
    assert c.get("/features/collections/aois/items?item=x").status_code == 400


def test_other_layers(fc, demo_catalog, demo_settings):
    c, _ = fc
    aois = c.get("/features/collections/aois/items?limit=100").json()
    assert {"haiphong-2025", "cat-ba", "do-son"} <= {f["id"] for f in aois["features"]}
    from ingest.catalog import SearchQuery

    sh = next(demo_catalog.search(SearchQuery.build(collections=["shoreline"], limit=1)), None)
    if sh is None:
        pytest.skip("the demo built no shoreline item")
    tr = c.get(f"/features/collections/transects/items?item={sh['id']}&limit=1000").json()
    from ingest.items import resolve_href

    src = json.loads(open(resolve_href(sh["assets"]["transects"]["href"], demo_settings.resolved_data_dir)).read())
    assert tr["numberMatched"] == len(src["features"])
    assert {f["properties"]["name"] for f in tr["features"]} == {f["properties"]["name"] for f in src["features"]}


def test_shoreline_geojson_files_have_clean_layer_names(demo_catalog, demo_settings):
    import pyogrio

    from ingest.catalog import SearchQuery
    from ingest.items import resolve_href

    sh = next(demo_catalog.search(SearchQuery.build(collections=["shoreline"], limit=1)), None)
    if sh is None:
        pytest.skip("the demo built no shoreline item")
    for key in ("shorelines", "transects"):
        path = resolve_href(sh["assets"][key]["href"], demo_settings.resolved_data_dir)
        assert pyogrio.list_layers(path)[:, 0].tolist() == [key]
        assert json.loads(open(path).read())["name"] == key


def test_admin_units_carry_the_official_code(make_client, settings):
    from shapely.geometry import box

    from alerts.units import wards
    from geo.aoi import AOI
    from ingest.catalog import Catalog

    unit = next(u for u in wards() if u.division == "xã")
    cat = Catalog.from_settings(settings)
    cat.put_aois([AOI("xa-test", unit.name, unit.name_en, box(106.6, 20.6, 106.65, 20.65), kind="commune"),
                  AOI("vung-test", "Vùng thử", "Test zone", box(106.6, 20.6, 106.65, 20.65), kind="zone")])
    c = make_client()
    doc = c.get("/features/collections/admin-units/items").json()
    assert [f["id"] for f in doc["features"]] == ["xa-test"]
    assert doc["features"][0]["properties"]["official_code"] == unit.code
    cat.close()


def test_vector_tile_vertex_lands_where_pyproj_and_morecantile_put_it(fc, demo_settings):
    import mapbox_vector_tile
    import morecantile

    c, item = fc
    a, t = _cog(demo_settings, item)
    rows, cols = np.nonzero(a == FLOOD)
    r = rows.min()
    col = cols[rows == r].min()
    x, y = t.c + col * t.a, t.f + r * t.e  # the upper-left corner of the top-most flood cell: a polygon corner
    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(x, y)
    X, Y = Transformer.from_crs("EPSG:32648", "EPSG:3857", always_xy=True).transform(x, y)
    tms = morecantile.tms.get("WebMercatorQuad")
    z = 15
    tile = tms.tile(lon, lat, z)
    b = tms.xy_bounds(tile)
    ex = (X - b.left) / (b.right - b.left) * 4096
    ey = (b.top - Y) / (b.top - b.bottom) * 4096  # MVT: y grows downwards from the tile's top edge
    r = c.get(f"/features/tiles/flood-polygons/{z}/{tile.x}/{tile.y}.pbf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    doc = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    lay = doc["flood-polygons"]
    assert lay["extent"] == 4096
    verts = []
    for f in lay["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for p in polys:
            for ring in p:
                verts += ring
    v = np.array(verts, dtype=float)
    assert np.hypot(v[:, 0] - ex, v[:, 1] - ey).min() <= 1.0
    # clipped: nothing beyond the tile plus its buffer
    assert v.min() >= -64 - 1 and v.max() <= 4096 + 64 + 1
    assert {f["properties"]["item"] for f in lay["features"]} == {item["id"]}


def test_tiles_empty_and_refused(fc):
    c, _ = fc
    r = c.get("/features/tiles/flood-polygons/10/0/0.pbf")
    assert r.status_code == 200 and r.content == b""
    assert c.get("/features/tiles/nope/1/0/0.pbf").status_code == 404
    assert c.get("/features/tiles/flood-polygons/2/9/0.pbf").status_code == 400
    assert c.get("/features/tiles/flood-polygons/31/0/0.pbf").status_code == 422

"""The demo's shoreline item: files, COG, vectors, STAC API round trip, tiles and the viewer layer."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import httpx
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from geo.cog import validate_cog
from ingest.catalog.query import SearchQuery
from ingest.items import resolve_href
from products.errors import InvalidInputs
from products.build import build_product, rebuild
from products.shoreline_assets import VECTOR_ASSETS


@pytest.fixture(scope="module")
def shoreline_item(demo_catalog):
    items = list(demo_catalog.search(SearchQuery.build(collections=["shoreline"])))
    assert len(items) == 1
    return items[0]


def _path(item, key, settings):
    return resolve_href(item["assets"][key]["href"], settings.resolved_data_dir)


def test_item_assets_files_and_provenance(shoreline_item, demo_settings):
    it = shoreline_item
    assert it["properties"]["hpgeo:simulated"] is True and it["id"].startswith("shoreline-20170211-20250219-")
    assert it["assets"]["rate"]["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    validate_cog(_path(it, "rate", demo_settings))
    for e in VECTOR_ASSETS:
        assert it["assets"][e.key]["type"] == e.media_type and it["assets"][e.key]["href"].endswith(e.filename)
    prov = it["properties"]["hpgeo:provenance"]
    assert prov["algorithm"] == "shoreline" and len(prov["inputs"]) == 9
    assert prov["parameters"]["beach_slope"] == 0.05 and len(prov["tide_series_sha256"]) == 64
    s = it["properties"]["hpgeo:statistics"]["rate"]
    assert s["with_rates"] == s["transects"] >= 30
    assert -13.5 < s["lrr_min_m_per_yr"] < s["lrr_mean_m_per_yr"] < s["lrr_max_m_per_yr"] < -4.5  # truth: −13…−5 m/yr
    assert s["eroding_significant"] == s["transects"]
    tr = gpd.read_file(_path(it, "transects", demo_settings))
    assert tr.crs.to_epsg() == 4326 and len(tr) == s["transects"]
    assert set(["nsm", "epr", "lrr", "r2", "se", "ci95"]) <= set(tr.columns)
    assert (tr["lrr"] < 0).all() and (tr["r2"] > 0.9).all()
    sl = gpd.read_file(_path(it, "shorelines", demo_settings))
    assert len(sl) == 9 and sl["tide_m"].notna().all() and sl.geometry.length.min() > 0
    for layer in ("shorelines", "transects", "baseline"):
        g = gpd.read_file(_path(it, "vectors", demo_settings), layer=layer)
        assert g.crs.to_epsg() == 32648 and len(g) > 0
    pos = pd.read_csv(_path(it, "positions", demo_settings))
    assert len(pos) == 9 and list(pos.columns[:2]) == ["dates", "tide_m"]
    # the raster carries each transect's LRR
    import rasterio

    with rasterio.open(_path(it, "rate", demo_settings)) as ds:
        v = ds.read(1)
    vals = np.unique(np.round(v[np.isfinite(v)], 4))
    np.testing.assert_allclose(sorted(vals), sorted(np.unique(np.round(tr["lrr"].to_numpy(), 4))), atol=1e-3)


def test_build_is_idempotent_and_rebuilds_from_provenance(shoreline_item, demo_catalog, demo_settings):
    scenes = [(v["collection"], v["id"]) for _, v in sorted(shoreline_item["properties"]["hpgeo:provenance"]["inputs"].items())]
    params = shoreline_item["properties"]["hpgeo:provenance"]["parameters"]
    d = demo_settings.resolved_data_dir
    assert build_product("shoreline", {"scenes": scenes}, params, catalog=demo_catalog, data_dir=d) is None
    assert build_product("shoreline", {"scenes": scenes[::-1] + scenes[:1]}, params, catalog=demo_catalog, data_dir=d) is None  # any order, repeats
    again = rebuild(shoreline_item, catalog=demo_catalog, data_dir=d)
    assert again["id"] == shoreline_item["id"]
    assert again["properties"]["hpgeo:statistics"] == shoreline_item["properties"]["hpgeo:statistics"]
    assert again["properties"]["hpgeo:provenance"]["tide_series_sha256"] == shoreline_item["properties"]["hpgeo:provenance"]["tide_series_sha256"]
    with pytest.raises(InvalidInputs, match="2 or more distinct items"):
        build_product("shoreline", {"scenes": scenes[:1] * 2}, params, catalog=demo_catalog, data_dir=d)
    from ingest.catalog import SearchQuery

    s1 = [("sentinel-1-grd", it["id"]) for it in demo_catalog.search(SearchQuery.build(collections=["sentinel-1-grd"]))][:2]
    assert len(s1) == 2
    with pytest.raises(InvalidInputs, match="must come from sentinel-2-l2a or carry the band roles green, swir16"):
        build_product("shoreline", {"scenes": s1}, params, catalog=demo_catalog, data_dir=d)  # radar: no optical roles


def test_stac_api_round_trip_tiles_and_viewer(live_server, shoreline_item, demo_catalog):
    it = demo_catalog.get_item("shoreline", shoreline_item["id"])  # as stored now (an earlier test may rebuild it)
    r = httpx.get(f"{live_server}/stac/collections/shoreline/items/{it['id']}")
    assert r.status_code == 200
    got = r.json()
    assert got["properties"] == it["properties"] and got["geometry"] == it["geometry"]
    assert {k: v["href"] for k, v in got["assets"].items()}.keys() == it["assets"].keys()
    geo = httpx.get(f"{live_server}/stac/collections/shoreline/items/{it['id']}/assets/transects")
    assert geo.status_code == 200
    assert len(json.loads(geo.content)["features"]) == it["properties"]["hpgeo:statistics"]["rate"]["transects"]
    coll = httpx.get(f"{live_server}/stac/collections/shoreline").json()
    assert coll["item_assets"]["shorelines"]["type"] == "application/geo+json"
    xyz = [l for l in got["links"] if l["rel"] == "xyz"][0]["href"]
    import morecantile

    w, s, e, n = it["bbox"]
    t = morecantile.tms.get("WebMercatorQuad").tile((w + e) / 2, (s + n) / 2, 14)
    tile = httpx.get(xyz.replace("{z}", "14").replace("{x}", str(t.x)).replace("{y}", str(t.y)))
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA"))
    painted = img[..., 3] > 0
    assert painted.any()
    # erosion everywhere: the diverging map paints red (r > b) wherever there is a rate
    assert (img[painted][:, 0].astype(int) > img[painted][:, 2].astype(int)).mean() > 0.95
    html = httpx.get(f"{live_server}/viewer", params={"lang": "en"}).text
    assert f"/tiles/shoreline/{it['id']}/{{z}}/{{x}}/{{y}}.png" in html
    assert "Shoreline change rate (m/yr)" in html and "erosion" in html
    vi = httpx.get(f"{live_server}/viewer").text
    assert "Tốc độ biến động đường bờ" in vi

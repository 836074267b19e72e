"""``/products`` and ``/stats`` on the live demo server; land-cover and mangrove items as STAC, COGs, tiles."""

from __future__ import annotations

import io

import httpx
import morecantile
import numpy as np
import pytest
from PIL import Image

from geo.cog import validate_cog
from ingest.items import resolve_href


def test_products_registry(live_server):
    r = httpx.get(f"{live_server}/products")
    assert r.status_code == 200
    names = [a["name"] for a in r.json()]
    assert {"flood-sar", "landcover", "landcover-change", "mangrove"} <= set(names)
    one = httpx.get(f"{live_server}/products/mangrove").json()
    assert one["collection"] == "mangrove-extent" and one["outputs"][0]["classes"]["2"] == "mangrove gain"
    nope = httpx.get(f"{live_server}/products/nope")  # names come from the registry
    assert nope.status_code == 422 and "flood-sar" in nope.text


def _newest(demo_catalog, coll):
    from ingest.catalog import SearchQuery

    return next(demo_catalog.search(SearchQuery.build(collections=[coll], limit=1)))


def test_stats_item_and_timeseries(live_server, demo_catalog):
    fl = _newest(demo_catalog, "flood-extent")
    r = httpx.get(f"{live_server}/stats/flood-extent/{fl['id']}")
    assert r.status_code == 200
    body = r.json()
    assert "tien-lang-kien-thuy" in body["units"]
    rows = [x for x in body["rows"] if x["unit"] == "tien-lang-kien-thuy"]
    assert sum(x["fraction"] for x in rows) == pytest.approx(1.0, abs=1e-4)
    ts = httpx.get(f"{live_server}/stats/timeseries", params={"unit": "tien-lang-kien-thuy", "collection": "flood-extent", "class": 1}).json()
    assert ts["count"] == 1 and ts["rows"][0]["hectares"] == next(x["hectares"] for x in rows if x["class_value"] == 1)
    s2 = _newest(demo_catalog, "sentinel-2-l2a")
    assert httpx.get(f"{live_server}/stats/sentinel-2-l2a/{s2['id']}").status_code == 400
    assert httpx.get(f"{live_server}/stats/flood-extent/nope").status_code == 404
    assert httpx.get(f"{live_server}/stats/timeseries").status_code == 422
    assert httpx.get(f"{live_server}/stats/timeseries", params={"unit": "do-son", "class": 999}).status_code == 422


@pytest.mark.parametrize("coll,asset,cmap", [("land-cover", "landcover", "landcover"), ("mangrove-extent", "mangrove", "mangrove")])
def test_product_items_stac_cog_tiles(live_server, demo_catalog, demo_settings, coll, asset, cmap):
    from maps.colormaps import COLORMAPS

    item = _newest(demo_catalog, coll)
    validate_cog(resolve_href(item["assets"][asset]["href"], demo_settings.resolved_data_dir))
    got = httpx.get(f"{live_server}/stac/collections/{coll}/items/{item['id']}").json()
    for key in ("id", "collection", "geometry", "properties"):
        assert got[key] == item[key]
    assert {"tilejson", "xyz"} <= {link["rel"] for link in got["links"]}
    z = 13
    t = morecantile.tms.get("WebMercatorQuad").tile(106.66, 20.70, z)
    r = httpx.get(f"{live_server}/tiles/{coll}/{item['id']}/{z}/{t.x}/{t.y}.png")
    assert r.status_code == 200
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    colours = {tuple(c) for c in img.reshape(-1, 4)[img.reshape(-1, 4)[:, 3] > 0].tolist()}
    assert colours and colours <= {tuple(c) for c in COLORMAPS[cmap].classes.values()}


def test_viewer_lists_land_layers_with_legends(live_server):
    html = httpx.get(f"{live_server}/viewer").text
    for label in ("Lớp phủ mặt đất", "Rừng ngập mặn"):
        assert label in html

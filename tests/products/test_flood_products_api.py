"""Every hazard product: valid COGs, STAC round-trip through the live API, viewer layer and legend."""

from __future__ import annotations

import json

import httpx
import pystac
import pytest

from geo.cog import validate_cog
from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from maps.colormaps import get_colormap

PRODUCTS = {  # collection: (default asset, colormap)
    "water-mask": ("water", "water"),
    "flood-ensemble": ("flood", "flood-ensemble"),
    "burn-severity": ("severity", "burn-severity"),
    "turbidity": ("turbidity", "turbidity"),
    "oil-slick-candidates": ("candidates", "oil-candidates"),
}


@pytest.fixture(scope="module")
def items(demo_catalog):
    return {c: next(demo_catalog.search(SearchQuery.build(collections=[c]))) for c in PRODUCTS}


def test_every_product_cog_validates(items, demo_settings):
    n = 0
    for item in items.values():
        for asset in item["assets"].values():
            validate_cog(resolve_href(asset["href"], demo_settings.resolved_data_dir))
            n += 1
    assert n == 7  # flood-ensemble and burn-severity have two assets each


def test_items_round_trip_through_the_stac_api(items, live_server):
    for cid, item in items.items():
        r = httpx.get(f"{live_server}/stac/collections/{cid}/items/{item['id']}")
        assert r.status_code == 200
        got = r.json()
        st = pystac.Item.from_dict(got)
        assert st.id == item["id"] and st.collection_id == cid
        assert st.properties["hpgeo:provenance"] == item["properties"]["hpgeo:provenance"]
        assert set(st.assets) == set(item["assets"])
        assert st.to_dict()["properties"]["hpgeo:provenance"]["hash"] == item["properties"]["hpgeo:provenance"]["hash"]
        assert pystac.Item.from_dict(st.to_dict()).to_dict() == st.to_dict()


def test_viewer_has_a_layer_and_legend_per_product(items, live_server):
    vi = httpx.get(f"{live_server}/viewer").text
    en = httpx.get(f"{live_server}/viewer", params={"lang": "en"}).text
    for cid, (asset, cmap) in PRODUCTS.items():
        item = items[cid]
        assert f"/tiles/{cid}/{item['id']}/{{z}}/{{x}}/{{y}}.png?assets={asset}" in vi
        spec = get_colormap(cmap)
        for e in spec.legend:
            assert e.label_vi in vi or json.dumps(e.label_vi)[1:-1] in vi, (cid, e.label_vi)
            assert e.label_en in en or json.dumps(e.label_en)[1:-1] in en, (cid, e.label_en)
    assert "Oil-slick candidate (unconfirmed)" in en


def test_oil_item_title_says_candidate(items):
    assert "candidates" in items["oil-slick-candidates"]["properties"]["title"].lower()

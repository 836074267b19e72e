"""POST /products/build/{name} and /products/rebuild/{collection}/{item}: coordinator key, validation at the boundary."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import rasterio

from ingest.catalog import SearchQuery
from ingest.items import resolve_href


@pytest.fixture(scope="module")
def keys(demo_settings):
    from registry import Registry

    reg = Registry.from_settings(demo_settings, seed_if_empty=True)
    coordinator = {"X-API-Key": reg.create_key("SKHCN", coordinator=True, label="products test")[1]}
    agency = {"X-API-Key": reg.create_key("SNNMT", label="products test", role="analyst")[1]}
    return coordinator, agency


def _flood(demo_catalog):
    return next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"])))


def _body(item, **params):
    inputs = {r: f"{v['collection']}/{v['id']}" for r, v in item["properties"]["hpgeo:provenance"]["inputs"].items()}
    return {"inputs": inputs, "parameters": params}


def test_writes_need_an_editor_key(live_server, demo_catalog, keys):
    coordinator, agency = keys
    fl = _flood(demo_catalog)
    url = f"{live_server}/products/rebuild/flood-extent/{fl['id']}"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"X-API-Key": "hpg_000000000000_" + "x" * 43}).status_code == 401
    r = httpx.post(url, headers=agency)
    assert r.status_code == 403 and r.json()["code"] == "RoleTooLow" and "editor" in r.json()["description"]
    r = httpx.post(f"{live_server}/products/build/flood-sar", json=_body(fl), headers=agency)
    assert r.status_code == 403


def test_build_validates_parameters_and_inputs(live_server, demo_catalog, keys):
    coordinator, _ = keys
    fl = _flood(demo_catalog)
    post = lambda name, body: httpx.post(f"{live_server}/products/build/{name}", json=body, headers=coordinator)  # noqa: E731
    r = post("flood-sar", _body(fl, filter_size=4))
    assert r.status_code == 400 and "the Lee filter window must be odd" in r.json()["description"]
    r = post("flood-sar", _body(fl, speckle="lee"))
    assert r.status_code == 400 and "speckle: Extra inputs are not permitted" in r.json()["description"]
    r = post("no-such-product", _body(fl))
    assert r.status_code == 422 and "flood-sar" in r.text  # the registry's names
    assert post("flood-sar", {"inputs": {"post": "no-slash"}}).status_code == 422
    assert post("flood-sar", {**_body(fl), "colour": "red"}).status_code == 422
    r = post("flood-sar", {"inputs": {"post": "sentinel-2-l2a/x"}})
    assert r.status_code == 400 and "must come from sentinel-1-grd" in r.json()["description"]
    assert post("flood-sar", {"inputs": {"post": "sentinel-1-grd/nope"}}).status_code == 404
    r = post("flood-sar", _body(fl))  # the demo built it with the defaults: current
    assert r.status_code == 200 and r.json()["status"] == "current" and r.json()["item"]["id"] == fl["id"]


def test_rebuild_from_provenance(live_server, demo_catalog, demo_settings, keys):
    coordinator, _ = keys
    fl = _flood(demo_catalog)
    url = f"{live_server}/products/rebuild/flood-extent/{fl['id']}"
    r = httpx.post(url, headers=coordinator)
    assert r.status_code == 200 and r.json()["status"] == "current" and r.json()["item"]["id"] == fl["id"]
    path = resolve_href(fl["assets"]["flood"]["href"], demo_settings.resolved_data_dir)
    with rasterio.open(path) as ds:
        before = ds.read(1)
    r = httpx.post(url, params={"force": "true"}, headers=coordinator, timeout=120)
    assert r.status_code == 200 and r.json()["status"] == "built"
    again = r.json()["item"]
    assert again["id"] == fl["id"] and again["properties"]["hpgeo:statistics"] == fl["properties"]["hpgeo:statistics"]
    with rasterio.open(path) as ds:
        assert np.array_equal(ds.read(1), before)
    assert httpx.post(f"{live_server}/products/rebuild/flood-extent/nope", headers=coordinator).status_code == 404
    r = httpx.post(f"{live_server}/products/rebuild/sentinel-2-l2a/x", headers=coordinator)
    assert r.status_code == 422  # not a product collection

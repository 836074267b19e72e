"""Paging of POST searches: a large body is never echoed in the `next` link, and a token only pages its own search."""

from __future__ import annotations

import json
import math

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_client(demo_settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(demo_settings)) as c:
        yield c


def _circle(n, cx=106.7, cy=20.8, radius=1.5):
    ring = [[round(cx + radius * math.cos(2 * math.pi * i / n), 7), round(cy + radius * math.sin(2 * math.pi * i / n), 7)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def _ids(page):
    return [f["id"] for f in page["features"]]


def test_large_post_body_pages_by_token_and_merge(demo_client, demo_catalog):
    body = {"intersects": _circle(2000), "limit": 3}
    assert len(json.dumps(body)) > 8192
    p1 = demo_client.post("/stac/search", json=body).json()
    nxt = next(l for l in p1["links"] if l["rel"] == "next")
    assert nxt["merge"] is True and set(nxt["body"]) == {"token"} and len(json.dumps(nxt)) < 400
    p2 = demo_client.post("/stac/search", json={**body, **nxt["body"]}).json()
    assert len(_ids(p2)) == 3 and not set(_ids(p1)) & set(_ids(p2))
    # the token alone (a client that ignores merge) is refused instead of paging an unfiltered search
    r = demo_client.post("/stac/search", json=nxt["body"])
    assert r.status_code == 400 and "belongs to another search" in r.json()["description"]


def test_small_post_body_is_repeated_with_the_token(demo_client):
    body = {"collections": ["sentinel-1-grd", "sentinel-2-l2a"], "limit": 1}
    p1 = demo_client.post("/stac/search", json=body).json()
    nxt = next(l for l in p1["links"] if l["rel"] == "next")
    assert nxt["merge"] is False and nxt["body"]["collections"] == body["collections"] and nxt["body"]["limit"] == 1
    p2 = demo_client.post("/stac/search", json=nxt["body"]).json()
    assert p2["numberReturned"] == 1 and _ids(p2) != _ids(p1)
    other = {**nxt["body"], "collections": ["flood-extent"]}
    assert demo_client.post("/stac/search", json=other).status_code == 400

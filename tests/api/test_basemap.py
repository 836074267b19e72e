"""The viewer's offline base map: land and sea where the geography has them (known places, pixel found with
morecantile, not with the code under test), Web Mercator pixel centres, errors, the XYZ override and the page
wiring (no CDN by default)."""

from __future__ import annotations

import io
import re
import json

import morecantile
import numpy as np
import pytest
from PIL import Image

from maps.basemap import COAST_RGB, LAND_RGB, SEA_RGB, tile_lonlat_grid

TMS = morecantile.tms.get("WebMercatorQuad")

# (lat, lon, expected): well-known places, far enough (> 5 km) from any coast for the 1 km mask
PLACES = [
    (21.0285, 105.8542, "land"),  # Hà Nội, Hoàn Kiếm
    (20.86, 106.68, "land"),  # Hải Phòng, Lê Chân
    (20.80, 107.02, "land"),  # Cát Bà island, the national park
    (20.00, 107.50, "sea"),  # Gulf of Tonkin, between Bạch Long Vĩ and the coast
    (15.00, 113.00, "sea"),  # South China Sea (Biển Đông)
    (48.85, 2.35, "land"),  # Paris (outside the full-resolution window: the coarse mask)
    (30.00, -40.00, "sea"),  # the North Atlantic
]


def _pixel(png: bytes, lat: float, lon: float, z: int) -> tuple[int, int, int]:
    t = TMS.tile(lon, lat, z)
    b = TMS.xy_bounds(t)
    x, y = TMS.xy(lon, lat)
    col = int((x - b.left) / (b.right - b.left) * 256)
    row = int((b.top - y) / (b.top - b.bottom) * 256)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return tuple(int(v) for v in img[row, col])


@pytest.mark.parametrize("z", [5, 11])
def test_known_places_are_land_or_sea(client, z):
    for lat, lon, kind in PLACES:
        t = TMS.tile(lon, lat, z)
        r = client.get(f"/viewer/basemap/{t.z}/{t.x}/{t.y}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(r.content)).size == (256, 256)
        want = LAND_RGB if kind == "land" else SEA_RGB
        assert _pixel(r.content, lat, lon, z) == want, (lat, lon, kind, z)


def test_a_coastal_tile_has_land_sea_and_a_coast_line(client):
    t = TMS.tile(106.75, 20.70, 10)  # the Tiên Lãng – Đồ Sơn coast
    img = np.asarray(Image.open(io.BytesIO(client.get(f"/viewer/basemap/{t.z}/{t.x}/{t.y}.png").content)).convert("RGB"))
    colours = {tuple(c) for c in img.reshape(-1, 3).tolist()}
    assert colours == {LAND_RGB, SEA_RGB, COAST_RGB}


def test_pixel_centres_are_web_mercator():
    z, x, y = 12, 3261, 1813
    lon, lat = tile_lonlat_grid(z, x, y)
    b = TMS.xy_bounds(morecantile.Tile(x, y, z))
    size = (b.right - b.left) / 256
    for i in (0, 100, 255):
        want = TMS.lnglat(b.left + (i + 0.5) * size, b.top - (i + 0.5) * size)
        assert lon[i] == pytest.approx(want.x, abs=1e-9) and lat[i] == pytest.approx(want.y, abs=1e-9)


def test_tiles_that_do_not_exist_are_refused(client):
    r = client.get("/viewer/basemap/3/8/0.png")
    assert r.status_code == 400 and r.json()["code"] == "BasemapTileError" and "0…7" in r.json()["description"]
    assert client.get("/viewer/basemap/21/0/0.png").status_code == 422
    assert client.get("/viewer/basemap/3/1/1.png", params={"style": "dark"}).status_code == 400  # unknown parameter


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="hp-config">(.*?)</script>', html, re.S).group(1))


def test_the_page_uses_the_own_base_map_unless_configured(client, make_client):
    page = client.get("/viewer").text
    cfg = _config(page)
    assert cfg["basemap"]["own"] is True and cfg["basemap"]["url"].endswith("/viewer/basemap/{z}/{x}/{y}.png")
    srcs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert srcs and all(s.startswith(("http://testserver/", "data:", "?")) for s in srcs), srcs  # no CDN
    osm = make_client(basemap_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png", basemap_attribution="© OpenStreetMap contributors")
    cfg = _config(osm.get("/viewer").text)
    assert cfg["basemap"] == {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "own": False,
                              "attribution": "© OpenStreetMap contributors", "maxNativeZoom": 19}


def test_viewer_parameters(client):
    assert client.get("/viewer", params={"item": "x"}).status_code == 400  # item needs collection
    assert client.get("/viewer", params={"collection": "nope"}).status_code == 404
    assert client.get("/viewer", params={"zoom": 40}).status_code == 422
    assert client.get("/viewer", params={"layers": "a<b"}).status_code == 422
    assert client.get("/viewer", params={"colour": "x"}).status_code == 400
    assert client.get("/viewer/static/app/viewer.js").headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert client.get("/viewer/static/app/../../viewer.py").status_code == 404

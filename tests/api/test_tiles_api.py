"""Tiles on a small catalog with known rasters: point values (the GeoJSON contract with the viewer), formats and
sizes, ETag/304, bidx and band math with known answers, previews, PNG legends, bounds, the tile cache, and asset
hrefs that must never reach GDAL. Expected values come from the rasters written here and from pyproj."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin

X0, Y0, RES, N = 640000.0, 2290000.0, 10.0, 512  # EPSG:32648, ~106.34 E 20.70 N
TO_LL = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def _lonlat(col: float, row: float) -> tuple[float, float]:
    return TO_LL.transform(X0 + (col + 0.5) * RES, Y0 - (row + 0.5) * RES)


def _write(path: Path, data: np.ndarray, nodata: float | None) -> None:
    profile = dict(driver="GTiff", width=N, height=N, count=data.shape[0], dtype=data.dtype.name, crs="EPSG:32648",
                   transform=from_origin(X0, Y0, RES, RES), nodata=nodata, tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.build_overviews([2, 4], rasterio.enums.Resampling.nearest)


def _flood() -> np.ndarray:
    a = np.ones((1, N, N), dtype="uint8")
    a[0, :, N // 2:] = 2
    a[0, :32, :32] = 255  # no-data block, top left
    return a


def _sar() -> np.ndarray:
    cols = np.broadcast_to(np.arange(N, dtype="float32"), (N, N))
    return np.stack([-20 + cols * 0.01, np.full((N, N), -10, dtype="float32")]).astype("float32")


def _item(iid: str, hrefs: dict[str, str]) -> dict:
    (w, s), (e, n) = TO_LL.transform(X0, Y0 - N * RES), TO_LL.transform(X0 + N * RES, Y0)
    assets = {
        k: {"href": h, "type": COG, "roles": ["data"],
            **({"raster:bands": [{"unit": "dB"}, {"unit": "dB"}]} if k == "sar" else {})}
        for k, h in hrefs.items()
    }
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": iid, "collection": "flood-extent",
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}, "bbox": [w, s, e, n],
        "properties": {"datetime": "2025-09-10T00:00:00Z", "title": iid}, "assets": assets, "links": [],
    }


@pytest.fixture
def tc(make_client, settings):
    d = settings.resolved_data_dir / "products" / "t"
    d.mkdir(parents=True)
    _write(d / "flood.tif", _flood(), 255)
    _write(d / "sar.tif", _sar(), None)
    c = make_client()
    cat = c.app.state.catalog
    cat.put_collection({"type": "Collection", "id": "flood-extent", "title": "Flood", "links": [], "license": "proprietary",
                        "extent": {}, "description": "test", "stac_version": "1.0.0"}, kind="product")
    cat.put_item(_item("t1", {"flood": "products/t/flood.tif", "sar": "products/t/sar.tif"}))
    c.cat = cat
    c.data_dir = settings.resolved_data_dir
    return c


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _rgba(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGBA"))


# --- point values --------------------------------------------------------------------------------------------


def test_point_values_are_the_contract(tc):
    lon, lat = _lonlat(100, 200)
    r = tc.get(f"/tiles/flood-extent/t1/point/{lon},{lat}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    f = r.json()
    assert f["type"] == "Feature" and f["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
    assert f["properties"]["collection"] == "flood-extent" and f["properties"]["item"] == "t1"
    v = f["properties"]["values"]
    assert [(x["asset"], x["band"]) for x in v] == [("flood", 1), ("sar", 1), ("sar", 2)]
    assert v[0] == {"asset": "flood", "band": 1, "value": 1, "unit": "class", "label": {"vi": "Vùng ngập mới", "en": "Flood (new water)"}}
    assert v[1]["unit"] == "dB" and v[1]["label"] is None and v[1]["value"] == pytest.approx(-20 + 100 * 0.01, abs=1e-5)
    assert v[2]["value"] == pytest.approx(-10.0)
    # the permanent-water half, one asset only
    lon, lat = _lonlat(400, 300)
    v = tc.get(f"/tiles/flood-extent/t1/point/{lon},{lat}", params={"assets": "flood"}).json()["properties"]["values"]
    assert v == [{"asset": "flood", "band": 1, "value": 2, "unit": "class", "label": {"vi": "Nước thường xuyên (biển, sông, đầm)", "en": "Permanent water (sea, rivers, ponds)"}}]
    # no-data: value null
    lon, lat = _lonlat(5, 5)
    v = tc.get(f"/tiles/flood-extent/t1/point/{lon},{lat}").json()["properties"]["values"]
    assert v[0]["value"] is None and v[0]["label"] is None and v[1]["value"] == pytest.approx(-20 + 5 * 0.01, abs=1e-5)


def test_point_errors(tc):
    lon, lat = _lonlat(100, 200)
    outside = tc.get("/tiles/flood-extent/t1/point/106.9,20.9")
    assert outside.status_code == 404 and outside.json()["code"] == "PointOutsideItem"
    for bad in ("181,20", "106,-91", "-180.5,0", "nan,20", "106,inf"):
        r = tc.get(f"/tiles/flood-extent/t1/point/{bad}")
        assert r.status_code == 400, (bad, r.text)
        assert set(r.json()) == {"code", "description"}
    assert tc.get("/tiles/flood-extent/t1/point/abc,20").status_code == 422
    assert tc.get(f"/tiles/flood-extent/t1/point/{lon},{lat}", params={"assets": "nosuch"}).status_code == 400
    assert tc.get(f"/tiles/flood-extent/t1/point/{lon},{lat}", params={"asset": "flood"}).status_code == 400  # misspelt
    assert tc.get(f"/tiles/flood-extent/nope/point/{lon},{lat}").status_code == 404


# --- formats, sizes, caching -----------------------------------------------------------------------------------


def _a_tile(z: int = 14) -> tuple[int, int, int]:
    x, y = _tile_of(*_lonlat(N / 2, N / 2), z)
    return z, x, y


def test_formats_and_sizes(tc):
    z, x, y = _a_tile()
    base = f"/tiles/flood-extent/t1/{z}/{x}/{y}"
    png = tc.get(base + ".png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    webp = tc.get(base + ".webp")
    assert webp.headers["content-type"] == "image/webp" and webp.content[:4] == b"RIFF" and webp.content[8:12] == b"WEBP"
    for ext in ("jpg", "jpeg"):
        j = tc.get(f"{base}.{ext}")
        assert j.headers["content-type"] == "image/jpeg" and j.content[:3] == b"\xff\xd8\xff"
        assert Image.open(io.BytesIO(j.content)).size == (256, 256)
    a = _rgba(png.content)
    assert a.shape == (256, 256, 4)
    assert np.array_equal(_rgba(webp.content), a)  # lossless WebP: the same pixels
    # both classes drawn in the registry's colours
    colours = {tuple(p) for p in a.reshape(-1, 4)}
    assert (220, 38, 38, 230) in colours and (37, 99, 235, 200) in colours
    big = tc.get(base + "@2x.png")
    assert big.status_code == 200 and _rgba(big.content).shape == (512, 512, 4)
    assert tc.get(base + "@2x.webp").headers["content-type"] == "image/webp"
    assert tc.get(base + ".gif").status_code == 422
    assert tc.get(base + "@3x.png").status_code == 422


def test_etag_and_304(tc):
    z, x, y = _a_tile()
    url = f"/tiles/flood-extent/t1/{z}/{x}/{y}.png"
    r1, r2 = tc.get(url), tc.get(url)
    etag = r1.headers["etag"]
    assert etag.startswith('"') and etag == r2.headers["etag"] and r1.content == r2.content
    assert "max-age" in r1.headers["cache-control"]
    nm = tc.get(url, headers={"If-None-Match": etag})
    assert nm.status_code == 304 and nm.content == b"" and nm.headers["etag"] == etag
    assert tc.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert tc.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    # another query, size or format is another ETag
    assert tc.get(url, params={"colormap": "water"}).headers["etag"] != etag
    assert tc.get(url.replace(".png", "@2x.png")).headers["etag"] != etag
    assert tc.get(url.replace(".png", ".webp")).headers["etag"] != etag
    # rewriting the file changes it
    f = tc.data_dir / "products" / "t" / "flood.tif"
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    r3 = tc.get(url, headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["etag"] != etag


# --- bidx, expressions ---------------------------------------------------------------------------------------


def test_bidx_and_expressions_known_answers(tc):
    z, x, y = _a_tile()
    url = f"/tiles/flood-extent/t1/{z}/{x}/{y}.png"
    # band 2 of sar is -10 dB everywhere: rescale -25..0 gives (15/25)*255 = 153 grey
    a = _rgba(tc.get(url, params={"assets": "sar", "bidx": "2", "rescale": "-25,0"}).content)
    inside = a[..., 3] == 255
    assert inside.mean() > 0.5 and np.all(a[inside][:, :3] == 153)
    # 2 * b2 = -20 dB: (5/25)*255 = 51
    a = _rgba(tc.get(url, params={"assets": "sar", "expression": "b2 * 2", "rescale": "-25,0"}).content)
    assert np.all(a[a[..., 3] == 255][:, :3] == 51)
    # asset names: flood == 2 is the east half, where(...) gives 1 there and 0 in the west: 255 and 0
    a = _rgba(tc.get(url, params={"expression": "where(flood == 2, 1, 0) + sar * 0", "rescale": "0,1"}).content)
    vals = a[a[..., 3] == 255][:, 0]
    assert set(np.unique(vals)) == {0, 255}
    # the centre tile straddles the class boundary at column 256: east of it is 255
    col_boundary = np.nonzero(a[128, :, 0] == 255)[0].min()
    assert 0 < col_boundary < 256
    for params, why in (
        ({"assets": "sar", "expression": "b2 * 2"}, "no rescale"),
        ({"assets": "sar", "bidx": "3", "rescale": "0,1"}, "band 3 of a 2-band asset"),
        ({"assets": "sar", "bidx": "1,2", "rescale": "0,1"}, "2 bands"),
        ({"assets": "sar", "bidx": "0", "rescale": "0,1"}, "band 0"),
        ({"expression": "b5 + 1", "assets": "sar", "rescale": "0,1"}, "no band 5"),
        ({"expression": "nosuch + 1", "rescale": "0,1"}, "unknown name"),
        ({"expression": "sar.__class__", "rescale": "0,1"}, "attribute"),
        ({"expression": "b1 + 1", "assets": "flood,sar", "rescale": "0,1"}, "b1 of which asset"),
        ({"expression": "sar", "bidx": "1", "rescale": "0,1"}, "both"),
        ({"assets": "sar", "rescale": "nan,1"}, "nan rescale"),
    ):
        r = tc.get(url, params=params)
        assert r.status_code == 400, (why, r.status_code, r.text)


def test_preview_and_tilejson_carry_bounds(tc):
    from maps.tiles import item_bounds

    r = tc.get("/tiles/flood-extent/t1/preview.png", params={"max_size": 128})
    assert r.status_code == 200 and _rgba(r.content).shape == (128, 128, 4)
    r = tc.get("/tiles/flood-extent/t1/preview.jpg", params={"assets": "sar", "bidx": "2", "rescale": "-25,0", "max_size": 64})
    assert r.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(r.content)).size == (64, 64)
    assert tc.get("/tiles/flood-extent/t1/preview.png", params={"max_size": 5000}).status_code == 422
    # bounds: the raster's corners transformed with pyproj
    xs = [X0, X0 + N * RES]
    ys = [Y0 - N * RES, Y0]
    lons, lats = zip(*(TO_LL.transform(a, b) for a in np.linspace(*xs, 21) for b in ys))
    lons2, lats2 = zip(*(TO_LL.transform(a, b) for a in xs for b in np.linspace(*ys, 21)))
    want = [min(lons + lons2), min(lats + lats2), max(lons + lons2), max(lats + lats2)]
    info = item_bounds(tc.cat.get_item("flood-extent", "t1"), tc.data_dir)
    assert np.allclose(info["bounds"], want, atol=1e-6)
    tj = tc.get("/tiles/flood-extent/t1/tilejson.json").json()
    assert np.allclose(tj["bounds"], want, atol=1e-6) and tj["minzoom"] <= tj["maxzoom"]
    tj = tc.get("/tiles/flood-extent/t1/tilejson.json", params={"assets": "sar", "expression": "b1 - b2", "rescale": "-20,0"}).json()
    assert "expression=b1+-+b2" in tj["tiles"][0] or "expression=b1%20-%20b2" in tj["tiles"][0]


# --- legends -------------------------------------------------------------------------------------------------


def test_legend_png(tc):
    from maps.colormaps import COLORMAPS

    vi, en = tc.get("/tiles/colormaps/flood.png"), tc.get("/tiles/colormaps/flood.png", params={"lang": "en"})
    assert vi.status_code == en.status_code == 200 and vi.headers["content-type"] == "image/png"
    assert vi.content != en.content
    a = _rgba(vi.content).reshape(-1, 4)
    for e in COLORMAPS["flood"].legend:
        assert (a == np.array(e.color)).all(axis=1).sum() >= 100, e  # a swatch of each class
    ramp = _rgba(tc.get("/tiles/colormaps/turbidity.png").content).reshape(-1, 4)
    from rio_tiler.colormap import cmap

    ylorbr = cmap.get("ylorbr")
    for v in (0, 255):
        assert (ramp == np.array(ylorbr[v])).all(axis=1).sum() >= 10  # both ends of the ramp
    assert tc.get("/tiles/colormaps/nosuch.png").status_code == 400
    assert tc.get("/tiles/colormaps/flood.png", params={"lang": "fr"}).status_code == 422
    assert tc.get("/tiles/colormaps/flood").json()["name"] == "flood"


# --- hrefs never reach GDAL unchecked --------------------------------------------------------------------------


def test_hostile_asset_hrefs_are_refused(tc, tmp_path_factory):
    d = tc.data_dir / "products" / "t"
    vrt = d / "indirect.tif"  # a VRT named .tif, pointing at a file outside the data directory
    outside = tmp_path_factory.mktemp("elsewhere") / "outside.tif"
    assert not outside.resolve().is_relative_to(tc.data_dir)
    _write(outside, _flood(), 255)
    vrt.write_text(f'<VRTDataset rasterXSize="{N}" rasterYSize="{N}"><VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
                   f'<SourceFilename relativeToVRT="0">{outside}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>'
                   "</VRTRasterBand></VRTDataset>")
    hrefs = {"h1": "../../../outside.tif", "h2": str(outside), "h3": "https://example.com/x.tif", "h4": "/vsicurl/http://127.0.0.1:9/x.tif",
             "h5": "products/t/indirect.tif", "h6": "/etc/passwd"}
    z, x, y = _a_tile()
    lon, lat = _lonlat(100, 200)
    for iid, href in hrefs.items():
        tc.cat.put_item(_item(iid, {"flood": href}))
        for url in (f"/tiles/flood-extent/{iid}/{z}/{x}/{y}.png", f"/tiles/flood-extent/{iid}/point/{lon},{lat}",
                    f"/tiles/flood-extent/{iid}/preview.png", f"/tiles/flood-extent/{iid}/WMTSCapabilities.xml",
                    f"/tiles/flood-extent/{iid}/tilejson.json"):
            r = tc.get(url)
            assert r.status_code == 400, (href, url, r.status_code, r.text[:200])
    # the good item still works
    assert tc.get(f"/tiles/flood-extent/t1/{z}/{x}/{y}.png").status_code == 200


def test_tile_cache_is_bounded():
    from maps.tiles import TileCache

    c = TileCache(max_bytes=10_000)
    for i in range(100):
        c.put(f"k{i}", bytes(1000))
        assert c.size <= 10_000
    assert len(c) == 10 and c.get("k99") is not None and c.get("k0") is None
    c.get("k90")
    c.put("new", bytes(1000))  # evicts the least recently used (k91), not k90
    assert c.get("k90") is not None and c.get("k91") is None
    c.put("huge", bytes(5000))  # larger than an eighth of the cache: not kept
    assert c.get("huge") is None and c.size <= 10_000


def test_wmts_kvp_requests(tc):
    z, x, y = _a_tile()
    kvp = {"SERVICE": "WMTS", "REQUEST": "GetTile", "VERSION": "1.0.0", "LAYER": "t1", "STYLE": "default", "FORMAT": "image/png",
           "TILEMATRIXSET": "WebMercatorQuad", "TILEMATRIX": str(z), "TILEROW": str(y), "TILECOL": str(x)}
    direct = tc.get(f"/tiles/flood-extent/t1/{z}/{x}/{y}.png")
    for url in ("/tiles/flood-extent/t1/wmts", "/tiles/flood-extent/wmts", "/tiles/flood-extent/t1/WMTSCapabilities.xml"):
        r = tc.get(url, params=kvp)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content == direct.content
    lower = {k.lower(): v for k, v in kvp.items()}  # parameter names are case-insensitive (OGC 06-121r9 11.5.2)
    assert tc.get("/tiles/flood-extent/t1/wmts", params=lower).content == direct.content
    webp = tc.get("/tiles/flood-extent/t1/wmts", params=kvp | {"FORMAT": "image/webp"})
    assert webp.headers["content-type"] == "image/webp"
    caps = tc.get("/tiles/flood-extent/wmts", params={"service": "wmts", "request": "GetCapabilities"})
    assert caps.status_code == 200 and b"<ows:Identifier>t1</ows:Identifier>" in caps.content
    for change, code in (
        ({"TILEMATRIXSET": "EPSG:4326"}, 400), ({"FORMAT": "image/gif"}, 400), ({"TILEMATRIX": "99"}, 400),
        ({"TILEROW": "-1"}, 400), ({"TILECOL": "x"}, 400), ({"SERVICE": "WMS"}, 400), ({"REQUEST": "GetFeatureInfo"}, 400),
        ({"STYLE": "other"}, 400), ({"VERSION": "2.0.0"}, 400), ({"BOGUS": "1"}, 400), ({"LAYER": "other"}, 404),
        ({"TILEMATRIX": "3", "TILEROW": "0", "TILECOL": "0"}, 404),  # a tile far from the item
    ):
        r = tc.get("/tiles/flood-extent/t1/wmts", params=kvp | change)
        assert r.status_code == code, (change, r.status_code, r.text[:200])
        assert set(r.json()) >= {"code", "description"}
    r = tc.get("/tiles/flood-extent/t1/wmts", params=[*kvp.items(), ("layer", "t1")])
    assert r.status_code == 400  # a parameter given twice
    assert tc.get("/tiles/nope/wmts", params={"SERVICE": "WMTS", "REQUEST": "GetCapabilities"}).status_code == 404

"""WMTS 1.0.0 and XYZ read by the clients GIS staff use: OWSLib, GDAL's WMTS driver and GDAL's WMS/TMS driver
(what QGIS does for an XYZ layer), each fetching a flood tile whose decoded pixels are compared with the product
COG warped to Web Mercator independently (rasterio.warp.reproject, tile bounds from the spherical-Mercator
formulas — not rio-tiler, not morecantile)."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import httpx
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject

from ingest.catalog.query import SearchQuery

R = 6378137.0
HALF = math.pi * R  # 20037508.342789244 m, half the Web-Mercator world
# the flood product's display colours (the colormap registry's contract with the viewer): class -> RGBA
FLOOD_RGBA = {1: (220, 38, 38, 230), 2: (37, 99, 235, 200)}
NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1", "xlink": "http://www.w3.org/1999/xlink"}


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * HALF / 2**z
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


def _classes_of_rgba(rgba: np.ndarray) -> np.ndarray:
    """(4, h, w) RGBA → class per pixel: 0 where transparent, the FLOOD_RGBA class, -1 for any other colour."""
    out = np.full(rgba.shape[1:], -1, dtype=int)
    out[rgba[3] == 0] = 0
    for k, c in FLOOD_RGBA.items():
        out[np.all(rgba == np.array(c, dtype=rgba.dtype)[:, None, None], axis=0)] = k
    return out


@pytest.fixture(scope="module")
def flood(demo_catalog, demo_settings):
    item = next(demo_catalog.search(SearchQuery(collections=("flood-extent",), limit=1)))
    path = demo_settings.resolved_data_dir / item["assets"]["flood"]["href"]
    if not path.exists():
        path = __import__("pathlib").Path(item["assets"]["flood"]["href"])
    return item, path


def _expected(path, z: int, x: int, y: int, size: int = 256) -> np.ndarray:
    """The product's classes on tile z/x/y: the COG reprojected to EPSG:3857 with nearest neighbour, no-data 0."""
    with rasterio.open(path) as src:
        dst = np.zeros((size, size), dtype="uint8")
        reproject(rasterio.band(src, 1), dst, dst_transform=from_bounds(*_tile_bounds(z, x, y), size, size),
                  dst_crs="EPSG:3857", resampling=Resampling.nearest, dst_nodata=0, src_nodata=src.nodata)
    dst[(dst != 1) & (dst != 2)] = 0
    return dst


def _busy_tile(path, z: int) -> tuple[int, int]:
    """A tile at zoom z over many flood pixels (the median flood pixel), from the COG with rasterio only."""
    with rasterio.open(path) as src:
        a = src.read(1)
        rows, cols = np.nonzero(a == 1)
        assert rows.size > 1000, "the demo flood product should flood something"
        i = np.argsort(rows * a.shape[1] + cols)[rows.size // 2]
        xs, ys = rasterio.transform.xy(src.transform, rows[i], cols[i])
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    return _tile_of(lon, lat, z)


def _agree(got: np.ndarray, want: np.ndarray) -> float:
    assert (got == -1).sum() == 0, "colours outside the flood colormap"
    return float((got == want).mean())


def test_item_has_wmts_link_and_capabilities_are_valid(live_server, flood):
    item, _ = flood
    r = httpx.get(f"{live_server}/stac/collections/flood-extent/items/{item['id']}")
    links = {l["rel"]: l for l in r.json()["links"]}
    assert links["wmts"]["href"].endswith(f"/tiles/flood-extent/{item['id']}/WMTSCapabilities.xml")
    caps = httpx.get(links["wmts"]["href"])
    assert caps.status_code == 200 and caps.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(caps.content)
    assert root.tag == "{http://www.opengis.net/wmts/1.0}Capabilities" and root.get("version") == "1.0.0"
    layer = root.find("w:Contents/w:Layer", NS)
    assert layer.findtext("ows:Identifier", namespaces=NS) == item["id"]
    lo = [float(v) for v in layer.findtext("ows:WGS84BoundingBox/ows:LowerCorner", namespaces=NS).split()]
    hi = [float(v) for v in layer.findtext("ows:WGS84BoundingBox/ows:UpperCorner", namespaces=NS).split()]
    w, s, e, n = item["bbox"]
    assert abs(lo[0] - w) < 0.01 and abs(lo[1] - s) < 0.01 and abs(hi[0] - e) < 0.01 and abs(hi[1] - n) < 0.01
    tms = root.find("w:Contents/w:TileMatrixSet", NS)
    assert tms.findtext("ows:SupportedCRS", namespaces=NS) == "urn:ogc:def:crs:EPSG::3857"
    # OGC 07-057r7 Annex E.4 (GoogleMapsCompatible): scale denominator of level 0 = 559082264.0287178
    m0 = tms.find("w:TileMatrix", NS)
    assert abs(float(m0.findtext("w:ScaleDenominator", namespaces=NS)) - 559082264.0287178) < 1e-3
    assert m0.findtext("w:TopLeftCorner", namespaces=NS).split() == [repr(-HALF), repr(HALF)]
    templates = {u.get("format"): u.get("template") for u in layer.findall("w:ResourceURL", NS)}
    assert set(templates) == {"image/png", "image/webp", "image/jpeg"}
    assert templates["image/png"].endswith(f"/tiles/flood-extent/{item['id']}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png")
    # the collection's capabilities offer the item as a layer too
    col = ET.fromstring(httpx.get(f"{live_server}/tiles/flood-extent/WMTSCapabilities.xml").content)
    assert item["id"] in [l.findtext("ows:Identifier", namespaces=NS) for l in col.findall("w:Contents/w:Layer", NS)]


def test_owslib_reads_capabilities_and_fetches_matching_tile(live_server, flood):
    from owslib.wmts import WebMapTileService

    item, path = flood
    z = 14
    x, y = _busy_tile(path, z)
    for url in (f"{live_server}/tiles/flood-extent/{item['id']}/wmts", f"{live_server}/tiles/flood-extent/wmts"):
        wmts = WebMapTileService(url, version="1.0.0")
        assert wmts.identification.type == "OGC WMTS"
        assert item["id"] in wmts.contents and "WebMercatorQuad" in wmts.tilematrixsets
        layer = wmts.contents[item["id"]]
        assert "image/png" in layer.formats
        assert str(z) in wmts.tilematrixsets["WebMercatorQuad"].tilematrix
        r = wmts.gettile(layer=item["id"], tilematrixset="WebMercatorQuad", tilematrix=str(z), row=y, column=x, format="image/png")
        rgba = np.asarray(Image.open(io.BytesIO(r.read())).convert("RGBA")).transpose(2, 0, 1)
        want = _expected(path, z, x, y)
        assert (want == 1).sum() > 100
        assert _agree(_classes_of_rgba(rgba), want) > 0.99
    # the RESTful template of the capabilities gives the same tile
    rest = layer.resourceURLs[0]["template"] if layer.resourceURLs[0]["format"] == "image/png" else next(
        u["template"] for u in layer.resourceURLs if u["format"] == "image/png")
    u = rest.replace("{TileMatrix}", str(z)).replace("{TileCol}", str(x)).replace("{TileRow}", str(y))
    rgba2 = np.asarray(Image.open(io.BytesIO(httpx.get(u).content)).convert("RGBA")).transpose(2, 0, 1)
    assert np.array_equal(rgba, rgba2)


def test_gdal_wmts_driver_reads_the_layer(live_server, flood):
    item, path = flood
    z = 14
    x, y = _busy_tile(path, z)
    with rasterio.Env(GDAL_HTTP_TIMEOUT="30", GDAL_HTTP_MAX_RETRY="0"):
        with rasterio.open(f"WMTS:{live_server}/tiles/flood-extent/{item['id']}/WMTSCapabilities.xml") as ds:
            assert ds.driver == "WMTS" and ds.crs.to_epsg() == 3857 and ds.count == 4
            size = 2 * HALF / 2**z / 256
            assert abs(ds.transform.a - size) < 1e-6 * size  # full resolution = tile matrix z (the layer's max zoom)
            left, _, _, top = _tile_bounds(z, x, y)
            col = round((left - ds.transform.c) / ds.transform.a)
            row = round((top - ds.transform.f) / ds.transform.e)
            rgba = ds.read(window=rasterio.windows.Window(col, row, 256, 256))
    want = _expected(path, z, x, y)
    assert _agree(_classes_of_rgba(rgba), want) > 0.99


def test_gdal_wms_tms_xyz_reads_tiles(live_server, flood, tmp_path):
    item, path = flood
    z = 14
    x, y = _busy_tile(path, z)
    xml = tmp_path / "xyz.xml"
    xml.write_text(f"""<GDAL_WMS>
  <Service name="TMS"><ServerUrl>{live_server}/tiles/flood-extent/{item['id']}/${{z}}/${{x}}/${{y}}.png</ServerUrl></Service>
  <DataWindow><UpperLeftX>{-HALF}</UpperLeftX><UpperLeftY>{HALF}</UpperLeftY><LowerRightX>{HALF}</LowerRightX>
    <LowerRightY>{-HALF}</LowerRightY><TileLevel>{z}</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>
    <YOrigin>top</YOrigin></DataWindow>
  <Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>4</BandsCount>
  <ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes>
</GDAL_WMS>""")
    with rasterio.Env(GDAL_HTTP_TIMEOUT="30", GDAL_HTTP_MAX_RETRY="0"):
        with rasterio.open(xml) as ds:
            assert ds.driver == "WMS" and ds.width == 256 * 2**z
            rgba = ds.read(window=rasterio.windows.Window(x * 256, y * 256, 512, 256))  # the tile and its east neighbour
    for i in (0, 1):
        want = _expected(path, z, x + i, y)
        assert _agree(_classes_of_rgba(rgba[:, :, i * 256:(i + 1) * 256]), want) > 0.99

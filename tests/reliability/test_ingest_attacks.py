"""Hostile hubs: a STAC API on 127.0.0.1 (and DHuS/OData answers) whose hrefs, ids and asset keys try to reach local
files or write outside the data directory, and whose assets are VRTs that read /etc/passwd or fetch a URL.

Each test runs the real CLI (``hpgeo ingest stac URL -c C --bbox …``) or the real record builders, then checks what
is refused (exit code 2 with a message), what the catalog holds, and that no file appeared anywhere under the
test's folder (the data directory *and* its parent)."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from base.paths import UnsafePath
from base.settings import Settings, override_settings
from hpgeo.cli import main
from ingest.catalog import Catalog, SearchQuery
from ingest.sources.base import SceneRecord
from ingest.sources.records import RECORDS_COLLECTION
from ingest.sources.stac import record_from_item
from tests.replay.loopback import Loopback

PASSWD_VRT = """<VRTDataset rasterXSize="64" rasterYSize="16">
  <SRS>EPSG:32648</SRS><GeoTransform>600000, 10, 0, 2300000, 0, -10</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
    <SourceFilename relativetoVRT="0">{src}</SourceFilename>
    <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset>
  </VRTRasterBand>
</VRTDataset>
"""
TIFF = "image/tiff; application=geotiff"


class HostileStac(Loopback):
    """A minimal STAC API on 127.0.0.1: landing page (core + item-search), POST /search answering ``items`` in one
    page, and ``files`` (path → bytes) for GET. Every request is logged as (method, path)."""

    def __init__(self, items: list[dict[str, Any]] | None = None, files: dict[str, bytes] | None = None):
        self.items, self.files, self.log = items or [], files or {}, []

    def __enter__(self) -> "HostileStac":
        srv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                srv.log.append(("POST", self.path))
                self._send(200, json.dumps({"type": "FeatureCollection", "features": srv.items, "links": []}).encode())

            def do_GET(self) -> None:
                srv.log.append(("GET", self.path))
                if self.path == "/":
                    return self._send(200, json.dumps({
                        "type": "Catalog", "id": "hostile", "description": "hostile", "stac_version": "1.0.0",
                        "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
                        "links": [{"rel": "search", "href": f"{srv.url}/search", "method": "POST", "type": "application/geo+json"},
                                  {"rel": "self", "href": f"{srv.url}/"}, {"rel": "root", "href": f"{srv.url}/"}],
                    }).encode())
                if self.path in srv.files:
                    return self._send(200, srv.files[self.path], "application/octet-stream")
                self._send(404, b"{}")

        self._serve(H)
        return self

    @property
    def url(self) -> str:
        return self.origin


def item(iid: str, assets: dict[str, dict[str, Any]], links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": iid, "collection": "sentinel-2-l2a",
        "geometry": {"type": "Polygon", "coordinates": [[[106.5, 20.6], [106.9, 20.6], [106.9, 20.9], [106.5, 20.9], [106.5, 20.6]]]},
        "bbox": [106.5, 20.6, 106.9, 20.9],
        "properties": {"datetime": "2025-01-01T03:25:00Z", "eo:cloud_cover": 5.0, "platform": "sentinel-2b"},
        "assets": assets, "links": links or [],
    }


def data_asset(href: str) -> dict[str, Any]:
    return {"href": href, "type": TIFF, "roles": ["data"]}


def geotiff_bytes(tmp: Path) -> bytes:
    p = tmp / "src.tif"
    with rasterio.open(p, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(600000, 2300000, 10, 10)) as ds:
        ds.write(np.arange(1024, dtype="uint16").reshape(1, 32, 32))
    data = p.read_bytes()
    p.unlink()
    return data


@pytest.fixture()
def env(tmp_path):
    s = Settings(data_dir=tmp_path / "data")
    with override_settings(s):
        Catalog.from_settings(s).close()  # the catalog exists before: the snapshots compare its contents
        yield s


def snapshot(root: Path, s: Settings) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Every file and folder under ``root`` (the test folder: data directory and outside it), and every item."""
    cat = Catalog.from_settings(s)
    items = sorted((i["collection"], i["id"], json.dumps(i["assets"], sort_keys=True)) for i in cat.search(SearchQuery.build()))
    cat.close()
    infra = ("catalog.db", ".hpgeo-writers.lock")  # the catalog's own files (SQLite WAL/SHM, the writers' lock)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.name.startswith(infra)), items


def err(capsys) -> str:
    """What the CLI printed on stderr, with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def stac_cli(url: str, *extra: str) -> int:
    return main(["ingest", "stac", url, "-c", "sentinel-2-l2a", "--bbox", "106.5,20.6,106.9,20.9", *extra])


# --- 1. hrefs: resolved against the item's URL, http(s) only ------------------------------------------------------
def test_hostile_hrefs_are_resolved_or_dropped_and_never_served_from_disk(tmp_path, env, caplog):
    from fastapi.testclient import TestClient

    from api.main import create_app

    items = [
        item("thumb-escape", {"thumbnail": {"href": "../../../../etc/passwd", "roles": ["thumbnail"]}}),
        item("asset-abs", {"B04": data_asset("/etc/passwd"), "B08": data_asset("file:///etc/passwd"),
                           "B02": data_asset("/vsicurl/http://127.0.0.1:9/x.tif")}),
        item("self-file", {"thumbnail": {"href": "t.png", "roles": ["thumbnail"]}}, [{"rel": "self", "href": "file:///etc/passwd"}]),
        item("self-abs", {"B04": data_asset("B04.tif")}, [{"rel": "self", "href": "/etc/passwd"}]),
    ]
    with HostileStac(items) as srv, caplog.at_level(logging.WARNING, logger="ingest.sources.stac"):
        assert stac_cli(srv.url) == 0
    cat = Catalog.from_settings(env)
    got = {i["id"]: i for i in cat.search(SearchQuery.build(collections=[RECORDS_COLLECTION]))}
    assert sorted(got) == ["asset-abs", "self-abs", "self-file", "thumb-escape"]
    # a relative href is resolved against the search URL: an http URL on the hub, never a local path
    assert got["thumb-escape"]["assets"]["thumbnail"]["href"] == f"{srv.url}/etc/passwd"
    # a file: self link is dropped (no "source" asset), and relative hrefs then resolve against the search URL
    assert "source" not in got["self-file"]["assets"]
    assert got["self-file"]["assets"]["thumbnail"]["href"] == f"{srv.url}/t.png"
    # an absolute-path self link is a path on the hub
    assert got["self-abs"]["assets"]["source"]["href"] == f"{srv.url}/etc/passwd"
    assert "file:///etc/passwd" in caplog.text and "/vsicurl/" in caplog.text  # each drop is logged
    rec = record_from_item(items[1], f"{srv.url}/search")
    assert rec.assets == {"B04": {"href": f"{srv.url}/etc/passwd", "type": TIFF, "roles": ["data"]}}  # file:, /vsi dropped

    client = TestClient(create_app(env))
    r = client.get("/stac/collections/scene-records/items/thumb-escape/assets/thumbnail")
    assert r.status_code == 404 and "root:" not in r.text  # a remote href: not served from this disk
    # the serve side refuses hrefs that a catalog might hold from elsewhere (400, the reason in the body)
    for n, href in enumerate(["../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "/vsizip//etc/x.zip/a"]):
        planted = dict(got["thumb-escape"], id=f"planted-{n}")
        planted["assets"] = {"thumbnail": {"href": href, "roles": ["thumbnail"]}}
        cat.put_items([planted])
        r = client.get(f"/stac/collections/scene-records/items/planted-{n}/assets/thumbnail")
        assert r.status_code == 400, (href, r.status_code)
        assert "root:" not in r.text
    cat.close()


def test_asset_hosts_restrict_absolute_urls_when_declared():
    it = item("x", {"a": data_asset("https://signed.example/a.tif"), "b": data_asset("https://evil.example/b.tif"),
                    "c": data_asset("c.tif")})
    rec = record_from_item(it, "https://hub.example/v1/search", asset_hosts=["signed.example"])
    assert {k: v["href"] for k, v in rec.assets.items()} == {"a": "https://signed.example/a.tif", "c": "https://hub.example/v1/c.tif"}
    rec = record_from_item(it, "https://hub.example/v1/search")  # by default any http(s) host (signed asset hosts)
    assert sorted(rec.assets) == ["a", "b", "c"]


# --- 2. ids and asset keys become paths: refused before anything is written -----------------------------------------
@pytest.mark.parametrize("bad_id", ["../../evil", "a/b", ".hidden", "..", "x\\..\\y", "/abs", ""])
def test_unsafe_item_ids_are_refused_and_nothing_is_written(tmp_path, env, bad_id, capsys):
    data = geotiff_bytes(tmp_path)
    items = [item("good-one", {"B04": data_asset("/files/b04.tif")}), item(bad_id, {"B04": data_asset("/files/b04.tif")})]
    with HostileStac(items, {"/files/b04.tif": data}) as srv:
        before = snapshot(tmp_path, env)
        assert stac_cli(srv.url, "--download") == 2
        assert snapshot(tmp_path, env) == before  # not even the good record: the answer is refused as a whole
        assert not [p for p in srv.log if p[1].startswith("/files/")]  # nothing downloaded
    assert "not a safe file name" in err(capsys)


@pytest.mark.parametrize("key", ["../../.venv/lib/python3.11/site-packages/evil.pth", "../evil", ".pth", "a/b.pth"])
def test_unsafe_asset_keys_are_refused(tmp_path, env, key, capsys):
    with HostileStac([item("S2B_OK", {key: data_asset("/files/evil.pth")})], {"/files/evil.pth": b"import os\n"}) as srv:
        before = snapshot(tmp_path, env)
        assert stac_cli(srv.url, "--download") == 2
        assert snapshot(tmp_path, env) == before
    assert not list(tmp_path.parent.rglob("evil.pth"))
    assert "asset key" in err(capsys)


def test_a_pth_asset_never_lands_as_pth(tmp_path, env):
    """A safe key with a ``.pth`` href: the file gets a raster extension, is refused as a raster, and is removed."""
    with HostileStac([item("S2B_PTH", {"x.pth": data_asset("/files/evil.pth")})], {"/files/evil.pth": b"import os\n"}) as srv:
        before = snapshot(tmp_path, env)
        assert stac_cli(srv.url, "--download") == 2
        assert ("GET", "/files/evil.pth") in srv.log
        assert snapshot(tmp_path, env) == before  # download removed, record not kept
    assert not [p for p in tmp_path.rglob("*") if p.suffix == ".pth"]


def test_scene_record_checks_its_id_and_keys():
    from shapely.geometry import box
    import datetime as dt

    kw = dict(title="t", source="stac", platform=None, product_type=None, datetime=dt.datetime(2025, 1, 1),
              footprint=box(0, 0, 1, 1), collection=None)
    with pytest.raises(UnsafePath, match="scene id"):
        SceneRecord(id="../x", **kw)
    with pytest.raises(UnsafePath, match="asset key"):
        SceneRecord(id="x", assets={"../../a.pth": {}}, **kw)
    assert SceneRecord(id="S1A_IW_GRDH_1SDV_20250101T000000", assets={"B04": {}}, **kw).id == "S1A_IW_GRDH_1SDV_20250101T000000"


def test_dhus_and_odata_answers_are_checked(tmp_path, monkeypatch):
    from ingest.sources.dhus import DhusSource, record_from_opensearch
    from ingest.sources.odata import record_from_product

    p = {"identifier": "../../evil", "title": "x", "beginposition": "2025-01-01T00:00:00", "footprint": "POINT (1 1)"}
    import datetime as dt

    p["beginposition"] = dt.datetime(2025, 1, 1)
    with pytest.raises(UnsafePath):
        record_from_opensearch("0f3c", p, "https://hub.example/")
    with pytest.raises(UnsafePath, match="uuid"):
        record_from_opensearch("../x", dict(p, identifier="S1A_OK"), "https://hub.example/")
    prod = {"Id": "a-b-c", "Name": "../evil.SAFE", "ContentDate": {"Start": "2025-01-01T00:00:00Z"},
            "GeoFootprint": {"type": "Point", "coordinates": [1, 1]}, "Attributes": []}
    with pytest.raises(UnsafePath):
        record_from_product(prod, "https://dl.example")
    with pytest.raises(UnsafePath, match="OData product id"):
        record_from_product(dict(prod, Name="S1A_OK.SAFE", Id="../../x"), "https://dl.example")
    ok = record_from_product(dict(prod, Name="S1A_OK.SAFE", Assets=[{"Type": "QUICKLOOK", "DownloadLink": "file:///etc/passwd"}]), "https://dl.example")
    assert ok.id == "S1A_OK" and ok.quicklook_url is None  # a file: quicklook is dropped
    # DHuS fetch: the hub's product title becomes the file name
    src = DhusSource("https://hub.example/apihub/", user="u", password="p")
    monkeypatch.setattr(src, "describe", lambda uuid: {"id": uuid, "title": "../../../evil", "md5": "0" * 32, "size": 1})
    rec = record_from_opensearch("0f3c", dict(p, identifier="S1A_OK"), "https://hub.example/apihub/")
    with pytest.raises(UnsafePath, match="title"):
        src.fetch(rec, tmp_path / "data" / "raw" / "dhus")
    assert list(tmp_path.rglob("*")) == []


# --- 3. VRT assets: never opened as VRT, no request made on GDAL's behalf -------------------------------------------
def test_vrt_asset_reading_etc_passwd_is_refused_and_removed(tmp_path, env, capsys):
    vrt = PASSWD_VRT.format(src="/etc/passwd").encode()
    assert len(vrt) < 600
    with HostileStac([item("S2B_VRT", {"B04": data_asset("/files/B04.tif")})], {"/files/B04.tif": vrt}) as srv:
        before = snapshot(tmp_path, env)
        assert stac_cli(srv.url, "--download") == 2
        after = snapshot(tmp_path, env)
    assert after == before  # no ARD item, no record, the download removed
    assert "not a readable raster in an accepted format" in err(capsys)


def test_vsicurl_vrt_asset_makes_no_request(tmp_path, env):
    with HostileStac() as victim:
        vrt = PASSWD_VRT.format(src=f"/vsicurl/{victim.url}/secret.tif").encode()
        with HostileStac([item("S2B_CURL", {"B04": data_asset("/files/B04.tif")})], {"/files/B04.tif": vrt}) as srv:
            before = snapshot(tmp_path, env)
            assert stac_cli(srv.url, "--download") == 2
            assert snapshot(tmp_path, env) == before
        assert victim.log == []  # GDAL never fetched the URL


def test_a_real_geotiff_asset_is_still_ingested(tmp_path, env):
    """The same hostile-server set-up with a proper COG: ingested (the refusals above are not blanket ones)."""
    data = geotiff_bytes(tmp_path)
    with HostileStac([item("S2B_GOOD", {"B04": data_asset("/files/B04.TIF")})], {"/files/B04.TIF": data}) as srv:
        assert stac_cli(srv.url, "--download") == 0
    cat = Catalog.from_settings(env)
    it = cat.get_item("sentinel-2-l2a", "S2B_GOOD")
    assert sorted(it["assets"]) == ["B04"] and it["assets"]["B04"]["href"] == "ard/sentinel-2-l2a/S2B_GOOD/B04.tif"
    assert (env.resolved_data_dir / "raw" / "stac" / "S2B_GOOD" / "B04.tif").read_bytes() == data
    assert cat.get_item(RECORDS_COLLECTION, "S2B_GOOD")["properties"]["hpgeo:status"] == "ingested"

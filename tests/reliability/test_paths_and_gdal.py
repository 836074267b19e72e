"""Paths from outside stay inside the data directory; GDAL opens only accepted formats, never indirection."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from base.errors import InvalidRequest
from base.paths import UnsafePath, check_remote, confine, safe_name
from geo.gdal import UnsafeRaster, open_checked
from ingest.items import resolve_href

PASSWD_VRT = """<VRTDataset rasterXSize="64" rasterYSize="16">
  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
    <SourceFilename relativetoVRT="0">{src}</SourceFilename>
    <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset>
  </VRTRasterBand>
</VRTDataset>
"""


def _tif(path: Path, dtype: str = "uint8", shape: tuple[int, int] = (8, 8)) -> Path:
    data = (np.arange(shape[0] * shape[1]).reshape(shape) % 200).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype=dtype,
                       crs="EPSG:32648", transform=from_origin(600000, 2300000, 10, 10)) as ds:
        ds.write(data, 1)
    return path


# --- confine / safe_name / check_remote ---------------------------------------------------------------------
@pytest.mark.parametrize("href", ["../../../../etc/passwd", "/etc/passwd", "a/../../x", "/vsicurl/http://evil/x.tif",
                                  "http://evil.example/x.tif", "x\x00y"])
def test_confine_refuses_paths_out_of_the_root(tmp_path, href):
    with pytest.raises(UnsafePath):
        confine(href, tmp_path)


def test_confine_follows_symlinks_before_checking(tmp_path):
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(UnsafePath):
        confine("link/passwd", tmp_path)


def test_confine_accepts_paths_inside(tmp_path):
    (tmp_path / "a").mkdir()
    assert confine("a/b.tif", tmp_path) == (tmp_path / "a" / "b.tif").resolve()
    assert confine(str(tmp_path / "a" / "b.tif"), tmp_path) == (tmp_path / "a" / "b.tif").resolve()
    assert confine("a/../c.tif", tmp_path) == (tmp_path / "c.tif").resolve()


@pytest.mark.parametrize("name", ["../x", "..", ".", ".pth", "a/b", "a\\b", "x.pth\n", "", "a" * 201, "ü-not-ascii"])
def test_safe_name_refuses(name):
    with pytest.raises(UnsafePath):
        safe_name(name, "item id")


@pytest.mark.parametrize("name", ["S2B_MSIL2A_20250101T032129_N0511_R118_T48QXH", "SIM-S1A-20250903", "B08.tif", "a=b+c@d"])
def test_safe_name_accepts(name):
    assert safe_name(name) == name


def test_unsafe_path_is_a_bad_request():
    assert issubclass(UnsafePath, InvalidRequest) and issubclass(UnsafeRaster, InvalidRequest)


def test_check_remote_only_under_configured_prefixes():
    pre = ["https://cogs.example.org/hpgeo/"]
    assert check_remote("https://cogs.example.org/hpgeo/a/b.tif", pre)
    assert check_remote("https://COGS.example.org/hpgeo/b.tif", pre)
    for bad in ("https://cogs.example.org/other/b.tif", "https://cogs.example.org@evil.example/hpgeo/b.tif",
                "https://cogs.example.org.evil.example/hpgeo/b.tif", "http://cogs.example.org/hpgeo/b.tif",
                "https://cogs.example.org/hpgeo/../secret.tif"):
        with pytest.raises(UnsafePath):
            check_remote(bad, pre)
    with pytest.raises(UnsafePath):
        check_remote("https://cogs.example.org/hpgeo/a.tif", [])


def test_resolve_href_confines_and_maps_remote(tmp_path):
    assert resolve_href("products/x/a.tif", tmp_path) == str((tmp_path / "products/x/a.tif").resolve())
    with pytest.raises(UnsafePath):
        resolve_href("../../../../etc/passwd", tmp_path)
    with pytest.raises(UnsafePath):
        resolve_href("/etc/passwd", tmp_path)
    with pytest.raises(UnsafePath):
        resolve_href("https://evil.example/a.tif", tmp_path)
    assert resolve_href("https://cogs.example.org/hpgeo/a.tif", tmp_path, ["https://cogs.example.org/hpgeo/"]) == \
        "/vsicurl/https://cogs.example.org/hpgeo/a.tif"
    assert resolve_href("s3://bucket/hpgeo/a.tif", tmp_path, ["s3://bucket/hpgeo/"]) == "/vsis3/bucket/hpgeo/a.tif"


# --- GDAL ----------------------------------------------------------------------------------------------------
def test_a_vrt_named_tif_that_reads_etc_passwd_is_refused(tmp_path):
    evil = tmp_path / "scene.tif"
    evil.write_text(PASSWD_VRT.format(src="/etc/passwd"))
    with rasterio.open(evil) as ds:  # what plain GDAL does: serves /etc/passwd as pixels
        assert bytes(ds.read(1)[0, :5]) == Path("/etc/passwd").read_bytes()[:5]
    with pytest.raises(UnsafeRaster, match="not a readable raster in an accepted format"):
        with open_checked(evil):
            pass


def test_a_vsicurl_vrt_is_refused_without_any_request(tmp_path):
    evil = tmp_path / "scene.tif"
    evil.write_text(PASSWD_VRT.format(src="/vsicurl/http://127.0.0.1:9/secret.bin"))
    with pytest.raises(UnsafeRaster):
        with open_checked(evil):
            pass


@pytest.mark.parametrize("path", ["/vsicurl/http://127.0.0.1:9/a.tif", "/vsizip//vsicurl/http://x/a.zip/a.tif", "http://x/a.tif"])
def test_virtual_paths_from_callers_are_refused(path):
    with pytest.raises(UnsafeRaster):
        with open_checked(path, allow_vsi=True):
            pass


def test_zero_byte_truncated_and_non_raster_files(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    good = _tif(tmp_path / "good.tif", shape=(256, 256))
    trunc = tmp_path / "trunc.tif"
    trunc.write_bytes(good.read_bytes()[:300])
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    for p, msg in ((empty, "empty"), (text, "not a readable raster")):
        with pytest.raises(UnsafeRaster, match=msg):
            with open_checked(p):
                pass
    with pytest.raises((UnsafeRaster, rasterio.errors.RasterioIOError)):
        with open_checked(trunc) as ds:
            ds.read(1)


def test_complex_rasters_are_refused(tmp_path):
    p = _tif(tmp_path / "slc.tif", dtype="complex64")
    with pytest.raises(UnsafeRaster, match="complex"):
        with open_checked(p):
            pass


def test_a_huge_sparse_tiff_is_refused_before_reading(tmp_path):
    p = tmp_path / "huge.tif"
    with rasterio.open(p, "w", driver="GTiff", width=200_000, height=200_000, count=1, dtype="uint8",
                       crs="EPSG:32648", transform=from_origin(0, 0, 1, 1), tiled=True, SPARSE_OK=True) as ds:
        pass
    assert os.path.getsize(p) < 50 << 20  # tiny on disk
    with pytest.raises(UnsafeRaster, match="over the limit"):
        with open_checked(p):
            pass


def test_an_accepted_geotiff_opens(tmp_path):
    p = _tif(tmp_path / "ok.tif")
    with open_checked(p) as ds:
        assert ds.driver == "GTiff" and ds.read(1)[0, 3] == 3

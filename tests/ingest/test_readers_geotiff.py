"""Plain GeoTIFF/JPEG2000 reader and lossless COG conversion (real S2 B01 JPEG2000)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo.cog import validate_cog
from ingest.readers.errors import ProductNotFound, UnsupportedProduct
from ingest.readers.geotiff import raster_to_cog, read_raster

B01 = "optical/s2_l1c_T31TDH/T31TDH_20180101T105441_B01.jp2"


@pytest.mark.realdata
def test_jp2_to_cog_identical_pixels(shared_file, tmp_path) -> None:
    src = shared_file(B01)
    out = raster_to_cog(src, tmp_path / "B01.tif")
    validate_cog(out)
    with rasterio.open(src) as a, rasterio.open(out) as b:
        assert (b.width, b.height, b.count) == (1830, 1830, 1)
        assert b.dtypes == a.dtypes == ("uint16",)
        assert b.transform == a.transform == Affine(60.0, 0.0, 399960.0, 0.0, -60.0, 4800000.0)
        assert b.crs == a.crs and b.crs.to_epsg() == 32631
        pa, pb = a.read(1), b.read(1)
        assert np.array_equal(pa, pb)
        assert pa.max() > 1000  # a real band, not an empty one
        assert b.overviews(1)  # a COG with overviews


def test_read_raster_scale_offset_nodata(tmp_path) -> None:
    path = tmp_path / "vnredsat_like.tif"
    data = np.array([[[0, 100], [200, 65535]], [[10, 0], [30, 40]]], dtype=np.uint16)
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=2, dtype="uint16", nodata=0,
                       crs="EPSG:32648", transform=Affine(2.5, 0, 600000, 0, -2.5, 2310000)) as ds:
        ds.write(data)
        ds.scales = (0.001, 0.01)
        ds.offsets = (0.0, -0.1)
        ds.set_band_description(1, "red")
        ds.update_tags(TIFFTAG_DATETIME="2019:05:04 03:20:00")
    sc = read_raster(path, platform="vnredsat-1")
    assert list(sc.bands) == ["red", "b2"]
    red = sc.bands["red"].values
    assert np.isnan(red[0, 0]) and red[0, 1] == pytest.approx(0.1) and red[1, 1] == pytest.approx(65.535)
    assert sc.bands["b2"].values[1, 1] == pytest.approx(40 * 0.01 - 0.1)
    assert sc.valid.values.tolist() == [[False, False], [True, True]]
    assert sc.bands["red"].dtype == np.float32 and sc.bands["red"].rio.crs.to_epsg() == 32648
    assert sc.datetime.isoformat() == "2019-05-04T03:20:00+00:00"
    # footprint: 5 m x 5 m square near 105.95 E, 20.9 N
    minx, miny, maxx, maxy = sc.footprint.bounds
    assert 105.9 < minx < maxx < 106.0 and 20.8 < miny < maxy < 21.0


def test_read_raster_errors(tmp_path) -> None:
    with pytest.raises(ProductNotFound):
        read_raster(tmp_path / "missing.tif")
    scan = tmp_path / "scan.tif"
    with rasterio.open(scan, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as ds:
        ds.write(np.zeros((1, 4, 4), np.uint8))
    with pytest.raises(UnsupportedProduct, match="rectify"):
        read_raster(scan)

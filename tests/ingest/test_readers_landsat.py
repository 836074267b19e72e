"""Landsat C2 L2: QA_PIXEL decoding and scaling (known answers) and a tiny synthetic product folder."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from ingest.readers.errors import MalformedMetadata, UnknownBand
from ingest.readers.landsat import decode_qa_pixel, parse_mtl, qa_valid, read_landsat_c2l2, scale_sr, scale_st

PID = "LC08_L2SP_126046_20231105_20231109_02_T1"


def test_qa_pixel_bits_known_answers() -> None:
    # real C2 QA_PIXEL values: 1 fill, 21824 clear land (bits 6, 8, 10, 12, 14), 21952 clear water (+bit 7),
    # 22280 high-confidence cloud (bit 3 + confidence bits), 23888 cloud shadow (bit 4), 30048 snow (bit 5),
    # 55052 cirrus + cloud (bits 2, 3), 21826 dilated cloud (bit 1)
    qa = np.array([1, 21824, 21952, 22280, 23888, 30048, 55052, 21826], dtype=np.uint16)
    d = decode_qa_pixel(qa)
    assert d["fill"].tolist() == [True, False, False, False, False, False, False, False]
    assert d["clear"].tolist() == [False, True, True, False, True, True, False, True]
    assert d["water"].tolist() == [False, False, True, False, False, False, False, False]
    assert d["cloud"].tolist() == [False, False, False, True, False, False, True, False]
    assert d["cloud_shadow"].tolist() == [False, False, False, False, True, False, False, False]
    assert d["snow"].tolist() == [False, False, False, False, False, True, False, False]
    assert d["cirrus"].tolist() == [False, False, False, False, False, False, True, False]
    assert d["dilated_cloud"].tolist() == [False, False, False, False, False, False, False, True]
    assert qa_valid(qa).tolist() == [False, True, True, False, False, True, False, False]
    assert qa_valid(qa, keep_snow=False).tolist() == [False, True, True, False, False, False, False, False]


def test_scaling_known_answers() -> None:
    sr = scale_sr(np.array([0, 7273, 10000, 43636], dtype=np.uint16))
    assert np.isnan(sr[0])
    np.testing.assert_allclose(sr[1:], [7273 * 2.75e-5 - 0.2, 0.075, 43636 * 2.75e-5 - 0.2], atol=1e-7)  # float32
    assert sr[1] == pytest.approx(0.0000075, abs=1e-6)  # DN 7273 is ~zero reflectance
    st = scale_st(np.array([0, 43000], dtype=np.uint16))
    assert np.isnan(st[0]) and st[1] == pytest.approx(43000 * 0.00341802 + 149.0)  # 295.97 K
    assert st[1] == pytest.approx(295.97486, abs=1e-3)


MTL_TXT = f"""GROUP = LANDSAT_METADATA_FILE
  GROUP = PRODUCT_CONTENTS
    LANDSAT_PRODUCT_ID = "{PID}"
    PROCESSING_LEVEL = "L2SP"
    COLLECTION_CATEGORY = "T1"
    FILE_NAME_BAND_4 = "{PID}_SR_B4.TIF"
    FILE_NAME_BAND_5 = "{PID}_SR_B5.TIF"
    FILE_NAME_BAND_ST_B10 = "{PID}_ST_B10.TIF"
    FILE_NAME_QUALITY_L1_PIXEL = "{PID}_QA_PIXEL.TIF"
  END_GROUP = PRODUCT_CONTENTS
  GROUP = IMAGE_ATTRIBUTES
    SPACECRAFT_ID = "LANDSAT_8"
    SENSOR_ID = "OLI_TIRS"
    WRS_PATH = 126
    WRS_ROW = 46
    DATE_ACQUIRED = 2023-11-05
    SCENE_CENTER_TIME = "03:21:45.1234560Z"
    CLOUD_COVER = 12.34
    SUN_AZIMUTH = 150.5
    SUN_ELEVATION = 48.25
  END_GROUP = IMAGE_ATTRIBUTES
  GROUP = PROJECTION_ATTRIBUTES
    CORNER_UL_LAT_PRODUCT = 21.0
    CORNER_UL_LON_PRODUCT = 106.5
    CORNER_UR_LAT_PRODUCT = 21.0
    CORNER_UR_LON_PRODUCT = 106.9
    CORNER_LR_LAT_PRODUCT = 20.6
    CORNER_LR_LON_PRODUCT = 106.9
    CORNER_LL_LAT_PRODUCT = 20.6
    CORNER_LL_LON_PRODUCT = 106.5
  END_GROUP = PROJECTION_ATTRIBUTES
  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS
    REFLECTANCE_MULT_BAND_4 = 2.75e-05
    REFLECTANCE_ADD_BAND_4 = -0.2
  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS
  GROUP = LEVEL2_SURFACE_TEMPERATURE_PARAMETERS
    TEMPERATURE_MULT_BAND_ST_B10 = 0.00341802
    TEMPERATURE_ADD_BAND_ST_B10 = 149.0
  END_GROUP = LEVEL2_SURFACE_TEMPERATURE_PARAMETERS
END_GROUP = LANDSAT_METADATA_FILE
END
"""


def _write(path, arr) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint16",
                       crs="EPSG:32648", transform=Affine(30, 0, 600000, 0, -30, 2320000), nodata=0) as ds:
        ds.write(arr, 1)


@pytest.fixture()
def product(tmp_path):
    folder = tmp_path / PID
    folder.mkdir()
    (folder / f"{PID}_MTL.txt").write_text(MTL_TXT)
    _write(folder / f"{PID}_SR_B4.TIF", np.array([[0, 10000], [7273, 43636]], np.uint16))
    _write(folder / f"{PID}_ST_B10.TIF", np.array([[0, 43000], [44000, 45000]], np.uint16))
    _write(folder / f"{PID}_QA_PIXEL.TIF", np.array([[1, 21824], [22280, 21952]], np.uint16))
    return folder  # SR_B5 is listed in the MTL but not downloaded


def test_parse_mtl_txt_and_xml(product, tmp_path) -> None:
    mtl = parse_mtl(product / f"{PID}_MTL.txt")
    assert mtl["LANDSAT_PRODUCT_ID"] == PID and mtl["WRS_PATH"] == "126" and mtl["CLOUD_COVER"] == "12.34"
    xml = tmp_path / "x_MTL.xml"
    xml.write_text(f"<LANDSAT_METADATA_FILE><PRODUCT_CONTENTS><LANDSAT_PRODUCT_ID>{PID}</LANDSAT_PRODUCT_ID>"
                   "</PRODUCT_CONTENTS><IMAGE_ATTRIBUTES><CLOUD_COVER>3.5</CLOUD_COVER></IMAGE_ATTRIBUTES>"
                   "</LANDSAT_METADATA_FILE>")
    assert parse_mtl(xml) == {"LANDSAT_PRODUCT_ID": PID, "CLOUD_COVER": "3.5"}
    bad = tmp_path / "bad_MTL.txt"
    bad.write_text("GROUP = A\n  this is not odl\n")
    with pytest.raises(MalformedMetadata, match="line 2"):
        parse_mtl(bad)


def test_read_synthetic_c2l2(product) -> None:
    scene = read_landsat_c2l2(product)
    assert list(scene.bands) == ["SR_B4", "ST_B10"]
    red = scene.bands["SR_B4"].values
    assert np.isnan(red[0, 0]) and red[0, 1] == pytest.approx(0.075) and red[1, 1] == pytest.approx(1.0, abs=1e-4)
    st = scene.bands["ST_B10"].values
    assert st[0, 1] == pytest.approx(43000 * 0.00341802 + 149.0, rel=1e-6)
    assert scene.valid.values.tolist() == [[False, True], [False, True]]
    assert scene.band_info["SR_B4"].common_name == "red" and scene.band_info["ST_B10"].unit == "K"
    assert scene.platform == "landsat-8" and scene.instrument == "oli/tirs" and scene.cloud_cover == 12.34
    assert scene.datetime.isoformat() == "2023-11-05T03:21:45.123456+00:00"
    assert scene.footprint.bounds == (106.5, 20.6, 106.9, 21.0)
    assert scene.bands["SR_B4"].rio.crs.to_epsg() == 32648
    with pytest.raises(UnknownBand, match="SR_B4"):
        read_landsat_c2l2(product, bands=["SR_B9"])

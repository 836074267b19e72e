"""Sentinel-2 SAFE reader: the real T31TDH L1C metadata + B01, and a synthetic baseline-04.00 L2A."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio
from affine import Affine

from ingest.readers.errors import UnknownBand
from ingest.readers.s2_safe import (
    parse_product_metadata,
    parse_s2_manifest,
    parse_tile_metadata,
    read_s2_safe,
    scl_valid,
    to_reflectance,
)
from s2_fixture_xml import L2A_TILE_XML

L1C = "optical/s2_l1c_T31TDH"
GRANULE = "GRANULE/L1C_T31TDH_A013204_20180101T105435"


def test_l1c_product_metadata(shared_file) -> None:
    m = parse_product_metadata(shared_file(f"{L1C}/MTD_MSIL1C.xml"))
    assert m.level == "L1C" and m.spacecraft == "Sentinel-2A" and m.platform == "sentinel-2a"
    assert m.product_uri == "S2A_MSIL1C_20180101T105441_N0206_R051_T31TDH_20180101T124911.SAFE"
    assert m.processing_baseline == "02.06"
    assert m.sensing_start == dt.datetime(2018, 1, 1, 10, 54, 41, 26000, tzinfo=dt.timezone.utc)
    assert (m.orbit_number, m.orbit_direction) == (51, "descending")
    assert m.quantification == 10000.0
    assert m.offsets == {} and m.offset("B04") == 0.0  # baseline < 04.00: no radiometric offset
    assert (m.nodata, m.saturated) == (0, 65535)
    assert m.cloud_cover == 11.9204
    # EXT_POS_LIST starts "43.35104159537638 2.760995427838501" (lat lon) and is closed
    assert m.footprint.exterior.coords[0] == (2.760995427838501, 43.35104159537638)
    assert len(m.footprint.exterior.coords) == 12
    assert len(m.image_files) == 14 and m.image_files[0].endswith("T31TDH_20180101T105441_B01")
    assert m.central_wavelength["B01"] == pytest.approx(0.4439)
    assert m.central_wavelength["B04"] == pytest.approx(0.6645)


def test_l1c_tile_metadata(shared_file) -> None:
    t = parse_tile_metadata(shared_file(f"{L1C}/MTD_TL.xml"))
    assert t.tile_id == "S2A_OPER_MSI_L1C_TL_SGS__20180101T124911_A013204_T31TDH_N02.06"
    assert t.mgrs_tile == "31TDH"
    assert t.epsg == 32631
    assert t.sizes == {10: (10980, 10980), 20: (5490, 5490), 60: (1830, 1830)}
    assert t.geoposition[60] == (399960.0, 4800000.0, 60.0, -60.0)
    assert t.sun_zenith == pytest.approx(67.0354071200132)
    assert t.sun_azimuth == pytest.approx(166.328513490143)
    assert t.view_zenith["B01"] == pytest.approx(9.3486081127172)
    assert t.view_azimuth["B01"] == pytest.approx(288.079337882153)
    assert t.view_zenith["B09"] == pytest.approx(9.37887145507061)  # bandId 8 is B8A, 9 is B09
    assert t.cloudy_pixel_percentage == 11.9204
    assert t.sensing_time == dt.datetime(2018, 1, 1, 10, 54, 35, 457000, tzinfo=dt.timezone.utc)


def test_read_real_l1c_b01(shared_file, tmp_path) -> None:
    src = shared_file(L1C)
    safe = tmp_path / "S2A_MSIL1C_20180101T105441_N0206_R051_T31TDH_20180101T124911.SAFE"
    (safe / GRANULE / "IMG_DATA").mkdir(parents=True)
    (safe / "MTD_MSIL1C.xml").symlink_to(src / "MTD_MSIL1C.xml")
    (safe / GRANULE / "MTD_TL.xml").symlink_to(src / "MTD_TL.xml")
    (safe / GRANULE / "IMG_DATA" / "T31TDH_20180101T105441_B01.jp2").symlink_to(src / "T31TDH_20180101T105441_B01.jp2")
    scene = read_s2_safe(safe)
    assert list(scene.bands) == ["B01"]
    b01 = scene.bands["B01"]
    assert b01.shape == (1830, 1830) and b01.dtype == np.float32 and b01.rio.crs.to_epsg() == 32631
    assert b01.chunks is not None  # lazy
    with rasterio.open(src / "T31TDH_20180101T105441_B01.jp2") as ds:
        dn = ds.read(1, window=((900, 910), (900, 910)))
    np.testing.assert_allclose(b01[900:910, 900:910].values, dn / 10000.0, rtol=1e-6)
    assert scene.cloud_cover == 11.9204 and scene.properties["s2:mgrs_tile"] == "31TDH"
    assert scene.properties["view:sun_elevation"] == pytest.approx(90 - 67.0354071200132)
    assert scene.collection == "sentinel-2-l1c" and scene.platform == "sentinel-2a"
    with pytest.raises(UnknownBand):
        read_s2_safe(safe, bands=["B13"])


def test_reflectance_and_scl_known_answers() -> None:
    dn = np.array([0, 1000, 1500, 11000], dtype=np.uint16)
    np.testing.assert_allclose(to_reflectance(dn, 10000, -1000), [np.nan, 0.0, 0.05, 1.0], equal_nan=True)
    np.testing.assert_allclose(to_reflectance(dn, 10000), [np.nan, 0.1, 0.15, 1.1], equal_nan=True)
    scl = np.arange(12)
    assert scl_valid(scl).tolist() == [False, False, True, False, True, True, True, True, False, False, False, True]
    assert scl_valid(scl, keep_snow=False)[11] == np.False_


_L2A_MTD = """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
 <n1:General_Info><Product_Info>
  <PRODUCT_START_TIME>2023-11-20T03:36:21.024Z</PRODUCT_START_TIME>
  <PRODUCT_URI>S2B_MSIL2A_20231120T033621_N0509_R061_T48QXJ_20231120T062022.SAFE</PRODUCT_URI>
  <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE><PROCESSING_BASELINE>05.09</PROCESSING_BASELINE>
  <Datatake><SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME><SENSING_ORBIT_NUMBER>61</SENSING_ORBIT_NUMBER>
   <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION></Datatake>
  <Product_Organisation><Granule_List><Granule>
   <IMAGE_FILE>GRANULE/L2A_T48QXJ/IMG_DATA/R10m/T48QXJ_20231120T033621_B04_10m</IMAGE_FILE>
   <IMAGE_FILE>GRANULE/L2A_T48QXJ/IMG_DATA/R20m/T48QXJ_20231120T033621_SCL_20m</IMAGE_FILE>
  </Granule></Granule_List></Product_Organisation></Product_Info>
  <Product_Image_Characteristics>
   <Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>
   <Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>
   <QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>
   <BOA_ADD_OFFSET_VALUES_LIST><BOA_ADD_OFFSET band_id="3">-1000</BOA_ADD_OFFSET></BOA_ADD_OFFSET_VALUES_LIST>
  </Product_Image_Characteristics></n1:General_Info>
 <n1:Geometric_Info><Product_Footprint><Product_Footprint><Global_Footprint>
  <EXT_POS_LIST>20.9 106.6 20.9 106.7 20.8 106.7 20.8 106.6 20.9 106.6</EXT_POS_LIST>
 </Global_Footprint></Product_Footprint></Product_Footprint></n1:Geometric_Info>
 <n1:Quality_Indicators_Info><Cloud_Coverage_Assessment>37.5</Cloud_Coverage_Assessment></n1:Quality_Indicators_Info>
</n1:Level-2A_User_Product>
"""



def test_read_synthetic_l2a_offsets_and_scl(tmp_path) -> None:
    safe = tmp_path / "S2B_MSIL2A_20231120T033621_N0509_R061_T48QXJ_20231120T062022.SAFE"
    img = safe / "GRANULE/L2A_T48QXJ/IMG_DATA"
    (img / "R10m").mkdir(parents=True)
    (img / "R20m").mkdir()
    (safe / "MTD_MSIL2A.xml").write_text(_L2A_MTD)
    (safe / "GRANULE/L2A_T48QXJ/MTD_TL.xml").write_text(L2A_TILE_XML)
    t10 = Affine(10, 0, 600000, 0, -10, 2320000)
    b04 = np.array([[0, 1000, 1500, 2000], [3000, 4000, 5000, 11000]] * 2, dtype=np.uint16)
    scl = np.array([[0, 4], [9, 11]], dtype=np.uint8)
    for path, arr, t in (
        (img / "R10m/T48QXJ_20231120T033621_B04_10m.jp2", b04, t10),
        (img / "R20m/T48QXJ_20231120T033621_SCL_20m.jp2", scl, Affine(20, 0, 600000, 0, -20, 2320000)),
    ):
        with rasterio.open(path, "w", driver="JP2OpenJPEG", width=arr.shape[1], height=arr.shape[0], count=1,
                           dtype=arr.dtype.name, crs="EPSG:32648", transform=t, QUALITY=100, REVERSIBLE="YES") as ds:
            ds.write(arr, 1)
    scene = read_s2_safe(safe, bands=["B04"])
    red = scene.bands["B04"].values
    assert np.isnan(red[0, 0])
    np.testing.assert_allclose(red[0, 1:], [0.0, 0.05, 0.1], atol=1e-7)  # (DN - 1000) / 10000
    assert red[1, 3] == pytest.approx(1.0)
    # SCL 20 m → 10 m: [[0, 4], [9, 11]] each covering 2 x 2 pixels
    assert scene.valid.values.tolist() == [[False, False, True, True]] * 2 + [[False, False, True, True]] * 2
    assert scene.valid.shape == red.shape
    assert scene.collection == "sentinel-2-l2a" and scene.cloud_cover == 37.5
    assert scene.properties["s2:processing_baseline"] == "05.09" and scene.properties["proj:epsg"] == 32648
    assert scene.band_info["B04"].offset == pytest.approx(-0.1)


def test_l2a_manifest(shared_file) -> None:
    m = parse_s2_manifest(shared_file("catalog/eodag/manifest.safe.S2_MSI_L2A"))
    assert m.platform == "sentinel-2a"
    assert m.start == dt.datetime(2021, 3, 19, 2, 35, 51, 24000, tzinfo=dt.timezone.utc)
    assert (m.absolute_orbit, m.relative_orbit, m.orbit_direction) == (29973, 89, "descending")
    assert m.footprint.exterior.coords[0] == (122.06915769152008, 31.33365537353435)
    assert len(m.footprint.exterior.coords) == 7
    assert "MTD_MSIL2A.xml" in m.files
    assert any(f.endswith("T51RVQ_20210319T023551_B02_10m.jp2") for f in m.files)

"""`hpgeo ingest file` on optical products: a Sentinel-2 L2A SAFE (folder and .zip) and a Landsat Collection 2
Level-2 product (folder, .tar with the txt MTL, .zip with the xml MTL) end up as analysis-ready items in the
right collection, with reflectance COGs and clouds masked; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo.cog import validate_cog
from hpgeo.cli import main
from base.settings import Settings, override_settings
from ingest.catalog import Catalog, SearchQuery
from ingest.items import resolve_href
from ingest.readers.errors import MalformedMetadata
from ingest.sources.errors import UnsupportedFile
from ingest.sources.local import LocalSource, read_scene, record_for
from ingest.sources.records import RECORDS_COLLECTION
from s2_fixture_xml import L2A_TILE_XML

UTC = dt.timezone.utc

# --- Sentinel-2 L2A (processing baseline 05.09: BOA_ADD_OFFSET -1000) ------------------------------------------
S2_URI = "S2B_MSIL2A_20231120T033621_N0509_R061_T48QXJ_20231120T062022.SAFE"
S2_ID = S2_URI.removesuffix(".SAFE")
S2_GRANULE = "GRANULE/L2A_T48QXJ_A035050_20231120T034359"
S2_BANDS = {"B02": (1, 10), "B04": (3, 10), "B08": (7, 10), "B11": (11, 20)}  # name → (bandId, resolution m)
S2_OFFSET = {"B02": -1000, "B04": -1000, "B08": -1000, "B11": -1000}


def _s2_image_file(band: str, res: int) -> str:
    return f"{S2_GRANULE}/IMG_DATA/R{res}m/T48QXJ_20231120T033621_{band}_{res}m"


S2_MTD = f"""<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
 <n1:General_Info><Product_Info>
  <PRODUCT_START_TIME>2023-11-20T03:36:21.024Z</PRODUCT_START_TIME>
  <PRODUCT_URI>{S2_URI}</PRODUCT_URI>
  <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE><PROCESSING_BASELINE>05.09</PROCESSING_BASELINE>
  <Datatake><SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME><SENSING_ORBIT_NUMBER>61</SENSING_ORBIT_NUMBER>
   <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION></Datatake>
  <Product_Organisation><Granule_List><Granule>
{''.join(f'   <IMAGE_FILE>{_s2_image_file(b, r)}</IMAGE_FILE>{chr(10)}' for b, (_, r) in S2_BANDS.items())}   <IMAGE_FILE>{_s2_image_file('SCL', 20)}</IMAGE_FILE>
  </Granule></Granule_List></Product_Organisation></Product_Info>
  <Product_Image_Characteristics>
   <Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>
   <Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>
   <QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>
   <BOA_ADD_OFFSET_VALUES_LIST>
{''.join(f'    <BOA_ADD_OFFSET band_id="{i}">{S2_OFFSET[b]}</BOA_ADD_OFFSET>{chr(10)}' for b, (i, _) in S2_BANDS.items())}   </BOA_ADD_OFFSET_VALUES_LIST>
  </Product_Image_Characteristics></n1:General_Info>
 <n1:Geometric_Info><Product_Footprint><Product_Footprint><Global_Footprint>
  <EXT_POS_LIST>20.97 106.95 20.97 106.96 20.96 106.96 20.96 106.95 20.97 106.95</EXT_POS_LIST>
 </Global_Footprint></Product_Footprint></Product_Footprint></n1:Geometric_Info>
 <n1:Quality_Indicators_Info><Cloud_Coverage_Assessment>37.5</Cloud_Coverage_Assessment></n1:Quality_Indicators_Info>
</n1:Level-2A_User_Product>
"""


# A Sentinel-2 manifest as ESA writes it: gml coordinates are space-separated "lat lon" (no commas), so it
# cannot be read like a Sentinel-1 manifest; the MTD must be used instead.
S2_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:gml="http://www.opengis.net/gml" xmlns:safe="http://www.esa.int/safe/sentinel/1.1"
 xmlns:xfdu="urn:ccsds:schema:xfdu:1" version="esa/safe/sentinel/1.1/sentinel-2/msi/archive_l2a_user_product">
 <metadataSection>
  <metadataObject ID="acquisitionPeriod"><metadataWrap><xmlData><safe:acquisitionPeriod>
   <safe:startTime>2023-11-20T03:36:21.024Z</safe:startTime></safe:acquisitionPeriod></xmlData></metadataWrap></metadataObject>
  <metadataObject ID="platform"><metadataWrap><xmlData><safe:platform>
   <safe:nssdcIdentifier>2017-013A</safe:nssdcIdentifier><safe:familyName>SENTINEL</safe:familyName><safe:number>2B</safe:number>
  </safe:platform></xmlData></metadataWrap></metadataObject>
  <metadataObject ID="measurementFrameSet"><metadataWrap><xmlData><safe:frameSet><safe:footPrint>
   <gml:coordinates>20.97 106.95 20.97 106.96 20.96 106.96 20.96 106.95 20.97 106.95 </gml:coordinates>
  </safe:footPrint></safe:frameSet></xmlData></metadataWrap></metadataObject>
 </metadataSection>
</xfdu:XFDU>
"""

# 10 m bands: 8 x 8 pixels; 20 m bands and SCL: 4 x 4 (one SCL pixel = 2 x 2 pixels at 10 m)
S2_SCL = np.array([[4, 4, 9, 8], [5, 3, 4, 11], [0, 4, 6, 10], [4, 1, 4, 4]], dtype=np.uint8)
S2_SCL_OK = ~np.isin(S2_SCL, [0, 1, 3, 8, 9, 10])  # snow (11) is kept by default


def _s2_dn(band: str, res: int) -> np.ndarray:
    n = 80 // res
    rng = np.random.default_rng(sum(map(ord, band)))
    dn = rng.integers(1001, 12000, size=(n, n)).astype(np.uint16)
    dn[0, 3 if n == 8 else 1] = 0  # NODATA special value inside SCL pixel [0, 1] (class 4, valid)
    return dn


def _write_jp2(path: Path, arr: np.ndarray, res: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="JP2OpenJPEG", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype=arr.dtype.name, crs="EPSG:32648", transform=Affine(res, 0, 700000, 0, -res, 2320000),
                       QUALITY=100, REVERSIBLE="YES") as ds:
        ds.write(arr, 1)


def make_s2_safe(parent: Path) -> Path:
    safe = parent / S2_URI
    (safe / S2_GRANULE).mkdir(parents=True)
    (safe / "MTD_MSIL2A.xml").write_text(S2_MTD)
    (safe / "manifest.safe").write_text(S2_MANIFEST)
    (safe / S2_GRANULE / "MTD_TL.xml").write_text(L2A_TILE_XML)
    for band, (_, res) in S2_BANDS.items():
        _write_jp2(safe / (_s2_image_file(band, res) + ".jp2"), _s2_dn(band, res), res)
    _write_jp2(safe / (_s2_image_file("SCL", 20) + ".jp2"), S2_SCL, 20)
    return safe


def _zip_dir(folder: Path, dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w") as z:
        for f in sorted(folder.rglob("*")):
            z.write(f, f.relative_to(folder.parent).as_posix())
    return dst


# --- Landsat 8 Collection 2 Level-2 ----------------------------------------------------------------------------
L8_ID = "LC08_L2SP_126046_20231105_20231109_02_T1"
L8_GROUPS = {
    "PRODUCT_CONTENTS": {
        "LANDSAT_PRODUCT_ID": L8_ID, "PROCESSING_LEVEL": "L2SP", "COLLECTION_NUMBER": "02",
        "COLLECTION_CATEGORY": "T1",
        "FILE_NAME_BAND_2": f"{L8_ID}_SR_B2.TIF", "FILE_NAME_BAND_4": f"{L8_ID}_SR_B4.TIF",
        "FILE_NAME_BAND_5": f"{L8_ID}_SR_B5.TIF", "FILE_NAME_BAND_ST_B10": f"{L8_ID}_ST_B10.TIF",
        "FILE_NAME_QUALITY_L1_PIXEL": f"{L8_ID}_QA_PIXEL.TIF",
    },
    "IMAGE_ATTRIBUTES": {
        "SPACECRAFT_ID": "LANDSAT_8", "SENSOR_ID": "OLI_TIRS", "WRS_PATH": "126", "WRS_ROW": "46",
        "DATE_ACQUIRED": "2023-11-05", "SCENE_CENTER_TIME": "03:21:45.1234560Z", "CLOUD_COVER": "12.34",
        "SUN_AZIMUTH": "150.5", "SUN_ELEVATION": "48.25",
    },
    "PROJECTION_ATTRIBUTES": {
        "CORNER_UL_LAT_PRODUCT": "21.00", "CORNER_UL_LON_PRODUCT": "106.50",
        "CORNER_UR_LAT_PRODUCT": "21.01", "CORNER_UR_LON_PRODUCT": "106.90",
        "CORNER_LR_LAT_PRODUCT": "20.60", "CORNER_LR_LON_PRODUCT": "106.91",
        "CORNER_LL_LAT_PRODUCT": "20.59", "CORNER_LL_LON_PRODUCT": "106.49",
    },
    "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS": {
        f"REFLECTANCE_{k}_BAND_{n}": v for n in (2, 4, 5) for k, v in (("MULT", "2.75e-05"), ("ADD", "-0.2"))
    },
    "LEVEL2_SURFACE_TEMPERATURE_PARAMETERS": {
        "TEMPERATURE_MULT_BAND_ST_B10": "0.00341802", "TEMPERATURE_ADD_BAND_ST_B10": "149.0",
    },
}
L8_CORNERS = [(106.50, 21.00), (106.90, 21.01), (106.91, 20.60), (106.49, 20.59)]


def _mtl_txt(groups: dict) -> str:
    lines = ["GROUP = LANDSAT_METADATA_FILE"]
    for g, kv in groups.items():
        lines.append(f"  GROUP = {g}")
        for k, v in kv.items():
            numeric = v.replace(".", "").replace("-", "").replace("e", "").isdigit() and k != "SCENE_CENTER_TIME"
            lines.append(f"    {k} = {v if numeric or k == 'DATE_ACQUIRED' else chr(34) + v + chr(34)}")
        lines.append(f"  END_GROUP = {g}")
    return "\n".join(lines + ["END_GROUP = LANDSAT_METADATA_FILE", "END", ""])


def _mtl_xml(groups: dict) -> str:
    body = "".join(f"<{g}>" + "".join(f"<{k}>{v}</{k}>" for k, v in kv.items()) + f"</{g}>" for g, kv in groups.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<LANDSAT_METADATA_FILE>{body}</LANDSAT_METADATA_FILE>\n'


# QA_PIXEL, 4 x 4: 21824 clear land, 21952 clear water, 22280 cloud, 23888 cloud shadow, 21826 dilated cloud,
# 55052 cirrus + cloud, 1 fill, 30048 snow (valid: snow is kept by default)
L8_QA = np.array([[21824, 21952, 22280, 21824],
                  [23888, 21824, 21826, 30048],
                  [1, 55052, 21824, 21952],
                  [21824, 21824, 21824, 22280]], dtype=np.uint16)
L8_QA_OK = np.array([[1, 1, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]], dtype=bool)


def _l8_dn(band: str) -> np.ndarray:
    rng = np.random.default_rng(sum(map(ord, band)))
    dn = rng.integers(7273, 43636, size=(4, 4)).astype(np.uint16)
    dn[1, 1] = 0  # fill in the band although QA_PIXEL says clear
    return dn


def _write_tif(path: Path, arr: np.ndarray) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="uint16",
                       crs="EPSG:32648", transform=Affine(30, 0, 690000, 0, -30, 2320000), nodata=0) as ds:
        ds.write(arr, 1)


def make_landsat(parent: Path, mtl: str = "txt", groups: dict | None = None) -> Path:
    groups = groups or L8_GROUPS
    folder = parent / L8_ID
    folder.mkdir(parents=True)
    if mtl == "txt":
        (folder / f"{L8_ID}_MTL.txt").write_text(_mtl_txt(groups))
    else:
        (folder / f"{L8_ID}_MTL.xml").write_text(_mtl_xml(groups))
    for band in ("SR_B2", "SR_B4", "SR_B5", "ST_B10"):
        _write_tif(folder / f"{L8_ID}_{band}.TIF", _l8_dn(band))
    _write_tif(folder / f"{L8_ID}_QA_PIXEL.TIF", L8_QA)
    return folder


# --- helpers ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def env(tmp_path):
    s = Settings(data_dir=tmp_path / "data")
    with override_settings(s):
        yield s


def _snapshot(cat: Catalog, data_dir: Path) -> tuple[list, dict]:
    items = sorted((i["collection"], i["id"], json.dumps(i, sort_keys=True)) for i in cat.search(SearchQuery.build()))
    files = {str(p.relative_to(data_dir)): p.stat().st_mtime_ns for p in data_dir.rglob("*") if p.is_file() and p.suffix != ".db"}
    return items, files


def _read(item: dict, key: str, data_dir: Path) -> np.ndarray:
    path = resolve_href(item["assets"][key]["href"], data_dir)
    validate_cog(path)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32648
        return ds.read(1, masked=False).astype(np.float64)


def _ingest_twice(path: Path, s: Settings, collection: str, item_id: str) -> tuple[Catalog, dict]:
    assert main(["ingest", "file", str(path)]) == 0
    cat = Catalog.from_settings(s)
    assert cat.count_items(collection) == 1
    item = cat.get_item(collection, item_id)
    record = cat.get_item(RECORDS_COLLECTION, item_id)
    assert record["properties"]["hpgeo:status"] == "ingested"
    assert record["properties"]["hpgeo:ard_item"] == f"{collection}/{item_id}"
    before = _snapshot(cat, s.resolved_data_dir)
    assert main(["ingest", "file", str(path)]) == 0  # idempotent: nothing rewritten, nothing added
    assert _snapshot(cat, s.resolved_data_dir) == before
    return cat, item


# --- tests -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("packaging", ["safe-folder", "zip"])
def test_ingest_file_s2_l2a_safe(tmp_path, env, packaging):
    safe = make_s2_safe(tmp_path / "in")
    path = safe if packaging == "safe-folder" else _zip_dir(safe, tmp_path / f"{S2_ID}.zip")
    if packaging == "zip":
        shutil.rmtree(safe)

    rec = record_for(path)
    assert (rec.id, rec.collection, rec.product_type, rec.platform) == (S2_ID, "sentinel-2-l2a", "S2MSI2A", "sentinel-2b")

    cat, item = _ingest_twice(path, env, "sentinel-2-l2a", S2_ID)
    data_dir = env.resolved_data_dir
    p = item["properties"]
    assert item["collection"] == "sentinel-2-l2a" and item["id"] == S2_ID
    assert p["datetime"].startswith("2023-11-20T03:36:21.024")
    assert p["eo:cloud_cover"] == 37.5 and p["platform"] == "sentinel-2b"
    assert p["s2:mgrs_tile"] == "48QXJ" and p["processing:level"] == "L2A"
    assert set(item["assets"]) == set(S2_BANDS)
    assert item["bbox"] == pytest.approx([106.95, 20.96, 106.96, 20.97])  # the MTD footprint
    assert cat.count_items("local-imagery") == 0  # not mistaken for loose GeoTIFF/JPEG2000 files

    for band, (_, res) in S2_BANDS.items():
        got = _read(item, band, data_dir)
        dn = _s2_dn(band, res).astype(np.float64)
        ok = S2_SCL_OK if res == 20 else S2_SCL_OK.repeat(2, 0).repeat(2, 1)
        assert got.shape == dn.shape
        expected = np.where(ok & (dn != 0), (dn + S2_OFFSET[band]) / 10000.0, np.nan)
        np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    red = _read(item, "B04", data_dir)
    dn = _s2_dn("B04", 10)
    assert red[0, 0] == pytest.approx((dn[0, 0] - 1000) / 10000.0, rel=1e-6)  # SCL 4 vegetation: kept
    assert np.isnan(red[0, 4]) and np.isnan(red[1, 5])  # SCL 9 cloud high probability
    assert np.isnan(red[2, 2])  # SCL 3 cloud shadow
    assert np.isnan(red[4, 0])  # SCL 0 no data
    assert np.isnan(red[0, 3]) and red[0, 2] == pytest.approx((dn[0, 2] - 1000) / 10000.0, rel=1e-6)  # DN 0 = NODATA
    assert red[2, 6] == pytest.approx((dn[2, 6] - 1000) / 10000.0, rel=1e-6)  # SCL 11 snow: kept
    assert np.isnan(red).sum() == 6 * 4 + 1  # 6 invalid SCL pixels (0, 1, 3, 8, 9, 10) x 4 at 10 m, plus NODATA


@pytest.mark.parametrize("packaging", ["folder", "tar", "zip-xml-mtl"])
def test_ingest_file_landsat_c2l2(tmp_path, env, packaging):
    folder = make_landsat(tmp_path / "in", mtl="xml" if packaging == "zip-xml-mtl" else "txt")
    if packaging == "folder":
        path = folder
    elif packaging == "tar":  # as USGS delivers it: the files at the top of the tar
        path = tmp_path / f"{L8_ID}.tar"
        with tarfile.open(path, "w") as t:
            for f in sorted(folder.iterdir()):
                t.add(f, f.name)
    else:  # a zip of the folder itself
        path = _zip_dir(folder, tmp_path / f"{L8_ID}.zip")
    if packaging != "folder":
        shutil.rmtree(folder)

    rec = record_for(path)
    assert (rec.id, rec.collection, rec.platform, rec.cloud_cover) == (L8_ID, "landsat-c2-l2", "landsat-8", 12.34)
    assert rec.datetime == dt.datetime(2023, 11, 5, 3, 21, 45, 123456, tzinfo=UTC)
    assert list(rec.footprint.exterior.coords)[:4] == L8_CORNERS

    cat, item = _ingest_twice(path, env, "landsat-c2-l2", L8_ID)
    data_dir = env.resolved_data_dir
    p = item["properties"]
    assert p["datetime"].startswith("2023-11-05T03:21:45.123456")
    assert p["eo:cloud_cover"] == 12.34 and p["platform"] == "landsat-8"
    assert p["landsat:wrs_path"] == "126" and p["landsat:wrs_row"] == "46"
    assert item["bbox"] == pytest.approx([106.49, 20.59, 106.91, 21.01])
    assert set(item["assets"]) == {"SR_B2", "SR_B4", "SR_B5", "ST_B10"}

    for band in ("SR_B2", "SR_B4", "SR_B5"):
        got = _read(item, band, data_dir)
        dn = _l8_dn(band).astype(np.float64)
        expected = np.where(L8_QA_OK & (dn != 0), dn * 2.75e-5 - 0.2, np.nan)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
    red, dn = _read(item, "SR_B4", data_dir), _l8_dn("SR_B4")
    assert red[0, 0] == pytest.approx(dn[0, 0] * 2.75e-5 - 0.2, abs=1e-6)  # clear land
    assert red[1, 3] == pytest.approx(dn[1, 3] * 2.75e-5 - 0.2, abs=1e-6)  # snow: kept
    assert np.isnan(red[0, 2]) and np.isnan(red[1, 0]) and np.isnan(red[1, 2])  # cloud, shadow, dilated cloud
    assert np.isnan(red[2, 0]) and np.isnan(red[2, 1])  # QA fill, cirrus + cloud
    assert np.isnan(red[1, 1])  # DN 0 fill
    st = _read(item, "ST_B10", data_dir)
    dn = _l8_dn("ST_B10")
    assert st[0, 0] == pytest.approx(dn[0, 0] * 0.00341802 + 149.0, rel=1e-6)  # kelvin
    assert np.isnan(st[3, 3])  # cloud


def test_folder_walk_takes_product_folders_whole(tmp_path):
    """A folder of products: each SAFE and Landsat folder is one candidate; the images inside are not."""
    make_s2_safe(tmp_path / "in" / "s2")
    make_landsat(tmp_path / "in" / "landsat")
    src = LocalSource([tmp_path / "in"])
    assert [p.name for p in src.candidates()] == [L8_ID, S2_URI]
    recs = {r.id: r for r in src.search((106.0, 20.0, 107.5, 21.5), "2023-11-01/2023-11-30")}
    assert {(k, r.collection) for k, r in recs.items()} == {(L8_ID, "landsat-c2-l2"), (S2_ID, "sentinel-2-l2a")}
    assert list(src.search(None, "2023-11-10/2023-11-30")) == [recs[S2_ID]]  # Landsat is from Nov 5
    fetched = src.fetch(recs[L8_ID], tmp_path / "raw")
    scene = read_scene(fetched)
    assert scene.collection == "landsat-c2-l2" and list(scene.bands) == ["SR_B2", "SR_B4", "SR_B5", "ST_B10"]


def test_real_s2_l1c_metadata_routes_to_l1c(shared_file, tmp_path):
    """The real T31TDH L1C MTD (read from ../shared at test time) makes a sentinel-2-l1c record."""
    src = shared_file("optical/s2_l1c_T31TDH")
    safe = tmp_path / "S2A_MSIL1C_20180101T105441_N0206_R051_T31TDH_20180101T124911.SAFE"
    granule = safe / "GRANULE/L1C_T31TDH_A013204_20180101T105435"
    (granule / "IMG_DATA").mkdir(parents=True)
    (safe / "MTD_MSIL1C.xml").symlink_to(src / "MTD_MSIL1C.xml")
    (granule / "MTD_TL.xml").symlink_to(src / "MTD_TL.xml")
    (granule / "IMG_DATA" / "T31TDH_20180101T105441_B01.jp2").symlink_to(src / "T31TDH_20180101T105441_B01.jp2")
    rec = record_for(safe)
    assert rec.id == "S2A_MSIL1C_20180101T105441_N0206_R051_T31TDH_20180101T124911"
    assert (rec.collection, rec.product_type, rec.platform, rec.cloud_cover) == ("sentinel-2-l1c", "S2MSI1C", "sentinel-2a", 11.9204)
    assert rec.datetime == dt.datetime(2018, 1, 1, 10, 54, 41, 26000, tzinfo=UTC)
    assert rec.footprint.exterior.coords[0] == (2.760995427838501, 43.35104159537638)
    fetched = LocalSource([safe]).fetch(rec, tmp_path / "raw")
    scene = read_scene(fetched)
    assert scene.collection == "sentinel-2-l1c" and list(scene.bands) == ["B01"]
    assert scene.id == rec.id and scene.cloud_cover == 11.9204


def test_unsupported_optical_products_are_refused_clearly(tmp_path, env):
    # Landsat Level-1: recognised as Landsat, refused as not Level-2
    l1 = {g: dict(kv) for g, kv in L8_GROUPS.items()}
    l1["PRODUCT_CONTENTS"]["PROCESSING_LEVEL"] = "L1TP"
    folder = make_landsat(tmp_path / "l1", groups=l1)
    with pytest.raises(UnsupportedFile, match="L1TP.*Collection 2 Level-2"):
        record_for(folder)
    # an MTL without its corners
    bad = {g: dict(kv) for g, kv in L8_GROUPS.items()}
    del bad["PROJECTION_ATTRIBUTES"]["CORNER_LR_LAT_PRODUCT"]
    with pytest.raises(MalformedMetadata, match="CORNER_LR_LAT_PRODUCT"):
        record_for(make_landsat(tmp_path / "bad", groups=bad))
    # a Sentinel-2 SAFE whose MTD is missing: said so, not a cryptic manifest parse error
    safe = make_s2_safe(tmp_path / "nomtd")
    (safe / "MTD_MSIL2A.xml").unlink()
    with pytest.raises(UnsupportedFile, match="Sentinel-2 SAFE without MTD"):
        record_for(safe)
    # two Landsat products' files in one folder: refused rather than one of them silently dropped
    mixed = make_landsat(tmp_path / "mixed")
    other = L8_ID.replace("126046", "126045")
    (mixed / f"{other}_MTL.txt").write_text(_mtl_txt(L8_GROUPS).replace(L8_ID, other))
    with pytest.raises(UnsupportedFile, match="holds 2 Landsat products"):
        record_for(mixed)
    # the CLI exits with 2 (invalid request) and writes no item
    assert main(["ingest", "file", str(folder)]) == 2
    cat = Catalog.from_settings(env)
    assert cat.count_items("landsat-c2-l2") == 0


def test_hub_download_zip_is_extracted_before_reading(tmp_path):
    """A DHuS/OData download is one .zip of the SAFE: read_scene extracts it (once) and reads the product."""
    from ingest.sources.base import FetchedScene
    from ingest.sources.local import read_scene, record_for

    safe = make_s2_safe(tmp_path / "src")
    (tmp_path / "dl").mkdir()
    archive = _zip_dir(safe, tmp_path / "dl" / f"{safe.stem}.zip")
    rec = record_for(archive)
    fetched = FetchedScene(rec, (archive,), archive.parent, "x")
    scene = read_scene(fetched)
    assert scene.collection == "sentinel-2-l2a" and set(scene.bands) == {"B02", "B04", "B08", "B11"}
    extracted = archive.parent / f"{rec.id}.extracted"
    assert extracted.is_dir() and (extracted / safe.name / "MTD_MSIL2A.xml").exists()
    stamp = extracted.stat().st_mtime_ns
    read_scene(fetched)  # second read reuses the extraction
    assert extracted.stat().st_mtime_ns == stamp
    assert not [p for p in archive.parent.iterdir() if p.name.startswith(".")]  # no temporaries left

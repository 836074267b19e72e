"""Item metadata a STAC tool reads literally: raster:bands describe the stored values (no second scale/offset on
reflectance already in 0-1), proj:code only, valid classification names, the simulated tag on product COGs,
and the STAC core schema (offline copies, see stac_offline.py)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from affine import Affine

from api.links import item_out

sys.path.insert(0, str(Path(__file__).parent))
import stac_offline  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]
CLASS_NAME = re.compile(r"^[0-9A-Za-z-_]+$")  # classification extension v2: classes[].name


def _s2_fixture():
    sys.path.insert(0, str(TESTS / "ingest"))
    spec = importlib.util.spec_from_file_location("_s2_reader_tests", TESTS / "ingest" / "test_readers_s2.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ingested_l2a_reflectance_carries_no_second_scale(tmp_path):
    """A synthetic baseline-05.09 L2A (BOA_ADD_OFFSET -1000, quantification 10000): DN 1500 is reflectance 0.05 by
    the ESA formula (DN - 1000) / 10000. The ARD COG stores 0.05, so raster:bands must not tell tools to scale it."""
    from base.settings import Settings
    from ingest.ard import write_ard
    from ingest.catalog import Catalog
    from ingest.items import INPUT_COLLECTIONS
    from ingest.readers.s2_safe import read_s2_safe
    from ingest.items import resolve_href

    mod = _s2_fixture()
    safe = tmp_path / "S2B_MSIL2A_20231120T033621_N0509_R061_T48QXJ_20231120T062022.SAFE"
    img = safe / "GRANULE/L2A_T48QXJ/IMG_DATA"
    (img / "R10m").mkdir(parents=True)
    (img / "R20m").mkdir()
    (safe / "MTD_MSIL2A.xml").write_text(mod._L2A_MTD)
    (safe / "GRANULE/L2A_T48QXJ/MTD_TL.xml").write_text(mod.L2A_TILE_XML)
    b04 = np.array([[1100, 1500, 2000, 3000]] * 4, dtype=np.uint16)
    scl = np.array([[4, 4], [4, 4]], dtype=np.uint8)
    for path, arr, t in ((img / "R10m/T48QXJ_20231120T033621_B04_10m.jp2", b04, Affine(10, 0, 600000, 0, -10, 2320000)),
                         (img / "R20m/T48QXJ_20231120T033621_SCL_20m.jp2", scl, Affine(20, 0, 600000, 0, -20, 2320000))):
        with rasterio.open(path, "w", driver="JP2OpenJPEG", width=arr.shape[1], height=arr.shape[0], count=1, dtype=arr.dtype.name,
                           crs="EPSG:32648", transform=t, QUALITY=100, REVERSIBLE="YES") as ds:
            ds.write(arr, 1)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cat = Catalog.from_settings(Settings(data_dir=data_dir, database_url=None))
    cat.put_collection(INPUT_COLLECTIONS["sentinel-2-l2a"])
    item = write_ard(read_s2_safe(safe, bands=["B04"]), catalog=cat, data_dir=data_dir)
    cat.close()
    rb = item["assets"]["B04"]["raster:bands"][0]
    assert "scale" not in rb and "offset" not in rb
    assert rb["hpgeo:source_scale"] == pytest.approx(1e-4) and rb["hpgeo:source_offset"] == pytest.approx(-0.1)
    with rasterio.open(resolve_href(item["assets"]["B04"]["href"], data_dir)) as ds:
        stored = ds.read(1)
        crs = ds.crs
    # what a STAC tool computes: stored * scale + offset, with the defaults 1 and 0 when raster:bands has none
    seen = stored * rb.get("scale", 1.0) + rb.get("offset", 0.0)
    np.testing.assert_allclose(seen[0], [(1100 - 1000) / 1e4, (1500 - 1000) / 1e4, (2000 - 1000) / 1e4, (3000 - 1000) / 1e4], atol=1e-6)
    assert "proj:epsg" not in item["properties"] and item["properties"]["proj:code"] == f"EPSG:{crs.to_epsg()}" == "EPSG:32648"
    assert stac_offline.core_errors(item_out(item, "http://127.0.0.1:8000")) == []  # as the API serves it (with its links)


@pytest.mark.slow
def test_demo_items_metadata(demo_catalog, demo_settings):
    from ingest.catalog import SearchQuery
    from ingest.items import resolve_href

    data_dir = demo_settings.resolved_data_dir
    items = list(demo_catalog.search(SearchQuery.build()))
    products = {c for c, k in demo_catalog.collection_kinds().items() if k == "product"}
    n_classes = n_product_cogs = 0
    for item in items:
        served = item_out(item, "http://127.0.0.1:8000")
        pystac.Item.from_dict(served)
        assert stac_offline.core_errors(served) == [], item["id"]
        assert "proj:epsg" not in item["properties"], item["id"]
        for key, a in item["assets"].items():
            assert "proj:epsg" not in a
            for c in a.get("classification:classes", []):
                assert CLASS_NAME.match(c["name"]) and c.get("description"), (item["id"], key, c)
                n_classes += 1
            if not a.get("type", "").startswith("image/tiff"):
                continue
            with rasterio.open(resolve_href(a["href"], data_dir)) as ds:
                tags, crs, dtype = ds.tags(), ds.crs, ds.dtypes[0]
            code = a.get("proj:code") or item["properties"].get("proj:code")
            assert code == f"EPSG:{crs.to_epsg()}", (item["id"], key)
            rb = a["raster:bands"][0]
            if np.dtype(dtype).kind == "f":  # stored physical values: nothing to rescale
                assert "scale" not in rb and "offset" not in rb, (item["id"], key, rb)
            if item["collection"] in products:
                assert tags.get("HPGEO_SIMULATED") == ("yes" if item["properties"]["hpgeo:simulated"] else "no"), (item["id"], key)
                n_product_cogs += 1
            elif item["properties"].get("hpgeo:simulated"):
                assert tags.get("HPGEO_SIMULATED") == "yes"
    assert n_classes >= 10 and n_product_cogs >= 5

"""Band roles of plain local rasters (issue 14): a generic 4-band GeoTIFF's bands are not known bands until the
file or the user says which is which; with roles it feeds the optical water product, without them the product
refuses and names the missing roles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from base.settings import Settings, override_settings

N = 120
WATER_COLS = 50  # columns 0..49 are water; a diagonal 10-column strip of land is cut into them below


def truth() -> np.ndarray:
    w = np.zeros((N, N), bool)
    w[:, :WATER_COLS] = True
    w[40:60, 10:20] = False  # an island
    return w


def write_4band(path: Path, descriptions=None, band_tags=None) -> Path:
    """Blue, green, red, NIR reflectance × 10000 (VNREDSat-1 band order): water is bright in green and dark in NIR."""
    w = truth()
    rng = np.random.default_rng(0)
    green = np.where(w, 900, 700) + rng.integers(-30, 30, (N, N))
    nir = np.where(w, 200, 2800) + rng.integers(-30, 30, (N, N))
    blue, red = np.full((N, N), 800), np.where(w, 500, 900)
    data = np.stack([blue, green, red, nir]).astype("uint16")
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=4, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(670000, 2290000, 10, 10), nodata=0) as ds:
        ds.write(data)
        ds.update_tags(TIFFTAG_DATETIME="2025:09:12 03:30:00")
        for i in range(4):
            if descriptions:
                ds.set_band_description(i + 1, descriptions[i])
            if band_tags:
                ds.update_tags(i + 1, **band_tags[i])
    return path


@pytest.fixture
def env(tmp_path):
    from ingest.catalog import Catalog

    s = Settings(data_dir=tmp_path / "data", database_url=None)
    with override_settings(s):
        cat = Catalog.from_settings(s)
        yield s, cat, tmp_path
        cat.close()


def _ingest(s, cat, path, band_roles=None):
    from ingest.catalog import SearchQuery
    from ingest.sources.local import LocalSource
    from ingest.sources.pipeline import run_ingest

    rep = run_ingest(LocalSource([path], band_roles=band_roles), None, None, catalog=cat, data_dir=s.resolved_data_dir, download=True)
    assert rep.ok, rep.errors
    return next(cat.search(SearchQuery.build(collections=["local-imagery"], ids=[path.stem], limit=1)))


def _roles(item):
    return {k: a["eo:bands"][0]["common_name"] for k, a in item["assets"].items() if a.get("eo:bands") and "common_name" in a["eo:bands"][0]}


def test_without_roles_the_product_refuses_and_names_them(env):
    from products.build import build_product
    from products.errors import InvalidInputs

    s, cat, tmp = env
    item = _ingest(s, cat, write_4band(tmp / "generic.tif"))
    assert _roles(item) == {} and item["properties"]["hpgeo:band_roles"]["source"] == "none"
    with pytest.raises(InvalidInputs, match=r"lacks green, swir16") as e:
        build_product("water-optical", {"scene": ("local-imagery", item["id"])}, {}, catalog=cat, data_dir=s.resolved_data_dir)
    assert "--bands" in str(e.value)
    with pytest.raises(InvalidInputs, match=r"lacks green, nir"):
        build_product("water-optical", {"scene": ("local-imagery", item["id"])}, {"index": "ndwi"}, catalog=cat, data_dir=s.resolved_data_dir)
    # a product without role binding still names the collections it takes
    with pytest.raises(InvalidInputs, match="must come from sentinel-1-grd"):
        build_product("flood-sar", {"post": ("local-imagery", item["id"])}, {}, catalog=cat, data_dir=s.resolved_data_dir)


def _check_water(s, cat, item):
    from ingest.items import resolve_href
    from products.build import build_product
    from products.errors import InvalidInputs

    with pytest.raises(InvalidInputs, match=r"lacks swir16"):  # MNDWI (the default) needs SWIR1: a 4-band file has none
        build_product("water-optical", {"scene": ("local-imagery", item["id"])}, {}, catalog=cat, data_dir=s.resolved_data_dir)
    out = build_product("water-optical", {"scene": ("local-imagery", item["id"])}, {"index": "ndwi"}, catalog=cat, data_dir=s.resolved_data_dir)
    with rasterio.open(resolve_href(out["assets"]["water"]["href"], s.resolved_data_dir)) as ds:
        got = ds.read(1)
        assert ds.crs.to_epsg() == 32648 and ds.transform == from_origin(670000, 2290000, 10, 10)
    assert got.shape == (N, N)
    assert np.array_equal(got == 1, truth())  # NDWI = (green − nir)/(green + nir): +0.6 on water, −0.6 on land
    assert "no SCL band" in out["properties"]["hpgeo:diagnostics"]["cloud_mask"]


def test_roles_given_at_ingest_feed_optical_water(env):
    s, cat, tmp = env
    item = _ingest(s, cat, write_4band(tmp / "vnredsat.tif"), band_roles="blue,green,red,nir")
    assert _roles(item) == {"b1": "blue", "b2": "green", "b3": "red", "b4": "nir"}
    assert item["properties"]["hpgeo:band_roles"]["source"] == "given"
    _check_water(s, cat, item)


def test_roles_from_the_files_band_metadata(env):
    s, cat, tmp = env
    item = _ingest(s, cat, write_4band(tmp / "described.tif", descriptions=["Blue", "Green", "Red", "NIR"]))
    assert _roles(item) == {"Blue": "blue", "Green": "green", "Red": "red", "NIR": "nir"}
    assert item["properties"]["hpgeo:band_roles"]["source"] == "file metadata"
    _check_water(s, cat, item)
    tagged = _ingest(s, cat, write_4band(tmp / "tagged.tif", band_tags=[{"COMMON_NAME": r} for r in ("blue", "green", "red", "nir")]))
    assert _roles(tagged) == {"b1": "blue", "b2": "green", "b3": "red", "b4": "nir"}


def test_bad_role_mappings_are_refused(tmp_path):
    from base.errors import InvalidRequest
    from ingest.sources.local import LocalSource

    p = write_4band(tmp_path / "x.tif")
    for bad, words in (("blue,green,infrared,nir", "unknown band role"), ("green,green,red,nir", "repeat")):
        with pytest.raises(InvalidRequest, match=words):
            LocalSource([p], band_roles=bad)
    with pytest.raises(InvalidRequest, match="3 band role"):
        from ingest.readers.geotiff import read_raster

        read_raster(p, band_roles=["blue", "green", "red"])
    # a description that is not a common name gives no role, and two bands claiming one role give none
    from ingest.readers.geotiff import band_roles_from_metadata

    assert band_roles_from_metadata(["Band 1", "green", None, "nir"], [{}] * 4) == [None, "green", None, "nir"]
    assert band_roles_from_metadata(["nir", "nir"], [{}, {}]) == [None, None]

"""geo: grids, CRS helpers, atomic COG writes, AOIs."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from geo.cog import validate_cog, write_cog
from geo.crs import PROCESSING_CRS, WGS84, norm_crs, reproject_geometry
from geo.errors import GeoError, GridMismatch, InvalidCOG
from geo.grid import Grid
from geo.aoi import builtin_aois, find_aoi
from geo.errors import AOINotFound


def test_grid_from_bbox_snaps_and_reports_bounds():
    g = Grid.from_bbox((500003.0, 2280001.0, 500996.0, 2281999.0), 32648, 10.0)
    assert g.shape == (200, 100)
    assert g.bounds == (500000.0, 2280000.0, 501000.0, 2282000.0)
    assert g.pixel_area == 100.0
    coords = g.coords()
    assert coords["x"][0] == 500005.0 and coords["y"][0] == 2281995.0


def test_grid_mismatch_raises():
    a = Grid.from_bbox((0, 0, 100, 100), 32648, 10)
    b = Grid.from_bbox((0, 0, 100, 100), 32648, 20)
    with pytest.raises(GridMismatch):
        a.check_same(b)


def test_grid_check_same_compares_each_of_shape_transform_and_crs():
    """Two grids that differ in one property only: each difference alone is a mismatch."""
    a = Grid.from_bbox((600000, 2280000, 601000, 2281000), 32648, 10)
    a.check_same(Grid.from_bbox((600000, 2280000, 601000, 2281000), "EPSG:32648", 10))  # same grid, other spelling
    # same shape and transform, neighbouring UTM zone (48N vs 49N): the same numbers are 6° of longitude apart
    other_crs = Grid(a.shape, a.transform, norm_crs(32649).to_wkt())
    assert other_crs.shape == a.shape and other_crs.transform == a.transform and other_crs.crs != a.crs
    with pytest.raises(GridMismatch, match="different grids"):
        a.check_same(other_crs, "post and pre")
    with pytest.raises(GridMismatch):
        other_crs.check_same(a)
    with pytest.raises(GridMismatch):  # WGS 84 / UTM 48S: same projection parameters but the false northing
        a.check_same(Grid(a.shape, a.transform, norm_crs(32748).to_wkt()))
    with pytest.raises(GridMismatch):  # shape only
        a.check_same(Grid((a.height + 1, a.width), a.transform, a.crs_wkt))
    with pytest.raises(GridMismatch):  # origin only, one pixel east
        a.check_same(Grid(a.shape, a.transform * Affine.translation(1, 0), a.crs_wkt))


def test_norm_crs_accepts_forms_and_rejects_garbage():
    assert norm_crs(32648) == norm_crs("EPSG:32648") == PROCESSING_CRS
    with pytest.raises(GeoError):
        norm_crs("not a crs")


def test_reproject_point_haiphong_to_utm48n():
    # Hai Phong opera house, about 106.6828 E 20.8590 N → UTM 48N easting ~ 676 km
    p = reproject_geometry(box(106.6828, 20.8590, 106.6828, 20.8590).centroid, WGS84, PROCESSING_CRS)
    assert 675_000 < p.x < 677_500 and 2_306_000 < p.y < 2_309_000


def test_write_cog_roundtrip_and_validation(tmp_path):
    g = Grid.from_bbox((600000, 2280000, 610240, 2290240), 32648, 10)
    data = (np.arange(g.height * g.width, dtype=np.float32).reshape(g.shape) % 997) - 500
    out = write_cog(tmp_path / "x.tif", data, g, nodata=-9999.0, band_names=["b"], tags={"K": "v"})
    validate_cog(out)
    with rasterio.open(out) as ds:
        assert ds.crs == PROCESSING_CRS and ds.transform == g.transform
        assert np.array_equal(ds.read(1), data)
        assert ds.tags()["K"] == "v" and ds.descriptions == ("b",)
        assert ds.overviews(1)  # 1024x1024 in 512 blocks: overviews present
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]  # no temporaries left


def test_write_cog_shape_mismatch_writes_nothing(tmp_path):
    g = Grid.from_bbox((0, 0, 100, 100), 32648, 10)
    with pytest.raises(InvalidCOG):
        write_cog(tmp_path / "bad.tif", np.zeros((5, 5), np.uint8), g)
    assert list(tmp_path.iterdir()) == []


def test_validate_cog_rejects_plain_striped_tiff(tmp_path):
    p = tmp_path / "plain.tif"
    with rasterio.open(p, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="uint8", crs=PROCESSING_CRS, transform=Grid.from_bbox((0, 0, 10240, 10240), 32648, 10).transform) as ds:
        ds.write(np.ones((1, 1024, 1024), np.uint8))
    with pytest.raises(InvalidCOG):
        validate_cog(p)


def test_builtin_aois_cover_the_islands_and_periods():
    aois = {a.id: a for a in builtin_aois()}
    assert {"haiphong-2025", "haiphong-pre2025", "coastal-zone", "cat-ba", "cat-hai", "bach-long-vi", "do-son", "tien-lang-kien-thuy"} <= set(aois)
    import datetime as dt

    assert aois["haiphong-2025"].valid_on(dt.date(2025, 7, 1)) and not aois["haiphong-2025"].valid_on(dt.date(2025, 6, 30))
    assert aois["haiphong-pre2025"].valid_on(dt.date(2025, 6, 30)) and not aois["haiphong-pre2025"].valid_on(dt.date(2025, 7, 1))
    # Bach Long Vi lies ~110 km offshore and is part of the city
    assert aois["haiphong-2025"].geometry.contains(aois["bach-long-vi"].geometry.centroid)
    # Cat Ba island is roughly 150-350 km² in these coarse outlines (official: ~285 km² incl. islets)
    assert 150 < aois["cat-ba"].area_km2() < 350
    with pytest.raises(AOINotFound):
        find_aoi(builtin_aois(), "haiphong-2025", dt.date(2020, 1, 1))

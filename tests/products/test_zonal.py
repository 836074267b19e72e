"""Zonal statistics: coverage-weighted hectares per unit add up to the product's total; stored time series."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from geo.aoi import AOI
from products.errors import InvalidInputs


def _tiling(bbox, nx=3, ny=2, margin=0.01):
    w, s, e, n = bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin
    return [
        AOI(id=f"tile-{i}-{j}", name_vi=f"Ô {i}-{j}", name_en=f"Tile {i}-{j}", kind="test-tile",
            geometry=box(w + (e - w) * i / nx, s + (n - s) * j / ny, w + (e - w) * (i + 1) / nx, s + (n - s) * (j + 1) / ny))
        for i in range(nx) for j in range(ny)
    ]


@pytest.fixture(scope="module")
def flood_item(demo_catalog):
    from ingest.catalog import SearchQuery

    return next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"], ids=None, limit=1)))


def test_partition_hectares_sum_to_product_total(demo_catalog, demo_settings, flood_item):
    from products.zonal import item_zonal_stats

    units = _tiling(flood_item["bbox"])
    rows = item_zonal_stats(demo_catalog, "flood-extent", flood_item["id"], data_dir=demo_settings.resolved_data_dir, units=units, store=False)
    assert {r["unit_id"] for r in rows} == {u.id for u in units}
    totals = flood_item["properties"]["hpgeo:statistics"]["flood"]  # pixel counts of the written COG
    assert set(totals) == {"not water", "flood (new water)", "permanent water"}
    for name, t in totals.items():
        got = sum(r["hectares"] for r in rows if r["class_name"] == name)
        assert t["hectares"] > 1000
        assert abs(got - t["hectares"]) / t["hectares"] <= 0.005, (name, got, t["hectares"])
    # each unit's class fractions add up to 1 where it has valid pixels
    for u in units:
        fr = [r["fraction"] for r in rows if r["unit_id"] == u.id]
        valid = next(r["valid_hectares"] for r in rows if r["unit_id"] == u.id)
        assert sum(fr) == pytest.approx(1.0, abs=1e-4) if valid > 0 else sum(fr) == 0


def test_builtin_aoi_rows_are_stored_as_time_series(demo_catalog, demo_settings, flood_item):
    from products.stats_models import item_stats, timeseries

    rows = item_stats(demo_catalog, "flood-extent", flood_item["id"])  # the demo stores them
    units = {r["unit"] for r in rows}
    assert {"tien-lang-kien-thuy", "do-son"} <= units
    tlkt = [r for r in rows if r["unit"] == "tien-lang-kien-thuy"]
    assert [r["class_value"] for r in tlkt] == [0, 1, 2]
    assert sum(r["hectares"] for r in tlkt) == pytest.approx(tlkt[0]["valid_hectares"], rel=1e-4)
    ts = timeseries(demo_catalog, "tien-lang-kien-thuy", "flood-extent", class_value=1)
    assert [r["item"] for r in ts] == [flood_item["id"]]
    assert ts[0]["hectares"] > 0


def _write(tmp_path, crs, transform, arr, nodata):
    import rasterio

    p = tmp_path / "r.tif"
    with rasterio.open(p, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype=arr.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(arr, 1)
    return p


def test_continuous_mean_and_geographic_refused(tmp_path):
    from pyproj import Transformer
    from rasterio.transform import from_origin

    from products.zonal import zonal_stats

    arr = np.zeros((100, 100), np.float32)
    arr[:, 50:] = 10.0  # east half 10, west half 0
    path = _write(tmp_path, "EPSG:32648", from_origin(600000, 2300000, 10, 10), arr, -9999.0)
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    ring = [to_ll.transform(x, y) for x, y in ((600000, 2299000), (601000, 2299000), (601000, 2300000), (600000, 2300000))]
    from shapely.geometry import Polygon

    unit = AOI(id="sq", name_vi="sq", name_en="sq", geometry=Polygon(ring))
    (row,) = zonal_stats(path, [unit], nodata=-9999.0)
    assert row["mean"] == pytest.approx(5.0, abs=0.05)
    assert (row["min"], row["max"]) == (0.0, 10.0)
    assert row["valid_hectares"] == pytest.approx(100.0, rel=0.002)  # 1 km² = 100 ha
    geo = _write(tmp_path, "EPSG:4326", from_origin(106.6, 20.8, 0.001, 0.001), arr, -9999.0)
    with pytest.raises(InvalidInputs, match="projected CRS"):
        zonal_stats(geo, [unit], nodata=-9999.0)

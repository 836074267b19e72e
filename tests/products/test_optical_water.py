"""Optical water: MNDWI + Otsu on the real Sen1Floods11 chip (L1C TOA, 13 bands) and cloud masking."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr

from products.errors import InsufficientCoverage
from products.optical import OpticalWaterParams, optical_water, scl_valid

CHIP = "flood/sen1floods11/Spain_7370579_"


def iou(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    pred, truth = pred & valid, truth & valid
    return float((pred & truth).sum() / (pred | truth).sum())


def test_sen1floods11_optical_water_iou_at_least_0_70(shared_file):
    s2 = rioxarray.open_rasterio(shared_file(CHIP + "S2Hand.tif"), chunks={"x": 256, "y": 256})
    label = rioxarray.open_rasterio(shared_file(CHIP + "LabelHand.tif")).squeeze().values
    assert s2.sizes["band"] == 13
    # 1-based band order B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B10 B11 B12
    green, nir, swir1 = s2.sel(band=3), s2.sel(band=8), s2.sel(band=12)
    clear = (s2 > 0).all("band")
    cls, idx, diag = optical_water(green, swir1, clear)
    valid = label >= 0
    score = iou(cls.values == 1, label == 1, valid)
    fixed_zero = iou(idx.values > 0, label == 1, valid)
    ndwi_cls, _, ndwi_diag = optical_water(green, nir, clear, OpticalWaterParams(index="ndwi"))
    ndwi_score = iou(ndwi_cls.values == 1, label == 1, valid)
    print(f"Sen1Floods11 optical IoU: MNDWI>Otsu({diag['threshold_index']}) {score:.4f}; MNDWI>0 {fixed_zero:.4f}; NDWI>Otsu {ndwi_score:.4f}")
    assert score >= 0.70
    assert fixed_zero == pytest.approx(0.61, abs=0.01)  # the manifest's reference point
    assert score > fixed_zero + 0.05


def _scene(n: int = 64):
    rng = np.random.default_rng(1)
    green = np.full((n, n), 0.08, np.float32)
    swir = np.full((n, n), 0.20, np.float32)
    swir[:, : n // 2] = 0.01  # water on the left half
    green += rng.normal(0, 0.005, green.shape).astype(np.float32)
    scl = np.full((n, n), 4, np.uint8)
    scl[: n // 4] = 9  # cloud band across the top
    da = lambda a: xr.DataArray(a, dims=("y", "x")).rio.write_crs("EPSG:32648").rio.write_transform()  # noqa: E731
    return da(green), da(swir), da(scl)


def test_clouds_are_no_data_and_never_water():
    g, s, scl = _scene()
    cls, _, diag = optical_water(g, s, scl_valid(scl), OpticalWaterParams())
    c = cls.values
    assert (c[:16] == 255).all()
    assert (c[16:, :32] == 1).all() and (c[16:, 32:] == 0).all()
    assert diag["clear_fraction"] == pytest.approx(0.75)
    assert cls.rio.crs.to_epsg() == 32648


def test_refuses_a_scene_that_is_all_cloud():
    g, s, scl = _scene()
    with pytest.raises(InsufficientCoverage, match="clear"):
        optical_water(g, s, scl_valid(xr.full_like(scl, 9)), OpticalWaterParams())


def test_water_optical_product_on_the_demo(demo_settings, demo_catalog):
    import rasterio

    from ingest.catalog import SearchQuery
    from ingest.items import resolve_href

    item = next(demo_catalog.search(SearchQuery.build(collections=["water-mask"])))
    data_dir = demo_settings.resolved_data_dir
    with rasterio.open(resolve_href(item["assets"]["water"]["href"], data_dir)) as ds:
        w = ds.read(1)
    truth = data_dir / "raw" / "simulated" / "truth"
    with rasterio.open(truth / "land_cover.tif") as ds:
        lc = ds.read(1)
    with rasterio.open(truth / "flood_truth.tif") as ds:
        flood = ds.read(1).astype(bool)
    water_truth = (lc <= 2) | flood  # sea, river, pond, flooded fields
    clear = w != 255
    assert 0.5 < clear.mean() < 0.95  # the post-event scene is ~22 % cloud (+ shadows)
    score = iou(w == 1, water_truth, clear)
    print(f"simulated optical water IoU (clear pixels) = {score:.4f}")
    assert score >= 0.9

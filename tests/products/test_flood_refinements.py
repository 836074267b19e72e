"""flood-sar refinements (split-based thresholds, terrain exclusion) and the ensemble's accuracy.

Fixed methods and published defaults only (Lee 5×5 ENL 4.4, Otsu on −35…10 dB in 0.05 dB bins,
split-based with Ashman D > 2, 5° slope limit); nothing is tuned to the chips."""

from __future__ import annotations

import numpy as np
import rasterio
import rioxarray  # noqa: F401
import xarray as xr
from affine import Affine

from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from products.flood import FLOOD, PERMANENT, SarFloodParams, sar_flood_classes
from products.terrain import TerrainParams, shadow_layover, slope_aspect, terrain_exclusion

CHIP = "flood/sen1floods11/Spain_7370579_"


def iou(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    pred, truth = pred & valid, truth & valid
    return float((pred & truth).sum() / (pred | truth).sum())


def _chip(shared_file):
    s1 = rioxarray.open_rasterio(shared_file(CHIP + "S1Hand.tif"), chunks={"x": 128, "y": 128})
    label = rioxarray.open_rasterio(shared_file(CHIP + "LabelHand.tif")).squeeze().values
    valid = (label >= 0) & np.isfinite(s1.values).all(axis=0)
    return s1, label, valid


def test_sen1floods11_sar_iou_at_least_0_58(shared_file):
    s1, label, valid = _chip(shared_file)
    vv = s1.sel(band=1, drop=True)
    cls, diag = sar_flood_classes(vv, None, SarFloodParams())
    otsu = iou(cls.values == 1, label == 1, valid)
    # split-based: 128-px tiles so that the 512-px chip has 16 tiles (the default 256 would give 4 < 5 → global)
    cls_s, diag_s = sar_flood_classes(vv, None, SarFloodParams(thresholding="split", tile_size=128))
    split = iou(cls_s.values == 1, label == 1, valid)
    dataset_vh = iou(s1.sel(band=2).values < -25.13, label == 1, valid)
    print(f"Sen1Floods11 IoU: VV Otsu {otsu:.4f} (T={diag['threshold_post_db']} dB), split {split:.4f} "
          f"({diag_s['split_tiles_selected']}/{diag_s['split_tiles']} tiles, T={diag_s['threshold_post_db']} dB), dataset VH {dataset_vh:.4f}")
    assert otsu >= 0.58 and split >= 0.58
    assert not diag_s["split_fallback_global"] and diag_s["split_tiles_selected"] >= 5
    assert otsu > dataset_vh + 0.1  # the dataset's own threshold scores 0.47


def _ramp(slope_deg: float, facing: str, n: int = 40, res: float = 10.0) -> xr.DataArray:
    """A plane rising towards the west ('east' facing: downhill to the east) or the east."""
    x = np.arange(n) * res
    z = np.tan(np.radians(slope_deg)) * (x.max() - x if facing == "east" else x)
    dem = xr.DataArray(np.tile(z, (n, 1)).astype(np.float32), dims=("y", "x"), coords={"y": 1000.0 - np.arange(n) * res - 5, "x": x + 5})
    return dem.rio.write_crs("EPSG:32648").rio.write_transform(Affine(res, 0, 0, 0, -res, 1000.0))


def test_slope_and_aspect_of_a_known_plane():
    slope, aspect = slope_aspect(_ramp(10.0, "east"))
    inner = (slice(2, -2), slice(2, -2))
    assert np.allclose(slope.values[inner], 10.0, atol=1e-3)
    assert np.allclose(aspect.values[inner], 90.0, atol=1e-3)  # downhill towards the east
    slope_d, _ = slope_aspect(_ramp(10.0, "east").chunk({"x": 16, "y": 16}))  # lazy path, across chunk edges
    assert np.allclose(slope_d.values[inner], 10.0, atol=1e-3)


def test_layover_and_shadow_from_look_geometry():
    look = 80.0  # ascending S1 looks east: slopes facing west face the sensor
    s, a = slope_aspect(_ramp(45.0, "west"))  # facing west (towards the sensor), steeper than θ = 37°
    shadow, layover = shadow_layover(s, a, 37.0, look)
    assert layover.values[5:-5, 5:-5].all() and not shadow.values.any()
    s, a = slope_aspect(_ramp(60.0, "east"))  # facing away, steeper than 90° − 37° = 53°
    shadow, layover = shadow_layover(s, a, 37.0, look)
    assert shadow.values[5:-5, 5:-5].all() and not layover.values.any()
    s, a = slope_aspect(_ramp(30.0, "east"))  # facing away but not steep enough for shadow
    shadow, layover = shadow_layover(s, a, 37.0, look)
    assert not shadow.values.any() and not layover.values.any()
    excl, diag = terrain_exclusion(_ramp(3.0, "east"), TerrainParams())
    assert not excl.values.any() and diag["excluded_steep_pixels"] == 0
    excl, diag = terrain_exclusion(_ramp(8.0, "east"), TerrainParams())
    # the first and last columns see half the gradient (edge padding): 4° there, 8° inside
    assert excl.values[:, 1:-1].all() and not excl.values[:, [0, -1]].any()
    assert diag["excluded_steep_pixels"] == 40 * 38


def test_dem_exclusion_turns_steep_water_into_nodata():
    dem = _ramp(8.0, "east")
    db = xr.full_like(dem, -10.0)
    db.values[:, :20] = -22.0  # dark half
    rng = np.random.default_rng(0)
    db = db + rng.normal(0, 0.5, db.shape).astype(np.float32)
    cls, _ = sar_flood_classes(db, None, SarFloodParams(threshold_db=-16.0))
    assert (cls.values[:, 3:17] == 1).all()
    cls, diag = sar_flood_classes(db, None, SarFloodParams(threshold_db=-16.0), dem=dem)
    assert (cls.values[:, 1:-1] == 255).all() and diag["excluded_steep_pixels"] == 40 * 38


def test_ensemble_simulated_flood_iou_at_least_0_9(demo_settings, demo_catalog):
    item = next(demo_catalog.search(SearchQuery.build(collections=["flood-ensemble"])))
    data_dir = demo_settings.resolved_data_dir
    with rasterio.open(resolve_href(item["assets"]["flood"]["href"], data_dir)) as ds:
        pred = ds.read(1)
    with rasterio.open(resolve_href(item["assets"]["likelihood"]["href"], data_dir)) as ds:
        like = ds.read(1)
    truth_dir = data_dir / "raw" / "simulated" / "truth"
    with rasterio.open(truth_dir / "flood_truth.tif") as ds:
        truth = ds.read(1).astype(bool)
    with rasterio.open(truth_dir / "land_cover.tif") as ds:
        sea = ds.read(1) == 0
    score = iou(pred == FLOOD, truth, np.ones_like(truth))
    print(f"ensemble simulated flood IoU = {score:.4f}; members {item['properties']['hpgeo:diagnostics']['members']}")
    assert score >= 0.9
    assert item["properties"]["hpgeo:diagnostics"]["members"] == ["sar-change", "sar-split", "optical-mndwi"]
    assert (pred[sea] == PERMANENT).mean() > 0.97
    # the likelihood is high where the ensemble says flood, low on dry land
    assert np.median(like[pred == FLOOD]) >= 70
    assert np.median(like[(pred == 0)]) <= 10
    assert like.max() <= 100 or (like[like > 100] == 255).all()
    prov = item["properties"]["hpgeo:provenance"]
    assert prov["algorithm"] == "flood-ensemble" and set(prov["inputs"]) == {"post", "pre", "optical", "optical_pre"}

"""Land cover: random-forest accuracy on real Landsat 7 labels with a spatially separated split, the
k-means fallback's rules, and from-to change."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from products.landcover import (
    BARE,
    BUILT,
    CROP,
    MANGROVE,
    NODATA,
    TREE,
    WATER,
    change_classes,
    feature_stack,
    feature_table,
    kmeans_classes,
    rule_class,
    train_random_forest,
)

RALEIGH = "optical/landsat7_raleigh"
WATER_LABEL = 6  # GRASS NC landsat96 classes: 1 developed … 6 water, 7 sediment


def _raleigh(shared_file):
    import rasterio
    import rioxarray

    bands = []
    for b in (10, 20, 30, 40, 50):  # blue, green, red, NIR, SWIR1 (DN 0–255)
        da = rioxarray.open_rasterio(shared_file(f"{RALEIGH}/lsat7_2000_{b}.tif"), masked=True).squeeze("band", drop=True)
        bands.append(da.astype("float32"))
    with rasterio.open(shared_file(f"{RALEIGH}/landsat96_labelled_pixels.tif")) as ds:
        lab = ds.read(1)
    lab = np.where(lab > 0, lab, 0).astype(np.int16)
    return feature_table(feature_stack(*bands)), lab


def _spatial_cv(X, y, groups, n_splits=5):
    from sklearn.model_selection import GroupKFold

    pred = np.zeros_like(y)
    for tr, te in GroupKFold(n_splits).split(X, y, groups):
        assert not set(groups[tr]) & set(groups[te])  # no training area on both sides
        pred[te] = train_random_forest(X[tr], y[tr]).predict(X[te])
    return pred


def _water_f1(y, pred):
    tp = np.sum((pred == WATER_LABEL) & (y == WATER_LABEL))
    return 2 * tp / (np.sum(pred == WATER_LABEL) + np.sum(y == WATER_LABEL))


@pytest.mark.realdata
@pytest.mark.slow
def test_random_forest_raleigh_spatially_separated(shared_file):
    """Fixed RF (100 trees, sqrt features, seed 0); 5-fold split by labelled training area (connected component)."""
    from scipy import ndimage
    from sklearn.model_selection import StratifiedKFold

    X, lab = _raleigh(shared_file)
    areas, n_areas = ndimage.label(lab > 0)
    assert n_areas == 33
    flat_lab, flat_area = lab.ravel(), areas.ravel()
    keep = (flat_lab > 0) & np.all(np.isfinite(X), axis=1)
    X, y, g = X[keep], flat_lab[keep].astype(int), flat_area[keep]
    assert len(y) == 2704  # 2,872 labelled, 168 in the scene's no-data strip
    pred = _spatial_cv(X, y, g)
    oa = float(np.mean(pred == y))
    f1 = float(_water_f1(y, pred))
    assert oa >= 0.65, oa
    assert oa == pytest.approx(0.678, abs=0.01)
    # measured: 0.664. Below the 0.90: 71 pixels labelled water in 1996 look like vegetation in the
    # 2000 image (NIR 62, SWIR1 123 DN, MNDWI −0.32), see docs/accuracy.md.
    assert f1 == pytest.approx(0.664, abs=0.02)
    # a random pixel split flatters the same classifier (neighbouring pixels leak between train and test)
    rnd = np.zeros_like(y)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        rnd[te] = train_random_forest(X[tr], y[tr]).predict(X[te])
    assert float(np.mean(rnd == y)) > oa + 0.1


@pytest.mark.realdata
def test_raleigh_water_labels_cap_f1_below_target(shared_file):
    """Why water F1 ≥ 0.90 is out of reach: the best any water detector can do on these labels.

    MNDWI > 0 (Xu 2006) marks a pixel as spectrally water. One whole water training area is not water in the
    2000 image; counting every spectrally-water labelled pixel as found and nothing else as water bounds F1.
    """
    from scipy import ndimage

    X, lab = _raleigh(shared_file)
    mndwi = X[:, 7].reshape(lab.shape)  # features: blue green red nir swir1 ndvi ndwi mndwi ndbi
    valid = np.isfinite(X).all(axis=1).reshape(lab.shape)
    water = (lab == WATER_LABEL) & valid
    areas, n = ndimage.label(lab == WATER_LABEL, structure=np.ones((3, 3), bool))
    med = {i: float(np.median(mndwi[(areas == i) & valid])) for i in range(1, n + 1) if ((areas == i) & valid).any()}
    sizes = {i: int(((areas == i) & valid).sum()) for i in med}
    assert sum(sizes.values()) == int(water.sum()) == 265
    dry = [i for i in med if med[i] < 0]  # labelled water, spectrally not water in 2000
    assert sorted(sizes[i] for i in dry) == [12, 13, 71]
    spectral = water & (mndwi > 0)
    tp = int(spectral.sum())
    ceiling = 2 * tp / (2 * tp + int(water.sum()) - tp)
    assert tp == 179
    assert ceiling < 0.85 and ceiling == pytest.approx(0.806, abs=0.005)


def test_rule_class_published_thresholds():
    def centre(b, g, r, n, s):
        nd = lambda a, c: (a - c) / (a + c)  # noqa: E731
        return {"blue": b, "green": g, "red": r, "nir": n, "swir1": s, "ndvi": nd(n, r), "ndwi": nd(g, n), "mndwi": nd(g, s), "ndbi": nd(s, n)}

    assert rule_class(centre(0.06, 0.085, 0.07, 0.03, 0.012)) == WATER  # MNDWI 0.75
    assert rule_class(centre(0.03, 0.04, 0.03, 0.30, 0.09)) == MANGROVE  # MVI = 0.26/0.05 = 5.2
    assert rule_class(centre(0.03, 0.05, 0.03, 0.30, 0.15)) == TREE  # MVI 2.5, NDVI 0.82
    assert rule_class(centre(0.05, 0.08, 0.09, 0.20, 0.18)) == CROP  # NDVI 0.38
    assert rule_class(centre(0.12, 0.15, 0.18, 0.22, 0.28)) == BARE  # NDVI 0.1, NDBI 0.12, bright red
    assert rule_class(centre(0.10, 0.11, 0.125, 0.15, 0.225)) == BUILT  # NDVI 0.09, NDBI 0.2, red < 0.15


def test_kmeans_fallback_on_known_scene():
    """Two spectrally pure halves (water / dense vegetation) + NaN column: classes follow the rules exactly."""
    rng = np.random.default_rng(0)
    shape = (60, 80)
    left = np.zeros(shape, bool)
    left[:, :40] = True
    spectra = {True: (0.06, 0.085, 0.07, 0.03, 0.012), False: (0.03, 0.05, 0.03, 0.30, 0.15)}
    bands = []
    for i in range(5):
        arr = np.where(left, spectra[True][i], spectra[False][i]) + rng.normal(0, 0.003, shape)
        arr[:, -1] = np.nan
        bands.append(xr.DataArray(arr.astype(np.float32), dims=("y", "x")).chunk({"y": 32, "x": 32}))
    classes, clusters = kmeans_classes(feature_stack(*bands), n_clusters=4, sample_size=4000)
    out = classes.compute().values
    assert np.all(out[:, :40] == WATER)
    assert np.all(out[:, 40:-1] == TREE)
    assert np.all(out[:, -1] == NODATA)
    assert {c["class"] for c in clusters} == {WATER, TREE}


def test_change_classes_from_to():
    before = xr.DataArray(np.array([[1, 4, 4], [5, 6, 255]], np.uint8), dims=("y", "x"))
    after = xr.DataArray(np.array([[1, 2, 4], [4, 1, 3]], np.uint8), dims=("y", "x"))
    out, matrix = change_classes(before.chunk(), after.chunk())
    assert out.compute().values.tolist() == [[0, 42, 0], [54, 61, 255]]
    assert matrix["cropland / grassland"] == {"built-up": 1, "cropland / grassland": 1}
    assert matrix["mangrove"] == {"water": 1}
    assert sum(sum(r.values()) for r in matrix.values()) == 5

"""Training polygons with text labels or another class scheme (issue 14): land cover refused a text label field;
now legend names (English/Vietnamese) train directly, and any scheme trains through a class mapping; an unknown
label is refused with its name, never guessed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from affine import Affine

from products.errors import InvalidParameters

N, X0, Y0, CELL = 60, 670000.0, 2290000.0, 10.0
# reflectance of water, paddy and bare sand (blue, green, red, nir, swir1), plausible Sentinel-2 L2A values
SPECTRA = {1: (0.06, 0.08, 0.05, 0.03, 0.02), 4: (0.04, 0.08, 0.05, 0.35, 0.18), 3: (0.15, 0.18, 0.22, 0.28, 0.35)}


def _truth() -> np.ndarray:
    t = np.full((N, N), 4, np.uint8)
    t[:, :20] = 1
    t[:, 40:] = 3
    return t


def _scene() -> dict[str, xr.DataArray]:
    t = _truth()
    rng = np.random.default_rng(0)
    bands = {}
    for i, name in enumerate(("B02", "B03", "B04", "B08", "B11")):
        arr = np.zeros((N, N), np.float32)
        for c, sp in SPECTRA.items():
            arr[t == c] = sp[i]
        arr += rng.normal(0, 0.005, (N, N)).astype(np.float32)
        da = xr.DataArray(arr, dims=("y", "x"), coords={"y": Y0 - (np.arange(N) + 0.5) * CELL, "x": X0 + (np.arange(N) + 0.5) * CELL})
        bands[name] = da.rio.write_crs("EPSG:32648").rio.write_transform(Affine(CELL, 0, X0, 0, -CELL, Y0))
    return bands


def _box(c0, c1, r0, r1):
    x0, x1, y1, y0 = X0 + c0 * CELL, X0 + c1 * CELL, Y0 - r0 * CELL, Y0 - r1 * CELL
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _polygons(path, labels, field="nhan"):
    boxes = [_box(3, 15, 5, 50), _box(24, 36, 5, 50), _box(44, 56, 5, 50), _box(24, 36, 52, 58)]
    feats = [{"type": "Feature", "properties": {field: lab}, "geometry": g} for lab, g in zip(labels, boxes)]
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}},
                                "features": feats}))
    return path


def _run(params):
    from products.landcover import LandCover

    alg = LandCover()
    return alg.run({"scene": _scene()}, alg.parse_params(params))["landcover"]


def test_vietnamese_text_labels_train_directly(tmp_path):
    p = _polygons(tmp_path / "mau.geojson", ["Mặt nước", "Lúa", "Bãi cát", "lúa"])
    out = _run({"training": str(p), "class_field": "nhan"})
    assert np.array_equal(out.values, _truth())
    assert out.attrs["hpgeo:diagnostics"]["class_mapping"] == {"Bãi cát": 3, "Lúa": 4, "Mặt nước": 1, "lúa": 4}


def test_another_scheme_trains_through_a_class_mapping(tmp_path):
    p = _polygons(tmp_path / "corine.geojson", [511, 211, 331, 999], field="code")  # CORINE-like codes; 999 unwanted
    with pytest.raises(InvalidParameters, match=r"\['211', '331', '511', '999'\]"):
        _run({"training": str(p), "class_field": "code"})
    with pytest.raises(InvalidParameters, match=r"\['999'\] are not in class_mapping"):
        _run({"training": str(p), "class_field": "code", "class_mapping": {"511": "water", "211": 4, "331": "bare"}})
    out = _run({"training": str(p), "class_field": "code", "class_mapping": {"511": "water", "211": 4, "331": "bare", "999": "ignore"}})
    assert np.array_equal(out.values, _truth())
    assert out.attrs["hpgeo:diagnostics"]["class_mapping"] == {"211": 4, "331": 3, "511": 1, "999": 0}


def test_unknown_text_labels_and_bad_targets_are_refused(tmp_path):
    from products.landcover import label_codes

    p = _polygons(tmp_path / "x.geojson", ["water", "rice", "sand", "orchard"])
    with pytest.raises(InvalidParameters, match=r"\['orchard'\].*class_mapping"):
        _run({"training": str(p), "class_field": "nhan"})
    with pytest.raises(InvalidParameters, match="not an hpgeo land-cover code"):
        label_codes(["a"], {"a": 9})
    with pytest.raises(InvalidParameters, match="not a land-cover code"):
        label_codes(["a"], {"a": "vineyard"})
    codes, used = label_codes([1, 2.0, "6"])  # integer codes (also as floats or text) keep working
    assert list(codes) == [1, 2, 6] and used == {"1": 1, "2": 2, "6": 6}


def test_kmeans_fallback_says_it_cannot_separate_paddy_from_trees():
    """The demo's case: paddy at peak growth (NDVI ≈ 0.75) comes out as dense vegetation; the item must say so."""
    from base.errors import HpgeoWarning

    with pytest.warns(HpgeoWarning, match="cannot tell crops in season"):
        out = _run({"n_clusters": 3, "sample_size": 1000})
    vals = out.values
    assert set(np.unique(vals[:, 20:40])) == {5}  # the paddy columns: class 5, tree cover (the limitation)
    assert "cropland may be under-counted" in out.attrs["hpgeo:diagnostics"]["warnings"][0]


def test_kmeans_fallback_without_trees_has_no_warning():
    import warnings

    from base.errors import HpgeoWarning
    from products.landcover import LandCover

    scene = {k: v.where(v.x < X0 + 20 * CELL, v.isel(x=0).values[:, None]) for k, v in _scene().items()}  # water everywhere
    alg = LandCover()
    with warnings.catch_warnings():
        warnings.simplefilter("error", HpgeoWarning)
        out = alg.run({"scene": scene}, alg.parse_params({"n_clusters": 2, "sample_size": 1000}))["landcover"]
    assert "warnings" not in out.attrs["hpgeo:diagnostics"]

"""Degenerate histograms in the Otsu thresholds (issue #14.2): binary inputs → midpoint and a warning; constant → refused."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr

from products.errors import InsufficientCoverage, ThresholdUnreliable
from products.optical import optical_water
from products.sar import NoContrast, otsu_threshold


def _da(a: np.ndarray) -> xr.DataArray:
    ny, nx = a.shape
    da = xr.DataArray(a.astype(np.float32), dims=("y", "x"), coords={"y": 2_300_000.0 - np.arange(ny) * 10, "x": 680_000.0 + np.arange(nx) * 10})
    return da.rio.write_crs("EPSG:32648")


def test_binary_water_mask_gives_the_midpoint_and_says_so():
    mask = np.zeros((100, 100))
    mask[:, 60:] = 1.0  # 40 % water
    with pytest.warns(ThresholdUnreliable, match="two-valued"):
        thr, eta = otsu_threshold(_da(mask))
    assert abs(thr - 0.5) < 0.05  # between the two values (bin centres of 0 and 1), not ~1e-15 at the lower value
    assert ((mask > thr) == (mask == 1)).all()


def test_constant_image_is_refused():
    with pytest.raises(NoContrast, match="constant"):
        otsu_threshold(_da(np.full((100, 100), -12.0)))
    assert issubclass(NoContrast, InsufficientCoverage)


def test_optical_water_on_two_valued_reflectances_records_the_warning():
    green = np.full((100, 100), 0.10)
    swir = np.full((100, 100), 0.30)
    swir[:, 50:] = 0.02  # water: MNDWI 0.667; land: −0.5
    with pytest.warns(ThresholdUnreliable):
        cls, _idx, diag = optical_water(_da(green), _da(swir))
    assert any("two-valued" in w for w in diag["threshold_warnings"])
    assert -0.5 < diag["threshold_index"] < 0.667
    assert int((cls.values == 1).sum()) == 100 * 50


def test_optical_water_on_a_constant_scene_is_refused():
    with pytest.raises(NoContrast):
        optical_water(_da(np.full((100, 100), 0.1)), _da(np.full((100, 100), 0.3)))

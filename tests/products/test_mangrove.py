"""Mangrove extent (MVI, Baloloy et al. 2020) and gain/loss on scenes with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from products.errors import InvalidParameters
from products.mangrove import GAIN, LOSS, MANGROVE, NODATA, NOT_MANGROVE, MangroveParams, mangrove_classes, mvi
from products.registry import get

# surface reflectance B03, B04, B08, B11
MANGROVE_RHO = (0.040, 0.030, 0.300, 0.090)  # MVI = 0.26 / 0.05 = 5.2
CROP_RHO = (0.075, 0.050, 0.320, 0.190)  # MVI = 0.245 / 0.115 = 2.13
WATER_RHO = (0.085, 0.070, 0.030, 0.012)  # SWIR1 < green → MVI undefined


def _scene(layout: np.ndarray) -> dict[str, xr.DataArray]:
    """layout: 0 crop, 1 mangrove, 2 water, 3 cloud (NaN)."""
    out = {}
    for i, band in enumerate(("B03", "B04", "B08", "B11")):
        table = np.array([CROP_RHO[i], MANGROVE_RHO[i], WATER_RHO[i], np.nan], np.float32)
        out[band] = xr.DataArray(table[layout], dims=("y", "x")).chunk({"y": 2, "x": 2})
    return out


def test_mvi_value():
    g, n, s = (xr.DataArray(np.array([v])) for v in (0.04, 0.30, 0.09))
    assert float(mvi(g, n, s)[0]) == pytest.approx(5.2)
    assert np.isnan(float(mvi(n, g, g)[0]))  # SWIR1 − green = 0 → undefined


def test_extent_and_gain_loss():
    before = np.array([[1, 1, 0, 2], [1, 0, 3, 1]])
    now = np.array([[1, 0, 1, 2], [3, 0, 1, 1]])
    ext = mangrove_classes(_scene(now), None, MangroveParams()).compute().values
    assert ext.tolist() == [[1, 0, 1, 0], [NODATA, 0, 1, 1]]
    chg = mangrove_classes(_scene(now), _scene(before), MangroveParams()).compute().values
    assert chg.tolist() == [[MANGROVE, LOSS, GAIN, NOT_MANGROVE], [NODATA, NOT_MANGROVE, NODATA, MANGROVE]]


def test_bad_parameters():
    alg = get("mangrove")
    with pytest.raises(InvalidParameters):
        alg.parse_params({"mvi_min": -1})
    with pytest.raises(InvalidParameters):
        alg.run({"scene": _scene(np.zeros((2, 2), int))}, alg.parse_params({"mvi_min": 20, "mvi_max": 10}))

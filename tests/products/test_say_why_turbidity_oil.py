"""Turbidity says why its map is empty (issue 14). Before this change a scene with no water pixel (all land) returned
an all-NaN map with no note, and an all-cloud scene with a fixed threshold returned an all-NaN map silently."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import xarray as xr
from affine import Affine

from base.errors import HpgeoWarning
from products.errors import InsufficientCoverage

N = 40


def _band(value):
    arr = np.full((N, N), value, np.float32)
    da = xr.DataArray(arr, dims=("y", "x"), coords={"y": 2290000 - (np.arange(N) + 0.5) * 10, "x": 670000 + (np.arange(N) + 0.5) * 10})
    return da.rio.write_crs("EPSG:32648").rio.write_transform(Affine(10, 0, 670000, 0, -10, 2290000))


def _run(inputs, params):
    from products.registry import get

    alg = get("turbidity")
    return alg.run(inputs, alg.parse_params(params))["turbidity"]


def test_turbidity_all_land_says_so():
    # land: green 0.05, SWIR1 0.25 → MNDWI = −0.2/0.3 = −0.667 < threshold 0 → no water
    land = {"B03": _band(0.05), "B11": _band(0.25), "B04": _band(0.05), "SCL": _band(4.0)}
    with pytest.warns(HpgeoWarning, match="no clear pixel is water"):
        out = _run({"scene": land}, {"water_threshold": 0.0})
    d = out.attrs["hpgeo:diagnostics"]
    assert d["clear_pixels"] == N * N and d["water_pixels"] == 0 and d["turbidity_pixels"] == 0
    assert f"among {N * N} clear pixels" in d["note"]
    # water (MNDWI = 0.06/0.1 = 0.6): ρw 0.02 → T = 228.1·0.02/(1 − 0.02/0.1641), no note
    water = {"B03": _band(0.08), "B11": _band(0.02), "B04": _band(0.02), "SCL": _band(6.0)}
    out = _run({"scene": water}, {"water_threshold": 0.0})
    d = out.attrs["hpgeo:diagnostics"]
    assert d["water_pixels"] == N * N and "note" not in d
    np.testing.assert_allclose(out.values, 228.1 * 0.02 / (1 - 0.02 / 0.1641), rtol=1e-4)


def test_turbidity_all_cloud_refused():
    cloudy = {"B03": _band(0.08), "B11": _band(0.02), "B04": _band(0.02), "SCL": _band(9.0)}  # SCL 9: cloud high probability
    with pytest.raises(InsufficientCoverage, match="no pixel is clear"):
        _run({"scene": cloudy}, {"water_threshold": 0.0})

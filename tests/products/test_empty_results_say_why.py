"""No product returns an empty or constant map on valid input without saying why (issue 14): mangrove with no
mangrove, burn severity with no burn, an all-cloud input; water-optical on a scene without SCL says clouds are
not masked (tests/ingest/test_local_band_roles.py)."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import xarray as xr
from affine import Affine

from base.errors import HpgeoWarning
from products.errors import InsufficientCoverage

N = 40


def _band(value, nan_cols=0):
    arr = np.full((N, N), value, np.float32) + np.random.default_rng(0).normal(0, 0.002, (N, N)).astype(np.float32)
    if nan_cols:
        arr[:, :nan_cols] = np.nan
    da = xr.DataArray(arr, dims=("y", "x"), coords={"y": 2290000 - (np.arange(N) + 0.5) * 10, "x": 670000 + (np.arange(N) + 0.5) * 10})
    return da.rio.write_crs("EPSG:32648").rio.write_transform(Affine(10, 0, 670000, 0, -10, 2290000))


def _run(name, inputs, params=None):
    from products.registry import get

    alg = get(name)
    return alg.run(inputs, alg.parse_params(params or {}))


def test_mangrove_without_mangrove_says_so():
    # paddy-like reflectance: MVI = (0.35 − 0.08)/(0.18 − 0.08) = 2.7 < 4.5 → no mangrove anywhere
    scene = {"B03": _band(0.08), "B04": _band(0.05), "B08": _band(0.35), "B11": _band(0.18)}
    with pytest.warns(HpgeoWarning, match="no clear pixel has MVI in"):
        out = _run("mangrove", {"scene": scene})["mangrove"]
    assert set(np.unique(out.values)) == {0}
    d = out.attrs["hpgeo:diagnostics"]
    assert d["mangrove_pixels"] == 0 and d["valid_pixels"] == N * N and "all 'not mangrove'" in d["note"]
    # with mangrove (MVI = (0.30 − 0.05)/(0.07 − 0.05) = 12.5) there is no note
    mangrove = {"B03": _band(0.05), "B04": _band(0.03), "B08": _band(0.30), "B11": _band(0.07)}
    out = _run("mangrove", {"scene": mangrove})["mangrove"]
    assert out.attrs["hpgeo:diagnostics"]["mangrove_pixels"] == N * N and "note" not in out.attrs["hpgeo:diagnostics"]
    cloudy = {k: _band(0.1, nan_cols=N) for k in ("B03", "B04", "B08", "B11")}
    with pytest.raises(InsufficientCoverage, match="no pixel is clear"):
        _run("mangrove", {"scene": cloudy})


def _s2(nir, swir22):
    return {"B08": _band(nir), "B8A": _band(nir), "B12": _band(swir22), "SCL": _band(4.0)}  # SCL 4: vegetation


def test_burn_severity_without_burn_says_so():
    same = _s2(0.30, 0.10)  # NBR 0.5 on both dates: dNBR 0
    with pytest.warns(HpgeoWarning, match="no pixel reaches the USGS 'low severity'"):
        out = _run("burn-severity", {"post": same, "pre": _s2(0.30, 0.10)})
    d = out["severity"].attrs["hpgeo:diagnostics"]
    assert d["burned_pixels"] == 0 and "largest dNBR" in d["note"]
    assert set(np.unique(out["severity"].values)) == {3}  # unburned everywhere, and said
    burned = _run("burn-severity", {"post": _s2(0.15, 0.25), "pre": _s2(0.30, 0.10)})  # NBR 0.5 → −0.25: dNBR 0.75
    assert burned["severity"].attrs["hpgeo:diagnostics"]["burned_pixels"] == N * N
    assert "note" not in burned["severity"].attrs["hpgeo:diagnostics"]

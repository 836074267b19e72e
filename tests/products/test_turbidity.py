"""Turbidity (Nechad, S2 B4): the formula with the published coefficients and RMSE on simulated truth."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr

from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from products.turbidity import NECHAD_S2_B4, nechad_turbidity


def test_nechad_formula_and_domain():
    rho = xr.DataArray(np.array([[0.0, 0.02, 0.05, 0.1641, 0.3, np.nan]], np.float32), dims=("y", "x"))
    t = nechad_turbidity(rho).values[0]
    assert (NECHAD_S2_B4["A_T"], NECHAD_S2_B4["C"]) == (228.1, 0.1641)  # Dogliotti et al. (2015), Table 1, 645 nm
    assert t[0] == 0.0
    assert t[1] == pytest.approx(228.1 * 0.02 / (1 - 0.02 / 0.1641), rel=1e-5)  # ≈ 5.195 FNU, published constants typed in
    assert t[2] == pytest.approx(16.403, rel=1e-3)  # 228.1·0.05 / (1 − 0.05/0.1641)
    assert np.isnan(t[3:]).all()  # ρw ≥ C is outside the model; NaN stays NaN


def test_simulated_lan_ha_bay_turbidity_rmse(demo_settings, demo_catalog):
    item = next(demo_catalog.search(SearchQuery.build(collections=["turbidity"])))
    data_dir = demo_settings.resolved_data_dir
    with rasterio.open(resolve_href(item["assets"]["turbidity"]["href"], data_dir)) as ds:
        est = ds.read(1)
    with rasterio.open(data_dir / "raw" / "hazards" / "truth" / "turbidity_truth.tif") as ds:
        truth = ds.read(1)
    with rasterio.open(data_dir / "raw" / "hazards" / "truth" / "burn_dnbr_truth.tif") as ds:
        forest = np.isfinite(ds.read(1))
    both = np.isfinite(est) & np.isfinite(truth)
    err = est[both] - truth[both]
    rmse = float(np.sqrt(np.mean(err**2)))
    print(f"turbidity: RMSE {rmse:.2f} FNU, bias {err.mean():.2f}, coverage {both.sum() / np.isfinite(truth).sum():.3f} (truth 1–90 FNU)")
    assert rmse <= 3.0 and abs(err.mean()) <= 0.5
    # the calibration's slope: the product over the truth (Nechad with Dogliotti's constants in simulator.hazards)
    ratio = float(np.median(est[both] / truth[both]))
    plume = both & (truth > 40)
    assert plume.sum() > 5_000
    assert abs(ratio - 1) <= 0.02 and abs(float(np.median(est[plume] / truth[plume])) - 1) <= 0.02, ratio
    assert both.sum() / np.isfinite(truth).sum() >= 0.95
    assert not np.isfinite(est[forest]).any()  # land is never given a turbidity
    assert item["properties"]["hpgeo:diagnostics"]["nechad_A_T"] == 228.1

"""The hazard simulator's truth agrees with its own scenes through the published formulas, computed here
(not with the products' code): turbidity from the red reflectance by Nechad's red-band calibration
(Dogliotti et al. 2015, Table 1: A_T = 228.1 FNU, C = 0.1641), dNBR from B08/B12 (Key & Benson 2006)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from simulator.hazards import HazardConfig, hazard_scene_ids, simulate_hazards


@pytest.fixture(scope="module")
def hazards(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hazards")
    simulate_hazards(out)
    return out


def _rho(folder: Path, band: str) -> np.ndarray:
    """Surface reflectance from the simulated L2A DN (baseline ≥ 04.00: ρ = (DN − 1000) / 10000), on the 10 m grid."""
    with rasterio.open(folder / f"{band}.tif") as ds:
        dn = ds.read(1).astype(np.float64)
    rho = (dn - 1000.0) / 10000.0
    if band in ("B11", "B12"):  # 20 m → 10 m, nearest
        rho = np.repeat(np.repeat(rho, 2, axis=0), 2, axis=1)
    return rho


def _truth(out: Path, name: str) -> np.ndarray:
    with rasterio.open(out / "truth" / name) as ds:
        return ds.read(1)


def test_turbidity_truth_is_nechad_of_the_red_reflectance(hazards):
    ids = hazard_scene_ids(HazardConfig())
    rho = _rho(hazards / ids["s2_post"], "B04")
    truth = _truth(hazards, "turbidity_truth.tif")
    sea = np.isfinite(truth)
    assert sea.sum() > 100_000 and 1.0 <= np.nanmin(truth) and np.nanmax(truth) <= 120.0
    r = rho[sea]
    t = 228.1 * r / (1.0 - r / 0.1641)  # Nechad, red band (Dogliotti et al. 2015)
    err = t - truth[sea]
    ratio = np.median(t / truth[sea])
    # the scene's red band carries 0.002 of sensor noise (±0.5 FNU at 3 FNU, ±1.5 FNU at 60 FNU)
    assert abs(np.median(err)) < 0.1 and abs(ratio - 1) < 0.005, (np.median(err), ratio)
    assert np.sqrt(np.mean(err**2)) < 2.5
    hi = truth[sea] > 40
    assert hi.sum() > 5_000 and abs(np.median(t[hi] / truth[sea][hi]) - 1) < 0.01  # the slope of the calibration, on the plume


def test_dnbr_truth_is_the_nbr_drop_of_the_scenes(hazards):
    ids = hazard_scene_ids(HazardConfig())
    pre, post = hazards / ids["s2_pre"], hazards / ids["s2_post"]

    def nbr(folder: Path) -> np.ndarray:
        nir, swir2 = _rho(folder, "B08"), _rho(folder, "B12")
        h, w = min(nir.shape[0], swir2.shape[0]), min(nir.shape[1], swir2.shape[1])
        nir, swir2 = nir[:h, :w], swir2[:h, :w]
        return (nir - swir2) / (nir + swir2)

    d = (nbr(pre) - nbr(post)) * 1000.0
    truth = _truth(hazards, "burn_dnbr_truth.tif")[: d.shape[0], : d.shape[1]]
    forest = np.isfinite(truth)
    err = d[forest] - truth[forest]
    assert forest.sum() > 100_000 and np.nanmax(truth) > 900  # char over forest: dNBR up to 965
    assert abs(np.median(err)) < 2.0 and np.sqrt(np.mean(err**2)) < 40.0, (np.median(err), np.sqrt(np.mean(err**2)))

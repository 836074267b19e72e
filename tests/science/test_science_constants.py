"""Known answers of the hazard products' science, written out from the published sources.

Every expected value below is typed in from the cited table or worked out by hand from the published
formula with the published constants; none is read from the products' (or the simulator's) constants,
so a wrong constant in either makes a test here fail.

Sources:
- USGS FIREMON dNBR severity table: Key, C.H., Benson, N.C. (2006) Landscape assessment (LA): sampling and
  analysis methods. USDA Forest Service RMRS-GTR-164-CD, Table "Ordered dNBR ranges" (×1000):
  enhanced regrowth high −500…−251, enhanced regrowth low −250…−101, unburned −100…+99,
  low +100…+269, moderate-low +270…+439, moderate-high +440…+659, high +660…+1300.
- Nechad et al. (2009) single-band turbidity, red band, as tabulated by Dogliotti, A.I. et al. (2015) A single
  algorithm to retrieve turbidity from remotely-sensed data in all coastal and estuarine waters, RSE 156,
  Table 1 (645 nm): T = A_T·ρw / (1 − ρw/C), A_T = 228.1 FNU, C = 0.1641.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from products.burn import dnbr, nbr, severity_classes
from products.turbidity import TurbidityParams, nechad_turbidity
from simulator.hazards import RHO_CHAR, RHO_FOREST, usgs_severity

# (dNBR ×1000, USGS class code 1–7) on both sides of every break of Key & Benson (2006), typed from the table
USGS_KNOWN = [
    (-600.0, 1), (-251.0, 1), (-250.5, 1),
    (-250.0, 2), (-175.0, 2), (-101.0, 2), (-100.5, 2),
    (-100.0, 3), (0.0, 3), (99.0, 3), (99.5, 3),
    (100.0, 4), (185.0, 4), (269.0, 4), (269.5, 4),
    (270.0, 5), (355.0, 5), (439.0, 5), (439.5, 5),
    (440.0, 6), (500.0, 6), (559.0, 6), (560.0, 6), (600.0, 6), (659.0, 6), (659.5, 6),
    (660.0, 7), (800.0, 7), (1300.0, 7),
]


def _row(values: list[float]) -> xr.DataArray:
    return xr.DataArray(np.array([values], np.float32), dims=("y", "x"))


def test_product_severity_classes_match_the_usgs_table():
    d, want = zip(*USGS_KNOWN)
    got = severity_classes(_row(list(d))).values[0].tolist()
    assert got == list(want), [(v, g, w) for v, g, w in zip(d, got, want) if g != w]
    assert severity_classes(_row(list(d)).chunk({"x": 5})).values[0].tolist() == list(want)
    assert severity_classes(_row([np.nan])).values.tolist() == [[255]]


def test_simulator_truth_classes_match_the_usgs_table():
    d, want = zip(*USGS_KNOWN)
    assert usgs_severity(np.array(d, np.float32)).tolist() == list(want)
    assert usgs_severity(np.array([np.nan, np.inf], np.float32)).tolist() == [255, 255]


# forest (B08 0.300, B12 0.060) burning to char (B08 0.100, B12 0.185), mixed by the burned fraction s:
# NBR_pre = 0.24/0.36; NBR_post = (NIR − SWIR2)/(NIR + SWIR2) of the mixture; dNBR ×1000, worked out by hand:
BURN_MIXTURES = [  # (s, NIR, SWIR2, dNBR ×1000, class)
    (0.00, 0.300, 0.06000, 0.0, 3),  # unburned
    (0.25, 0.250, 0.09125, 1000 * (0.24 / 0.36 - 0.15875 / 0.34125), 4),  # 201.47: low
    (0.50, 0.200, 0.12250, 1000 * (0.24 / 0.36 - 0.0775 / 0.3225), 5),  # 426.36: moderate-low
    (0.60, 0.180, 0.13500, 1000 * (0.24 / 0.36 - 0.045 / 0.315), 6),  # 523.81: moderate-high
    (0.70, 0.160, 0.14750, 1000 * (0.24 / 0.36 - 0.0125 / 0.3075), 6),  # 626.02: moderate-high (high if the break were 560)
    (1.00, 0.100, 0.18500, 1000 * (0.24 / 0.36 + 0.085 / 0.285), 7),  # 964.91: high
]


def test_dnbr_of_forest_char_mixtures():
    assert (RHO_FOREST[3], RHO_FOREST[5], RHO_CHAR[3], RHO_CHAR[5]) == (0.300, 0.060, 0.100, 0.185)  # the simulator's spectra
    pre = nbr(_row([0.300] * len(BURN_MIXTURES)), _row([0.060] * len(BURN_MIXTURES)))
    post = nbr(_row([m[1] for m in BURN_MIXTURES]), _row([m[2] for m in BURN_MIXTURES]))
    d = dnbr(pre, post)
    want = [m[3] for m in BURN_MIXTURES]
    assert np.allclose(d.values[0], want, atol=0.02)  # float32
    assert np.allclose(want, [0.0, 201.465, 426.357, 523.810, 626.016, 964.912], atol=1e-3)
    assert severity_classes(d).values[0].tolist() == [m[4] for m in BURN_MIXTURES]


# Nechad (red band): T = 228.1·ρ / (1 − ρ/0.1641), worked out by hand
NECHAD_KNOWN = [  # (ρw, T FNU)
    (0.0, 0.0),
    (0.005, 1.17634),  # 1.1405 / 0.969531
    (0.01, 2.42902),  # 2.281 / 0.939062
    (0.02, 5.19517),  # 4.562 / 0.878123
    (0.05, 16.4028),  # 11.405 / 0.695308
    (0.10, 58.3950),  # 22.81 / 0.390615
    (0.15, 398.204),  # 34.215 / 0.0859232
]


@pytest.mark.parametrize("rho, fnu", NECHAD_KNOWN)
def test_nechad_turbidity_known_values(rho, fnu):
    assert 228.1 * rho / (1 - rho / 0.1641) == pytest.approx(fnu, rel=2e-5, abs=1e-9)  # the typed value is the formula's
    got = float(nechad_turbidity(_row([rho])).values[0, 0])
    assert got == pytest.approx(fnu, rel=1e-4, abs=1e-6)


def test_turbidity_product_defaults_are_dogliotti_red_band():
    p = TurbidityParams()
    assert (p.a_t, p.c) == (228.1, 0.1641)
    rho = _row([0.02, 0.05, 0.1])
    assert np.allclose(nechad_turbidity(rho, p.a_t, p.c).values[0], [5.19517, 16.4028, 58.3950], rtol=1e-4)


def test_nechad_domain_edge():
    t = nechad_turbidity(_row([0.1640, 0.1641, 0.2, np.nan])).values[0]
    assert t[0] == pytest.approx(228.1 * 0.164 / (1 - 0.164 / 0.1641), rel=1e-3)  # 61 328 FNU: the pole is at ρw = C
    assert np.isnan(t[1:]).all()

"""Otsu (1979) on a histogram: scikit-image's split, our threshold convention (the edge after the lower
class's last bin) and the bimodality η = σ_B²/σ_T², against known answers and an exact brute force."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from products.sar import otsu_from_histogram


def exact_otsu(counts: np.ndarray) -> tuple[int, Fraction, Fraction]:
    """Brute force in exact rational arithmetic on bin indices (σ_B² scales by the bin width², so the
    best split does not depend on the centres' units): (last bin of the lower class, its σ_B² and that of
    the runner-up split), each split i putting bins 0…i below the threshold."""
    c = [int(v) for v in counts]
    n = sum(c)
    s = sum(k * v for k, v in enumerate(c))
    n0 = s0 = 0
    scores = []
    for i in range(len(c) - 1):
        n0 += c[i]
        s0 += i * c[i]
        if 0 < n0 < n:
            scores.append((Fraction((n * s0 - n0 * s) ** 2, n0 * (n - n0) * n * n), -i))  # ties: the first split
    scores.sort(reverse=True)
    return -scores[0][1], scores[0][0], scores[1][0]


def test_two_modes_known_answer():
    # bins 1–2 and 5–6 hold 5 each: class means 1.5 and 5.5, σ_B² = ¼·4² = 4, σ_T² = 4 + ¼ = 4.25
    counts = np.array([0, 5, 5, 0, 0, 5, 5, 0])
    thr, eta = otsu_from_histogram(counts, np.arange(8.0))
    assert thr == 2.5  # every split in the gap (2|3, 3|4, 4|5) is as good; the first one wins
    assert eta == pytest.approx(4 / 4.25, rel=1e-12)


def test_uniform_histogram_splits_in_the_middle():
    # uniform on n = 100 bins of width 0.01 on [0, 1]: class means ¼ and ¾, σ_B² = 1/16, σ_T² = (1 − 1/n²)/12
    centres = (np.arange(100) + 0.5) / 100
    thr, eta = otsu_from_histogram(np.full(100, 7), centres)
    assert thr == pytest.approx(0.5, abs=1e-12)
    assert eta == pytest.approx((1 / 16) / ((1 - 1e-4) / 12), rel=1e-12)  # 0.750075


def test_sar_like_histograms_match_the_exact_brute_force():
    """Water and land modes in dB on the flood product's bins (−35…10 dB, 0.05 dB), several mixtures."""
    edges = np.arange(-35.0, 10.0 + 0.025, 0.05)
    centres = (edges[:-1] + edges[1:]) / 2
    rng = np.random.default_rng(11)
    checked = 0
    for water, land, frac in ((-20.0, -8.0, 0.3), (-22.0, -12.0, 0.5), (-18.0, -14.0, 0.2), (-25.0, -3.0, 0.7), (-19.0, -9.0, 0.05)):
        n = 40_000
        nw = int(n * frac)
        v = np.concatenate([rng.normal(water, 1.5, nw), rng.normal(land, 2.5, n - nw)])
        counts, _ = np.histogram(np.clip(v, -35, 10 - 1e-6), bins=edges)
        i, best, second = exact_otsu(counts)
        if 0 < (best - second) / best < 1e-6:  # a near-tie: float rounding may pick either (none of these is);
            continue  # an exact tie (a gap of empty bins between the modes) goes to the first split
        checked += 1
        thr, eta = otsu_from_histogram(counts, centres)
        assert thr == pytest.approx(edges[i + 1], abs=1e-9)  # the edge after the lower class's last bin
        p = counts / counts.sum()
        var_t = float((p * centres**2).sum() - (p * centres).sum() ** 2)
        assert eta == pytest.approx(float(best) * 0.05**2 / var_t, rel=1e-9)  # σ_B² back in dB²
        assert water < thr < land
    assert checked == 5


def test_single_bin_has_no_split():
    thr, eta = otsu_from_histogram(np.array([0, 0, 9, 0]), np.array([0.5, 1.5, 2.5, 3.5]))
    assert (thr, eta) == (1.0, 0.0)

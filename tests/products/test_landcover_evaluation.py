"""Honest land-cover evaluation (issue 14): spatial blocks at least the autocorrelation range wide with a buffer
of that range (Roberts et al. 2017), instead of folds by training area. Unit checks against brute force, then
the measured gap on the real Raleigh labels."""

from __future__ import annotations

import numpy as np
import pytest

from products.evaluation import autocorrelation_range, block_cv_predict, semivariogram, spatial_block_folds


def test_semivariogram_matches_brute_force():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(12, 15))
    v[3, 4] = np.nan
    g = semivariogram(v, 4)
    for h in range(1, 5):
        pairs = []
        for r in range(12):
            for c in range(15):
                for r2, c2 in ((r, c + h), (r + h, c)):
                    if r2 < 12 and c2 < 15 and np.isfinite(v[r, c]) and np.isfinite(v[r2, c2]):
                        pairs.append((v[r, c] - v[r2, c2]) ** 2)
        assert g[h - 1] == pytest.approx(0.5 * np.mean(pairs), rel=1e-12)


def test_range_of_a_field_of_8px_patches():
    """Independent patches of 8 × 8 px: pairs 8 px or more apart are never in one patch, so γ is at its sill from 8 on."""
    rng = np.random.default_rng(2)
    field = np.kron(rng.normal(size=(40, 40)), np.ones((8, 8)))
    r = autocorrelation_range(field, max_lag=40)
    assert 6 <= r <= 8  # γ(h) = sill·min(h/8, 1) for patches: 95 % of the sill is first reached at lag 8 (7.6)


def test_block_folds_partition_and_keep_the_buffer():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, 120, 1500), rng.integers(0, 150, 1500)
    rc = np.unique(np.column_stack([rows, cols]), axis=0)
    rows, cols = rc[:, 0], rc[:, 1]
    seen = []
    for train, test in spatial_block_folds(rows, cols, block_px=20, buffer_px=6, n_folds=4):
        seen.append(test)
        assert len(train) and len(test)
        d = cdist(np.column_stack([rows[train], cols[train]]), np.column_stack([rows[test], cols[test]]), metric="chebyshev")
        assert d.min() > 6  # no training pixel within the buffer of a test pixel
        # and every pixel left out of training (other than the test) lies within the buffer
        out = np.setdiff1d(np.arange(len(rows)), np.concatenate([train, test]))
        if len(out):
            d2 = cdist(np.column_stack([rows[out], cols[out]]), np.column_stack([rows[test], cols[test]]), metric="chebyshev")
            assert d2.min(axis=1).max() <= 6
    allt = np.concatenate(seen)
    assert len(allt) == len(rows) and len(np.unique(allt)) == len(rows)  # each labelled pixel tested once


@pytest.mark.realdata
@pytest.mark.slow
def test_raleigh_block_cv_with_buffer_shows_the_gap(shared_file):
    from tests.products.test_landcover import _raleigh
    from products.landcover import train_random_forest

    X, lab = _raleigh(shared_file)
    ndvi = X[:, 5].reshape(lab.shape)
    rng_px = autocorrelation_range(ndvi, 60)
    assert rng_px == 39  # 39 × 28.5 m ≈ 1.1 km
    rows, cols = np.nonzero(lab > 0)
    Xl = X.reshape(-1, X.shape[1])[rows * lab.shape[1] + cols]
    keep = np.isfinite(Xl).all(axis=1)
    Xl, y, rows, cols = Xl[keep], lab[rows, cols][keep].astype(int), rows[keep], cols[keep]
    assert len(y) == 2704
    kw = dict(block_px=rng_px, buffer_px=rng_px, n_folds=5)
    pred, info = block_cv_predict(Xl, y, rows, cols, train_random_forest, **kw)
    oa = float(np.mean(pred == y))
    assert oa == pytest.approx(0.573, abs=0.01)  # vs 0.678 with folds by training area (test_landcover.py)
    assert oa < 0.678 - 0.08 and info["buffer_excluded_pixels"] > 0
    no_buffer, _ = block_cv_predict(Xl, y, rows, cols, train_random_forest, block_px=rng_px, buffer_px=0, n_folds=5)
    assert float(np.mean(no_buffer == y)) == pytest.approx(0.647, abs=0.01)  # the buffer matters: 0.07
    raw, _ = block_cv_predict(Xl[:, :5], y, rows, cols, train_random_forest, **kw)
    assert abs(float(np.mean(raw == y)) - oa) < 0.02  # the indices add nothing over the raw bands (0.572)

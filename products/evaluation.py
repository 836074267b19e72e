"""Honest accuracy of a pixel classifier: spatial block cross-validation with a buffer (Roberts et al. 2017).

Neighbouring pixels are alike (spatial autocorrelation), so a test pixel next to a training pixel is not an
independent check. Folds by *training area* still leave areas a few pixels apart on both sides. Here:

1. the autocorrelation range of the image is estimated from the empirical semivariogram of a feature (e.g.
   NDVI) along rows and columns: the smallest lag at which the semivariance reaches 95 % of its sill (the
   mean semivariance over the longest lags), as for an exponential/spherical model's practical range;
2. the labelled pixels are grouped in square blocks at least that wide, blocks are dealt to ``n_folds`` folds
   (shuffled with a fixed seed, balanced by labelled-pixel count);
3. for each fold, the training pixels are those of the other folds **farther than the buffer** (at least the
   range) from every test pixel: the buffer pixels are used neither to train nor to test that fold.

References: Roberts, D. R. et al. (2017) Cross-validation strategies for data with temporal, spatial,
hierarchical, or phylogenetic structure. Ecography 40: 913–929; Valavi, R. et al. (2019) blockCV. Methods in
Ecology and Evolution 10: 225–232.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from products.errors import InsufficientCoverage

__all__ = ["semivariogram", "autocorrelation_range", "spatial_block_folds", "block_cv_predict"]


def semivariogram(values: np.ndarray, max_lag: int) -> np.ndarray:
    """γ(h) for h = 1..max_lag pixels: half the mean squared difference of valid pixel pairs h apart along rows
    and along columns (NaN = invalid)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full(max_lag, np.nan)
    for h in range(1, max_lag + 1):
        d = [v[:, h:] - v[:, :-h], v[h:, :] - v[:-h, :]]
        sq = np.concatenate([x[np.isfinite(x)] ** 2 for x in d])
        if sq.size:
            out[h - 1] = 0.5 * sq.mean()
    return out


def autocorrelation_range(values: np.ndarray, max_lag: int = 60, sill_fraction: float = 0.95) -> int:
    """Practical range (pixels): the first lag where γ reaches ``sill_fraction`` of the sill (mean γ of the last
    quarter of lags). Raises when the semivariogram has no plateau within ``max_lag`` (give a larger one)."""
    g = semivariogram(values, max_lag)
    if not np.isfinite(g).any():
        raise InsufficientCoverage("no valid pixel pairs for a semivariogram")
    sill = float(np.nanmean(g[-max(1, max_lag // 4):]))
    reached = np.nonzero(g >= sill_fraction * sill)[0]
    if not reached.size:
        raise InsufficientCoverage(f"the semivariogram does not level off within {max_lag} px; use a larger max_lag")
    return int(reached[0] + 1)


def spatial_block_folds(rows: np.ndarray, cols: np.ndarray, *, block_px: int, buffer_px: int, n_folds: int = 5,
                        seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index arrays into ``rows``/``cols`` (the labelled pixels) per fold: test = the pixels of the
    fold's blocks; train = the other folds' pixels more than ``buffer_px`` (Chebyshev, in pixels) from any test pixel."""
    from scipy import ndimage

    rows, cols = np.asarray(rows), np.asarray(cols)
    if block_px < 1 or buffer_px < 0 or n_folds < 2:
        raise ValueError("block_px ≥ 1, buffer_px ≥ 0 and n_folds ≥ 2")
    block = (rows // block_px) * (int(cols.max()) // block_px + 1) + cols // block_px
    ids, counts = np.unique(block, return_counts=True)
    if len(ids) < n_folds:
        raise InsufficientCoverage(f"{len(ids)} labelled block(s) of {block_px} px for {n_folds} folds; use smaller blocks or fewer folds")
    order = np.random.default_rng(seed).permutation(len(ids))
    fold_of_block: dict[int, int] = {}
    load = np.zeros(n_folds)
    for k in order[np.argsort(-counts[order], kind="stable")]:  # largest blocks first, each to the lightest fold
        f = int(np.argmin(load))
        fold_of_block[int(ids[k])] = f
        load[f] += counts[k]
    fold = np.array([fold_of_block[int(b)] for b in block])
    shape = (int(rows.max()) + 1, int(cols.max()) + 1)
    for f in range(n_folds):
        test = np.nonzero(fold == f)[0]
        mask = np.zeros(shape, bool)
        mask[rows[test], cols[test]] = True
        near = ndimage.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=buffer_px) if buffer_px else mask
        train = np.nonzero((fold != f) & ~near[rows, cols])[0]
        yield train, test


def block_cv_predict(X: np.ndarray, y: np.ndarray, rows: np.ndarray, cols: np.ndarray, fit: Any, **kw: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Out-of-fold predictions with :func:`spatial_block_folds` (``fit(X, y)`` returns a model with ``predict``);
    returns (predictions, {"folds", "buffer_excluded_pixels"})."""
    pred = np.zeros_like(y)
    excluded = 0
    folds = 0
    for train, test in spatial_block_folds(rows, cols, **kw):
        if len(np.unique(y[train])) < 2:
            raise InsufficientCoverage("a fold's training pixels hold fewer than two classes; use smaller blocks")
        pred[test] = fit(X[train], y[train]).predict(X[test])
        excluded += len(y) - len(train) - len(test)
        folds += 1
    return pred, {"folds": folds, "buffer_excluded_pixels": excluded}

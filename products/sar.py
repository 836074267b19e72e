"""SAR building blocks on xarray/dask: dB conversion, Lee speckle filter, histogram thresholds.

All functions keep dask arrays lazy (``map_overlap`` for windowed filters, ``da.histogram`` for
thresholds), so a full Sentinel-1 scene is processed chunk by chunk.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy import ndimage

from products.errors import InsufficientCoverage, ThresholdUnreliable

__all__ = ["NoContrast", "TWO_VALUED", "db_to_linear", "linear_to_db", "lee_filter", "otsu_threshold", "histogram", "otsu_from_histogram"]


TWO_VALUED = "two-valued histogram"  # the start of the warning (and diagnostic) for a binary input


class NoContrast(InsufficientCoverage):
    """A constant image (one non-empty histogram bin): no threshold exists."""


def db_to_linear(db: xr.DataArray) -> xr.DataArray:
    return 10.0 ** (db / 10.0)


def linear_to_db(lin: xr.DataArray, floor: float = 1e-6) -> xr.DataArray:
    return 10.0 * np.log10(np.maximum(lin, floor))


def _lee_block(x: np.ndarray, size: int, enl: float) -> np.ndarray:
    """Lee (1980) filter on linear intensity; NaN pixels are ignored in the local statistics.

    float32 throughout (a 2048² chunk needs ~7 temporaries of 16 MB), which is ample for σ0 statistics.
    """
    valid = np.isfinite(x)
    xv = np.where(valid, x, 0.0).astype(np.float32)
    w = ndimage.uniform_filter(valid.astype(np.float32), size, mode="reflect")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = ndimage.uniform_filter(xv, size, mode="reflect") / w
        mean2 = ndimage.uniform_filter(xv * xv, size, mode="reflect") / w
    del w
    var = np.maximum(mean2 - mean * mean, 0.0)
    del mean2
    cu2 = np.float32(1.0 / enl)  # squared coefficient of variation of the speckle
    var_x = np.maximum(var - mean * mean * cu2, 0.0) / (1.0 + cu2)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(var > 0, var_x / var, 0.0).astype(np.float32)
    del var, var_x
    out = mean + k * (xv - mean)
    return np.where(valid, out, np.nan).astype(np.float32)


def lee_filter(lin: xr.DataArray, size: int = 5, enl: float = 4.4) -> xr.DataArray:
    """Lee speckle filter of a linear-power DataArray (y, x); lazy for dask-backed input."""
    if size < 3 or size % 2 == 0:
        raise ValueError("Lee window size must be odd and >= 3")
    data = lin.data
    if hasattr(data, "map_overlap"):
        out = data.map_overlap(_lee_block, depth=size // 2, boundary="reflect", dtype=np.float32, size=size, enl=enl)
    else:
        out = _lee_block(np.asarray(data), size, enl)
    return lin.copy(data=out)


def histogram(x: xr.DataArray, lo: float, hi: float, bin_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin centres of the finite values of ``x`` in [lo, hi) (computes dask input)."""
    edges = np.arange(lo, hi + bin_width, bin_width)
    data = x.data
    if hasattr(data, "dask"):
        from products.compute import compute_by_chunk_rows

        nb = len(edges) - 1

        def block_hist(b: np.ndarray) -> np.ndarray:
            return np.histogram(b[np.isfinite(b)], bins=edges)[0].reshape((1,) * b.ndim + (nb,))

        chunks = tuple(tuple(1 for _ in c) for c in data.chunks) + ((nb,),)
        parts = data.map_blocks(block_hist, new_axis=data.ndim, chunks=chunks, dtype=np.int64)
        counts = compute_by_chunk_rows(parts).reshape(-1, nb).sum(axis=0)
    else:
        arr = np.asarray(data)
        counts, _ = np.histogram(arr[np.isfinite(arr)], bins=edges)
    return counts, (edges[:-1] + edges[1:]) / 2


def otsu_from_histogram(counts: np.ndarray, centres: np.ndarray) -> tuple[float, float]:
    """Otsu (1979) threshold of a histogram and the between-class variance ratio η = σ_B² / σ_T² (1 = perfectly bimodal).

    The split is scikit-image's (``threshold_otsu(hist=(counts, centres))``), which returns the centre of the
    last bin of the lower class; the threshold given here is the edge between that bin and the next one (the
    midpoint of the two centres), so that ``x < threshold`` puts exactly the lower class's bins below it. A
    histogram with fewer than two non-empty bins has no split: the first bin edge is returned with η = 0.
    scikit-image weighs the classes in float32, so where two neighbouring splits' σ_B² differ by less than
    ~1e-7 (relative) it may take the neighbour, one bin away (docs/accuracy.md: one 256² tile of the demo's
    split-based flood threshold, with no effect on any product).
    """
    from skimage.filters import threshold_otsu

    c = np.asarray(counts, dtype=np.float64)
    x = np.asarray(centres, dtype=np.float64)
    p = c / c.sum()
    mu_t = float(np.cumsum(p * x)[-1])
    var_t = float((p * (x - mu_t) ** 2).sum())
    if np.count_nonzero(c) < 2:
        i, eta = 0, 0.0
    else:
        i = int(np.searchsorted(x, threshold_otsu(hist=(c, x))))  # index of the lower class's last bin
        w0 = float(np.cumsum(p)[i])
        mu0 = float(np.cumsum(p * x)[i])
        sb = (mu_t * w0 - mu0) ** 2 / (w0 * (1.0 - w0))  # σ_B² of the split after bin i
        eta = float(sb / var_t) if var_t > 0 else 0.0
    thr = float((x[i] + x[min(i + 1, len(x) - 1)]) / 2)
    return thr, eta


def otsu_threshold(
    x: xr.DataArray, lo: float = -35.0, hi: float = 10.0, bin_width: float = 0.05, min_pixels: int = 1000, min_eta: float = 0.5
) -> tuple[float, float]:
    """Otsu threshold of a dB image (values clipped to [lo, hi]); warns when the histogram is not bimodal."""
    counts, centres = histogram(x.clip(lo, hi - 1e-6), lo, hi, bin_width)
    if counts.sum() < min_pixels:
        raise InsufficientCoverage(f"only {int(counts.sum())} valid pixels (need {min_pixels}) for a threshold")
    nz = np.flatnonzero(counts)
    if len(nz) < 2:
        raise NoContrast(f"constant image (all {int(counts.sum())} valid values in one {bin_width} bin at {centres[nz[0]]:.4g}): no threshold exists")
    if len(nz) == 2:  # a binary input (e.g. a water mask): Otsu's split is any level between the two values
        thr = float((centres[nz[0]] + centres[nz[1]]) / 2)
        warnings.warn(f"{TWO_VALUED} ({centres[nz[0]]:.4g} and {centres[nz[1]]:.4g}, a binary mask?): threshold at their midpoint {thr:.4g}", ThresholdUnreliable, stacklevel=2)
        return thr, 1.0
    thr, eta = otsu_from_histogram(counts, centres)
    if eta < min_eta:
        warnings.warn(f"weakly bimodal histogram (eta={eta:.2f} < {min_eta}); threshold {thr:.2f} dB may be unreliable", ThresholdUnreliable, stacklevel=2)
    return thr, eta

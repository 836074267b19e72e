"""Sentinel-1 calibration and thermal-noise LUTs: parsing the annotation XML and interpolating onto pixels.

* Calibration vectors give A (sigmaNought, betaNought, gamma, dn) at sparse (line, pixel) positions;
  they are interpolated **bilinearly**: linearly along pixel inside each vector, then linearly between
  the two vectors that bracket a line (values beyond the first/last vector are held constant).
* Thermal noise N (in DN² units) is ``noiseRangeLut × noiseAzimuthLut`` for IPF ≥ 2.9; the azimuth
  LUT is given per block (``firstAzimuthLine..lastAzimuthLine`` × ``firstRangeSample..lastRangeSample``,
  inclusive), interpolated along line and constant across the block's range. Older products carry a
  single ``noiseVector``/``noiseLut`` (range LUT only).

Conventions: ESA "Sentinel-1 Level 1 Detailed Algorithm Definition" (S1-TN-MDA-52-7445) and the
thermal-denoising note MPC-0392; ``line`` is the azimuth row, ``pixel`` the range column, both 0-based.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ingest.readers import xmlmeta
from ingest.readers.errors import MalformedMetadata

__all__ = ["LutKind", "CalibrationLUT", "NoiseAzimuthBlock", "NoiseLUT", "parse_calibration", "parse_noise", "interp_vectors"]

LutKind = Literal["sigmaNought", "betaNought", "gamma", "dn"]


@dataclass(frozen=True)
class CalibrationLUT:
    """Calibration vectors: ``lines`` (n,), per-vector ``pixels`` and ``values[kind]`` arrays."""

    lines: np.ndarray
    pixels: list[np.ndarray]
    values: dict[str, list[np.ndarray]]
    absolute_calibration_constant: float

    def grid(self, kind: LutKind, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """A (``kind``) on the (rows × cols) pixel grid, bilinearly interpolated."""
        return interp_vectors(self.lines, self.pixels, self.values[kind], rows, cols)


def parse_calibration(path: str | os.PathLike) -> CalibrationLUT:
    root = xmlmeta.parse(path)
    where = Path(path).name
    vecs = list(xmlmeta.iter_local(root, "calibrationVector"))
    if not vecs:
        raise MalformedMetadata(f"no calibrationVector in {where}")
    values: dict[str, list[np.ndarray]] = {k: [] for k in ("sigmaNought", "betaNought", "gamma", "dn")}
    for v in vecs:
        for k in values:
            values[k].append(xmlmeta.floats(v, k, where))
    const = xmlmeta.opt_text(root, "absoluteCalibrationConstant")
    return CalibrationLUT(
        lines=np.array([int(xmlmeta.text(v, "line", where)) for v in vecs]),
        pixels=[xmlmeta.floats(v, "pixel", where) for v in vecs],
        values=values,
        absolute_calibration_constant=float(const) if const else 1.0,
    )


@dataclass(frozen=True)
class NoiseAzimuthBlock:
    """One azimuth noise block; line/sample bounds are inclusive."""

    swath: str
    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    lines: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class NoiseLUT:
    """Thermal noise in DN²: range vectors (per azimuth line) and, for IPF ≥ 2.9, azimuth blocks."""

    lines: np.ndarray
    pixels: list[np.ndarray]
    range_values: list[np.ndarray]
    azimuth_blocks: tuple[NoiseAzimuthBlock, ...] = ()

    def grid(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """N on the (rows × cols) grid = range LUT × azimuth LUT (1 where no azimuth block covers)."""
        rng = interp_vectors(self.lines, self.pixels, self.range_values, rows, cols)
        if not self.azimuth_blocks:
            return rng
        az = np.ones_like(rng)
        for b in self.azimuth_blocks:
            rsel = (rows >= b.first_line) & (rows <= b.last_line)
            csel = (cols >= b.first_sample) & (cols <= b.last_sample)
            if rsel.any() and csel.any():
                vals = np.interp(rows[rsel], b.lines, b.values)
                az[np.ix_(rsel, csel)] = vals[:, None]
        return rng * az


def parse_noise(path: str | os.PathLike) -> NoiseLUT:
    root = xmlmeta.parse(path)
    where = Path(path).name
    rvecs = list(xmlmeta.iter_local(root, "noiseRangeVector"))
    lut_name = "noiseRangeLut"
    if not rvecs:  # IPF < 2.9
        rvecs, lut_name = list(xmlmeta.iter_local(root, "noiseVector")), "noiseLut"
    if not rvecs:
        raise MalformedMetadata(f"neither noiseRangeVector nor noiseVector in {where}")
    blocks = tuple(
        NoiseAzimuthBlock(
            swath=xmlmeta.opt_text(b, "swath") or "",
            first_line=int(xmlmeta.text(b, "firstAzimuthLine", where)),
            last_line=int(xmlmeta.text(b, "lastAzimuthLine", where)),
            first_sample=int(xmlmeta.text(b, "firstRangeSample", where)),
            last_sample=int(xmlmeta.text(b, "lastRangeSample", where)),
            lines=xmlmeta.floats(b, "line", where),
            values=xmlmeta.floats(b, "noiseAzimuthLut", where),
        )
        for b in xmlmeta.iter_local(root, "noiseAzimuthVector")
    )
    return NoiseLUT(
        lines=np.array([int(xmlmeta.text(v, "line", where)) for v in rvecs]),
        pixels=[xmlmeta.floats(v, "pixel", where) for v in rvecs],
        range_values=[xmlmeta.floats(v, lut_name, where) for v in rvecs],
        azimuth_blocks=blocks,
    )


def interp_vectors(
    lines: np.ndarray, pixels: list[np.ndarray], values: list[np.ndarray], rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Bilinear interpolation of sparse LUT vectors onto a (len(rows), len(cols)) float64 grid.

    Each vector is first interpolated along ``cols`` at its own pixel positions; rows between two
    vectors are a linear blend of the two; rows outside [lines[0], lines[-1]] take the edge vector.
    """
    rows = np.asarray(rows, dtype=np.float64)
    cols = np.asarray(cols, dtype=np.float64)
    lines = np.asarray(lines, dtype=np.float64)
    if len(lines) == 1:
        return np.broadcast_to(np.interp(cols, pixels[0], values[0]), (rows.size, cols.size)).copy()
    i = np.clip(np.searchsorted(lines, rows, side="right") - 1, 0, len(lines) - 2)
    needed = np.unique(np.concatenate([i, i + 1]))
    along = {k: np.interp(cols, pixels[k], values[k]) for k in needed}
    w = np.clip((rows - lines[i]) / (lines[i + 1] - lines[i]), 0.0, 1.0)
    lo = np.stack([along[k] for k in i])
    hi = np.stack([along[k] for k in i + 1])
    return lo * (1.0 - w)[:, None] + hi * w[:, None]

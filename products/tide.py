"""Water levels for shoreline work: read a gauge/model series, interpolate it to image times, correct.

A satellite waterline is the shoreline *at the water level of the acquisition*. To compare dates it
is either kept only inside a window of tide stages (filter) or moved horizontally to a reference
elevation with the beach-face slope (correction), as CoastSat does (Vos et al. 2019):

    Δx = (z_tide − z_ref) / tanβ        (metres, positive = seaward)

Chainages measured along transects that point seaward are corrected as ``x + Δx``: at high tide
the waterline sits landward of the reference contour, so it is pushed seaward, and vice versa.

Series format: CSV with a time column (ISO 8601, UTC when naive) and a water-level column in metres
(CoastSat's ``dates,tide``; the Hòn Dáu gauge series exported the same way). Lines starting with
``#`` are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from products.errors import ProductError

__all__ = ["TideError", "WaterLevels", "read_water_levels", "tide_correction", "in_stage_window", "to_datetime64"]


class TideError(ProductError):
    """A water-level series is missing, malformed, or does not cover the requested times."""


def to_datetime64(times: Sequence[object] | np.ndarray) -> np.ndarray:
    """Times (datetime, ISO strings, datetime64) → ``datetime64[ns]`` in UTC (tz-aware values converted)."""
    import pandas as pd

    idx = pd.to_datetime(pd.Index(list(times) if not isinstance(times, np.ndarray) else times), utc=True)
    return idx.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")


@dataclass(frozen=True)
class WaterLevels:
    """A water-level time series: ``times`` (datetime64[ns], UTC, increasing) and ``levels`` (m)."""

    times: np.ndarray
    levels: np.ndarray
    name: str = ""
    max_gap_s: float = 3 * 3600.0  # refuse to interpolate across gaps longer than this

    def __post_init__(self) -> None:
        if self.times.shape != self.levels.shape or self.times.ndim != 1:
            raise TideError("water levels: times and levels must be 1-D arrays of the same length")
        if len(self.times) < 2:
            raise TideError(f"water levels {self.name!r}: need at least two values")
        if np.any(np.diff(self.times.astype("int64")) <= 0):
            raise TideError(f"water levels {self.name!r}: times must be strictly increasing")

    def at(self, times: Sequence[object] | np.ndarray) -> np.ndarray:
        """Water level (m) at each time, linear in time; errors outside the series or inside a long gap."""
        t = to_datetime64(times).astype("int64") / 1e9
        ts = self.times.astype("int64") / 1e9
        if len(t) == 0:
            return np.zeros(0)
        if t.min() < ts[0] or t.max() > ts[-1]:
            lo, hi = np.datetime_as_string(self.times[[0, -1]], unit="s")
            raise TideError(f"water levels {self.name!r} cover {lo}Z…{hi}Z only; an image time falls outside")
        j = np.clip(np.searchsorted(ts, t, side="right"), 1, len(ts) - 1)
        gap = ts[j] - ts[j - 1]
        if np.any(gap > self.max_gap_s):
            bad = np.datetime64(int(t[gap > self.max_gap_s][0]), "s")
            raise TideError(f"water levels {self.name!r}: gap longer than {self.max_gap_s / 3600:g} h around {bad}Z")
        w = (t - ts[j - 1]) / gap
        return (1 - w) * self.levels[j - 1] + w * self.levels[j]


def read_water_levels(path: str | Path, time_column: str | None = None, level_column: str | None = None, max_gap_s: float = 3 * 3600.0) -> WaterLevels:
    """Read a CSV water-level series. Columns default to the first time-like and the first numeric column."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise TideError(f"no water-level file {p}")
    try:
        df = pd.read_csv(p, comment="#")
    except Exception as exc:  # pandas raises many kinds on malformed input
        raise TideError(f"cannot read water levels {p.name}: {exc}") from exc
    cols = [c for c in df.columns if not str(c).startswith("Unnamed")]
    tcol = time_column or next((c for c in cols if str(c).lower() in ("dates", "date", "time", "datetime", "timestamp")), None)
    if tcol is None or tcol not in df.columns:
        raise TideError(f"{p.name}: no time column (looked for dates/date/time/datetime; columns: {', '.join(map(str, cols))})")
    lcol = level_column or next((c for c in cols if c != tcol and pd.api.types.is_numeric_dtype(df[c])), None)
    if lcol is None or lcol not in df.columns:
        raise TideError(f"{p.name}: no numeric water-level column (columns: {', '.join(map(str, cols))})")
    try:
        times = to_datetime64(df[tcol].astype(str).to_numpy())
    except (ValueError, TypeError) as exc:
        raise TideError(f"{p.name}: unreadable times in column {tcol!r}: {exc}") from exc
    levels = df[lcol].to_numpy(dtype=float)
    keep = np.isfinite(levels)
    order = np.argsort(times[keep], kind="stable")
    t, z = times[keep][order], levels[keep][order]
    uniq = np.concatenate([[True], np.diff(t.astype("int64")) > 0])
    return WaterLevels(t[uniq], z[uniq], name=p.name, max_gap_s=max_gap_s)


def tide_correction(levels: np.ndarray, reference_m: float, beach_slope: float) -> np.ndarray:
    """Horizontal correction Δx = (z − z_ref) / tanβ in metres (add to seaward-positive chainages)."""
    if not beach_slope > 0:
        raise TideError(f"beach slope tanβ must be positive, got {beach_slope}")
    return (np.asarray(levels, dtype=float) - reference_m) / beach_slope


def in_stage_window(levels: np.ndarray, low_m: float, high_m: float) -> np.ndarray:
    """True where the water level lies in [low_m, high_m] (the tide-stage filter)."""
    if high_m < low_m:
        raise TideError(f"tide window low {low_m} m is above high {high_m} m")
    z = np.asarray(levels, dtype=float)
    return (z >= low_m) & (z <= high_m)

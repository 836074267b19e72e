"""Water levels for shoreline work: read a gauge/model series, interpolate it to image times, correct.

A satellite waterline is the shoreline *at the water level of the acquisition*. To compare dates it
is either kept only inside a window of tide stages (filter) or moved horizontally to a reference
elevation with the beach-face slope (correction), as CoastSat does (Vos et al. 2019):

    Δx = (z_tide − z_ref) / tanβ        (metres, positive = seaward)

Chainages measured along transects that point seaward are corrected as ``x + Δx``: at high tide
the waterline sits landward of the reference contour, so it is pushed seaward, and vice versa.

Series formats (:func:`read_water_levels`, detected from the file):

* plain CSV (comma, semicolon or tab) with a time column (ISO 8601, UTC when naive) and a water-level
  column: CoastSat's ``dates,tide``, the Hòn Dáu gauge series exported the same way;
* the IOC Sea Level Station Monitoring Facility / GLOSS export: ``Time (UTC)`` then one column per sensor
  with its unit in the name (``prs(m)``, ``rad(m)``); the first level column unless one is named;
* UHSLC research-quality hourly (``year,month,day,hour,level``) and daily (``year,month,day,level``) CSV:
  no header, levels in **millimetres**, −32767 for missing values, times in GMT.

Units: declared (``units``), else from the column name (``(mm)``, ``_cm``, ``[m]``), else millimetres for
UHSLC and metres otherwise — but values beyond ±20 m are refused as undeclared mm/cm, never read as metres.
Missing values: NaN, empty cells, the declared ``missing`` sentinel, and the common sentinels −32767, ±9999,
±99999. Lines starting with ``#`` are comments.

Reference level: the series' own datum is often a gauge zero or chart datum metres below mean sea level,
so an unstated reference of 0 is wrong. :func:`tide_stage` gives the stage relative to the **mean sea level
of the series** (the mean of its valid values; stated with its period, and flagged when the series spans less
than a lunar month, over which a mean is biased by the tide itself) or, explicitly, to the series' datum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from products.errors import ProductError

__all__ = ["TideError", "WaterLevels", "read_water_levels", "tide_stage", "tide_correction", "in_stage_window", "to_datetime64",
           "MISSING_SENTINELS", "UNIT_FACTORS"]

MISSING_SENTINELS = (-32767.0, -9999.0, 9999.0, -99999.0, 99999.0)
UNIT_FACTORS = {"m": 1.0, "cm": 0.01, "mm": 0.001}
MAX_ABS_LEVEL_M = 20.0  # beyond this a "metre" value is a unit mistake (the largest tidal ranges are ~16 m)
LUNAR_MONTH_S = 29.53 * 86400


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
    source_format: str = "csv"  # csv | ioc | uhslc-hourly | uhslc-daily | array
    units: str = "m"  # the file's units (levels are always metres here)
    units_from: str = "default"  # declared | column name | format | default
    missing: int = 0  # values dropped as missing (sentinels, empty, NaN)

    @property
    def mean_level(self) -> float:
        """Mean of the series' valid values (m, series datum): its mean sea level estimate."""
        return float(np.mean(self.levels))

    @property
    def span_s(self) -> float:
        return float((self.times[-1] - self.times[0]) / np.timedelta64(1, "s"))

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


def _unit_of(name: str) -> str | None:
    import re

    m = re.search(r"[\(\[_\s-](mm|cm|m)[\)\]]?\s*$", str(name).strip().lower())
    return m.group(1) if m else None


def _sniff(p: Path) -> tuple[str, list[str]]:
    """(format, data lines) of a water-level file: UHSLC when the first data line is 4 or 5 integers starting with a year."""
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TideError(f"cannot read water levels {p.name}: {exc}") from exc
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise TideError(f"{p.name}: no water levels")
    toks = [t for t in lines[0].replace(",", " ").split()]
    try:
        nums = [float(t) for t in toks]
    except ValueError:
        return "table", lines
    if len(nums) in (4, 5) and 1800 <= nums[0] <= 2100 and 1 <= nums[1] <= 12 and 1 <= nums[2] <= 31:
        return ("uhslc-hourly" if len(nums) == 5 else "uhslc-daily"), lines
    raise TideError(f"{p.name}: a header-less file must be UHSLC hourly (year,month,day,hour,level) or daily "
                    f"(year,month,day,level); its first line has {len(nums)} numbers")


def read_water_levels(
    path: str | Path,
    time_column: str | None = None,
    level_column: str | None = None,
    max_gap_s: float | None = None,
    *,
    units: str | None = None,
    missing: float | None = None,
) -> WaterLevels:
    """Read a water-level series in any of the module's formats; levels in metres on the series' datum.

    Columns (plain CSV, IOC) default to the first time-like and the first numeric column. ``max_gap_s`` (default
    3 h, 26 h for a daily series) is the longest gap interpolated across."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise TideError(f"no water-level file {p}")
    if units is not None and units not in UNIT_FACTORS:
        raise TideError(f"water-level units must be one of {', '.join(UNIT_FACTORS)}, not {units!r}")
    fmt, lines = _sniff(p)
    if fmt.startswith("uhslc"):
        rows = []
        for i, ln in enumerate(lines, 1):
            vals = ln.replace(",", " ").split()
            if len(vals) != (5 if fmt == "uhslc-hourly" else 4):
                raise TideError(f"{p.name} line {i}: {len(vals)} fields in a {fmt} file")
            try:
                rows.append([float(v) for v in vals])
            except ValueError as exc:
                raise TideError(f"{p.name} line {i}: not a number ({exc})") from exc
        a = np.asarray(rows)
        hours = a[:, 3] if fmt == "uhslc-hourly" else np.full(len(a), 12.0)  # daily means: at noon
        try:
            times = to_datetime64(pd.to_datetime(dict(year=a[:, 0], month=a[:, 1], day=a[:, 2])) + pd.to_timedelta(hours, unit="h"))
        except (ValueError, TypeError) as exc:
            raise TideError(f"{p.name}: impossible dates: {exc}") from exc
        raw = a[:, -1]
        unit, unit_from = (units, "declared") if units else ("mm", "format")
        gap_default = 3 * 3600.0 if fmt == "uhslc-hourly" else 26 * 3600.0
    else:
        import io

        try:
            df = pd.read_csv(io.StringIO("\n".join(lines)), sep=None, engine="python")
        except Exception as exc:  # pandas raises many kinds on malformed input
            raise TideError(f"cannot read water levels {p.name}: {exc}") from exc
        cols = [c for c in df.columns if not str(c).startswith("Unnamed")]
        timeish = ("dates", "date", "time", "datetime", "timestamp", "time (utc)", "time(utc)", "time_utc", "slevel_time")
        tcol = time_column or next((c for c in cols if str(c).strip().lower() in timeish), None) \
            or next((c for c in cols if str(c).strip().lower().startswith("time")), None)
        if tcol is None or tcol not in df.columns:
            raise TideError(f"{p.name}: no time column (looked for dates/date/time/datetime; columns: {', '.join(map(str, cols))})")
        lcol = level_column or next((c for c in cols if c != tcol and pd.api.types.is_numeric_dtype(df[c])), None)
        if lcol is None or lcol not in df.columns:
            raise TideError(f"{p.name}: no numeric water-level column (columns: {', '.join(map(str, cols))})")
        try:
            times = to_datetime64(df[tcol].astype(str).str.strip().to_numpy())
        except (ValueError, TypeError) as exc:
            raise TideError(f"{p.name}: unreadable times in column {tcol!r}: {exc}") from exc
        raw = pd.to_numeric(df[lcol], errors="coerce").to_numpy(dtype=float)
        named = _unit_of(lcol)
        unit, unit_from = (units, "declared") if units else ((named, "column name") if named else ("m", "default"))
        fmt = "ioc" if str(tcol).strip().lower().startswith("time (utc)") or named and "(" in str(lcol) else "csv"
        gap_default = 3 * 3600.0
    sentinels = set(MISSING_SENTINELS) | ({float(missing)} if missing is not None else set())
    bad = ~np.isfinite(raw) | np.isin(raw, list(sentinels))
    levels = np.where(bad, np.nan, raw) * UNIT_FACTORS[unit]
    keep = np.isfinite(levels)
    if keep.any() and np.nanmax(np.abs(levels)) > MAX_ABS_LEVEL_M:
        big = float(np.nanmax(np.abs(raw[keep])))
        raise TideError(f"{p.name}: water levels up to {big:g} {unit} ({unit_from}) are beyond ±{MAX_ABS_LEVEL_M:g} m: "
                        "declare the units (m, cm or mm) and the missing-value sentinel")
    order = np.argsort(times[keep], kind="stable")
    t, z = times[keep][order], levels[keep][order]
    uniq = np.concatenate([[True], np.diff(t.astype("int64")) > 0])
    return WaterLevels(t[uniq], z[uniq], name=p.name, max_gap_s=max_gap_s if max_gap_s is not None else gap_default,
                       source_format=fmt, units=unit, units_from=unit_from, missing=int(bad.sum()))


def tide_stage(tides: WaterLevels, times: Sequence[object] | np.ndarray, reference: str = "msl") -> tuple[np.ndarray, dict[str, Any]]:
    """Water level at ``times`` relative to the reference (m) and a statement of that reference.

    ``reference="msl"``: relative to the mean sea level of the series (:attr:`WaterLevels.mean_level`);
    ``"datum"``: relative to the series' own datum (its zero), for series already referenced to a known level."""
    if reference not in ("msl", "datum"):
        raise TideError(f"tide reference must be 'msl' or 'datum', not {reference!r}")
    z = tides.at(times)
    lo, hi = np.datetime_as_string(tides.times[[0, -1]], unit="s")
    info: dict[str, Any] = {"reference": reference, "format": tides.source_format, "units": tides.units,
                            "units_from": tides.units_from, "missing_values": tides.missing}
    if reference == "msl":
        msl = tides.mean_level
        info.update({"msl_above_datum_m": round(msl, 4), "msl_from": f"mean of {len(tides.levels)} values, {lo}Z…{hi}Z"})
        if tides.span_s < LUNAR_MONTH_S:
            info["warning"] = (f"the series spans {tides.span_s / 86400:.1f} days, less than a lunar month: its mean is biased "
                               "by the tide itself; give a longer series or a known datum (tide_reference='datum')")
        return z - msl, info
    info["note"] = "levels relative to the series' own datum (stated by the caller to be the reference)"
    return z, info


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

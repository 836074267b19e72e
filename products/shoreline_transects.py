"""Transects along a baseline, shoreline–transect intersections and DSAS change statistics.

Conventions (as CoastSat and the USGS Digital Shoreline Analysis System, DSAS v5):
- a transect starts on land (its *origin*) and points seaward; the *chainage* of a shoreline on a
  transect is the distance (m) from the origin to the intersection, so larger = more seaward;
- rates are in metres per year, time in years of 365.25 days; positive = accretion (seaward).

Statistics per transect (Himmelstoss et al. 2021, DSAS v5.1 user guide):
- NSM  net shoreline movement: chainage(youngest) − chainage(oldest) (m);
- EPR  end-point rate: NSM / elapsed years (m/yr);
- LRR  linear regression rate: ordinary least-squares slope of chainage on time (m/yr), with r²,
  the standard error of the slope SE = sqrt(SSE/(n−2) / Σ(t−t̄)²) and the 95 % confidence interval
  half-width LCI95 = t(0.975, n−2) · SE (Student's t);
- SCE  shoreline change envelope: max − min chainage (m).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from products.errors import ProductError

__all__ = [
    "Transect",
    "TransectStats",
    "smooth_baseline",
    "make_transects",
    "chainage",
    "chainages",
    "change_statistics",
    "decimal_years",
    "DAYS_PER_YEAR",
]

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Transect:
    """A seaward-pointing transect: ``origin`` (x, y) on land, unit ``direction``, ``length`` (m)."""

    name: str
    origin: tuple[float, float]
    direction: tuple[float, float]
    length: float
    along: float = 0.0  # distance along the baseline (m)

    @property
    def line(self) -> LineString:
        (x0, y0), (dx, dy) = self.origin, self.direction
        return LineString([(x0, y0), (x0 + dx * self.length, y0 + dy * self.length)])

    def point_at(self, chainage_m: float) -> tuple[float, float]:
        (x0, y0), (dx, dy) = self.origin, self.direction
        return (x0 + dx * chainage_m, y0 + dy * chainage_m)


@dataclass(frozen=True)
class TransectStats:
    """DSAS statistics of one transect (NaN where there are too few dated positions)."""

    n: int
    nsm: float
    epr: float
    lrr: float
    lr_intercept: float
    r2: float
    se: float
    ci95: float
    sce: float
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}


def decimal_years(times: np.ndarray, epoch: np.datetime64 | None = None) -> np.ndarray:
    """Years (of 365.25 days) since ``epoch`` (default: the first time) for datetime64 values."""
    t = np.asarray(times, dtype="datetime64[ns]")
    e = np.datetime64(epoch, "ns") if epoch is not None else t.min()
    return (t - e).astype("int64") / (86400e9 * DAYS_PER_YEAR)


def smooth_baseline(line: LineString, window_m: float, step_m: float = 10.0) -> LineString:
    """Resample ``line`` every ``step_m`` and smooth it with a moving average over ``window_m`` (m).

    The ends are smoothed with a shrinking window so the baseline keeps its length.
    """
    if line.length < 2 * step_m:
        raise ProductError(f"baseline too short ({line.length:.0f} m)")
    d = np.arange(0.0, line.length + 1e-9, step_m)
    pts = shapely.get_coordinates(line.interpolate(d))
    half = max(int(round(window_m / step_m / 2)), 0)
    if half == 0:
        return LineString(pts)
    out = np.empty_like(pts)
    n = len(pts)
    cs = np.vstack([[0.0, 0.0], np.cumsum(pts, axis=0)])
    for i in range(n):
        h = min(half, i, n - 1 - i)
        out[i] = (cs[i + h + 1] - cs[i - h]) / (2 * h + 1)
    return LineString(out)


def make_transects(
    baseline: LineString,
    spacing_m: float,
    land_m: float,
    sea_m: float,
    seaward: Literal["left", "right"],
    prefix: str = "T",
) -> list[Transect]:
    """Transects every ``spacing_m`` along ``baseline``, perpendicular to it, ``land_m`` behind and ``sea_m`` in front.

    ``seaward`` says on which side of the baseline (walking from its first vertex) the sea lies.
    The first transect is half a spacing from the start so that transects sit in the middle of
    their alongshore cells.
    """
    if spacing_m <= 0 or land_m < 0 or sea_m <= 0:
        raise ProductError("transect spacing and sea length must be positive, land length not negative")
    L = baseline.length
    n = int(L // spacing_m)
    if n < 1:
        raise ProductError(f"baseline of {L:.0f} m is shorter than the transect spacing {spacing_m:g} m")
    along = spacing_m / 2 + spacing_m * np.arange(n)
    h = min(spacing_m / 2, 25.0)
    p = shapely.get_coordinates(baseline.interpolate(along))
    a = shapely.get_coordinates(baseline.interpolate(np.clip(along - h, 0, L)))
    b = shapely.get_coordinates(baseline.interpolate(np.clip(along + h, 0, L)))
    tangent = b - a
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    # left normal of the walking direction is (-ty, tx)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    if seaward == "right":
        normal = -normal
    width = len(str(n))
    return [
        Transect(
            name=f"{prefix}{i + 1:0{width}d}",
            origin=(float(p[i, 0] - normal[i, 0] * land_m), float(p[i, 1] - normal[i, 1] * land_m)),
            direction=(float(normal[i, 0]), float(normal[i, 1])),
            length=float(land_m + sea_m),
            along=float(along[i]),
        )
        for i in range(n)
    ]


def chainage(transect: Transect, shoreline: BaseGeometry, mode: Literal["seaward", "landward", "median"] = "seaward") -> float:
    """Chainage (m from the origin) where ``shoreline`` crosses the transect; NaN when it does not.

    With several crossings (inland water, spits) ``mode`` picks the most seaward (DSAS default for
    an ocean shoreline), the most landward, or the median (CoastSat's choice).
    """
    if shoreline.is_empty:
        return float("nan")
    inter = transect.line.intersection(shoreline)
    if inter.is_empty:
        return float("nan")
    xy = shapely.get_coordinates(inter)
    (x0, y0), (dx, dy) = transect.origin, transect.direction
    c = (xy[:, 0] - x0) * dx + (xy[:, 1] - y0) * dy
    if mode == "seaward":
        return float(c.max())
    if mode == "landward":
        return float(c.min())
    return float(np.median(c))


def chainages(transects: Sequence[Transect], shorelines: Sequence[BaseGeometry], mode: Literal["seaward", "landward", "median"] = "seaward") -> np.ndarray:
    """Matrix (dates × transects) of chainages (m), NaN where a shoreline misses a transect."""
    out = np.full((len(shorelines), len(transects)), np.nan)
    for i, sl in enumerate(shorelines):
        if sl is None or sl.is_empty:
            continue
        prepared = sl if isinstance(sl, (LineString, MultiLineString)) else shapely.line_merge(sl)
        shapely.prepare(prepared)
        for j, tr in enumerate(transects):
            out[i, j] = chainage(tr, prepared, mode)
    return out


def change_statistics(times: np.ndarray, positions: np.ndarray, min_points: int = 3) -> TransectStats:
    """DSAS statistics (see the module docstring) of one transect's dated chainages; NaN positions are ignored."""
    from scipy import stats

    t_all = np.asarray(times, dtype="datetime64[ns]")
    x_all = np.asarray(positions, dtype=float)
    if t_all.shape != x_all.shape:
        raise ProductError("times and positions differ in length")
    ok = np.isfinite(x_all)
    t, x = t_all[ok], x_all[ok]
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    n = len(x)
    nan = float("nan")
    if n < max(min_points, 2):
        return TransectStats(n, nan, nan, nan, nan, nan, nan, nan, nan)
    yrs = decimal_years(t)
    span = yrs[-1] - yrs[0]
    nsm = float(x[-1] - x[0])
    epr = nsm / span if span > 0 else nan
    sce = float(x.max() - x.min())
    first, last = (str(np.datetime_as_string(v, unit="s")) + "Z" for v in (t[0], t[-1]))
    tm = yrs.mean()
    sxx = float(((yrs - tm) ** 2).sum())
    if n < 3 or sxx <= 0:
        return TransectStats(n, nsm, epr, nan, nan, nan, nan, nan, sce, first, last)
    slope = float(((yrs - tm) * (x - x.mean())).sum() / sxx)
    intercept = float(x.mean() - slope * tm)
    resid = x - (intercept + slope * yrs)
    sse = float((resid**2).sum())
    sst = float(((x - x.mean()) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else nan
    se = float(np.sqrt(sse / (n - 2) / sxx))
    ci = float(stats.t.ppf(0.975, n - 2) * se)
    return TransectStats(n, nsm, epr, slope, intercept, r2, se, ci, sce, first, last)

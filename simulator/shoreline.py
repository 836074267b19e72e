"""SIMULATED Sentinel-2 L2A scenes of an eroding stretch of Hải Phòng's coast with a KNOWN shoreline.

The stretch follows the scenario coast of :mod:`simulator.scenes` between Tiên Lãng and Kiến Thụy
(the segment from 106.662 E 20.642 N to 106.705 E 20.668 N; land to the north-west). In a local
frame (along-shore ``s``, cross-shore ``c`` positive seaward, metres, origin at the scene centre):

    mean-sea-level shoreline   y(s, t) = y0(s) + r(s) · (t − t0)         (t in years of 365.25 days)
    instantaneous waterline    w(s, t) = y(s, t) − z(t) / tanβ             (z: water level, m above MSL)

with y0 a sum of sines (sub-pixel, metre-scale wiggles), r(s) = r̄ + a·sin(2πs/λ) m/yr (erosion
everywhere), z(t) a diurnal Hòn Dáu-like tide (K1, O1, M2, S2) and tanβ the beach-face slope.
Pixels mix water, sand, vegetation, ponds and clouds by their exact sub-pixel area (4×4 supersampling
at 10 m; the 20 m bands average 2×2 of those); reflectances are :mod:`simulator.scenes`'s spectra with
smooth turbidity/texture and sensor noise. Scenes are written in the simulator's folder format
(read with :func:`simulator.scenes.read_simulated`), the tide series as a CoastSat-style CSV
(``dates,tide``) and the truth in ``truth/shoreline_truth.json``. Every id starts with ``SIM-`` and
every GeoTIFF carries ``HPGEO_SIMULATED=yes``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, box, mapping

from geo.cog import write_cog
from geo.crs import PROCESSING_CRS, WGS84, reproject_geometry
from geo.grid import Grid
from geo.tempfiles import write_text_atomic
from simulator.scenes import COAST, POND, RHO, RHO_CLOUD, S2_BANDS, SAND, SEA, SIM_TAGS, CROP, coarser_grid, smooth_noise, config_hash

__all__ = [
    "ShorelineSimConfig",
    "simulate_shoreline",
    "coast_frame",
    "msl_position",
    "waterline_position",
    "water_level",
    "true_rate",
    "true_baseline",
    "true_waterline",
    "TIDE_FILE",
]

UTC = dt.timezone.utc
TIDE_FILE = "HON_DAU_SIMULATED.csv"
_DATES = (
    dt.datetime(2017, 2, 11, 3, 36, 21, tzinfo=UTC), dt.datetime(2018, 1, 17, 3, 36, 9, tzinfo=UTC),
    dt.datetime(2019, 3, 3, 3, 36, 29, tzinfo=UTC), dt.datetime(2020, 2, 26, 3, 36, 31, tzinfo=UTC),
    dt.datetime(2020, 12, 12, 3, 36, 19, tzinfo=UTC), dt.datetime(2022, 1, 16, 3, 36, 21, tzinfo=UTC),
    dt.datetime(2023, 2, 10, 3, 36, 29, tzinfo=UTC), dt.datetime(2024, 1, 26, 3, 36, 19, tzinfo=UTC),
    dt.datetime(2025, 2, 19, 3, 36, 31, tzinfo=UTC),
)
# Hòn Dáu is diurnal: K1 and O1 dominate (amplitudes m, speeds °/h, phases °). Speeds are the constituents'
# astronomical angular speeds (Schureman 1958, US C&GS Special Publication 98, Table 2): K1 15.041069, O1 13.943036,
# M2 28.984104, S2 30.0 °/h; amplitudes and phases are the scenario's (Hòn Dáu-like, not a harmonic analysis).
_CONSTITUENTS = ((0.72, 15.041069, 40.0), (0.70, 13.943036, 310.0), (0.04, 28.984104, 100.0), (0.03, 30.0, 200.0))
_SAND_DRY = RHO[SAND]
_SCL = {SEA: 6, SAND: 5, CROP: 4, POND: 6}
_CLOUD = 99


@dataclass(frozen=True)
class ShorelineSimConfig:
    """The scenario; any change gives new ids' checksum and rewrites the scenes."""

    size_px: int = 360
    resolution: float = 10.0
    seed: int = 4042
    dates: tuple[dt.datetime, ...] = _DATES
    rate_mean: float = -9.0  # m/yr (negative = erosion)
    rate_amplitude: float = 4.0  # m/yr
    rate_wavelength_m: float = 3000.0
    wiggles: tuple[tuple[float, float, float], ...] = ((25.0, 1700.0, 0.0), (8.0, 530.0, 1.0))  # (amp m, λ m, phase rad)
    beach_slope: float = 0.05  # tanβ
    beach_width_m: float = 90.0
    cloudy: tuple[tuple[int, float, float], ...] = ((2, -600.0, 350.0), (6, 900.0, 300.0))  # (date index, s of centre m, radius m)
    version: str = "1"

    def grid(self) -> Grid:
        (cx, cy), _, _ = coast_frame(self)
        half = self.size_px * self.resolution / 2
        return Grid.from_bbox((cx - half, cy - half, cx + half, cy + half), PROCESSING_CRS, self.resolution)

    def hash(self) -> str:
        return config_hash(self)


def coast_frame(cfg: ShorelineSimConfig) -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
    """Scene centre (x, y) in EPSG:32648, along-shore unit vector u (SW→NE) and seaward unit normal n."""
    a = reproject_geometry(LineString([COAST[3], COAST[5]]), WGS84, PROCESSING_CRS)
    (x0, y0), (x1, y1) = a.coords
    u = np.array([x1 - x0, y1 - y0])
    u /= np.linalg.norm(u)
    n = np.array([u[1], -u[0]])  # right of the walking direction: the sea (land is north-west)
    centre = (round((x0 + x1) / 2 / cfg.resolution) * cfg.resolution, round((y0 + y1) / 2 / cfg.resolution) * cfg.resolution)
    return centre, u, n


def _years(cfg: ShorelineSimConfig, t: dt.datetime) -> float:
    return (t - cfg.dates[0]).total_seconds() / (86400 * 365.25)


def true_rate(cfg: ShorelineSimConfig, s: np.ndarray | float) -> np.ndarray:
    """Shoreline change rate (m/yr) at along-shore position ``s`` (m)."""
    return cfg.rate_mean + cfg.rate_amplitude * np.sin(2 * np.pi * np.asarray(s, float) / cfg.rate_wavelength_m)


def msl_position(cfg: ShorelineSimConfig, s: np.ndarray | float, t: dt.datetime) -> np.ndarray:
    """Cross-shore position (m, seaward +) of the mean-sea-level shoreline at ``s`` and time ``t``."""
    s = np.asarray(s, float)
    y0 = sum(a * np.sin(2 * np.pi * s / lam + ph) for a, lam, ph in cfg.wiggles)
    return y0 + true_rate(cfg, s) * _years(cfg, t)


def water_level(t: dt.datetime | np.ndarray) -> np.ndarray:
    """Simulated Hòn Dáu water level (m above mean sea level) at ``t`` (datetime or datetime64)."""
    t64 = np.asarray(np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ns") if isinstance(t, dt.datetime) else t, dtype="datetime64[ns]")
    hours = (t64 - np.datetime64("2000-01-01T00:00:00", "ns")).astype("int64") / 3.6e12
    return sum(a * np.cos(np.radians(w * hours - ph)) for a, w, ph in _CONSTITUENTS)


def waterline_position(cfg: ShorelineSimConfig, s: np.ndarray | float, t: dt.datetime) -> np.ndarray:
    """Cross-shore position (m) of the instantaneous waterline: MSL shoreline moved by −z/tanβ."""
    return msl_position(cfg, s, t) - float(water_level(t)) / cfg.beach_slope


def _to_map(cfg: ShorelineSimConfig, s: np.ndarray, c: np.ndarray) -> np.ndarray:
    (cx, cy), u, n = coast_frame(cfg)
    return np.column_stack([cx + s * u[0] + c * n[0], cy + s * u[1] + c * n[1]])


def true_baseline(cfg: ShorelineSimConfig, margin_m: float = 300.0) -> tuple[LineString, float]:
    """The straight along-shore axis (c = 0) inside the scene less ``margin_m``, and its start ``s``."""
    g = cfg.grid()
    inner = box(*g.bounds).buffer(-margin_m)
    s = np.array([-1e4, 1e4])
    full = LineString(_to_map(cfg, s, np.zeros(2)))
    part = full.intersection(inner)
    (x0, y0) = part.coords[0]
    (cx, cy), u, _ = coast_frame(cfg)
    return LineString(part.coords), float((x0 - cx) * u[0] + (y0 - cy) * u[1])


def true_waterline(cfg: ShorelineSimConfig, t: dt.datetime, msl: bool = False, step_m: float = 2.0) -> LineString:
    """The true waterline (or MSL shoreline) at ``t`` in EPSG:32648, clipped to the scene."""
    s = np.arange(-1e4, 1e4, step_m)
    c = msl_position(cfg, s, t) if msl else waterline_position(cfg, s, t)
    return LineString(_to_map(cfg, s, c)).intersection(box(*cfg.grid().bounds))


def _ids(cfg: ShorelineSimConfig) -> list[str]:
    return [f"SIM-S2A-MSIL2A-{d:%Y%m%dT%H%M%S}-T48QXH-SHORE" for d in cfg.dates]


def _scene(cfg: ShorelineSimConfig, i: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Reflectance per band at 10 m, SCL at 10 m and the cloud fraction (%) of date ``i``."""
    t = cfg.dates[i]
    grid = cfg.grid()
    k = 4  # supersampling
    h, w = grid.shape
    (cx, cy), u, n = coast_frame(cfg)
    T = grid.transform
    cols = (np.arange(w * k) + 0.5) / k
    rows = (np.arange(h * k) + 0.5) / k
    X = T.c + cols[None, :] * T.a
    Y = T.f + rows[:, None] * T.e
    s = (X - cx) * u[0] + (Y - cy) * u[1]
    c = (X - cx) * n[0] + (Y - cy) * n[1]
    del X, Y
    wl = waterline_position(cfg, s, t)
    msl = msl_position(cfg, s, t)
    cls = np.full(s.shape, CROP, np.uint8)
    cls[c > msl - cfg.beach_width_m] = SAND
    cls[c > wl] = SEA
    ponds = (c < msl - 500) & (np.mod(s, 400) > 60) & (np.mod(s, 400) < 300) & (np.mod(c, 300) > 40) & (np.mod(c, 300) < 240)
    cls[ponds] = POND
    cloud = np.zeros(s.shape, bool)
    shadow = np.zeros(s.shape, bool)
    for di, sc, rad in cfg.cloudy:
        if di == i:
            cc = float(msl_position(cfg, sc, t))
            cloud |= np.hypot(s - sc, c - cc) < rad
            shadow |= np.hypot(s - sc + 250, c - cc + 350) < rad * 0.8
    shadow &= ~cloud
    texture_w = 1 + 0.10 * np.kron(smooth_noise(rng, (h, w), 40), np.ones((k, k), np.float32))
    texture_l = 1 + 0.05 * np.kron(smooth_noise(rng, (h, w), 15), np.ones((k, k), np.float32))
    bands: dict[str, np.ndarray] = {}
    for bi, b in enumerate(S2_BANDS):
        lut = np.zeros(256, np.float32)
        for cl, rho in RHO.items():
            lut[cl] = rho[bi]
        rho = lut[cls]
        rho = np.where(np.isin(cls, (SEA, POND)), rho * texture_w, rho * texture_l)
        rho = np.where(shadow, rho * 0.35, rho)
        rho = np.where(cloud, RHO_CLOUD[bi], rho)
        mean = rho.reshape(h, k, w, k).mean(axis=(1, 3))
        bands[b] = np.clip(mean + rng.normal(0, 0.002, mean.shape), 0.0001, 1.0).astype(np.float32)
    cls[shadow] = 3 + 200  # marker values for the SCL below
    cls[cloud] = _CLOUD
    centre = cls[k // 2 :: k, k // 2 :: k]
    scl = np.vectorize(lambda v: {_CLOUD: 9, 203: 3}.get(int(v), _SCL.get(int(v), 4)), otypes=[np.uint8])(centre)
    return bands, scl, float(cloud.mean() * 100)


def _mean2(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    return a[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def write_tide_series(cfg: ShorelineSimConfig, path: Path, window_days: float = 2.0, step_min: int = 10) -> Path:
    """CoastSat-style CSV (``dates,tide``) of the simulated water level around each image date (atomic)."""
    rows: list[str] = ["# SIMULATED Hòn Dáu water level (m above mean sea level), hpgeo shoreline simulator", "dates,tide"]
    for d in cfg.dates:
        start = np.datetime64(d.astimezone(UTC).replace(tzinfo=None, second=0, minute=0), "ns") - np.timedelta64(int(window_days * 24), "h")
        ts = start + np.arange(int(2 * window_days * 24 * 60 / step_min) + 1) * np.timedelta64(step_min, "m")
        z = water_level(ts)
        rows += [f"{np.datetime_as_string(a, unit='s')}+00:00,{b:.4f}" for a, b in zip(ts, z)]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\n".join(rows) + "\n")
    return path


def simulate_shoreline(out_dir: Path, cfg: ShorelineSimConfig = ShorelineSimConfig(), tides_dir: Path | None = None) -> list[Path]:
    """Write the dated scenes, the tide CSV (in ``tides_dir``, default ``out_dir/tides``) and the truth.

    Returns the scene folders in date order; does nothing when ``out_dir`` already holds this scenario.
    """
    out_dir = Path(out_dir)
    ids = _ids(cfg)
    folders = [out_dir / i for i in ids]
    tide_path = Path(tides_dir or out_dir / "tides") / TIDE_FILE
    marker = out_dir / "shoreline_scenario.json"
    h = cfg.hash()
    if marker.exists() and json.loads(marker.read_text()).get("hash") == h and tide_path.exists() and all((f / "scene.json").exists() for f in folders):
        return folders
    rng = np.random.default_rng(cfg.seed)
    grid = cfg.grid()
    g20 = coarser_grid(grid, 2)
    footprint = mapping(grid.footprint(WGS84))
    for i, (folder, sid, when) in enumerate(zip(folders, ids, cfg.dates)):
        bands, scl, cloud = _scene(cfg, i, rng)
        for name, rho in bands.items():
            dn = np.round(rho * 10000 + 1000).astype(np.uint16)
            if name in ("B11", "B12"):
                write_cog(folder / f"{name}.tif", np.round(_mean2(dn.astype(np.float64))).astype(np.uint16), g20, nodata=0, band_names=[name], tags=SIM_TAGS)
            else:
                write_cog(folder / f"{name}.tif", dn, grid, nodata=0, band_names=[name], tags=SIM_TAGS)
        write_cog(folder / "SCL.tif", scl[::2, ::2].copy(), g20, nodata=0, band_names=["SCL"], tags=SIM_TAGS)
        meta = {
            "id": sid, "kind": "s2-l2a", "platform": "sentinel-2a", "instrument": "msi", "level": "L2A",
            "datetime": when.isoformat(), "footprint": footprint, "cloud_cover": round(cloud, 2),
            "quantification": 10000, "boa_add_offset": -1000, "processing_baseline": "05.11", "mgrs_tile": "48QXH",
            "scenario": h, "simulated": True,
        }
        write_text_atomic(folder / "scene.json", json.dumps(meta, indent=1))
    write_tide_series(cfg, tide_path)
    (_, u, n) = coast_frame(cfg)
    truth = {
        "note": SIM_TAGS["HPGEO_NOTE"],
        "crs": "EPSG:32648",
        "scenes": ids,
        "dates": [d.isoformat() for d in cfg.dates],
        "water_level_m": [round(float(water_level(d)), 4) for d in cfg.dates],
        "beach_slope": cfg.beach_slope,
        "along_unit": u.tolist(),
        "seaward_normal": n.tolist(),
        "rate_m_per_yr": {"mean": cfg.rate_mean, "amplitude": cfg.rate_amplitude, "wavelength_m": cfg.rate_wavelength_m},
        "msl_shorelines": [list(true_waterline(cfg, d, msl=True, step_m=20.0).coords) for d in cfg.dates],
    }
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "truth" / "shoreline_truth.json", json.dumps(truth))
    write_text_atomic(marker, json.dumps({"hash": h, "scenes": ids}))
    return folders

"""SIMULATED hazard scenes around Cát Bà and Lan Hạ bay, with their truth, for the hazard products.

A schematic island (forest, a small town, a sand fringe) at Cát Bà's position with Lan Hạ bay's
sea to the south-east, seen by:

* a Sentinel-2 L2A pair (pre/post) with a forest-fire scar on the island: post-fire reflectance is
  a per-pixel mixture of unburned forest and char, ρ = (1 − s)·ρ_forest + s·ρ_char, with a smooth
  burn fraction s (0…1); the truth dNBR (×1000) and USGS class come from the noise-free reflectance;
* the same post-event scene carries a sediment plume: the sea's red (B04) reflectance is made from
  a known turbidity field T (FNU) with the inverse of Nechad's model, ρ = T·C / (A_T·C + T)
  (S2 B4 coefficients), plus sensor noise; the truth T is kept. A small cloud over the bay tests
  the cloud mask;
* a Sentinel-1 VV/VH scene with an elongated oil slick (−7 dB of Bragg damping) and a compact
  low-wind look-alike (−5 dB, 1.5 km radius) on a wind-textured sea, speckled (ENL 4.4).

Truth rasters under ``<out>/truth/``: ``burn_dnbr_truth.tif`` (float32 ×1000),
``burn_severity_truth.tif`` (USGS classes), ``turbidity_truth.tif`` (FNU, NaN off water or under
cloud), ``oil_slick_truth.tif`` (1 slick, 2 look-alike). Every id starts with ``SIM-``, every file
has ``HPGEO_SIMULATED=yes``; scenes read back with :func:`simulator.scenes.read_simulated`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import box, mapping

from geo.cog import write_cog
from geo.crs import PROCESSING_CRS, WGS84, reproject_geometry
from geo.grid import Grid
from geo.tempfiles import write_text_atomic
from simulator.scenes import ENL, S2_BANDS, SIM_TAGS, block_reduce, coarser_grid, write_meta, smooth_noise, config_hash

__all__ = ["HazardConfig", "simulate_hazards", "hazard_scene_ids", "hazard_hash", "usgs_severity", "USGS_DNBR_TABLE", "NECHAD_A", "NECHAD_C", "RHO_FOREST", "RHO_CHAR"]

# surface reflectance B02 B03 B04 B08 B11 B12 (the scenario's spectra: green forest high in NIR, low in SWIR2;
# char low in NIR, high in SWIR2, as in Key & Benson 2006's rationale for NBR) — the burn truth is the NBR of these
RHO_FOREST = (0.030, 0.055, 0.032, 0.300, 0.140, 0.060)
RHO_CHAR = (0.045, 0.055, 0.065, 0.100, 0.200, 0.185)
RHO_TOWN = (0.100, 0.110, 0.125, 0.185, 0.225, 0.195)
RHO_SAND = (0.120, 0.150, 0.180, 0.220, 0.280, 0.240)
RHO_CLOUD = (0.45, 0.46, 0.47, 0.50, 0.38, 0.28)

# The sea's physics, from the literature (not from the products' code, so a wrong product constant shows):
# Nechad et al. (2009) red-band turbidity calibration as tabulated in Dogliotti et al. (2015), RSE 156, Table 1
# (645 nm): T = A_T·ρw / (1 − ρw/C) with A_T = 228.1 FNU, C = 0.1641; inverted here to make ρw from T.
NECHAD_A, NECHAD_C = 228.1, 0.1641

# USGS FIREMON burn-severity table (Key & Benson 2006, RMRS-GTR-164-CD, Table "dNBR ranges"; ×1000, lower
# bound inclusive): (lower bound, class code) from the highest class down; below −250 is class 1.
USGS_DNBR_TABLE = ((660.0, 7), (440.0, 6), (270.0, 5), (100.0, 4), (-100.0, 3), (-250.0, 2))
SEA_CLS, FOREST_CLS, TOWN_CLS, SAND_CLS = 0, 1, 2, 3


@dataclass(frozen=True)
class HazardConfig:
    bbox: tuple[float, float, float, float] = (107.00, 20.71, 107.085, 20.785)
    resolution: float = 10.0
    seed: int = 2031
    s2_pre: dt.datetime = dt.datetime(2025, 4, 2, 3, 36, 31, tzinfo=dt.timezone.utc)
    s2_post: dt.datetime = dt.datetime(2025, 4, 22, 3, 36, 31, tzinfo=dt.timezone.utc)
    s1_post: dt.datetime = dt.datetime(2025, 4, 20, 22, 54, 12, tzinfo=dt.timezone.utc)
    version: str = "1"

    def grid(self) -> Grid:
        return Grid.from_bbox(reproject_geometry(box(*self.bbox), WGS84, PROCESSING_CRS).bounds, PROCESSING_CRS, self.resolution)


def hazard_hash(cfg: HazardConfig) -> str:
    return config_hash(cfg, nechad=[NECHAD_A, NECHAD_C])  # the turbidity truth depends on the model's coefficients


def usgs_severity(dnbr_x1000: np.ndarray) -> np.ndarray:
    """USGS severity code (1–7) of each dNBR ×1000 value by :data:`USGS_DNBR_TABLE`; 255 where not finite."""
    out = np.full(dnbr_x1000.shape, 255, np.uint8)
    finite = np.isfinite(dnbr_x1000)
    out[finite] = 1
    for lower, code in reversed(USGS_DNBR_TABLE):  # ascending bounds: each overwrites the classes below it
        out[finite & (dnbr_x1000 >= lower)] = code
    return out


def hazard_scene_ids(cfg: HazardConfig = HazardConfig()) -> dict[str, str]:
    f = "%Y%m%dT%H%M%S"
    return {
        "s2_pre": f"SIM-S2B-MSIL2A-{cfg.s2_pre:{f}}-CATBA",
        "s2_post": f"SIM-S2B-MSIL2A-{cfg.s2_post:{f}}-CATBA",
        "s1_post": f"SIM-S1A-IW-GRDH-{cfg.s1_post:{f}}-CATBA",
    }


def _ellipse(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float, angle_deg: float) -> np.ndarray:
    """Normalised elliptical distance (1 on the boundary) on the pixel grid."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    a = np.radians(angle_deg)
    u = (xs - cx) * np.cos(a) + (ys - cy) * np.sin(a)
    v = -(xs - cx) * np.sin(a) + (ys - cy) * np.cos(a)
    return np.sqrt((u / rx) ** 2 + (v / ry) ** 2)


def _geography(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    d = _ellipse(shape, h * 0.36, w * 0.36, h * 0.30, w * 0.33, -20) + 0.08 * smooth_noise(rng, shape, 60)
    cls = np.full(shape, SEA_CLS, np.uint8)
    cls[d < 1.0] = SAND_CLS
    cls[d < 0.95] = FOREST_CLS
    town = _ellipse(shape, h * 0.58, w * 0.50, 25, 40, 30) < 1.0
    cls[town & (cls == FOREST_CLS)] = TOWN_CLS
    return cls


def simulate_hazards(out_dir: Path, cfg: HazardConfig = HazardConfig()) -> dict[str, Path]:
    """Write the hazard scenes and truth under ``out_dir`` (skipped when already written). Returns folders by key."""
    out_dir = Path(out_dir)
    ids = hazard_scene_ids(cfg)
    folders = {k: out_dir / v for k, v in ids.items()}
    marker = out_dir / "hazards.json"
    h = hazard_hash(cfg)
    if marker.exists() and json.loads(marker.read_text()).get("hash") == h and all((f / "scene.json").exists() for f in folders.values()):
        return folders
    rng = np.random.default_rng(cfg.seed)
    grid = cfg.grid()
    shape = grid.shape
    cls = _geography(shape, rng)
    sea = cls == SEA_CLS
    truth = out_dir / "truth"

    # --- burn scar: fraction s of char, smooth, 0 outside the scar -------------------------------
    scar = 1.0 - _ellipse(shape, shape[0] * 0.30, shape[1] * 0.30, 60, 110, 25) + 0.15 * smooth_noise(rng, shape, 25)
    s = np.clip(scar * 1.6, 0.0, 1.0) * (cls == FOREST_CLS)
    # --- turbidity: a plume from the north-east, 2–90 FNU -------------------------------------------
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    plume = np.exp(-(((xs - shape[1] * 0.95) / (shape[1] * 0.35)) ** 2 + ((ys - shape[0] * 0.15) / (shape[0] * 0.45)) ** 2))
    turb = (3.0 + 85.0 * plume * (1 + 0.15 * smooth_noise(rng, shape, 50))).astype(np.float32)
    turb = np.clip(turb, 1.0, None)
    cloud = (_ellipse(shape, shape[0] * 0.80, shape[1] * 0.75, 45, 70, 10) < 1.0) & sea

    texture = 1 + 0.06 * smooth_noise(rng, shape, 8)
    scenes: dict[str, tuple[dict[str, np.ndarray], np.ndarray]] = {}
    for key in ("s2_pre", "s2_post"):
        burned = s if key == "s2_post" else np.zeros(shape, np.float32)
        t_field = turb if key == "s2_post" else np.full(shape, 8.0, np.float32)
        rho_red = t_field * NECHAD_C / (NECHAD_A * NECHAD_C + t_field)
        bands: dict[str, np.ndarray] = {}
        for b, name in enumerate(S2_BANDS):
            land = np.zeros(shape, np.float32)
            for k, rho in ((FOREST_CLS, RHO_FOREST), (TOWN_CLS, RHO_TOWN), (SAND_CLS, RHO_SAND)):
                land[cls == k] = rho[b]
            land = np.where(cls == FOREST_CLS, (1 - burned) * RHO_FOREST[b] + burned * RHO_CHAR[b], land) * texture
            water = {"B02": 0.9 * rho_red + 0.02, "B03": rho_red + 0.03, "B04": rho_red, "B08": 0.35 * rho_red, "B11": np.full(shape, 0.010), "B12": np.full(shape, 0.005)}[name]
            rho = np.where(sea, water, land).astype(np.float32)
            if key == "s2_post":
                rho = np.where(cloud, RHO_CLOUD[b], rho)
            rho += rng.normal(0, 0.002, size=shape).astype(np.float32)
            bands[name] = np.clip(rho, 0.0, 1.0)
        scl = np.where(sea, 6, np.where(cls == FOREST_CLS, 4, 5)).astype(np.uint8)
        if key == "s2_post":
            scl[cloud] = 9
        scenes[key] = (bands, scl)

    # truth from the noise-free reflectance (NBR with B08/B12)
    def nbr(frac: np.ndarray) -> np.ndarray:
        nir = (1 - frac) * RHO_FOREST[3] + frac * RHO_CHAR[3]
        sw2 = (1 - frac) * RHO_FOREST[5] + frac * RHO_CHAR[5]
        return (nir - sw2) / (nir + sw2)

    dnbr_true = np.where(cls == FOREST_CLS, (nbr(np.zeros(shape)) - nbr(s)) * 1000.0, np.nan).astype(np.float32)
    write_cog(truth / "burn_dnbr_truth.tif", dnbr_true, grid, nodata=float("nan"), tags=SIM_TAGS)
    write_cog(truth / "burn_severity_truth.tif", usgs_severity(dnbr_true), grid, nodata=255, tags=SIM_TAGS)
    write_cog(truth / "turbidity_truth.tif", np.where(sea & ~cloud, turb, np.nan).astype(np.float32), grid, nodata=float("nan"), tags=SIM_TAGS)

    footprint = grid.footprint(WGS84)
    g20 = coarser_grid(grid, 2)
    for key, when in (("s2_pre", cfg.s2_pre), ("s2_post", cfg.s2_post)):
        bands, scl = scenes[key]
        for name, rho in bands.items():
            dn = np.round(rho * 10000 + 1000).astype(np.uint16)
            if name in ("B11", "B12"):
                write_cog(folders[key] / f"{name}.tif", block_reduce(dn.astype(np.float32), 2, "mean").astype(np.uint16), g20, nodata=0, band_names=[name], tags=SIM_TAGS)
            else:
                write_cog(folders[key] / f"{name}.tif", dn, grid, nodata=0, band_names=[name], tags=SIM_TAGS)
        write_cog(folders[key] / "SCL.tif", block_reduce(scl, 2, "nearest"), g20, nodata=0, band_names=["SCL"], tags=SIM_TAGS)
        write_meta(folders[key], {
            "id": ids[key], "kind": "s2-l2a", "platform": "sentinel-2b", "instrument": "msi", "level": "L2A",
            "datetime": when.isoformat(), "footprint": mapping(footprint), "cloud_cover": round(float(cloud.mean() * 100) if key == "s2_post" else 0.0, 2),
            "quantification": 10000, "boa_add_offset": -1000, "processing_baseline": "05.11", "mgrs_tile": "48QYH", "scenario": h,
        })

    # --- Sentinel-1: wind-textured sea, slick and look-alike ------------------------------------------
    slick_d = _ellipse(shape, shape[0] * 0.62, shape[1] * 0.78, 22, 260, 35) + 0.1 * smooth_noise(rng, shape, 10)
    slick = (slick_d < 1.0) & sea
    look = (_ellipse(shape, shape[0] * 0.85, shape[1] * 0.25, 150, 150, 0) < 1.0) & sea & ~slick
    oil_truth = np.where(slick, 1, np.where(look, 2, 0)).astype(np.uint8)
    write_cog(truth / "oil_slick_truth.tif", oil_truth, grid, nodata=None, tags=SIM_TAGS)
    pols = {}
    for p, (sea_db, land_db, town_db) in enumerate(((-17.0, -7.0, 1.0), (-24.0, -13.0, -8.0))):
        mean = np.where(sea, sea_db + 1.0 * smooth_noise(rng, shape, 150), np.where(cls == TOWN_CLS, town_db, land_db) + 1.0 * smooth_noise(rng, shape, 8))
        mean = mean - 7.0 * slick * np.clip((1.0 - slick_d) * 4, 0, 1) - 5.0 * look
        lin = 10 ** (mean / 10.0) * rng.gamma(ENL, 1.0 / ENL, size=shape)
        pols[("vv", "vh")[p]] = (10 * np.log10(np.maximum(lin, 1e-6))).astype(np.float32)
    for pol, arr in pols.items():
        write_cog(folders["s1_post"] / f"{pol}.tif", arr, grid, nodata=float("nan"), band_names=[pol.upper()], tags=SIM_TAGS)
    write_meta(folders["s1_post"], {
        "id": ids["s1_post"], "kind": "s1-grd", "platform": "sentinel-1a", "instrument": "c-sar", "level": "GRD",
        "datetime": cfg.s1_post.isoformat(), "footprint": mapping(footprint), "orbit_state": "descending",
        "relative_orbit": 91, "polarizations": ["VV", "VH"], "enl": ENL, "scenario": h,
    })
    write_text_atomic(marker, json.dumps({"hash": h, "scenes": ids, "note": SIM_TAGS["HPGEO_NOTE"]}, indent=1))
    return folders

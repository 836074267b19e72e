"""Scene simulator: SIMULATED Sentinel-1 GRD and Sentinel-2 L2A scenes over Hai Phong's real coast.

The scenario covers the Tiên Lãng – Kiến Thụy – Đồ Sơn coast (106.60–106.80 E, 20.62–20.78 N) with
the project's own hand-drawn coastline and river centre lines (Thái Bình, Văn Úc, Lạch Tray): sea,
rivers, aquaculture ponds, paddy fields, mangroves, towns and sand. A flood from river overflow is
simulated between a pre-event and a post-event date; the truth mask is written beside the scenes
for tests.

Physics kept on purpose:
- Sentinel-1: σ0 per land-cover class (VV/VH, dB) with an incidence-angle trend across range,
  spatial texture, and multiplicative Gamma speckle with the GRD-HR equivalent number of looks (4.4).
- Sentinel-2 L2A: per-class surface reflectance spectra (B02 B03 B04 B08 at 10 m, B11 B12 SCL at 20 m),
  digital numbers as the processing baseline ≥ 04.00 stores them (DN = ρ·10000 + 1000), clouds with
  offset shadows, and a scene classification (SCL) consistent with them.

Every file carries the GeoTIFF tag ``HPGEO_SIMULATED=yes`` and every id starts with ``SIM-``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from rasterio.features import rasterize
from scipy import ndimage
from shapely.geometry import LineString, Polygon, box, mapping

from geo.cog import write_cog
from geo.crs import PROCESSING_CRS, WGS84, reproject_geometry
from geo.grid import Grid
from geo.tempfiles import write_text_atomic
from ingest.scene import BandInfo, Scene

__all__ = ["SimConfig", "simulate", "read_simulated", "SIM_CLASSES", "scenario_hash", "config_hash", "smooth_noise", "block_reduce", "coarser_grid", "write_meta"]

log = logging.getLogger(__name__)

# --- the project's hand-drawn geography of the scenario (lon, lat; approximate, ~200 m) -------------
COAST = [  # from the Thái Bình mouth (south-west) to the Lạch Tray mouth (north-east); land is north-west
    (106.585, 20.600), (106.615, 20.612), (106.640, 20.628), (106.662, 20.642), (106.683, 20.655),
    (106.705, 20.668), (106.728, 20.684), (106.748, 20.692), (106.768, 20.688), (106.788, 20.690),
    (106.802, 20.700), (106.800, 20.716), (106.784, 20.728), (106.772, 20.742), (106.778, 20.758),
    (106.792, 20.772), (106.815, 20.790),
]
RIVERS = {  # name: (centre line, width in metres)
    "thai-binh": ([(106.560, 20.700), (106.585, 20.672), (106.598, 20.645), (106.606, 20.618), (106.612, 20.600)], 380.0),
    "van-uc": ([(106.560, 20.790), (106.600, 20.752), (106.628, 20.722), (106.650, 20.700), (106.668, 20.676), (106.684, 20.650)], 320.0),
    "lach-tray": ([(106.620, 20.800), (106.680, 20.782), (106.730, 20.770), (106.772, 20.760), (106.790, 20.765)], 170.0),
}
TOWNS = {  # name: (lon, lat, radius m)
    "do-son": (106.775, 20.712, 1500.0),
    "kien-thuy": (106.672, 20.745, 900.0),
    "tien-lang": (106.600, 20.725, 800.0),
    "bang-la": (106.735, 20.735, 500.0),
}

# land-cover classes of the scenario
SEA, RIVER, POND, CROP, URBAN, MANGROVE, SAND = 0, 1, 2, 3, 4, 5, 6
SIM_CLASSES = {SEA: "sea", RIVER: "river", POND: "aquaculture pond", CROP: "paddy/cropland", URBAN: "built-up", MANGROVE: "mangrove", SAND: "sand/mudflat"}

# σ0 means (dB) per class: (VV, VH); flooded cropland behaves like calm open water
SIGMA0_DB = {
    SEA: (-18.5, -25.5), RIVER: (-20.5, -27.0), POND: (-21.0, -27.5), CROP: (-9.0, -16.0),
    URBAN: (1.0, -8.0), MANGROVE: (-7.0, -13.0), SAND: (-13.0, -22.0),
}
FLOOD_DB = (-20.0, -26.5)
ENL = 4.4  # equivalent number of looks of Sentinel-1 IW GRD-HR (ESA Sentinel-1 Product Definition, S1-RS-MDA-52-7440, GRD resolution table)

# surface reflectance per class: B02 B03 B04 B08 B11 B12
S2_BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
RHO = {
    SEA: (0.060, 0.085, 0.070, 0.030, 0.012, 0.006),
    RIVER: (0.070, 0.100, 0.095, 0.050, 0.020, 0.010),
    POND: (0.050, 0.070, 0.055, 0.035, 0.015, 0.008),
    CROP: (0.040, 0.075, 0.050, 0.320, 0.190, 0.095),
    URBAN: (0.100, 0.110, 0.125, 0.185, 0.225, 0.195),
    MANGROVE: (0.030, 0.050, 0.030, 0.250, 0.075, 0.035),  # wet canopy: low SWIR (MVI ≈ 8, mid-range of Baloloy et al.)
    SAND: (0.120, 0.150, 0.180, 0.220, 0.280, 0.240),
}
RHO_FLOOD = (0.075, 0.105, 0.105, 0.055, 0.022, 0.011)
RHO_CLOUD = (0.45, 0.46, 0.47, 0.50, 0.38, 0.28)
S2_WAVELENGTH = {"B02": 0.49, "B03": 0.56, "B04": 0.665, "B08": 0.842, "B11": 1.61, "B12": 2.19}
S2_COMMON = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir", "B11": "swir16", "B12": "swir22"}
# L2A scene classification codes (ESA Sentinel-2 L2A Product Specification / Sen2Cor user manual): 3 cloud shadow,
# 4 vegetation, 5 not vegetated, 6 water, 9 cloud high probability; written by the simulator, not taken from products
SCL_OF_CLASS = {SEA: 6, RIVER: 6, POND: 6, CROP: 4, URBAN: 5, MANGROVE: 4, SAND: 5}


@dataclass(frozen=True)
class SimConfig:
    """The scenario. Changing any field changes every id-bearing checksum (and so triggers a rebuild)."""

    bbox: tuple[float, float, float, float] = (106.60, 20.62, 106.80, 20.78)
    resolution: float = 10.0
    seed: int = 2030
    s1_pre: dt.datetime = dt.datetime(2025, 9, 3, 11, 2, 31, tzinfo=dt.timezone.utc)
    s1_post: dt.datetime = dt.datetime(2025, 9, 15, 11, 2, 31, tzinfo=dt.timezone.utc)
    s2_pre: dt.datetime = dt.datetime(2025, 9, 2, 3, 36, 29, tzinfo=dt.timezone.utc)
    s2_post: dt.datetime = dt.datetime(2025, 9, 17, 3, 36, 31, tzinfo=dt.timezone.utc)
    flood_fraction: float = 0.16  # of the floodable land
    post_cloud_fraction: float = 0.22
    version: str = "2"  # 2: mangrove SWIR of a wet canopy; S2 texture common to all bands

    def grid(self) -> Grid:
        poly = reproject_geometry(box(*self.bbox), WGS84, PROCESSING_CRS)
        return Grid.from_bbox(poly.bounds, PROCESSING_CRS, self.resolution)


def config_hash(cfg: Any, **extra: Any) -> str:
    """Short stable hash of a scenario dataclass (plus ``extra`` inputs of the truth, e.g. model coefficients).

    Top-level date-times are written in ISO form; anything nested that JSON cannot hold is written with ``str``.
    Every simulator keys its "already written" check and its scene checksums on it.
    """
    d = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in dataclasses.asdict(cfg).items()}
    d.update(extra)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def scenario_hash(cfg: SimConfig) -> str:
    return config_hash(cfg)


def _ts(d: dt.datetime) -> str:
    return d.strftime("%Y%m%dT%H%M%S")


def scene_ids(cfg: SimConfig) -> dict[str, str]:
    return {
        "s1_pre": f"SIM-S1A-IW-GRDH-{_ts(cfg.s1_pre)}-HAIPHONG",
        "s1_post": f"SIM-S1A-IW-GRDH-{_ts(cfg.s1_post)}-HAIPHONG",
        "s2_pre": f"SIM-S2B-MSIL2A-{_ts(cfg.s2_pre)}-T48QXH",
        "s2_post": f"SIM-S2B-MSIL2A-{_ts(cfg.s2_post)}-T48QXH",
    }


# --- random fields ---------------------------------------------------------------------------------
def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Zero-mean, unit-variance noise with correlation length ~scale_px (cheap: coarse noise, upsampled)."""
    f = max(scale_px / 3.0, 1.0)
    small = (max(int(shape[0] / f) + 4, 4), max(int(shape[1] / f) + 4, 4))
    n = ndimage.gaussian_filter(rng.standard_normal(small), 1.0)
    up = ndimage.zoom(n, (shape[0] / (small[0] - 4) * 1.0, shape[1] / (small[1] - 4) * 1.0), order=1)[: shape[0], : shape[1]]
    if up.shape != shape:
        up = np.pad(up, ((0, shape[0] - up.shape[0]), (0, shape[1] - up.shape[1])), mode="edge")
    up = up - up.mean()
    return (up / (up.std() + 1e-12)).astype(np.float32)


# --- geography → class map ---------------------------------------------------------------------------
def _geoms_utm() -> tuple[Polygon, dict[str, Any]]:
    far_n, far_w = 21.5, 105.5
    land = Polygon([*COAST, (COAST[-1][0], far_n), (far_w, far_n), (far_w, COAST[0][1])])
    land_utm = reproject_geometry(land, WGS84, PROCESSING_CRS)
    rivers = {
        k: reproject_geometry(LineString(line), WGS84, PROCESSING_CRS).buffer(width / 2.0, cap_style="flat")
        for k, (line, width) in RIVERS.items()
    }
    return land_utm, rivers


def land_cover(cfg: SimConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class map and the distance to the nearest river bank (m)."""
    grid = cfg.grid()
    land_utm, rivers = _geoms_utm()
    shape = grid.shape
    land = rasterize([(mapping(land_utm), 1)], out_shape=shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    river = rasterize([(mapping(g), 1) for g in rivers.values()], out_shape=shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    cls = np.full(shape, CROP, dtype=np.uint8)
    cls[~land] = SEA
    res = cfg.resolution
    dist_coast = ndimage.distance_transform_edt(land) * res  # m from the sea, on land
    # sand/mudflat fringe and mangroves on the south-west coast
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    wobble = 120 * smooth_noise(rng, shape, 40)
    fringe = land & (dist_coast < 150 + wobble * 0.5)
    sw = xs < shape[1] * 0.55
    cls[fringe] = SAND
    cls[land & sw & (dist_coast >= 60) & (dist_coast < 500 + wobble)] = MANGROVE
    # aquaculture ponds: a rectangular pattern 0.5–2.5 km inland
    ponds_zone = land & (dist_coast > 500) & (dist_coast < 2500 + 600 * smooth_noise(rng, shape, 80))
    cell = int(180 / res)
    dyke = int(20 / res) or 1
    grid_pattern = ((ys % cell) >= dyke) & ((xs % (cell * 2)) >= dyke)
    pond_blocks = smooth_noise(rng, shape, 60) > 0.1
    cls[ponds_zone & grid_pattern & pond_blocks] = POND
    # towns
    for lon, lat, radius in TOWNS.values():
        x, y = reproject_geometry(box(lon, lat, lon, lat), WGS84, PROCESSING_CRS).centroid.coords[0]
        col, row = ~grid.transform @ (x, y)
        d = np.hypot(ys - row, xs - col) * res
        town = (d < radius * (1 + 0.25 * smooth_noise(rng, shape, 30))) & land
        cls[town] = URBAN
    cls[river] = RIVER
    dist_river = ndimage.distance_transform_edt(~river) * res
    return cls, dist_river


def flood_truth(cfg: SimConfig, cls: np.ndarray, dist_river: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fields that go under water: low ground (smooth random terrain rising away from the rivers)."""
    floodable = cls == CROP
    terrain = 0.9 * smooth_noise(rng, cls.shape, 70) + 0.35 * smooth_noise(rng, cls.shape, 15) + dist_river / 1500.0
    level = np.quantile(terrain[floodable], cfg.flood_fraction)
    flood = floodable & (terrain < level)
    flood = ndimage.binary_opening(flood, iterations=2)
    return flood


def _incidence_trend(shape: tuple[int, int]) -> np.ndarray:
    """σ0 falls ~0.06 dB per degree as incidence grows 30°→45° across range (west→east, ascending pass)."""
    inc = np.linspace(31.0, 44.0, shape[1], dtype=np.float32)[np.newaxis, :]
    return -0.06 * (inc - 37.5)


def _s1(cls: np.ndarray, flood: np.ndarray | None, rng: np.random.Generator, sea_rough: float) -> dict[str, np.ndarray]:
    out = {}
    trend = _incidence_trend(cls.shape)
    for p, pol in enumerate(("vv", "vh")):
        mean = np.zeros(cls.shape, np.float32)
        for k, v in SIGMA0_DB.items():
            mean[cls == k] = v[p]
        mean[cls == SEA] += sea_rough
        if flood is not None:
            mean[flood] = FLOOD_DB[p]
        texture = 1.0 * smooth_noise(rng, cls.shape, 8) * (cls != SEA) + 1.2 * smooth_noise(rng, cls.shape, 120) * (cls == SEA)
        lin = 10 ** ((mean + trend + texture) / 10.0)
        speckle = rng.gamma(ENL, 1.0 / ENL, size=cls.shape).astype(np.float32)
        out[pol] = (10 * np.log10(np.maximum(lin * speckle, 1e-6))).astype(np.float32)
    return out


def _s2(
    cls: np.ndarray, flood: np.ndarray | None, rng: np.random.Generator, cloud_fraction: float
) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Reflectance bands at 10 m, SCL at 10 m (aggregated to 20 m by the writer), cloud cover %."""
    shape = cls.shape
    clouds = np.zeros(shape, bool)
    shadow = np.zeros(shape, bool)
    if cloud_fraction > 0:
        field = smooth_noise(rng, shape, 90) + 0.4 * smooth_noise(rng, shape, 20)
        clouds = field > np.quantile(field, 1 - cloud_fraction)
        shadow = np.roll(np.roll(clouds, 45, axis=0), -30, axis=1) & ~clouds  # sun from the south-east
    bands = {}
    # surface texture (canopy density, moisture, illumination) scales all bands alike; a smaller part is band-specific
    texture = 0.08 * smooth_noise(rng, shape, 6)
    for b, name in enumerate(S2_BANDS):
        rho = np.zeros(shape, np.float32)
        for k, v in RHO.items():
            rho[cls == k] = v[b]
        if flood is not None:
            rho[flood] = RHO_FLOOD[b]
        rho *= 1 + texture + 0.02 * smooth_noise(rng, shape, 6)
        rho = np.where(shadow, rho * 0.35, rho)
        rho = np.where(clouds, RHO_CLOUD[b] * (0.9 + 0.1 * smooth_noise(rng, shape, 25)), rho)
        rho += rng.normal(0, 0.004, size=shape).astype(np.float32)
        bands[name] = np.clip(rho, 0.0, 1.0)
    scl = _lut(cls, SCL_OF_CLASS)
    if flood is not None:
        scl[flood] = 6
    scl[shadow] = 3
    scl[clouds] = 9
    return bands, scl, float(clouds.mean() * 100)


def _lut(cls: np.ndarray, table: dict[int, int]) -> np.ndarray:
    lut = np.zeros(256, np.uint8)
    for k, v in table.items():
        lut[k] = v
    return lut[cls]


def block_reduce(a: np.ndarray, f: int, mode: str) -> np.ndarray:
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    v = a[:h, :w].reshape(h // f, f, w // f, f)
    if mode == "mean":
        return v.mean(axis=(1, 3)).astype(a.dtype)
    return v[:, 0, :, 0].copy()  # nearest (upper-left sample), for class maps


def coarser_grid(grid: Grid, f: int) -> Grid:
    t = grid.transform
    from affine import Affine

    return Grid((grid.height // f, grid.width // f), Affine(t.a * f, 0, t.c, 0, t.e * f, t.f), grid.crs_wkt)


# --- writing ----------------------------------------------------------------------------------------
SIM_TAGS = {"HPGEO_SIMULATED": "yes", "HPGEO_NOTE": "Simulated scene over Hai Phong (hpgeo scene simulator); not a real acquisition"}


def simulate(out_dir: Path, cfg: SimConfig = SimConfig(), progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the scenario's four scenes and the flood truth under ``out_dir``. Returns scene folders by key.

    Skips the work when ``out_dir/scenario.json`` already records this scenario's hash.
    """
    out_dir = Path(out_dir)
    ids = scene_ids(cfg)
    folders = {k: out_dir / v for k, v in ids.items()}
    marker = out_dir / "scenario.json"
    h = scenario_hash(cfg)
    if marker.exists() and json.loads(marker.read_text()).get("hash") == h and all((f / "scene.json").exists() for f in folders.values()):
        log.info("simulator: scenario %s already written in %s", h, out_dir)
        return folders
    step = progress or (lambda _m: None)
    rng = np.random.default_rng(cfg.seed)
    grid = cfg.grid()
    cls, dist_river = land_cover(cfg, rng)
    flood = flood_truth(cfg, cls, dist_river, rng)
    step("geography")
    truth_dir = out_dir / "truth"
    write_cog(truth_dir / "flood_truth.tif", flood.astype(np.uint8), grid, nodata=None, tags=SIM_TAGS)
    write_cog(truth_dir / "land_cover.tif", cls, grid, nodata=None, tags=SIM_TAGS)

    footprint = grid.footprint(WGS84)
    for key, when, fl, rough in (("s1_pre", cfg.s1_pre, None, 0.0), ("s1_post", cfg.s1_post, flood, 2.0)):
        bands = _s1(cls, fl, rng, rough)
        for pol, arr in bands.items():
            write_cog(folders[key] / f"{pol}.tif", arr, grid, nodata=float("nan"), band_names=[pol.upper()], tags=SIM_TAGS)
        write_meta(folders[key], {
            "id": ids[key], "kind": "s1-grd", "platform": "sentinel-1a", "instrument": "c-sar", "level": "GRD",
            "datetime": when.isoformat(), "footprint": mapping(footprint), "orbit_state": "ascending",
            "relative_orbit": 26, "polarizations": ["VV", "VH"], "enl": ENL, "scenario": h,
        })
        step(ids[key])
    g20 = coarser_grid(grid, 2)
    for key, when, fl, cf in (("s2_pre", cfg.s2_pre, None, 0.0), ("s2_post", cfg.s2_post, flood, cfg.post_cloud_fraction)):
        bands, scl, cloud = _s2(cls, fl, rng, cf)
        for name, rho in bands.items():
            dn = np.round(rho * 10000 + 1000).astype(np.uint16)  # baseline >= 04.00: BOA_ADD_OFFSET = -1000
            if name in ("B11", "B12"):
                write_cog(folders[key] / f"{name}.tif", block_reduce(dn.astype(np.float32), 2, "mean").astype(np.uint16), g20, nodata=0, band_names=[name], tags=SIM_TAGS)
            else:
                write_cog(folders[key] / f"{name}.tif", dn, grid, nodata=0, band_names=[name], tags=SIM_TAGS)
        write_cog(folders[key] / "SCL.tif", block_reduce(scl, 2, "nearest"), g20, nodata=0, band_names=["SCL"], tags=SIM_TAGS)
        write_meta(folders[key], {
            "id": ids[key], "kind": "s2-l2a", "platform": "sentinel-2b", "instrument": "msi", "level": "L2A",
            "datetime": when.isoformat(), "footprint": mapping(footprint), "cloud_cover": round(cloud, 2),
            "quantification": 10000, "boa_add_offset": -1000, "processing_baseline": "05.11", "mgrs_tile": "48QXH",
            "scenario": h,
        })
        step(ids[key])
    write_text_atomic(marker, json.dumps({"hash": h, "scenes": ids, "note": SIM_TAGS["HPGEO_NOTE"]}, indent=1))
    return folders


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "scene.json", json.dumps({**meta, "simulated": True}, indent=1))


def read_simulated(folder: Path) -> Scene:
    """Read a simulated scene folder into a :class:`Scene` in physical units (σ0 dB, reflectance 0–1)."""
    import rioxarray  # noqa: F401  (registers .rio)
    from shapely.geometry import shape

    meta = json.loads((Path(folder) / "scene.json").read_text())
    when = dt.datetime.fromisoformat(meta["datetime"])
    bands: dict[str, Any] = {}
    info: dict[str, BandInfo] = {}
    valid = None
    if meta["kind"] == "s1-grd":
        for pol in ("vv", "vh"):
            da = _open(folder / f"{pol}.tif")
            bands[pol] = da
            info[pol] = BandInfo(pol, f"σ0 {pol.upper()} (dB)", unit="dB", polarization=pol.upper(), nodata=float("nan"))
        props = {
            "sar:instrument_mode": "IW",
            "sar:frequency_band": "C",
            "sar:center_frequency": 5.405,
            "sar:polarizations": meta["polarizations"],
            "sar:product_type": "GRD",
            "sar:looks_equivalent_number": meta["enl"],
            "sat:orbit_state": meta["orbit_state"],
            "sat:relative_orbit": meta["relative_orbit"],
            "title": f"Sentinel-1A IW GRDH σ0 {when:%Y-%m-%d}",
        }
        collection, cloud = "sentinel-1-grd", None
    else:
        q, off = meta["quantification"], meta["boa_add_offset"]
        scl = _open(folder / "SCL.tif")
        for name in S2_BANDS:
            dn = _open(folder / f"{name}.tif")
            rho = ((dn.astype("float32") + off) / q).where(dn != 0)
            rho = rho.rio.write_nodata(float("nan"), encoded=False)
            bands[name] = rho
            info[name] = BandInfo(name, f"{name} surface reflectance", unit="1", common_name=S2_COMMON[name], center_wavelength=S2_WAVELENGTH[name], nodata=float("nan"))
        bands["SCL"] = scl
        info["SCL"] = BandInfo("SCL", "Scene classification (L2A)", nodata=0, categorical=True)
        valid = ~scl.isin([0, 1, 3, 8, 9, 10])
        props = {"s2:mgrs_tile": meta["mgrs_tile"], "s2:processing_baseline": meta["processing_baseline"], "title": f"Sentinel-2B L2A {when:%Y-%m-%d}"}
        collection, cloud = "sentinel-2-l2a", meta["cloud_cover"]
    props["hpgeo:scenario"] = meta["scenario"]
    return Scene(
        id=meta["id"],
        collection=collection,
        platform=meta["platform"],
        instrument=meta["instrument"],
        processing_level=meta["level"],
        datetime=when,
        bands=bands,
        band_info=info,
        valid=valid,
        footprint=shape(meta["footprint"]),
        cloud_cover=cloud,
        properties=props,
        source=f"simulated:{meta['id']}",
        simulated=True,
    )


def _open(path: Path) -> Any:
    import rioxarray

    da = rioxarray.open_rasterio(path, masked=False).squeeze("band", drop=True)
    return da

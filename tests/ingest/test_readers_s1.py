"""Sentinel-1 GRD SAFE reader against the real S1B metadata (manifest, annotation, LUTs for VV).

Expected numbers are copied from the XML files in ../shared/data/sar/ (see MANIFEST.md)."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import dask.array as da
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from scipy.interpolate import RegularGridInterpolator
from rasterio.windows import Window

from ingest.readers.errors import MeasurementShapeMismatch, NoMeasurement, TrailingJunk, UnknownBand
from ingest.readers.s1_safe import (
    SIGMA0_FLOOR,
    S1GrdProduct,
    interp_vectors,
    parse_manifest,
    read_s1_grd,
)

S1B = "sar/s1b_grdh_20211223"
# First calibration vector (line 0), pixel 0 and pixel 40; first noise range vector; IW1 azimuth LUT at line 0.
SIGMA_L0_P0, SIGMA_L0_P40 = 6.638558e02, 6.635805e02
NOISE_RANGE_L0_P0 = 2.375788e03
NOISE_AZ_IW1_L0 = 1.091791e00
NOISE_RANGE_L668_P0 = 2.399187e03


@pytest.fixture(scope="module")
def s1b(request) -> S1GrdProduct:
    shared_file = request.getfixturevalue("shared_file")
    return S1GrdProduct.open(shared_file(f"{S1B}/manifest.safe").parent)


def test_manifest_s1b(s1b: S1GrdProduct) -> None:
    m = s1b.manifest
    assert (m.mission, m.platform, m.mode, m.product_type) == ("S1B", "sentinel-1b", "IW", "GRD")
    assert m.polarisations == ("VV", "VH")
    assert m.start == dt.datetime(2021, 12, 23, 5, 11, 22, 594441, tzinfo=dt.timezone.utc)
    assert m.stop == dt.datetime(2021, 12, 23, 5, 11, 47, 593146, tzinfo=dt.timezone.utc)
    assert (m.absolute_orbit, m.relative_orbit, m.orbit_pass) == (30148, 22, "descending")
    assert m.ipf_version == "003.40"
    # gml: "40.876698,14.925448 41.281048,11.865704 42.780445,12.189661 42.376778,15.321935" (lat,lon)
    assert list(m.footprint.exterior.coords)[:4] == [
        (14.925448, 40.876698),
        (11.865704, 41.281048),
        (12.189661, 42.780445),
        (15.321935, 42.376778),
    ]
    assert set(m.files["measurement"]) == {"VV", "VH"}
    # only VV has annotation files in shared data
    assert s1b.polarisations == ["VV"]


@pytest.mark.parametrize(
    "rel, orbit, start, first_corner",
    [
        ("sar/s1a_grdh_20230310/manifest.safe", 47579, "2023-03-10T07:57:46.067203", (-27.192364, 37.054382)),
        ("catalog/eodag/manifest.safe.S1_SAR_GRD", 37074, "2021-03-19T23:47:58.010029", (92.923729, 22.218882)),
    ],
)
def test_other_manifests(shared_file, rel: str, orbit: int, start: str, first_corner: tuple[float, float]) -> None:
    # the archived S1A manifest has 4 stray bytes after </xfdu:XFDU>: read, with a warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = parse_manifest(shared_file(rel))
    assert [w.category for w in caught] == ([TrailingJunk] if "s1a_grdh" in rel else [])
    assert (m.mission, m.mode, m.product_type, m.orbit_pass) == ("S1A", "IW", "GRD", "descending")
    assert m.absolute_orbit == orbit
    assert m.polarisations == ("VV", "VH")
    assert m.start.isoformat() == start + "+00:00"
    assert m.footprint.exterior.coords[0] == first_corner
    assert m.footprint.is_valid and m.footprint.area > 0.5  # a GRD frame is ~ 250 km x 170 km


def test_annotation(s1b: S1GrdProduct) -> None:
    a = s1b.annotations["VV"]
    assert a.shape == (16705, 26102)
    assert (a.range_pixel_spacing, a.azimuth_pixel_spacing) == (10.0, 10.0)
    assert a.incidence_angle_mid_swath == pytest.approx(38.91812789621374)
    assert a.grid_line.size == 210
    assert (a.grid_line[1], a.grid_pixel[1]) == (0, 1306)
    assert a.grid_lat[0] == pytest.approx(42.37675280764677)
    assert a.grid_lon[0] == pytest.approx(15.32209672548896)
    assert a.grid_incidence[0] == pytest.approx(30.30944924571985)


def test_calibration_lut(s1b: S1GrdProduct) -> None:
    c = s1b.calibration["VV"]
    assert len(c.lines) == 27
    assert (c.lines[0], c.lines[1], c.lines[-1]) == (0, 668, 17373)
    assert len(c.pixels[0]) == 654 and c.pixels[0][-1] == 26101
    assert c.values["sigmaNought"][0][0] == SIGMA_L0_P0
    assert c.values["betaNought"][0][0] == 4.739733e02
    assert c.values["gamma"][0][0] == 6.157493e02
    assert c.values["dn"][0][0] == 4.015858e02
    assert c.absolute_calibration_constant == 1.393


def test_noise_lut(s1b: S1GrdProduct) -> None:
    n = s1b.noise["VV"]
    assert len(n.lines) == 27 and len(n.pixels[0]) == 657
    assert n.range_values[0][0] == NOISE_RANGE_L0_P0
    assert [(b.swath, b.first_sample, b.last_sample, b.last_line) for b in n.azimuth_blocks] == [
        ("IW1", 0, 8889, 16704),
        ("IW2", 8890, 17700, 16704),
        ("IW3", 17701, 26101, 16704),
    ]
    assert n.azimuth_blocks[0].values.size == 1689
    assert n.azimuth_blocks[0].values[0] == NOISE_AZ_IW1_L0
    assert n.azimuth_blocks[1].values[0] == 1.001713
    # full noise at (0, 0) = range LUT x IW1 azimuth LUT
    assert n.grid(np.array([0]), np.array([0]))[0, 0] == pytest.approx(NOISE_RANGE_L0_P0 * NOISE_AZ_IW1_L0)


def test_interp_vectors_bilinear_known_answer() -> None:
    lines = np.array([0, 10])
    pixels = [np.array([0.0, 4.0]), np.array([0.0, 4.0])]
    values = [np.array([0.0, 4.0]), np.array([10.0, 14.0])]
    g = interp_vectors(lines, pixels, values, np.array([0, 5, 10, 20]), np.array([0, 1, 4]))
    assert g.tolist() == [[0, 1, 4], [5, 6, 9], [10, 11, 14], [10, 11, 14]]


def test_sigma0_hand_computation(s1b: S1GrdProduct) -> None:
    dn = np.full((3, 50), 100, dtype=np.uint16)
    lin = s1b.sigma0("VV", dn, db=False)
    expected00 = (100.0**2 - NOISE_RANGE_L0_P0 * NOISE_AZ_IW1_L0) / SIGMA_L0_P0**2
    assert expected00 == pytest.approx(0.0168052, rel=1e-5)
    assert lin[0, 0] == pytest.approx(expected00, rel=1e-6)
    assert s1b.sigma0("VV", dn, db=True)[0, 0] == pytest.approx(10 * math.log10(expected00), abs=1e-5)
    # pixel 40 on line 0 uses the LUT's second sample exactly
    n40 = s1b.noise["VV"].range_values[0][1] * NOISE_AZ_IW1_L0
    assert lin[0, 40] == pytest.approx((1e4 - n40) / SIGMA_L0_P40**2, rel=1e-6)
    # without denoising: DN^2 / A^2
    assert s1b.sigma0("VV", dn, db=False, denoise=False)[0, 0] == pytest.approx(1e4 / SIGMA_L0_P0**2, rel=1e-6)


def test_sigma0_window_between_vectors_and_floor(s1b: S1GrdProduct) -> None:
    # line 334 is half-way between calibration/noise vectors at lines 0 and 668 (sigma LUT equal on both)
    dn = np.array([[100, 10, 0]], dtype=np.uint16)
    out = s1b.sigma0("VV", dn, row_off=334, col_off=0, db=False)
    az = np.interp(334, s1b.noise["VV"].azimuth_blocks[0].lines, s1b.noise["VV"].azimuth_blocks[0].values)
    noise = 0.5 * (NOISE_RANGE_L0_P0 + NOISE_RANGE_L668_P0) * az
    assert out[0, 0] == pytest.approx((1e4 - noise) / SIGMA_L0_P0**2, rel=1e-6)
    assert out[0, 1] == pytest.approx(SIGMA0_FLOOR)  # 100 - noise < 0 → floor
    assert np.isnan(out[0, 2])  # DN 0 = no data


def test_sigma0_lazy_full_image(s1b: S1GrdProduct) -> None:
    dn = da.full((16705, 26102), 100, dtype=np.uint16, chunks=(4096, 4096))
    s0 = s1b.sigma0_lazy("VV", dn)
    assert s0.shape == (16705, 26102) and s0.dtype == np.float32
    corner = s0[:2, :2].compute()
    assert corner[0, 0] == pytest.approx(10 * math.log10((1e4 - NOISE_RANGE_L0_P0 * NOISE_AZ_IW1_L0) / SIGMA_L0_P0**2), abs=1e-5)
    # a window across a chunk boundary equals the eager computation at that offset
    lazy = s0[4090:4100, 8885:8895].compute()
    eager = s1b.sigma0("VV", np.full((10, 10), 100, np.uint16), 4090, 8885)
    np.testing.assert_allclose(lazy, eager, rtol=1e-6)
    with pytest.raises(MeasurementShapeMismatch):
        s1b.sigma0_lazy("VV", da.zeros((10, 10), dtype=np.uint16))
    with pytest.raises(UnknownBand, match="has VV"):
        s1b.sigma0("HH", dn[:1, :1])


def _safe_with_measurement(tmp_path, shared_file, dn_value: int, window: Window):
    """A SAFE folder in tmp_path: real metadata (symlinked) + a sparse full-size measurement TIFF.

    DN is ``dn_value`` in ``window`` except a bright 5 x 5 marker (DN 4000) at the window's centre."""
    src = shared_file(f"{S1B}/manifest.safe").parent
    safe = tmp_path / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_TEST.SAFE"
    safe.mkdir()
    (safe / "manifest.safe").symlink_to(src / "manifest.safe")
    (safe / "annotation").symlink_to(src / "annotation")
    (safe / "measurement").mkdir()
    man = parse_manifest(src / "manifest.safe")
    tif = safe / man.files["measurement"]["VV"]
    with rasterio.open(tif, "w", driver="GTiff", width=26102, height=16705, count=1, dtype="uint16",
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate", sparse_ok=True) as ds:
        dn = np.full((int(window.height), int(window.width)), dn_value, np.uint16)
        h2, w2 = dn.shape[0] // 2, dn.shape[1] // 2
        dn[h2 - 2 : h2 + 3, w2 - 2 : w2 + 3] = 4000
        ds.write(dn, 1, window=window)
    return safe


def test_read_s1_grd_geocodes_window(tmp_path, shared_file, s1b: S1GrdProduct) -> None:
    win = Window(col_off=2000, row_off=1000, width=512, height=512)
    safe = _safe_with_measurement(tmp_path, shared_file, 400, win)
    scene = read_s1_grd(safe, window=win, workdir=tmp_path / "work")
    vv = scene.bands["vv"]
    assert scene.platform == "sentinel-1b" and scene.collection == "sentinel-1-grd"
    assert scene.properties["sat:absolute_orbit"] == 30148
    assert vv.rio.crs.to_epsg() == 32633  # footprint centre ~13.6 E → UTM 33N
    assert vv.rio.resolution() == (10.0, -10.0)
    # the 512 x 512 window of 10 m GRD pixels spans ~5.1 km on the ground
    assert 5000 < vv.rio.width * 10 < 6500
    dn = np.full((512, 512), 400, np.uint16)
    dn[254:259, 254:259] = 4000
    expected = s1b.sigma0("VV", dn, 1000, 2000)
    values = vv.values
    background = values[np.isfinite(values) & (values < 0)]
    assert background.size > 0.8 * 512 * 512
    assert float(np.median(background)) == pytest.approx(float(np.median(expected[expected < 0])), abs=0.01)
    assert expected.min() - 0.01 <= background.min() and background.max() <= expected.max() + 0.01
    # the bright marker at radar (line 1256, pixel 2256) lands where the geolocation grid puts it
    a = s1b.annotations["VV"]
    lines, pixels = np.unique(a.grid_line), np.unique(a.grid_pixel)
    shape = (lines.size, pixels.size)
    lat = RegularGridInterpolator((lines, pixels), a.grid_lat.reshape(shape))((1256, 2256))
    lon = RegularGridInterpolator((lines, pixels), a.grid_lon.reshape(shape))((1256, 2256))
    x, y = Transformer.from_crs(4326, 32633, always_xy=True).transform(lon, lat)
    rows, cols = np.nonzero(values > 5.0)
    mx, my = vv.rio.transform() @ (cols.mean() + 0.5, rows.mean() + 0.5)
    assert math.hypot(mx - x, my - y) < 20.0  # 2 GRD pixels


def test_read_s1_grd_without_measurement(shared_file) -> None:
    with pytest.raises(NoMeasurement, match="metadata-only"):
        read_s1_grd(shared_file(f"{S1B}/manifest.safe").parent)

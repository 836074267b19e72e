"""Chunked oil-candidates equals the whole-scene computation, also where slicks cross chunk borders."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import rioxarray  # noqa: F401  (.rio accessor)
import xarray as xr
from rasterio.transform import from_origin
from scipy import ndimage

from products.flood import SarFloodParams, filtered_db, global_threshold
from products.oil import CANDIDATE, LAND, NODATA, REJECTED, SEA, OilParams, _opening, oil_candidates

RES = 20.0


# --- the former eager implementation (whole scene in memory), kept as the reference ----------------------
def _local_sea_mean(x: np.ndarray, sea: np.ndarray, size: int) -> np.ndarray:
    v = np.where(sea, x, 0.0).astype(np.float64)
    w = ndimage.uniform_filter(sea.astype(np.float64), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ndimage.uniform_filter(v, size, mode="constant") / w).astype(np.float32)


def _shape(mask: np.ndarray, res: float) -> tuple[float, float, float]:
    ys, xs = np.nonzero(mask)
    area = float(len(ys)) * res * res
    if len(ys) < 3:
        return area, 1.0, 1.0
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    ev = np.sort(np.linalg.eigvalsh(cov + np.eye(2) / 12.0))
    elong = float(np.sqrt(ev[1] / ev[0]))
    edge = mask & ~ndimage.binary_erosion(mask)
    perim = float(edge.sum()) * res
    compact = float(4 * np.pi * area / perim**2) if perim > 0 else 1.0
    return area, elong, min(compact, 1.0)


def reference(vv_db: xr.DataArray, p: OilParams) -> tuple[np.ndarray, dict[str, Any]]:
    res = abs(float(vv_db.rio.resolution()[0]))
    filt = filtered_db(vv_db, SarFloodParams())
    s = global_threshold(filt)
    x = np.asarray(filt.values, dtype=np.float32)
    valid = np.isfinite(x)
    water = valid & (x < s.threshold)
    r = int(round(p.sea_opening_m / res))
    if r > 0:
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disk = xx**2 + yy**2 <= r * r
        core = ndimage.binary_opening(water, structure=disk)
        lab, _ = ndimage.label(water, structure=np.ones((3, 3), bool))
        keep = np.unique(lab[core])
        sea = np.isin(lab, keep[keep > 0])
    else:
        sea = water
    size = max(int(round(p.window_m / res)) | 1, 3)
    bg = _local_sea_mean(x, sea, size)
    contrast = bg - x
    dark = sea & (contrast > p.contrast_db)
    lab, n = ndimage.label(dark, structure=np.ones((3, 3), bool))
    cls = np.full(x.shape, LAND, np.uint8)
    cls[sea] = SEA
    cls[dark] = REJECTED
    cls[~valid] = NODATA
    listed: list[dict[str, Any]] = []
    n_cand = 0
    transform = vv_db.rio.transform()
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(vv_db.rio.crs, "EPSG:4326", always_xy=True)
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        m = lab[sl] == i
        area_m2 = int(m.sum()) * res * res
        if area_m2 < p.min_area_ha * 1e4 or area_m2 > p.max_area_km2 * 1e6:
            continue
        area, elong, compact = _shape(m, res)
        if elong < p.min_elongation:
            continue
        cls[sl][m] = CANDIDATE
        n_cand += 1
        if len(listed) < p.max_listed:
            cy, cx = ndimage.center_of_mass(m)
            ex, ey = transform * (sl[1].start + cx + 0.5, sl[0].start + cy + 0.5)
            lon, lat = to_wgs.transform(ex, ey)
            listed.append({
                "id": n_cand, "area_ha": round(area / 1e4, 2), "elongation": round(elong, 2), "compactness": round(compact, 3),
                "mean_contrast_db": round(float(contrast[sl][m].mean()), 2), "centroid": [round(lon, 6), round(lat, 6)],
                "status": "candidate (unconfirmed)",
            })
    diag = {"sea_threshold_db": round(s.threshold, 3), "dark_spots": int(n), "candidates": n_cand, "candidate_list": listed,
            "note": "oil-slick CANDIDATES from dark-spot detection; not confirmed spills"}
    return cls, diag


# --- synthetic scene: sea, river, pond, slicks across 64-pixel chunk borders -------------------------------
def _ellipse(shape: tuple[int, int], cy: float, cx: float, a: float, b: float, deg: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    t = np.deg2rad(deg)
    u = (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)
    v = -(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)
    return (u / a) ** 2 + (v / b) ** 2 < 1.0


def scene(shape: tuple[int, int] = (450, 520), seed: int = 3) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    sea = xx > 150 + 20 * np.sin(yy / 40.0)
    river = (abs(yy - 0.4 * xx - 60) < 2) & ~sea  # 4 px wide: removed by the opening
    pond = _ellipse(shape, 380, 60, 12, 8, 0)  # too small for the opened core
    mean = np.where(sea | river | pond, -18.0, -7.0)
    slicks = [
        (128, 320, 70, 9, 20),  # crosses x=256/320/384 and y=128
        (256, 448, 60, 7, -35),  # crosses x=448 and y=256
        (64, 200, 40, 6, 80),  # near the coast, crosses y=64 and x=192
        (330, 500, 45, 8, 10),  # leaves the scene on the east
        (5, 400, 50, 7, 0),  # leaves the scene on the north
        (384, 320, 30, 5, 45),  # centred on a chunk corner
    ]
    for cy, cx, a, b, deg in slicks:
        mean -= 7.0 * (_ellipse(shape, cy, cx, a, b, deg) & sea)
    mean -= 5.0 * (_ellipse(shape, 300, 250, 25, 23, 0) & sea)  # compact look-alike
    mean -= 5.0 * (_ellipse(shape, 190, 200, 6, 3, 30) & sea)  # too small
    lin = 10 ** (mean / 10.0) * rng.gamma(4.4, 1 / 4.4, size=shape)
    db = (10 * np.log10(lin)).astype(np.float32)
    db[:20, :30] = np.nan  # no data in a corner
    da = xr.DataArray(db, dims=("y", "x"), coords={"y": 2400000.0 - RES * (np.arange(shape[0]) + 0.5), "x": 600000.0 + RES * (np.arange(shape[1]) + 0.5)})
    return da.rio.write_crs("EPSG:32648").rio.write_transform(from_origin(600000.0, 2400000.0, RES, RES))


PARAMS = OilParams(min_area_ha=2.0)  # r = 15 px, window 101 px at 20 m


@pytest.fixture(scope="module")
def ref() -> tuple[np.ndarray, dict[str, Any]]:
    return reference(scene().chunk(64), PARAMS)


@pytest.mark.parametrize("chunks", [64, 97, None])
def test_oil_chunked_equals_whole_scene(ref, chunks):
    vv = scene()
    if chunks:
        vv = vv.chunk(chunks)
    cls, diag = oil_candidates(vv, PARAMS)
    assert hasattr(cls.data, "dask")
    ref_cls, ref_diag = ref
    got = cls.values
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, ref_cls)
    assert diag == ref_diag
    # the scene exercises every class and slicks that span several chunks
    assert diag["candidates"] >= 4 and diag["dark_spots"] > diag["candidates"]
    lab, _ = ndimage.label(got == CANDIDATE, structure=np.ones((3, 3), bool))
    spans = [len({(s // 64, t // 64) for s, t in zip(*np.nonzero(lab == i))}) for i in range(1, lab.max() + 1)]
    assert max(spans) >= 3
    assert {SEA, CANDIDATE, REJECTED, LAND, NODATA} <= set(np.unique(got).tolist())


def test_opening_by_distance_transform_equals_binary_opening():
    rng = np.random.default_rng(0)
    for r in (1, 3, 7):
        disk = np.add.outer(np.arange(-r, r + 1) ** 2, np.arange(-r, r + 1) ** 2) <= r * r
        for density in (0.3, 0.6, 0.9):
            w = ndimage.uniform_filter(rng.random((90, 110)), 5) < density
            np.testing.assert_array_equal(_opening(w, r), ndimage.binary_opening(w, structure=disk))
    assert not _opening(np.zeros((20, 20), bool), 3).any()
    np.testing.assert_array_equal(_opening(np.ones((20, 20), bool), 3), ndimage.binary_opening(np.ones((20, 20), bool), structure=np.add.outer(np.arange(-3, 4) ** 2, np.arange(-3, 4) ** 2) <= 9))


# --- slicks joined only through diagonal corners (8-connectivity), inside chunks and across their borders ---
SQ = 8  # side of each dark square (px): 64 px = 2.56 ha at 20 m, under the 5 ha minimum, so a lone square is no candidate
CHAINS = {  # upper-left corners of squares that touch the next one at a single corner
    "face-x": [(20 + k * SQ, 96 + k * SQ) for k in range(5)],  # ↘, one contact across the chunk face x = 128
    "corner": [(104 + k * SQ, 168 + k * SQ) for k in range(6)],  # ↘, one contact across the chunk corner (128, 192)
    "face-y": [(200 - k * SQ, 150 + k * SQ) for k in range(5)],  # ↗, one contact across the chunk face y = 192
    "anti-corner": [(184 - SQ * k, 256 + SQ * k) for k in (2, 1, 0)] + [(192 + SQ * k, 248 - SQ * k) for k in range(3)],  # ↙ across (192, 256)
}
# the corner contacts that cross 64-pixel chunk borders: pixels (a, b) dark, their common 4-neighbours (a_y, b_x), (b_y, a_x) not
BORDER_CONTACTS = [((51, 127), (52, 128)), ((127, 191), (128, 192)), ((192, 165), (191, 166)), ((191, 256), (192, 255))]
DIAG_PARAMS = OilParams(sea_opening_m=0.0)  # 5 ha minimum, window 101 px at 20 m; no opening (the sea is open)


def diagonal_scene(shape: tuple[int, int] = (256, 320)) -> xr.DataArray:
    """Noise-free σ0: land (−7 dB) west of x = 40, sea (−18 dB), chains of squares 8 dB darker (a −26 dB film)."""
    xx = np.mgrid[: shape[0], : shape[1]][1]
    dark = np.zeros(shape, bool)
    for squares in CHAINS.values():
        for y, x in squares:
            dark[y : y + SQ, x : x + SQ] = True
    db = (np.where(xx < 40, -7.0, -18.0) - 8.0 * dark).astype(np.float32)
    da = xr.DataArray(db, dims=("y", "x"), coords={"y": 2400000.0 - RES * (np.arange(shape[0]) + 0.5), "x": 600000.0 + RES * (np.arange(shape[1]) + 0.5)})
    return da.rio.write_crs("EPSG:32648").rio.write_transform(from_origin(600000.0, 2400000.0, RES, RES))


@pytest.fixture(scope="module")
def diag_ref() -> tuple[np.ndarray, dict[str, Any]]:
    return reference(diagonal_scene().chunk(64), DIAG_PARAMS)


def test_diagonal_scene_needs_8_connectivity(diag_ref):
    """The scene does what it is for (checked on the whole-scene reference, not on products.oil)."""
    cls, diag = diag_ref
    dark = np.isin(cls, (CANDIDATE, REJECTED))
    n8 = ndimage.label(dark, structure=np.ones((3, 3), bool))[1]
    n4 = ndimage.label(dark)[1]
    squares = sum(len(v) for v in CHAINS.values())
    assert n8 == len(CHAINS) and n4 == squares  # each chain is one object only through its corner contacts
    for a, b in BORDER_CONTACTS:
        assert dark[a] and dark[b] and not dark[a[0], b[1]] and not dark[b[0], a[1]]
        assert a[0] // 64 != b[0] // 64 or a[1] // 64 != b[1] // 64  # the contact crosses a chunk border
    assert diag["candidates"] == len(CHAINS) == diag["dark_spots"]  # every chain is one elongated candidate of > 5 ha
    assert all(c["area_ha"] > 10 and c["elongation"] > 5 for c in diag["candidate_list"])
    assert all(SQ * SQ * RES * RES / 1e4 < DIAG_PARAMS.min_area_ha for _ in CHAINS)  # a lone square would be no candidate


@pytest.mark.parametrize("chunks", [64, 97, None])
def test_oil_joins_diagonal_contacts_like_the_whole_scene(diag_ref, chunks):
    vv = diagonal_scene()
    if chunks:
        vv = vv.chunk(chunks)
    cls, diag = oil_candidates(vv, DIAG_PARAMS)
    ref_cls, ref_diag = diag_ref
    got = cls.values
    np.testing.assert_array_equal(got, ref_cls)
    assert diag == ref_diag
    assert diag["candidates"] == len(CHAINS)
    lab, n = ndimage.label(got == CANDIDATE, structure=np.ones((3, 3), bool))
    assert n == len(CHAINS)

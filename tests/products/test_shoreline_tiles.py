"""Tiled waterline extraction (products.shoreline.extract_waterline) equals the whole-image method.

The reference below is the whole-array implementation the product used before tiling (one
``find_contours`` on the whole index, one distance transform of the whole unusable mask), kept here
as the oracle. The synthetic index has a wavy coastline, a closed island and a lagoon that cross
several 64 px tile borders (and an island centred on a tile corner), a no-data patch and a cloud.
"""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import shapely
import xarray as xr
from rasterio.transform import from_origin
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString
from skimage import measure

import products.waterline as waterline_mod
from products.shoreline import extract_waterline, rate_raster

RES = 10.0
TILE = 64


def _whole_array_waterline(index, level, *, unusable=None, cloud_buffer_m=300.0, min_length_m=500.0, reference=None, max_dist_ref_m=250.0):
    arr = np.asarray(index.values, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if unusable is not None:
        bad |= np.asarray(unusable, dtype=bool)
    T = index.rio.transform()
    far = ndimage.distance_transform_edt(~bad) * abs(T.a) if (bad.any() and cloud_buffer_m > 0) else None
    pieces = []
    for rc in measure.find_contours(arr, level):
        cols, rows = rc[:, 1] + 0.5, rc[:, 0] + 0.5
        xy = np.column_stack([T.a * cols + T.b * rows + T.c, T.d * cols + T.e * rows + T.f])
        if len(rc) < 2 or np.hypot(*np.diff(xy, axis=0).T).sum() < min_length_m:
            continue
        keep = np.ones(len(xy), bool)
        if far is not None:
            r = np.clip(np.rint(rc[:, 0]).astype(int), 0, arr.shape[0] - 1)
            c = np.clip(np.rint(rc[:, 1]).astype(int), 0, arr.shape[1] - 1)
            keep &= far[r, c] > cloud_buffer_m
        if reference is not None:
            keep &= shapely.distance(shapely.points(xy), reference) <= max_dist_ref_m
        idx = np.flatnonzero(keep)
        for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(idx) else []:
            if len(run) >= 2:
                pieces.append(xy[run])
    return MultiLineString(pieces)


def _scene(ny=301, nx=263):
    """Land (−0.5) north of a wavy coast, sea (+0.5) south, smooth 3 px transition; an island, a lagoon."""
    r, c = np.mgrid[0:ny, 0:nx].astype(np.float64)
    coast = 150 + 40 * np.sin(c / 23.0) + 12 * np.cos(c / 7.3)
    v = 0.5 * np.tanh((r - coast) / 3.0)
    island = np.hypot(r - 256.0, c - 128.0) - 30.0  # centred on a 64 px tile corner, crosses 4 tiles
    v = np.minimum(v, 0.5 * np.tanh(island / 2.5))
    lagoon = np.hypot((r - 60.0) / 1.6, c - 190.0) - 14.0  # water inside land, crossing the col-192 and row-64 borders
    v = np.maximum(v, -0.5 * np.tanh(lagoon / 2.0))
    v = v + 0.02 * np.sin(r * 1.7 + c * 0.9)  # texture so vertices are not all on a regular lattice
    v = v.astype(np.float32)
    v[280:301, 0:40] = np.nan  # a no-data corner
    da = xr.DataArray(v, dims=("y", "x"), coords={"y": 1_200_000 - (np.arange(ny) + 0.5) * RES, "x": 600_000 + (np.arange(nx) + 0.5) * RES})
    return da.rio.write_crs("EPSG:32648").rio.write_transform(from_origin(600_000, 1_200_000, RES, RES))


def _cloud(shape):
    m = np.zeros(shape, bool)
    m[120:170, 60:100] = True  # on the coast, across the col-64 border
    m[230:236, 150:156] = True  # small cloud near the island, across the tile border
    return m


def _assert_same_lines(a: MultiLineString, b: MultiLineString):
    pa, pb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    ua, ub = np.unique(np.round(pa, 6), axis=0), np.unique(np.round(pb, 6), axis=0)
    assert len(ua) > 200 and len(ua) == len(ub)
    d, _ = cKDTree(pb).query(pa)
    assert d.max() < 1e-6
    d, _ = cKDTree(pa).query(pb)
    assert d.max() < 1e-6
    assert a.length == pytest.approx(b.length, rel=1e-6, abs=0)


@pytest.mark.parametrize("with_cloud", [False, True])
def test_tiled_waterline_equals_whole_array(with_cloud, monkeypatch):
    idx = _scene()
    level = 0.0
    cloud = _cloud(idx.shape) if with_cloud else None
    kw = dict(unusable=cloud, cloud_buffer_m=120.0, min_length_m=100.0)
    whole = _whole_array_waterline(idx, level, **kw)
    monkeypatch.setattr(waterline_mod, "WATERLINE_TILE", TILE)
    tiled = extract_waterline(idx, level, **kw)
    _assert_same_lines(tiled, whole)
    one = extract_waterline(idx, level, tile=10_000, **kw)  # one tile: the whole array
    _assert_same_lines(one, whole)
    # the island and the lagoon cross tile borders: without clouds each is one closed ring again
    if not with_cloud:
        rings = [g for g in tiled.geoms if g.is_closed]
        assert len(rings) == 2 and len(tiled.geoms) == len(whole.geoms)
        # open lines keep the whole-array orientation (same first and last vertex)
        ends = lambda m: sorted((tuple(np.round(g.coords[0], 6)), tuple(np.round(g.coords[-1], 6))) for g in m.geoms if not g.is_closed)
        assert ends(tiled) == ends(whole)
    else:
        P = shapely.points(shapely.get_coordinates(tiled))
        T = idx.rio.transform()
        rr, cc = np.nonzero(cloud)
        cloud_pts = shapely.points(np.column_stack([T.c + (cc + 0.5) * T.a, T.f + (rr + 0.5) * T.e]))
        assert shapely.distance(shapely.union_all(cloud_pts), shapely.multipoints(P)) > 120.0 - RES


def test_tiled_waterline_lazy_inputs_and_reference(monkeypatch):
    """Dask-backed index and mask (read tile by tile), a reference line, tiles of 64 and 37 px."""
    idx = _scene()
    cloud = _cloud(idx.shape)
    T = idx.rio.transform()
    ref = LineString([(T.c, T.f - 150 * RES), (T.c + 263 * RES, T.f - 150 * RES)])
    kw = dict(cloud_buffer_m=120.0, min_length_m=100.0, reference=ref, max_dist_ref_m=400.0)
    whole = _whole_array_waterline(idx, 0.0, unusable=cloud, **kw)
    lazy = idx.chunk({"y": 64, "x": 64})
    mask = xr.DataArray(cloud, dims=("y", "x")).chunk({"y": 64, "x": 64})
    for tile in (TILE, 37):
        _assert_same_lines(extract_waterline(lazy, 0.0, unusable=mask, tile=tile, **kw), whole)


def test_rate_raster_is_lazy_and_block_wise(monkeypatch):
    """The rate layer is a dask array painted block by block; equal to one whole-grid rasterisation."""
    from types import SimpleNamespace

    from rasterio.features import rasterize

    from products.shoreline_transects import make_transects

    idx = _scene().chunk({"y": 64, "x": 64})
    T = idx.rio.transform()
    base = LineString([(T.c + 5 * RES, T.f - 150 * RES), (T.c + 258 * RES, T.f - 140 * RES)])
    trs = make_transects(base, 100.0, 200.0, 300.0, "right")
    stats = [SimpleNamespace(lrr=float(k) - 3.5 if k % 5 else np.nan) for k in range(len(trs))]
    a = SimpleNamespace(transects=trs, stats=stats)
    rate = rate_raster(a, idx, 100.0)
    assert rate.chunks is not None and rate.shape == idx.shape
    shapes = [(t.line.buffer(50.0, cap_style="flat"), s.lrr) for t, s in zip(trs, stats) if np.isfinite(s.lrr)]
    full = rasterize(shapes, out_shape=idx.shape, transform=T, fill=np.nan, dtype="float32")
    np.testing.assert_array_equal(rate.values, full)
    assert np.isfinite(full).sum() > 1000

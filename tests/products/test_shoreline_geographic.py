"""Shoreline on a geographic (EPSG:4326) grid: metre parameters are metres, not degrees (issue #14.1).

The same analytic coast (a gently curving edge of a smooth water index, a 100 m pond, a cloud) is
sampled on a 10 m UTM 48N grid and on a ~10 m EPSG:4326 grid over the same ground. Before the fix the
geographic grid gave no waterline at all (500 m minimum length compared with lengths in degrees).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from pyproj import Transformer
from shapely.geometry import LineString, Point

from products.errors import InvalidInputs
from products.shoreline import ShorelineParams, analyse_shorelines, extract_waterline

UTM, GEO = "EPSG:32648", "EPSG:4326"
X0, Y0, N, RES = 680_000.0, 2_300_000.0, 300, 10.0  # 3 km × 3 km near Đồ Sơn, Hải Phòng
CLOUD = (X0 + 1500.0, Y0 + 2300.0, 120.0)  # centre x, y and radius (m) of a cloud
POND = (X0 + 600.0, Y0 + 1500.0, 50.0)  # an inland pond: its waterline (~314 m) is shorter than 500 m
TO_UTM = Transformer.from_crs(GEO, UTM, always_xy=True)
TO_GEO = Transformer.from_crs(UTM, GEO, always_xy=True)


def _coast_x(y: np.ndarray, shift: float = 0.0) -> np.ndarray:
    return X0 + 1400.0 + shift + 0.2 * (y - Y0) + 40.0 * np.sin((y - Y0) / 400.0)


def _index(x: np.ndarray, y: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Water index of the ground at UTM (x, y): sea (> 0) east of the coast, land (< 0) west, a pond."""
    v = 0.6 * np.tanh((x - _coast_x(y, shift)) / 60.0)
    pond = np.hypot(x - POND[0], y - POND[1]) < POND[2]
    return np.where(pond, 0.5, v)


def _cloud(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.hypot(x - CLOUD[0], y - CLOUD[1]) < CLOUD[2]


def _grid(crs: str, shift: float = 0.0) -> tuple[xr.DataArray, np.ndarray]:
    if crs == UTM:
        xs = X0 + (np.arange(N) + 0.5) * RES
        ys = Y0 + N * RES - (np.arange(N) + 0.5) * RES
        gx, gy = np.meshgrid(xs, ys)
        ux, uy = gx, gy
    else:  # same ground, ~10 m pixels in degrees, a margin so the UTM square is inside
        lon0, lat0 = TO_GEO.transform(X0 - 100.0, Y0 - 100.0)
        lon1, lat1 = TO_GEO.transform(X0 + N * RES + 100.0, Y0 + N * RES + 100.0)
        dlat = RES / 110_720.0
        dlon = RES / (111_320.0 * np.cos(np.radians((lat0 + lat1) / 2)))
        xs = lon0 + (np.arange(int((lon1 - lon0) / dlon)) + 0.5) * dlon
        ys = lat1 - (np.arange(int((lat1 - lat0) / dlat)) + 0.5) * dlat
        gx, gy = np.meshgrid(xs, ys)
        ux, uy = TO_UTM.transform(gx, gy)
    idx = xr.DataArray(_index(ux, uy, shift).astype(np.float32), dims=("y", "x"), coords={"y": ys, "x": xs})
    idx = idx.rio.write_crs(crs)
    idx = idx.rio.write_transform(idx.rio.transform(recalc=True))
    return idx, _cloud(ux, uy)


def _to_utm(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


def _inner_vertices(geom, other, margin: float) -> np.ndarray:
    """Vertices of ``geom`` on the common ground (the UTM square) farther than ``margin`` from the ends of
    ``other``'s lines (where runs are cut)."""
    ends = shapely.multipoints([p for g in other.geoms for p in (g.coords[0], g.coords[-1])])
    pts = shapely.points(shapely.get_coordinates(geom))
    square = shapely.box(X0 + margin, Y0 + margin, X0 + N * RES - margin, Y0 + N * RES - margin)
    return pts[(shapely.distance(pts, ends) > margin) & shapely.contains(square, pts)]


def test_same_coast_in_utm_and_wgs84_gives_the_same_waterline():
    utm_idx, utm_cloud = _grid(UTM)
    geo_idx, geo_cloud = _grid(GEO)
    kw = dict(min_length_m=500.0, cloud_buffer_m=300.0)
    a = extract_waterline(utm_idx, 0.0, unusable=utm_cloud, **kw)
    g_native = extract_waterline(geo_idx, 0.0, unusable=geo_cloud, **kw)  # in the grid's CRS (degrees)
    assert not g_native.is_empty, "a geographic grid must give the waterline (metre parameters in metres)"
    assert abs(g_native.bounds[0] - 106.7) < 0.3  # longitudes: the native output is in degrees
    b = extract_waterline(geo_idx, 0.0, unusable=geo_cloud, out_crs=UTM, **kw)
    assert _to_utm(g_native).hausdorff_distance(b) < 1e-6
    # the coast is kept, the pond (a ~314 m ring) is dropped, the cloud's 300 m buffer is cut out, on both grids
    for w in (a, b):
        assert w.length > 2500.0
        pts = shapely.points(shapely.get_coordinates(w))
        assert shapely.distance(pts, Point(POND[:2])).min() > 400.0
        assert shapely.distance(pts, Point(CLOUD[:2])).min() > CLOUD[2] + 300.0 - RES
        assert shapely.distance(pts, Point(CLOUD[:2])).min() < CLOUD[2] + 300.0 + 3 * RES
    # equal within 0.1 px, except at the ends of the kept runs (a vertex more or less where they are cut)
    for p, q in ((a, b), (b, a)):
        inner = _inner_vertices(p, q, 2 * RES)
        assert len(inner) > 200
        assert shapely.distance(inner, q).max() < 0.1 * RES
    square = shapely.box(X0, Y0, X0 + N * RES, Y0 + N * RES)
    assert abs(a.length - b.intersection(square).length) < 2 * RES
    # and on the truth: the analytic coast
    ty = np.linspace(Y0 - 500.0, Y0 + N * RES + 500.0, 4000)
    truth = LineString(np.column_stack([_coast_x(ty), ty]))
    assert shapely.distance(shapely.points(shapely.get_coordinates(b)), truth).max() < 0.1 * RES


def test_shoreline_analysis_on_a_geographic_grid_runs_in_utm_metres():
    times = ["2020-01-01", "2022-01-01", "2024-01-01"]
    shifts = [0.0, -20.0, -40.0]  # the coast moves 10 m/yr landward (west): erosion −10 m/yr
    res = {}
    for crs in (UTM, GEO):
        idx = [_grid(crs, s)[0] for s in shifts]
        masks = [_grid(crs, s)[1] for s in shifts]
        a = analyse_shorelines(times, idx, ShorelineParams(), unusable=masks)
        assert str(a.crs) == UTM
        lrr = np.array([s.lrr for s in a.stats])
        assert np.isfinite(lrr).sum() >= 15
        res[crs] = np.nanmedian(lrr)
    # each grid has its own Otsu level (a slightly different area): rates agree to ~1 %, both near the truth
    assert res[UTM] == pytest.approx(-10.0, abs=0.3)
    assert res[GEO] == pytest.approx(-10.0, abs=0.3)
    assert res[GEO] == pytest.approx(res[UTM], abs=0.2)


def test_geographic_grid_wider_than_a_utm_zone_is_refused():
    xs, ys = np.arange(100.5, 110.5, 1.0), np.arange(25.5, 15.5, -1.0)
    idx = xr.DataArray(np.zeros((10, 10), np.float32), dims=("y", "x"), coords={"y": ys, "x": xs}).rio.write_crs(GEO)
    with pytest.raises(InvalidInputs, match="UTM zone"):
        extract_waterline(idx, 0.0)


def test_projected_grid_not_in_metres_is_refused():
    xs, ys = np.arange(10) * 30.0 + 15, 3000.0 - np.arange(10) * 30.0
    idx = xr.DataArray(np.zeros((10, 10), np.float32), dims=("y", "x"), coords={"y": ys, "x": xs}).rio.write_crs("EPSG:2229")  # US ft
    with pytest.raises(InvalidInputs, match="not metres"):
        extract_waterline(idx, 0.0)

"""Oil-slick CANDIDATES from Sentinel-1: dark spots on the sea with area and shape filters.

Every detection is a *candidate*: wind shadows, biogenic films, rain cells and upwelling also
damp the sea's backscatter ("look-alikes"); confirmation needs an analyst, ancillary data (wind,
ship AIS) or a field report. Items, classes and legends say so.

Method (fixed, documented; after the adaptive-threshold detectors reviewed by Solberg 2012 and
Fingas & Brown 2014):
1. VV σ0 dB, Lee filter (5×5, ENL 4.4);
2. sea = below the scene's Otsu level (open water vs land) and, after a morphological opening with
   a disk of ``sea_opening_m`` (300 m), part of a body of water wider than rivers and ponds;
3. local sea background = mean of the filtered dB over sea pixels in a ``window_m`` (2 km) square;
   dark spot = sea pixel more than ``contrast_db`` (3 dB) below its background (oil damps the
   Bragg waves by 3–10 dB);
4. connected dark spots (8-connectivity) are kept as candidates when their area is between
   ``min_area_ha`` (5 ha) and ``max_area_km2`` (50 km², larger dark areas are low-wind zones) and
   their elongation (major/minor axis of the equivalent ellipse) is ≥ ``min_elongation`` (2.0),
   since spills are stretched by wind and currents while low-wind areas are compact.

Classes: 0 sea, no candidate · 1 oil-slick candidate · 2 dark spot rejected by the filters ·
3 land / not assessed · 255 no data. Each candidate's area (ha), elongation, compactness (4πA/P²),
mean contrast (dB) and centroid (lon, lat) are listed in the item's diagnostics.

Memory: bounded by the chunks, not the scene. Everything is computed chunk by chunk (dask): the opening
and the 2 km background with overlaps (2 × the opening radius; half the window + 1), the background
as exact fixed-point window sums, so the classes do not depend on the chunking. Connected components
(water bodies, dark spots) are labelled per chunk and joined across chunk faces and corners on small
tables (the labels on the chunks' edges; per-object pixel count, coordinate sums and moments, boundary
pixels, contrast sum), from which step 4 is decided; the class raster is returned lazily and
recomputed chunk by chunk when written. Four passes over the input: histogram, water bodies, dark-spot
tables, classes. Peak RSS on a 10980² scene: docs/benchmarks.md (``python -m benchmarks memory``).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import xarray as xr
from pydantic import Field
from scipy import ndimage

from geo.grid import georef
from products.flood import SarFloodParams, filtered_db, global_threshold
from products.registry import Algorithm, InputSpec, OutputSpec, ProductParams, register

__all__ = ["OIL_CLASSES", "OilParams", "OilCandidates", "oil_candidates"]

SEA, CANDIDATE, REJECTED, LAND, NODATA = 0, 1, 2, 3, 255
OIL_CLASSES = {SEA: "sea, no candidate", CANDIDATE: "oil-slick candidate (unconfirmed)", REJECTED: "dark spot rejected (area/shape)", LAND: "land or not assessed", NODATA: "no data"}


class OilParams(ProductParams):
    contrast_db: float = Field(3.0, gt=0, le=20, description="Dark spot: this many dB below the local sea background.")
    window_m: float = Field(2000.0, gt=0, le=50_000, description="Side of the square window of the local sea background (m).")
    sea_opening_m: float = Field(300.0, ge=0, le=10_000, description="Opening radius (m) that removes rivers and ponds from the sea mask.")
    min_area_ha: float = Field(5.0, ge=0, le=100_000, description="Smallest candidate (ha).")
    max_area_km2: float = Field(50.0, gt=0, description="Largest candidate (km²); larger dark areas are low-wind zones.")
    min_elongation: float = Field(2.0, ge=1, le=1000, description="Smallest major/minor axis ratio of a candidate.")
    max_listed: int = Field(100, ge=0, le=10000, description="At most this many candidates are listed in the diagnostics.")


def _min_chunks(chunks: tuple[int, ...], m: int) -> tuple[int, ...]:
    """Merge neighbouring chunks until each is ≥ ``m`` pixels (an overlap may not exceed a chunk)."""
    out: list[int] = []
    for c in chunks:
        if out and out[-1] < m:
            out[-1] += c
        else:
            out.append(c)
    if len(out) > 1 and out[-1] < m:
        out[-2] += out.pop()
    return tuple(out)


def _opening(w: np.ndarray, r: int) -> np.ndarray:
    """``ndimage.binary_opening(w, disk of radius r)`` (border 0) through exact Euclidean distance
    transforms: a pixel survives the erosion iff no False pixel (or pixel outside the array) lies within r
    (squared distance ≤ r²), and the dilation reaches every pixel within r of a survivor. O(pixels),
    whatever r (the disk structure costs O(pixels · r²))."""
    lim = r * r + 0.5  # squared distances are integers
    if not w.any():
        return np.zeros_like(w)
    wp = np.pad(w, 1)  # border 0: the outside is not water
    eroded = ndimage.distance_transform_edt(wp) ** 2 > lim
    del wp
    if not eroded.any():
        return np.zeros_like(w)
    return (ndimage.distance_transform_edt(~eroded) ** 2 <= lim)[1:-1, 1:-1]


def _edges(lab: np.ndarray) -> tuple[np.ndarray, ...]:
    return lab[0].copy(), lab[-1].copy(), lab[:, 0].copy(), lab[:, -1].copy()  # top, bottom, left, right


def _link(edges: dict[tuple[int, int], tuple[np.ndarray, ...]], offsets: dict[tuple[int, int], int], ny: int, nx: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Join the block-local components that touch across block faces and corners (8-connectivity).

    Nodes are the global ids (block offset + local label) of the labels on a block's edge; returns the
    sorted node ids, each node's component index and the number of components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    def g(v: np.ndarray, b: tuple[int, int]) -> np.ndarray:
        return np.where(v > 0, v.astype(np.int64) + offsets[b], 0)

    nodes = [g(e, b) for b, es in edges.items() for e in es]
    pa: list[np.ndarray] = [np.zeros(0, np.int64)]
    pb: list[np.ndarray] = [np.zeros(0, np.int64)]

    def pair(a: np.ndarray, b: np.ndarray) -> None:
        m = (a > 0) & (b > 0)
        pa.append(a[m])
        pb.append(b[m])

    def face(a: np.ndarray, b: np.ndarray) -> None:
        n = len(a)
        for s in (-1, 0, 1):  # a[y] touches b[y + s]
            pair(a[max(0, -s) : n - max(0, s)], b[max(0, s) : n - max(0, -s)])

    for i in range(ny):
        for j in range(nx):
            top, bottom, left, right = edges[i, j]
            if j + 1 < nx:
                face(g(right, (i, j)), g(edges[i, j + 1][2], (i, j + 1)))
            if i + 1 < ny:
                face(g(bottom, (i, j)), g(edges[i + 1, j][0], (i + 1, j)))
                if j + 1 < nx:
                    pair(g(bottom[-1:], (i, j)), g(edges[i + 1, j + 1][0][:1], (i + 1, j + 1)))
                if j > 0:
                    pair(g(bottom[:1], (i, j)), g(edges[i + 1, j - 1][0][-1:], (i + 1, j - 1)))
    ids = np.unique(np.concatenate(nodes))
    ids = ids[ids > 0]
    a = np.searchsorted(ids, np.concatenate(pa))
    b = np.searchsorted(ids, np.concatenate(pb))
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(len(ids), len(ids)))
    ncomp, comp = connected_components(graph, directed=False)
    return ids, comp, int(ncomp)

_EIGHT = np.ones((3, 3), bool)
CHUNK = 2048  # chunk side for numpy-backed input
_STATS = ("n", "sx", "sy", "sxx", "syy", "sxy", "perim", "first")  # int64 per-object sums, global pixel coords


def _box_sum(a: np.ndarray, size: int) -> np.ndarray:
    """Sums over ``size``² windows (odd ``size``) of an integer array, trimmed by ``size // 2`` on each side.

    Exact: integer cumulative sums may wrap around in int64, but the window differences are exact modulo 2⁶⁴
    and the true sums fit in int64, so the result does not depend on where the array starts (chunking)."""
    for axis in (0, 1):
        c = np.cumsum(a, axis=axis, dtype=a.dtype, out=a if a.dtype == np.int64 else None)  # in place when possible
        del a
        if axis == 0:
            a = c[size - 1 :].copy()
            a[1:] -= c[:-size]
        else:
            a = c[:, size - 1 :].copy()
            a[:, 1:] -= c[:, :-size]
        del c
    return a


def _fixed_point_bits(size: int) -> int:
    """Bits of the fixed-point sea dB values: |dB| < 64 (filtered dB ≥ −60, sea < the Otsu level ≤ 10), so
    a window sum stays below 2⁶² (sub-picodecibel steps for the default 201-pixel window)."""
    return max(62 - 6 - int(np.ceil(np.log2(size * size))), 0)


def _dark_block(fo: np.ndarray, so: np.ndarray, size: int, contrast_db: float) -> tuple[np.ndarray, ...]:
    """Steps 3: on a block padded by ``size // 2 + 1`` (filtered dB, sea), the block's filtered dB, sea,
    dark-spot mask, dark-spot boundary (``dark & ~binary_erosion(dark)``, cross, border 0) and contrast.

    The local background is Σ sea dB / Σ sea pixels over the window (= the mean of ``uniform_filter`` with
    ``mode="constant"``), summed exactly in fixed point so that it does not depend on the chunking."""
    h = size // 2
    k = _fixed_point_bits(size)
    q = fo.astype(np.float64)
    q[~so] = 0.0
    q *= 2.0**k
    np.rint(q, out=q)
    s = _box_sum(q.astype(np.int64), size)
    del q
    t = s.astype(np.float64)
    del s
    t *= 2.0**-k
    with np.errstate(invalid="ignore", divide="ignore"):
        t /= _box_sum(so.astype(np.int64), size)
    bg = t.astype(np.float32)
    del t
    x = fo[h:-h, h:-h]
    contrast = bg - x
    dark = so[h:-h, h:-h] & (contrast > contrast_db)  # block + a 1-pixel ring
    inner = (slice(1, -1), slice(1, -1))
    d = dark[inner]
    edge = d & ~(dark[:-2, 1:-1] & dark[2:, 1:-1] & dark[1:-1, :-2] & dark[1:-1, 2:])
    return x[inner], so[h + 1 : -h - 1, h + 1 : -h - 1], d, edge, contrast[inner]


def _object_stats(lab: np.ndarray, n: int, edge: np.ndarray, contrast: np.ndarray, y0: int, x0: int, width: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-label (0..n) integer sums for the area, centroid, covariance, perimeter (boundary pixels) and the
    first pixel in raster order (global coordinates), plus the float64 contrast sums."""
    flat = lab.ravel()
    idx = np.flatnonzero(flat)
    labs = flat[idx]
    bw = lab.shape[1]
    yl, xl = np.divmod(idx, bw)

    def bc(wt: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(labs, wt, minlength=n + 1)

    n_ = bc().astype(np.int64)
    xf, yf = xl.astype(np.float64), yl.astype(np.float64)
    # block-local sums are exact in float64 (< 2⁵³), then shifted to global coordinates in int64
    sx, sy = np.rint(bc(xf)).astype(np.int64), np.rint(bc(yf)).astype(np.int64)
    sxx, syy, sxy = (np.rint(bc(v)).astype(np.int64) for v in (xf * xf, yf * yf, xf * yf))
    X, Y = np.int64(x0), np.int64(y0)
    st = {
        "n": n_,
        "sx": sx + n_ * X,
        "sy": sy + n_ * Y,
        "sxx": sxx + 2 * X * sx + n_ * X * X,
        "syy": syy + 2 * Y * sy + n_ * Y * Y,
        "sxy": sxy + X * sy + Y * sx + n_ * X * Y,
        "perim": bc(edge.ravel()[idx].astype(np.float64)).astype(np.int64),
    }
    # ndimage.label numbers objects in raster order of their first pixel: first pixels are the running maxima
    first = np.full(n + 1, -1, np.int64)
    if len(labs):
        new = np.empty(len(labs), bool)
        new[0] = True
        np.greater(labs[1:], np.maximum.accumulate(labs)[:-1], out=new[1:])
        if np.array_equal(labs[new], np.arange(1, n + 1)):
            first[labs[new]] = idx[new]
        else:  # not numbered in raster order: first occurrences by sorting
            u, at = np.unique(labs, return_index=True)
            first[u] = idx[at]
    fy, fx = np.divmod(first, bw)
    st["first"] = np.where(first >= 0, (fy + y0) * width + fx + x0, -1)
    return st, bc(contrast.ravel()[idx].astype(np.float64))


def _shape_from_moments(n: int, sx: int, sy: int, sxx: int, syy: int, sxy: int, perim: int, res: float) -> tuple[float, float, float]:
    """(area m², elongation, compactness 4πA/P²) from an object's exact pixel-coordinate sums; the same
    covariance as ``np.cov`` (ddof=1) of its pixel coordinates, + 1/12 for a pixel's own extent."""
    area = float(n) * res * res
    if n < 3:
        return area, 1.0, 1.0
    d = n * (n - 1)
    cov = np.array([[(n * sxx - sx * sx) / d, (n * sxy - sx * sy) / d], [(n * sxy - sx * sy) / d, (n * syy - sy * sy) / d]])
    ev = np.sort(np.linalg.eigvalsh(cov + np.eye(2) / 12.0))
    elong = float(np.sqrt(ev[1] / ev[0]))
    p_ = float(perim) * res
    compact = float(4 * np.pi * area / p_**2) if p_ > 0 else 1.0
    return area, elong, min(compact, 1.0)


def _candidate(st: Mapping[str, Any], csum: float, res: float, p: OilParams) -> dict[str, Any] | None:
    """Step 4 on one object's sums: its attributes if it is a candidate, else None."""
    n = int(st["n"])
    area_m2 = n * res * res
    if area_m2 < p.min_area_ha * 1e4 or area_m2 > p.max_area_km2 * 1e6:
        return None
    area, elong, compact = _shape_from_moments(n, *(int(st[k]) for k in ("sx", "sy", "sxx", "syy", "sxy", "perim")), res=res)
    if elong < p.min_elongation:
        return None
    return {"first": int(st["first"]), "area": area, "elong": elong, "compact": compact, "contrast": float(csum) / n, "cx": int(st["sx"]) / n, "cy": int(st["sy"]) / n}


def _water_summary(wo: np.ndarray, r: int) -> tuple[int, tuple[np.ndarray, ...], np.ndarray]:
    """Pass over one block padded by 2r: local water labels, their edges and the labels holding an opened core."""
    core = _opening(wo, r)[2 * r : -2 * r, 2 * r : -2 * r]
    lab, n = ndimage.label(wo[2 * r : -2 * r, 2 * r : -2 * r], structure=_EIGHT)
    has = np.unique(lab[core])
    return int(n), _edges(lab), has[has > 0]


def _sea_block(w: np.ndarray, keep: Mapping[tuple[int, int], np.ndarray], block_id: tuple[int, int] | None = None) -> np.ndarray:
    lab, n = ndimage.label(w, structure=_EIGHT)
    lut = np.zeros(n + 1, bool)
    lut[keep[block_id]] = True  # type: ignore[index]
    return lut[lab]


def _dark_summary(fo: np.ndarray, so: np.ndarray, origin: tuple[int, int], width: int, size: int, res: float, p: OilParams) -> dict[str, Any]:
    """Pass over one block: dark spots labelled locally; objects inside the block are judged here, those
    touching its edge are returned as sums to be joined with their parts in the neighbouring blocks."""
    _x, _sea, dark, edge, contrast = _dark_block(fo, so, size, p.contrast_db)
    lab, n = ndimage.label(dark, structure=_EIGHT)
    st, csum = _object_stats(lab, n, edge, contrast, origin[0], origin[1], width)
    edges = _edges(lab)
    on_edge = np.zeros(n + 1, bool)
    for e in edges:
        on_edge[e] = True
    on_edge[0] = True
    el = np.flatnonzero(on_edge[1:]) + 1
    cands = []
    area_ok = (st["n"] * res * res >= p.min_area_ha * 1e4) & (st["n"] * res * res <= p.max_area_km2 * 1e6) & ~on_edge
    for i in np.flatnonzero(area_ok):
        c = _candidate({k: v[i] for k, v in st.items()}, csum[i], res, p)
        if c is not None:
            cands.append((int(i), c))
    return {"n": int(n), "n_inside": int(n - len(el)), "edges": edges, "edge_labels": el,
            "edge_stats": {k: v[el] for k, v in st.items()}, "edge_csum": csum[el], "inside": cands}


def _class_block(fo: np.ndarray, so: np.ndarray, cand: Mapping[tuple[int, int], np.ndarray], size: int, contrast_db: float, block_id: tuple[int, int] | None = None) -> np.ndarray:
    x, sea, dark, _edge, _c = _dark_block(fo, so, size, contrast_db)
    cls = np.full(x.shape, LAND, np.uint8)
    cls[sea] = SEA
    cls[dark] = REJECTED
    cls[~np.isfinite(x)] = NODATA
    ids = cand.get(block_id)  # type: ignore[arg-type]
    if ids is not None and len(ids):
        lab, n = ndimage.label(dark, structure=_EIGHT)
        lut = np.zeros(n + 1, bool)
        lut[ids] = True
        cls[lut[lab]] = CANDIDATE
    return cls


def _origins(chunks: tuple[int, ...]) -> list[int]:
    return [int(v) for v in np.concatenate([[0], np.cumsum(chunks)[:-1]])]


def oil_candidates(vv_db: xr.DataArray, params: OilParams | None = None) -> tuple[xr.DataArray, dict[str, Any]]:
    """Classes (uint8, see :data:`OIL_CLASSES`, lazy dask array) and diagnostics with the candidates' attributes."""
    import dask
    import dask.array as da

    p = params or OilParams()
    res = abs(float(vv_db.rio.resolution()[0]))
    if vv_db.rio.crs is None or vv_db.rio.crs.is_geographic:
        from products.errors import InvalidInputs

        raise InvalidInputs("oil-slick detection needs σ0 on a projected grid in metres")
    if not hasattr(vv_db.data, "dask"):
        vv_db = vv_db.chunk(CHUNK)
    filt = filtered_db(vv_db, SarFloodParams())
    s = global_threshold(filt)  # pass 1: histogram
    r = int(round(p.sea_opening_m / res))
    size = max(int(round(p.window_m / res)) | 1, 3)
    pad = size // 2 + 1
    f = filt.data.astype(np.float32)
    f = f.rechunk(tuple(_min_chunks(c, max(2 * r, pad)) for c in f.chunks))
    ny, nx = f.numblocks
    oy, ox = _origins(f.chunks[0]), _origins(f.chunks[1])
    height, width = f.shape
    water = f < s.threshold  # NaN (no data) is not water
    if r > 0:
        # pass 2: water bodies that contain an opened core (keeps the slick itself, drops rivers/ponds)
        wo = da.overlap.overlap(water, depth={0: 2 * r, 1: 2 * r}, boundary={0: False, 1: False})
        blocks = wo.to_delayed()
        summ = dask.compute(*[dask.delayed(_water_summary)(blocks[i, j], r) for i in range(ny) for j in range(nx)])
        ws = {(i, j): summ[i * nx + j] for i in range(ny) for j in range(nx)}
        offs = dict(zip(ws, _origins(tuple(v[0] for v in ws.values())) if ws else []))
        ids, comp, ncomp = _link({b: v[1] for b, v in ws.items()}, offs, ny, nx)
        comp_keep = np.zeros(ncomp, bool)
        for b, (_n, _e, has) in ws.items():
            hit = np.searchsorted(ids, has.astype(np.int64) + offs[b])
            on = (hit < len(ids)) & (ids[np.minimum(hit, len(ids) - 1)] == has + offs[b])
            comp_keep[comp[hit[on]]] = True
        keep = {}
        for b, (n_b, _e, has) in ws.items():
            lo, hi = np.searchsorted(ids, [offs[b] + 1, offs[b] + n_b + 1])
            kept_edge = ids[lo:hi][comp_keep[comp[lo:hi]]] - offs[b]
            keep[b] = np.union1d(has, kept_edge).astype(np.int64)
        del ws, summ
        sea = water.map_blocks(_sea_block, keep=keep, dtype=bool)
    else:
        sea = water
    fo = da.overlap.overlap(f, depth={0: pad, 1: pad}, boundary={0: np.nan, 1: np.nan})
    so = da.overlap.overlap(sea, depth={0: pad, 1: pad}, boundary={0: False, 1: False})
    # pass 3: dark spots and their sums, joined across blocks
    fb, sb = fo.to_delayed(), so.to_delayed()
    summ = dask.compute(*[dask.delayed(_dark_summary)(fb[i, j], sb[i, j], (oy[i], ox[j]), width, size, res, p) for i in range(ny) for j in range(nx)])
    ds = {(i, j): summ[i * nx + j] for i in range(ny) for j in range(nx)}
    offs = dict(zip(ds, _origins(tuple(v["n"] for v in ds.values()))))
    ids, comp, ncomp = _link({b: v["edges"] for b, v in ds.items()}, offs, ny, nx)
    node = {k: np.zeros(len(ids), np.int64) for k in _STATS}
    node_c = np.zeros(len(ids))
    for b, v in ds.items():
        at = np.searchsorted(ids, v["edge_labels"] + offs[b])
        for k in _STATS:
            node[k][at] = v["edge_stats"][k]
        node_c[at] = v["edge_csum"]
    agg = {k: np.zeros(ncomp, np.int64) for k in _STATS if k != "first"}
    for k in agg:
        np.add.at(agg[k], comp, node[k])
    agg["first"] = np.full(ncomp, np.iinfo(np.int64).max)
    np.minimum.at(agg["first"], comp, node["first"])
    agg_c = np.zeros(ncomp)
    np.add.at(agg_c, comp, node_c)
    found: list[tuple[dict[str, Any], list[tuple[tuple[int, int], int]]]] = []
    for b, v in ds.items():
        found += [(c, [(b, i)]) for i, c in v["inside"]]
    area = agg["n"] * res * res
    cand_comp = {}
    for ci in np.flatnonzero((area >= p.min_area_ha * 1e4) & (area <= p.max_area_km2 * 1e6)):
        c = _candidate({k: a[ci] for k, a in agg.items()}, agg_c[ci], res, p)
        if c is not None:
            cand_comp[int(ci)] = (c, [])
    if cand_comp:
        blocks_of = {}
        for b in ds:
            lo, hi = np.searchsorted(ids, [offs[b] + 1, offs[b] + ds[b]["n"] + 1])
            blocks_of[b] = (lo, hi)
        for b, (lo, hi) in blocks_of.items():
            for node_i in range(lo, hi):
                ci = int(comp[node_i])
                if ci in cand_comp:
                    cand_comp[ci][1].append((b, int(ids[node_i] - offs[b])))
    found += list(cand_comp.values())
    found.sort(key=lambda t: t[0]["first"])  # the order of ndimage.label on the whole scene
    n_dark = sum(v["n_inside"] for v in ds.values()) + ncomp
    del ds, summ, node
    cand_ids: dict[tuple[int, int], list[int]] = {}
    for _c, parts in found:
        for b, i in parts:
            cand_ids.setdefault(b, []).append(i)
    cand = {b: np.array(v, np.int64) for b, v in cand_ids.items()}
    cls = da.map_blocks(_class_block, fo, so, cand=cand, size=size, contrast_db=p.contrast_db, dtype=np.uint8, chunks=f.chunks)

    listed: list[dict[str, Any]] = []
    transform = vv_db.rio.transform()
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(vv_db.rio.crs, "EPSG:4326", always_xy=True)
    for n_cand, (c, _parts) in enumerate(found[: p.max_listed], start=1):
        ex, ey = transform * (c["cx"] + 0.5, c["cy"] + 0.5)
        lon, lat = to_wgs.transform(ex, ey)
        listed.append({
            "id": n_cand,
            "area_ha": round(c["area"] / 1e4, 2),
            "elongation": round(c["elong"], 2),
            "compactness": round(c["compact"], 3),
            "mean_contrast_db": round(c["contrast"], 2),
            "centroid": [round(lon, 6), round(lat, 6)],
            "status": "candidate (unconfirmed)",
        })
    out = vv_db.copy(data=cls)
    diag = {
        "sea_threshold_db": round(s.threshold, 3),
        "dark_spots": int(n_dark),
        "candidates": len(found),
        "candidate_list": listed,
        "note": "oil-slick CANDIDATES from dark-spot detection; not confirmed spills",
    }
    return georef(out, vv_db), diag


@register
class OilCandidates(Algorithm):
    name = "oil-candidates"
    version = "1.0.0"
    title = "Oil-slick candidates (SAR dark spots, unconfirmed)"
    title_vi = "Vết dầu nghi ngờ — ứng viên chưa xác nhận (vùng tối SAR)"
    description = __doc__ or ""
    collection = "oil-slick-candidates"
    inputs = (InputSpec("scene", ("sentinel-1-grd",), ("vv",), "Sentinel-1 scene over the sea"),)
    outputs = (OutputSpec("candidates", "uint8", "Oil-slick candidates (unconfirmed) and dark spots", nodata=NODATA, classes=OIL_CLASSES, colormap="oil-candidates"),)
    Params = OilParams
    references = (
        "Solberg, A.H.S. (2012) Remote sensing of ocean oil-spill pollution. Proc. IEEE 100(10).",
        "Fingas, M., Brown, C. (2014) Review of oil spill remote sensing. Marine Pollution Bulletin 83(1).",
        "Solberg, A.H.S., Brekke, C., Husøy, P.O. (2007) Oil spill detection in Radarsat and Envisat SAR images. IEEE TGRS 45(3).",
    )

    def run(self, inputs: Mapping[str, Mapping[str, Any]], params: Any) -> dict[str, Any]:
        cls, diag = oil_candidates(inputs["scene"]["vv"], params)
        cls.attrs["hpgeo:diagnostics"] = diag
        return {"candidates": cls}

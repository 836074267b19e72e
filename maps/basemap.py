"""The viewer's own light base map: land and sea raster tiles (Web Mercator XYZ PNG), offline.

Land/sea comes from the PyPI package ``global-land-mask`` (the GLOBE 30 arc-second land mask, about
1 km at the equator, from NOAA), so the base map needs no internet and no tile server. Tiles are drawn
at each pixel centre (nearest neighbour); the coast line is the land pixels that touch the sea. Past
:data:`MAX_NATIVE_ZOOM` the mask has no more detail and the viewer scales the tiles up instead.

The package's mask is one 933 MB boolean array (2.4 MB compressed); loading it whole in the server
would cost a minute and a gigabyte. :func:`land_mask` instead streams it once, keeping the full
30″ resolution over :data:`WINDOW` (northern Viet Nam and the Gulf of Tonkin: every Hải Phòng island)
and every 8th cell elsewhere, and caches those two small arrays (a few MB) in ``cache_dir``.

Any XYZ base map (the city's own tile server, OpenStreetMap) replaces it by configuration
(``HPGEO_BASEMAP_URL``); this module is the default.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from base.errors import HpgeoWarning, InvalidRequest

__all__ = ["basemap_tile", "land_mask", "cache_dir", "LandMask", "WINDOW", "tile_lonlat_grid", "LAND_RGB", "SEA_RGB", "COAST_RGB", "MAX_NATIVE_ZOOM", "MAX_ZOOM", "BasemapTileError"]

LAND_RGB = (244, 241, 234)
SEA_RGB = (207, 227, 241)
COAST_RGB = (140, 170, 196)
#: The land mask's cell is 30″ (~0.93 km at Hải Phòng's latitude); zoom 13 has ~17 m pixels, already
#: far finer, so higher zooms only scale up.
MAX_NATIVE_ZOOM = 13
MAX_ZOOM = 20
TILE = 256
#: (west, south, east, north) kept at full resolution.
WINDOW = (100.0, 8.0, 118.0, 24.0)
COARSE = 8
_CELL = 1.0 / 120.0  # 30 arc-seconds
_ROWS, _COLS = 21600, 43200


class BasemapTileError(InvalidRequest):
    """A base map tile that does not exist (zoom out of range, column or row outside the grid)."""


def tile_lonlat_grid(z: int, x: int, y: int, size: int = TILE) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes (``size``) and latitudes (``size``) of the pixel centres of Web Mercator tile z/x/y."""
    n = 2**z
    px = (np.arange(size) + 0.5) / size
    lon = (x + px) / n * 360.0 - 180.0
    merc_y = math.pi * (1 - 2 * (y + px) / n)  # pixel rows top to bottom
    lat = np.degrees(np.arctan(np.sinh(merc_y)))
    return lon, lat


def _check(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise BasemapTileError(f"base map zoom {z} is outside 0…{MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise BasemapTileError(f"base map tile {z}/{x}/{y} does not exist: x and y must be in 0…{2**z - 1} at zoom {z}")


@dataclass(frozen=True, eq=False)
class LandMask:
    """The package's mask (True = ocean, as its ``is_ocean``) at full resolution over :data:`WINDOW` and
    every :data:`COARSE`-th cell elsewhere.

    Cell ``(r, c)`` of the package's grid has its north-west corner at (90 - r/120, -180 + c/120)
    (the package's ``lat``/``lon`` arrays), as its own ``lat_to_index``/``lon_to_index`` use."""

    coarse: np.ndarray  # (2700, 5400) bool, True = ocean
    window: np.ndarray  # rows/cols of WINDOW, bool, True = ocean
    r0: int
    c0: int

    def is_land(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        r = np.clip(((90.0 - lat) / _CELL).astype(np.int64), 0, _ROWS - 1)
        c = np.clip(((lon + 180.0) / _CELL).astype(np.int64), 0, _COLS - 1)
        out = self.coarse[r // COARSE, c // COARSE]
        wr, wc = r - self.r0, c - self.c0
        inside = (wr >= 0) & (wr < self.window.shape[0]) & (wc >= 0) & (wc < self.window.shape[1])
        ocean = np.where(inside, self.window[np.clip(wr, 0, self.window.shape[0] - 1), np.clip(wc, 0, self.window.shape[1] - 1)], out)
        return ~ocean


def _package_npz() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise BasemapTileError("the base map needs the package global-land-mask")
    return Path(spec.origin).parent / "globe_combined_mask_compressed.npz"


def _stream_rows(npz: Path, rows_per_chunk: int = 120):
    """Yield (first_row, rows) of the package's mask.npy, decompressing the zip member as a stream."""
    with zipfile.ZipFile(npz) as zf, zf.open("mask.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if shape != (_ROWS, _COLS) or fortran or dtype != np.bool_:
            raise BasemapTileError(f"unexpected land mask layout {shape} {dtype} (global-land-mask changed?)")
        r = 0
        while r < _ROWS:
            n = min(rows_per_chunk, _ROWS - r)
            buf = f.read(n * _COLS)
            if len(buf) != n * _COLS:
                raise BasemapTileError("the land mask file of global-land-mask is truncated")
            yield r, np.frombuffer(buf, dtype=np.bool_).reshape(n, _COLS)
            r += n


def _derive(npz: Path) -> LandMask:
    w, s, e, n = WINDOW
    r0, r1 = int(round((90.0 - n) / _CELL)), int(round((90.0 - s) / _CELL))
    c0, c1 = int(round((w + 180.0) / _CELL)), int(round((e + 180.0) / _CELL))
    coarse = np.zeros((_ROWS // COARSE, _COLS // COARSE), dtype=bool)
    window = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    for first, rows in _stream_rows(npz):
        idx = np.arange(first, first + rows.shape[0])
        sel = idx % COARSE == 0
        coarse[idx[sel] // COARSE] = rows[sel, ::COARSE]
        lo, hi = max(first, r0), min(first + rows.shape[0], r1)
        if lo < hi:
            window[lo - r0 : hi - r0] = rows[lo - first : hi - first, c0:c1]
    return LandMask(coarse, window, r0, c0)


_lock = threading.Lock()
_loaded: dict[str, LandMask] = {}


def cache_dir(configured: Path | None) -> Path:
    """Where the derived mask is cached: HPGEO_BASEMAP_CACHE, else ``~/.cache/hpgeo``."""
    return configured or Path.home() / ".cache" / "hpgeo"


def land_mask(cache_dir: Path | None) -> LandMask:
    """The derived mask, from ``cache_dir`` (written there on first use, atomically) or derived now."""
    npz = _package_npz()
    stat = npz.stat()
    key = f"landmask-v1-{stat.st_size}-{zlib.crc32(str(WINDOW).encode()):08x}"
    with _lock:
        if key in _loaded:
            return _loaded[key]
        cached = cache_dir / f"{key}.npz" if cache_dir is not None else None
        mask = None
        if cached is not None and cached.is_file():
            try:
                with np.load(cached) as f:
                    mask = LandMask(f["coarse"], f["window"], int(f["r0"]), int(f["c0"]))
            except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt
                mask = None
        if mask is None:
            mask = _derive(npz)
            if cached is not None:
                from geo.tempfiles import atomic_path

                try:
                    with atomic_path(cached, suffix=".npz") as tmp:
                        np.savez_compressed(tmp, coarse=mask.coarse, window=mask.window, r0=mask.r0, c0=mask.c0)
                except OSError as exc:  # a read-only home: serve from memory, derive again next start
                    warnings.warn(f"cannot cache the base map's land mask in {cache_dir}: {exc}", HpgeoWarning, stacklevel=2)
        _loaded[key] = mask
        return mask


def basemap_tile(z: int, x: int, y: int, cache_dir: Path | None = None) -> bytes:
    """The PNG of base map tile z/x/y: land, sea and the coast line between them."""
    _check(z, x, y)
    return _tile(z, x, y, land_mask(cache_dir))


@lru_cache(maxsize=2048)
def _tile(z: int, x: int, y: int, mask: LandMask) -> bytes:
    lon, lat = tile_lonlat_grid(z, x, y)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    land = mask.is_land(la, lo)
    rgb = np.empty(land.shape + (3,), dtype=np.uint8)
    rgb[...] = SEA_RGB
    rgb[land] = LAND_RGB
    if z >= 6:  # a coast line where land touches sea (4-neighbourhood, inside the tile)
        edge = np.zeros_like(land)
        edge[1:, :] |= land[1:, :] & ~land[:-1, :]
        edge[:-1, :] |= land[:-1, :] & ~land[1:, :]
        edge[:, 1:] |= land[:, 1:] & ~land[:, :-1]
        edge[:, :-1] |= land[:, :-1] & ~land[:, 1:]
        rgb[edge] = COAST_RGB
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").quantize(colors=3, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
    return buf.getvalue()

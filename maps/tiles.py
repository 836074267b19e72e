"""Web-Mercator tiles, previews, point values and TileJSON for catalog items, with rio-tiler (no web framework).

The API passes catalog items in. Asset files are opened only by the href the catalog holds, resolved by
:func:`ingest.items.resolve_href` (inside the data directory, or under a configured remote prefix) and opened
through :func:`geo.gdal.open_checked` (GeoTIFF/COG only, no indirection): no user-supplied URL or path ever
reaches GDAL. What to draw is a :class:`TileRequest` (assets, band indexes, a band-math expression parsed by
:mod:`maps.expression`, rescale, colormap); every failure is a :class:`maps.errors.RenderError` (400) or
:class:`maps.errors.PointOutsideItem` (404).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import morecantile
import numpy as np
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from geo.gdal import open_checked
from base.paths import is_remote
from ingest.items import resolve_href
from maps.colormaps import get_colormap, rio_colormap
from maps.errors import PointOutsideItem, RenderError
from maps.expression import BAND_NAME, parse_expression
from maps.render import RenderSpec, asset_output, default_render, raster_assets

__all__ = [
    "TileRequest", "parse_rescale", "parse_bidx", "tile_png", "tile_image", "preview_image", "point_values",
    "tile_bounds_info", "item_bounds", "tile_etag", "TileCache", "FORMATS", "TILE_SIZES", "WEB_MERCATOR",
]

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")

# URL extension -> (GDAL/PIL driver, media type)
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "jpg": ("JPEG", "image/jpeg"),
    "jpeg": ("JPEG", "image/jpeg"),
}
TILE_SIZES = (256, 512)
MAX_PREVIEW = 2048
MAX_BANDS_READ = 8


def parse_rescale(value: str | None) -> tuple[float, float] | None:
    if value in (None, ""):
        return None
    try:
        lo, hi = (float(v) for v in str(value).split(","))
    except ValueError as exc:
        raise RenderError(f"rescale must be 'min,max', got {value!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RenderError(f"rescale must be two finite numbers, got {value!r}")
    if not hi > lo:
        raise RenderError(f"rescale max must be greater than min, got {value!r}")
    return (lo, hi)


def parse_bidx(value: str | None) -> tuple[int, ...]:
    """``"1"`` or ``"3,2,1"`` → band indexes (1-based); 1 or 3 of them."""
    if value in (None, ""):
        return ()
    try:
        out = tuple(int(v) for v in str(value).split(","))
    except ValueError as exc:
        raise RenderError(f"bidx must be 1 or 3 comma-separated band numbers, got {value!r}") from exc
    if len(out) not in (1, 3) or any(not 1 <= b <= 999 for b in out):
        raise RenderError(f"bidx must be 1 or 3 band numbers from 1, got {value!r}")
    return out


@dataclass(frozen=True)
class TileRequest:
    """What to draw: which assets (or bands, or a band-math expression), how to stretch, which colormap.
    Missing parts come from the item's default layer."""

    assets: tuple[str, ...] = ()
    rescale: tuple[float, float] | None = None
    colormap: str | None = None
    bidx: tuple[int, ...] = ()
    expression: str | None = None

    def resolve(self, item: dict[str, Any]) -> RenderSpec:
        default = default_render(item)
        if default is None:
            raise RenderError(f"item {item['id']!r} has no raster asset to draw")
        for a in self.assets:
            if a not in item["assets"]:
                raise RenderError(f"item {item['id']!r} has no asset {a!r} (has: {', '.join(item['assets'])})")
            if a not in raster_assets(item):
                raise RenderError(f"asset {a!r} of item {item['id']!r} is not a raster")
        if self.expression is not None:
            return self._resolve_expression(item, default)
        assets = self.assets or default.assets
        if self.bidx:
            if len(assets) != 1:
                raise RenderError("bidx selects bands of one asset: give a single asset with it")
        elif len(assets) not in (1, 3):
            raise RenderError("give 1 asset (with an optional colormap) or 3 assets (red, green, blue)")
        same = tuple(assets) == tuple(default.assets) and not self.bidx
        colormap = self.colormap if self.colormap is not None else (default.colormap if same else None)
        rescale = self.rescale if self.rescale is not None else (default.rescale if same else None)
        if colormap:
            get_colormap(colormap)  # validates the name
            if len(assets) != 1 or len(self.bidx) > 1:
                raise RenderError("a colormap applies to a single band")
        return RenderSpec(tuple(assets), colormap, rescale, self.bidx, None)

    def _resolve_expression(self, item: dict[str, Any], default: RenderSpec) -> RenderSpec:
        if self.bidx:
            raise RenderError("give either bidx or an expression (use b1..bN in the expression)")
        expr = parse_expression(self.expression or "", frozenset(raster_assets(item)))
        named = [n for n in expr.names if n in item["assets"]]
        if expr.band_names:
            base = self.assets or (default.assets if len(default.assets) == 1 else ())
            if len(base) != 1:
                raise RenderError("b1..bN in an expression name bands of one asset: give assets=<one asset>")
            assets = tuple(dict.fromkeys([base[0], *named]))
        else:
            assets = tuple(named)
        if self.colormap:
            get_colormap(self.colormap)
        if self.rescale is None:
            raise RenderError("an expression gives floating-point values: give rescale=min,max for display")
        return RenderSpec(assets, self.colormap, self.rescale, (), expr.text)


# --- opening and reading ----------------------------------------------------------------------------------


def _href(item: dict[str, Any], asset: str, data_dir: Path, remote_prefixes: Sequence[str]) -> str:
    return resolve_href(item["assets"][asset]["href"], data_dir, remote_prefixes)


@contextlib.contextmanager
def _reader(item: dict[str, Any], asset: str, data_dir: Path, remote_prefixes: Sequence[str] = ()) -> Iterator[Reader]:
    """A rio-tiler Reader on the catalog's file for ``asset``, opened by :func:`geo.gdal.open_checked`."""
    href = _href(item, asset, data_dir, remote_prefixes)
    remote = href.lower().startswith(("/vsicurl/", "/vsis3/", "/vsigs/"))
    with open_checked(href, allow_remote=remote) as ds, Reader(href, dataset=ds, tms=WEB_MERCATOR) as r:
        yield r


def _check_bands(r: Reader, bands: Sequence[int], asset: str) -> None:
    count = r.dataset.count
    for b in bands:
        if b > count:
            raise RenderError(f"asset {asset!r} has {count} band(s); band {b} does not exist")


def _plan(spec: RenderSpec) -> list[tuple[str, tuple[int, ...], str]]:
    """Which bands of which assets to read, in output order, each tagged ``"bands"`` (b1..bN of the base asset,
    or plain band indexes) or ``"asset"`` (band 1 of an asset named in an expression)."""
    if spec.expression is None:
        if spec.bidx:
            return [(spec.assets[0], spec.bidx, "bands")]
        return [(a, (1,), "bands") for a in spec.assets]
    expr = parse_expression(spec.expression)
    plan: list[tuple[str, tuple[int, ...], str]] = []
    bands = tuple(int(BAND_NAME.match(n).group(1)) for n in expr.band_names)  # type: ignore[union-attr]
    if bands:
        plan.append((spec.assets[0], bands, "bands"))
    plan += [(n, (1,), "asset") for n in expr.names if not BAND_NAME.match(n) and n in spec.assets]
    if sum(len(b) for _, b, _ in plan) > MAX_BANDS_READ:
        raise RenderError(f"an expression may read at most {MAX_BANDS_READ} bands")
    return plan


def _read_images(item: dict[str, Any], spec: RenderSpec, data_dir: Path, remote_prefixes: Sequence[str],
                 read: Any) -> list[tuple[str, tuple[int, ...], str, ImageData]]:
    out = []
    for asset, bands, kind in _plan(spec):
        with _reader(item, asset, data_dir, remote_prefixes) as r:
            _check_bands(r, bands, asset)
            out.append((asset, bands, kind, read(r, asset, bands)))
    return out


def _combine(spec: RenderSpec, parts: list[tuple[str, tuple[int, ...], str, ImageData]]) -> ImageData:
    if spec.expression is None:
        imgs = [p[3] for p in parts]
        return imgs[0] if len(imgs) == 1 else ImageData.create_from_list(imgs)
    expr = parse_expression(spec.expression)
    values: dict[str, np.ndarray] = {}
    first = parts[0][3]
    mask = np.zeros(first.array.shape[1:], dtype=bool)
    for asset, bands, kind, img in parts:
        if img.array.shape[1:] != mask.shape:
            raise RenderError("the assets of an expression must have the same grid")
        m = np.ma.getmaskarray(img.array)
        for i, b in enumerate(bands):
            values[f"b{b}" if kind == "bands" else asset] = img.array.data[i].astype("float64")
            mask |= m[i]
    result = np.broadcast_to(expr.evaluate(values), mask.shape)
    bad = ~np.isfinite(result) | mask
    arr = np.ma.MaskedArray(np.where(bad, 0, result)[None].astype("float32"), mask=bad[None])
    return ImageData(arr, bounds=first.bounds, crs=first.crs, band_names=["expression"])


def _render(img: ImageData, spec: RenderSpec, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise RenderError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    driver = FORMATS[fmt][0]
    if spec.rescale:
        img.rescale(in_range=(spec.rescale,) * img.count)
    elif img.array.dtype.kind == "f":
        raise RenderError("float assets need a rescale range, e.g. rescale=-25,0")
    elif img.array.dtype != np.uint8:
        raise RenderError(f"{img.array.dtype} assets need a rescale range for display, e.g. rescale=0,10000")
    cmap = rio_colormap(get_colormap(spec.colormap)) if spec.colormap else None
    if img.count not in (1, 3):
        raise RenderError("an image is drawn from 1 band (with a colormap) or 3 bands (red, green, blue)")
    kwargs: dict[str, Any] = {"quality": 90} if driver in ("JPEG", "WEBP") else {}
    if driver == "WEBP":
        kwargs["lossless"] = True
    # JPEG has no alpha: no-data becomes black there
    return img.render(img_format=driver, colormap=cmap, add_mask=driver != "JPEG", **kwargs)


def tile_image(item: dict[str, Any], z: int, x: int, y: int, req: TileRequest, data_dir: Path, tilesize: int = 256,
               remote_prefixes: Sequence[str] = (), fmt: str = "png") -> bytes:
    """One tile of ``tilesize`` px (256, or 512 for ``@2x``) in ``fmt`` (png, webp, jpg/jpeg; transparent where
    there is no data except in JPEG). :class:`rio_tiler.errors.TileOutsideBounds` (404) outside the item."""
    if tilesize not in TILE_SIZES:
        raise RenderError(f"tile size must be one of {TILE_SIZES}")
    spec = req.resolve(item)

    def read(r: Reader, asset: str, bands: tuple[int, ...]) -> ImageData:
        if not r.tile_exists(x, y, z):
            raise TileOutsideBounds(f"tile {z}/{x}/{y} is outside item {item['id']!r}")
        return r.tile(x, y, z, tilesize=tilesize, indexes=bands)

    img = _combine(spec, _read_images(item, spec, data_dir, remote_prefixes, read))
    return _render(img, spec, fmt)


def tile_png(item: dict[str, Any], z: int, x: int, y: int, req: TileRequest, data_dir: Path, tilesize: int = 256,
             remote_prefixes: Sequence[str] = ()) -> bytes:
    """Render one PNG tile (transparent where there is no data). Asset files must lie in ``data_dir`` or under
    one of ``remote_prefixes`` (see :func:`ingest.items.resolve_href`)."""
    return tile_image(item, z, x, y, req, data_dir, tilesize, remote_prefixes, "png")


def preview_image(item: dict[str, Any], req: TileRequest, data_dir: Path, max_size: int = 1024,
                  remote_prefixes: Sequence[str] = (), fmt: str = "png") -> bytes:
    """The whole item in its own CRS, the longer side ``max_size`` px (at most :data:`MAX_PREVIEW`), from overviews."""
    if not 16 <= max_size <= MAX_PREVIEW:
        raise RenderError(f"max_size must be between 16 and {MAX_PREVIEW}")
    spec = req.resolve(item)
    size: dict[str, int] = {}

    def read(r: Reader, asset: str, bands: tuple[int, ...]) -> ImageData:
        if not size:  # every asset at the first one's size, so that they stack
            scale = max_size / max(r.width, r.height)
            size.update(width=max(1, round(r.width * scale)), height=max(1, round(r.height * scale)))
        return r.preview(indexes=bands, max_size=None, **size)

    img = _combine(spec, _read_images(item, spec, data_dir, remote_prefixes, read))
    return _render(img, spec, fmt)


# --- point values -----------------------------------------------------------------------------------------


def _unit_and_labels(item: dict[str, Any], asset: str, band: int) -> tuple[str | None, dict[float, dict[str, str]] | None]:
    a = item["assets"][asset]
    rbs = a.get("raster:bands") or []
    rb = rbs[band - 1] if band - 1 < len(rbs) else {}
    out = asset_output(item, asset)
    classes = rb.get("classification:classes") or a.get("classification:classes")
    categorical = bool(classes) or bool(out is not None and out.categorical)
    unit = rb.get("unit") or (out.unit if out is not None else None)
    if unit is None and categorical:
        unit = "class"
    labels: dict[float, dict[str, str]] | None = None
    cmap_name = out.colormap if out is not None else None
    if categorical:
        labels = {}
        if out is not None:  # the product's class names (English) as a fallback for values the legend lacks
            for k, name in out.classes.items():
                labels[float(k)] = {"vi": name, "en": name}
        for c in classes or []:
            if isinstance(c, dict) and "value" in c:
                name = c.get("description") or c.get("name")
                if name:
                    labels.setdefault(float(c["value"]), {"vi": str(name), "en": str(name)})
        if cmap_name:
            cm = get_colormap(cmap_name)
            for v, (vi, en) in cm.class_labels.items():
                labels[float(v)] = {"vi": vi, "en": en}
            for e in cm.legend:
                if e.value is not None:
                    labels[float(e.value)] = {"vi": e.label_vi, "en": e.label_en}
    return unit, labels


def point_values(item: dict[str, Any], lon: float, lat: float, data_dir: Path, assets: Sequence[str] = (),
                 remote_prefixes: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The value of every band of ``assets`` (default: every raster asset) at (lon, lat) WGS 84, in the asset's
    units: ``[{"asset", "band", "value" (None for no-data), "unit", "label" ({"vi","en"} or None)}]``.
    A point outside every asset raises :class:`PointOutsideItem` (404); outside one asset only, its value is None."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise RenderError(f"longitude must be within -180..180 and latitude within -90..90, got {lon},{lat}")
    keys = list(assets) or raster_assets(item)
    if not keys:
        raise RenderError(f"item {item['id']!r} has no raster asset")
    for a in keys:
        if a not in item["assets"] or a not in raster_assets(item):
            raise RenderError(f"item {item['id']!r} has no raster asset {a!r} (has: {', '.join(raster_assets(item))})")
    values: list[dict[str, Any]] = []
    inside = False
    for a in keys:
        with _reader(item, a, data_dir, remote_prefixes) as r:
            count = r.dataset.count
            try:
                pt = r.point(lon, lat)
                arr: np.ma.MaskedArray | None = pt.array
                inside = True
            except PointOutsideBounds:
                arr = None
            nodata = r.dataset.nodata
        for b in range(1, count + 1):
            unit, labels = _unit_and_labels(item, a, b)
            v: float | None = None
            if arr is not None and not np.ma.getmaskarray(arr)[b - 1]:
                raw = arr.data[b - 1].item()
                if (nodata is None or raw != nodata) and math.isfinite(float(raw)):
                    v = int(raw) if isinstance(raw, (int, np.integer)) or float(raw).is_integer() and arr.dtype.kind in "iu" else float(raw)
            label = labels.get(float(v)) if (labels is not None and v is not None) else None
            values.append({"asset": a, "band": b, "value": v, "unit": unit, "label": label})
    if not inside:
        raise PointOutsideItem(f"point {lon},{lat} is outside item {item['id']!r}")
    return values


# --- bounds, ETags, cache ---------------------------------------------------------------------------------


def tile_bounds_info(item: dict[str, Any], asset: str, data_dir: Path, remote_prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """Bounds (WGS 84) and the zoom range the asset supports (from its COG overviews)."""
    with _reader(item, asset, data_dir, remote_prefixes) as r:
        return {"bounds": list(r.get_geographic_bounds(WEB_MERCATOR.rasterio_geographic_crs)), "minzoom": r.minzoom, "maxzoom": r.maxzoom}


def item_bounds(item: dict[str, Any], data_dir: Path, remote_prefixes: Sequence[str] = ()) -> dict[str, Any] | None:
    """For a viewer layer: ``{"bounds": [w, s, e, n] (WGS 84, of the item's default layer), "minzoom", "maxzoom"}``
    read from the file, so that clients ask no tile outside the data; None for an item without a raster."""
    spec = default_render(item)
    if spec is None:
        return None
    return tile_bounds_info(item, spec.assets[0], data_dir, remote_prefixes)


def tile_etag(item: dict[str, Any], spec: RenderSpec, data_dir: Path, remote_prefixes: Sequence[str], *parts: Any) -> str:
    """A strong ETag: hash of the item (collection, id, updated), each asset file's href, size and mtime, the
    resolved drawing parameters and ``parts`` (tile address, size, format). Changes whenever the file is rewritten."""
    files = []
    for asset, _, _ in _plan(spec):
        href = item["assets"][asset]["href"]
        if is_remote(href):
            files.append([asset, href])
        else:
            st = os.stat(_href(item, asset, data_dir, remote_prefixes))
            files.append([asset, st.st_size, st.st_mtime_ns])
    props = item.get("properties", {})
    key = [item.get("collection"), item["id"], props.get("updated"), files, sorted(spec.query().items()), [str(p) for p in parts]]
    return '"' + hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32] + '"'


class TileCache:
    """A bounded in-process LRU of rendered tiles keyed by ETag (total bytes ≤ ``max_bytes``). Thread-safe."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self._d: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            v = self._d.get(key)
            if v is None:
                self.misses += 1
                return None
            self._d.move_to_end(key)
            self.hits += 1
            return v

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._d.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._d[key] = value
            self._size += len(value)
            while self._size > self.max_bytes and self._d:
                _, v = self._d.popitem(last=False)
                self._size -= len(v)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._d)

"""Web-Mercator tiles and TileJSON for catalog items, with rio-tiler (no web framework here).

The API passes catalog items in; assets are opened by resolved href (local path or URL), never
by a user-supplied URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import morecantile
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from ingest.items import resolve_href
from maps.colormaps import get_colormap, rio_colormap
from maps.errors import RenderError
from maps.render import RenderSpec, default_render

__all__ = ["TileRequest", "parse_rescale", "tile_png", "tile_bounds_info", "WEB_MERCATOR"]

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


def parse_rescale(value: str | None) -> tuple[float, float] | None:
    if value in (None, ""):
        return None
    try:
        lo, hi = (float(v) for v in str(value).split(","))
    except ValueError as exc:
        raise RenderError(f"rescale must be 'min,max', got {value!r}") from exc
    if not hi > lo:
        raise RenderError(f"rescale max must be greater than min, got {value!r}")
    return (lo, hi)


@dataclass(frozen=True)
class TileRequest:
    """What to draw: which assets, how to stretch them, which colormap. Missing parts come from defaults."""

    assets: tuple[str, ...] = ()
    rescale: tuple[float, float] | None = None
    colormap: str | None = None

    def resolve(self, item: dict[str, Any]) -> RenderSpec:
        default = default_render(item)
        if default is None:
            raise RenderError(f"item {item['id']!r} has no raster asset to draw")
        assets = self.assets or default.assets
        for a in assets:
            if a not in item["assets"]:
                raise RenderError(f"item {item['id']!r} has no asset {a!r} (has: {', '.join(item['assets'])})")
        if len(assets) not in (1, 3):
            raise RenderError("give 1 asset (with an optional colormap) or 3 assets (red, green, blue)")
        same = tuple(assets) == tuple(default.assets)
        colormap = self.colormap if self.colormap is not None else (default.colormap if same else None)
        rescale = self.rescale if self.rescale is not None else (default.rescale if same else None)
        if colormap:
            get_colormap(colormap)  # validates the name
            if len(assets) != 1:
                raise RenderError("a colormap applies to a single asset")
        return RenderSpec(tuple(assets), colormap, rescale)


def _read(item: dict[str, Any], assets: Sequence[str], data_dir: Path, z: int, x: int, y: int, tilesize: int,
          remote_prefixes: Sequence[str] = ()) -> ImageData:
    images = []
    for a in assets:
        href = resolve_href(item["assets"][a]["href"], data_dir, remote_prefixes)
        with Reader(href, tms=WEB_MERCATOR) as r:
            if not r.tile_exists(x, y, z):
                raise TileOutsideBounds(f"tile {z}/{x}/{y} is outside item {item['id']!r}")
            images.append(r.tile(x, y, z, tilesize=tilesize, indexes=1))
    return images[0] if len(images) == 1 else ImageData.create_from_list(images)


def tile_png(item: dict[str, Any], z: int, x: int, y: int, req: TileRequest, data_dir: Path, tilesize: int = 256,
             remote_prefixes: Sequence[str] = ()) -> bytes:
    """Render one PNG tile (transparent where there is no data). Asset files must lie in ``data_dir`` or under
    one of ``remote_prefixes`` (see :func:`ingest.items.resolve_href`)."""
    spec = req.resolve(item)
    img = _read(item, spec.assets, data_dir, z, x, y, tilesize, remote_prefixes)
    if spec.rescale:
        img.rescale(in_range=(spec.rescale,) * img.count)
    elif img.data.dtype.kind == "f":
        raise RenderError("float assets need a rescale range, e.g. rescale=-25,0")
    cmap = rio_colormap(get_colormap(spec.colormap)) if spec.colormap else None
    return img.render(img_format="PNG", colormap=cmap, add_mask=True)


def tile_bounds_info(item: dict[str, Any], asset: str, data_dir: Path, remote_prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """Bounds (WGS 84) and the zoom range the asset supports (from its COG overviews)."""
    href = resolve_href(item["assets"][asset]["href"], data_dir, remote_prefixes)
    with Reader(href, tms=WEB_MERCATOR) as r:
        return {"bounds": list(r.get_geographic_bounds(WEB_MERCATOR.rasterio_geographic_crs)), "minzoom": r.minzoom, "maxzoom": r.maxzoom}

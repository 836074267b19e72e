"""How an item is shown by default (assets, rescale, colormap), per collection, and tile rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maps.colormaps import get_colormap

__all__ = ["RenderSpec", "default_render", "is_raster_item", "raster_assets", "asset_output"]


@dataclass(frozen=True)
class RenderSpec:
    assets: tuple[str, ...]
    colormap: str | None = None
    rescale: tuple[float, float] | None = None
    bidx: tuple[int, ...] = ()  # band indexes of the single asset (default: band 1 of each asset)
    expression: str | None = None  # band math (maps.expression) over the assets / b1..bN

    def query(self) -> dict[str, str]:
        q = {"assets": ",".join(self.assets)}
        if self.bidx:
            q["bidx"] = ",".join(str(b) for b in self.bidx)
        if self.expression:
            q["expression"] = self.expression
        if self.colormap:
            q["colormap"] = self.colormap
        if self.rescale:
            q["rescale"] = f"{self.rescale[0]:g},{self.rescale[1]:g}"
        return q


_COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def is_raster_item(item: dict[str, Any]) -> bool:
    return any(a.get("type", "").startswith("image/tiff") for a in item.get("assets", {}).values())


def raster_assets(item: dict[str, Any]) -> list[str]:
    """The keys of the item's GeoTIFF assets, in the item's order."""
    return [k for k, a in item.get("assets", {}).items() if a.get("type", "").startswith("image/tiff")]


def asset_output(item: dict[str, Any], asset: str) -> Any | None:
    """The product registry's output declaration (``products.registry.OutputSpec``: unit, classes, colormap)
    of ``asset`` when the item is a product, else None."""
    col = item.get("collection", "")
    try:
        from products.registry import algorithms

        for alg in algorithms().values():
            if alg.collection == col:
                for out in alg.outputs:
                    if out.asset == asset:
                        return out
    except Exception:  # pragma: no cover - registry import problems must not break scene rendering
        return None
    return None


def default_render(item: dict[str, Any]) -> RenderSpec | None:
    """The layer a viewer shows for an item: products by their declared colormap, scenes by band."""
    assets = item.get("assets", {})
    if not is_raster_item(item):
        return None
    col = item.get("collection", "")
    if col == "sentinel-1-grd" and "vv" in assets:
        cm = get_colormap("sar-db")
        return RenderSpec(("vv",), None, cm.rescale)
    if col.startswith("sentinel-2") and all(b in assets for b in ("B04", "B03", "B02")):
        return RenderSpec(("B04", "B03", "B02"), None, get_colormap("true-color").rescale)
    # products: the algorithm's first output declares its colormap
    try:
        from products.registry import algorithms

        for alg in algorithms().values():
            if alg.collection == col:
                out = alg.outputs[0]
                if out.asset in assets:
                    return RenderSpec((out.asset,), out.colormap, out.rescale)
    except Exception:  # pragma: no cover - registry import problems must not break scene rendering
        pass
    first = next(k for k, a in assets.items() if a.get("type", "").startswith("image/tiff"))
    rb = (assets[first].get("raster:bands") or [{}])[0]
    stats = rb.get("statistics")
    rescale = (stats["minimum"], stats["maximum"]) if stats else None
    return RenderSpec((first,), "viridis" if rescale else None, rescale)

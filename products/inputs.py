"""Read the input items of a product lazily (dask), on one grid, and say which inputs were warped.

Grid rule: every input is read on the *reference grid*, the grid of the first input item (its first
asset not declared in ``InputSpec.resample``). An asset on another grid is warped onto it (GDAL warped
VRT, chunk by chunk; nearest neighbour for class maps and bit masks, bilinear otherwise) only when

- it is a band of the same item declared by the algorithm as read at a coarser resolution
  (``InputSpec.resample``, e.g. Sentinel-2's 20 m bands onto its 10 m grid): implicit, or
- the caller asked for warping between items (``resample=True``, CLI ``--resample``).

Otherwise the build stops with :class:`~geo.errors.GridMismatch`. Every warped input is listed in the
provenance's ``resampled_inputs`` (``role/asset``, or ``item/asset`` for the members of a series).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from geo.errors import GridMismatch
from geo.grid import Grid
from ingest.catalog.query import parse_datetime
from ingest.items import resolve_href
from products.errors import InvalidInputs
from products.registry import Algorithm, InputSpec

__all__ = ["CHUNK", "asset_is_categorical", "load_asset", "item_grid", "load_inputs", "item_datetime", "item_band_roles", "role_binding"]

CHUNK = 2048

_INT_TYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"}


def asset_is_categorical(asset: Mapping[str, Any]) -> bool:
    """True for class maps and bit masks (SCL, QA): they are resampled by nearest neighbour, never interpolated.

    Explicit when the asset says so (``hpgeo:categorical``, ``classification:*``); otherwise an integer band
    with no spectral or polarisation description and no scale/offset (a class code, not a measurement).
    """
    if "hpgeo:categorical" in asset:
        return bool(asset["hpgeo:categorical"])
    if "classification:classes" in asset or "classification:bitfields" in asset:
        return True
    rb = (asset.get("raster:bands") or [{}])[0]
    measured = "eo:bands" in asset or "sar:polarizations" in asset or "scale" in rb or "offset" in rb
    return rb.get("data_type") in _INT_TYPES and not measured


def load_asset(
    item: dict[str, Any], asset: str, data_dir: Path, chunks: int = CHUNK, like: Grid | None = None, categorical: bool | None = None
) -> Any:
    """Open one asset as a lazy (dask) DataArray (y, x) with its CRS; nodata → NaN for float bands.

    With ``like``, the asset is read on that grid through a GDAL warped VRT (nearest neighbour for
    categorical assets, bilinear otherwise), still chunk by chunk: no stage holds the whole band.
    """
    import rasterio
    import rioxarray
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    if asset not in item["assets"]:
        raise InvalidInputs(f"item {item['id']!r} has no asset {asset!r} (has: {', '.join(item['assets'])})")
    href = resolve_href(item["assets"][asset]["href"], data_dir)
    opts = dict(chunks={"x": chunks, "y": chunks}, masked=False, lock=False)
    da = None
    if like is not None:
        with rasterio.open(href) as src:
            if Grid.from_dataset(src) != like:
                if categorical is None:
                    categorical = asset_is_categorical(item["assets"][asset])
                rs = Resampling.nearest if categorical else Resampling.bilinear
                with WarpedVRT(src, crs=like.crs, transform=like.transform, width=like.width, height=like.height,
                               resampling=rs, src_nodata=src.nodata, nodata=src.nodata) as vrt:
                    da = rioxarray.open_rasterio(vrt, **opts)
    if da is None:
        da = rioxarray.open_rasterio(href, **opts)
    da = da.squeeze("band", drop=True)
    nd = da.rio.nodata
    if nd is not None and np.dtype(da.dtype).kind == "f" and not np.isnan(nd):
        da = da.where(da != nd)
    return da


def item_grid(item: dict[str, Any], asset: str, data_dir: Path) -> Grid:
    """The grid of one asset's file, read from its header."""
    import rasterio

    with rasterio.open(resolve_href(item["assets"][asset]["href"], data_dir)) as src:
        return Grid.from_dataset(src)


def item_datetime(item: dict[str, Any]) -> dt.datetime:
    p = item["properties"]
    return parse_datetime(p.get("datetime") or p["start_datetime"])


def _coarser_band_of(band: Grid, own: Grid) -> bool:
    """``band`` covers ``own``'s extent in its CRS at an equal or coarser resolution (a 20 m band of a 10 m item)."""
    if band.crs != own.crs or abs(band.resolution[0]) < abs(own.resolution[0]) - 1e-9:
        return False
    slack = abs(band.resolution[0])
    return all(abs(a - b) <= slack for a, b in zip(band.bounds, own.bounds))


def item_band_roles(item: Mapping[str, Any]) -> dict[str, str]:
    """{eo:common_name: asset key} of an item's raster assets (from each asset's ``eo:bands``); a role that two
    assets claim is left out (ambiguous)."""
    seen: dict[str, list[str]] = {}
    for key, a in item.get("assets", {}).items():
        for b in a.get("eo:bands") or []:
            if isinstance(b, Mapping) and isinstance(b.get("common_name"), str):
                seen.setdefault(b["common_name"], []).append(key)
    return {r: keys[0] for r, keys in seen.items() if len(keys) == 1}


def role_binding(alg: Algorithm, spec: InputSpec, item: Mapping[str, Any], params: Any) -> dict[str, str]:
    """{asset the algorithm reads: the item's asset} for an item outside ``spec.collections`` that fills the input by
    band role; {} for an item of a declared collection. Refuses, naming what is missing, an item that cannot."""
    cid = item.get("collection")
    if cid in spec.collections:
        return {}
    where = f"{alg.name}: input {spec.role!r} must come from {', '.join(spec.collections)}"
    if not spec.roles:
        raise InvalidInputs(f"{where}, not {cid!r}")
    have = item_band_roles(item)
    need = alg.required_roles(spec, params)
    missing = [r for r in need if r not in have]
    if missing:
        known = ", ".join(f"{a}={r}" for r, a in sorted(have.items())) or "none"
        raise InvalidInputs(
            f"{where} or carry the band roles {', '.join(need)} (eo:common_name); {cid}/{item.get('id')} lacks "
            f"{', '.join(missing)} (its band roles: {known}). Give the roles at ingest (`hpgeo ingest file --bands "
            "blue,green,red,nir`) or in the file's band descriptions")
    return {a: have[r] for a, r in spec.roles if r in have}


class _Reader:
    """Reads the assets of the input items onto the reference grid, applying the grid rule of the module docstring."""

    def __init__(self, alg: Algorithm, data_dir: Path, chunks: int, resample: bool) -> None:
        self.alg, self.data_dir, self.chunks, self.resample = alg, Path(data_dir), chunks, resample
        self.ref: Grid | None = None
        self.ref_name = ""
        self.resampled: list[str] = []

    def item(self, spec: InputSpec, item: dict[str, Any], assets: Sequence[str], label: str) -> dict[str, Any]:
        present = [a for a in assets if a in item["assets"]]
        if not present:
            return {}
        grids = {a: item_grid(item, a, self.data_dir) for a in present}
        main = next((a for a in present if a not in spec.resample), present[0])
        own = grids[main]
        if self.ref is None:
            self.ref, self.ref_name = own, f"{label}/{main} ({item['id']})"
        out: dict[str, Any] = {}
        for a in present:
            g = grids[a]
            if g == self.ref:
                out[a] = load_asset(item, a, self.data_dir, self.chunks)
                continue
            within = a in spec.resample and own == self.ref and _coarser_band_of(g, own)
            if not (within or self.resample):
                what = f"{label}/{a} ({item['id']})"
                raise GridMismatch(
                    f"{self.alg.name}: {what} is on {g}, not on the grid of {self.ref_name}, {self.ref}; "
                    "ask for warping onto that grid explicitly (resample=True, CLI --resample)"
                )
            out[a] = load_asset(item, a, self.data_dir, self.chunks, like=self.ref)
            self.resampled.append(f"{label}/{a}")
        return out


def load_inputs(
    alg: Algorithm,
    items: Mapping[str, Any],
    data_dir: Path,
    chunks: int = CHUNK,
    *,
    params: Any = None,
    resample: bool = False,
) -> tuple[dict[str, dict[str, Any]], Grid, list[str]]:
    """Each asset the run reads (:meth:`Algorithm.input_assets`) of each input, lazily, on the reference grid.

    ``items[role]`` is one item, or for a series input a list of items in date order, whose bands are
    stacked along ``time`` (with an ``item`` coordinate); a band missing from some member is left out.
    Returns ({role: {asset: DataArray}}, the reference grid, the inputs that were warped onto it).
    """
    reader = _Reader(alg, data_dir, chunks, resample)
    loaded: dict[str, dict[str, Any]] = {}
    for spec in alg.inputs:
        if spec.role not in items:
            continue
        assets = alg.input_assets(spec, params) if params is not None else spec.assets
        if spec.series:
            loaded[spec.role] = _stack(reader, spec, list(items[spec.role]), assets, params)
            continue
        bound = role_binding(alg, spec, items[spec.role], params)
        if bound:  # an item bound by band role: its assets read under the names the algorithm reads
            got = reader.item(spec, items[spec.role], [bound[a] for a in assets if a in bound], spec.role)
            loaded[spec.role] = {a: got[bound[a]] for a in assets if a in bound and bound[a] in got}
        else:
            loaded[spec.role] = reader.item(spec, items[spec.role], assets, spec.role)
    if reader.ref is None:
        raise InvalidInputs(f"{alg.name}: the input items have none of the assets it reads")
    return loaded, reader.ref, reader.resampled


def _stack(reader: _Reader, spec: InputSpec, members: list[dict[str, Any]], assets: Sequence[str], params: Any = None) -> dict[str, Any]:
    """Each band of every member on the reference grid, stacked along ``time`` (lazy, warped chunk by chunk).

    A member from outside ``spec.collections`` is bound by its band roles (:func:`role_binding`), member by member, so
    a series of Landsat, VNREDSat-1 or generic 4-band items (with roles) stacks like one of Sentinel-2 items."""
    import xarray as xr

    per_band: dict[str, list[Any]] = {a: [] for a in assets}
    ref = None
    for it in members:
        bound = role_binding(reader.alg, spec, it, params) if params is not None else {}
        if bound:
            got = reader.item(spec, it, [bound[a] for a in assets if a in bound], it["id"])
            bands = {a: got[bound[a]] for a in assets if a in bound and bound[a] in got}
        else:
            bands = reader.item(spec, it, assets, it["id"])
        when = np.datetime64(item_datetime(it).replace(tzinfo=None), "ns")
        for a, da in bands.items():
            if ref is None:
                ref = da
            da = da.assign_coords(x=ref.x, y=ref.y)
            per_band[a].append(da.expand_dims(time=[when]).assign_coords(item=("time", [it["id"]])))
    if ref is None:
        return {}
    return {
        a: xr.concat(v, dim="time").rio.write_crs(ref.rio.crs).rio.write_transform(ref.rio.transform())
        for a, v in per_band.items()
        if len(v) == len(members)
    }

"""Build a registered product from catalog items: load lazily, run, write COGs, record provenance.

The output item id is deterministic (algorithm, version, inputs and parameters hash), so building
twice is a no-op, and every item can be rebuilt from its ``hpgeo:provenance`` alone
(:func:`rebuild`). Files are written before the item, so a crash leaves no item without files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from geo.cog import clean_stale_temporaries, dataarray_to_cog
from geo.crs import WGS84
from geo.grid import Grid
from ingest.catalog.query import parse_datetime
from ingest.items import EXT, RasterAsset, collection, iso, raster_item, resolve_href
from ingest.scene import BandInfo
from products.compute import dask_context
from products.errors import InvalidInputs
from products.registry import Algorithm, get

__all__ = ["build_product", "rebuild", "provenance_hash", "product_collection", "load_asset", "load_inputs", "asset_is_categorical", "item_grid"]

log = logging.getLogger(__name__)

CHUNK = 2048


def provenance_hash(alg: Algorithm, inputs: Mapping[str, tuple[str, str]], params: Mapping[str, Any]) -> str:
    body = {"algorithm": alg.name, "version": alg.version, "inputs": {k: list(v) for k, v in sorted(inputs.items())}, "parameters": params}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def product_collection(alg: Algorithm) -> dict[str, Any]:
    c = collection(
        alg.collection,
        alg.title,
        alg.description.strip().split("\n\n")[0],
        keywords=["hpgeo", "product", alg.name],
        extra={"hpgeo:algorithm": alg.name, "title_vi": alg.title_vi},
    )
    c["item_assets"] = {
        o.asset: {"title": o.description, "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]}
        for o in alg.outputs
    }
    return c


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


def load_inputs(
    alg: Algorithm, items: Mapping[str, dict[str, Any]], data_dir: Path, chunks: int = CHUNK
) -> tuple[dict[str, dict[str, Any]], Grid, list[str]]:
    """Each declared asset of each input item, lazily, on the grid of the first one.

    Returns ({role: {asset: DataArray}}, that grid, the "role/asset" inputs that were warped onto it).
    """
    loaded: dict[str, dict[str, Any]] = {}
    ref_grid: Grid | None = None
    resampled: list[str] = []
    for spec in alg.inputs:
        if spec.role not in items:
            continue
        loaded[spec.role] = {}
        for asset in spec.assets:
            if asset not in items[spec.role]["assets"]:
                continue
            if ref_grid is None:
                da = load_asset(items[spec.role], asset, data_dir, chunks)
                ref_grid = Grid.from_dataarray(da)
            else:
                da = load_asset(items[spec.role], asset, data_dir, chunks, like=ref_grid)
                if item_grid(items[spec.role], asset, data_dir) != ref_grid:
                    resampled.append(f"{spec.role}/{asset}")
            loaded[spec.role][asset] = da
    if ref_grid is None:
        raise InvalidInputs(f"{alg.name}: the input items have none of the assets it reads")
    return loaded, ref_grid, resampled


def build_product(
    name: str,
    inputs: Mapping[str, tuple[str, str]],
    params: Mapping[str, Any] | None,
    *,
    catalog: Any,
    data_dir: Path,
    force: bool = False,
    extra_properties: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
) -> dict[str, Any] | None:
    """Build product ``name`` from ``inputs`` ({role: (collection, item id)}). Returns the item, or None if current.

    ``scheduler``: address of a dask.distributed scheduler (``Settings.dask_scheduler``); None: local threads.
    """
    alg = get(name)
    p = alg.parse_params(params)
    pdict = p.model_dump(mode="json")
    roles = {i.role: i for i in alg.inputs}
    for role in inputs:
        if role not in roles:
            raise InvalidInputs(f"{name}: unknown input role {role!r} (roles: {', '.join(roles)})")
    for spec in alg.inputs:
        if spec.role not in inputs and not spec.optional:
            raise InvalidInputs(f"{name}: input {spec.role!r} is required")
    items: dict[str, dict[str, Any]] = {}
    for role, (cid, iid) in inputs.items():
        if cid not in roles[role].collections:
            raise InvalidInputs(f"{name}: input {role!r} must come from {', '.join(roles[role].collections)}, not {cid!r}")
        items[role] = catalog.get_item(cid, iid)

    phash = provenance_hash(alg, inputs, pdict)
    main_item = items[alg.inputs[0].role]
    when = _item_datetime(main_item)
    item_id = f"{alg.name}-{when:%Y%m%dT%H%M%S}-{phash[:10]}"
    data_dir = Path(data_dir)
    if not force and catalog.has_item(alg.collection, item_id):
        old = catalog.get_item(alg.collection, item_id)
        if old["properties"].get("hpgeo:provenance", {}).get("hash") == phash and all(
            Path(resolve_href(a["href"], data_dir)).exists() for a in old["assets"].values()
        ):
            log.info("products: %s is current, skipped", item_id)
            return None

    with dask_context(scheduler):
        return _build(alg, p, pdict, inputs, items, phash, item_id, when, data_dir, catalog, extra_properties)


def _build(
    alg: Algorithm,
    p: Any,
    pdict: dict[str, Any],
    inputs: Mapping[str, tuple[str, str]],
    items: dict[str, dict[str, Any]],
    phash: str,
    item_id: str,
    when: dt.datetime,
    data_dir: Path,
    catalog: Any = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    name = alg.name
    loaded, ref_grid, resampled = load_inputs(alg, items, data_dir)
    outputs = alg.run(loaded, p)
    for asset, da in outputs.items():
        if Grid.from_dataarray(da) != ref_grid:
            ref_grid.check_same(Grid.from_dataarray(da), f"{name} output {asset!r} and its inputs")

    out_dir = data_dir / "products" / alg.collection / item_id
    clean_stale_temporaries(out_dir)
    assets: dict[str, RasterAsset] = {}
    stats: dict[str, Any] = {}
    diagnostics: dict[str, Any] = {}
    for spec in alg.outputs:
        da = outputs[spec.asset]
        diagnostics.update(da.attrs.pop("hpgeo:diagnostics", {}) or {})
        rel = Path("products") / alg.collection / item_id / f"{spec.asset}.tif"
        dataarray_to_cog(
            data_dir / rel,
            da.astype(spec.dtype),
            nodata=spec.nodata,
            band_names=[spec.asset],
            tags={"HPGEO_ALGORITHM": f"{alg.name} {alg.version}", "HPGEO_ITEM": item_id},
            overview_resampling="mode" if spec.categorical else "average",
        )
        grid = Grid.from_dataarray(da)
        extra: dict[str, Any] = {}
        if spec.categorical:
            extra["classification:classes"] = [{"value": int(k), "name": v.replace(" ", "-"), "description": v} for k, v in spec.classes.items()]
            stats[spec.asset] = _class_areas(data_dir / rel, spec, grid)
        band = BandInfo(spec.asset, spec.description, unit=spec.unit, nodata=spec.nodata, categorical=spec.categorical)
        assets[spec.asset] = RasterAsset(href=rel.as_posix(), grid=grid, band=band, dtype=spec.dtype, title=spec.description, extra=extra)
    footprint = next(iter(assets.values())).grid.footprint(WGS84)
    provenance = {
        "hash": phash,
        "algorithm": alg.name,
        "version": alg.version,
        "parameters": pdict,
        "inputs": {role: {"collection": c, "id": i} for role, (c, i) in inputs.items()},
        "resampled_inputs": resampled,
    }
    simulated = any(it["properties"].get("hpgeo:simulated") for it in items.values())
    props: dict[str, Any] = {
        "title": f"{alg.title} — {when:%Y-%m-%d}",
        "processing:lineage": f"{alg.name} {alg.version} on " + ", ".join(f"{r}={c}/{i}" for r, (c, i) in inputs.items()),
        "processing:software": {"hpgeo": _version(), alg.name: alg.version},
        "processing:datetime": iso(dt.datetime.now(dt.timezone.utc)),
        "hpgeo:provenance": provenance,
        "hpgeo:diagnostics": diagnostics,
        "hpgeo:statistics": stats,
        **dict(extra_properties or {}),
    }
    times = [_item_datetime(it) for it in items.values()]
    item = raster_item(
        item_id=item_id,
        collection_id=alg.collection,
        datetime=when,
        start=min(times),
        end=max(times),
        footprint=footprint,
        assets=assets,
        properties=props,
        extensions=[EXT["processing"], EXT["classification"]],
        simulated=simulated,
    )
    item["links"] = [
        {"rel": "derived_from", "href": f"../../{c}/items/{i}", "title": f"{r}: {i}", "hpgeo:collection": c, "hpgeo:item": i}
        for r, (c, i) in inputs.items()
    ]
    catalog.put_collection(product_collection(alg), kind="product")
    catalog.put_items([item])
    log.info("products: built %s (%s)", item_id, ", ".join(f"{k}={v}" for k, v in diagnostics.items() if v is not None))
    return item


def rebuild(item: dict[str, Any], *, catalog: Any, data_dir: Path) -> dict[str, Any] | None:
    """Rebuild a product item from its recorded provenance (forced)."""
    prov = item["properties"]["hpgeo:provenance"]
    if getattr(get(prov["algorithm"]), "multi_date", False):
        from products.shoreline_build import rebuild_shoreline

        return rebuild_shoreline(item, catalog=catalog, data_dir=data_dir)
    inputs = {r: (v["collection"], v["id"]) for r, v in prov["inputs"].items()}
    return build_product(prov["algorithm"], inputs, prov["parameters"], catalog=catalog, data_dir=data_dir, force=True)


def _item_datetime(item: dict[str, Any]) -> dt.datetime:
    p = item["properties"]
    return parse_datetime(p.get("datetime") or p["start_datetime"])


def _class_areas(path: Path, spec: Any, grid: Grid) -> dict[str, Any]:
    """Pixel counts and hectares per class, read back from the written COG (block by block)."""
    import rasterio

    counts = np.zeros(256, np.int64)
    with rasterio.open(path) as ds:
        for _, win in ds.block_windows(1):
            counts += np.bincount(ds.read(1, window=win).ravel(), minlength=256)[:256]
    ha = grid.pixel_area / 1e4
    return {
        spec.classes[k]: {"pixels": int(counts[k]), "hectares": round(float(counts[k] * ha), 2)}
        for k in spec.classes
        if k != spec.nodata
    }


def _version() -> str:
    from base import __version__

    return __version__

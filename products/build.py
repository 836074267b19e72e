"""Build a registered product from catalog items: load lazily, run, write COGs, record provenance.

One engine for single-scene products and for products of a dated series (an input declared with
``InputSpec(series=True)``, e.g. ``shoreline``): the same lazy loading (:mod:`products.inputs`, with its
grid rule), the same ``dask_context(scheduler)``, provenance hash, deterministic id and rebuild.
Algorithms add non-raster assets and provenance through their declared hooks
(:class:`~products.registry.Algorithm`).

The output item id is deterministic (algorithm, version, inputs and parameters hash): building twice
is a no-op, and every item can be rebuilt from its ``hpgeo:provenance`` alone (:func:`rebuild`). Ids are
``<name>-<YYYYmmddTHHMMSS>-<hash10>`` (the first input's time), or ``<name>-<YYYYmmdd>-<YYYYmmdd>-<hash10>``
(first and last date) for a series. Files are written before the item, so a crash leaves no item without files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from geo.cog import clean_stale_temporaries, dataarray_to_cog
from geo.crs import WGS84
from geo.grid import Grid
from geo.tempfiles import is_temporary
from ingest.items import EXT, RasterAsset, class_name, collection, iso, raster_item, resolve_href
from ingest.scene import BandInfo
from products.compute import dask_context
from products.errors import InvalidInputs
from products.inputs import CHUNK, asset_is_categorical, item_datetime, item_grid, load_asset, load_inputs, role_binding
from products.registry import SERIES_KEY, Algorithm, get

__all__ = [
    "build_product", "rebuild", "inputs_of", "provenance_hash", "product_collection", "prepare", "Prepared",
    "load_asset", "load_inputs", "asset_is_categorical", "item_grid", "CHUNK",
]

log = logging.getLogger(__name__)

Ref = tuple[str, str]


def provenance_hash(alg: Algorithm, inputs: Mapping[str, Ref], params: Mapping[str, Any]) -> str:
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
    c["item_assets"].update({e.key: {"title": e.title, "type": e.media_type, "roles": ["data"]} for e in alg.extra_assets})
    return c


class Prepared:
    """A validated build request: parameters, the input items, the recorded inputs, hash and item id."""

    def __init__(self, alg: Algorithm, params: Any, items: dict[str, Any], flat: dict[str, Ref], extra: dict[str, Any], data_dir: Path) -> None:
        self.alg, self.params, self.items, self.flat, self.extra, self.data_dir = alg, params, items, flat, extra, data_dir
        self.pdict: dict[str, Any] = params.model_dump(mode="json")
        self.hash = provenance_hash(alg, flat, {**self.pdict, **extra} if extra else self.pdict)
        self.times = [item_datetime(it) for it in self.all_items()]
        series = alg.series_input()
        if series is not None:
            dates = [item_datetime(it) for it in items[series.role]]
            self.first, self.last = dates[0], dates[-1]
            self.when = self.last
            self.id = f"{alg.name}-{self.first:%Y%m%d}-{self.last:%Y%m%d}-{self.hash[:10]}"
        else:
            self.when = item_datetime(items[alg.inputs[0].role])
            self.first = self.last = self.when
            self.id = f"{alg.name}-{self.when:%Y%m%dT%H%M%S}-{self.hash[:10]}"

    def all_items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for v in self.items.values():
            out += v if isinstance(v, list) else [v]
        return out

    def is_current(self, catalog: Any) -> bool:
        if not catalog.has_item(self.alg.collection, self.id):
            return False
        old = catalog.get_item(self.alg.collection, self.id)
        return old["properties"].get("hpgeo:provenance", {}).get("hash") == self.hash and all(
            Path(resolve_href(a["href"], self.data_dir)).exists() for a in old["assets"].values()
        )


def prepare(name: str, inputs: Mapping[str, Any], params: Mapping[str, Any] | None, *, catalog: Any, data_dir: Path) -> Prepared:
    """Validate a build request (parameters, roles, collections, series) and read its input items; nothing is computed."""
    alg = get(name)
    p = alg.parse_params(params)
    roles = {i.role: i for i in alg.inputs}
    for role in inputs:
        if role not in roles:
            raise InvalidInputs(f"{name}: unknown input role {role!r} (roles: {', '.join(roles)})")
    for spec in alg.inputs:
        if spec.role not in inputs and not spec.optional:
            raise InvalidInputs(f"{name}: input {spec.role!r} is required")
    items: dict[str, Any] = {}
    flat: dict[str, Ref] = {}
    for role, ref in inputs.items():
        spec = roles[role]
        refs = _refs(name, role, ref, spec.series)
        if spec.series and len(refs) < max(spec.min_items, 1):
            raise InvalidInputs(f"{name}: input {role!r} is a dated series: give {spec.min_items} or more distinct items (got {len(refs)})")
        got = []
        for cid, iid in refs:
            if cid not in spec.collections and not spec.roles:
                raise InvalidInputs(f"{name}: input {role!r} must come from {', '.join(spec.collections)}, not {cid!r}")
            got.append(catalog.get_item(cid, iid))
            role_binding(alg, spec, got[-1], p)  # an item of another collection must carry the band roles
        if spec.series:
            got.sort(key=item_datetime)
            items[role] = got
            flat.update({f"t{k:02d}": (it["collection"], it["id"]) for k, it in enumerate(got)})
        else:
            items[role] = got[0]
            flat[role] = refs[0]
    data_dir = Path(data_dir)
    return Prepared(alg, p, items, flat, alg.extra_provenance(p, data_dir), data_dir)


def _refs(name: str, role: str, ref: Any, series: bool) -> list[Ref]:
    def one(r: Any) -> Ref:
        if not (isinstance(r, (tuple, list)) and len(r) == 2 and all(isinstance(x, str) for x in r)):
            raise InvalidInputs(f"{name}: input {role!r} takes (collection, item id), got {r!r}")
        return (r[0], r[1])

    if not series:
        return [one(ref)]
    if isinstance(ref, (tuple, list)) and len(ref) == 2 and all(isinstance(x, str) for x in ref):
        return [one(ref)]
    if not isinstance(ref, Sequence) or isinstance(ref, str):
        raise InvalidInputs(f"{name}: input {role!r} is a series: give a list of (collection, item id)")
    return list(dict.fromkeys(one(r) for r in ref))


def build_product(
    name: str,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any] | None,
    *,
    catalog: Any,
    data_dir: Path,
    force: bool = False,
    extra_properties: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    resample: bool = False,
) -> dict[str, Any] | None:
    """Build product ``name`` from ``inputs`` and return the item, or None if it is current.

    ``inputs``: {role: (collection, item id)}, and for a series role a list of them (any order, ≥ ``min_items``
    distinct). ``scheduler``: address of a dask.distributed scheduler (``Settings.dask_scheduler``); None:
    local threads. ``resample``: warp input items on other grids onto the first one's (else
    :class:`~geo.errors.GridMismatch`); an algorithm's own coarser bands are always read onto their item's grid.
    """
    req = prepare(name, inputs, params, catalog=catalog, data_dir=data_dir)
    if not force and req.is_current(catalog):
        log.info("products: %s is current, skipped", req.id)
        return None
    with dask_context(scheduler):
        return _build(req, catalog, extra_properties, resample)


def _build(req: Prepared, catalog: Any, extra_properties: Mapping[str, Any] | None, resample: bool) -> dict[str, Any]:
    alg, p, data_dir, item_id = req.alg, req.params, req.data_dir, req.id
    loaded, ref_grid, resampled = load_inputs(alg, req.items, data_dir, params=p, resample=resample)
    outputs = alg.run({**loaded, **alg.extra_inputs(p, data_dir)}, p)
    for spec in alg.outputs:
        if spec.asset not in outputs:
            raise InvalidInputs(f"{alg.name}: the run produced no {spec.asset!r}")
        g = Grid.from_dataarray(outputs[spec.asset])
        if g != ref_grid:
            ref_grid.check_same(g, f"{alg.name} output {spec.asset!r} and its inputs")

    rel_dir = Path("products") / alg.collection / item_id
    out_dir = data_dir / rel_dir
    clean_stale_temporaries(out_dir)
    try:
        return _write(req, catalog, outputs, rel_dir, resampled, extra_properties, resample)
    except BaseException:
        _discard(catalog, alg.collection, item_id, out_dir)
        raise


def _discard(catalog: Any, collection_id: str, item_id: str, out_dir: Path) -> None:
    """After a failed build: remove the item's final files, unless the catalog holds the item (a forced
    rebuild of a recorded item keeps its files); no final file without its record is left behind.
    Temporaries are :mod:`geo.tempfiles`' business (a live writer's are not touched)."""
    import contextlib

    with contextlib.suppress(Exception):
        if catalog.has_item(collection_id, item_id):
            return
    if not out_dir.is_dir():
        return
    for p in out_dir.iterdir():
        if p.is_file() and is_temporary(p.name) is None:
            p.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        out_dir.rmdir()  # only when empty
    log.warning("products: build of %s failed; its files were removed", item_id)


def _write(req: Prepared, catalog: Any, outputs: dict[str, Any], rel_dir: Path, resampled: Any,
           extra_properties: Mapping[str, Any] | None, resample: bool) -> dict[str, Any]:
    """Write the assets (each atomically), then the item: files first, the record last."""
    alg, data_dir, item_id = req.alg, req.data_dir, req.id
    out_dir = data_dir / rel_dir
    assets: dict[str, RasterAsset] = {}
    stats: dict[str, Any] = {}
    diagnostics: dict[str, Any] = {}
    simulated = any(it["properties"].get("hpgeo:simulated") for it in req.all_items())
    for spec in alg.outputs:
        da = outputs[spec.asset]
        diagnostics.update(da.attrs.pop("hpgeo:diagnostics", {}) or {})
        rel = rel_dir / f"{spec.asset}.tif"
        dataarray_to_cog(
            data_dir / rel,
            da.astype(spec.dtype),
            nodata=spec.nodata,
            band_names=[spec.asset],
            tags={"HPGEO_ALGORITHM": f"{alg.name} {alg.version}", "HPGEO_ITEM": item_id, "HPGEO_SIMULATED": "yes" if simulated else "no"},
            overview_resampling="mode" if spec.categorical else "average",
        )
        grid = Grid.from_dataarray(da)
        extra: dict[str, Any] = {}
        if spec.categorical:
            extra["classification:classes"] = [{"value": int(k), "name": class_name(v), "description": v} for k, v in spec.classes.items()]
            stats[spec.asset] = _class_areas(data_dir / rel, spec, grid)
        band = BandInfo(spec.asset, spec.description, unit=spec.unit, nodata=spec.nodata, categorical=spec.categorical)
        assets[spec.asset] = RasterAsset(href=rel.as_posix(), grid=grid, band=band, dtype=spec.dtype, title=spec.description, extra=extra)
    extra_assets: dict[str, dict[str, Any]] = {}
    if alg.extra_assets:
        alg.write_extra_assets(outputs, out_dir)
        extra_assets = {e.key: {"href": (rel_dir / e.filename).as_posix(), "type": e.media_type, "title": e.title, "roles": ["data"]} for e in alg.extra_assets}
    stats.update(alg.statistics(outputs))
    footprint = next(iter(assets.values())).grid.footprint(WGS84)
    provenance = {
        "hash": req.hash,
        "algorithm": alg.name,
        "version": alg.version,
        "parameters": req.pdict,
        "inputs": {role: {"collection": c, "id": i} for role, (c, i) in req.flat.items()},
        "resampled_inputs": resampled,
        "resample": bool(resample),
        **req.extra,
    }
    all_items = req.all_items()
    series = alg.series_input()
    if series is not None:
        title = f"{alg.title} — {req.first:%Y-%m-%d}…{req.last:%Y-%m-%d}"
        n = len(req.items[series.role])
        lineage = f"{alg.name} {alg.version} on {n} {series.role}: " + ", ".join(it["id"] for it in req.items[series.role])
        others = [f"{r}={c}/{i}" for r, (c, i) in req.flat.items() if not SERIES_KEY.match(r)]
        lineage += "; " + ", ".join(others) if others else ""
    else:
        title = f"{alg.title} — {req.when:%Y-%m-%d}"
        lineage = f"{alg.name} {alg.version} on " + ", ".join(f"{r}={c}/{i}" for r, (c, i) in req.flat.items())
    props: dict[str, Any] = {
        "title": title,
        "processing:lineage": lineage,
        "processing:software": {"hpgeo": _version(), alg.name: alg.version},
        "processing:datetime": iso(dt.datetime.now(dt.timezone.utc)),
        "hpgeo:provenance": provenance,
        "hpgeo:diagnostics": diagnostics,
        "hpgeo:statistics": stats,
        **dict(extra_properties or {}),
    }
    item = raster_item(
        item_id=item_id,
        collection_id=alg.collection,
        datetime=req.when,
        start=min(req.times),
        end=max(req.times),
        footprint=footprint,
        assets=assets,
        properties=props,
        extensions=[EXT["processing"]] + ([EXT["classification"]] if any(o.categorical for o in alg.outputs) else []),
        simulated=simulated,
        extra_assets=extra_assets or None,
    )
    item["links"] = [
        {"rel": "derived_from", "href": f"../../{c}/items/{i}", "title": f"{r}: {i}", "hpgeo:collection": c, "hpgeo:item": i}
        for r, (c, i) in req.flat.items()
    ]
    catalog.put_collection(product_collection(alg), kind="product")
    catalog.put_items([item])
    log.info("products: built %s (%s)", item_id, ", ".join(f"{k}={v}" for k, v in diagnostics.items() if not isinstance(v, (dict, list)) and v is not None))
    return item


def inputs_of(item: dict[str, Any]) -> dict[str, Any]:
    """The ``inputs`` argument of :func:`build_product` recorded in a product item's provenance."""
    prov = item.get("properties", {}).get("hpgeo:provenance")
    if not isinstance(prov, Mapping) or "algorithm" not in prov:
        raise InvalidInputs(f"{item.get('collection')}/{item.get('id')} is not a product item (no hpgeo:provenance)")
    series = get(prov["algorithm"]).series_input()
    out: dict[str, Any] = {}
    for key, v in sorted(prov["inputs"].items()):
        ref = (v["collection"], v["id"])
        if series is not None and SERIES_KEY.match(key):
            out.setdefault(series.role, []).append(ref)
        else:
            out[key] = ref
    return out


def rebuild(item: dict[str, Any], *, catalog: Any, data_dir: Path, scheduler: str | None = None, force: bool = True) -> dict[str, Any] | None:
    """Rebuild a product item from its recorded provenance, single-scene or series alike (forced by default;
    with ``force=False`` None when the item with that provenance is current).

    Warping between items is allowed when the item was built with it (``resample``; items recorded before
    that flag: when any input was warped)."""
    inputs = inputs_of(item)
    prov = item["properties"]["hpgeo:provenance"]
    resample = bool(prov.get("resample", bool(prov.get("resampled_inputs"))))
    return build_product(prov["algorithm"], inputs, prov["parameters"], catalog=catalog, data_dir=data_dir, force=force,
                         scheduler=scheduler, resample=resample)


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

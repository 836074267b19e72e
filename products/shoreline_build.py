"""Build the ``shoreline`` product from a dated series of Sentinel-2 items: files first, then the item.

Assets of a shoreline item (all under ``products/shoreline/<item id>/``):
- ``rate``: COG, float32, LRR (m/yr) on each transect's alongshore cell (the map layer, colormap
  ``shoreline-rate``);
- ``shorelines``: GeoJSON (WGS 84), one MultiLineString per date with its level, bimodality, tide;
- ``transects``: GeoJSON (WGS 84), transects with NSM, EPR, LRR, r², SE, LCI95, SCE;
- ``positions``: CSV, chainage (m) per date × transect (raw and as used, tide-corrected);
- ``vectors``: GeoPackage (EPSG:32648) with layers ``shorelines``, ``transects``, ``baseline``.

The item id is deterministic (dates + provenance hash, including the tide file's checksum), so a
second build is a no-op, and :func:`rebuild_shoreline` rebuilds from ``hpgeo:provenance`` alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr

from geo.cog import clean_stale_temporaries, dataarray_to_cog
from geo.crs import WGS84
from geo.grid import Grid
from ingest.items import EXT, RasterAsset, iso, raster_item, resolve_href
from ingest.scene import BandInfo
from products.build import item_grid, load_asset, product_collection, provenance_hash
from products.errors import InvalidInputs
from products.registry import get
from products.shoreline import ShorelineAnalysis
from products.tide import TideError, read_water_levels

__all__ = ["build_shoreline", "rebuild_shoreline", "VECTOR_ASSETS"]

GEOJSON, GPKG, CSV = "application/geo+json", "application/geopackage+sqlite3", "text/csv"
VECTOR_ASSETS = {
    "shorelines": ("shorelines.geojson", GEOJSON, "Waterline per date (WGS 84)"),
    "transects": ("transects.geojson", GEOJSON, "Transects with DSAS change statistics (WGS 84)"),
    "positions": ("positions.csv", CSV, "Shoreline chainage (m from transect origin) per date and transect"),
    "vectors": ("shoreline.gpkg", GPKG, "Shorelines, transects and baseline (EPSG:32648)"),
}


def build_shoreline(
    scenes: Sequence[tuple[str, str]],
    params: Mapping[str, Any] | None,
    *,
    catalog: Any,
    data_dir: Path,
    force: bool = False,
) -> dict[str, Any] | None:
    """Build a shoreline item from ``scenes`` ([(collection, item id)], ≥ 2 dates). None when already current."""
    alg = get("shoreline")
    p = alg.parse_params(params)
    pdict = p.model_dump(mode="json")
    data_dir = Path(data_dir)
    spec = alg.inputs[0]
    if len(set(scenes)) < 2:
        raise InvalidInputs("shoreline: give two or more distinct dated scenes")
    items = []
    for cid, iid in dict.fromkeys(scenes):
        if cid not in spec.collections:
            raise InvalidInputs(f"shoreline: scenes must come from {', '.join(spec.collections)}, not {cid!r}")
        items.append(catalog.get_item(cid, iid))
    items.sort(key=_when)
    tide_path, tide_sha = None, None
    if p.tide_series:
        tide_path = data_dir / "tides" / p.tide_series
        if not tide_path.is_file():
            raise TideError(f"shoreline: no water-level series {p.tide_series!r} in {data_dir / 'tides'}")
        tide_sha = hashlib.sha256(tide_path.read_bytes()).hexdigest()
    roles = {f"t{k:02d}": (it["collection"], it["id"]) for k, it in enumerate(items)}
    phash = provenance_hash(alg, roles, {**pdict, "tide_series_sha256": tide_sha})
    first, last = _when(items[0]), _when(items[-1])
    item_id = f"shoreline-{first:%Y%m%d}-{last:%Y%m%d}-{phash[:10]}"
    if not force and catalog.has_item(alg.collection, item_id):
        old = catalog.get_item(alg.collection, item_id)
        if old["properties"].get("hpgeo:provenance", {}).get("hash") == phash and all(
            Path(resolve_href(a["href"], data_dir)).exists() for a in old["assets"].values()
        ):
            return None

    other = "B11" if p.index == "mndwi" else "B08"
    stacked, resampled = _stack(items, ("B03", other, "SCL"), data_dir)
    tides = {"levels": read_water_levels(tide_path)} if tide_path else {}
    out = alg.run({"scenes": stacked, "tides": tides}, p)
    analysis: ShorelineAnalysis = out["analysis"]
    rate: xr.DataArray = out["rate"]

    rel_dir = Path("products") / alg.collection / item_id
    out_dir = data_dir / rel_dir
    clean_stale_temporaries(out_dir)
    ospec = alg.outputs[0]
    dataarray_to_cog(
        out_dir / "rate.tif", rate.astype("float32"), nodata=ospec.nodata, band_names=["rate"],
        tags={"HPGEO_ALGORITHM": f"{alg.name} {alg.version}", "HPGEO_ITEM": item_id}, overview_resampling="average",
    )
    _write_vectors(analysis, out_dir)
    grid = Grid.from_dataarray(rate)
    band = BandInfo("rate", ospec.description, unit=ospec.unit, nodata=ospec.nodata)
    assets = {"rate": RasterAsset(href=(rel_dir / "rate.tif").as_posix(), grid=grid, band=band, dtype="float32", title=ospec.description)}
    extra_assets = {
        key: {"href": (rel_dir / fname).as_posix(), "type": mtype, "title": title, "roles": ["data"]}
        for key, (fname, mtype, title) in VECTOR_ASSETS.items()
    }
    provenance = {
        "hash": phash,
        "algorithm": alg.name,
        "version": alg.version,
        "parameters": pdict,
        "inputs": {r: {"collection": c, "id": i} for r, (c, i) in roles.items()},
        "resampled_inputs": resampled,
        "tide_series_sha256": tide_sha,
    }
    simulated = any(it["properties"].get("hpgeo:simulated") for it in items)
    props = {
        "title": f"{alg.title} — {first:%Y-%m-%d}…{last:%Y-%m-%d}",
        "processing:lineage": f"{alg.name} {alg.version} on {len(items)} scenes: " + ", ".join(i for _, i in roles.values()),
        "processing:software": {"hpgeo": _version(), alg.name: alg.version},
        "processing:datetime": iso(dt.datetime.now(dt.timezone.utc)),
        "hpgeo:provenance": provenance,
        "hpgeo:diagnostics": analysis.diagnostics,
        "hpgeo:statistics": {"rate": _summary(analysis)},
    }
    item = raster_item(
        item_id=item_id, collection_id=alg.collection, datetime=last, start=first, end=last,
        footprint=grid.footprint(WGS84), assets=assets, properties=props, extensions=[EXT["processing"]],
        simulated=simulated, extra_assets=extra_assets,
    )
    item["links"] = [
        {"rel": "derived_from", "href": f"../../{c}/items/{i}", "title": f"{r}: {i}", "hpgeo:collection": c, "hpgeo:item": i}
        for r, (c, i) in roles.items()
    ]
    coll = product_collection(alg)
    coll["item_assets"].update({k: {"title": t, "type": m, "roles": ["data"]} for k, (_, m, t) in VECTOR_ASSETS.items()})
    catalog.put_collection(coll, kind="product")
    catalog.put_items([item])
    return item


def rebuild_shoreline(item: dict[str, Any], *, catalog: Any, data_dir: Path) -> dict[str, Any] | None:
    """Rebuild a shoreline item from its recorded provenance (forced)."""
    prov = item["properties"]["hpgeo:provenance"]
    scenes = [(v["collection"], v["id"]) for _, v in sorted(prov["inputs"].items())]
    return build_shoreline(scenes, prov["parameters"], catalog=catalog, data_dir=data_dir, force=True)


def _when(item: dict[str, Any]) -> dt.datetime:
    from ingest.catalog.query import parse_datetime

    p = item["properties"]
    return parse_datetime(p.get("datetime") or p["start_datetime"])


def _stack(items: list[dict[str, Any]], bands: tuple[str, ...], data_dir: Path) -> tuple[dict[str, xr.DataArray], list[str]]:
    """Each band of every item on the first item's B03 grid, stacked along ``time`` (lazy, warped chunk by chunk)."""
    ref = load_asset(items[0], "B03", data_dir)
    ref_grid = Grid.from_dataarray(ref)
    out: dict[str, list[xr.DataArray]] = {b: [] for b in bands}
    resampled: list[str] = []
    for it in items:
        for b in bands:
            if b not in it["assets"]:
                if b == "SCL":
                    continue
                raise InvalidInputs(f"shoreline: item {it['id']!r} has no band {b}")
            da = load_asset(it, b, data_dir, like=ref_grid, categorical=True if b == "SCL" else None)
            if item_grid(it, b, data_dir) != ref_grid:
                resampled.append(f"{it['id']}/{b}")
            da = da.assign_coords(x=ref.x, y=ref.y)
            out[b].append(da.expand_dims(time=[np.datetime64(_when(it).replace(tzinfo=None), "ns")]).assign_coords(item=("time", [it["id"]])))
    stacked = {b: xr.concat(v, dim="time").rio.write_crs(ref.rio.crs).rio.write_transform(ref.rio.transform()) for b, v in out.items() if len(v) == len(items)}
    return stacked, resampled


def _summary(a: ShorelineAnalysis) -> dict[str, Any]:
    lrr = np.array([s.lrr for s in a.stats])
    ci = np.array([s.ci95 for s in a.stats])
    ok = np.isfinite(lrr)
    if not ok.any():
        return {"transects": len(lrr), "with_rates": 0}
    return {
        "transects": len(lrr),
        "with_rates": int(ok.sum()),
        "lrr_mean_m_per_yr": round(float(lrr[ok].mean()), 3),
        "lrr_min_m_per_yr": round(float(lrr[ok].min()), 3),
        "lrr_max_m_per_yr": round(float(lrr[ok].max()), 3),
        "eroding_significant": int(((lrr + ci) < 0)[ok].sum()),
        "accreting_significant": int(((lrr - ci) > 0)[ok].sum()),
    }


def _frames(a: ShorelineAnalysis) -> tuple[Any, Any, Any]:
    import geopandas as gpd
    from shapely.geometry import LineString

    sl = gpd.GeoDataFrame(
        {
            "date": [str(np.datetime_as_string(s.time, unit="s")) + "Z" for s in a.shorelines],
            "item": [s.item for s in a.shorelines],
            "level": [s.level for s in a.shorelines],
            "bimodality": [s.eta for s in a.shorelines],
            "tide_m": [s.tide_m for s in a.shorelines],
            "used": [s.used for s in a.shorelines],
        },
        geometry=[s.geometry for s in a.shorelines],
        crs=a.crs,
    )
    rows = [{"name": t.name, "along_m": round(t.along, 2), **st.as_dict()} for t, st in zip(a.transects, a.stats)]
    tr = gpd.GeoDataFrame(rows, geometry=[t.line for t in a.transects], crs=a.crs)
    bl = gpd.GeoDataFrame({"name": ["baseline"]}, geometry=[LineString(a.baseline.coords)], crs=a.crs)
    return sl, tr, bl


def _write_vectors(a: ShorelineAnalysis, out_dir: Path) -> None:
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".*.hpgeo-tmp.*"):  # left by a killed writer
        stale.unlink(missing_ok=True)
    sl, tr, bl = _frames(a)
    for gdf, fname in ((sl, "shorelines.geojson"), (tr, "transects.geojson")):
        _atomic(out_dir / fname, lambda tmp, g=gdf: g.to_crs(WGS84).to_file(tmp, driver="GeoJSON"))

    def gpkg(tmp: Path) -> None:
        sl.to_file(tmp, layer="shorelines", driver="GPKG")
        tr.to_file(tmp, layer="transects", driver="GPKG")
        bl.to_file(tmp, layer="baseline", driver="GPKG")

    _atomic(out_dir / "shoreline.gpkg", gpkg)
    dates = [str(np.datetime_as_string(s.time, unit="s")) + "Z" for s in a.shorelines]
    names = [t.name for t in a.transects]
    raw = pd.DataFrame(a.raw_positions, columns=[f"{n}_raw" for n in names])
    used = pd.DataFrame(a.positions, columns=names)
    table = pd.concat([pd.DataFrame({"dates": dates, "tide_m": [s.tide_m for s in a.shorelines]}), used, raw], axis=1)
    _atomic(out_dir / "positions.csv", lambda tmp: table.to_csv(tmp, index=False, float_format="%.3f"))


def _atomic(dst: Path, write: Any) -> None:
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.hpgeo-tmp{dst.suffix}")
    try:
        write(tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


def _version() -> str:
    from base import __version__

    return __version__

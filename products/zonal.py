"""Coverage-weighted zonal statistics of product rasters per administrative unit (exactextract).

For each unit polygon, exactextract weights every cell by the fraction of it the polygon covers
(Baston 2022), so units that partition a raster share its cells exactly and their areas add up to the
raster's total. Class maps give, per class, hectares = Σ coverage × cell area over the cells of that
class, and the fraction of the unit's valid (not no-data) area; continuous rasters give the
coverage-weighted mean and the min / max. Areas need a projected CRS in metres: a geographic raster is
refused rather than measured in square degrees.

Units are the AOIs valid on the product's date: imported ones (``hpgeo aoi import``, e.g. the 114
post-2025 communes, wards and special zones once their geometry exists) or the project's built-in AOIs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

import numpy as np

from geo.aoi import AOI
from ingest.catalog.query import parse_datetime
from ingest.items import resolve_href
from products.errors import InvalidInputs, ProductError
from products.stats_models import store_stats

__all__ = ["UnitsKind", "NoUnits", "zonal_stats", "select_units", "item_zonal_stats"]

UnitsKind = Literal["aoi", "imported"]


class NoUnits(ProductError):
    """No unit of the requested kind overlaps the product."""


def zonal_stats(
    raster: str | Path,
    units: Iterable[AOI],
    *,
    classes: Mapping[int, str] | None = None,
    nodata: float | int | None = None,
) -> list[dict[str, Any]]:
    """Per-unit statistics of a single-band raster (rows ready for :func:`products.stats_models.store_stats`).

    ``classes`` (value → name) makes it a class map: one row per unit and class (0 ha when absent);
    otherwise one row per unit with coverage-weighted mean, min and max. Hectares from the cell size.
    """
    import geopandas as gpd
    import rasterio
    from exactextract import exact_extract

    units = list(units)
    with rasterio.open(raster) as ds:
        crs, transform = ds.crs, ds.transform
        raster_nodata = ds.nodata
    if crs is None or not crs.is_projected:
        raise InvalidInputs(f"{raster}: zonal areas need a projected CRS in metres, not {crs}")
    if abs(crs.linear_units_factor[1] - 1.0) > 1e-9:
        raise InvalidInputs(f"{raster}: CRS units are {crs.linear_units_factor[0]}, not metres")
    cell_ha = abs(transform.a * transform.e - transform.b * transform.d) / 1e4
    if nodata is not None and raster_nodata is not None and float(nodata) != float(raster_nodata):
        raise InvalidInputs(f"{raster}: nodata {raster_nodata} differs from the declared {nodata}")
    gdf = gpd.GeoDataFrame(
        {"unit_id": [u.id for u in units], "unit_name": [u.name_vi for u in units]},
        geometry=[u.geometry for u in units],
        crs="EPSG:4326",
    ).to_crs(crs)
    ops = ["count", "unique", "frac"] if classes else ["count", "mean", "min", "max"]
    df = exact_extract(str(raster), gdf, ops, include_cols=["unit_id", "unit_name"], output="pandas")
    rows: list[dict[str, Any]] = []
    for rec in df.to_dict("records"):
        valid_ha = float(rec["count"]) * cell_ha
        base = {"unit_id": rec["unit_id"], "unit_name": rec["unit_name"], "valid_hectares": round(valid_ha, 4)}
        if classes:
            fr = dict(zip((int(v) for v in np.atleast_1d(rec["unique"])), (float(f) for f in np.atleast_1d(rec["frac"])))) if rec["count"] else {}
            for value, name in classes.items():
                if nodata is not None and value == nodata:
                    continue
                f = fr.get(int(value), 0.0)
                rows.append(base | {"class_value": int(value), "class_name": name, "fraction": round(f, 6), "hectares": round(f * valid_ha, 4)})
        else:
            empty = not rec["count"]
            rows.append(base | {k: (None if empty or rec[k] is None or not np.isfinite(rec[k]) else float(rec[k])) for k in ("mean", "min", "max")})
    return rows


def select_units(catalog: Any, kind: UnitsKind, on: dt.date | None, footprint: Any | None = None) -> list[AOI]:
    """AOIs valid on ``on``: ``imported`` (from ``hpgeo aoi import``) or ``aoi`` (built-in), overlapping ``footprint``."""
    if kind not in ("aoi", "imported"):
        raise InvalidInputs(f"units must be 'aoi' or 'imported', not {kind!r}")
    from geo.aoi import builtin_aois, select_valid

    units = catalog.aois(on=on, include_builtin=False) if kind == "imported" else select_valid(builtin_aois(), on)
    if footprint is not None:
        units = [a for a in units if a.geometry.intersects(footprint)]
    if not units:
        hint = " (import boundaries with `hpgeo aoi import`)" if kind == "imported" else ""
        raise NoUnits(f"no {kind} units valid on {on} overlap the product{hint}")
    return units


def item_zonal_stats(
    catalog: Any,
    collection_id: str,
    item_id: str,
    *,
    data_dir: Path,
    units: UnitsKind | list[AOI] = "imported",
    store: bool = True,
    unit_set: str | None = None,
) -> list[dict[str, Any]]:
    """Statistics of every raster asset of a product item per unit, stored as the item's time-series rows.

    The rows are stored under a unit set: ``units`` itself when it is ``aoi`` or ``imported``, else
    ``unit_set`` (required to store an explicit list of units). Another set's rows of the item are kept.
    """
    from shapely.geometry import shape

    from products.registry import get
    from products.stats_models import check_unit_set

    if isinstance(units, list):
        if store and unit_set is None:
            raise InvalidInputs("storing statistics over an explicit list of units needs a unit_set name")
    elif unit_set is not None and unit_set != units:
        raise InvalidInputs(f"units {units!r} are stored as unit set {units!r}, not {unit_set!r}")
    set_name = check_unit_set((unit_set or "list") if isinstance(units, list) else units)

    item = catalog.get_item(collection_id, item_id)
    prov = item["properties"].get("hpgeo:provenance")
    if not prov:
        raise InvalidInputs(f"{collection_id}/{item_id} is not a product item (no hpgeo:provenance)")
    alg = get(prov["algorithm"])
    p = item["properties"]
    when = parse_datetime(p.get("datetime") or p["start_datetime"])
    unit_list = units if isinstance(units, list) else select_units(catalog, units, when.date(), shape(item["geometry"]))
    rows: list[dict[str, Any]] = []
    for spec in alg.outputs:
        if spec.asset not in item["assets"] or not str(item["assets"][spec.asset].get("type", "")).startswith("image/tiff"):
            continue
        path = resolve_href(item["assets"][spec.asset]["href"], Path(data_dir))
        classes = {k: v for k, v in spec.classes.items() if k != spec.nodata} if spec.categorical else None
        for r in zonal_stats(path, unit_list, classes=classes, nodata=spec.nodata):
            rows.append(r | {"asset": spec.asset, "datetime": when, "unit_set": set_name})
    if store:
        store_stats(catalog, collection_id, item_id, rows, unit_set=set_name)
    return rows

"""``/products`` (the algorithm registry) and ``/stats`` (per-unit statistics of product items, time series).

Statistics are computed with ``hpgeo products stats`` or ``hpgeo products build --stats`` (and by the
demo); these routes only read them. Unknown names give 404, bad parameters 400/422.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path as PathParam, Query

from api.deps import CatalogDep
from products.errors import InvalidInputs
from products.registry import algorithms, get
from products.stats_models import item_stats, timeseries
from base.errors import NotFound

router = APIRouter(tags=["Products"])

NameP = Annotated[str, PathParam(description="Algorithm name, e.g. `flood-sar` (see GET /products).", max_length=64)]
CollP = Annotated[str, PathParam(description="Product collection id, e.g. `flood-extent`.", max_length=128)]
ItemP = Annotated[str, PathParam(description="Product item id.", max_length=256)]


class StatsNotComputed(NotFound):
    """No statistics are stored for that item."""


@router.get("/products", summary="Registered product algorithms: inputs, outputs, parameters, units, version")
def list_products() -> list[dict[str, Any]]:
    algs = algorithms()
    return [algs[n].describe() for n in sorted(algs)]


@router.get("/products/{name}", summary="One product algorithm")
def product(name: NameP) -> dict[str, Any]:
    return get(name).describe()


@router.get("/stats/timeseries", summary="Statistics of one unit over time (per product collection and class)")
def stats_timeseries(
    catalog: CatalogDep,
    unit: Annotated[str, Query(description="Unit (AOI) id, e.g. `do-son` or an imported commune id.", min_length=1, max_length=128)],
    collection: Annotated[str | None, Query(description="Product collection id (all when omitted).", max_length=128)] = None,
    class_value: Annotated[int | None, Query(alias="class", ge=0, le=255, description="Only this class value.")] = None,
) -> dict[str, Any]:
    rows = timeseries(catalog, unit, collection, class_value)
    return {"unit": unit, "collection": collection, "count": len(rows), "rows": rows}


@router.get("/stats/{collection}/{item}", summary="Per-unit statistics of a product item (hectares, fractions)")
def stats_item(catalog: CatalogDep, collection: CollP, item: ItemP) -> dict[str, Any]:
    it = catalog.get_item(collection, item)  # 404 for an unknown collection or item
    if "hpgeo:provenance" not in it["properties"]:
        raise InvalidInputs(f"{collection}/{item} is not a product item")
    rows = item_stats(catalog, collection, item)
    if not rows:
        raise StatsNotComputed(f"no statistics stored for {collection}/{item}; run `hpgeo products stats {collection}/{item} --units aoi`")
    units = sorted({r["unit"] for r in rows})
    return {"collection": collection, "item": item, "datetime": rows[0]["datetime"], "units": units, "rows": rows}

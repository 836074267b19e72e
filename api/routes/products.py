"""``/products`` (the algorithm registry, building and rebuilding products) and ``/stats`` (per-unit
statistics of product items, time series).

Product names and product collections in the paths come from the registry (anything else: 422).
Building and rebuilding write files and catalog items: they need an editor (or admin) API key
(``X-API-Key``, see :mod:`api.auth`; 401 without a valid key, 403 for a viewer or analyst key or a
key of an agency that ceased to exist). Bad parameters
or inputs give 400 with the reason, unknown items 404, input items on different grids 400 unless
``resample`` is asked for. Statistics are computed with ``hpgeo products stats`` or ``hpgeo products
build --stats`` (and by the demo); these routes only read them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import EditorDep
from api.deps import BaseUrlDep, CatalogDep, SettingsDep
from api.routes.alerts import evaluate_built
from api.errors import error_responses
from api.validation import STRICT_QUERY
from base.errors import NotFound
from products.build import build_product, inputs_of, prepare, rebuild
from products.errors import InvalidInputs
from products.registry import algorithms, get, names
from products.stats_models import item_stats, timeseries

router = APIRouter(tags=["Products"], dependencies=STRICT_QUERY)

ProductName = Literal[tuple(names())]  # type: ignore[valid-type]
ProductCollection = Literal[tuple(sorted({get(n).collection for n in names()}))]  # type: ignore[valid-type]

NameP = Annotated[ProductName, PathParam(description="Algorithm name, e.g. `flood-sar` (see GET /products).")]  # type: ignore[valid-type]
ProductCollP = Annotated[ProductCollection, PathParam(description="Product collection id, e.g. `flood-extent`.")]  # type: ignore[valid-type]
CollP = Annotated[str, PathParam(description="Product collection id, e.g. `flood-extent`.", max_length=128)]
ItemP = Annotated[str, PathParam(description="Product item id.", max_length=256)]
UnitSetQ = Annotated[str | None, Query(description="Only the rows of this unit set: `aoi` (built-in AOIs), `imported` (hpgeo aoi import) or another stored set (all when omitted).",
                                        pattern=r"^[A-Za-z0-9._-]{1,64}$", examples=["imported"])]
Ref = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+$", max_length=400, description="COLLECTION/ITEM_ID")]


class StatsNotComputed(NotFound):
    """No statistics are stored for that item."""


class BuildIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    inputs: dict[str, Ref | list[Ref]] = Field(
        description="Input items per role as `COLLECTION/ITEM_ID`; a series role (e.g. shoreline's `scenes`) takes a list.",
        examples=[{"post": "sentinel-1-grd/S1A_…", "pre": "sentinel-1-grd/S1A_…"}],
    )
    parameters: dict[str, Any] = Field(default_factory=dict, description="Algorithm parameters (see GET /products/{name}); unknown keys are refused.")
    resample: bool = Field(False, description="Warp input items on other grids onto the first input's grid (else a grid mismatch is an error).")
    force: bool = Field(False, description="Build even if the product is current.")


def _ref(text: str) -> tuple[str, str]:
    cid, iid = text.split("/", 1)
    return cid, iid


@router.get("/products", summary="Registered product algorithms: inputs, outputs, parameters, units, version", responses=error_responses(400))
def list_products() -> list[dict[str, Any]]:
    algs = algorithms()
    return [algs[n].describe() for n in sorted(algs)]


@router.get("/products/{name}", summary="One product algorithm", responses=error_responses(400, 422))
def product(name: NameP) -> dict[str, Any]:
    return get(name).describe()


@router.post("/products/build/{name}", summary="Build a product from catalog items (editor key)", responses=error_responses(400, 401, 403, 404, 413, 422))
def build(name: NameP, body: BuildIn, catalog: CatalogDep, settings: SettingsDep, principal: EditorDep, request: Request,
          base: BaseUrlDep) -> dict[str, Any]:
    """Returns ``{"status": "built" | "current", "item": …, "alerts": …}``; a current product (same inputs, parameters
    and version) is not rebuilt. A built item is evaluated by the alert rules: ``alerts`` is ``{"evaluated": true,
    "messages": [CAP identifiers]}``, or ``{"evaluated": false, "error": …}`` (logged at ERROR; the item is kept)."""
    inputs = {role: [_ref(r) for r in v] if isinstance(v, list) else _ref(v) for role, v in body.inputs.items()}
    data_dir = settings.resolved_data_dir
    item = build_product(name, inputs, body.parameters, catalog=catalog, data_dir=data_dir, force=body.force,
                         scheduler=settings.dask_scheduler, resample=body.resample)
    if item is None:
        return {"status": "current", "item": catalog.get_item(get(name).collection, prepare(name, inputs, body.parameters, catalog=catalog, data_dir=data_dir).id)}
    return {"status": "built", "item": item, "alerts": evaluate_built(request, item["collection"], item["id"], base)}


@router.post("/products/rebuild/{collection}/{item}", summary="Rebuild a product item from its provenance (editor key)", responses=error_responses(400, 401, 403, 404, 422))
def rebuild_item(
    collection: ProductCollP,
    item: ItemP,
    catalog: CatalogDep,
    settings: SettingsDep,
    principal: EditorDep,
    request: Request,
    base: BaseUrlDep,
    force: Annotated[bool, Query(description="Recompute even when the item with this provenance is current (files present).")] = False,
) -> dict[str, Any]:
    """Rebuilds the item from the inputs and parameters recorded in ``hpgeo:provenance`` with the registered
    algorithm; returns ``{"status": "built" | "current", "item": …}`` (current: same provenance hash, files present);
    a built item is evaluated by the alert rules (``alerts``, as for ``POST /products/build``)."""
    old = catalog.get_item(collection, item)  # 404 for an unknown item
    if "hpgeo:provenance" not in old["properties"]:
        raise InvalidInputs(f"{collection}/{item} is not a product item")
    data_dir = settings.resolved_data_dir
    new = rebuild(old, catalog=catalog, data_dir=data_dir, scheduler=settings.dask_scheduler, force=force)
    if new is None:
        prov = old["properties"]["hpgeo:provenance"]
        req = prepare(prov["algorithm"], inputs_of(old), prov["parameters"], catalog=catalog, data_dir=data_dir)
        return {"status": "current", "item": catalog.get_item(req.alg.collection, req.id)}
    return {"status": "built", "item": new, "alerts": evaluate_built(request, new["collection"], new["id"], base)}


@router.get("/stats/timeseries", summary="Statistics of one unit over time (per product collection and class)", responses=error_responses(400, 422))
def stats_timeseries(
    catalog: CatalogDep,
    unit: Annotated[str, Query(description="Unit (AOI) id, e.g. `do-son` or an imported commune id.", min_length=1, max_length=128)],
    collection: Annotated[str | None, Query(description="Product collection id (all when omitted).", max_length=128)] = None,
    class_value: Annotated[int | None, Query(alias="class", ge=0, le=255, description="Only this class value.")] = None,
    unit_set: UnitSetQ = None,
) -> dict[str, Any]:
    rows = timeseries(catalog, unit, collection, class_value, unit_set)
    return {"unit": unit, "collection": collection, "unit_set": unit_set, "count": len(rows), "rows": rows}


@router.get("/stats/{collection}/{item}", summary="Per-unit statistics of a product item (hectares, fractions)", responses=error_responses(400, 404, 422))
def stats_item(catalog: CatalogDep, collection: CollP, item: ItemP, unit_set: UnitSetQ = None) -> dict[str, Any]:
    """Rows of every unit set stored for the item (``aoi``, ``imported``, …), side by side, or of one set."""
    it = catalog.get_item(collection, item)  # 404 for an unknown collection or item
    if "hpgeo:provenance" not in it["properties"]:
        raise InvalidInputs(f"{collection}/{item} is not a product item")
    rows = item_stats(catalog, collection, item, unit_set)
    if not rows:
        which = f" for unit set {unit_set!r}" if unit_set else ""
        raise StatsNotComputed(f"no statistics stored for {collection}/{item}{which}; run `hpgeo products stats {collection}/{item} --units {unit_set or 'aoi'}`")
    units = sorted({r["unit"] for r in rows})
    sets = sorted({r["unit_set"] for r in rows})
    out = {"collection": collection, "item": item, "datetime": rows[0]["datetime"], "unit_sets": sets, "units": units, "rows": rows}
    approx = sorted({r["unit"] for r in rows if r.get("unit_approximate")})
    if approx:
        out["approximate_units"] = approx
        out["note"] = ("the units in approximate_units are the project's hand-drawn built-in outlines, not official boundaries: "
                       "their hectares are approximate (import official boundaries with `hpgeo aoi import`)")
    return out

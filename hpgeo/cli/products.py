"""``hpgeo products``: list the registered algorithms, build products from catalog items, zonal statistics.

Inputs are named as ``[ROLE=]COLLECTION/ITEM`` (roles in the algorithm's declared order when omitted),
or selected from the catalog with ``--aoi`` and ``--datetime``: the first input role gets the newest item
of its collections that intersects the AOI in the period, every further role the newest one strictly
before it (a pre-event or earlier reference), also in the period. A series product (``shoreline``) takes
every ``--items`` scene, or every scene over the AOI in the period. Inputs on different grids are an
error unless ``--resample`` asks for warping. ``rebuild COLLECTION/ITEM`` rebuilds from the provenance.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from hpgeo.cli.common import console, open_catalog, progress
from base.errors import InvalidRequest

app = typer.Typer(help="Product algorithms: list, build from catalog items, statistics per administrative unit.", no_args_is_help=True)


def parse_param(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value); the value is read as JSON when it parses (numbers, true, null), else a string."""
    if "=" not in text or not text.split("=", 1)[0].strip():
        raise InvalidRequest(f"--param takes KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def parse_items(alg: Any, specs: list[str]) -> dict[str, tuple[str, str]]:
    """``[ROLE=]COLLECTION/ID`` strings → {role: (collection, id)}; unnamed ones fill the roles in order."""
    roles = [i.role for i in alg.inputs]
    out: dict[str, tuple[str, str]] = {}
    free = iter(roles)
    for s in specs:
        role, ref = s.split("=", 1) if "=" in s else (None, s)
        if "/" not in ref:
            raise InvalidRequest(f"--items takes [ROLE=]COLLECTION/ITEM_ID, got {s!r}")
        cid, iid = ref.split("/", 1)
        if role is None:
            role = next((r for r in free if r not in out), None)
            if role is None:
                raise InvalidRequest(f"{alg.name} takes {len(roles)} input(s) ({', '.join(roles)}); too many --items")
        elif role not in roles:
            raise InvalidRequest(f"{alg.name} has no input role {role!r} (roles: {', '.join(roles)})")
        out[role] = (cid, iid)
    return out


def select_inputs(catalog: Any, alg: Any, aoi_id: str, period: str) -> dict[str, tuple[str, str]]:
    """Pick input items intersecting an AOI in a period (see the module docstring)."""
    from shapely.geometry import mapping

    from ingest.catalog import SearchQuery
    from ingest.catalog.query import parse_datetime

    aoi = catalog.aoi(aoi_id)
    q = SearchQuery.build(datetime=period, intersects=mapping(aoi.geometry), limit=1)  # validates the period
    out: dict[str, tuple[str, str]] = {}
    first_dt = None
    for spec in alg.inputs:
        found = None
        for item in catalog.search(SearchQuery.build(collections=list(spec.collections), datetime=q.interval.to_str(), intersects=mapping(aoi.geometry), limit=1)):
            when = parse_datetime(item["properties"].get("datetime") or item["properties"]["start_datetime"])
            if first_dt is None or when < first_dt:
                found = (item["collection"], item["id"], when)
                break
        if found is None:
            if spec.optional:
                continue
            raise InvalidRequest(f"{alg.name}: no {'/'.join(spec.collections)} item for {spec.role!r} over {aoi_id} in {period}")
        out[spec.role] = found[:2]
        first_dt = first_dt or found[2]
    return out


@app.command("list")
def list_products(as_json: bool = typer.Option(False, "--json", help="Print the registry as JSON.")) -> None:
    """The registered product algorithms: name, version, output collection, inputs and outputs."""
    from products.registry import algorithms

    algs = algorithms()
    if as_json:
        typer.echo(json.dumps([algs[n].describe() for n in sorted(algs)], ensure_ascii=False, default=str))
        return
    t = Table(title=f"{len(algs)} product algorithm(s)")
    for col in ("name", "version", "collection", "inputs", "outputs", "title"):
        t.add_column(col)
    for n in sorted(algs):
        a = algs[n]
        ins = ", ".join(f"{i.role}{'?' if i.optional else ''}:{'|'.join(i.collections)}" for i in a.inputs)
        t.add_row(a.name, a.version, a.collection, ins, ", ".join(o.asset for o in a.outputs), a.title)
    console.print(t)


@app.command("build")
def build(
    name: str = typer.Argument(..., help="Algorithm name (see `hpgeo products list`)."),
    items: list[str] = typer.Option(None, "--items", help="[ROLE=]COLLECTION/ITEM_ID (repeatable; every dated scene of a series product)."),
    aoi: str = typer.Option(None, "--aoi", help="Select inputs intersecting this AOI (with --datetime)."),
    datetime: str = typer.Option(None, "--datetime", help="Period START/END (RFC 3339, '..' for open) for --aoi."),
    param: list[str] = typer.Option(None, "--param", help="Algorithm parameter KEY=VALUE (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the product is current."),
    resample: bool = typer.Option(False, "--resample", help="Warp input items on other grids onto the first input's grid (else a grid mismatch is an error)."),
    stats: str = typer.Option(None, "--stats", help="Also compute zonal statistics per unit: aoi or imported."),
) -> None:
    """Build a product from catalog items and record its provenance (idempotent: a current product is skipped)."""
    from base.settings import get_settings
    from products.build import build_product, prepare
    from products.registry import get
    from products.zonal import item_zonal_stats

    alg = get(name)
    if bool(items) == bool(aoi):
        raise InvalidRequest("give either --items or --aoi with --datetime")
    if aoi and not datetime:
        raise InvalidRequest("--aoi needs --datetime START/END")
    if stats not in (None, "aoi", "imported"):
        raise InvalidRequest(f"--stats takes aoi or imported, not {stats!r}")
    series = alg.series_input()
    if stats and series is not None:
        raise InvalidRequest(f"{alg.name}: --stats is not available for series products (its statistics are per transect)")
    params = dict(parse_param(p) for p in param or [])
    alg.parse_params(params)  # fail before reading anything
    settings = get_settings()
    cat = open_catalog()
    data_dir = settings.resolved_data_dir
    with progress() as bar:
        t = bar.add_task(f"{name}: selecting inputs", total=3 if stats else 2)
        if series is not None:
            inputs = {series.role: parse_series(alg, items) if items else select_series(cat, alg, aoi, datetime)}
        else:
            inputs = parse_items(alg, items) if items else select_inputs(cat, alg, aoi, datetime)
        bar.update(t, advance=1, description=f"{name}: computing and writing COGs")
        item = build_product(name, inputs, params, catalog=cat, data_dir=data_dir, force=force, scheduler=settings.dask_scheduler, resample=resample)
        bar.update(t, advance=1, description=f"{name}: built" if item else f"{name}: current")
        if item is None:  # current: the item with these inputs and these parameters
            item = cat.get_item(alg.collection, prepare(name, inputs, params, catalog=cat, data_dir=data_dir).id)
        if stats:
            bar.update(t, description=f"{name}: zonal statistics ({stats})")
            item_zonal_stats(cat, alg.collection, item["id"], data_dir=data_dir, units=stats)
            bar.update(t, advance=1)
    from hpgeo.cli.alerts import evaluate_built

    if series is not None:
        console.print(f"{alg.collection}/{item['id']} from {len(inputs[series.role])} scenes")
    else:
        console.print(f"{alg.collection}/{item['id']}")
        for role, (c, i) in inputs.items():
            console.print(f"  {role}: {c}/{i}")
    evaluate_built(cat, settings, alg.collection, item["id"])  # a failure is loud, the item stays


@app.command("rebuild")
def rebuild_cmd(item: str = typer.Argument(..., help="Product item as COLLECTION/ITEM_ID.")) -> None:
    """Rebuild a product item from its recorded provenance (same algorithm version, inputs and parameters)."""
    from base.settings import get_settings
    from products.build import rebuild

    if "/" not in item:
        raise InvalidRequest(f"ITEM takes COLLECTION/ITEM_ID, got {item!r}")
    cid, iid = item.split("/", 1)
    settings = get_settings()
    cat = open_catalog()
    old = cat.get_item(cid, iid)
    with progress() as bar:
        t = bar.add_task(f"rebuilding {iid}", total=1)
        new = rebuild(old, catalog=cat, data_dir=settings.resolved_data_dir, scheduler=settings.dask_scheduler)
        bar.update(t, advance=1)
    console.print(f"{new['collection']}/{new['id']}")
    from hpgeo.cli.alerts import evaluate_built

    evaluate_built(cat, settings, new["collection"], new["id"])  # a failure is loud, the item stays


def parse_series(alg: Any, specs: list[str]) -> list[tuple[str, str]]:
    """``[ROLE=]COLLECTION/ID`` strings → the members of the algorithm's series input."""
    role = alg.series_input().role
    out = []
    for s in specs:
        named, ref = s.split("=", 1) if "=" in s else (role, s)
        if named != role:
            raise InvalidRequest(f"{alg.name} has no input role {named!r} (roles: {role})")
        if "/" not in ref:
            raise InvalidRequest(f"--items takes [ROLE=]COLLECTION/ITEM_ID, got {s!r}")
        cid, iid = ref.split("/", 1)
        out.append((cid, iid))
    return out


def select_series(catalog: Any, alg: Any, aoi_id: str, period: str) -> list[tuple[str, str]]:
    """Every item of the series input's collections intersecting an AOI in a period."""
    from shapely.geometry import mapping

    from ingest.catalog import SearchQuery

    spec = alg.series_input()
    geom = mapping(catalog.aoi(aoi_id).geometry)
    q = SearchQuery.build(collections=list(spec.collections), datetime=period, intersects=geom, limit=1)
    scenes = [(it["collection"], it["id"]) for it in catalog.search(q)]
    if len(scenes) < spec.min_items:
        raise InvalidRequest(f"{alg.name}: found {len(scenes)} {'/'.join(spec.collections)} scene(s) over {aoi_id} in {period}; need {spec.min_items} or more dates")
    return scenes


@app.command("stats")
def stats_cmd(
    item: str = typer.Argument(..., help="Product item as COLLECTION/ITEM_ID."),
    units: str = typer.Option("imported", "--units", help="aoi (built-in project AOIs) or imported (hpgeo aoi import)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """Coverage-weighted statistics of a product item per unit (hectares and fractions per class), stored as time series."""
    from base.settings import get_settings
    from products.zonal import item_zonal_stats

    if "/" not in item:
        raise InvalidRequest(f"ITEM takes COLLECTION/ITEM_ID, got {item!r}")
    if units not in ("aoi", "imported"):
        raise InvalidRequest(f"--units takes aoi or imported, not {units!r}")
    cid, iid = item.split("/", 1)
    cat = open_catalog()
    with progress(transient=True) as bar:
        t = bar.add_task(f"zonal statistics of {iid}", total=1)
        rows = item_zonal_stats(cat, cid, iid, data_dir=get_settings().resolved_data_dir, units=units)  # type: ignore[arg-type]
        bar.update(t, advance=1)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    t2 = Table(title=f"{cid}/{iid}: {len({r['unit_id'] for r in rows})} unit(s)")
    for col in ("unit", "asset", "class", "hectares", "fraction", "mean"):
        t2.add_column(col)
    for r in rows:
        t2.add_row(
            r["unit_id"],
            r["asset"],
            str(r.get("class_name") or ""),
            f"{r['hectares']:,.2f}" if r.get("hectares") is not None else "",
            f"{r['fraction']:.4f}" if r.get("fraction") is not None else "",
            f"{r['mean']:.4g}" if r.get("mean") is not None else "",
        )
    console.print(t2)

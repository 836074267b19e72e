"""``hpgeo catalog``: search and inspect the STAC catalog."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hpgeo.cli.common import console, open_catalog

app = typer.Typer(help="Search and inspect the catalog of scenes and products.", no_args_is_help=True)


@app.command("search")
def search(
    collection: list[str] = typer.Option(None, "--collection", "-c", help="Collection id (repeatable)."),
    bbox: str = typer.Option(None, "--bbox", help="W,S,E,N in WGS 84 degrees, e.g. 106.5,20.6,106.9,20.9."),
    datetime: str = typer.Option(None, "--datetime", help="RFC 3339 instant or interval A/B ('..' for open ends)."),
    ids: list[str] = typer.Option(None, "--id", help="Item id (repeatable)."),
    limit: int = typer.Option(100, "--limit", min=1, help="Most items to print."),
    as_json: bool = typer.Option(False, "--json", help="Print a GeoJSON FeatureCollection instead of a table."),
    refs: bool = typer.Option(False, "--ids", help="Print COLLECTION/ITEM_ID, one a line (for other commands)."),
) -> None:
    """Find items by collection, bounding box and date-time, newest first."""
    from ingest.catalog import SearchQuery

    q = SearchQuery.build(collections=collection, ids=ids, bbox=bbox, datetime=datetime, limit=1, max_limit=10**9)
    cat = open_catalog()
    items = []
    for it in cat.search(q):
        items.append(it)
        if len(items) >= limit:
            break
    if refs:
        for it in items:
            typer.echo(f"{it['collection']}/{it['id']}")
        return
    if as_json:
        typer.echo(json.dumps({"type": "FeatureCollection", "features": items}, ensure_ascii=False, indent=1))
        return
    t = Table(title=f"{len(items)} item(s)")
    for col in ("collection", "id", "datetime", "simulated", "assets"):
        t.add_column(col)
    for it in items:
        p = it["properties"]
        t.add_row(
            it["collection"],
            it["id"],
            p.get("datetime") or f"{p.get('start_datetime')}/{p.get('end_datetime')}",
            "yes" if p.get("hpgeo:simulated") else "",
            ",".join(it["assets"]),
        )
    console.print(t)


@app.command("collections")
def collections(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List collections with their item counts."""
    cat = open_catalog()
    cols = cat.list_collections()
    if as_json:
        typer.echo(json.dumps(cols, ensure_ascii=False, indent=1))
        return
    t = Table(title="collections")
    for col in ("id", "title", "items"):
        t.add_column(col)
    for c in cols:
        t.add_row(c["id"], c.get("title", ""), str(cat.count_items(c["id"])))
    console.print(t)

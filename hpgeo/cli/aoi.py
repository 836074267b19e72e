"""``hpgeo aoi``: list the areas of interest, import official boundaries (validated), delete imported ones."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import typer
from rich.table import Table

from base.errors import InvalidRequest
from geo.aoi import MAX_FILE_BYTES, MAX_VERTICES, builtin_ids
from geo.errors import AOINotFound
from hpgeo.cli.common import console, err_console, open_catalog

app = typer.Typer(help="Areas of interest: built-in Hải Phòng areas and imported official boundaries.", no_args_is_help=True)


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name} must be a date YYYY-MM-DD, got {value!r}") from exc


@app.command("list")
def list_aois(
    on: str = typer.Option(None, "--on", help="Only AOIs valid on this date (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print a GeoJSON FeatureCollection."),
) -> None:
    """List AOIs with their validity periods and areas."""
    aois = open_catalog().aois(on=_day(on, "--on"))
    if as_json:
        typer.echo(json.dumps({"type": "FeatureCollection", "features": [a.to_feature() for a in aois]}, ensure_ascii=False))
        return
    t = Table(title=f"{len(aois)} AOI(s)")
    for col in ("id", "name", "kind", "valid from", "valid to", "km²", "source"):
        t.add_column(col)
    for a in aois:
        t.add_row(a.id, a.name_vi, a.kind, str(a.valid_from or "…"), str(a.valid_to or "…"), f"{a.area_km2():,.1f}", a.source)
    console.print(t)


@app.command("import")
def import_aoi(
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage, Shapefile (.shp) or KML with polygon features."),
    valid_from: str = typer.Option(None, "--valid-from", help="First day the boundaries are in force (YYYY-MM-DD)."),
    valid_to: str = typer.Option(None, "--valid-to", help="Last day the boundaries are in force (YYYY-MM-DD)."),
    kind: str = typer.Option("admin", "--kind", help="What the polygons are: admin, commune, zone, island..."),
    id_field: str = typer.Option(None, "--id-field", help="Attribute holding a unique id (default: 'id', else a slug of the name)."),
    name_field: str = typer.Option(None, "--name-field", help="Attribute holding the name (default: guessed)."),
    id_prefix: str = typer.Option("", "--id-prefix", help="Prefix for the AOI ids, e.g. 'xa-'."),
    where: list[str] = typer.Option(None, "--where", help="Keep features whose attribute equals a value: KEY=VALUE (repeatable)."),
    max_vertices: int = typer.Option(MAX_VERTICES, "--max-vertices", min=4, help="Refuse a feature with more vertices (simplify it first)."),
    max_mb: float = typer.Option(MAX_FILE_BYTES / 2**20, "--max-mb", min=0, help="Refuse a larger file (MiB)."),
    repair: bool = typer.Option(False, "--repair", help="Repair invalid polygons (make_valid, with a warning) instead of refusing them."),
) -> None:
    """Import official boundaries as AOIs. All features are imported, or none (a bad file changes nothing).

    Every feature must be a non-empty, valid (not self-intersecting) polygon with finite WGS 84
    coordinates and at most --max-vertices vertices.
    """
    from geo.aoi import read_aoi_file

    conds = {}
    for w in where or []:
        if "=" not in w:
            raise InvalidRequest(f"--where takes KEY=VALUE, got {w!r}")
        k, v = w.split("=", 1)
        conds[k] = v
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aois = read_aoi_file(
            file,
            id_field=id_field,
            name_field=name_field,
            kind=kind,
            valid_from=_day(valid_from, "--valid-from"),
            valid_to=_day(valid_to, "--valid-to"),
            id_prefix=id_prefix,
            where=conds or None,
            max_vertices=max_vertices,
            max_bytes=int(max_mb * 2**20),
            repair=repair,
        )
    for w in caught:
        err_console.print(f"[yellow]warning:[/] {w.message}")
    ids = open_catalog().put_aois(aois)
    console.print(f"imported {len(ids)} AOI(s) from {file.name}: {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}")


@app.command("delete")
def delete_aoi(
    aoi_id: str = typer.Argument(..., help="Id of an imported AOI (see `hpgeo aoi list`)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete an imported AOI. Built-in AOIs cannot be deleted."""
    catalog = open_catalog()
    if aoi_id in builtin_ids():
        raise InvalidRequest(f"AOI {aoi_id!r} is a built-in AOI and cannot be deleted (only imported AOIs can)")
    entry = next((e for e in catalog.aoi_index(include_builtin=False) if e["id"] == aoi_id), None)
    if entry is None:  # before anything is asked
        raise AOINotFound(f"no imported AOI {aoi_id!r} (see `hpgeo aoi list`)")
    if not yes and not typer.confirm(f"Delete AOI {aoi_id!r} ({entry['name_vi']}, {entry['source']})?", default=False):
        err_console.print("nothing deleted")
        raise typer.Exit(1)
    catalog.delete_aoi(aoi_id)
    console.print(f"deleted AOI {aoi_id}")

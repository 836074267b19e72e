"""``hpgeo aoi``: list the areas of interest and import official boundaries."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import typer
from rich.table import Table

from hpgeo.cli.common import console, err_console, open_catalog
from base.errors import InvalidRequest

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
) -> None:
    """Import official boundaries as AOIs. All features are imported, or none (a bad file changes nothing)."""
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
        )
    for w in caught:
        err_console.print(f"[yellow]warning:[/] {w.message}")
    ids = open_catalog().put_aois(aois)
    console.print(f"imported {len(ids)} AOI(s) from {file.name}: {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}")

"""``hpgeo export``: a product item (raster or vector) or its statistics table, clipped and reprojected, to a file.

``hpgeo export COLLECTION/ITEM --format gpkg --crs EPSG:9210 --aoi tien-lang-kien-thuy --out flood.gpkg``;
``--stats`` writes the item's statistics table (CSV). See :mod:`products.export` for what each format holds and
where the VN-2000 datum operation is named. Bad input exits with code 2 and writes nothing; an export over
``HPGEO_MAX_EXPORT_BYTES`` is refused before any pixel is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from base.errors import InvalidRequest
from hpgeo.cli.common import console, open_catalog

__all__ = ["register"]


def export_cmd(
    item: str = typer.Argument(..., help="Product item as COLLECTION/ITEM_ID."),
    fmt: str = typer.Option("gpkg", "--format", "-f", help="tif, gpkg, geojson, shp.zip or csv."),
    crs: str = typer.Option("EPSG:4326", "--crs", help="EPSG:4326, EPSG:32648, EPSG:9210 (VN-2000 TM-3 105°45′) or EPSG:9209 (105°30′)."),
    bbox: Optional[str] = typer.Option(None, "--bbox", help="Clip to west,south,east,north (degrees)."),
    aoi: Optional[str] = typer.Option(None, "--aoi", help="Clip to an AOI (id, see `hpgeo aoi list`)."),
    unit: Optional[str] = typer.Option(None, "--unit", help="Clip to an administrative unit (an imported commune/ward AOI id)."),
    asset: Optional[str] = typer.Option(None, "--asset", help="Asset to export (default: the product's class map, or its first vector asset)."),
    stats: bool = typer.Option(False, "--stats", help="Export the item's statistics table (CSV) instead."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file (default: COLLECTION_ITEM_EPSGn.FORMAT here)."),
) -> None:
    """Export a product item or its statistics table (clipped, reprojected) to a file."""
    from base.settings import get_settings
    from products.export import export_name, plan_export, resolve_region, stats_csv, write_export

    if "/" not in item:
        raise InvalidRequest(f"ITEM takes COLLECTION/ITEM_ID, got {item!r}")
    cid, iid = item.split("/", 1)
    s = get_settings()
    cat = open_catalog()
    try:
        if stats:
            if fmt not in ("csv", "gpkg") or any(v for v in (bbox, aoi, unit, asset)):
                raise InvalidRequest("--stats writes the statistics table as CSV; it takes no --bbox/--aoi/--unit/--asset")
            dst = out or Path(f"{cid}_{iid}_stats.csv")
            stats_csv(cat, cid, iid, dst)
            console.print(f"wrote {dst} (statistics of {cid}/{iid})")
            return
        region = resolve_region(cat, bbox=bbox, aoi=aoi, unit=unit)
        plan = plan_export(cat, s.resolved_data_dir, cid, iid, fmt, crs=crs, region=region, asset=asset,
                           max_bytes=s.max_export_bytes, remote_prefixes=tuple(s.remote_asset_prefixes))
        dst = out or Path(export_name(cid, iid, plan.crs, fmt))
        write_export(plan, dst)
        console.print(f"wrote {dst} ({fmt}, {plan.crs}, {plan.region.label}; datum operation: {plan.datum.get('operation')})")
    finally:
        cat.close()


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)

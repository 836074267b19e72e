"""Exports (``/exports``): product items and statistics tables as files, for analysts (role ``analyst`` or higher).

``GET /exports/{collection_id}/{item_id}.{fmt}`` with ``fmt`` one of ``tif`` (COG), ``gpkg``, ``geojson``,
``shp.zip`` and ``csv``; ``crs`` one of EPSG:4326, EPSG:32648, EPSG:9210 (VN-2000 / TM-3 105°45′), EPSG:9209
(105°30′); at most one clip region: ``bbox``, ``aoi`` or ``unit``. ``GET /exports/stats/{collection_id}/{item_id}.csv``
is the item's statistics table. Without a key: 401; a viewer key: 403 (both in the audit trail). An export over
HPGEO_MAX_EXPORT_BYTES is refused with 413 from metadata alone (nothing read, nothing written). The file is
written to a temporary in ``<data dir>/exports/`` (a name :func:`geo.tempfiles.clean_data_dir` recognises),
streamed, and removed once sent. The datum operation PROJ used is also in the ``X-Hpgeo-Datum-Operation`` header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.auth import require_role
from api.deps import CatalogDep, SettingsDep
from api.errors import error_responses
from api.validation import STRICT_QUERY
from geo.tempfiles import temp_path
from products.export import EXPORT_CRS, FORMATS, MEDIA_TYPES, InvalidExport, plan_export, resolve_region, stats_csv, write_export

router = APIRouter(prefix="/exports", tags=["Exports"], dependencies=STRICT_QUERY)

_ID = r"^[A-Za-z0-9][A-Za-z0-9._@+=-]*$"
CollP = Annotated[str, Path(description="Product collection id.", max_length=128, pattern=_ID, examples=["flood-extent"])]
_FILE_OK = {200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}, "description": "The exported file."}}
AnalystOnly = [Depends(require_role("analyst"))]


def _cleanup(path: str) -> None:
    import os

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _split(filename: str) -> tuple[str, str]:
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if filename.endswith("." + fmt) and len(filename) > len(fmt) + 1:
            return filename[: -len(fmt) - 1], fmt
    raise InvalidExport(f"the file name must end with one of: {', '.join('.' + f for f in FORMATS)}")


def _check_item(item_id: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,255}", item_id):
        raise InvalidExport("item id must be letters, digits and . _ @ + = - (at most 256)")
    return item_id


@router.get(
    "/stats/{collection_id}/{filename}",
    summary="The statistics table of a product item as CSV (analyst key)",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Hectares and fractions per unit and class."},
               **error_responses(400, 401, 403, 404, 422)},
    dependencies=AnalystOnly,
)
async def export_stats(
    collection_id: CollP,
    catalog: CatalogDep,
    settings: SettingsDep,
    filename: Annotated[str, Path(description="`{item_id}.csv`.", max_length=300, examples=["flood-20250915T110231-0123456789.csv"])],
) -> FileResponse:
    if not filename.endswith(".csv"):
        raise InvalidExport("statistics are exported as CSV: the file name must end with .csv")
    item_id = _check_item(filename[:-4])
    dst = temp_path(settings.resolved_data_dir / "exports" / f"{collection_id}_{item_id}_stats.csv", "export")
    await run_in_threadpool(stats_csv, catalog, collection_id, item_id, dst)
    return FileResponse(dst, media_type=MEDIA_TYPES["csv"], filename=f"{collection_id}_{item_id}_stats.csv", background=BackgroundTask(_cleanup, str(dst)))


@router.get(
    "/{collection_id}/{filename}",
    summary="Export a product item (clipped, reprojected) as COG, GeoPackage, GeoJSON, Shapefile zip or CSV (analyst key)",
    response_class=FileResponse,
    responses={**_FILE_OK, **error_responses(400, 401, 403, 404, 413, 422)},
    dependencies=AnalystOnly,
)
async def export_item(
    collection_id: CollP,
    catalog: CatalogDep,
    settings: SettingsDep,
    filename: Annotated[str, Path(description=f"`{{item_id}}.{{fmt}}`, fmt one of {', '.join(FORMATS)}.", max_length=300,
                                  examples=["flood-20250915T110231-0123456789.gpkg"])],
    crs: Annotated[str, Query(description=f"Target CRS: {', '.join(EXPORT_CRS)}.", max_length=40, examples=["EPSG:9210"])] = "EPSG:4326",
    bbox: Annotated[str | None, Query(description="Clip to west,south,east,north (degrees, WGS 84).", max_length=200,
                                      examples=["106.6,20.6,106.8,20.8"])] = None,
    aoi: Annotated[str | None, Query(description="Clip to an AOI (see /aois).", max_length=128, examples=["tien-lang-kien-thuy"])] = None,
    unit: Annotated[str | None, Query(description="Clip to an administrative unit (an imported commune/ward AOI id).", max_length=128)] = None,
    asset: Annotated[str | None, Query(description="Asset to export (default: the class map, or the first vector asset).", max_length=64)] = None,
) -> FileResponse:
    item_id, fmt = _split(filename)
    _check_item(item_id)
    region = resolve_region(catalog, bbox=bbox, aoi=aoi, unit=unit)
    plan = await run_in_threadpool(plan_export, catalog, settings.resolved_data_dir, collection_id, item_id, fmt, crs=crs, region=region,
                                   asset=asset, max_bytes=settings.max_export_bytes, remote_prefixes=tuple(settings.remote_asset_prefixes))
    dst = temp_path(settings.resolved_data_dir / "exports" / plan.name, "export")
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        await run_in_threadpool(write_export, plan, dst)
    except BaseException:
        _cleanup(str(dst))
        raise
    headers = {"X-Hpgeo-Datum-Operation": str(plan.datum.get("operation", "")).encode("ascii", "replace").decode("ascii")}
    return FileResponse(dst, media_type=MEDIA_TYPES[fmt], filename=plan.name, headers=headers, background=BackgroundTask(_cleanup, str(dst)))

"""Analysis-ready data: a :class:`~ingest.scene.Scene` → COGs in EPSG:32648 + one catalog item.

Steps: reproject each band to the processing CRS at its native resolution (nearest for class
maps, bilinear otherwise), clip to the AOI, set masked pixels (clouds, nodata) to nodata, write
one validated COG per band into a staging folder next to the item's folder, move it into place, then put
the collection and the item in the catalog. Files come first and the item last, so an interrupted run never
leaves an item without files; a failure (an unreadable block, a CRS that cannot be reprojected) removes the staging
folder and any folder it created, and leaves an existing item's files as they were; re-running with the same source
is a no-op. The scene id, collection and band names become path components: each must be a safe name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from base.paths import confine, safe_name
from geo.aoi import AOI
from geo.cog import clean_stale_temporaries, dataarray_to_cog
from geo.tempfiles import temp_path
from geo.crs import PROCESSING_CRS, WGS84, norm_crs, reproject_geometry
from geo.grid import Grid
from ingest.items import INPUT_COLLECTIONS, RasterAsset, corner_coordinates, iso, raster_item, resolve_href
from ingest.scene import Scene

__all__ = ["write_ard", "ard_dir", "is_current"]

log = logging.getLogger(__name__)

CUSTODIAN = "Sở Nông nghiệp và Môi trường thành phố Hải Phòng"


def ard_dir(data_dir: Path, collection_id: str, item_id: str) -> Path:
    """``data_dir/ard/<collection>/<item>``; both must be safe names and the folder inside ``data_dir``."""
    rel = Path("ard") / safe_name(collection_id, "collection id") / safe_name(item_id, "item id")
    return confine(rel, data_dir)


def is_current(catalog: Any, scene_collection: str, item_id: str, source_checksum: str | None, data_dir: Path,
               options: dict[str, Any] | None = None) -> bool:
    """True when the catalog already holds this item from the same source, ingested with the same user options
    (``hpgeo:ingest_options``: band roles, categorical; a re-run with other ``--bands`` rewrites the item), and its
    files exist."""
    if not source_checksum or not catalog.has_item(scene_collection, item_id):
        return False
    item = catalog.get_item(scene_collection, item_id)
    if item["properties"].get("hpgeo:source_checksum") != source_checksum:
        return False
    if (item["properties"].get("hpgeo:ingest_options") or None) != (options or None):
        return False
    return all(Path(resolve_href(a["href"], data_dir)).exists() for a in item["assets"].values() if not a["href"].startswith("http"))


def _to_processing(da: Any, categorical: bool, nodata: Any) -> Any:
    from rasterio.enums import Resampling

    if norm_crs(da.rio.crs) == PROCESSING_CRS:
        return da
    res = abs(da.rio.resolution()[0])
    if norm_crs(da.rio.crs).is_geographic:
        res = None  # let GDAL pick an equivalent metric resolution
    return da.rio.reproject(
        PROCESSING_CRS,
        resolution=res,
        resampling=Resampling.nearest if categorical else Resampling.bilinear,
        nodata=nodata,
    )


def write_ard(
    scene: Scene,
    *,
    catalog: Any,
    data_dir: Path,
    aoi: AOI | None = None,
    source_checksum: str | None = None,
    on_band: Callable[[str], None] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Write the scene's analysis-ready COGs and catalog item. Returns the item, or None if already current
    (same source checksum and the same user ``options``, recorded as ``hpgeo:ingest_options``)."""
    data_dir = Path(data_dir)
    if options:
        scene.properties["hpgeo:ingest_options"] = dict(options)
    if is_current(catalog, scene.collection, scene.id, source_checksum, data_dir, options):
        log.info("ard: %s/%s is current, skipped", scene.collection, scene.id)
        return None
    out_dir = ard_dir(data_dir, scene.collection, scene.id)
    for name in scene.bands:
        safe_name(name, f"band name of {scene.id}")
    created = [d for d in (data_dir / "ard", out_dir.parent) if not d.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(out_dir)
    staging = temp_path(out_dir, "staging")  # a killed run's is one of geo.tempfiles' temporaries: cleaned up
    staging.mkdir()
    try:
        item = _write_bands(scene, staging, aoi=aoi, source_checksum=source_checksum, on_band=on_band)
        _publish(staging, out_dir, catalog, scene.collection, item)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if still empty
        raise
    log.info("ard: wrote %s/%s (%d bands)", scene.collection, scene.id, len(item["assets"]))
    return item


def _publish(staging: Path, out_dir: Path, catalog: Any, collection_id: str, item: dict[str, Any]) -> None:
    """Move the staged COGs to ``out_dir`` (an older version aside first) and put the collection and the item in the
    catalog; if the catalog refuses, the older files are put back."""
    old = temp_path(out_dir, "old") if out_dir.exists() else None
    if old is not None:
        os.rename(out_dir, old)
    os.rename(staging, out_dir)
    try:
        if collection_id in INPUT_COLLECTIONS:
            catalog.put_collection(INPUT_COLLECTIONS[collection_id], kind="input")
        catalog.put_items([item])
    except BaseException:
        os.rename(out_dir, staging)
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_bands(scene: Scene, folder: Path, *, aoi: AOI | None, source_checksum: str | None,
                 on_band: Callable[[str], None] | None) -> dict[str, Any]:
    """Write one COG per band of ``scene`` into ``folder``; return the item (hrefs name the final folder)."""
    clip_geom = aoi.geometry_in(PROCESSING_CRS) if aoi is not None else None

    valid = scene.valid
    assets: dict[str, RasterAsset] = {}
    footprint_parts = []
    for name, da in scene.bands.items():
        info = scene.info(name)
        nodata = info.nodata if info.nodata is not None else (np.nan if np.dtype(da.dtype).kind == "f" else 0)
        da = da.rio.write_nodata(nodata, encoded=False) if da.rio.nodata is None else da
        if valid is not None:
            v = valid
            if v.shape != da.shape or not np.allclose(v.x.values[[0, -1]], da.x.values[[0, -1]]):
                from rasterio.enums import Resampling

                v = valid.astype("uint8").rio.write_nodata(0).rio.reproject_match(da, resampling=Resampling.nearest).astype(bool)
            da = da.where(v.values, nodata)
            da = da.rio.write_nodata(nodata, encoded=False)
        da = _to_processing(da, info.categorical, nodata)
        if clip_geom is not None:
            from shapely.geometry import mapping

            da = da.rio.clip([mapping(clip_geom)], crs=PROCESSING_CRS, drop=True, all_touched=True)
        rel = Path("ard") / scene.collection / scene.id / f"{name}.tif"
        dataarray_to_cog(
            folder / f"{name}.tif",
            da,
            nodata=nodata,
            band_names=[name],
            tags={"HPGEO_SIMULATED": "yes" if scene.simulated else "no", "HPGEO_SOURCE": scene.source or scene.id},
            overview_resampling="nearest" if info.categorical else "average",
        )
        grid = Grid.from_dataarray(da)
        assets[name] = RasterAsset(href=rel.as_posix(), grid=grid, band=info, dtype=np.dtype(da.dtype).name)
        footprint_parts.append(grid.footprint(WGS84))
        if on_band:
            on_band(name)

    if scene.footprint is not None:
        footprint = scene.footprint
        if clip_geom is not None:
            footprint = footprint.intersection(aoi.geometry)  # type: ignore[union-attr]
    else:
        from shapely import union_all

        footprint = union_all(footprint_parts).envelope
    props: dict[str, Any] = {
        "title": scene.properties.get("title", scene.id),
        "platform": scene.platform,
        "instruments": [scene.instrument],
        "processing:level": scene.processing_level,
        "processing:software": {"hpgeo": _version()},
        "hpgeo:source": scene.source,
    }
    if scene.cloud_cover is not None:
        props["eo:cloud_cover"] = round(float(scene.cloud_cover), 2)
    if source_checksum:
        props["hpgeo:source_checksum"] = source_checksum
    if aoi is not None:
        props["hpgeo:aoi"] = aoi.id
    props.update(scene.properties)
    props.update(_circular09(scene, footprint))
    item = raster_item(
        item_id=scene.id,
        collection_id=scene.collection,
        datetime=scene.datetime,
        footprint=footprint,
        assets=assets,
        properties=props,
        simulated=scene.simulated,
    )
    return item


def _circular09(scene: Scene, footprint: Any) -> dict[str, Any]:
    """The metadata Circular 09/2017/TT-BTNMT asks of remote-sensing data, under ``tt09:``."""
    return {
        "tt09:satellite": scene.platform,
        "tt09:sensor": scene.instrument,
        "tt09:processing_level": scene.processing_level,
        "tt09:acquisition_time": iso(scene.datetime),
        "tt09:cloud_cover": None if scene.cloud_cover is None else round(float(scene.cloud_cover), 2),
        "tt09:accuracy": scene.properties.get("tt09:accuracy", "per source product specification"),
        "tt09:corner_coordinates": corner_coordinates(footprint),
        "tt09:custodian": CUSTODIAN,
    }


def _version() -> str:
    from base import __version__

    return __version__


# convenience for tests and callers that work in metres
def footprint_in(item: dict[str, Any], crs: Any = PROCESSING_CRS) -> Any:
    from shapely.geometry import shape

    return reproject_geometry(shape(item["geometry"]), WGS84, crs)

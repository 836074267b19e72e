"""Plain rasters GDAL can read (GeoTIFF, JPEG2000, ...): VNREDSat-1, SPOT, local archives.

:func:`read_raster` opens a georeferenced raster lazily as a :class:`Scene` (float32, GDAL's per-band
scale/offset applied, nodata → NaN). :func:`raster_to_cog` converts any raster to a Cloud-Optimized
GeoTIFF with *identical* pixels: same dtype, same grid (shape, transform, CRS), no resampling,
lossless compression; only overviews (nearest) are added.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from geo.cog import dataarray_to_cog
from geo.crs import WGS84
from geo.grid import Grid
from ingest.readers import archive
from ingest.readers.errors import ProductNotFound, ReaderError, UnsupportedProduct
from ingest.readers.product import RASTER_SUFFIXES, ProductMeta, rasters, safe_dir
from ingest.scene import BandInfo, Scene
from ingest.sources.errors import UnsupportedFile

__all__ = ["open_lazy", "read_raster", "raster_to_cog", "existing_file", "raster_metadata", "GeoTiffReader"]


def existing_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise ProductNotFound(f"raster not found: {p}")
    return p


def open_lazy(path: str | os.PathLike, *, chunks: int = 1024, masked: bool = False) -> Any:
    """``rioxarray.open_rasterio`` with dask chunks (band, y, x); raises reader errors, not GDAL's."""
    import rioxarray

    p = existing_file(path)
    try:
        da = rioxarray.open_rasterio(p, chunks={"band": 1, "y": chunks, "x": chunks}, masked=masked)
    except RasterioIOError as exc:
        raise UnsupportedProduct(f"GDAL cannot read {p.name}: {exc}") from exc
    if da.rio.crs is None:
        raise UnsupportedProduct(f"{p.name} has no CRS; georeference a scan with `hpgeo ingest rectify`")
    return da


def read_raster(
    path: str | os.PathLike,
    *,
    band_names: list[str] | None = None,
    collection: str = "local-archive",
    platform: str = "unknown",
    instrument: str = "unknown",
    processing_level: str = "L1",
    datetime: dt.datetime | None = None,
    chunks: int = 1024,
) -> Scene:
    """A georeferenced raster as a Scene of float32 bands (lazy).

    Band names come from ``band_names``, else the file's band descriptions, else ``b1, b2, ...``.
    Pixel values are ``raw * scale + offset`` (GDAL band metadata; 1 and 0 when unset); nodata
    becomes NaN and ``valid`` is True where every band has data.
    """
    p = existing_file(path)
    with rasterio.open(p) as ds:
        count, scales, offsets, nodata = ds.count, ds.scales, ds.offsets, ds.nodata
        descr = [d or f"b{i + 1}" for i, d in enumerate(ds.descriptions)]
        tags = ds.tags()
    names = band_names or descr
    if len(names) != count:
        raise ReaderError(f"{p.name} has {count} bands but {len(names)} names were given")
    raw = open_lazy(p, chunks=chunks, masked=True)
    bands, info = {}, {}
    for i, name in enumerate(names):
        b = raw.isel(band=i, drop=True).astype(np.float32) * np.float32(scales[i]) + np.float32(offsets[i])
        bands[name] = b.rio.write_crs(raw.rio.crs).rename(name)
        info[name] = BandInfo(name=name, nodata=float("nan"), scale=scales[i], offset=offsets[i])
    valid = raw.notnull().all("band")
    grid = Grid.from_dataarray(raw)
    when = datetime or _tiff_datetime(tags) or dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc)
    return Scene(
        id=p.stem,
        collection=collection,
        platform=platform,
        instrument=instrument,
        processing_level=processing_level,
        datetime=when,
        bands=bands,
        band_info=info,
        valid=valid,
        footprint=grid.footprint(WGS84),
        properties={"proj:epsg": grid.crs.to_epsg(), "proj:shape": list(grid.shape), "hpgeo:raw_nodata": nodata},
        source=str(p),
    )


def _tiff_datetime(tags: dict[str, str]) -> dt.datetime | None:
    v = tags.get("TIFFTAG_DATETIME")  # "YYYY:MM:DD HH:MM:SS"
    try:
        return dt.datetime.strptime(v, "%Y:%m:%d %H:%M:%S").replace(tzinfo=dt.timezone.utc) if v else None
    except ValueError:
        return None


def raster_to_cog(
    src: str | os.PathLike, dst: str | os.PathLike, *, blocksize: int = 512, chunks: int = 2048
) -> Path:
    """Convert ``src`` to a validated COG at ``dst`` with identical pixels, dtype, grid and nodata.

    Reads block by block (dask), so a full tile converts in bounded memory; compression is
    lossless (deflate), overviews use nearest neighbour so they only subsample.
    """
    p = existing_file(src)
    with rasterio.open(p) as ds:
        nodata, names = ds.nodata, [d or f"b{i + 1}" for i, d in enumerate(ds.descriptions)]
        tags = {k: v for k, v in ds.tags().items() if not k.startswith("TIFFTAG_")}
    da = open_lazy(p, chunks=chunks, masked=False)
    tags["hpgeo:source"] = p.name
    return dataarray_to_cog(dst, da, nodata=nodata, band_names=names, tags=tags, blocksize=blocksize)


# -- the registry's view ----------------------------------------------------------------------
def raster_metadata(path: str) -> ProductMeta:
    """Record metadata of a georeferenced raster (a path or a GDAL ``/vsizip/`` path): its bounds in WGS 84 and its
    TIFF date, if any. A raster without CRS (a scan) is refused: it goes through ``hpgeo ingest rectify``."""
    from rasterio.warp import transform_bounds
    from shapely.geometry import box

    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise UnsupportedFile(f"{path} has no CRS (scanned images go through `hpgeo ingest rectify`)")
            bounds = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
            tags = ds.tags()
    except RasterioIOError as exc:
        raise UnsupportedFile(f"GDAL cannot read {path}: {exc}") from None
    return ProductMeta(footprint=box(*bounds), datetime=_tiff_datetime(tags))


class GeoTiffReader:
    """Any GDAL raster: GeoTIFF/COG/JPEG2000 files (VNREDSat-1, SPOT, STAC band assets), loose or in an archive.
    One band per file, named after it; a multi-band file keeps its band names."""

    name = "geotiff"

    def can_describe(self, path: Path) -> bool:
        if archive.is_archive(path):
            return any(n.lower().endswith(RASTER_SUFFIXES) for n in archive.members(path))
        return path.is_file() and path.name.lower().endswith(RASTER_SUFFIXES)

    def describe(self, path: Path) -> ProductMeta:
        if not archive.is_archive(path):
            return raster_metadata(str(path))
        from shapely import union_all

        metas = [raster_metadata(archive.vsi_path(path, n)) for n in archive.members(path) if n.lower().endswith(RASTER_SUFFIXES)]
        return ProductMeta(footprint=union_all([m.footprint for m in metas]).envelope,
                           datetime=next((m.datetime for m in metas if m.datetime), None))

    def key_file(self, folder: Path) -> Path:
        raise UnsupportedFile(f"{folder}: loose rasters are listed one file at a time, not as a folder")

    def can_read(self, fetched: Any) -> bool:
        """Rasters among the fetched files, outside any SAFE folder (a SAFE no SAFE reader takes is refused)."""
        return safe_dir(fetched.paths) is None and bool(rasters(fetched.paths))

    def read(self, fetched: Any) -> Scene:
        rec = fetched.record
        files = rasters(fetched.paths)
        parts = [read_raster(f, collection=rec.collection or "local-imagery", datetime=rec.datetime) for f in files]
        scene = parts[0]
        if len(parts) > 1 or (rec.assets and len(scene.bands) == 1):  # STAC assets: bands named after the asset keys
            for f, part in zip(files, parts):
                if len(part.bands) != 1:
                    raise UnsupportedFile(f"{f.name}: multi-band files must come alone")
            scene.bands = {f.stem: next(iter(p.bands.values())).rename(f.stem) for f, p in zip(files, parts)}
            scene.band_info = {f.stem: next(iter(p.band_info.values())) for f, p in zip(files, parts)}
            scene.valid = None
        return scene

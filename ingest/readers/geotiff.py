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
from ingest.readers.errors import ProductNotFound, ReaderError, UnsupportedProduct
from ingest.scene import BandInfo, Scene

__all__ = ["open_lazy", "read_raster", "raster_to_cog", "existing_file"]


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

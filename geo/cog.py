"""Atomic Cloud-Optimized GeoTIFF writing and validation (rio-cogeo).

``write_cog`` writes into a temporary directory beside the destination (:func:`geo.tempfiles.temp_dir`:
``.<name>.cog.<pid>-<rand>.hpgeo-tmp/``): the raw tiled GeoTIFF, rio-cogeo's own intermediate (it puts a
``tmp*.tif`` beside the output it is given, i.e. inside that directory) and the COG, which is validated and
only then renamed over the destination. A reader never sees a half-written file, and a killed writer leaves
only that directory, which :func:`geo.tempfiles.clean_data_dir` (every writing ``hpgeo`` command) removes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import rasterio
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from geo.errors import InvalidCOG
from geo.grid import Grid
from geo.tempfiles import clean_folder, publish, temp_dir

__all__ = ["write_cog", "validate_cog", "dataarray_to_cog", "clean_stale_temporaries"]

# chunks computed together per write step (2 = the embedded threaded scheduler's 2 workers on the reference machine);
# more per step means more parallelism and more memory
WRITE_BATCH = 2


def validate_cog(path: str | os.PathLike) -> None:
    """Raise :class:`InvalidCOG` with rio-cogeo's reasons unless ``path`` is a valid COG."""
    valid, errors, _warnings = cog_validate(str(path), quiet=True)
    if not valid:
        raise InvalidCOG(f"{path} is not a valid COG: {'; '.join(errors)}")


def clean_stale_temporaries(folder: Path) -> int:
    """Remove the temporaries of killed writers in ``folder`` (not a live writer's); return how many."""
    return len(clean_folder(folder))


def write_cog(
    dst: str | os.PathLike,
    data: np.ndarray,
    grid: Grid,
    *,
    nodata: float | int | None = None,
    band_names: list[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    overview_resampling: str = "nearest",
    compress: str = "deflate",
    blocksize: int = 512,
) -> Path:
    """Write ``data`` (bands, rows, cols) or (rows, cols) on ``grid`` to a validated COG at ``dst``, atomically."""
    arr = np.asarray(data)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.shape[1:] != grid.shape:
        raise InvalidCOG(f"array shape {arr.shape[1:]} does not match {grid}")
    profile = _profile(grid, arr.shape[0], arr.dtype.name, nodata, blocksize)

    def fill(ds: Any) -> None:
        ds.write(arr)

    return _write_atomic(dst, profile, fill, band_names, tags, overview_resampling, compress, blocksize)


def dataarray_to_cog(
    dst: str | os.PathLike,
    da: Any,
    *,
    nodata: float | int | None = None,
    band_names: list[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    overview_resampling: str = "nearest",
    compress: str = "deflate",
    blocksize: int = 512,
) -> Path:
    """Write an xarray DataArray (dask-backed or not, rioxarray georeferencing) as a COG.

    Dask-backed arrays are computed block by block into the temporary GeoTIFF, so memory stays
    bounded by the chunk size, not the image size.
    """
    grid = Grid.from_dataarray(da)
    if da.ndim == 2:
        da = da.expand_dims("band")
    profile = _profile(grid, da.shape[0], np.dtype(da.dtype).name, nodata, blocksize)

    def fill(ds: Any) -> None:
        data = da.data
        if not hasattr(data, "dask"):
            ds.write(np.asarray(data))
            return
        import dask

        # the array's own chunks (no rechunking), WRITE_BATCH of them at a time along each row, computed
        # together (in parallel) and written: peak memory is a few chunks and their inputs, whatever the size
        data = data.rechunk({0: data.shape[0]})
        rows, cols = _offsets(data.chunks[1]), _offsets(data.chunks[2])
        step = max(int(WRITE_BATCH), 1)
        for yi, ys in enumerate(rows):
            for x0 in range(0, len(cols), step):
                xis = range(x0, min(x0 + step, len(cols)))
                blocks = dask.compute(*[data.blocks[0, yi, xi] for xi in xis])
                for xi, block in zip(xis, blocks):
                    xs = cols[xi]
                    ds.write(np.asarray(block), window=rasterio.windows.Window(xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0]))

    return _write_atomic(dst, profile, fill, band_names, tags, overview_resampling, compress, blocksize)


def _profile(grid: Grid, count: int, dtype: str, nodata: float | int | None, blocksize: int) -> dict[str, Any]:
    """The tiled GeoTIFF profile of the temporary file that rio-cogeo converts."""
    return {
        "driver": "GTiff",
        "height": grid.height,
        "width": grid.width,
        "count": count,
        "dtype": dtype,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": blocksize,
        "blockysize": blocksize,
    }


def _offsets(chunks: tuple[int, ...]) -> list[tuple[int, int]]:
    out, start = [], 0
    for c in chunks:
        out.append((start, start + c))
        start += c
    return out


def _write_atomic(
    dst: str | os.PathLike,
    profile: dict[str, Any],
    fill: Any,
    band_names: list[str] | None,
    tags: Mapping[str, Any] | None,
    overview_resampling: str,
    compress: str,
    blocksize: int,
) -> Path:
    dst = Path(dst)
    with temp_dir(dst, "cog") as work:
        raw, out = work / "raw.tif", work / "cog.tif"
        with rasterio.open(raw, "w", **profile) as ds:
            fill(ds)
            if tags:
                ds.update_tags(**{k: str(v) for k, v in tags.items()})
            if band_names:
                for i, name in enumerate(band_names, start=1):
                    ds.set_band_description(i, name)
        cog_profile = cog_profiles.get(compress).copy()
        cog_profile.update(blockxsize=blocksize, blockysize=blocksize)
        if profile["dtype"] in ("float32", "float64") and compress == "deflate":
            cog_profile["predictor"] = 3
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS", GDAL_TIFF_OVR_BLOCKSIZE=str(blocksize)):
            cog_translate(
                str(raw),
                str(out),
                cog_profile,
                overview_resampling=overview_resampling,
                overview_level=None,
                quiet=True,
                in_memory=False,
                use_cog_driver=False,
            )
        validate_cog(out)
        publish(out, dst)
        return dst


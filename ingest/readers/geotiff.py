"""Plain rasters GDAL can read (GeoTIFF, JPEG2000, ...): VNREDSat-1, SPOT, local archives.

:func:`read_raster` opens a georeferenced raster lazily as a :class:`Scene` (float32, GDAL's per-band
scale/offset applied, nodata → NaN). :func:`raster_to_cog` converts any raster to a Cloud-Optimized
GeoTIFF with *identical* pixels: same dtype, same grid (shape, transform, CRS), no resampling,
lossless compression; only overviews (nearest) are added.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
from rasterio.errors import RasterioIOError

from base.paths import UnsafePath, safe_name

from geo.cog import dataarray_to_cog
from geo.crs import WGS84
from geo.gdal import UnsafeRaster, check_georeference, open_checked, safe_env
from geo.grid import Grid
from ingest.readers import archive
from ingest.readers.errors import ProductNotFound, ReaderError, UnsupportedProduct
from ingest.readers.product import RASTER_SUFFIXES, ProductMeta, rasters, safe_dir
from ingest.scene import BandInfo, Scene
from ingest.sources.errors import UnsupportedFile

__all__ = ["COMMON_NAMES", "parse_band_roles", "band_roles_from_metadata", "open_lazy", "read_raster", "raster_to_cog", "existing_file", "raster_metadata", "safe_band_names", "GeoTiffReader"]


def existing_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise ProductNotFound(f"raster not found: {p}")
    return p


@contextlib.contextmanager
def _checked(p: Path) -> Iterator[Any]:
    """:func:`geo.gdal.open_checked`, its refusals as the readers' :class:`UnsupportedProduct` (exit code 2)."""
    try:
        with open_checked(p) as ds:
            yield ds
    except UnsafeRaster as exc:
        raise UnsupportedProduct(str(exc)) from None


def open_lazy(path: str | os.PathLike, *, chunks: int = 1024, masked: bool = False) -> Any:
    """``rioxarray.open_rasterio`` with dask chunks (band, y, x) of a raster :func:`geo.gdal.open_checked` accepts
    (GeoTIFF/JPEG 2000 only, size and pixel limits, georeferenced); the lazy reads are pinned to the driver that
    was checked, so GDAL never parses the file as anything else (a VRT named ``.tif``). Raises reader errors."""
    import rioxarray

    p = existing_file(path)
    with _checked(p) as ds:
        driver = ds.driver
        check_georeference(ds, p.name)
    try:
        with safe_env():
            da = rioxarray.open_rasterio(p, chunks={"band": 1, "y": chunks, "x": chunks}, masked=masked, driver=driver)
    except RasterioIOError as exc:
        raise UnsupportedProduct(f"GDAL cannot read {p.name}: {exc}") from exc
    if da.rio.crs is None:
        raise UnsupportedProduct(f"{p.name} has no CRS; georeference a scan with `hpgeo ingest rectify`")
    return da


def safe_band_names(descriptions: Sequence[str | None]) -> list[str]:
    """Band names from a file's band descriptions (file contents: they become file names), made safe: characters
    other than letters, digits and ``._@+=-`` become ``_``; an empty, unsafe or repeated one becomes ``b<N>``."""
    out: list[str] = []
    for i, d in enumerate(descriptions):
        name = re.sub(r"[^A-Za-z0-9._@+=-]", "_", d or "").lstrip("._-")[:100]
        try:
            safe_name(name, "band name")
        except UnsafePath:
            name = ""
        out.append(name if name and name not in out else f"b{i + 1}")
    return out


#: STAC ``eo:common_name`` values (eo extension v1.1): the band roles products bind to
COMMON_NAMES = ("coastal", "blue", "green", "red", "yellow", "pan", "rededge", "rededge071", "rededge075", "rededge078",
                "nir", "nir08", "nir09", "cirrus", "swir16", "swir22", "lwir", "lwir11", "lwir12")
_ROLE_TAGS = ("COMMON_NAME", "common_name", "EO_COMMON_NAME", "eo_common_name")


def parse_band_roles(spec: str | Sequence[str | None], count: int | None = None) -> list[str | None]:
    """Band roles given by the user, one per band in band order: ``"blue,green,red,nir"`` (``-`` or empty for a
    band with no role) or a list of the same. Each role must be an ``eo:common_name``; none may repeat."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    roles = [(r or "").strip().lower() or None for r in items]
    roles = [None if r == "-" else r for r in roles]
    bad = [r for r in roles if r is not None and r not in COMMON_NAMES]
    if bad:
        raise ReaderError(f"unknown band role(s) {', '.join(bad)}; use eo:common_name values: {', '.join(COMMON_NAMES)} (or - for none)")
    named = [r for r in roles if r]
    if len(set(named)) != len(named):
        raise ReaderError(f"band roles repeat: {', '.join(r for r in dict.fromkeys(named) if named.count(r) > 1)}")
    if count is not None and len(roles) != count:
        raise ReaderError(f"{len(roles)} band role(s) given for {count} band(s); give one per band (- for none)")
    return roles


def band_roles_from_metadata(descriptions: Sequence[str | None], band_tags: Sequence[dict[str, str]]) -> list[str | None]:
    """Band roles the file itself states: a band tag ``COMMON_NAME`` (or ``common_name``/``EO_COMMON_NAME``), else a
    band description that *is* a common name (``green``, ``NIR``). Nothing is guessed from band order or count."""
    out: list[str | None] = []
    for d, tags in zip(descriptions, band_tags):
        role = next((tags[k].strip().lower() for k in _ROLE_TAGS if tags.get(k)), None) or (d or "").strip().lower()
        out.append(role if role in COMMON_NAMES else None)
    named = [r for r in out if r]
    if len(set(named)) != len(named):  # a file naming two bands "nir" states nothing usable
        return [None] * len(out)
    return out


def read_raster(
    path: str | os.PathLike,
    *,
    band_names: list[str] | None = None,
    band_roles: Sequence[str | None] | None = None,
    collection: str = "local-archive",
    platform: str = "unknown",
    instrument: str = "unknown",
    processing_level: str = "L1",
    datetime: dt.datetime | None = None,
    chunks: int = 1024,
    categorical: bool | None = None,
) -> Scene:
    """A georeferenced raster as a Scene of float32 bands (lazy), or of its own integer bands when categorical.

    A categorical raster (class codes: a label map) is one of integer dtype with a colour table, or any integer
    raster with ``categorical=True`` (CLI ``--categorical``); ``categorical=False`` reads a coloured raster as
    values. Its bands keep their dtype and codes (no scale/offset; one that has them is refused), are marked
    categorical (nearest resampling, nearest overviews) and carry the colour table as classes
    (``classification:classes``). Nodata is the file's, else the dtype's extreme value (minimum of a signed
    type, maximum of an unsigned one), which must then not be a class code.

    Band names come from ``band_names``, else the file's band descriptions, else ``b1, b2, ...``.
    Band roles (``eo:common_name``, what products bind to) come from ``band_roles`` (one per band, None for
    none), else from the file's own metadata (:func:`band_roles_from_metadata`), else none: a band without a
    role is never used as if it were green or NIR. ``properties["hpgeo:band_roles"]`` says where they came from.
    Pixel values are ``raw * scale + offset`` (GDAL band metadata; 1 and 0 when unset); nodata
    becomes NaN and ``valid`` is True where every band has data.
    """
    p = existing_file(path)
    with _checked(p) as ds:
        count, scales, offsets, nodata = ds.count, ds.scales, ds.offsets, ds.nodata
        descr = safe_band_names(ds.descriptions)
        tags = ds.tags()
        meta_roles = band_roles_from_metadata(ds.descriptions, [ds.tags(i) for i in range(1, count + 1)])
        dtypes = ds.dtypes
        tables = [_colour_table(ds, i) for i in range(1, count + 1)]
    is_int = all(np.dtype(d).kind in "iu" for d in dtypes)
    if categorical and not is_int:
        raise ReaderError(f"{p.name} is {dtypes[0]}, not an integer raster: a categorical raster holds integer class codes")
    if categorical is None:
        categorical = is_int and any(tables)
    names = band_names or descr
    if len(names) != count:
        raise ReaderError(f"{p.name} has {count} bands but {len(names)} names were given")
    if band_roles is not None:
        roles, roles_from = parse_band_roles(band_roles, count), "given"
    else:
        roles, roles_from = meta_roles, "file metadata" if any(meta_roles) else "none"
    if categorical:
        bands, info, valid = _categorical_bands(p, names, roles, scales, offsets, nodata, tables, chunks)
        raw = next(iter(bands.values()))
    else:
        bands, info, valid, raw = _value_bands(p, names, roles, scales, offsets, chunks)
    grid = Grid.from_dataarray(raw)
    when = datetime or _tiff_datetime(tags) or dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc)
    extra: dict[str, Any] = {}
    rect = rectification(tags)
    if rect is not None:  # a scan georeferenced by `hpgeo ingest rectify`: its GCP fit goes with the item
        extra["hpgeo:rectification"] = rect
        rms = rect["loo_rms_map"] if rect["loo_rms_map"] is not None else rect["rms_map"]
        kind = "leave-one-out" if rect["loo_rms_map"] is not None else "fit (no spare GCP)"
        extra["tt09:accuracy"] = f"GCP {kind} RMS {rms:.2f} m ({rect['method']}, {rect['gcps']} GCPs)"
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
        properties={"proj:epsg": grid.crs.to_epsg(), "proj:shape": list(grid.shape), "hpgeo:raw_nodata": nodata,
                    "hpgeo:band_roles": {"source": roles_from, "roles": {n: r for n, r in zip(names, roles) if r}}, **extra},
        source=str(p),
    )


def _value_bands(p: Path, names: Sequence[str], roles: Sequence[str | None], scales: Sequence[float], offsets: Sequence[float],
                 chunks: int) -> tuple[dict[str, Any], dict[str, BandInfo], Any, Any]:
    """Float32 bands in physical units (``raw * scale + offset``, nodata → NaN), their infos, the valid mask, the raw array."""
    raw = open_lazy(p, chunks=chunks, masked=True)
    bands, info = {}, {}
    for i, name in enumerate(names):
        b = raw.isel(band=i, drop=True).astype(np.float32) * np.float32(scales[i]) + np.float32(offsets[i])
        bands[name] = b.rio.write_crs(raw.rio.crs).rename(name)
        info[name] = BandInfo(name=name, nodata=float("nan"), scale=scales[i], offset=offsets[i], common_name=roles[i])
    return bands, info, raw.notnull().all("band"), raw


def _categorical_bands(p: Path, names: Sequence[str], roles: Sequence[str | None], scales: Sequence[float], offsets: Sequence[float],
                       nodata: float | None, tables: Sequence[tuple[tuple[int, str], ...]], chunks: int
                       ) -> tuple[dict[str, Any], dict[str, BandInfo], Any]:
    """The file's integer bands as they are (class codes), marked categorical, with their colour tables as classes."""
    if any(s != 1 for s in scales) or any(o != 0 for o in offsets):
        raise ReaderError(f"{p.name} has a scale/offset: its values are measurements, not class codes; ingest it without --categorical")
    raw = open_lazy(p, chunks=chunks, masked=False)
    dtype = np.dtype(raw.dtype)
    if nodata is not None:
        if not float(nodata).is_integer() or not np.iinfo(dtype).min <= nodata <= np.iinfo(dtype).max:
            raise ReaderError(f"{p.name}: nodata {nodata} is not a {dtype.name} value")
        fill = int(nodata)
    else:  # the reprojection needs a value for pixels outside the source: the dtype's extreme, unused by labels
        fill = int(np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max)
    bands, info = {}, {}
    for i, name in enumerate(names):
        b = raw.isel(band=i, drop=True).rio.write_nodata(fill, encoded=False)
        bands[name] = b.rio.write_crs(raw.rio.crs).rename(name)
        info[name] = BandInfo(name=name, nodata=fill, categorical=True, common_name=roles[i], classes=tables[i] or None)
    valid = (raw != fill).all("band") if nodata is not None else None
    return bands, info, valid


def _colour_table(ds: Any, bidx: int) -> tuple[tuple[int, str], ...]:
    """A band's colour table as ``((code, "#rrggbb"), ...)``, without the padding GDAL adds after the last entry
    (opaque black up to 2^bits entries); empty when the band has none."""
    try:
        cmap = ds.colormap(bidx)
    except ValueError:  # "NULL color table"
        return ()
    entries = sorted(cmap.items())
    while entries and tuple(entries[-1][1]) == (0, 0, 0, 255):
        entries.pop()
    return tuple((int(k), "{:02x}{:02x}{:02x}".format(*v[:3])) for k, v in entries)


SCANNED_ARCHIVE = "scanned-archive"


def rectification(tags: dict[str, str]) -> dict[str, Any] | None:
    """What ``hpgeo ingest rectify`` wrote into a rectified scan's GDAL metadata (method, GCP count, fit and
    leave-one-out RMS in pixels and map units, per-GCP residuals, warnings), or None for any other raster."""
    import json

    method = tags.get("HPGEO_RECTIFY_METHOD")
    if not method:
        return None

    def num(key: str) -> float | None:
        try:
            return float(tags[key])
        except (KeyError, ValueError):
            return None

    try:
        residuals = json.loads(tags.get("HPGEO_GCP_RESIDUALS", "[]"))
    except ValueError:
        residuals = []
    warn = tags.get("HPGEO_RECTIFY_WARNINGS")
    return {"method": method, "gcps": int(num("HPGEO_GCPS") or 0), "spare_gcps": int(num("HPGEO_SPARE_GCPS") or 0),
            "rms_pixels": num("HPGEO_RMS_PIXELS"), "rms_map": num("HPGEO_RMS_MAP"),
            "loo_rms_pixels": num("HPGEO_LOO_RMS_PIXELS"), "loo_rms_map": num("HPGEO_LOO_RMS_MAP"),
            "residuals": residuals, "warnings": warn.split(" | ") if warn else [], "source": tags.get("HPGEO_SOURCE")}


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
    with _checked(p) as ds:
        nodata, names = ds.nodata, safe_band_names(ds.descriptions)
        tags = {k: v for k, v in ds.tags().items() if not k.startswith("TIFFTAG_")}
    da = open_lazy(p, chunks=chunks, masked=False)
    tags["hpgeo:source"] = p.name
    return dataarray_to_cog(dst, da, nodata=nodata, band_names=names, tags=tags, blocksize=blocksize)


# -- the registry's view ----------------------------------------------------------------------
def raster_metadata(path: str, *, in_archive: bool = False) -> ProductMeta:
    """Record metadata of a georeferenced raster (a path, or with ``in_archive`` the GDAL ``/vsizip/`` path hpgeo built
    for a member of a checked archive): its bounds in WGS 84 and its TIFF date, if any. Opened through
    :func:`geo.gdal.open_checked` (accepted formats, limits, no complex); a raster without CRS (a scan: it goes through
    ``hpgeo ingest rectify``), with a zero pixel size or a mislabelled CRS is refused (:class:`geo.gdal.UnsafeRaster`)."""
    from shapely.geometry import box

    name = path.rsplit("/", 1)[-1]
    try:
        with open_checked(path, allow_vsi=in_archive) as ds:
            bounds = check_georeference(ds, name)
            tags = ds.tags()
    except UnsafeRaster as exc:  # the listing's error: this file is not one hpgeo ingests
        raise UnsupportedFile(str(exc)) from None
    when = _tiff_datetime(tags)
    if rectification(tags) is not None:  # a rectified scan: catalogued in scanned-archive, never dated by its mtime
        if when is None:
            raise UnsupportedFile(f"{name} is a rectified scan without an acquisition date; "
                                  "re-run `hpgeo ingest rectify` with --datetime")
        return ProductMeta(footprint=box(*bounds), datetime=when, collection=SCANNED_ARCHIVE, platform="scanned-archive")
    return ProductMeta(footprint=box(*bounds), datetime=when)


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

        metas = [raster_metadata(archive.vsi_path(path, n), in_archive=True) for n in archive.members(path) if n.lower().endswith(RASTER_SUFFIXES)]
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
        roles = rec.properties.get("hpgeo:band_roles")  # given by the user (LocalSource(band_roles=…), --bands)
        if roles is not None and len(files) != 1:
            raise UnsupportedFile(f"{rec.id}: band roles are given for one multi-band file, not for {len(files)} files")
        categorical = rec.properties.get("hpgeo:categorical")  # given by the user (LocalSource(categorical=…), --categorical)
        parts = [read_raster(f, collection=rec.collection or "local-imagery", datetime=rec.datetime, band_roles=roles,
                             categorical=categorical) for f in files]
        scene = parts[0]
        if len(parts) > 1 or (rec.assets and len(scene.bands) == 1):  # STAC assets: bands named after the asset keys
            for f, part in zip(files, parts):
                if len(part.bands) != 1:
                    raise UnsupportedFile(f"{f.name}: multi-band files must come alone")
            names = safe_band_names([f.stem for f in files])  # file names from archives and hubs: made safe
            scene.bands = {n: next(iter(p.bands.values())).rename(n) for n, p in zip(names, parts)}
            scene.band_info = {n: next(iter(p.band_info.values())) for n, p in zip(names, parts)}
            scene.valid = None
        return scene

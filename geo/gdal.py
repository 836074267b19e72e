"""GDAL, hardened: what hpgeo lets GDAL open, and how.

GDAL follows whatever a file tells it to: a VRT's ``SourceFilename`` can name ``/etc/passwd`` or a
``/vsicurl/`` URL (the TiTiler #1180 class of bug), a GeoTIFF can be a 200,000² sparse file that is
tiny on disk. Every process that opens user or remote data goes through :func:`open_checked`:

* only an allowlist of drivers (``INGEST_DRIVERS``: GeoTIFF/COG and JPEG 2000, the formats of the
  SAFE and Landsat products and of local rasters; the scan reader adds PNG/JPEG) — checked by what
  GDAL actually opened, not by the file name, so a VRT called ``.tif`` is refused;
* no GDAL virtual path (``/vsi…``) or URL from file contents or callers, except the ``/vsizip/`` and
  ``/vsitar/`` paths hpgeo builds itself for members of an archive it has checked (``allow_vsi``);
* every file GDAL touched for the dataset must be the file itself or its own sidecars in the same folder;
* a file-size and a pixel-count limit before any pixel is read; complex rasters refused (they would
  lose their imaginary part silently);
* :data:`SAFE_ENV` for every open: no directory listing on open, curl limited to raster extensions.

All refusals raise :class:`UnsafeRaster` (an :class:`~base.errors.InvalidRequest`: HTTP 400, exit code 2).
A remote raster (``/vsicurl/``) whose server cannot serve it is the server's failure, not the file's:
:class:`RemoteRangeUnsupported` when it ignores HTTP range requests (GDAL reads a COG by ranges; it stops at
the first answer instead of downloading the whole file), :class:`RemoteUnavailable` when it does not answer
or answers an HTTP error (both :class:`~base.errors.UpstreamUnavailable`: HTTP 502).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import rasterio
from rasterio.errors import RasterioIOError
from rasterio.io import DatasetReader

from base.errors import UpstreamUnavailable
from geo.errors import GeoError

__all__ = [
    "UnsafeRaster", "RemoteUnavailable", "RemoteRangeUnsupported", "SAFE_ENV", "INGEST_DRIVERS", "SCAN_DRIVERS", "MAX_PIXELS", "MAX_FILE_BYTES",
    "safe_env", "open_checked", "check_dataset", "check_georeference", "BadGeoreference",
]

INGEST_DRIVERS: tuple[str, ...] = ("GTiff", "COG", "JP2OpenJPEG")
SCAN_DRIVERS: tuple[str, ...] = INGEST_DRIVERS + ("PNG", "JPEG")
MAX_PIXELS = 2_000_000_000  # per band: a 44,721² raster; a full 10980² Sentinel-2 tile is 1.2e8
MAX_FILE_BYTES = 8 << 30  # 8 GiB

SAFE_ENV: dict[str, Any] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF,.jp2,.JP2",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_TIMEOUT": "60",
    "VSI_CACHE": "FALSE",
}

_ARCHIVE_VSI = ("/vsizip/", "/vsitar/", "/vsigzip/")


class UnsafeRaster(GeoError):
    """A raster GDAL must not open (wrong driver, indirection, too large, complex)."""


class RemoteUnavailable(UpstreamUnavailable):
    """The server of a remote raster did not answer, or answered an HTTP error."""


class RemoteRangeUnsupported(RemoteUnavailable):
    """The server of a remote raster ignores HTTP range requests, so it cannot be read as a COG."""


_NO_RANGE = "range downloading not supported"
_HTTP_FAILURE = ("http response code", "http error code", "couldn't connect", "could not connect", "connection refused",
                 "timed out", "timeout was reached", "could not resolve", "empty reply", "recv failure")


def _probe_ranges(url: str, timeout: float = 10.0) -> str | None:
    """Ask an http(s) server for one byte: ``"no-range"`` when it answers 200 with the whole file instead of 206,
    ``"unavailable: …"`` when it does not answer or answers an HTTP error, None when it serves ranges. Reads at
    most one byte of the body, so a server without range support is never downloaded from."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, headers={"Range": "bytes=0-0", "User-Agent": "hpgeo"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (a URL under the configured remote prefixes)
            status = r.status
            r.read(1)
    except urllib.error.HTTPError as exc:
        return f"unavailable: HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return f"unavailable: {getattr(exc, 'reason', exc)}"
    return "no-range" if status == 200 else None


def _remote_error(path: str, exc: Exception) -> Exception | None:
    """The upstream error a GDAL failure on a remote path stands for, or None when it is about the file itself.

    GDAL's own message names the cause only sometimes (with a driver list it says "not recognized"), so the
    server of an http(s) path is asked directly (:func:`_probe_ranges`)."""
    low_path = path.lower()
    if not low_path.startswith(("/vsicurl/", "/vsis3/", "/vsigs/")):
        return None
    msg, url = str(exc), path[len("/vsicurl/"):] if low_path.startswith("/vsicurl/") else path
    probe = _probe_ranges(url) if url.lower().startswith(("http://", "https://")) else None
    if probe == "no-range" or _NO_RANGE in msg.lower():
        return RemoteRangeUnsupported(
            f"the server of {url[:200]} does not support HTTP range requests, so the COG cannot be read remotely "
            "(hpgeo reads only the parts it needs and does not download whole files on the fly); serve it from a "
            "server that answers 'Range: bytes=…' with 206 Partial Content, or download it and ingest the local copy")
    if probe is not None:
        return RemoteUnavailable(f"the server of {url[:200]} cannot serve the raster ({probe[len('unavailable: '):][:200]})")
    if any(k in msg.lower() for k in _HTTP_FAILURE):
        return RemoteUnavailable(f"the server of {url[:200]} cannot serve the raster: {msg[:200]}")
    return None


class BadGeoreference(UnsafeRaster):
    """A raster whose CRS or geotransform cannot place it on the Earth (none, zero pixel size, mislabelled CRS)."""


def safe_env(**extra: Any) -> rasterio.Env:
    """A ``rasterio.Env`` with :data:`SAFE_ENV` (plus ``extra``)."""
    return rasterio.Env(**{**SAFE_ENV, **extra})


def _check_path(path: str, allow_vsi: bool, allow_remote: bool) -> None:
    if "\x00" in path:
        raise UnsafeRaster("NUL byte in a raster path")
    low = path.lower()
    if low.startswith("/vsi"):
        if allow_remote and low.startswith(("/vsicurl/", "/vsis3/", "/vsigs/")):
            return
        if allow_vsi and low.startswith(_ARCHIVE_VSI) and "/vsi" not in low[len("/vsizip/"):]:
            return
        raise UnsafeRaster(f"GDAL virtual path refused: {path[:120]!r}")
    if "://" in path:
        raise UnsafeRaster(f"URL refused where a file is expected: {path[:120]!r}")


def check_dataset(ds: Any, path: str, *, drivers: Sequence[str] = INGEST_DRIVERS, max_pixels: int = MAX_PIXELS,
                  allow_complex: bool = False) -> None:
    """Refuse an opened dataset that is not one of ``drivers``, touches other files, is too large or complex."""
    if ds.driver not in drivers:
        raise UnsafeRaster(f"{Path(path).name}: format {ds.driver} is not accepted (accepted: {', '.join(drivers)})")
    if ds.width <= 0 or ds.height <= 0 or ds.count <= 0:
        raise UnsafeRaster(f"{Path(path).name}: empty raster ({ds.width}×{ds.height}, {ds.count} band(s))")
    if ds.width * ds.height > max_pixels:
        raise UnsafeRaster(f"{Path(path).name}: {ds.width}×{ds.height} pixels is over the limit of {max_pixels:,} per band")
    if not allow_complex and any(str(dt).startswith("complex") for dt in ds.dtypes):
        raise UnsafeRaster(f"{Path(path).name}: complex-valued bands ({ds.dtypes[0]}) are not accepted; give amplitude or intensity")
    if not path.lower().startswith("/vsi"):
        own = Path(os.path.realpath(path))
        for f in ds.files or []:
            fp = Path(os.path.realpath(f))
            if fp != own and (fp.parent != own.parent or not fp.name.startswith(own.name)):
                raise UnsafeRaster(f"{own.name}: refers to another file ({fp.name}); indirection is not accepted")


@contextlib.contextmanager
def open_checked(path: str | os.PathLike[str], *, drivers: Sequence[str] = INGEST_DRIVERS, max_pixels: int = MAX_PIXELS,
                 max_bytes: int = MAX_FILE_BYTES, allow_vsi: bool = False, allow_remote: bool = False,
                 allow_complex: bool = False) -> Iterator[Any]:
    """Open ``path`` read-only with :func:`safe_env`, only with ``drivers``, and :func:`check_dataset` it.

    ``allow_vsi`` admits the archive paths hpgeo builds itself (``/vsizip/<checked archive>/<member>``);
    ``allow_remote`` admits ``/vsicurl/``/``/vsis3/`` paths whose URL was checked against the configured
    prefixes (:func:`ingest.items.resolve_href`).
    """
    p = os.fspath(path)
    _check_path(p, allow_vsi, allow_remote)
    if not p.lower().startswith("/vsi"):
        try:
            size = os.stat(p).st_size
        except OSError as exc:
            raise UnsafeRaster(f"cannot read {Path(p).name}: {exc.strerror}") from exc
        if size == 0:
            raise UnsafeRaster(f"{Path(p).name} is empty (0 bytes)")
        if size > max_bytes:
            raise UnsafeRaster(f"{Path(p).name} is {size:,} bytes, over the limit of {max_bytes:,}")
    with safe_env():
        try:
            # rasterio.open takes one driver name; its DatasetReader passes a list to GDALOpenEx as the only
            # drivers GDAL may try, so a VRT (or any other format) is never even parsed
            ds = DatasetReader(p, driver=list(drivers))
        except RasterioIOError as exc:
            remote = _remote_error(p, exc)
            if remote is not None:
                raise remote from None
            raise UnsafeRaster(f"{Path(p).name} is not a readable raster in an accepted format ({', '.join(drivers)}): {exc}") from exc
        try:
            check_dataset(ds, p, drivers=drivers, max_pixels=max_pixels, allow_complex=allow_complex)
            yield ds
        finally:
            ds.close()


def check_georeference(ds: Any, name: str) -> tuple[float, float, float, float]:
    """The WGS 84 bounds (w, s, e, n) of an opened dataset, or :class:`BadGeoreference` when it cannot be placed:
    no CRS, a zero or non-finite pixel size, a geographic CRS whose bounds are not degrees (a transform in metres
    labelled EPSG:4326), or a CRS that cannot be transformed to longitude/latitude."""
    import math

    from rasterio.warp import transform_bounds

    if ds.crs is None:
        raise BadGeoreference(f"{name} has no CRS (scanned images go through `hpgeo ingest rectify`)")
    t = ds.transform
    coef = (t.a, t.b, t.c, t.d, t.e, t.f)
    if not all(math.isfinite(v) for v in coef) or t.a * t.e - t.b * t.d == 0:
        raise BadGeoreference(f"{name}: geotransform {coef} has a zero or non-finite pixel size")
    left, bottom, right, top = ds.bounds
    try:
        geographic = ds.crs.is_geographic
    except Exception as exc:  # GDAL/PROJ cannot interpret the CRS at all
        raise BadGeoreference(f"{name}: CRS cannot be interpreted: {exc}") from None
    if geographic and not (-180.5 <= min(left, right) and max(left, right) <= 360.5
                           and -90.5 <= min(bottom, top) and max(bottom, top) <= 90.5):
        raise BadGeoreference(f"{name}: geographic CRS but bounds {tuple(round(v, 3) for v in ds.bounds)} are not degrees "
                              "(is the CRS mislabelled?)")
    try:
        with safe_env():
            w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", left, bottom, right, top, densify_pts=21)
    except Exception as exc:  # rasterio/PROJ raise several kinds (CPLE_AppDefinedError, ProjError, CRSError)
        raise BadGeoreference(f"{name}: its CRS cannot be transformed to longitude/latitude: {exc}") from None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or not (-180.5 <= w <= e <= 180.5 and -90.5 <= s <= n <= 90.5):
        raise BadGeoreference(f"{name}: bounds in longitude/latitude {(w, s, e, n)} are not on the Earth")
    return w, s, e, n

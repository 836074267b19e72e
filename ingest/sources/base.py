"""The source protocol: search an area and period for scene records; fetch one scene to verified local files.

Every driver (DHuS via sentinelsat, STAC via pystac-client, Copernicus Data Space OData, local
folders/archives) is a context manager with the same two verbs::

    with StacSource("https://earth-search.aws.element84.com/v1") as src:
        for record in src.search(aoi, "2024-01-01/2024-01-31", collections=["sentinel-2-l2a"]):
            fetched = src.fetch(record, Path("downloads"))

Inputs are normalised once here: an area is an :class:`~geo.aoi.AOI`, a shapely geometry (WGS 84),
a GeoJSON geometry dict or a ``(w, s, e, n)`` bbox; an interval is anything
:func:`ingest.catalog.parse_interval` accepts.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from base.paths import safe_name
from ingest.catalog.query import Interval, parse_bbox, parse_interval
from ingest.sources.errors import InvalidSourceQuery

__all__ = ["Checksum", "SceneRecord", "FetchedScene", "Source", "Progress", "as_geometry", "as_interval", "target_collection", "remote_href"]

# progress callback: (bytes done, bytes total or None)
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Checksum:
    """A published checksum: algorithm name as hashlib knows it (``md5``, ``sha256``, ``sha3_256``...) and hex value."""

    algorithm: str
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", normalise_algorithm(self.algorithm))
        object.__setattr__(self, "value", self.value.strip().lower())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


def normalise_algorithm(name: str) -> str:
    """'MD5' → 'md5', 'SHA-256' → 'sha256', 'SHA3-256' → 'sha3_256'."""
    n = name.strip().lower().replace("-", "").replace("_", "")
    if n.startswith("sha3"):
        return "sha3_" + n[4:]
    return n


@dataclass(frozen=True)
class SceneRecord:
    """What a search finds: one product at a hub, not yet downloaded."""

    id: str  # product name without extension (e.g. S1A_IW_GRDH_1SDV_...), the catalog item id
    title: str
    source: str  # driver kind: dhus, stac, odata, local
    platform: str | None
    product_type: str | None
    datetime: dt.datetime
    footprint: BaseGeometry  # WGS 84
    collection: str | None  # hpgeo input collection this scene belongs to (sentinel-1-grd ...), if known
    cloud_cover: float | None = None
    size: int | None = None  # bytes
    checksum: Checksum | None = None
    download_url: str | None = None
    quicklook_url: str | None = None
    remote_id: str | None = None  # the hub's own id (DHuS/OData uuid, STAC item id, path)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)  # STAC: asset key → {href, type, roles, checksum, size}
    properties: dict[str, Any] = field(default_factory=dict, compare=False)  # raw properties as the hub sent them

    def __post_init__(self) -> None:
        """The id and the asset keys become folder and file names on ``--download`` (``raw/<kind>/<id>/<key>.tif``,
        ``ard/<collection>/<id>/``): each must be one safe path component (:func:`base.paths.safe_name`), or the
        record is refused (:class:`base.paths.UnsafePath`, exit code 2) before anything is written."""
        safe_name(self.id, f"{self.source} scene id")
        for key in self.assets:
            safe_name(key, f"asset key of {self.id}")


@dataclass(frozen=True)
class FetchedScene:
    """A scene on local disk, every file verified (size and checksum when the source published them)."""

    record: SceneRecord
    paths: tuple[Path, ...]  # product files (an archive, a SAFE directory, band COGs ...)
    root: Path  # the directory holding them
    checksum: str  # what identifies these bytes: the published checksum, or sha256 of the first file

    @property
    def path(self) -> Path:
        return self.paths[0]


class Source(abc.ABC):
    """A place scenes come from. Context manager; ``search`` is lazy (pages are fetched as you iterate)."""

    kind: str = "source"
    list_before_fetch: bool = True
    """With ``--download``, put the search's records in the catalog before fetching (a hub: a killed download leaves
    its record listed); False for local files, whose record appears only with their analysis-ready item."""

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release sessions and connections."""

    @abc.abstractmethod
    def search(self, aoi: Any, interval: Any, **filters: Any) -> Iterator[SceneRecord]:
        """Scene records over ``aoi`` acquired within ``interval``."""

    @abc.abstractmethod
    def fetch(self, record: SceneRecord, dest_dir: Path, progress: Progress | None = None) -> FetchedScene:
        """Download (or copy/extract) the scene into ``dest_dir`` and verify it."""


def remote_href(href: Any, base: str | None, hosts: Sequence[str] | None = None) -> str | None:
    """An href from a STAC document as the absolute http(s) URL it names, or None (the caller drops it, with a warning).

    A relative href is resolved against ``base`` (the item's own URL: its self link, else the search URL). The result
    must be http(s) with a host and no user info; local paths, ``file:``, GDAL ``/vsi…`` paths, other schemes, and
    relative hrefs without a base (or resolving to anything but http(s)) are refused. ``hosts``, when given, also
    restricts the host: the host of ``base`` or one of ``hosts`` (e.g. the signed asset hosts of a provider)."""
    from urllib.parse import urljoin, urlsplit

    if not isinstance(href, str) or not href or len(href) > 8192 or any(ord(c) < 32 for c in href):
        return None
    if href.lower().startswith("/vsi"):
        return None
    absolute = urljoin(base, href) if base else href
    try:
        parts = urlsplit(absolute)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        return None
    if hosts is not None:
        allowed = {h.lower() for h in hosts} | ({urlsplit(base).hostname or ""} if base else set())
        if host.lower() not in allowed:
            return None
    return absolute


def as_geometry(aoi: Any) -> BaseGeometry | None:
    """An AOI, geometry, GeoJSON dict, ``"w,s,e,n"`` or 4-tuple → a WGS 84 shapely geometry (None stays None)."""
    if aoi is None:
        return None
    if hasattr(aoi, "geometry") and isinstance(aoi.geometry, BaseGeometry):
        return aoi.geometry
    if isinstance(aoi, BaseGeometry):
        geom = aoi
    elif isinstance(aoi, dict):
        try:
            geom = shape(aoi.get("geometry", aoi))
        except Exception as exc:  # shapely raises several kinds
            raise InvalidSourceQuery(f"area is not a GeoJSON geometry: {exc}") from exc
    else:
        try:
            bbox = parse_bbox(aoi)
        except Exception as exc:
            raise InvalidSourceQuery(str(exc)) from exc
        if bbox is None:
            return None
        geom = box(*bbox)
    if geom.is_empty:
        raise InvalidSourceQuery("area is empty")
    w, s, e, n = geom.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InvalidSourceQuery(f"area bounds {geom.bounds} are not WGS 84 longitude/latitude")
    return geom


def as_interval(interval: Any) -> Interval | None:
    """``"A/B"``, a (start, end) tuple of datetimes or strings, or an Interval → Interval."""
    if isinstance(interval, tuple) and len(interval) == 2:
        a, b = (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else (v or "..") for v in interval)
        interval = f"{a}/{b}"
    try:
        return parse_interval(interval)
    except Exception as exc:
        raise InvalidSourceQuery(str(exc)) from exc


def geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A plain GeoJSON dict (lists, not tuples) of a shapely geometry."""
    import json

    return json.loads(json.dumps(mapping(geom)))


# product type or hub collection → hpgeo input collection
_COLLECTIONS = {
    "GRD": "sentinel-1-grd",
    "sentinel-1-grd": "sentinel-1-grd",
    "S2MSI2A": "sentinel-2-l2a",
    "sentinel-2-l2a": "sentinel-2-l2a",
    "sentinel-2-c1-l2a": "sentinel-2-l2a",
    "S2MSI1C": "sentinel-2-l1c",
    "sentinel-2-l1c": "sentinel-2-l1c",
    "landsat-c2-l2": "landsat-c2-l2",
}


def target_collection(*keys: str | None) -> str | None:
    """The hpgeo input collection for the first of ``keys`` (product type, hub collection) that maps to one."""
    for k in keys:
        if not k:
            continue
        if k in _COLLECTIONS:
            return _COLLECTIONS[k]
        if k.startswith("IW_GRD") or k.endswith("_GRD") or k.startswith("GRD"):
            return "sentinel-1-grd"
    return None


def product_id(name: str) -> str:
    """A product name without its container extension: ``X.SAFE`` / ``X.zip`` / ``X.SEN3`` → ``X``."""
    for ext in (".SAFE", ".zip", ".SEN3", ".tar", ".tar.gz"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name

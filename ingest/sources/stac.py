"""STAC APIs (Earth Search, Planetary Computer, CDSE STAC) through pystac-client.

Searches are lazy: pystac-client follows ``next`` links page by page as the records are consumed.
A cloud-cover limit goes to the server as a CQL2 ``filter`` (``cloud_filter="query"`` for APIs that
only offer the older query extension, ``"client"`` to filter here only) and is checked again on each
item (items without ``eo:cloud_cover``, e.g. SAR, pass). Asset hrefs stay unsigned in records and in the
catalog; a pluggable ``signer`` (e.g. ``planetary_computer.sign`` for Azure SAS tokens) signs them at
fetch time only, so short-lived tokens never reach the catalog.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Sequence

from shapely.geometry import box, shape

from ingest.catalog.query import Interval
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, geojson, target_collection
from ingest.sources.download import download, file_checksum
from ingest.sources.errors import InvalidSourceQuery, SceneNotFound, SourceUnavailable
from base.settings import Settings

__all__ = ["StacSource", "record_from_item", "decode_multihash", "Signer"]

log = logging.getLogger(__name__)
Signer = Callable[[str], str]
_RASTER_TYPES = ("image/tiff", "image/jp2", "application/x-hdf")
_MULTIHASH = {0xD5: "md5", 0x11: "sha1", 0x12: "sha256", 0x13: "sha512", 0x14: "sha3_512", 0x16: "sha3_256", 0x15: "sha3_384", 0x17: "sha3_224"}


def decode_multihash(hexstr: str) -> Checksum | None:
    """A STAC ``file:checksum`` (hex multihash) → Checksum; None for an unknown hash function."""
    try:
        raw = bytes.fromhex(hexstr)
    except ValueError:
        return None
    code, shift, i = 0, 0, 0
    while i < len(raw):  # unsigned varint
        b = raw[i]
        code |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    if code not in _MULTIHASH or i >= len(raw):
        return None
    length = raw[i]
    digest = raw[i + 1 : i + 1 + length]
    return Checksum(_MULTIHASH[code], digest.hex()) if len(digest) == length else None


def _data_asset(asset: dict[str, Any]) -> bool:
    roles = asset.get("roles") or []
    return "data" in roles and str(asset.get("type", "")).startswith(_RASTER_TYPES)


def record_from_item(item: dict[str, Any]) -> SceneRecord:
    """A STAC item (dict) → SceneRecord. Asset hrefs are kept as the API gave them (unsigned)."""
    p = item.get("properties", {})
    when = p.get("datetime") or p.get("start_datetime")
    if not when:
        raise InvalidSourceQuery(f"STAC item {item.get('id')!r} has no datetime")
    geom = shape(item["geometry"]) if item.get("geometry") else box(*item["bbox"][:4]) if item.get("bbox") else None
    if geom is None:
        raise InvalidSourceQuery(f"STAC item {item.get('id')!r} has neither geometry nor bbox")
    assets: dict[str, dict[str, Any]] = {}
    for key, a in (item.get("assets") or {}).items():
        if not _data_asset(a):
            continue
        entry = {"href": a["href"], "type": a.get("type"), "roles": a.get("roles", [])}
        if "file:size" in a:
            entry["size"] = int(a["file:size"])
        if a.get("file:checksum") and (c := decode_multihash(a["file:checksum"])):
            entry["checksum"] = c
        assets[key] = entry
    sizes = [a.get("size") for a in assets.values()]
    ptype = p.get("product_type") or p.get("s2:product_type") or p.get("sar:product_type")
    all_assets = item.get("assets") or {}
    quick = next((all_assets[k]["href"] for k in ("thumbnail", "rendered_preview", "preview") if k in all_assets), None)
    self_link = next((l["href"] for l in item.get("links", []) if l.get("rel") == "self"), None)
    return SceneRecord(
        id=item["id"],
        title=p.get("title") or item["id"],
        source="stac",
        platform=p.get("platform"),
        product_type=ptype,
        datetime=dt.datetime.fromisoformat(when.replace("Z", "+00:00")),
        footprint=geom,
        collection=target_collection(item.get("collection"), ptype),
        cloud_cover=p.get("eo:cloud_cover"),
        size=sum(sizes) if sizes and all(s is not None for s in sizes) else None,  # type: ignore[arg-type]
        download_url=self_link,
        quicklook_url=quick,
        remote_id=f"{item.get('collection')}/{item['id']}",
        assets=assets,
        properties=dict(p),
    )


def _interval_str(iv: Interval) -> str:
    """Whole seconds, UTC, ``..`` for open ends: the form STAC APIs document."""

    def f(d: dt.datetime | None) -> str:
        return ".." if d is None else d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return f"{f(iv.start)}/{f(iv.end)}"


class StacSource(Source):
    """A STAC API. ``signer`` turns an asset href into a downloadable URL (default: unchanged)."""

    kind = "stac"

    def __init__(
        self,
        url: str,
        *,
        signer: Signer | None = None,
        headers: dict[str, str] | None = None,
        cloud_filter: Literal["filter", "query", "client"] = "filter",
        settings: Any = None,
    ):
        if not url.startswith(("http://", "https://")):
            raise InvalidSourceQuery(f"STAC API URL must be http(s): {url!r}")
        self.url = url
        self.signer: Signer = signer or (lambda href: href)
        self.headers = headers or {}
        self.cloud_filter = cloud_filter
        self.settings = settings or Settings.defaults()
        self._client: Any = None
        self._session: Any = None

    @property
    def client(self) -> Any:
        """The pystac-client Client, opened on first use."""
        if self._client is None:
            from pystac_client import Client
            from pystac_client.exceptions import APIError

            try:
                self._client = Client.open(self.url, headers=self.headers, timeout=self.settings.download_timeout)
            except (APIError, OSError) as exc:
                raise SourceUnavailable(f"STAC API {self.url} did not answer: {exc}") from None
        return self._client

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def search(
        self,
        aoi: Any,
        interval: Any,
        *,
        collections: Sequence[str] | None = None,
        max_cloud: float | None = None,
        limit: int | None = None,
        ids: Sequence[str] | None = None,
        **_: Any,
    ) -> Iterator[SceneRecord]:
        """Records over ``aoi`` (None: anywhere) within ``interval`` (None: any time), lazily, page by page."""
        from pystac_client.exceptions import APIError
        from pystac_client.warnings import DoesNotConformTo

        geom, iv = as_geometry(aoi), as_interval(interval)
        if max_cloud is not None and not 0 <= max_cloud <= 100:
            raise InvalidSourceQuery(f"max cloud cover must be 0..100 %, got {max_cloud}")
        if limit is not None and limit < 1:
            raise InvalidSourceQuery(f"limit must be at least 1, got {limit}")
        kw: dict[str, Any] = {"max_items": limit}
        if collections:
            kw["collections"] = list(collections)
        if ids:
            kw["ids"] = list(ids)
        if geom is not None:
            kw["intersects"] = geojson(geom)
        if iv is not None:
            kw["datetime"] = _interval_str(iv)
        if max_cloud is not None and self.cloud_filter == "filter":
            kw["filter"] = {"op": "lte", "args": [{"property": "eo:cloud_cover"}, max_cloud]}
        elif max_cloud is not None and self.cloud_filter == "query":
            kw["query"] = {"eo:cloud_cover": {"lte": max_cloud}}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DoesNotConformTo)  # Earth Search answers CQL2 without declaring it
                pages = self.client.search(**kw)
            for item in pages.items_as_dicts():
                rec = record_from_item(item)
                if max_cloud is not None and rec.cloud_cover is not None and rec.cloud_cover > max_cloud:
                    continue
                yield rec
        except APIError as exc:
            raise SourceUnavailable(f"STAC search at {self.url} failed: {str(exc)[:300]}") from None

    def fetch(self, record: SceneRecord, dest_dir: Path, progress: Progress | None = None, assets: Sequence[str] | None = None) -> FetchedScene:
        """Download the record's raster data assets (or ``assets``) into ``dest_dir/<id>/``, verified."""
        import requests

        keys = list(assets or record.assets)
        missing = [k for k in keys if k not in record.assets]
        if missing or not keys:
            raise SceneNotFound(f"{record.id}: no raster data asset {missing or ''} to download")
        root = Path(dest_dir) / record.id
        self._session = self._session or requests.Session()
        s = self.settings
        paths, sums = [], []
        for key in keys:
            a = record.assets[key]
            name = key + _suffix(a["href"], a.get("type"))
            path = download(
                self.signer(a["href"]), root / name, session=self._session, size=a.get("size"), checksum=a.get("checksum"),
                retries=s.download_retries, backoff=s.download_backoff, max_backoff=s.download_max_backoff,
                timeout=s.download_timeout, chunk=s.download_chunk, progress=progress,
            )
            paths.append(path)
            sums.append(f"{key}={a['checksum'] if a.get('checksum') else 'sha256:' + file_checksum(path, 'sha256')}")
        digest = hashlib.sha256("\n".join(sums).encode()).hexdigest()
        return FetchedScene(record=record, paths=tuple(paths), root=root, checksum=f"sha256:{digest}")


def _suffix(href: str, mime: str | None) -> str:
    from urllib.parse import urlsplit

    name = urlsplit(href).path.rsplit("/", 1)[-1]
    if "." in name:
        return "." + name.rsplit(".", 1)[-1].lower()
    return ".jp2" if mime and "jp2" in mime else ".tif"

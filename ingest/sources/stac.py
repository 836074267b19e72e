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

from base.paths import confine, safe_name
from ingest.catalog.query import Interval
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, geojson, remote_href, target_collection
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


def record_from_item(item: dict[str, Any], base_url: str | None = None, asset_hosts: Sequence[str] | None = None) -> SceneRecord:
    """A STAC item (dict) → SceneRecord. Asset hrefs are kept unsigned, made absolute (:func:`remote_href`: resolved
    against the item's self link, else ``base_url``, the search URL); an href that is not http(s) (a local path,
    ``file:``, ``/vsi…``) is dropped from the record with a warning: that asset, the thumbnail or the self link is not
    recorded. An item whose id or a data asset key is not a safe file name is refused (:class:`base.paths.UnsafePath`)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise InvalidSourceQuery("STAC search returned an item without a string id")
    iid = item["id"]
    p = item.get("properties") or {}
    if not isinstance(p, dict):
        raise InvalidSourceQuery(f"STAC item {iid[:80]!r} has properties that are not an object")
    when = p.get("datetime") or p.get("start_datetime")
    if not when or not isinstance(when, str):
        raise InvalidSourceQuery(f"STAC item {iid[:80]!r} has no datetime")
    try:
        geom = shape(item["geometry"]) if item.get("geometry") else box(*item["bbox"][:4]) if item.get("bbox") else None
        when_dt = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidSourceQuery(f"STAC item {iid[:80]!r}: unreadable geometry or datetime: {exc}") from None
    if geom is None:
        raise InvalidSourceQuery(f"STAC item {iid[:80]!r} has neither geometry nor bbox")
    links = [l for l in item.get("links") or [] if isinstance(l, dict)]
    raw_self = next((l.get("href") for l in links if l.get("rel") == "self"), None)
    self_link = remote_href(raw_self, base_url, asset_hosts) if raw_self is not None else None
    if raw_self is not None and self_link is None:
        log.warning("STAC item %.80s: self link %.120r is not an http(s) URL: dropped", iid, raw_self)
    base = self_link or base_url
    all_assets = item.get("assets") or {}
    if not isinstance(all_assets, dict):
        raise InvalidSourceQuery(f"STAC item {iid[:80]!r} has assets that are not an object")
    assets: dict[str, dict[str, Any]] = {}
    for key, a in all_assets.items():
        if not isinstance(a, dict) or not _data_asset(a):
            continue
        href = remote_href(a.get("href"), base, asset_hosts)
        if href is None:
            log.warning("STAC item %.80s: asset %.40r href %.120r is not an http(s) URL: dropped", iid, key, a.get("href"))
            continue
        entry = {"href": href, "type": a.get("type"), "roles": a.get("roles", [])}
        if isinstance(a.get("file:size"), int) and a["file:size"] >= 0:
            entry["size"] = int(a["file:size"])
        if isinstance(a.get("file:checksum"), str) and (c := decode_multihash(a["file:checksum"])):
            entry["checksum"] = c
        assets[key] = entry
    sizes = [a.get("size") for a in assets.values()]
    ptype = p.get("product_type") or p.get("s2:product_type") or p.get("sar:product_type")
    quick = None
    for k in ("thumbnail", "rendered_preview", "preview"):
        if isinstance(all_assets.get(k), dict):
            quick = remote_href(all_assets[k].get("href"), base, asset_hosts)
            if quick is None:
                log.warning("STAC item %.80s: %s href %.120r is not an http(s) URL: dropped", iid, k, all_assets[k].get("href"))
            break
    return SceneRecord(
        id=iid,
        title=p.get("title") if isinstance(p.get("title"), str) else iid,
        source="stac",
        platform=p.get("platform") if isinstance(p.get("platform"), str) else None,
        product_type=ptype if isinstance(ptype, str) else None,
        datetime=when_dt,
        footprint=geom,
        collection=target_collection(item.get("collection") if isinstance(item.get("collection"), str) else None,
                                     ptype if isinstance(ptype, str) else None),
        cloud_cover=p.get("eo:cloud_cover") if isinstance(p.get("eo:cloud_cover"), (int, float)) else None,
        size=sum(sizes) if sizes and all(s is not None for s in sizes) else None,  # type: ignore[arg-type]
        download_url=self_link,
        quicklook_url=quick,
        remote_id=f"{item.get('collection')}/{iid}",
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
        asset_hosts: Sequence[str] | None = None,
    ):
        if not url.startswith(("http://", "https://")):
            raise InvalidSourceQuery(f"STAC API URL must be http(s): {url!r}")
        self.url = url
        self.signer: Signer = signer or (lambda href: href)
        self.headers = headers or {}
        self.cloud_filter = cloud_filter
        self.asset_hosts = None if asset_hosts is None else tuple(asset_hosts)  # None: any http(s) host
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
                rec = record_from_item(item, pages.url, self.asset_hosts)
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
        root = confine(safe_name(record.id, "scene id"), dest_dir)
        self._session = self._session or requests.Session()
        s = self.settings
        paths, sums = [], []
        for key in keys:
            a = record.assets[key]
            href = remote_href(a["href"], None)
            if href is None:
                raise InvalidSourceQuery(f"{record.id}: asset {key!r} href is not an http(s) URL")
            dest = confine(Path(record.id) / (safe_name(key, "asset key") + _suffix(href, a.get("type"))), dest_dir)
            signed = self.signer(href)
            if remote_href(signed, None) is None:
                raise InvalidSourceQuery(f"{record.id}: the signer returned a URL that is not http(s) for asset {key!r}")
            path = download(
                signed, dest, session=self._session, size=a.get("size"), checksum=a.get("checksum"),
                retries=s.download_retries, backoff=s.download_backoff, max_backoff=s.download_max_backoff,
                timeout=s.download_timeout, chunk=s.download_chunk, progress=progress,
            )
            paths.append(path)
            sums.append(f"{key}={a['checksum'] if a.get('checksum') else 'sha256:' + file_checksum(path, 'sha256')}")
        digest = hashlib.sha256("\n".join(sums).encode()).hexdigest()
        return FetchedScene(record=record, paths=tuple(paths), root=root, checksum=f"sha256:{digest}")


_SUFFIXES = (".tif", ".tiff", ".jp2", ".h5", ".hdf", ".nc")


def _suffix(href: str, mime: str | None) -> str:
    """The downloaded file's extension: the href's, when it is a raster extension; else from the media type. (Never an
    extension the server chooses freely: a ``.pth`` or ``.py`` file must not appear on disk.)"""
    from urllib.parse import urlsplit

    name = urlsplit(href).path.rsplit("/", 1)[-1]
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _SUFFIXES:
        return ext
    return ".jp2" if mime and "jp2" in mime else ".tif"

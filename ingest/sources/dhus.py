"""DHuS hubs (the SciHub protocol: OpenSearch + OData v1) through sentinelsat, used unmodified.

Search is ``SentinelAPI.query`` (sentinelsat pages through the results itself). Fetching asks
``get_product_odata`` for the exact size and MD5, then downloads ``Products('<uuid>')/$value`` with
:func:`ingest.sources.download.download` on sentinelsat's authenticated session, so downloads resume,
retry and verify the same way for every source. Credentials are never logged or put in messages.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, Iterator

import requests
from pydantic import SecretStr
from shapely import wkt as shapely_wkt

from base.paths import confine, safe_name
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, geojson, product_id, target_collection
from ingest.sources.download import download
from ingest.sources.errors import AuthenticationFailed, InvalidSourceQuery, SceneNotFound, SourceUnavailable
from base.settings import Settings
from ingest.sources.credentials import netrc_credentials

__all__ = ["DhusSource", "record_from_opensearch", "area_wkt"]

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


def area_wkt(aoi: Any) -> str:
    """The AOI as sentinelsat's documented path makes it: a GeoJSON FeatureCollection through
    ``geojson_to_wkt`` (4 decimals, about 10 m), i.e. ``GEOMETRYCOLLECTION(POLYGON((...)))``."""
    from sentinelsat import geojson_to_wkt

    geom = as_geometry(aoi)
    if geom is None:
        raise InvalidSourceQuery("a DHuS search needs an area (AOI id or bbox)")
    return geojson_to_wkt({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geojson(geom)}]})


def _utc(d: Any) -> dt.datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def record_from_opensearch(uuid: str, p: dict[str, Any], api_url: str) -> SceneRecord:
    """One entry of ``SentinelAPI.query``'s result → SceneRecord (URLs built on ``api_url``)."""
    name = p.get("identifier") or p["title"]
    odata = f"{api_url.rstrip('/')}/odata/v1/Products('{safe_name(str(uuid), 'DHuS product uuid')}')"
    raw = {k: (v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v) for k, v in p.items()}
    return SceneRecord(
        id=product_id(name),
        title=p["title"],
        source="dhus",
        platform=_platform(p),
        product_type=p.get("producttype"),
        datetime=_utc(p["beginposition"]),
        footprint=shapely_wkt.loads(p["footprint"]),
        collection=target_collection(p.get("producttype")),
        cloud_cover=float(p["cloudcoverpercentage"]) if p.get("cloudcoverpercentage") is not None else None,
        download_url=f"{odata}/$value",
        quicklook_url=f"{odata}/Products('Quicklook')/$value",
        remote_id=uuid,
        properties=raw,
    )


def _platform(p: dict[str, Any]) -> str | None:
    """'Sentinel-2B' when the hub names the unit, else the mission ('Sentinel-1')."""
    serial = str(p.get("platformserialidentifier") or "")
    return serial if serial.lower().startswith("sentinel") else p.get("platformname")


class DhusSource(Source):
    """A DHuS hub. Credentials: arguments, else settings (``HPGEO_DHUS_USER``/``_PASSWORD``), else ~/.netrc."""

    kind = "dhus"

    def __init__(self, url: str | None = None, user: str | None = None, password: SecretStr | str | None = None, settings: Any = None):
        from sentinelsat import SentinelAPI

        self.settings = settings or Settings.defaults()
        self.url = url or self.settings.dhus_url
        if not self.url.startswith(("http://", "https://")):
            raise InvalidSourceQuery(f"DHuS URL must be http(s): {self.url!r}")
        user = user or self.settings.dhus_user
        secret = SecretStr(password) if isinstance(password, str) else password or self.settings.dhus_password
        if (user is None or secret is None) and (found := netrc_credentials(self.url)):
            user, secret = found
        self._api = SentinelAPI(user, secret.get_secret_value() if secret else None, api_url=self.url, show_progressbars=False, timeout=self.settings.download_timeout)
        self.api_url: str = self._api.api_url

    def close(self) -> None:
        self._api.session.close()

    def _call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        from sentinelsat.exceptions import QuerySyntaxError, ServerError, UnauthorizedError

        try:
            return fn(*args, **kw)
        except UnauthorizedError:
            raise AuthenticationFailed(f"DHuS at {self.url} refused the credentials ({what})") from None
        except QuerySyntaxError as exc:
            raise InvalidSourceQuery(f"DHuS rejected the query: {exc.msg}") from None
        except ServerError as exc:
            raise SourceUnavailable(f"DHuS at {self.url} failed ({what}): {exc.msg}") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(f"DHuS at {self.url} did not answer ({what}): {type(exc).__name__}") from None

    def search(
        self,
        aoi: Any,
        interval: Any,
        *,
        platform: str | None = None,
        product_type: str | None = None,
        max_cloud: float | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> Iterator[SceneRecord]:
        """Records over ``aoi`` whose sensing starts within ``interval``."""
        area, iv = area_wkt(aoi), as_interval(interval)
        kw: dict[str, Any] = {}
        if iv is not None:
            kw["date"] = (iv.start, iv.end)
        if platform:
            kw["platformname"] = platform
        if product_type:
            kw["producttype"] = product_type
        if max_cloud is not None:
            if not 0 <= max_cloud <= 100:
                raise InvalidSourceQuery(f"max cloud cover must be 0..100 %, got {max_cloud}")
            kw["cloudcoverpercentage"] = (0, int(max_cloud) if float(max_cloud).is_integer() else max_cloud)
        if limit is not None and limit < 1:
            raise InvalidSourceQuery(f"limit must be at least 1, got {limit}")
        products = self._call("search", self._api.query, area=area, limit=limit, **kw)
        for uuid, props in products.items():
            yield record_from_opensearch(uuid, props, self.api_url)

    def describe(self, uuid: str) -> dict[str, Any]:
        """The product's full OData description (size, MD5, attributes)."""
        from sentinelsat.exceptions import InvalidKeyError

        try:
            return self._call("product description", self._api.get_product_odata, uuid, full=True)
        except InvalidKeyError:
            raise SceneNotFound(f"DHuS has no product {uuid}") from None

    def fetch(self, record: SceneRecord, dest_dir: Path, progress: Progress | None = None) -> FetchedScene:
        """Download the product archive into ``dest_dir``, resuming, and verify its size and MD5."""
        info = self.describe(safe_name(record.remote_id or record.id, "DHuS product uuid"))
        # the hub's own answers become a URL and a file name: each must be one safe name (no ../, /, leading dot)
        uuid, title = safe_name(str(info.get("id")), "DHuS product uuid"), safe_name(str(info.get("title")), "DHuS product title")
        checksum = Checksum("md5", info["md5"]) if info.get("md5") else record.checksum
        dest = confine(f"{title}.zip", dest_dir)
        s = self.settings
        path = download(
            f"{self.api_url}odata/v1/Products('{uuid}')/$value", dest, session=self._api.session,
            size=info.get("size"), checksum=checksum, retries=s.download_retries, backoff=s.download_backoff,
            max_backoff=s.download_max_backoff, timeout=s.download_timeout, chunk=s.download_chunk, progress=progress,
        )
        return FetchedScene(record=record, paths=(path,), root=Path(dest_dir), checksum=str(checksum) if checksum else "")

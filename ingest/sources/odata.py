"""The Copernicus Data Space Ecosystem OData API (the current ESA catalogue sentinelsat no longer reaches).

Search: ``GET {base}/odata/v1/Products?$filter=...&$orderby=ContentDate/Start asc&$top=N&$expand=Attributes
&$expand=Assets``, following ``@odata.nextLink`` lazily. Fetch: ``GET {download}/odata/v1/Products({Id})/$value``
with a bearer token from the OpenID Connect token endpoint (password grant), resumable and verified with
the MD5 the catalogue publishes in ``Checksum`` (BLAKE3 only when no MD5 is given and ``blake3`` is installed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any, Iterator

import requests
import shapely
from pydantic import SecretStr
from shapely.geometry import shape

from base.paths import confine, safe_name
from ingest.sources.base import Checksum, FetchedScene, Progress, SceneRecord, Source, as_geometry, as_interval, product_id, remote_href, target_collection
from ingest.sources.download import download
from ingest.sources.errors import AuthenticationFailed, InvalidSourceQuery, SourceUnavailable
from base.settings import Settings
from ingest.sources.credentials import netrc_credentials

__all__ = ["ODataSource", "build_filter", "record_from_product"]

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
COLLECTIONS = ("SENTINEL-1", "SENTINEL-2", "SENTINEL-3", "SENTINEL-5P", "LANDSAT-8", "LANDSAT-9", "COP-DEM")


def _odate(d: dt.datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def build_filter(collection: str, aoi: Any, interval: Any, product_type: str | None = None, max_cloud: float | None = None) -> str:
    """The ``$filter`` expression: collection, intersection with the AOI, product type, cloud cover, time overlap."""
    if collection.upper() not in COLLECTIONS:
        raise InvalidSourceQuery(f"unknown Copernicus collection {collection!r}; one of {', '.join(COLLECTIONS)}")
    geom, iv = as_geometry(aoi), as_interval(interval)
    parts = [f"Collection/Name eq '{collection.upper()}'"]
    if geom is not None:
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            geom = geom.buffer(1e-4).envelope if geom.geom_type == "Point" else geom.envelope
        parts.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{shapely.to_wkt(geom, rounding_precision=4, trim=False)}')")
    if product_type:
        if "'" in product_type:
            raise InvalidSourceQuery(f"invalid product type {product_type!r}")
        parts.append(
            "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
            f"att/OData.CSC.StringAttribute/Value eq '{product_type}')"
        )
    if max_cloud is not None:
        if not 0 <= max_cloud <= 100:
            raise InvalidSourceQuery(f"max cloud cover must be 0..100 %, got {max_cloud}")
        parts.append(
            "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and "
            f"att/OData.CSC.DoubleAttribute/Value le {float(max_cloud):.2f})"
        )
    if iv is not None and iv.end is not None:
        parts.append(f"ContentDate/Start lt {_odate(iv.end)}")
    if iv is not None and iv.start is not None:
        parts.append(f"ContentDate/End gt {_odate(iv.start)}")
    return " and ".join(parts)


def _attrs(product: dict[str, Any]) -> dict[str, Any]:
    return {a["Name"]: a.get("Value") for a in product.get("Attributes") or []}


def _checksum(product: dict[str, Any]) -> Checksum | None:
    sums = {c["Algorithm"].upper(): c["Value"] for c in product.get("Checksum") or [] if c.get("Value")}
    for algo in ("MD5", "SHA256", "SHA3-256", "BLAKE3"):
        if algo in sums:
            return Checksum(algo, sums[algo])
    return None


def record_from_product(product: dict[str, Any], download_base: str) -> SceneRecord:
    """One ``value`` entry of a Products search (with ``$expand=Attributes``) → SceneRecord."""
    a = _attrs(product)
    if product.get("GeoFootprint"):
        footprint = shape(product["GeoFootprint"])
    else:
        footprint = shapely.from_wkt(product["Footprint"].split(";", 1)[1].rstrip("'"))
    short, serial = a.get("platformShortName"), a.get("platformSerialIdentifier")
    quick = next((x.get("DownloadLink") for x in product.get("Assets") or [] if isinstance(x, dict) and x.get("Type") == "QUICKLOOK"), None)
    if quick is not None and (quick := remote_href(quick, download_base)) is None:
        log.warning("OData product %.80s: quicklook link is not an http(s) URL: dropped", product.get("Name"))
    pid = safe_name(str(product.get("Id")), "OData product id")
    return SceneRecord(
        id=product_id(product["Name"]),
        title=product["Name"],
        source="odata",
        platform=f"{short}{serial}".lower() if short and serial else (short.lower() if short else None),
        product_type=a.get("productType"),
        datetime=dt.datetime.fromisoformat(product["ContentDate"]["Start"].replace("Z", "+00:00")),
        footprint=footprint,
        collection=target_collection(a.get("productType")),
        cloud_cover=float(a["cloudCover"]) if a.get("cloudCover") is not None else None,
        size=int(product["ContentLength"]) if product.get("ContentLength") else None,
        checksum=_checksum(product),
        download_url=f"{download_base.rstrip('/')}/odata/v1/Products({pid})/$value",
        quicklook_url=quick,
        remote_id=pid,
        properties={k: v for k, v in product.items() if k not in ("Attributes", "GeoFootprint", "Footprint")} | {"attributes": a},
    )


class ODataSource(Source):
    """The CDSE catalogue at ``url``; downloads from ``download_url`` with a token from ``token_url``."""

    kind = "odata"

    def __init__(
        self,
        url: str | None = None,
        *,
        download_url: str | None = None,
        token_url: str | None = None,
        user: str | None = None,
        password: SecretStr | str | None = None,
        page_size: int = 100,
        settings: Any = None,
    ):
        self.settings = s = settings or Settings.defaults()
        self.url = (url or s.odata_url).rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise InvalidSourceQuery(f"OData URL must be http(s): {self.url!r}")
        self.download_url = (download_url or (s.odata_download_url if url is None else None) or self.url).rstrip("/")
        self.token_url = token_url or s.odata_token_url
        self._user = user or s.odata_user
        self._password = SecretStr(password) if isinstance(password, str) else password or s.odata_password
        if (self._user is None or self._password is None) and (found := netrc_credentials(self.token_url)):
            self._user, self._password = found
        if not 1 <= page_size <= 1000:
            raise InvalidSourceQuery(f"page size must be 1..1000, got {page_size}")
        self.page_size = page_size
        self.session = requests.Session()
        self._token: tuple[str, float] | None = None

    def close(self) -> None:
        self.session.close()

    def _get(self, url: str, params: Any = None) -> dict[str, Any]:
        try:
            resp = self.session.get(url, params=params, timeout=self.settings.download_timeout)
        except requests.RequestException as exc:
            raise SourceUnavailable(f"OData catalogue {self.url} did not answer: {type(exc).__name__}") from None
        if resp.status_code == 400:
            raise InvalidSourceQuery(f"OData catalogue rejected the query: {resp.text[:300]}")
        if resp.status_code != 200:
            raise SourceUnavailable(f"OData catalogue {self.url} answered HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            return resp.json()
        except ValueError:
            raise SourceUnavailable(f"OData catalogue {self.url} sent a body that is not JSON") from None

    def search(
        self,
        aoi: Any,
        interval: Any,
        *,
        collection: str = "SENTINEL-1",
        product_type: str | None = None,
        max_cloud: float | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> Iterator[SceneRecord]:
        """Records, oldest first, page by page (``@odata.nextLink``), at most ``limit``."""
        if limit is not None and limit < 1:
            raise InvalidSourceQuery(f"limit must be at least 1, got {limit}")
        params: Any = [
            ("$filter", build_filter(collection, aoi, interval, product_type, max_cloud)),
            ("$orderby", "ContentDate/Start asc"),
            ("$top", str(self.page_size)),
            ("$expand", "Attributes"),
            ("$expand", "Assets"),
        ]
        url: str | None = f"{self.url}/odata/v1/Products"
        n = 0
        while url:
            page = self._get(url, params)
            for product in page.get("value", []):
                yield record_from_product(product, self.download_url)
                n += 1
                if limit is not None and n >= limit:
                    return
            url, params = page.get("@odata.nextLink"), None

    def token(self) -> str:
        """A bearer token (cached until a minute before it expires)."""
        if self._token and self._token[1] > time.time() + 60:
            return self._token[0]
        if not self._user or self._password is None:
            raise AuthenticationFailed("Copernicus Data Space downloads need HPGEO_ODATA_USER and HPGEO_ODATA_PASSWORD (or ~/.netrc)")
        data = {"grant_type": "password", "client_id": self.settings.odata_client_id, "username": self._user, "password": self._password.get_secret_value()}
        try:
            resp = self.session.post(self.token_url, data=data, timeout=self.settings.download_timeout)
        except requests.RequestException as exc:
            raise SourceUnavailable(f"token endpoint did not answer: {type(exc).__name__}") from None
        if resp.status_code in (400, 401, 403):
            raise AuthenticationFailed(f"the token endpoint refused the credentials (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise SourceUnavailable(f"token endpoint answered HTTP {resp.status_code}")
        body = resp.json()
        self._token = (body["access_token"], time.time() + float(body.get("expires_in", 600)))
        return self._token[0]

    def fetch(self, record: SceneRecord, dest_dir: Path, progress: Progress | None = None) -> FetchedScene:
        """Download the product archive (``<Name without .SAFE>.zip``) and verify its size and checksum."""
        if not record.download_url:
            raise InvalidSourceQuery(f"record {record.id} has no download URL")
        s = self.settings
        path = download(
            record.download_url, confine(f"{safe_name(record.id, 'scene id')}.zip", dest_dir), session=self.session,
            headers={"Authorization": f"Bearer {self.token()}"}, size=record.size, checksum=record.checksum,
            retries=s.download_retries, backoff=s.download_backoff, max_backoff=s.download_max_backoff,
            timeout=s.download_timeout, chunk=s.download_chunk, progress=progress,
        )
        return FetchedScene(record=record, paths=(path,), root=Path(dest_dir), checksum=str(record.checksum or ""))

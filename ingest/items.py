"""STAC item and collection builders shared by ingest and products.

Items carry the proj, raster, eo/sar and processing extensions, and the metadata that
Circular 09/2017/TT-BTNMT asks of remote-sensing data (namespace ``tt09:``). Asset hrefs are
paths relative to ``HPGEO_DATA_DIR`` (resolved by :func:`resolve_href`) or absolute URLs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from base.paths import check_remote, confine, is_remote
from geo.grid import Grid
from ingest.scene import BandInfo

__all__ = [
    "EXT",
    "RasterAsset",
    "raster_item",
    "collection",
    "resolve_href",
    "iso",
    "corner_coordinates",
    "INPUT_COLLECTIONS",
    "HAIPHONG_BBOX",
    "class_name",
]

EXT = {
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v2.0.0/schema.json",
}

# Hai Phong after 1 July 2025, with Bach Long Vi: the default spatial extent of collections
HAIPHONG_BBOX = [106.0, 20.0, 107.8, 21.3]


def iso(d: dt.datetime) -> str:
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class RasterAsset:
    """A COG asset on a grid, described by its band."""

    href: str
    grid: Grid
    band: BandInfo
    dtype: str
    title: str = ""
    roles: tuple[str, ...] = ("data",)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        b = self.band
        rb: dict[str, Any] = {"data_type": self.dtype}
        if b.nodata is not None:
            rb["nodata"] = b.nodata if b.nodata == b.nodata else "nan"
        if b.unit:
            rb["unit"] = b.unit
        # stored values are already physical (readers apply the source's scale/offset: reflectance 0-1, dB, kelvin),
        # so raster:bands carries no scale/offset — a STAC tool would apply them a second time; the source's
        # own scale/offset are kept for the record under hpgeo: names
        if b.scale is not None and b.scale != 1:
            rb["hpgeo:source_scale"] = b.scale
        if b.offset is not None and b.offset != 0:
            rb["hpgeo:source_offset"] = b.offset
        rb["spatial_resolution"] = self.grid.resolution[0]
        d: dict[str, Any] = {
            "href": self.href,
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": self.title or b.description or b.name,
            "roles": list(self.roles),
            "proj:code": _epsg(self.grid),
            "proj:shape": list(self.grid.shape),
            "proj:transform": list(self.grid.transform)[:6],
            "proj:bbox": list(self.grid.bounds),
            "raster:bands": [rb],
        }
        if b.common_name or b.center_wavelength:
            eb: dict[str, Any] = {"name": b.name}
            if b.common_name:
                eb["common_name"] = b.common_name
            if b.center_wavelength:
                eb["center_wavelength"] = b.center_wavelength
            d["eo:bands"] = [eb]
        if b.polarization:
            d["sar:polarizations"] = [b.polarization]
        if b.categorical:
            d["hpgeo:categorical"] = True  # class codes / bit masks: nearest-neighbour resampling only
        if b.classes:  # classification extension: one entry per code of the source's colour table
            d["classification:classes"] = [{"value": v, "name": f"class-{v}",
                                            "color_hint": c} for v, c in b.classes]
        d.update(self.extra)
        return d


def _epsg(grid: Grid) -> str | None:
    e = grid.crs.to_epsg()
    return f"EPSG:{e}" if e else None


_CLASS_NAME_BAD = re.compile(r"[^0-9A-Za-z_-]+")


def class_name(text: str) -> str:
    """A class label as a classification-extension ``name`` (``^[0-9A-Za-z-_]+$``): accents folded
    (``Rừng ngập mặn`` → ``Rung-ngap-man``), anything else between words becomes ``-``."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).encode("ascii", "ignore").decode()
    name = _CLASS_NAME_BAD.sub("-", ascii_text).strip("-")
    return name or "class"


def corner_coordinates(footprint: BaseGeometry) -> dict[str, list[float]]:
    """Corner coordinates (lon, lat) of the footprint's bounding box, as Circular 09 lists them."""
    w, s, e, n = footprint.bounds
    return {"upper_left": [w, n], "upper_right": [e, n], "lower_right": [e, s], "lower_left": [w, s]}


def raster_item(
    *,
    item_id: str,
    collection_id: str,
    datetime: dt.datetime | None,
    footprint: BaseGeometry,
    assets: dict[str, RasterAsset],
    properties: dict[str, Any] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    extensions: Iterable[str] = (),
    simulated: bool = False,
    extra_assets: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A STAC item (plain dict) for COG assets. ``footprint`` is WGS 84."""
    props: dict[str, Any] = {}
    if datetime is not None:
        props["datetime"] = iso(datetime)
    else:
        props["datetime"] = None
    if start is not None and end is not None:
        props["start_datetime"], props["end_datetime"] = iso(start), iso(end)
    props.update(properties or {})
    epsg = props.pop("proj:epsg", None)  # projection v2: proj:code only (a reader's proj:epsg would contradict or repeat it)
    if epsg and not props.get("proj:code"):
        props["proj:code"] = f"EPSG:{int(epsg)}"
    props["hpgeo:simulated"] = bool(simulated)
    if simulated:
        props["title"] = "[MÔ PHỎNG / SIMULATED] " + props.get("title", item_id)
    grids = {a.grid for a in assets.values()}
    if len(grids) == 1:  # one grid: put proj at item level too
        g = next(iter(grids))
        props.update({"proj:code": _epsg(g), "proj:shape": list(g.shape), "proj:transform": list(g.transform)[:6]})
    exts = {EXT["proj"], EXT["raster"]} | {EXT.get(e, e) for e in extensions}
    if any(a.band.common_name or a.band.center_wavelength for a in assets.values()) or "eo:cloud_cover" in props:
        exts.add(EXT["eo"])
    if any(k.startswith("sar:") for k in props):
        exts.add(EXT["sar"])
    if any(k.startswith("processing:") for k in props):
        exts.add(EXT["processing"])
    if any(a.band.classes for a in assets.values()):
        exts.add(EXT["classification"])
    all_assets = {k: a.to_dict() for k, a in assets.items()}
    all_assets.update(extra_assets or {})
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": sorted(exts),
        "id": item_id,
        "collection": collection_id,
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": props,
        "assets": all_assets,
        "links": [],
    }


def collection(
    cid: str,
    title: str,
    description: str,
    *,
    keywords: Iterable[str] = (),
    license: str = "other",
    providers: list[dict[str, Any]] | None = None,
    bbox: list[float] | None = None,
    summaries: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    d = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": cid,
        "title": title,
        "description": description,
        "keywords": list(keywords),
        "license": license,
        "providers": providers
        or [{"name": "Sở Nông nghiệp và Môi trường Hải Phòng (hpgeo)", "roles": ["processor", "host"]}],
        "extent": {
            "spatial": {"bbox": [bbox or HAIPHONG_BBOX]},
            "temporal": {"interval": [[None, None]]},
        },
        "summaries": summaries or {},
        "links": [],
    }
    d.update(extra or {})
    return d


INPUT_COLLECTIONS: dict[str, dict[str, Any]] = {
    c["id"]: c
    for c in [
        collection(
            "sentinel-1-grd",
            "Sentinel-1 GRD, σ0 (dB), analysis-ready",
            "Sentinel-1 Ground Range Detected scenes calibrated to sigma nought, thermal noise removed, "
            "in dB, reprojected to EPSG:32648 and clipped to Hai Phong's areas of interest.",
            keywords=["sentinel-1", "sar", "grd", "sigma0"],
            license="proprietary",
            providers=[{"name": "ESA / Copernicus", "roles": ["producer", "licensor"]}],
        ),
        collection(
            "sentinel-2-l2a",
            "Sentinel-2 L2A surface reflectance, analysis-ready",
            "Sentinel-2 MSI Level-2A bottom-of-atmosphere reflectance (unitless, 0-1) with the scene "
            "classification (SCL) used for cloud masking, in EPSG:32648.",
            keywords=["sentinel-2", "msi", "l2a", "reflectance"],
            license="proprietary",
            providers=[{"name": "ESA / Copernicus", "roles": ["producer", "licensor"]}],
        ),
        collection(
            "sentinel-2-l1c",
            "Sentinel-2 L1C top-of-atmosphere reflectance",
            "Sentinel-2 MSI Level-1C TOA reflectance (unitless) in EPSG:32648.",
            keywords=["sentinel-2", "msi", "l1c"],
            license="proprietary",
        ),
        collection(
            "landsat-c2-l2",
            "Landsat Collection 2 Level-2 surface reflectance",
            "USGS Landsat Collection 2 Level-2 surface reflectance and temperature, QA_PIXEL masked.",
            keywords=["landsat", "c2l2", "reflectance"],
            license="PDDL-1.0",
        ),
        collection(
            "local-imagery",
            "Local archives (VNREDSat-1, SPOT, GeoTIFF/JPEG2000)",
            "Imagery ingested from local folders and archives.",
            keywords=["local", "vnredsat-1"],
        ),
        collection(
            "scanned-archive",
            "Scanned and rectified historical images",
            "Archived remote-sensing images of the city, scanned and georeferenced with ground control points.",
            keywords=["scan", "archive", "rectified"],
        ),
    ]
}


def resolve_href(href: str, data_dir: Path, remote_prefixes: Iterable[str] = ()) -> str:
    """A path GDAL may open for an asset href, or :class:`base.paths.UnsafePath`.

    Relative paths resolve under ``data_dir`` and must stay inside it (``../`` and symbolic links out are
    refused); absolute paths only when they are inside ``data_dir``. http(s)/s3/gs URLs pass only under one of
    ``remote_prefixes`` (``Settings.remote_asset_prefixes``; none by default) and become GDAL's ``/vsicurl/``,
    ``/vsis3/``, ``/vsigs/``. A GDAL virtual path (``/vsi…``) written into an item is refused.
    """
    if is_remote(href):
        check_remote(href, remote_prefixes)
        if href.lower().startswith(("http://", "https://")):
            return f"/vsicurl/{href}"
        return href.replace("s3://", "/vsis3/", 1).replace("gs://", "/vsigs/", 1)
    return str(confine(href, data_dir))

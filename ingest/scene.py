"""What a reader hands to the analysis-ready pipeline: one acquisition, its bands and its metadata.

Readers (``ingest.readers``) turn a product on disk (SAFE, Landsat C2 L2, GeoTIFF/JP2, a simulated
scene) into a :class:`Scene`; :func:`ingest.ard.write_ard` turns a Scene into COGs and a STAC item.
Bands carry their georeferencing (rioxarray ``.rio.crs``/``.rio.transform()``), never bare arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

__all__ = ["Scene", "BandInfo"]


@dataclass(frozen=True)
class BandInfo:
    """Describes one band for the STAC item (eo:bands / raster:bands)."""

    name: str  # asset key, e.g. "vv", "B04", "SCL"
    description: str = ""
    unit: str | None = None  # "dB", "1" (reflectance), ...
    common_name: str | None = None  # eo common name: red, nir, swir16 ...
    center_wavelength: float | None = None  # micrometres
    polarization: str | None = None  # VV, VH ...
    nodata: float | int | None = None
    categorical: bool = False  # class maps (SCL, QA): nearest resampling, no rescale
    scale: float | None = None
    offset: float | None = None
    classes: tuple[tuple[int, str], ...] | None = None  # a class map's colour table: (code, "rrggbb") per class


@dataclass
class Scene:
    """One acquisition in physical units, ready for the ARD step.

    ``bands`` maps band name to an xarray DataArray (y, x) with a CRS; ``valid`` (optional) is a
    boolean DataArray on the grid of the finest band, True where pixels are usable (not cloud, not
    nodata). ``properties`` carries extra STAC fields (``sar:*``, ``eo:cloud_cover``, ``s2:*`` ...).
    """

    id: str
    collection: str  # target collection: sentinel-1-grd, sentinel-2-l2a, landsat-c2-l2, scanned-archive ...
    platform: str  # sentinel-1a, sentinel-2b, landsat-7, vnredsat-1 ...
    instrument: str  # c-sar, msi, etm+, oli ...
    processing_level: str  # L1, L2A, GRD ...
    datetime: dt.datetime
    bands: dict[str, Any]
    band_info: dict[str, BandInfo] = field(default_factory=dict)
    valid: Any | None = None
    footprint: BaseGeometry | None = None  # WGS 84
    cloud_cover: float | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it came from: a path, a URL, a hub product id
    simulated: bool = False

    def info(self, band: str) -> BandInfo:
        return self.band_info.get(band, BandInfo(name=band))

"""Readers: products on disk → :class:`ingest.scene.Scene` (physical units, georeferenced, lazy).

* :mod:`~ingest.readers.s1_safe` — Sentinel-1 GRD SAFE → σ0 (dB), thermal noise removed.
* :mod:`~ingest.readers.s2_safe` — Sentinel-2 L1C/L2A SAFE → TOA/BOA reflectance, SCL valid mask.
* :mod:`~ingest.readers.landsat` — Landsat Collection 2 Level-2 → surface reflectance/temperature, QA_PIXEL mask.
* :mod:`~ingest.readers.geotiff` — any GDAL raster (GeoTIFF, JPEG2000: VNREDSat-1, SPOT, archives) and
  lossless conversion to COG.

Scanned historical images are georeferenced by :mod:`ingest.rectify`.
"""

from __future__ import annotations

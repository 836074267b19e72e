"""Scene sources: search hubs and archives for scene records, fetch scenes as verified local files.

Drivers: :class:`~ingest.sources.dhus.DhusSource` (sentinelsat), :class:`~ingest.sources.stac.StacSource`
(pystac-client), :class:`~ingest.sources.odata.ODataSource` (Copernicus Data Space),
:class:`~ingest.sources.local.LocalSource` (folders and archives). Downloads:
:func:`~ingest.sources.download.download`. Records in the catalog: :mod:`ingest.sources.records`.
"""

from ingest.sources.base import Checksum, FetchedScene, SceneRecord, Source

__all__ = ["Checksum", "FetchedScene", "SceneRecord", "Source"]

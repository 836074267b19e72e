"""``hpgeo ingest``: find scenes at data hubs, record them in the catalog, download and make them analysis-ready.

Every search puts the scene records it finds in the catalog collection ``scene-records``
(``hpgeo:status`` = listed); ``--download`` also fetches each scene (resumable, size- and
checksum-verified) and writes its analysis-ready item in the input collection (status becomes
ingested). Re-running is safe: nothing is downloaded or written twice.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.table import Table

from base.settings import get_settings
from hpgeo.cli.common import console, open_catalog, progress

app = typer.Typer(
    help="Search data hubs (STAC APIs, DHuS, Copernicus Data Space OData) and local archives for scenes over an "
    "AOI and period; record them in the catalog; with --download, fetch, verify and write analysis-ready COGs.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)

_AOI = typer.Option(None, "--aoi", help="AOI id (see `hpgeo aoi list`), e.g. haiphong-2025, cat-ba.")
_BBOX = typer.Option(None, "--bbox", help="W,S,E,N in WGS 84 degrees, e.g. 106.5,20.6,106.9,20.9.")
_DT = typer.Option(None, "--datetime", help="Period: RFC 3339 interval A/B ('..' for an open end), e.g. 2025-01-01/2025-01-31.")
_CLOUD = typer.Option(None, "--max-cloud", min=0, max=100, help="Highest cloud cover, percent (optical scenes only).")
_LIMIT = typer.Option(None, "--limit", min=1, help="Most scene records to take.")
_DOWNLOAD = typer.Option(False, "--download", help="Also fetch each scene, verify it and write its analysis-ready item.")


def _area(aoi: str | None, bbox: str | None, required: bool) -> tuple[Any, Any]:
    """(search area, clip AOI) from --aoi or --bbox."""
    from ingest.sources.errors import InvalidSourceQuery

    if aoi and bbox:
        raise InvalidSourceQuery("give --aoi or --bbox, not both")
    if aoi:
        a = open_catalog().aoi(aoi)
        return a, a
    if bbox:
        from ingest.sources.base import as_geometry

        return as_geometry(bbox), None
    if required:
        raise InvalidSourceQuery("give an area: --aoi ID or --bbox W,S,E,N")
    return None, None


@contextmanager
def _bars() -> Iterator[Any]:
    """A progress-callback factory: one rich bar per scene download."""
    with progress(transient=True) as p:

        def factory(rec: Any) -> Any:
            task = p.add_task(f"download {rec.id[:48]}", total=rec.size)

            def update(done: int, total: int | None) -> None:
                p.update(task, completed=done, total=total)

            return update

        yield factory


def run_source(source: Any, area: Any, clip: Any, datetime: str | None, download: bool, **filters: Any) -> None:
    """Search ``source`` (and with ``download`` ingest each record), print the records and the outcome; refusals exit 2."""
    from ingest.sources.errors import DownloadFailed, IngestRefused
    from ingest.sources.pipeline import run_ingest

    cat = open_catalog()
    with source, _bars() as bars:
        report = run_ingest(
            source, area, datetime, catalog=cat, data_dir=get_settings().resolved_data_dir, download=download,
            clip=clip, progress_for=bars, **filters,
        )
    t = Table(title=f"{len(report.records)} scene record(s) from {source.kind}")
    for col in ("id", "datetime", "platform", "cloud %", "collection"):
        t.add_column(col)
    for r in report.records:
        t.add_row(r.id, r.datetime.isoformat(), r.platform or "", "" if r.cloud_cover is None else f"{r.cloud_cover:.1f}", r.collection or "")
    console.print(t)
    if download:
        console.print(f"ingested {len(report.ingested)}, already current {len(report.current)}, failed {len(report.failed)}")
    if report.failed:
        for rid, msg in report.failed:
            console.print(f"[red]{rid}[/]: {msg}")
        if report.refused:  # bad input: a re-run would not help (exit code 2), nothing of these scenes was kept
            first = next(msg for (rid, msg) in report.failed if rid in report.refused)
            raise IngestRefused(f"{len(report.refused)} scene(s) refused ({first})"
                                + (f"; {len(report.failed) - len(report.refused)} other(s) failed, re-run to resume"
                                   if len(report.failed) > len(report.refused) else ""))
        raise DownloadFailed(f"{len(report.failed)} scene(s) failed; re-run to resume")


@app.command("stac")
def stac(
    url: Optional[str] = typer.Argument(None, help="STAC API root (default HPGEO_STAC_URL: https://earth-search.aws.element84.com/v1)."),
    collection: list[str] = typer.Option(..., "--collection", "-c", help="STAC collection to search (repeatable)."),
    aoi: Optional[str] = _AOI,
    bbox: Optional[str] = _BBOX,
    datetime: Optional[str] = _DT,
    max_cloud: Optional[float] = _CLOUD,
    limit: Optional[int] = _LIMIT,
    download: bool = _DOWNLOAD,
) -> None:
    """Search a STAC API (pages followed lazily); --download fetches the raster data assets."""
    from ingest.sources.stac import StacSource

    area, clip = _area(aoi, bbox, required=False)
    run_source(StacSource(url or get_settings().stac_url, settings=get_settings()), area, clip, datetime, download, collections=collection, max_cloud=max_cloud, limit=limit)


@app.command("dhus")
def dhus(
    url: Optional[str] = typer.Argument(None, help="DHuS API root, SciHub protocol (default HPGEO_DHUS_URL: https://apihub.copernicus.eu/apihub/)."),
    platform: str = typer.Option(..., "--platform", help="Platform name: Sentinel-1, Sentinel-2 ..."),
    product_type: Optional[str] = typer.Option(None, "--product-type", help="e.g. GRD, S2MSI2A."),
    aoi: Optional[str] = _AOI,
    bbox: Optional[str] = _BBOX,
    datetime: Optional[str] = _DT,
    max_cloud: Optional[float] = _CLOUD,
    limit: Optional[int] = _LIMIT,
    user: Optional[str] = typer.Option(None, "--user", envvar="HPGEO_DHUS_USER", help="Hub user (env HPGEO_DHUS_USER)."),
    password: Optional[str] = typer.Option(
        None, "--password", envvar="HPGEO_DHUS_PASSWORD", show_default=False,
        help="Hub password; prefer the environment (HPGEO_DHUS_PASSWORD) or ~/.netrc. Never printed.",
    ),
    download: bool = _DOWNLOAD,
) -> None:
    """Search a DHuS hub with sentinelsat; --download fetches each product (MD5-verified)."""
    from ingest.sources.dhus import DhusSource

    area, clip = _area(aoi, bbox, required=True)
    run_source(DhusSource(url or get_settings().dhus_url, user=user, password=password, settings=get_settings()), area, clip, datetime, download,
         platform=platform, product_type=product_type, max_cloud=max_cloud, limit=limit)


@app.command("odata")
def odata(
    url: Optional[str] = typer.Argument(None, help="Catalogue root (default HPGEO_ODATA_URL: https://catalogue.dataspace.copernicus.eu)."),
    collection: str = typer.Option("SENTINEL-1", "--collection", "-c", help="SENTINEL-1, SENTINEL-2 ..."),
    product_type: Optional[str] = typer.Option(None, "--product-type", help="e.g. IW_GRDH_1S, S2MSI2A."),
    aoi: Optional[str] = _AOI,
    bbox: Optional[str] = _BBOX,
    datetime: Optional[str] = _DT,
    max_cloud: Optional[float] = _CLOUD,
    limit: Optional[int] = _LIMIT,
    download_url: Optional[str] = typer.Option(None, "--download-url", help="Root of Products(Id)/$value (default: HPGEO_ODATA_DOWNLOAD_URL)."),
    download: bool = _DOWNLOAD,
) -> None:
    """Search the Copernicus Data Space OData catalogue; --download uses a bearer token (HPGEO_ODATA_USER/PASSWORD)."""
    from ingest.sources.odata import ODataSource

    area, clip = _area(aoi, bbox, required=True)
    run_source(ODataSource(url or get_settings().odata_url, download_url=download_url, settings=get_settings()), area, clip, datetime, download,
         collection=collection, product_type=product_type, max_cloud=max_cloud, limit=limit)


@app.command("file")
def file(
    paths: list[Path] = typer.Argument(..., help="GeoTIFF/COG/JPEG2000 files (e.g. VNREDSat-1), Sentinel-1 GRD and Sentinel-2 L1C/L2A SAFE folders, Landsat Collection 2 Level-2 product folders, .zip/.tar archives of these, or folders of them."),
    aoi: Optional[str] = _AOI,
    bbox: Optional[str] = _BBOX,
    datetime: Optional[str] = _DT,
    bands: Optional[str] = typer.Option(None, "--bands", help="Band roles of plain rasters, one eo:common_name per band in order, - for none (e.g. blue,green,red,nir for VNREDSat-1). Default: the file's own band metadata; without roles no product uses the bands."),
    categorical: bool = typer.Option(False, "--categorical", help="The plain rasters are class maps (labels such as -1/0/1): integer codes and dtype kept, nearest resampling for the COG and its overviews. Without it, an integer raster with a colour table is taken as a class map (its colour table kept as classification:classes) and any other raster as values (bilinear, float32)."),
) -> None:
    """Ingest local files and archives: verify, extract, write analysis-ready items (clipped to --aoi if given)."""
    from ingest.sources.local import LocalSource

    area, clip = _area(aoi, bbox, required=False)
    run_source(LocalSource(paths, band_roles=bands, categorical=True if categorical else None), area, clip, datetime, True)


@app.command("watch")
def watch(
    config: Optional[Path] = typer.Option(None, "--config", help="YAML list of jobs (default HPGEO_WATCH_CONFIG)."),
    once: bool = typer.Option(False, "--once", help="Run one cycle and exit."),
    every: Optional[float] = typer.Option(None, "--every", min=1, help="Seconds between cycles (default: config, then HPGEO_WATCH_EVERY)."),
    state: Optional[Path] = typer.Option(None, "--state", help="State file (default HPGEO_WATCH_STATE or <data_dir>/watch-state.json)."),
) -> None:
    """Scheduled ingestion for configured AOIs: each cycle searches each job since its last successful search."""
    from ingest.sources.errors import InvalidWatchConfig
    from ingest.sources.watch import load_config, run_cycle, watch_forever

    s = get_settings()
    path = config or s.watch_config
    if path is None:
        raise InvalidWatchConfig("give --config or set HPGEO_WATCH_CONFIG")
    cfg = load_config(path)
    data_dir = s.resolved_data_dir
    kw = {"catalog": open_catalog(), "data_dir": data_dir, "settings": s, "state_path": state or s.watch_state or data_dir / "watch-state.json"}
    if once:
        results = run_cycle(cfg, **kw)
        for name, r in results.items():
            console.print(f"{name}: {r if isinstance(r, Exception) else f'{len(r.records)} record(s), {len(r.ingested)} ingested'}")
        return
    watch_forever(cfg, every=every or cfg.every or s.watch_every, **kw)


def _register_rectify() -> None:
    from hpgeo.cli import ingest_rectify

    ingest_rectify.register(app)


_register_rectify()

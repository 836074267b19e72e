"""Scale-out by configuration only: the same product built on a dask.distributed cluster gives the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from ingest.catalog import SearchQuery
from ingest.items import resolve_href

distributed = pytest.importorskip("distributed")


def test_flood_on_a_distributed_cluster_matches_local(demo_settings, demo_catalog, tmp_path):
    from products.build import build_product

    local = next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"])))
    prov = local["properties"]["hpgeo:provenance"]
    inputs = {r: (v["collection"], v["id"]) for r, v in prov["inputs"].items()}
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client=client) as stream:
            item = build_product(prov["algorithm"], inputs, prov["parameters"], catalog=demo_catalog, data_dir=demo_settings.resolved_data_dir,
                                 force=True, scheduler=cluster.scheduler_address)
        assert len(stream.data) > 10  # the work ran as tasks on the cluster
    assert item["id"] == local["id"]
    with rasterio.open(resolve_href(item["assets"]["flood"]["href"], demo_settings.resolved_data_dir)) as ds:
        got = ds.read(1)
    assert (got == 1).sum() == local["properties"]["hpgeo:statistics"]["flood"]["flood (new water)"]["pixels"]


def test_unreachable_scheduler_is_a_clear_error(demo_settings, demo_catalog):
    from base.errors import UpstreamUnavailable
    from products.build import build_product

    local = next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"])))
    prov = local["properties"]["hpgeo:provenance"]
    inputs = {r: (v["collection"], v["id"]) for r, v in prov["inputs"].items()}
    with pytest.raises(UpstreamUnavailable):
        build_product(prov["algorithm"], inputs, prov["parameters"], catalog=demo_catalog, data_dir=demo_settings.resolved_data_dir,
                      force=True, scheduler="tcp://127.0.0.1:9")


def test_shoreline_on_a_distributed_cluster_matches_local(demo_settings, demo_catalog):
    """The series product goes through the same engine: the scheduler setting moves its dask work to the cluster."""
    import geopandas as gpd

    from products.build import build_product, inputs_of

    d = demo_settings.resolved_data_dir
    local = next(demo_catalog.search(SearchQuery.build(collections=["shoreline"])))
    prov = local["properties"]["hpgeo:provenance"]
    with rasterio.open(resolve_href(local["assets"]["rate"]["href"], d)) as ds:
        rate_local = ds.read(1)
    transects_local = gpd.read_file(resolve_href(local["assets"]["transects"]["href"], d))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client=client) as stream:
            item = build_product("shoreline", inputs_of(local), prov["parameters"], catalog=demo_catalog, data_dir=d,
                                 force=True, scheduler=cluster.scheduler_address)
        tasks = stream.data
    assert len(tasks) > 10  # the waterline tiles, histograms and the rate raster ran as tasks on the cluster
    assert item["id"] == local["id"]
    assert item["properties"]["hpgeo:statistics"] == local["properties"]["hpgeo:statistics"]
    assert item["properties"]["hpgeo:diagnostics"] == local["properties"]["hpgeo:diagnostics"]
    with rasterio.open(resolve_href(item["assets"]["rate"]["href"], d)) as ds:
        rate = ds.read(1)
    assert np.isfinite(rate).sum() > 1000
    np.testing.assert_array_equal(rate, rate_local)  # NaN where no transect, the same LRR elsewhere
    transects = gpd.read_file(resolve_href(item["assets"]["transects"]["href"], d))
    cols = ["name", "nsm", "epr", "lrr", "r2", "se", "ci95"]
    assert len(transects) == len(transects_local) >= 30
    assert transects[cols].equals(transects_local[cols])

"""`hpgeo products build shoreline` (a dated series) and rebuild from provenance through the generic entry point."""

from __future__ import annotations

import shutil

from hpgeo.cli import main
from base.settings import override_settings
from ingest.catalog import SearchQuery


def _shoreline(cat):
    return next(cat.search(SearchQuery.build(collections=["shoreline"])))


def test_build_shoreline_from_items_via_cli(demo_settings, demo_catalog, capsys):
    item = _shoreline(demo_catalog)
    inputs = [f"{v['collection']}/{v['id']}" for v in item["properties"]["hpgeo:provenance"]["inputs"].values()]
    assert len(inputs) >= 2
    before = demo_catalog.count_items("shoreline")
    try:
        _run_cli(demo_settings, demo_catalog, capsys, inputs, before)
    finally:  # the demo catalog is shared by the session: leave it as it was
        for it in list(demo_catalog.search(SearchQuery.build(collections=["shoreline"]))):
            if it["id"] != item["id"]:
                demo_catalog.delete_item("shoreline", it["id"])
                shutil.rmtree(demo_settings.resolved_data_dir / "products" / "shoreline" / it["id"], ignore_errors=True)
    assert demo_catalog.count_items("shoreline") == before


def _run_cli(demo_settings, demo_catalog, capsys, inputs, before):
    with override_settings(demo_settings):
        args = ["products", "build", "shoreline"]
        for ref in inputs:
            args += ["--items", ref]
        args += ["--param", "transect_spacing_m=200"]  # another parameter set than the demo's: a new product
        assert main(args) == 0
        # the item line, then what the alert rules made of it (alerts: …)
        lines = capsys.readouterr().out.strip().splitlines()
        first = next(ln for ln in lines if ln.startswith("shoreline/"))
        assert first.startswith("shoreline/shoreline-") and first.endswith(f"from {len(inputs)} scenes")
        assert any(ln.strip().startswith("alerts:") for ln in lines)
        assert demo_catalog.count_items("shoreline") == before + 1
        assert main(args) == 0  # current: the same item, nothing written
        assert next(ln for ln in capsys.readouterr().out.strip().splitlines() if ln.startswith("shoreline/")) == first
        assert demo_catalog.count_items("shoreline") == before + 1
        built = demo_catalog.get_item("shoreline", first.split()[0].split("/", 1)[1])
        assert built["properties"]["hpgeo:provenance"]["parameters"]["transect_spacing_m"] == 200
        assert main(["products", "build", "shoreline", "--items", inputs[0]]) == 2  # one date is not a series
        assert main([*args, "--stats", "aoi"]) == 2
        assert main(["products", "build", "shoreline", "--aoi", "bach-long-vi", "--datetime", "2017-01-01/2025-12-31"]) == 2
    assert demo_catalog.count_items("shoreline") == before + 1


def test_generic_rebuild_dispatches_series_products(demo_settings, demo_catalog):
    from products.build import rebuild

    item = _shoreline(demo_catalog)
    again = rebuild(item, catalog=demo_catalog, data_dir=demo_settings.resolved_data_dir)
    assert again["id"] == item["id"]
    assert again["properties"]["hpgeo:statistics"] == item["properties"]["hpgeo:statistics"]

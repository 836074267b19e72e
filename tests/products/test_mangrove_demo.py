"""Mangrove extent and change on the simulated demo, against the simulator's land-cover truth (no change happens)."""

from __future__ import annotations

import numpy as np
import rasterio

from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from products.mangrove import GAIN, LOSS, MANGROVE, NODATA


def test_demo_mangroves_found_and_stable(demo_settings, demo_catalog):
    data_dir = demo_settings.resolved_data_dir
    item = next(demo_catalog.search(SearchQuery.build(collections=["mangrove-extent"])))
    with rasterio.open(resolve_href(item["assets"]["mangrove"]["href"], data_dir)) as ds:
        m = ds.read(1)
    with rasterio.open(data_dir / "raw" / "simulated" / "truth" / "land_cover.tif") as ds:
        truth = ds.read(1) == 5  # MANGROVE class of simulator.scenes
    seen = truth & (m != NODATA)  # clear in both scenes
    stable = (m[seen] == MANGROVE).mean()
    false_change = np.isin(m[seen], (GAIN, LOSS)).mean()
    print(f"mangrove: {seen.sum()} clear true-mangrove px, stable {stable:.3f}, false gain/loss {false_change:.3f}")
    assert seen.sum() > 10_000
    assert stable >= 0.85  # the misses are strip edges where the 20 m SWIR band mixes with sand and sea
    assert false_change <= 0.08  # nothing changed in the simulation
    outside = ~truth & (m != NODATA)
    assert (m[outside] == MANGROVE).mean() < 0.005

"""Oil-slick candidates: detection of the simulated slick, rejection of the low-wind look-alike."""

from __future__ import annotations

import numpy as np
import rasterio

from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from products.oil import CANDIDATE, OIL_CLASSES
from products.registry import get


def test_simulated_slick_detected_and_lookalike_rejected(demo_settings, demo_catalog):
    item = next(demo_catalog.search(SearchQuery.build(collections=["oil-slick-candidates"])))
    data_dir = demo_settings.resolved_data_dir
    with rasterio.open(resolve_href(item["assets"]["candidates"]["href"], data_dir)) as ds:
        c = ds.read(1)
    with rasterio.open(data_dir / "raw" / "hazards" / "truth" / "oil_slick_truth.tif") as ds:
        t = ds.read(1)
    detection = float((c[t == 1] == CANDIDATE).mean())
    false_alarm_ha = float(((c == CANDIDATE) & (t != 1)).sum() * 100 / 1e4)
    diag = item["properties"]["hpgeo:diagnostics"]
    print(f"oil: slick pixels detected {detection:.3f}, false-alarm area {false_alarm_ha:.2f} ha, look-alike flagged {(c[t == 2] == CANDIDATE).mean():.3f}, candidates {diag['candidates']}")
    assert detection >= 0.7
    assert (c[t == 2] == CANDIDATE).sum() == 0
    assert false_alarm_ha <= 5.0
    assert diag["candidates"] == 1
    cand = diag["candidate_list"][0]
    assert cand["elongation"] >= 2 and 50 <= cand["area_ha"] <= 200 and cand["status"] == "candidate (unconfirmed)"
    lon, lat = cand["centroid"]
    assert 107.0 < lon < 107.085 and 20.71 < lat < 20.785


def test_everything_says_candidate():
    alg = get("oil-candidates")
    assert "candidate" in alg.title.lower() and "ứng viên" in alg.title_vi
    assert "candidate" in OIL_CLASSES[CANDIDATE] and "unconfirmed" in OIL_CLASSES[CANDIDATE]

"""Fixtures of the alert tests: a catalog with imported commune AOIs and a simulated flood sequence
(class-map COGs + stored zonal statistics, values chosen so every answer is known)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box, mapping

from base.settings import Settings, override_settings

#: Đồ Sơn ward (official code 11455) and Tiên Lãng commune (matched by name): 2 × 2 km squares (WGS 84).
DO_SON = box(106.76, 20.70, 106.78, 20.72)
TIEN_LANG = box(106.60, 20.70, 106.62, 20.72)
XSD = "cap/CAP-v1.2.xsd"


def write_classmap(path: Path, geom, flooded: float) -> None:
    """A 20 m UTM 48N class map over ``geom``: the western ``flooded`` share of the cells is class 1."""
    import rasterio
    from rasterio.transform import from_origin

    from geo.crs import WGS84, reproject_geometry

    g = reproject_geometry(geom, WGS84, "EPSG:32648")
    x0, y0, x1, y1 = g.bounds
    w, h = int((x1 - x0) // 20) + 1, int((y1 - y0) // 20) + 1
    data = np.zeros((h, w), "uint8")
    data[:, : int(round(w * flooded))] = 1
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8", crs="EPSG:32648",
                       transform=from_origin(x0, y1, 20, 20), nodata=255) as ds:
        ds.write(data, 1)


@pytest.fixture
def settings(tmp_path: Path):
    s = Settings(data_dir=tmp_path, database_url=None)
    with override_settings(s):
        yield s


@pytest.fixture
def world(settings):
    """(catalog, alert store, rules, add_pass) on an empty data directory with the two communes imported."""
    from alerts import AlertStore, load_rules
    from geo.aoi import AOI
    from ingest.catalog import Catalog

    cat = Catalog.from_settings(settings)
    cat.put_aois([AOI("11455", "Phường Đồ Sơn", "Do Son ward", DO_SON, kind="commune", valid_from=dt.date(2025, 7, 1)),
                  AOI("tien-lang", "Xã Tiên Lãng", "Tien Lang commune", TIEN_LANG, kind="commune", valid_from=dt.date(2025, 7, 1))])
    cat.put_collection({"type": "Collection", "id": "flood-extent", "stac_version": "1.0.0", "description": "flood", "license": "proprietary",
                        "extent": {"spatial": {"bbox": [[106, 20, 107, 21]]}, "temporal": {"interval": [[None, None]]}}, "links": []}, kind="product")
    store = AlertStore.from_settings(settings)

    def add_pass(n: int, do_son_ha: float, *, simulated: bool = True) -> str:
        """Pass ``n`` (day 10+n of Sept. 2025): Đồ Sơn has ``do_son_ha`` flooded hectares, Tiên Lãng 10 ha (below every threshold)."""
        from products.stats_models import store_stats

        when = dt.datetime(2025, 9, 10 + n, 11, 0, tzinfo=dt.timezone.utc)
        item_id = f"flood-sim-pass{n}"
        tif = settings.resolved_data_dir / f"{item_id}.tif"
        write_classmap(tif, DO_SON, do_son_ha / 440.0)
        cat.put_item({"type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "flood-extent",
                      "geometry": mapping(box(106.5, 20.6, 106.9, 20.8)), "bbox": [106.5, 20.6, 106.9, 20.8],
                      "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), "hpgeo:simulated": simulated,
                                     "hpgeo:provenance": {"algorithm": "flood-sar", "inputs": {}}},
                      "assets": {"flood": {"href": str(tif), "type": "image/tiff; application=geotiff"}}, "links": []})
        rows = []
        for unit, name, ha in (("11455", "Phường Đồ Sơn", do_son_ha), ("tien-lang", "Xã Tiên Lãng", 10.0)):
            rows.append({"asset": "flood", "unit_id": unit, "unit_name": name, "datetime": when, "class_value": 1, "class_name": "flood",
                         "hectares": ha, "fraction": ha / 440.0, "valid_hectares": 440.0})
        store_stats(cat, "flood-extent", item_id, rows)
        return item_id

    yield cat, store, load_rules(), add_pass
    store.close()
    cat.close()

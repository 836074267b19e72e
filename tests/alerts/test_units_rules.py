"""Official units (vietnam-provinces) and the rules file."""

from __future__ import annotations

import pytest

from alerts import load_rules
from alerts.errors import InvalidRules
from alerts.units import by_code, city, match_aoi, wards


def test_the_114_post_2025_units_of_hai_phong():
    ws = wards()
    assert len(ws) == 114 and len({u.code for u in ws}) == 114
    kinds = {k: sum(u.division == k for u in ws) for k in ("phường", "xã", "đặc khu")}
    assert kinds == {"phường": 45, "xã": 67, "đặc khu": 2}
    assert city().code == "31" and city().name == "Thành phố Hải Phòng"
    assert by_code("11914").name == "Đặc khu Cát Hải" and by_code("11948").name == "Đặc khu Bạch Long Vĩ"


def test_aois_match_by_code_then_by_normalised_name_else_the_city():
    assert match_aoi("11455", "whatever").name == "Phường Đồ Sơn"
    assert match_aoi("x", "phường  đồ sơn").code == "11455"
    assert match_aoi("x", "Hòa Bình").name == "Phường Hoà Bình"  # new-style tone placement, no prefix
    assert match_aoi("x", "Xã", {"ma_xa": "11755"}).name == "Xã Tiên Lãng"
    assert match_aoi("x", "Nowhere").code == "31"
    assert match_aoi("do-son", "Đồ Sơn", builtin=True).code == "31"  # a hand-drawn AOI, not the ward
    # the islands lie in the special zones, whose names come straight from vietnam-provinces
    from vietnam_provinces import Ward, WardCode

    for aoi_id, code in (("cat-ba", 11914), ("cat-hai", 11914), ("bach-long-vi", 11948)):
        u = match_aoi(aoi_id, "Đảo …", builtin=True)
        assert (u.code, u.name, u.division) == (str(code), Ward.from_code(WardCode(code)).name, "đặc khu")
    assert match_aoi("x", "Cát Hải").code == "11914" and match_aoi("x", "đặc khu bạch long vĩ").code == "11948"
    assert match_aoi("11948", "Đảo").name == "Đặc khu Bạch Long Vĩ"


def test_every_unit_an_alert_names_exists_with_that_code(world, settings):
    from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

    from alerts import evaluate_item

    cat, store, rules, add_pass = world
    evaluate_item(store, cat, "flood-extent", add_pass(1, 300.0), rules, data_dir=settings.resolved_data_dir)
    msgs = store.messages(active=False)
    assert msgs
    for m in msgs:
        official = Province.from_code(ProvinceCode(int(m["unit_code"]))).name if m["unit_code"] == "31" else Ward.from_code(WardCode(int(m["unit_code"]))).name
        assert official == m["unit_name"]


def test_shipped_rules_are_versioned_and_bad_rules_are_refused(tmp_path):
    r = load_rules()
    assert r.version >= 1 and r.sender == "hpgeo@haiphong.gov.vn"
    assert {x.id for x in r.rules} >= {"flood-area", "flood-growth", "oil-slick", "mangrove-loss", "shoreline-retreat"}
    assert load_rules(sender="alerts@example.org").sender == "alerts@example.org"
    assert r.get("flood-area").level(49.9) is None and r.get("flood-area").level(600).severity == "Severe"
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nsender: a@b\nsender_name: x\nweb: http://x\nrules:\n  - id: f\n    kind: class_area\n    collections: [c]\n"
                   "    asset: a\n    metric: hectares\n    category: Met\n    certainty: Observed\n    event_code: F\n    event_vi: a\n"
                   "    event_en: a\n    what_vi: a\n    what_en: a\n    unit: ha\n    levels: [{min: 5, severity: Severe, urgency: Immediate}, "
                   "{min: 1, severity: Minor, urgency: Future}]\n", encoding="utf-8")
    with pytest.raises(InvalidRules, match="ascending"):
        load_rules(bad)
    bad.write_text("- not a mapping", encoding="utf-8")
    with pytest.raises(InvalidRules, match="mapping"):
        load_rules(bad)


def _official_name(code: str) -> str:
    from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

    return Province.from_code(ProvinceCode(int(code))).name if code == "31" else Ward.from_code(WardCode(int(code))).name


def _check_named_units(store) -> list[dict]:
    """Every message names a unit that exists in vietnam-provinces with that code, in its JSON and its CAP XML."""
    from lxml import etree

    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    msgs = store.messages(active=False)
    for m in msgs:
        assert _official_name(m["unit_code"]) == m["unit_name"]
        doc = etree.fromstring(store.message_xml(m["identifier"]).encode())
        for area in doc.findall(".//c:area", ns):
            assert area.findtext("c:areaDesc", namespaces=ns) == m["unit_name"]
            assert [g.findtext("c:value", namespaces=ns) for g in area.findall("c:geocode", ns)] == [m["unit_code"]]
    return msgs


def test_alerts_over_the_islands_name_the_special_zones_with_the_builtin_aois(settings):
    """No unit geometry imported: statistics on the built-in AOIs. A flood over Cát Bà and Bạch Long Vĩ
    names Đặc khu Cát Hải (11914) and Đặc khu Bạch Long Vĩ (11948), not the city (31)."""
    import datetime as dt

    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from shapely.geometry import box, mapping

    from alerts import AlertStore, evaluate_item
    from geo.aoi import builtin_aois
    from ingest.catalog import Catalog
    from products.stats_models import store_stats

    cat = Catalog.from_settings(settings)
    store = AlertStore.from_settings(settings)
    try:
        cat.put_collection({"type": "Collection", "id": "flood-extent", "stac_version": "1.0.0", "description": "flood", "license": "proprietary",
                            "extent": {"spatial": {"bbox": [[106, 20, 108, 21]]}, "temporal": {"interval": [[None, None]]}}, "links": []}, kind="product")
        tif = settings.resolved_data_dir / "flood-islands.tif"
        with rasterio.open(tif, "w", driver="GTiff", width=900, height=800, count=1, dtype="uint8", crs="EPSG:4326",
                           transform=from_origin(106.9, 20.9, 0.001, 0.001), nodata=255) as ds:
            ds.write(np.ones((800, 900), "uint8"), 1)  # everything flooded: every polygon is the island itself
        when = dt.datetime(2025, 9, 20, 11, 0, tzinfo=dt.timezone.utc)
        cat.put_item({"type": "Feature", "stac_version": "1.0.0", "id": "flood-islands", "collection": "flood-extent",
                      "geometry": mapping(box(106.9, 20.1, 107.8, 20.9)), "bbox": [106.9, 20.1, 107.8, 20.9],
                      "properties": {"datetime": when.isoformat().replace("+00:00", "Z"), "hpgeo:simulated": True,
                                     "hpgeo:provenance": {"algorithm": "flood-sar", "inputs": {}}},
                      "assets": {"flood": {"href": str(tif), "type": "image/tiff; application=geotiff"}}, "links": []})
        aois = {a.id: a for a in builtin_aois()}
        rows = [{"asset": "flood", "unit_id": u, "unit_name": aois[u].name_vi, "datetime": when, "class_value": 1, "class_name": "flood",
                 "hectares": ha, "fraction": ha / (aois[u].area_km2() * 100), "valid_hectares": aois[u].area_km2() * 100}
                for u, ha in (("cat-ba", 900.0), ("cat-hai", 100.0), ("bach-long-vi", 600.0), ("do-son", 1.0))]
        store_stats(cat, "flood-extent", "flood-islands", rows)
        msgs = evaluate_item(store, cat, "flood-extent", "flood-islands", load_rules(), data_dir=settings.resolved_data_dir)
        codes = {m["unit_code"] for m in msgs}
        assert codes == {"11914", "11948"}  # no message names the city: Đồ Sơn's 1 ha is below every threshold
        assert {m["unit_name"] for m in msgs} == {"Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ"}
        area = {m["unit_code"]: m["value"] for m in msgs if m["rule"] == "flood-area"}
        assert area == {"11914": 900.0, "11948": 600.0}  # Cát Hải zone speaks through its larger island, Cát Bà
        _check_named_units(store)
    finally:
        store.close()
        cat.close()


def test_alerts_name_imported_special_zones_by_name(world, settings):
    """Imported unit geometry named "Cát Hải" (no code) is the special zone 11914."""
    import datetime as dt

    from shapely.geometry import box

    from alerts import evaluate_item
    from geo.aoi import AOI
    from products.stats_models import store_stats

    cat, store, rules, add_pass = world
    zone = box(106.95, 20.72, 106.97, 20.74)
    cat.put_aois([AOI("dk-cat-hai", "Cát Hải", "Cat Hai", zone, kind="commune", valid_from=dt.date(2025, 7, 1))])
    item = add_pass(1, 300.0)
    when = dt.datetime(2025, 9, 11, 11, 0, tzinfo=dt.timezone.utc)
    store_stats(cat, "flood-extent", item, [{"asset": "flood", "unit_id": "dk-cat-hai", "unit_name": "Cát Hải", "datetime": when, "class_value": 1,
                                             "class_name": "flood", "hectares": 120.0, "fraction": 0.27, "valid_hectares": 440.0}])
    msgs = evaluate_item(store, cat, "flood-extent", item, rules, data_dir=settings.resolved_data_dir)
    assert "11914" in {m["unit_code"] for m in msgs}
    assert all(_official_name(m["unit_code"]) == m["unit_name"] for m in msgs)
    _check_named_units(store)

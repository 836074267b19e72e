"""A simulated flood of three passes (rising, peak, receding to nothing) → exactly Alert, Update, Cancel
for the affected unit, each referencing the previous; every message valid CAP 1.2 (XSD + capparselib)."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from alerts import evaluate_item
from alerts.cap import CAP_NS
from tests.alerts.conftest import XSD

NS = {"c": CAP_NS}
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def _run(world, passes):
    cat, store, rules, add_pass = world
    out = []
    for n, ha in enumerate(passes, start=1):
        item = add_pass(n, ha)
        out.append(evaluate_item(store, cat, "flood-extent", item, rules, data_dir=cat_dir(cat), now=T0 + dt.timedelta(hours=n)))
    return out


def cat_dir(cat):
    """The data directory of the settings in force (the fixtures' tmp_path; SQLite or PostgreSQL)."""
    from base.settings import get_settings

    return get_settings().resolved_data_dir


@pytest.fixture
def schema(shared_file):
    return etree.XMLSchema(etree.parse(str(shared_file(XSD))))


def test_rising_peak_receding_gives_alert_update_cancel(world, schema):
    from capparselib.parsers import CAPParser

    cat, store, rules, _ = world
    runs = _run(world, [300.0, 800.0, 0.0])
    flood = [[m for m in run if m["rule"] == "flood-area"] for run in runs]
    assert [[m["msgType"] for m in r] for r in flood] == [["Alert"], ["Update"], ["Cancel"]]
    a, u, c = (r[0] for r in flood)
    assert {a["unit_code"], u["unit_code"], c["unit_code"]} == {"11455"}  # Tiên Lãng (10 ha) never alerts
    assert [m["severity"] for m in (a, u)] == ["Moderate", "Severe"]
    assert a["references"] == []
    assert u["references"] == [f"hpgeo@haiphong.gov.vn,{a['identifier']},2026-01-05T09:00:00+00:00"]
    assert c["references"] == [f"hpgeo@haiphong.gov.vn,{u['identifier']},2026-01-05T10:00:00+00:00"]
    assert len({a["identifier"], u["identifier"], c["identifier"]}) == 3
    assert store.messages(active=True, rule="flood-area") == []
    for m in (a, u, c):
        xml = store.message_xml(m["identifier"]).encode()
        doc = etree.fromstring(xml)
        assert schema.validate(doc), schema.error_log
        parsed = CAPParser(xml.decode()).as_dict()[0]
        assert parsed["cap_message_type"] == m["msgType"] and parsed["cap_status"] == "Exercise"
        infos = doc.findall("c:info", NS)
        assert [i.findtext("c:language", namespaces=NS) for i in infos] == ["vi-VN", "en-US"]
        assert infos[0].findtext("c:headline", namespaces=NS).startswith("[DIỄN TẬP – DỮ LIỆU MÔ PHỎNG]")
        assert infos[1].findtext("c:headline", namespaces=NS).startswith("[EXERCISE – SIMULATED DATA]")
        assert infos[0].findtext("c:event", namespaces=NS) == "Ngập lụt"
        assert infos[0].findtext("c:category", namespaces=NS) == "Met"
        assert infos[0].findtext("c:eventCode/c:value", namespaces=NS) == "FLOOD"
        area = infos[0].find("c:area", NS)
        assert area.findtext("c:areaDesc", namespaces=NS) == "Phường Đồ Sơn"
        assert area.findtext("c:geocode/c:valueName", namespaces=NS) == "VN-ADMIN-CODE"
        assert area.findtext("c:geocode/c:value", namespaces=NS) == "11455"
        for poly in area.findall("c:polygon", NS):
            pts = [tuple(map(float, p.split(","))) for p in poly.text.split()]
            assert pts[0] == pts[-1] and 4 <= len(pts) <= 100
            assert all(20.69 <= lat <= 20.73 and 106.75 <= lon <= 106.79 for lat, lon in pts)  # lat,lon order, inside Đồ Sơn
        uris = [r.findtext("c:uri", namespaces=NS) for r in infos[0].findall("c:resource", NS)]
        assert any("/tiles/flood-extent/" in x for x in uris) and any("/viewer?" in x for x in uris)
    # the Alert's polygon is the flooded western part of the ward (300/440 of its width), not the whole ward
    ring = etree.fromstring(store.message_xml(a["identifier"]).encode()).findtext("c:info/c:area/c:polygon", namespaces=NS)
    lons = [float(p.split(",")[1]) for p in ring.split()]
    assert max(lons) < 106.776


def test_reevaluating_changes_nothing_and_identifiers_are_stable(world, settings):
    from alerts import AlertStore

    cat, store, rules, add_pass = world
    item = add_pass(1, 300.0)
    first = evaluate_item(store, cat, "flood-extent", item, rules, data_dir=settings.resolved_data_dir, now=T0)
    assert {m["rule"] for m in first} == {"flood-area", "flood-fraction"}  # 300 ha, 68 % of the ward
    before = store.messages(active=False)
    assert evaluate_item(store, cat, "flood-extent", item, rules, data_dir=settings.resolved_data_dir, now=T0) == []
    assert store.messages(active=False) == before
    # a fresh store (other database) computes the same identifiers for the same pass
    other = AlertStore.open(f"sqlite:///{settings.resolved_data_dir / 'other.db'}")
    again = evaluate_item(other, cat, "flood-extent", item, rules, data_dir=settings.resolved_data_dir, now=T0)
    assert sorted(m["identifier"] for m in again) == sorted(m["identifier"] for m in first)


def test_real_data_is_actual_and_older_items_raise_nothing(world, settings):
    cat, store, rules, add_pass = world
    new = add_pass(2, 600.0, simulated=False)
    old = add_pass(1, 900.0, simulated=False)
    msgs = evaluate_item(store, cat, "flood-extent", new, rules, data_dir=settings.resolved_data_dir)
    xml = store.message_xml(msgs[0]["identifier"])
    assert "<status>Actual</status>" in xml and "DIỄN TẬP" not in xml and msgs[0]["status"] == "Actual"
    assert evaluate_item(store, cat, "flood-extent", old, rules, data_dir=settings.resolved_data_dir) == []  # stale pass


def test_growth_rule_compares_with_the_previous_observation(world, settings):
    cat, store, rules, _ = world
    runs = _run(world, [300.0, 800.0, 850.0])
    growth = [[m["msgType"] for m in run if m["rule"] == "flood-growth"] for run in runs]
    assert growth == [[], ["Alert"], ["Cancel"]]  # +500 ha ≥ 200; then +50 ha clears it
    g = next(m for m in runs[1] if m["rule"] == "flood-growth")
    assert g["value"] == pytest.approx(500.0)

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
    assert match_aoi("cat-ba", "Đảo Cát Bà", builtin=True).code == "31"


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

"""The registry holds every task of the space plan with its agency; counts and texts checked against the seeds."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from registry.seedbuild import build_seed, count_restored_items, fold, restored_body
from registry.store import SEED_FILE

SECTION_III = {"III.1": 3, "III.2": 4, "III.3": 3, "III.4": 3, "III.5": 3, "III.6": 2, "III.7": 3}
# section V: tasks per agency (bullets, or the single paragraph of V.8–V.12)
SECTION_V = {"V.1": 4, "V.2": 2, "V.3": 6, "V.4": 3, "V.5": 2, "V.6": 2, "V.7": 2, "V.8": 1, "V.9": 1, "V.10": 1, "V.11": 1, "V.12": 1}
V_LEADS = {"V.1": "SKHCN", "V.2": "BCHQS", "V.3": "CATP", "V.4": "SGDDT", "V.5": "STTTT", "V.6": "SNGV", "V.7": "SNV",
           "V.8": "STNMT", "V.9": "SKHDT", "V.10": "STC", "V.11": "UBND_QH", "V.12": "TD"}


def test_restored_document_counts(seed_file):
    counts = count_restored_items(seed_file("plan-004-restored.md").read_text(encoding="utf-8"))
    assert {k: v for k, v in counts.items() if k.startswith("III.")} == SECTION_III
    assert {k: v for k, v in counts.items() if k.startswith("V.")} == SECTION_V


def test_registry_counts_match_the_document(reg, seed_file):
    doc = count_restored_items(seed_file("plan-004-restored.md").read_text(encoding="utf-8"))
    tasks = reg.list_tasks(plan="VUTRU-2030", year=2026)
    assert len(tasks) == 70
    per_section = Counter(t["section"]["code"] for t in tasks if t["kind"] != "oversight")
    for sec, n in doc.items():
        assert per_section[sec] == n, sec
    assert sum(per_section[s] for s in SECTION_III) == 21
    assert sum(per_section[s] for s in SECTION_V) == 26
    oversight = sorted(t["local_id"] for t in tasks if t["kind"] == "oversight")
    assert oversight == ["V.1.0", "V.2.0", "V.3.0"]
    vi = sorted(t["local_id"] for t in tasks if t["section"]["code"] == "VI")
    assert vi == ["VI.1", "VI.2", "VI.2.a", "VI.2.b", "VI.2.c", "VI.3", "VI.4"]


def test_every_space_task_has_its_agency(reg):
    tasks = reg.list_tasks(plan="VUTRU-2030", year=2026)
    for t in tasks:
        if t["section"]["code"].split(".")[0] in ("III", "V", "VI"):
            assert t["lead_agency"] is not None, t["id"]
    # section V: the twelve agencies of the plan, each leading its own subsection
    v = [t for t in tasks if t["section"]["code"].startswith("V.")]
    assert {t["section"]["code"]: t["lead_agency"]["id"] for t in v} == V_LEADS
    assert all(not t["lead_agency"]["inferred"] for t in v)
    assert len({t["lead_agency"]["id"] for t in v}) == 12
    # section III names no lead: every lead there is marked inferred
    iii = [t for t in tasks if t["section"]["code"].startswith("III.")]
    assert all(t["lead_agency"]["inferred"] for t in iii)
    assert Counter(t["lead_agency"]["id"] for t in iii) == {"SKHCN": 10, "STNMT": 4, "SNV": 2, "STTTT": 2, "SNGV": 2, "VT": 1}
    # section VI reporting duties
    by_id = {t["local_id"]: t for t in tasks}
    assert by_id["VI.2.a"]["lead_agency"]["id"] == "ALL"
    assert by_id["VI.2.b"]["lead_agency"]["id"] == "SKHCN"
    assert by_id["VI.2.c"]["lead_agency"]["id"] == "SKHCN"


@pytest.mark.parametrize(
    "local_id, start",
    [
        ("V.8.1", "Chủ trì, phối hợp với các Sở, ngành tiếp tục triển khai thực hiện Chiến lược phát triển viễn thám"),
        ("III.3.b", "Đầu tư công nghệ, thiết bị tiên tiến thực hiện quét, nắn ảnh để khôi phục [?], lưu trữ"),
        ("VI.2.b", "Sở Khoa học và Công nghệ gửi văn bản đôn đốc kèm mẫu báo cáo tới các cơ quan, đơn vị trước ngày 15 tháng 11"),
        ("V.3.2", "Tăng cường các biện pháp trong đấu tranh với tội phạm sử dụng công nghệ cao, tội phạm mạng,"),
        ("II.2.c.1", "Đào tạo, bồi dưỡng đội ngũ cán bộ"),
    ],
)
def test_sample_texts_are_the_seed_document(reg, seed_file, local_id, start):
    text = reg.task(f"VUTRU-2030.{local_id}")["text_vi"]
    assert text.startswith(start)
    body = re.sub(r"\s+", " ", restored_body(seed_file("plan-004-restored.md").read_text(encoding="utf-8")))
    assert text in body
    # and, without diacritics, in the OCR of the original (noisy: most words, not all)
    ocr = set(re.findall(r"[a-z0-9]{3,}", fold(seed_file("004_fb8e79489e62ef92.txt").read_text(encoding="utf-8"))))
    words = re.findall(r"[a-z0-9]{3,}", fold(text))
    assert sum(w in ocr for w in words) / len(words) >= 0.75


def test_seed_file_is_built_from_the_seeds(seed_file):
    seeds = seed_file("plan-004-tasks.yaml").parent
    fresh = build_seed(seeds)
    committed = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    for key in ("checks", "disagreements", "agencies", "plans"):
        assert fresh[key] == committed[key], key
    assert committed["checks"]["plan_texts_in_restored_text"] == 70
    assert len(committed["disagreements"]) >= 9
    # the disagreements are also in the file's header comment
    assert "# Disagreements between the seed extraction" in SEED_FILE.read_text(encoding="utf-8")


def test_successors_of_the_2025_reorganisation(reg):
    a = reg.agency("STNMT")
    assert a["successor"] == "SNNMT" and a["successor_from"] == "2025-03-01"
    assert reg.agency("SNNMT")["name_vi"] == "Sở Nông nghiệp và Môi trường"
    assert reg.agency("SNNMT")["predecessors"] == ["SNNPTNT", "STNMT"]
    assert reg.successor_chain("UBND_QH") == ["UBND_QH", "UBND_XP"]
    assert reg.reporting_agencies(2024) == ["SKHCN", "BCHQS", "CATP", "SGDDT", "STTTT", "SNGV", "SNV", "STNMT", "SKHDT", "STC", "UBND_QH", "TD"]
    assert reg.reporting_agencies(2026) == ["SKHCN", "BCHQS", "CATP", "SGDDT", "SNGV", "SNV", "SNNMT", "STC", "UBND_XP", "TD"]
    # the environment department's remote-sensing task, found under its successor, linked to the products
    rs = reg.list_tasks(agency="SNNMT", year=2026)
    assert [t["local_id"] for t in rs] == ["III.1.c", "III.3.a", "III.3.b", "III.5.b", "V.8.1"]
    v81 = reg.task("VUTRU-2030.V.8.1")
    assert v81["lead_agency"]["current"]["id"] == "SNNMT"
    assert [p["collection"] for p in v81["products"]] == sorted(
        ["flood-extent", "water-mask", "shoreline", "mangrove-extent", "land-cover", "burn-severity", "turbidity", "oil-slick-candidates"])


def test_other_programmes_and_indicators(reg):
    plans = {p["id"]: p["tasks"] for p in reg.plans()}
    assert plans == {"VUTRU-2030": 70, "HOPTAC-2020": 6, "TIEMLUC-2016-2020": 25, "HOPTAC-2016-2020": 6,
                     "TAISANTT-2016-2020": 12, "NANGSUAT-2016-2020": 10, "DOIMOI-2016-2020": 13, "HOPTAC-2016-2020-DRAFT": 7}
    eng = next(i for i in reg.indicators("VUTRU-2030", 2026) if i["id"] == "VUTRU-2030.space-engineers")
    assert (eng["target_min"], eng["target_max"], eng["by_year"], eng["value"]) == (100, 120, 2030, None)


def test_load_is_idempotent_and_keeps_status(reg):
    from registry import CLI_PRINCIPAL, read_seed

    reg.set_status(CLI_PRINCIPAL, "VUTRU-2030.V.4.1", 2026, "in_progress", 30, "")
    counts = reg.load(read_seed())
    assert counts["tasks"] == 149 and counts["agencies"] == 34
    assert reg.task("VUTRU-2030.V.4.1", 2026)["status"] == "in_progress"
    assert len(reg.list_tasks(plan=None, year=2026)) == 149

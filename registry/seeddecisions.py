"""The project's own editorial decisions added to the registry seed (see :mod:`registry.seedbuild`).

The 2025 successors of the plan's agencies, the agencies the extraction does not list, inferred leads,
links from tasks to product collections, the plan's indicators, the reporting agencies of section VI
and the disagreements found by reading the texts (each with its source).
"""

from __future__ import annotations

from typing import Any

# -- the project's own editorial decisions ---------------------------------------------------------

# Agencies the extraction does not list, and the 2025 successor links (effective dates).
REORG_DATE = "2025-03-01"  # effective date of Decree 45/2025/NĐ-CP (28/02/2025); Hải Phòng's own decision not seen
TWO_TIER_DATE = "2025-07-01"  # districts abolished (Resolution 1669/NQ-UBTVQH15 of 16/06/2025)

EXTRA_AGENCIES: dict[str, dict[str, Any]] = {
    "SNNMT": {"vi": "Sở Nông nghiệp và Môi trường", "en": "Department of Agriculture and Environment", "kind": "department",
              "note": "Formed in 2025 from Sở Tài nguyên và Môi trường and Sở Nông nghiệp và Phát triển nông thôn."},
    "UBND_XP": {"vi": "Ủy ban nhân dân các xã, phường, đặc khu", "en": "People's Committees of the communes, wards and special zones",
                "kind": "local-government",
                "note": "114 commune-level units from 01/07/2025 (67 xã, 45 phường, 2 đặc khu: Cát Hải, Bạch Long Vĩ)."},
    "SNNPTNT": {"vi": "Sở Nông nghiệp và Phát triển nông thôn", "en": "Department of Agriculture and Rural Development", "kind": "department"},
    "SCT": {"vi": "Sở Công thương", "en": "Department of Industry and Trade", "kind": "department"},
    "LHH": {"vi": "Liên hiệp các Hội Khoa học và Kỹ thuật thành phố", "en": "City Union of Science and Technology Associations",
            "kind": "mass-organisation"},
    "LDLD": {"vi": "Liên đoàn Lao động thành phố", "en": "City Labour Federation", "kind": "mass-organisation"},
    "HND": {"vi": "Hội Nông dân thành phố", "en": "City Farmers' Union", "kind": "mass-organisation"},
    "TTKHXHNV": {"vi": "Trung tâm Khoa học xã hội và nhân văn", "en": "City Centre for Social Sciences and Humanities", "kind": "unit"},
    "TTTTKHCN": {"vi": "Trung tâm Thông tin Khoa học và Công nghệ", "en": "S&T Information Centre", "kind": "unit", "parent": "SKHCN"},
    "TTKTTCDLCL": {"vi": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng", "en": "Technical Centre for Standards, Metrology and Quality",
                   "kind": "unit", "parent": "SKHCN"},
    "TTUDTBKHCN": {"vi": "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ", "en": "Centre for Application of S&T Advances",
                   "kind": "unit", "parent": "SKHCN"},
    "SGDCN": {"vi": "Sàn Giao dịch công nghệ và thiết bị", "en": "Technology and Equipment Exchange", "kind": "unit", "parent": "SKHCN"},
    "CCTCDLCL": {"vi": "Chi cục Tiêu chuẩn Đo lường Chất lượng", "en": "Sub-Department of Standards, Metrology and Quality",
                 "kind": "unit", "parent": "SKHCN"},
}

SUCCESSORS: dict[str, tuple[str, str]] = {
    "STTTT": ("SKHCN", REORG_DATE),
    "SKHDT": ("STC", REORG_DATE),
    "STNMT": ("SNNMT", REORG_DATE),
    "SNNPTNT": ("SNNMT", REORG_DATE),
    "UBND_QH": ("UBND_XP", TWO_TIER_DATE),
}

AGENCY_KINDS = {
    "UBND_TP": "city", "SKHCN": "department", "BCHQS": "armed-forces", "CATP": "armed-forces", "SGDDT": "department",
    "STTTT": "department", "SNGV": "department", "SNV": "department", "STNMT": "department", "SKHDT": "department",
    "STC": "department", "UBND_QH": "local-government", "TD": "mass-organisation", "VT": "group", "ALL": "group",
    "BKHCN": "central", "BCA": "central", "BN_TW": "group", "SBN": "group", "CQCN": "group", "CQLQ": "group",
}

# Lead names in the programme tables → agency ids (names folded: no diacritics, lower case, no "[?]").
LEAD_NAMES = {
    "so khoa hoc va cong nghe": ["SKHCN"],
    "so thong tin va truyen thong": ["STTTT"],
    "so ke hoach va dau tu": ["SKHDT"],
    "so tai chinh": ["STC"],
    "so nong nghiep va phat trien nong thon": ["SNNPTNT"],
    "so cong thuong": ["SCT"],
    "lien hiep cac hoi kh&kt thanh pho": ["LHH"],
    "lien hiep cac hoi kh&kt": ["LHH"],
    "lien hiep cac hoi kh&kt, lien doan lao dong thanh pho, hoi nong dan, thanh doan hai phong": ["LHH", "LDLD", "HND", "TD"],
    "trung tam khoa hoc xa hoi va nhan van": ["TTKHXHNV"],
    "trung tam ky thuat tieu chuan do luong chat luong": ["TTKTTCDLCL"],
    "trung tam ung dung tien bo khoa hoc va cong nghe": ["TTUDTBKHCN"],
    "trung tam thong tin khoa hoc va cong nghe": ["TTTTKHCN"],
    "trung tam thong tin kh&cn": ["TTTTKHCN"],
    "san giao dich cong nghe va thiet bi": ["SGDCN"],
    "chi cuc tieu chuan do luong chat luong": ["CCTCDLCL"],
}

# Leads for plan records where the extraction gives neither a lead nor an inferred lead.
EXTRA_INFERRED = {
    "III.1.b": {"code": "SKHCN", "via": "V.1.0",
                "note": "hpgeo editorial: DOST oversees the plan in the civil domain (V.1.0); the plan names no lead"},
    "III.4.a": {"code": "VT", "via": "VI.3",
                "note": "hpgeo editorial: the extraction's own note names VI.3 (institutes and universities) as closest"},
}

# Links from plan tasks to the service's product collections (and input data).
PRODUCT_LINKS: dict[str, list[tuple[str, str]]] = {
    "V.8.1": [(c, "product") for c in ("flood-extent", "water-mask", "shoreline", "mangrove-extent", "land-cover",
                                        "burn-severity", "turbidity", "oil-slick-candidates")],
    "II.2.b.1": [("flood-extent", "product"), ("burn-severity", "product"), ("oil-slick-candidates", "product"),
                 ("turbidity", "product")],
    "II.2.b.2": [("land-cover", "product"), ("water-mask", "product"), ("shoreline", "product"), ("mangrove-extent", "product")],
    "III.1.c": [("sentinel-1-grd", "data"), ("sentinel-2-l2a", "data"), ("landsat-c2-l2", "data")],
    "III.3.a": [("shoreline", "product"), ("land-cover", "product"), ("oil-slick-candidates", "product")],
    "III.3.b": [("scanned-archive", "data")],
    "III.5.b": [("sentinel-1-grd", "data"), ("sentinel-2-l2a", "data"), ("landsat-c2-l2", "data")],
}

# Indicators of the space plan (targets as the plan states them).
PLAN_INDICATORS = [
    {"id": "space-engineers", "task": "II.2.c.1", "name_vi": "Kỹ sư trong lĩnh vực khoa học và công nghệ vũ trụ",
     "name_en": "Engineers in space science and technology", "unit": "người", "target_min": 100, "target_max": 120,
     "target_text": "100 – 120", "by_year": 2030, "aggregate": "sum"},
    {"id": "training-institutions", "task": "III.4.a",
     "name_vi": "Cơ sở đào tạo chuyên ngành hàng không học và vũ trụ trên địa bàn thành phố",
     "name_en": "Training institutions in the city with aeronautics and space programmes", "unit": "cơ sở",
     "target_min": 1, "target_max": None, "target_text": "ít nhất 01", "by_year": 2030, "aggregate": "max"},
]

# Reporting agencies of the space plan: the twelve agencies of section V (VI.2 "Các Sở, ban, ngành, địa phương").
REPORTING_AGENCIES = ["SKHCN", "BCHQS", "CATP", "SGDDT", "STTTT", "SNGV", "SNV", "STNMT", "SKHDT", "STC", "UBND_QH", "TD"]

# Disagreements found by reading the extraction against the restored text (checks add more at build time).
MANUAL_FINDINGS = [
    ("title", "The extraction's title_vi starts with \"Kế hoạch\"; the restored text (and the OCR) starts at "
              "\"Thực hiện Chiến lược …\" and the restorer deliberately did not add the word. Kept, marked inferred."),
    ("III.1.b", "No lead and no inferred lead in the extraction. Registry: SKHCN (via V.1.0), editorial."),
    ("III.4.a", "No lead and no inferred lead in the extraction (its note points to VI.3). Registry: VT (via VI.3), editorial."),
    ("III.5.a", "Inferred lead SKHCN 'via V.1.1', but V.1.1 is about proposing R&D tasks, not building an enterprise "
                "ecosystem; the record has no 'related' entry. Kept SKHCN (closest is V.1.3/V.1.4), flagged."),
    ("III.7.a", "Inferred lead SKHCN via V.1.4 while 'related' names only V.5.1 (STTTT). Kept SKHCN: the S&T Bulletin "
                "and S&T portal named in the text are DOST's."),
    ("VI.2", "The extraction keeps VI.2 whole and also split into VI.2.a–c (same text). Registry: VI.2 is the parent "
             "and VI.2.a–c its three duties; counts of reporting duties use the children."),
    ("VI.2 deadlines", "\"trước ngày 18 tháng 12\" / \"trước ngày 15 tháng 11\" read as last days 17 December and "
                       "14 November (extraction's rrule BYMONTHDAY=17 / 14). The registry follows this reading."),
    ("SNGV successor", "The extraction leaves Sở Ngoại vụ's fate after 2025 unverified; the registry keeps it "
                       "as continuing (no successor) and marks it unverified."),
    ("successor dates", f"The extraction gives no dates for the 2025 mergers; the registry uses {REORG_DATE} "
                        f"(Decree 45/2025/NĐ-CP in force) and {TWO_TIER_DATE} (districts abolished)."),
]

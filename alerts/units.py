"""The official units alerts name: the 114 post-2025 communes, wards and special zones of Hải Phòng
(names and codes from the ``vietnam-provinces`` package, which has no geometry), and the city itself.

A statistics unit (an AOI) is matched to an official unit by its code (AOI id or a ``code``-like
property) or by its normalised Vietnamese name; built-in AOIs (no official boundaries imported) stand
for the whole city and carry the city's code — except the islands, which lie wholly in a special zone
(đặc khu) and name it: Cát Bà and Cát Hải islands → Đặc khu Cát Hải (11914), Bạch Long Vĩ island →
Đặc khu Bạch Long Vĩ (11948).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["OfficialUnit", "BUILTIN_UNITS", "CITY_CODE", "city", "wards", "by_code", "match_aoi", "normalise_name", "GEOCODE_NAME"]

#: The CAP ``<geocode>`` value name of the official administrative code.
GEOCODE_NAME = "VN-ADMIN-CODE"
CITY_CODE = "31"
#: built-in AOIs that lie inside one official unit (ids of geo/data/haiphong_aois.geojson → official code)
BUILTIN_UNITS = {"cat-ba": "11914", "cat-hai": "11914", "bach-long-vi": "11948"}
_PREFIX = re.compile(r"^(thành phố|phường|xã|đặc khu|thị trấn)\s+", re.IGNORECASE)
_CODE_KEYS = ("code", "ma", "ma_xa", "maxa", "ward_code", "admin_code", "ma_dvhc")
# old-style ("hoà", "thuỷ") and new-style ("hòa", "thủy") tone placement: compare in one style
_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
          "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str  # official Vietnamese name with its type, e.g. "Phường Đồ Sơn"
    division: str  # phường | xã | đặc khu | thành phố trung ương

    @property
    def name_en(self) -> str:
        base = _PREFIX.sub("", self.name)
        kind = {"phường": "ward", "xã": "commune", "đặc khu": "special zone"}.get(self.division)
        return f"{base} {kind}" if kind else f"{base} city"


def normalise_name(name: str, *, keep_prefix: bool = True) -> str:
    """Lower-case NFC with one tone-placement style and single spaces (prefix "Phường", "Xã"… optional)."""
    s = unicodedata.normalize("NFC", " ".join(name.split())).lower()
    for old, new in _TONES.items():
        s = s.replace(old, new)
    return s if keep_prefix else _PREFIX.sub("", s)


@lru_cache(maxsize=1)
def city() -> OfficialUnit:
    from vietnam_provinces import Province, ProvinceCode

    p = Province.from_code(ProvinceCode(int(CITY_CODE)))
    return OfficialUnit(str(int(p.code)), p.name, str(p.division_type.value))


@lru_cache(maxsize=1)
def wards() -> tuple[OfficialUnit, ...]:
    """The city's communes, wards and special zones (114 since 1 July 2025)."""
    from vietnam_provinces import ProvinceCode, Ward

    pc = ProvinceCode(int(CITY_CODE))
    return tuple(sorted((OfficialUnit(str(int(w.code)), w.name, str(w.division_type.value)) for w in Ward.iter_all() if w.province_code == pc),
                        key=lambda u: int(u.code)))


def by_code(code: str) -> OfficialUnit | None:
    code = str(code).strip().lstrip("0") or "0"
    if code == CITY_CODE:
        return city()
    return next((u for u in wards() if u.code == code), None)


def match_aoi(aoi_id: str, name: str, properties: dict[str, Any] | None = None, *, builtin: bool = False) -> OfficialUnit:
    """The official unit an AOI stands for: by code, else by name; a built-in AOI gives its special zone
    (:data:`BUILTIN_UNITS`) or the city, an unmatched one the city."""
    if builtin:
        code = BUILTIN_UNITS.get(aoi_id)
        return (by_code(code) if code else None) or city()
    props = properties or {}
    for cand in [aoi_id, *(props.get(k) for k in _CODE_KEYS)]:
        if cand is not None and re.fullmatch(r"\d{1,6}", str(cand).strip()):
            u = by_code(str(cand))
            if u is not None:
                return u
    full = normalise_name(name)
    hit = [u for u in wards() if normalise_name(u.name) == full]
    if not hit:
        bare = normalise_name(name, keep_prefix=False)
        hit = [u for u in wards() if normalise_name(u.name, keep_prefix=False) == bare]
    return hit[0] if len(hit) == 1 else city()

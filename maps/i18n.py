"""Viewer strings in Vietnamese (default) and English."""

from __future__ import annotations

__all__ = ["t", "LANGS", "norm_lang"]

LANGS = ("vi", "en")

_STRINGS: dict[str, dict[str, str]] = {
    "title": {"vi": "hpgeo — Bản đồ giám sát tài nguyên, môi trường và thiên tai Hải Phòng", "en": "hpgeo — Hải Phòng environment and hazard monitoring map"},
    "aois": {"vi": "Vùng quan tâm", "en": "Areas of interest"},
    "admin_units": {"vi": "Đơn vị hành chính (ranh giới đã nhập)", "en": "Administrative units (imported boundaries)"},
    "simulated": {
        "vi": "DỮ LIỆU MÔ PHỎNG: các cảnh ảnh và sản phẩm dưới đây được tạo bởi bộ mô phỏng của hpgeo, không phải ảnh vệ tinh thật.",
        "en": "SIMULATED DATA: the scenes and products below come from hpgeo's scene simulator, not from real satellite images.",
    },
    "legend": {"vi": "Chú giải", "en": "Legend"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "no_products": {"vi": "Chưa có sản phẩm nào trong danh mục. Chạy `hpgeo demo` hoặc xây dựng sản phẩm.", "en": "No products in the catalog yet. Run `hpgeo demo` or build products."},
    "api": {"vi": "API & tài liệu", "en": "API & docs"},
    "registry": {"vi": "Nhiệm vụ của Kế hoạch", "en": "Plan tasks"},
    "scene": {"vi": "Ảnh", "en": "Scene"},
    "product": {"vi": "Sản phẩm", "en": "Product"},
    "sentinel-1-grd": {"vi": "Sentinel-1 σ0 VV", "en": "Sentinel-1 σ0 VV"},
    "sentinel-2-l2a": {"vi": "Sentinel-2 màu tự nhiên", "en": "Sentinel-2 true colour"},
    "area": {"vi": "Diện tích", "en": "Area"},
    "valid": {"vi": "Hiệu lực", "en": "Valid"},
}


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def t(key: str, lang: str) -> str:
    return _STRINGS[key][norm_lang(lang)]

"""Viewer strings in Vietnamese (default) and English."""

from __future__ import annotations

__all__ = ["t", "LANGS", "norm_lang", "JS_KEYS"]

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
    "map": {"vi": "Bản đồ", "en": "Map"},
    "layers": {"vi": "Lớp bản đồ", "en": "Layers"},
    "group_scenes": {"vi": "Ảnh vệ tinh", "en": "Satellite scenes"},
    "group_hazards": {"vi": "Thiên tai", "en": "Hazards"},
    "group_land": {"vi": "Đất đai và rừng", "en": "Land and forest"},
    "group_coast": {"vi": "Bờ biển và vùng nước ven bờ", "en": "Coast and coastal waters"},
    "basemap": {"vi": "Bản đồ nền", "en": "Base map"},
    "basemap_attribution": {"vi": "Nền đất/biển: GLOBE (NOAA) qua global-land-mask", "en": "Land/sea: GLOBE (NOAA) via global-land-mask"},
    "place_labels": {"vi": "Tên địa danh", "en": "Place names"},
    "date": {"vi": "Ngày", "en": "Date"},
    "opacity": {"vi": "Độ mờ đục", "en": "Opacity"},
    "compare": {"vi": "So sánh trước/sau", "en": "Before/after comparison"},
    "compare_left": {"vi": "Bên trái (trước)", "en": "Left (before)"},
    "compare_right": {"vi": "Bên phải (sau)", "en": "Right (after)"},
    "compare_on": {"vi": "Bật so sánh", "en": "Start comparison"},
    "compare_off": {"vi": "Tắt so sánh", "en": "Stop comparison"},
    "alerts": {"vi": "Cảnh báo", "en": "Alerts"},
    "no_alerts": {"vi": "Không có cảnh báo đang hiệu lực.", "en": "No active alerts."},
    "alerts_unavailable": {"vi": "Không tải được danh sách cảnh báo", "en": "Could not load the alerts"},
    "cap_message": {"vi": "Bản tin CAP", "en": "CAP message"},
    "show_layer": {"vi": "Xem lớp", "en": "Show layer"},
    "value": {"vi": "Giá trị tại điểm", "en": "Value at the point"},
    "no_value": {"vi": "Không có dữ liệu tại điểm này", "en": "No data at this point"},
    "outside": {"vi": "Điểm nằm ngoài dữ liệu của lớp", "en": "The point is outside the layer's data"},
    "click_hint": {"vi": "Nhấp vào bản đồ để xem giá trị và thống kê", "en": "Click the map for values and statistics"},
    "unit": {"vi": "Đơn vị hành chính / vùng", "en": "Unit / area"},
    "no_unit": {"vi": "Điểm không thuộc vùng nào đã biết", "en": "The point is in no known unit"},
    "stats": {"vi": "Diện tích theo ngày (ha)", "en": "Area per date (ha)"},
    "no_stats": {"vi": "Chưa có thống kê của vùng này cho sản phẩm", "en": "No statistics of this unit for the product yet"},
    "downloads": {"vi": "Tải về (cắt theo vùng)", "en": "Download (clipped to the unit)"},
    "error": {"vi": "Lỗi", "en": "Error"},
    "close": {"vi": "Đóng", "en": "Close"},
    "sim_short": {"vi": "MÔ PHỎNG", "en": "SIMULATED"},
    "severity": {"vi": "Mức độ", "en": "Severity"},
    "sent": {"vi": "Thời gian phát", "en": "Sent"},
}

#: The strings viewer.js needs (sent in the page's configuration).
JS_KEYS = (
    "layers", "basemap", "place_labels", "date", "opacity", "compare", "compare_left", "compare_right", "compare_on",
    "compare_off", "alerts", "no_alerts", "alerts_unavailable", "cap_message", "show_layer", "value", "no_value", "outside",
    "click_hint", "unit", "no_unit", "stats", "no_stats", "downloads", "error", "close", "sim_short", "severity", "sent",
    "area", "valid", "aois", "admin_units", "language",
)


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def t(key: str, lang: str) -> str:
    return _STRINGS[key][norm_lang(lang)]

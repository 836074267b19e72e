"""Colormaps and legends: one registry shared by the tile server and the viewer.

Discrete maps give a colour per class value (transparent for "nothing to show"); continuous maps
name a rio-tiler colormap and a default display range. Legends carry Vietnamese and English labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["LegendEntry", "ColormapSpec", "COLORMAPS", "get_colormap", "colormap_names", "rio_colormap", "legend_png"]

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class LegendEntry:
    color: RGBA
    label_vi: str
    label_en: str
    value: int | float | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi

    @property
    def css(self) -> str:
        r, g, b, a = self.color
        return f"rgba({r},{g},{b},{a / 255:.2f})"


@dataclass(frozen=True)
class ColormapSpec:
    name: str
    kind: str  # "discrete" | "continuous"
    title_vi: str
    title_en: str
    classes: Mapping[int, RGBA] = field(default_factory=dict)  # discrete
    rio_name: str | None = None  # continuous: rio-tiler colormap name (None = grey)
    rescale: tuple[float, float] | None = None
    unit: str | None = None
    legend: tuple[LegendEntry, ...] = ()
    # discrete: names of class values that the legend does not show (drawn transparent), for point queries
    class_labels: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi


_T: RGBA = (0, 0, 0, 0)

# land-cover classes of products/landcover.py: value, colour, Vietnamese, English
_LANDCOVER: tuple[tuple[int, RGBA, str, str], ...] = (
    (1, (37, 99, 235, 230), "Mặt nước", "Water"),
    (2, (220, 38, 38, 230), "Đất xây dựng", "Built-up"),
    (3, (234, 179, 8, 230), "Đất trống / cát / bãi bồi", "Bare / sand / mudflat"),
    (4, (190, 242, 100, 230), "Đất nông nghiệp / cỏ", "Cropland / grassland"),
    (5, (22, 101, 52, 230), "Cây rừng / thực vật dày", "Tree cover / dense vegetation"),
    (6, (13, 148, 136, 230), "Rừng ngập mặn", "Mangrove"),
)

_SPECS = [
    ColormapSpec(
        "flood",
        "discrete",
        "Ngập lụt (SAR)",
        "Flood (SAR)",
        classes={0: _T, 1: (220, 38, 38, 230), 2: (37, 99, 235, 200), 255: _T},
        legend=(
            LegendEntry((220, 38, 38, 230), "Vùng ngập mới", "Flood (new water)", 1),
            LegendEntry((37, 99, 235, 200), "Nước thường xuyên (biển, sông, đầm)", "Permanent water (sea, rivers, ponds)", 2),
        ),
        class_labels={0: ("Không phải mặt nước", "Not water")},
    ),
    ColormapSpec(
        "water",
        "discrete",
        "Mặt nước",
        "Water",
        classes={0: _T, 1: (37, 99, 235, 220), 255: _T},
        legend=(LegendEntry((37, 99, 235, 220), "Mặt nước", "Water", 1),),
        class_labels={0: ("Không phải mặt nước", "Not water")},
    ),
    ColormapSpec(
        "sar-db",
        "continuous",
        "Tán xạ ngược σ0 (dB)",
        "Backscatter σ0 (dB)",
        rio_name=None,
        rescale=(-25.0, 0.0),
        unit="dB",
        legend=(LegendEntry((0, 0, 0, 255), "−25 dB (nước, bề mặt nhẵn)", "−25 dB (water, smooth)"), LegendEntry((255, 255, 255, 255), "0 dB (đô thị, thực vật)", "0 dB (built-up, vegetation)")),
    ),
    ColormapSpec(
        "shoreline-rate",
        "continuous",
        "Tốc độ biến động đường bờ (m/năm)",
        "Shoreline change rate (m/yr)",
        rio_name="rdbu",
        rescale=(-10.0, 10.0),
        unit="m/yr",
        legend=(
            LegendEntry((103, 0, 31, 255), "≤ −10 m/năm (xói lở)", "≤ −10 m/yr (erosion)", -10.0),
            LegendEntry((247, 247, 247, 255), "0 m/năm (ổn định)", "0 m/yr (stable)", 0.0),
            LegendEntry((5, 48, 97, 255), "≥ +10 m/năm (bồi tụ)", "≥ +10 m/yr (accretion)", 10.0),
        ),
    ),
    ColormapSpec(
        "flood-ensemble",
        "discrete",
        "Ngập lụt (tổ hợp SAR + quang học)",
        "Flood (ensemble SAR + optical)",
        classes={0: _T, 1: (190, 18, 60, 230), 2: (37, 99, 235, 200), 255: _T},
        legend=(
            LegendEntry((190, 18, 60, 230), "Vùng ngập (đa số thuật toán đồng ý)", "Flood (majority of algorithms)", 1),
            LegendEntry((37, 99, 235, 200), "Nước thường xuyên", "Permanent water", 2),
        ),
        class_labels={0: ("Không phải mặt nước", "Not water")},
    ),
    ColormapSpec(
        "flood-likelihood",
        "continuous",
        "Khả năng ngập (%)",
        "Flood likelihood (%)",
        rio_name="reds",
        rescale=(0.0, 100.0),
        unit="%",
        legend=(LegendEntry((255, 245, 240, 255), "0 % (không ngập)", "0 % (not flooded)", 0.0), LegendEntry((103, 0, 13, 255), "100 % (chắc chắn ngập)", "100 % (certainly flooded)", 100.0)),
    ),
    ColormapSpec(
        "burn-severity",
        "discrete",
        "Mức độ cháy (dNBR, USGS)",
        "Burn severity (dNBR, USGS)",
        classes={
            1: (26, 152, 80, 220), 2: (145, 207, 96, 220), 3: _T, 4: (254, 224, 139, 230),
            5: (253, 174, 97, 230), 6: (244, 109, 67, 230), 7: (165, 0, 38, 240), 255: _T,
        },
        legend=(
            LegendEntry((26, 152, 80, 220), "Tái sinh mạnh", "Enhanced regrowth, high", 1),
            LegendEntry((145, 207, 96, 220), "Tái sinh nhẹ", "Enhanced regrowth, low", 2),
            LegendEntry((254, 224, 139, 230), "Cháy nhẹ", "Low severity", 4),
            LegendEntry((253, 174, 97, 230), "Cháy trung bình thấp", "Moderate-low severity", 5),
            LegendEntry((244, 109, 67, 230), "Cháy trung bình cao", "Moderate-high severity", 6),
            LegendEntry((165, 0, 38, 240), "Cháy nặng", "High severity", 7),
        ),
        class_labels={3: ("Không cháy", "Unburned")},
    ),
    ColormapSpec(
        "turbidity",
        "continuous",
        "Độ đục nước (FNU)",
        "Turbidity (FNU)",
        rio_name="ylorbr",
        rescale=(0.0, 100.0),
        unit="FNU",
        legend=(LegendEntry((255, 255, 229, 255), "0 FNU (nước trong)", "0 FNU (clear water)", 0.0), LegendEntry((102, 37, 6, 255), "≥ 100 FNU (rất đục)", "≥ 100 FNU (very turbid)", 100.0)),
    ),
    ColormapSpec(
        "oil-candidates",
        "discrete",
        "Vết dầu nghi ngờ (ứng viên, chưa xác nhận)",
        "Oil-slick candidates (unconfirmed)",
        classes={0: _T, 1: (217, 70, 239, 240), 2: (148, 163, 184, 160), 3: _T, 255: _T},
        legend=(
            LegendEntry((217, 70, 239, 240), "Ứng viên vết dầu (chưa xác nhận)", "Oil-slick candidate (unconfirmed)", 1),
            LegendEntry((148, 163, 184, 160), "Vùng tối bị loại (diện tích/hình dạng)", "Dark spot rejected (area/shape)", 2),
        ),
        class_labels={0: ("Biển, không có ứng viên", "Sea, no candidate"), 3: ("Đất liền hoặc không đánh giá", "Land or not assessed")},
    ),
    ColormapSpec(
        "landcover",
        "discrete",
        "Lớp phủ mặt đất",
        "Land cover",
        classes={k: c for k, c, *_ in _LANDCOVER} | {255: _T},
        legend=tuple(LegendEntry(c, vi, en, k) for k, c, vi, en in _LANDCOVER),
    ),
    ColormapSpec(
        "landcover-change",
        "discrete",
        "Biến động lớp phủ (tô màu theo lớp mới)",
        "Land-cover change (coloured by the new class)",
        classes={0: _T, 255: _T} | {a * 10 + k: c for k, c, *_ in _LANDCOVER for a in range(1, 7) if a != k},
        legend=tuple(LegendEntry(c, f"→ {vi}", f"→ {en}") for k, c, vi, en in _LANDCOVER),
        class_labels={0: ("Không đổi", "No change")} | {
            a * 10 + k: (f"{va} → {vk}", f"{ea} → {ek}")
            for a, _, va, ea in _LANDCOVER for k, _, vk, ek in _LANDCOVER if a != k
        },
    ),
    ColormapSpec(
        "mangrove",
        "discrete",
        "Rừng ngập mặn (chỉ số MVI)",
        "Mangroves (MVI)",
        classes={0: _T, 1: (21, 128, 61, 230), 2: (132, 204, 22, 240), 3: (220, 38, 38, 240), 255: _T},
        legend=(
            LegendEntry((21, 128, 61, 230), "Rừng ngập mặn", "Mangrove", 1),
            LegendEntry((132, 204, 22, 240), "Rừng ngập mặn tăng", "Mangrove gain", 2),
            LegendEntry((220, 38, 38, 240), "Rừng ngập mặn giảm", "Mangrove loss", 3),
        ),
        class_labels={0: ("Không phải rừng ngập mặn", "Not mangrove")},
    ),
    ColormapSpec(
        "true-color",
        "continuous",
        "Ảnh màu tự nhiên",
        "True colour",
        rescale=(0.0, 0.25),
        legend=(),
    ),
]

COLORMAPS: Mapping[str, ColormapSpec] = MappingProxyType({s.name: s for s in _SPECS})


def colormap_names() -> list[str]:
    return sorted(COLORMAPS)


def get_colormap(name: str) -> ColormapSpec:
    from maps.errors import UnknownColormap

    if name not in COLORMAPS:
        try:
            from rio_tiler.colormap import cmap

            cmap.get(name)
        except Exception as exc:
            raise UnknownColormap(f"no colormap {name!r}; hpgeo colormaps: {', '.join(colormap_names())} (or any rio-tiler colormap)") from exc
        return ColormapSpec(name, "continuous", name, name, rio_name=name)
    return COLORMAPS[name]


def rio_colormap(spec: ColormapSpec) -> dict[int, RGBA] | None:
    """The colormap as rio-tiler's render() takes it (value → RGBA)."""
    if spec.kind == "discrete":
        return dict(spec.classes)
    if spec.rio_name:
        from rio_tiler.colormap import cmap

        return cmap.get(spec.rio_name)
    return None


_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


def _font(size: int) -> Any:
    from PIL import ImageFont

    for p in _FONT_PATHS:
        try:
            return ImageFont.truetype(p, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)  # Pillow's own font (FreeType); covers Latin with most diacritics


def legend_png(spec: ColormapSpec, lang: str = "vi") -> bytes:
    """The legend as a PNG: the title, then one swatch per class (discrete) or a colour ramp from the display
    range's low to high end (continuous), with the labels in ``lang`` ("vi" or "en")."""
    import io

    from PIL import Image, ImageDraw

    font, title_font = _font(13), _font(14)
    pad, sw, row = 8, 22, 22
    title = spec.title(lang) + (f" ({spec.unit})" if spec.unit and spec.unit not in spec.title(lang) else "")
    labels = [e.label(lang) for e in spec.legend]
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    text_w = max([measure.textlength(title, font=title_font)] + [measure.textlength(t, font=font) + sw + 8 for t in labels] + [160])
    ramp = spec.kind == "continuous"
    rows = 2 if ramp else max(1, len(spec.legend))
    width = int(text_w) + 2 * pad
    height = pad + 20 + rows * row + pad + (14 if ramp else 0)
    img = Image.new("RGBA", (width, height), (255, 255, 255, 235))
    d = ImageDraw.Draw(img)
    d.text((pad, pad), title, fill=(17, 24, 39, 255), font=title_font)
    y0 = pad + 22
    if ramp:
        colors = rio_colormap(spec)
        bar_w = width - 2 * pad
        for i in range(bar_w):
            v = round(255 * i / max(1, bar_w - 1))
            c = colors[v] if colors else (v, v, v, 255)
            d.line([(pad + i, y0), (pad + i, y0 + 2 * row - 8)], fill=tuple(c))
        if spec.rescale:
            lo, hi = spec.rescale
            d.text((pad, y0 + 2 * row - 6), f"{lo:g}", fill=(17, 24, 39, 255), font=font)
            t = f"{hi:g}"
            d.text((width - pad - measure.textlength(t, font=font), y0 + 2 * row - 6), t, fill=(17, 24, 39, 255), font=font)
    else:
        for i, e in enumerate(spec.legend):
            y = y0 + i * row
            d.rectangle([pad, y, pad + sw, y + row - 6], fill=e.color, outline=(100, 100, 100, 255))
            d.text((pad + sw + 8, y + 1), e.label(lang), fill=(17, 24, 39, 255), font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()

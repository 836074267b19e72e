"""The registry pages: the task table (filters by agency, type, status and year, with counts), a task's page
(its text with the "[?]" gaps explained, its agencies, a small map of its product layers, its indicator and
progress history as inline SVG charts) and an agency's page (its duties and its reporting state).

Vietnamese by default, English with ``lang=en``. HTML is escaped; the only scripts are the app's own
(``/registry/static/registry.js``) and Leaflet served by the app (no CDN). The pages work without JavaScript
except for the map.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

from maps.render import default_render
from registry.seedtext import GAP
from registry.vocab import KINDS, REPORT_STATES, STATUSES, TYPES, UNREPORTED, label

__all__ = ["render_task_table", "render_task_detail", "render_agency_page", "viewer_link", "task_layer", "svg_chart",
           "text_with_gaps", "static_file", "LANGS", "STATIC_DIR", "LEAFLET_STATIC"]

LANGS = ("vi", "en")
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = ("registry.css", "registry.js")
LEAFLET_STATIC = "/viewer/static/leaflet"

T: dict[str, tuple[str, str]] = {
    "title": ("Sổ theo dõi nhiệm vụ", "Task registry"),
    "brand": ("hpgeo · Kế hoạch khoa học và công nghệ vũ trụ đến 2030", "hpgeo · 2030 space science and technology plan"),
    "agency": ("Cơ quan", "Agency"),
    "type": ("Loại nhiệm vụ", "Type"),
    "status": ("Tình trạng", "Status"),
    "year": ("Năm", "Year"),
    "all": ("Tất cả", "All"),
    "filter": ("Lọc", "Filter"),
    "task": ("Nhiệm vụ", "Task"),
    "content": ("Nội dung", "Content"),
    "lead": ("Cơ quan chủ trì", "Lead agency"),
    "coop": ("Cơ quan phối hợp", "Cooperating agencies"),
    "products": ("Lớp sản phẩm trên bản đồ", "Product layers"),
    "data": ("Dữ liệu đầu vào", "Input data"),
    "none": ("Không có", "None"),
    "inferred": ("suy luận: kế hoạch không nêu cơ quan chủ trì", "inferred: the plan names no lead"),
    "now": ("nay là", "now"),
    "history": ("Tình trạng theo năm", "Status by year"),
    "count": ("nhiệm vụ", "tasks"),
    "of": ("trên tổng số", "of"),
    "back": ("Danh sách nhiệm vụ", "Task list"),
    "section": ("Mục", "Section"),
    "kind": ("Loại mục", "Kind"),
    "deadlines": ("Thời hạn", "Deadlines"),
    "progress": ("Tiến độ", "Progress"),
    "note": ("Ghi chú", "Note"),
    "lang": ("English", "Tiếng Việt"),
    "map": ("Bản đồ giám sát", "Monitoring map"),
    "timeframe": ("Thời gian thực hiện", "Timeframe"),
    "gaps": ("Chỗ chưa đọc chắc chắn trong văn bản gốc", "Uncertain readings in the source text"),
    "gap-conjectural": ("cách đọc phỏng đoán của bản phục hồi văn bản", "a conjectural reading of the plan's restored text"),
    "gap-illegible": ("không đọc rõ trong bản gốc (bản quét OCR); chưa có bản phục hồi để đối chiếu",
                      "illegible in the source (OCR scan); no restored text to check it against"),
    "gap-resolved": ("đã đối chiếu với bản phục hồi văn bản", "checked against the plan's restored text"),
    "ocr": ("bản OCR ghi", "the OCR reads"),
    "restorer": ("ghi chú của người phục hồi", "restorer's note"),
    "field-text_vi": ("nội dung", "text"),
    "field-summary_en": ("tóm tắt tiếng Anh", "English summary"),
    "field-timeframe": ("thời gian thực hiện", "timeframe"),
    "field-lead": ("cơ quan chủ trì", "lead agency"),
    "layers_none": ("Nhiệm vụ này chưa gắn với lớp sản phẩm nào có trong danh mục.", "This task has no product layer in the catalog."),
    "layer_missing": ("chưa có sản phẩm trong danh mục", "no item in the catalog yet"),
    "open_viewer": ("mở trong bản đồ", "open in the viewer"),
    "indicators": ("Chỉ tiêu theo năm", "Indicators by year"),
    "target": ("Mục tiêu", "Target"),
    "no_values": ("Chưa có giá trị nào được báo cáo.", "No value reported yet."),
    "progress_chart": ("Tiến độ theo năm (%)", "Progress by year (%)"),
    "inferred_long": ("Kế hoạch không nêu cơ quan chủ trì nhiệm vụ này. hpgeo suy luận: {name}{via}.",
                      "The plan names no lead agency for this task. hpgeo infers: {name}{via}."),
    "via": (" (theo mục {via})", " (from item {via})"),
    "duties": ("Nhiệm vụ được giao", "Duties"),
    "as_lead": ("Chủ trì", "As lead"),
    "as_coop": ("Phối hợp", "Cooperating"),
    "reporting": ("Tình hình báo cáo năm", "Reporting in"),
    "reports_annually": ("Gửi báo cáo hằng năm cho Sở Khoa học và Công nghệ", "Reports yearly to the Department of Science and Technology"),
    "not_reporting": ("Không thuộc danh sách cơ quan gửi báo cáo năm {year}.", "Not among the agencies that report for {year}."),
    "due": ("Hạn gửi", "Due"),
    "submitted_on": ("Ngày gửi", "Submitted on"),
    "successor": ("Từ {date} hợp nhất vào", "From {date} merged into"),
    "predecessors": ("Kế thừa nhiệm vụ của", "Took over the duties of"),
    "agency_page": ("Trang cơ quan", "Agency page"),
    "registry": ("Nhiệm vụ", "Tasks"),
    "docs": ("API", "API"),
}


def _t(key: str, lang: str) -> str:
    pair = T[key]
    return pair[0] if lang == "vi" else pair[1]


def _num(v: float, lang: str, decimals: int = 0) -> str:
    s = f"{v:,.{decimals}f}"
    return s if lang == "en" else s.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def static_file(name: str) -> Path:
    """One of the registry pages' own static files (CSS, JS); KeyError for any other name."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return STATIC_DIR / name


def viewer_link(collection: str, lang: str, item: str | None = None) -> str:
    """Link to a product collection's (or item's) layer in the map viewer."""
    q = {"lang": lang, "collection": collection}
    if item:
        q["item"] = item
    return "/viewer?" + urlencode(q)


def task_layer(item: Mapping[str, Any], base: str = "") -> dict[str, Any] | None:
    """The small-map layer of a catalog item: tile URL template (the item's default rendering), bounds, label."""
    spec = default_render(dict(item))
    if spec is None or not item.get("bbox"):
        return None
    q = urlencode(spec.query(), safe=",")
    w, s, e, n = item["bbox"][:4]
    when = str(item.get("properties", {}).get("datetime") or "")[:10]
    return {
        "collection": item["collection"], "item": item["id"], "date": when,
        "tiles": f"{base}/tiles/{quote(item['collection'], safe='')}/{quote(item['id'], safe='')}/{{z}}/{{x}}/{{y}}.png?{q}",
        "bounds": [[s, w], [n, e]], "label": f"{item['collection']} {when}".strip(),
        "simulated": bool(item.get("properties", {}).get("hpgeo:simulated")),
    }


def _agency_name(a: Mapping[str, Any] | None, lang: str, *, badge: bool = True, link: bool = True) -> str:
    if not a:
        return "—"
    name = escape(a["name_vi"] if lang == "vi" else a["name_en"])
    if link:
        name = f'<a href="/registry/page/agency/{quote(a["id"], safe="")}?lang={lang}">{name}</a>'
    cur = a.get("current")
    if cur:
        name += f" ({_t('now', lang)}: {escape(cur['name_vi'] if lang == 'vi' else cur['name_en'])})"
    if badge and a.get("inferred"):
        title = f' title="{escape(a["note"])}"' if a.get("note") else ""
        name += f' <span class="badge inferred"{title}>{_t("inferred", lang)}</span>'
    return name


def _page(title: str, body: str, lang: str, *, switch: str, head: str = "", scripts: str = "") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f'<link rel="icon" href="data:,"><link rel="stylesheet" href="/registry/static/registry.css">{head}</head><body>'
        f'<header class="top"><span class="brand">{_t("brand", lang)}</span><nav>'
        f'<a href="/registry/page?lang={lang}">{_t("registry", lang)}</a><a href="/viewer?lang={lang}">{_t("map", lang)}</a>'
        f'<a href="/docs">{_t("docs", lang)}</a><a id="lang-switch" href="{escape(switch)}">{_t("lang", lang)}</a></nav></header>'
        f"<main>{body}</main>{scripts}"
        '<script src="/registry/static/registry.js"></script></body></html>'
    )


def _select(name: str, current: str | None, options: list[tuple[str, str]], lang: str) -> str:
    opts = [f'<option value=""{" selected" if not current else ""}>{_t("all", lang)}</option>']
    for value, text in options:
        sel = " selected" if value == current else ""
        opts.append(f'<option value="{escape(value)}"{sel}>{escape(text)}</option>')
    return f'<select name="{name}" id="f-{name}">{"".join(opts)}</select>'


def _status_badge(status: str, lang: str) -> str:
    return f'<span class="badge st-{escape(status)}">{escape(label(STATUSES, status, lang))}</span>'


def text_with_gaps(text: str, gaps: Sequence[Mapping[str, Any]], field: str, lang: str) -> str:
    """``text`` escaped, each "[?]" of ``field`` shown as a marked gap explained on hover (resolved gaps drop the mark)."""
    mine = [g for g in gaps if g.get("field") == field]
    parts = text.split(GAP)
    out = escape(parts[0])
    for i, rest in enumerate(parts[1:]):
        g = mine[i] if i < len(mine) else {"state": "illegible", "reading": ""}
        state = g.get("state", "illegible")
        if state == "resolved":
            out = out.rstrip() + escape(rest)
            continue
        tip = f"«{g.get('reading', '')}»: {_t('gap-' + state, lang)}"
        out += f'<a class="gap gap-{escape(state)}" href="#gaps" title="{escape(tip)}">[?]</a>' + escape(rest)
    return out


def render_task_table(
    tasks: list[Mapping[str, Any]],
    agencies: list[Mapping[str, Any]],
    *,
    lang: str = "vi",
    year: int,
    agency: str | None = None,
    type: str | None = None,
    status: str | None = None,
    total: int | None = None,
) -> str:
    """The task table with its filter form and the counts by status of the tasks shown."""
    agency_opts = [(a["id"], f"{a['name_vi'] if lang == 'vi' else a['name_en']} ({a['id']})") for a in agencies]
    type_opts = [(k, label(TYPES, k, lang)) for k in TYPES]
    status_opts = [(k, label(STATUSES, k, lang)) for k in [*STATUSES, UNREPORTED]]
    other = "en" if lang == "vi" else "vi"
    q_other = urlencode({k: v for k, v in {"lang": other, "agency": agency, "type": type, "status": status, "year": year}.items() if v})
    form = (
        f'<form class="filters" method="get" action="/registry/page"><input type="hidden" name="lang" value="{lang}">'
        f'<label>{_t("agency", lang)}{_select("agency", agency, agency_opts, lang)}</label>'
        f'<label>{_t("type", lang)}{_select("type", type, type_opts, lang)}</label>'
        f'<label>{_t("status", lang)}{_select("status", status, status_opts, lang)}</label>'
        f'<label>{_t("year", lang)}<input id="f-year" name="year" type="number" value="{year}" min="2013" max="2100"></label>'
        f'<button type="submit">{_t("filter", lang)}</button></form>'
    )
    by_status: dict[str, int] = {}
    for t in tasks:
        by_status[t["status"]] = by_status.get(t["status"], 0) + 1
    counts = "".join(
        f'<li data-status="{escape(k)}">{_status_badge(k, lang)} <b>{n}</b></li>'
        for k, n in sorted(by_status.items(), key=lambda kv: [*STATUSES, UNREPORTED].index(kv[0]) if kv[0] in [*STATUSES, UNREPORTED] else 99)
    )
    rows = []
    for t in tasks:
        types = ", ".join(label(TYPES, x, lang) for x in t["types"])
        gaps = t.get("gaps") or []
        text = text_with_gaps(t["text_vi"], gaps, "text_vi", lang) if lang == "vi" else text_with_gaps(t["summary_en"], gaps, "summary_en", lang)
        href = f"/registry/page/{quote(t['id'], safe='')}?lang={lang}&amp;year={year}"
        rows.append(
            f'<tr data-task="{escape(t["id"])}"><td><a class="task-link" href="{href}">{escape(t["local_id"])}</a></td><td>{text}</td>'
            f"<td>{_agency_name(t['lead_agency'], lang)}</td><td>{escape(types)}</td>"
            f'<td>{_status_badge(t["status"], lang)}</td></tr>'
        )
    table = (
        f'<table class="grid" id="tasks"><thead><tr><th>{_t("task", lang)}</th><th>{_t("content", lang)}</th><th>{_t("lead", lang)}</th>'
        f"<th>{_t('type', lang)}</th><th>{_t('status', lang)} {year}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    shown = f'<span id="count" data-count="{len(tasks)}">{len(tasks)}</span> {_t("count", lang)}'
    if total is not None:
        shown += f' {_t("of", lang)} <span id="total">{total}</span>'
    body = f"<h1>{_t('title', lang)}</h1>{form}<p class=\"muted\">{shown}</p><ul class=\"counts\" id=\"counts\">{counts}</ul>{table}"
    return _page(_t("title", lang), body, lang, switch=f"/registry/page?{q_other}")


def svg_chart(points: Sequence[tuple[int, float]], *, unit: str = "", target: float | None = None, lang: str = "vi",
              ymax: float | None = None, title: str = "") -> str:
    """A small bar chart (inline SVG) of values by year, with an optional target line. Bars carry their value."""
    w, h, left, bottom, top = 480, 200, 44, 26, 14
    if not points:
        return ""
    top_v = max([v for _, v in points] + ([target] if target is not None else []) + ([ymax] if ymax is not None else []))
    top_v = top_v if top_v > 0 else 1.0
    inner_w, inner_h = w - left - 10, h - bottom - top
    step = inner_w / len(points)
    bw = min(36.0, step * 0.6)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{left}" y1="{top + inner_h}" x2="{w - 10}" y2="{top + inner_h}" stroke="#94a3b8"/>',
             f'<text x="4" y="{top + 4}" font-size="11" fill="#5f6b7a">{escape(_num(top_v, lang, 0 if top_v >= 10 else 1))}</text>',
             f'<text x="4" y="{top + inner_h}" font-size="11" fill="#5f6b7a">0</text>']
    for i, (year, v) in enumerate(points):
        x = left + i * step + (step - bw) / 2
        bh = inner_h * (v / top_v)
        y = top + inner_h - bh
        parts.append(f'<rect class="bar" data-year="{year}" data-value="{v:g}" x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{bh:.1f}" fill="#0b5cad">'
                     f"<title>{year}: {escape(_num(v, lang, 0 if float(v).is_integer() else 1))} {escape(unit)}</title></rect>")
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - 8}" font-size="11" text-anchor="middle" fill="#1f2933">{year}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle" fill="#1f2933">'
                     f"{escape(_num(v, lang, 0 if float(v).is_integer() else 1))}</text>")
    if target is not None:
        ty = top + inner_h - inner_h * (target / top_v)
        parts.append(f'<line class="target" x1="{left}" y1="{ty:.1f}" x2="{w - 10}" y2="{ty:.1f}" stroke="#b91c1c" stroke-dasharray="5 4"/>'
                     f'<text x="{w - 12}" y="{ty - 3:.1f}" font-size="10" text-anchor="end" fill="#b91c1c">{_t("target", lang)} '
                     f"{escape(_num(target, lang))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _gap_list(gaps: Sequence[Mapping[str, Any]], lang: str) -> str:
    hidden = "summary_en" if lang == "vi" else "text_vi"  # the text not shown in this language
    gaps = [g for g in gaps if g.get("field") != hidden]
    if not gaps:
        return ""
    items = []
    for g in gaps:
        state = g.get("state", "illegible")
        extra = ""
        if g.get("ocr"):
            extra += f"; {_t('ocr', lang)} <code>{escape(g['ocr'])}</code>"
        if g.get("note"):
            extra += f'<br><span class="muted">{_t("restorer", lang)} ({escape(g.get("source") or "")}): {escape(g["note"])}</span>'
        elif g.get("source"):
            extra += f' <span class="muted">({escape(g["source"])})</span>'
        items.append(f'<li class="gap-item" data-state="{escape(state)}" data-field="{escape(g.get("field") or "")}">'
                     f'<span class="gap gap-{escape(state)}">[?]</span> {_t("field-" + str(g.get("field")), lang) if "field-" + str(g.get("field")) in T else ""}: '
                     f"«{escape(g.get('reading') or '')}» — {_t('gap-' + state, lang)}{extra}</li>")
    return f'<h2 id="gaps">{_t("gaps", lang)}</h2><ul class="gaps">{"".join(items)}</ul>'


def render_task_detail(task: Mapping[str, Any], *, lang: str = "vi", layers: Sequence[Mapping[str, Any]] = (),
                       indicator_history: Sequence[Mapping[str, Any]] = ()) -> str:
    """One task: text (gaps explained), agencies (inferred leads said plainly), deadlines, a small map of its product
    layers (``layers``: :func:`task_layer` dicts of the linked collections' latest items), its indicators and progress
    by year as charts (``indicator_history``: indicators with ``points`` = [(year, value)]), its status by year."""
    year = task["year"]
    gaps = task.get("gaps") or []
    text = text_with_gaps(task["text_vi"], gaps, "text_vi", lang) if lang == "vi" else text_with_gaps(task["summary_en"], gaps, "summary_en", lang)
    products = [p for p in task["products"] if p["relation"] == "product"]
    data = [p for p in task["products"] if p["relation"] != "product"]
    by_coll = {l["collection"]: l for l in layers}

    def links(items: list[Mapping[str, Any]]) -> str:
        if not items:
            return f"<p class=\"muted\">{_t('none', lang)}</p>"
        lis = []
        for p in items:
            lay = by_coll.get(p["collection"])
            if lay:
                lis.append(f'<li><a class="layer" href="{escape(viewer_link(p["collection"], lang, lay["item"]))}">{escape(p["collection"])}</a>'
                           f' <span class="muted">{escape(lay["date"])} · {escape(lay["item"])}</span></li>')
            else:
                lis.append(f'<li><a class="layer" href="{escape(viewer_link(p["collection"], lang))}">{escape(p["collection"])}</a>'
                           f' <span class="muted">({_t("layer_missing", lang)})</span></li>')
        return f'<ul class="layers">{"".join(lis)}</ul>'

    coop = ", ".join(_agency_name(a, lang) for a in task["cooperating_agencies"]) or "—"
    deadlines = "".join(
        f"<li>{escape(str(d.get('due_text') or ''))} — {escape(str(d.get('action') or ''))}</li>" for d in task.get("deadlines", [])
    )
    hist = "".join(
        f"<tr><td>{h['year']}</td><td>{_status_badge(h['status'], lang)}</td>"
        f"<td>{'' if h['progress'] is None else str(h['progress']) + '%'}</td><td>{escape(h['note'] or '')}</td></tr>"
        for h in task.get("history", [])
    )
    inferred = [a for a in task["leads"] if a.get("inferred")]
    inferred_html = "".join(
        f'<p class="note inferred-lead">{_t("inferred_long", lang).format(name=_agency_name(a, lang, badge=False), via=_t("via", lang).format(via=escape(a["via"])) if a.get("via") else "")}'
        + (f' <span class="muted">{escape(a["note"])}</span>' if a.get("note") else "") + "</p>"
        for a in inferred
    )
    lead_html = "; ".join(_agency_name(a, lang) for a in task["leads"]) or "—"
    lead_gap = [g for g in gaps if g.get("field") == "lead"]
    if lead_gap:
        lead_html += f' <a class="gap gap-{escape(lead_gap[0]["state"])}" href="#gaps" title="{escape(_t("gap-" + lead_gap[0]["state"], lang))}">[?]</a>'
    timeframe = task.get("timeframe")
    rows = [
        (_t("section", lang), f"{escape(task['section']['code'])} {escape(task['section']['title_vi'] or '')}"),
        (_t("kind", lang), escape(label(KINDS, task["kind"], lang))),
        (_t("type", lang), escape(", ".join(label(TYPES, x, lang) for x in task["types"]))),
        (_t("lead", lang), f'<span id="lead">{lead_html}</span>'),
        (_t("coop", lang), coop),
    ]
    if timeframe:
        rows.append((_t("timeframe", lang), text_with_gaps(timeframe, gaps, "timeframe", lang)))
    rows.append((f"{_t('status', lang)} {year}", _status_badge(task["status"], lang)))
    if task.get("notes"):
        rows.append((_t("note", lang), escape(task["notes"])))
    kv = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)

    map_html = ""
    scripts = ""
    head = ""
    if layers:
        sim = any(l.get("simulated") for l in layers)
        map_html = (('<p class="sim">MÔ PHỎNG / SIMULATED</p>' if sim else "")
                    + f'<div id="task-map" data-layers="{escape(json.dumps(list(layers), ensure_ascii=False))}"></div>')
        head = f'<link rel="stylesheet" href="{LEAFLET_STATIC}/leaflet.css">'
        scripts = f'<script src="{LEAFLET_STATIC}/leaflet.js"></script>'
    elif products:
        map_html = f'<p class="muted">{_t("layers_none", lang)}</p>'

    charts = []
    for ind in indicator_history:
        name = ind.get("name_vi") if lang == "vi" else ind.get("name_en")
        name = name or ind.get("name_en") or ind["id"]
        pts = [(int(y), float(v)) for y, v in ind.get("points", []) if v is not None]
        chart = svg_chart(pts, unit=ind.get("unit") or "", target=ind.get("target_min"), lang=lang, title=name) if pts else \
            f'<p class="muted">{_t("no_values", lang)}</p>'
        charts.append(f'<figure class="chart indicator" data-indicator="{escape(ind["id"])}"><figcaption>{escape(name)}'
                      f' ({escape(ind.get("unit") or "")}; {_t("target", lang)}: {escape(str(ind.get("target_text") or "—"))})</figcaption>{chart}</figure>')
    prog = [(h["year"], float(h["progress"])) for h in task.get("history", []) if h.get("progress") is not None]
    if prog:
        charts.append(f'<figure class="chart progress"><figcaption>{_t("progress_chart", lang)}</figcaption>'
                      f"{svg_chart(prog, unit='%', lang=lang, ymax=100, title=_t('progress_chart', lang))}</figure>")

    other = "en" if lang == "vi" else "vi"
    body = (
        f"<p><a href=\"/registry/page?lang={lang}&amp;year={year}\">← {_t('back', lang)}</a></p>"
        f"<h1>{escape(task['local_id'])} <span class=\"muted\">({escape(task['plan'])})</span></h1>"
        f'<p class="task-text">{text}</p>{inferred_html}'
        f'<table class="grid kv"><tbody>{kv}</tbody></table>'
        + (f"<h2>{_t('deadlines', lang)}</h2><ul>{deadlines}</ul>" if deadlines else "")
        + f"<h2>{_t('products', lang)}</h2>{map_html}{links(products)}<h2>{_t('data', lang)}</h2>{links(data)}"
        + (f"<h2>{_t('indicators', lang)}</h2>{''.join(charts)}" if charts else "")
        + (f"<h2>{_t('history', lang)}</h2><table class=\"grid\"><thead><tr><th>{_t('year', lang)}</th><th>{_t('status', lang)}</th>"
           f"<th>{_t('progress', lang)}</th><th>{_t('note', lang)}</th></tr></thead><tbody>{hist}</tbody></table>" if hist else "")
        + _gap_list(gaps, lang)
    )
    switch = f"/registry/page/{quote(task['id'], safe='')}?lang={other}&year={year}"
    return _page(f"{task['local_id']} · {_t('title', lang)}", body, lang, switch=switch, head=head, scripts=scripts)


def render_agency_page(agency: Mapping[str, Any], lead: Iterable[Mapping[str, Any]], cooperating: Iterable[Mapping[str, Any]],
                       reporting: Mapping[str, Any] | None, *, lang: str = "vi", year: int) -> str:
    """An agency: names, 2025 successor/predecessors, its duties (tasks it leads, tasks it cooperates on) with
    their status in ``year``, and its reporting state for ``year`` (``reporting``: state, label, due, submitted_on;
    None when it does not report that year)."""
    name = agency["name_vi"] if lang == "vi" else agency["name_en"]
    info = []
    if agency.get("successor"):
        info.append(f'{_t("successor", lang).format(date=escape(agency.get("successor_from") or "?"))} '
                    f'<a href="/registry/page/agency/{quote(agency["successor"], safe="")}?lang={lang}&amp;year={year}">{escape(agency["successor"])}</a>')
    if agency.get("predecessors"):
        info.append(f'{_t("predecessors", lang)}: ' + ", ".join(
            f'<a href="/registry/page/agency/{quote(p, safe="")}?lang={lang}&amp;year={year}">{escape(p)}</a>' for p in agency["predecessors"]))
    if reporting is not None:
        rep = (f'<p id="reporting" data-state="{escape(reporting["state"])}"><span class="badge rs-{escape(reporting["state"])}">'
               f'{escape(label(REPORT_STATES, reporting["state"], lang))}</span> · {_t("due", lang)}: {escape(reporting["due"])}'
               + (f' · {_t("submitted_on", lang)}: {escape(reporting["submitted_on"])}' if reporting.get("submitted_on") else "") + "</p>")
    else:
        rep = f'<p id="reporting" data-state="none" class="muted">{_t("not_reporting", lang).format(year=year)}</p>'

    def table(tasks: Iterable[Mapping[str, Any]], role: str) -> str:
        rows = []
        for t in tasks:
            href = f"/registry/page/{quote(t['id'], safe='')}?lang={lang}&amp;year={year}"
            text = text_with_gaps(t["text_vi"], t.get("gaps") or [], "text_vi", lang) if lang == "vi" else escape(t["summary_en"])
            inf = (f' <span class="badge inferred">{_t("inferred", lang)}</span>'
                   if role == "lead" and any(a.get("inferred") for a in t["leads"]) else "")
            rows.append(f'<tr data-task="{escape(t["id"])}"><td><a href="{href}">{escape(t["local_id"])}</a></td><td>{text}{inf}</td>'
                        f"<td>{_status_badge(t['status'], lang)}</td></tr>")
        if not rows:
            return f'<p class="muted">{_t("none", lang)}</p>'
        return (f'<table class="grid duties" data-role="{role}"><thead><tr><th>{_t("task", lang)}</th><th>{_t("content", lang)}</th>'
                f"<th>{_t('status', lang)} {year}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

    lead, cooperating = list(lead), list(cooperating)
    body = (
        f"<p><a href=\"/registry/page?lang={lang}&amp;year={year}\">← {_t('back', lang)}</a></p>"
        f"<h1>{escape(name)} <span class=\"muted\">({escape(agency['id'])})</span></h1>"
        + "".join(f"<p>{x}</p>" for x in info)
        + (f"<p>{_t('reports_annually', lang)}</p>" if agency.get("reports_annually") else "")
        + f"<h2>{_t('reporting', lang)} {year}</h2>{rep}"
        + f"<h2>{_t('duties', lang)}: {_t('as_lead', lang)} ({len(lead)})</h2>{table(lead, 'lead')}"
        + f"<h2>{_t('duties', lang)}: {_t('as_coop', lang)} ({len(cooperating)})</h2>{table(cooperating, 'cooperating')}"
    )
    other = "en" if lang == "vi" else "vi"
    switch = f"/registry/page/agency/{quote(agency['id'], safe='')}?lang={other}&year={year}"
    return _page(f"{name} · {_t('title', lang)}", body, lang, switch=switch)

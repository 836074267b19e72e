"""The registry page of the viewer: a task table filtered by agency, type and status, and a task
detail with links to its product layers in the map viewer. Vietnamese by default, English with
``lang=en``. Plain HTML (escaped), no JavaScript needed.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping
from urllib.parse import urlencode

from registry.vocab import KINDS, STATUSES, TYPES, UNREPORTED, label

__all__ = ["render_task_table", "render_task_detail", "viewer_link", "LANGS"]

LANGS = ("vi", "en")

T: dict[str, tuple[str, str]] = {
    "title": ("Sổ theo dõi nhiệm vụ", "Task registry"),
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
    "products": ("Lớp sản phẩm trên bản đồ", "Product layers in the viewer"),
    "data": ("Dữ liệu đầu vào", "Input data"),
    "none": ("Không có", "None"),
    "inferred": ("suy luận, kế hoạch không nêu", "inferred, not named by the plan"),
    "now": ("nay là", "now"),
    "history": ("Tình trạng theo năm", "Status by year"),
    "count": ("nhiệm vụ", "tasks"),
    "back": ("Quay lại danh sách", "Back to the list"),
    "section": ("Mục", "Section"),
    "kind": ("Loại mục", "Kind"),
    "deadlines": ("Thời hạn", "Deadlines"),
    "progress": ("Tiến độ", "Progress"),
    "note": ("Ghi chú", "Note"),
    "lang": ("English", "Tiếng Việt"),
    "map": ("Bản đồ giám sát", "Monitoring map"),
}


def _t(key: str, lang: str) -> str:
    pair = T[key]
    return pair[0] if lang == "vi" else pair[1]


def viewer_link(collection: str, lang: str) -> str:
    """Link to a product collection's layer in the map viewer."""
    return "/viewer?" + urlencode({"lang": lang, "collection": collection})


def _agency_name(a: Mapping[str, Any] | None, lang: str) -> str:
    if not a:
        return "—"
    name = a["name_vi"] if lang == "vi" else a["name_en"]
    cur = a.get("current")
    if cur:
        name += f" ({_t('now', lang)}: {cur['name_vi'] if lang == 'vi' else cur['name_en']})"
    if a.get("inferred"):
        name += f" [{_t('inferred', lang)}]"
    return name


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:80rem}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}"
        "th{background:#eef}form{margin:1rem 0}label{margin-right:1rem}.st-completed{color:#060}.st-delayed{color:#a00}"
        ".muted{color:#666}</style></head><body>" + body + "</body></html>"
    )


def _select(name: str, current: str | None, options: list[tuple[str, str]], lang: str) -> str:
    opts = [f'<option value=""{" selected" if not current else ""}>{_t("all", lang)}</option>']
    for value, text in options:
        sel = " selected" if value == current else ""
        opts.append(f'<option value="{escape(value)}"{sel}>{escape(text)}</option>')
    return f'<select name="{name}" id="f-{name}">{"".join(opts)}</select>'


def render_task_table(
    tasks: list[Mapping[str, Any]],
    agencies: list[Mapping[str, Any]],
    *,
    lang: str = "vi",
    year: int,
    agency: str | None = None,
    type: str | None = None,
    status: str | None = None,
) -> str:
    """The task table with its filter form."""
    agency_opts = [(a["id"], f"{a['name_vi'] if lang == 'vi' else a['name_en']} ({a['id']})") for a in agencies]
    type_opts = [(k, label(TYPES, k, lang)) for k in TYPES]
    status_opts = [(k, label(STATUSES, k, lang)) for k in [*STATUSES, UNREPORTED]]
    other = "en" if lang == "vi" else "vi"
    q_other = urlencode({k: v for k, v in {"lang": other, "agency": agency, "type": type, "status": status, "year": year}.items() if v})
    form = (
        f'<form method="get" action="/registry/page"><input type="hidden" name="lang" value="{lang}">'
        f'<label for="f-agency">{_t("agency", lang)} </label>{_select("agency", agency, agency_opts, lang)} '
        f'<label for="f-type">{_t("type", lang)} </label>{_select("type", type, type_opts, lang)} '
        f'<label for="f-status">{_t("status", lang)} </label>{_select("status", status, status_opts, lang)} '
        f'<label for="f-year">{_t("year", lang)} </label><input id="f-year" name="year" type="number" value="{year}" min="2013" max="2030"> '
        f'<button type="submit">{_t("filter", lang)}</button></form>'
    )
    rows = []
    for t in tasks:
        types = ", ".join(label(TYPES, x, lang) for x in t["types"])
        text = t["text_vi"] if lang == "vi" else t["summary_en"]
        href = f"/registry/page/{escape(t['id'])}?lang={lang}&amp;year={year}"
        rows.append(
            f'<tr data-task="{escape(t["id"])}"><td><a href="{href}">{escape(t["local_id"])}</a></td><td>{escape(text)}</td>'
            f"<td>{escape(_agency_name(t['lead_agency'], lang))}</td><td>{escape(types)}</td>"
            f'<td class="st-{escape(t["status"])}">{escape(label(STATUSES, t["status"], lang))}</td></tr>'
        )
    table = (
        f"<table><thead><tr><th>{_t('task', lang)}</th><th>{_t('content', lang)}</th><th>{_t('lead', lang)}</th>"
        f"<th>{_t('type', lang)}</th><th>{_t('status', lang)} {year}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    body = (
        f"<h1>{_t('title', lang)}</h1><p><a href=\"/viewer?lang={lang}\">{_t('map', lang)}</a> · "
        f"<a href=\"/registry/page?{escape(q_other)}\">{_t('lang', lang)}</a></p>"
        f"{form}<p class=\"muted\" id=\"count\">{len(tasks)} {_t('count', lang)}</p>{table}"
    )
    return _page(_t("title", lang), body, lang)


def render_task_detail(task: Mapping[str, Any], *, lang: str = "vi") -> str:
    """One task: text, agencies, deadlines, status by year, and its product layers in the viewer."""
    year = task["year"]
    text = task["text_vi"] if lang == "vi" else task["summary_en"]
    products = [p for p in task["products"] if p["relation"] == "product"]
    data = [p for p in task["products"] if p["relation"] != "product"]

    def links(items: list[Mapping[str, Any]]) -> str:
        if not items:
            return f"<p class=\"muted\">{_t('none', lang)}</p>"
        lis = "".join(f'<li><a class="layer" href="{escape(viewer_link(p["collection"], lang))}">{escape(p["collection"])}</a></li>' for p in items)
        return f"<ul>{lis}</ul>"

    coop = ", ".join(_agency_name(a, lang) for a in task["cooperating_agencies"]) or "—"
    deadlines = "".join(
        f"<li>{escape(str(d.get('due_text') or ''))} — {escape(str(d.get('action') or ''))}</li>" for d in task.get("deadlines", [])
    )
    hist = "".join(
        f"<tr><td>{h['year']}</td><td>{escape(label(STATUSES, h['status'], lang))}</td>"
        f"<td>{'' if h['progress'] is None else str(h['progress']) + '%'}</td><td>{escape(h['note'] or '')}</td></tr>"
        for h in task.get("history", [])
    )
    other = "en" if lang == "vi" else "vi"
    body = (
        f"<p><a href=\"/registry/page?lang={lang}&amp;year={year}\">{_t('back', lang)}</a> · "
        f"<a href=\"/registry/page/{escape(task['id'])}?lang={other}&amp;year={year}\">{_t('lang', lang)}</a></p>"
        f"<h1>{escape(task['local_id'])} <span class=\"muted\">({escape(task['plan'])})</span></h1>"
        f"<p>{escape(text)}</p>"
        f"<table><tbody>"
        f"<tr><th>{_t('section', lang)}</th><td>{escape(task['section']['code'])} {escape(task['section']['title_vi'] or '')}</td></tr>"
        f"<tr><th>{_t('kind', lang)}</th><td>{escape(label(KINDS, task['kind'], lang))}</td></tr>"
        f"<tr><th>{_t('type', lang)}</th><td>{escape(', '.join(label(TYPES, x, lang) for x in task['types']))}</td></tr>"
        f"<tr><th>{_t('lead', lang)}</th><td id=\"lead\">{escape('; '.join(_agency_name(a, lang) for a in task['leads']) or '—')}</td></tr>"
        f"<tr><th>{_t('coop', lang)}</th><td>{escape(coop)}</td></tr>"
        f"<tr><th>{_t('status', lang)} {year}</th><td>{escape(label(STATUSES, task['status'], lang))}</td></tr>"
        f"</tbody></table>"
        + (f"<h2>{_t('deadlines', lang)}</h2><ul>{deadlines}</ul>" if deadlines else "")
        + f"<h2>{_t('products', lang)}</h2>{links(products)}<h2>{_t('data', lang)}</h2>{links(data)}"
        + (f"<h2>{_t('history', lang)}</h2><table><thead><tr><th>{_t('year', lang)}</th><th>{_t('status', lang)}</th>"
           f"<th>{_t('progress', lang)}</th><th>{_t('note', lang)}</th></tr></thead><tbody>{hist}</tbody></table>" if hist else "")
    )
    return _page(f"{task['local_id']} · {_t('title', lang)}", body, lang)

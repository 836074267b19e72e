"""Build the registry's own seed file (``registry/data/registry.yaml``) from ``../shared/seeds``.

The seeds hold the restored text of the 2030 space-technology plan (``plan-004-restored.md``), a
structured extraction of its tasks (``plan-004-tasks.yaml``), the task tables of the 2013–2020 S&T
programmes (``other-programmes-tasks.yaml``) and the original OCR/typed texts (``000_…``–``004_…``).
This module does not copy them: it extracts what the registry needs, *checks* it, adds the
project's own editorial decisions (2025 successors, inferred leads where the extraction has none,
links from tasks to product collections, indicators) and writes one YAML file, whose header lists
every disagreement found between the extraction and the texts.

Checks made (a failure is recorded as a disagreement, never silently fixed):

1. every ``text_vi`` of the plan extraction is, whitespace-normalised, a substring of the restored
   plan text;
2. the number of records per subsection of sections III and V equals the number of bullets (or
   paragraphs) under that heading in the restored text;
3. every plan ``text_vi`` stripped of diacritics is found, token by token, in the OCR of seed 004
   (token recall ≥ 0.6; OCR noise keeps it below 1);
4. every programme task text is found in its source seed (substring for the typed seeds 001/003,
   token recall for the OCR seed 000).

Run: ``python -m registry.seedbuild [SEEDS_DIR] [OUT]``.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

import yaml

from registry.seeddecisions import (
    EXTRA_AGENCIES,
    SUCCESSORS,
    AGENCY_KINDS,
    LEAD_NAMES,
    EXTRA_INFERRED,
    PRODUCT_LINKS,
    PLAN_INDICATORS,
    REPORTING_AGENCIES,
    MANUAL_FINDINGS,
)
from registry.seedtext import count_restored_items, find_gaps, fold, normalise, restored_body, token_recall, tokens

__all__ = ["build_seed", "write_seed", "restored_body", "count_restored_items", "fold", "PLAN_ID"]

PLAN_ID = "VUTRU-2030"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS = (ROOT / ".." / "shared" / "seeds").resolve()
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "registry.yaml"


# -- build ----------------------------------------------------------------------------------------


def _section_code(rec_id: str) -> str:
    parts = rec_id.split(".")
    if parts[0] in ("III", "V") and len(parts) >= 2:
        return ".".join(parts[:2])
    if parts[0] == "II" and len(parts) >= 2:
        return ".".join(parts[:3]) if parts[1] == "2" and len(parts) >= 3 else ".".join(parts[:2])
    if parts[0] in ("I",) and len(parts) >= 2:
        return ".".join(parts[:2])
    return parts[0]


def _section_titles(records: list[dict[str, Any]]) -> "OrderedDict[str, dict[str, Any]]":
    secs: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for r in records:
        crumbs = [c.strip() for c in r["section"].split("›")]
        code = _section_code(r["id"])
        codes = code.split(".")
        # crumbs[0] = top level, crumbs[i] = level i
        for depth in range(len(codes)):
            c = ".".join(codes[: depth + 1])
            if c in secs:
                continue
            title = crumbs[depth] if depth < len(crumbs) else crumbs[-1]
            title = re.sub(r"^([IVX]+|\d+|[a-z])\.\s*", "", title).rstrip(":").strip()
            secs[c] = {"code": c, "title_vi": title, "parent": ".".join(codes[:depth]) or None}
    for i, s in enumerate(secs.values()):
        s["position"] = i
    return secs


def _agency_block(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code, a in plan["agencies"].items():
        succ = a.get("successor_2025") or {}
        row: dict[str, Any] = {
            "id": code,
            "name_vi": a["vi"],
            "name_en": a["en"],
            "kind": AGENCY_KINDS.get(code, "department"),
            "parent": None,
            "coordinator": code == "SKHCN",
            "reports_annually": code in REPORTING_AGENCIES,
            "successor": None,
            "successor_from": None,
            "after_2025": succ.get("after_2025"),
            "successor_basis": succ.get("basis"),
            "successor_verified": None if not succ else not ("UNVERIFIED" in (succ.get("after_2025") or "")),
            "note": None,
        }
        if code in SUCCESSORS:
            row["successor"], row["successor_from"] = SUCCESSORS[code]
        out.append(row)
    for code, a in EXTRA_AGENCIES.items():
        row = {
            "id": code, "name_vi": a["vi"], "name_en": a["en"], "kind": a["kind"], "parent": a.get("parent"),
            "coordinator": False, "reports_annually": False, "successor": None, "successor_from": None,
            "after_2025": None, "successor_basis": None, "successor_verified": None, "note": a.get("note"),
        }
        if code in SUCCESSORS:
            row["successor"], row["successor_from"] = SUCCESSORS[code]
            row["successor_basis"] = "Decree 45/2025/NĐ-CP uniform list (no Sở Nông nghiệp và Phát triển nông thôn)"
        out.append(row)
    return out


def _deadline(d: dict[str, Any]) -> dict[str, Any]:
    m = re.search(r"BYMONTH=(\d+);BYMONTHDAY=(\d+)", d.get("rrule") or "")
    return {
        "who": d.get("who"),
        "action": d.get("action"),
        "due_text": d.get("due"),
        "recurrence": d.get("recurrence"),
        "month": int(m.group(1)) if m else None,
        "last_day": int(m.group(2)) if m else None,
        "rrule": d.get("rrule"),
    }


def _plan_tasks(plan: dict[str, Any], findings: list[dict[str, str]]) -> list[dict[str, Any]]:
    tasks = []
    for pos, r in enumerate(plan["records"]):
        lead = r.get("lead_agency")
        inferred = r.get("lead_agency_inferred")
        leads: list[dict[str, Any]] = []
        if lead:
            leads.append({"agency": lead["code"], "inferred": False})
        elif inferred:
            leads.append({"agency": inferred["code"], "inferred": True, "via": inferred.get("via"), "note": inferred.get("note")})
        elif r["id"] in EXTRA_INFERRED:
            e = EXTRA_INFERRED[r["id"]]
            leads.append({"agency": e["code"], "inferred": True, "via": e["via"], "note": e["note"]})
        deadlines = [_deadline(d) for d in r.get("deadlines", [])]
        if r.get("deadline"):
            deadlines.append(_deadline({"who": (lead or {}).get("code"), **r["deadline"]}))
        t = {
            "local_id": r["id"],
            "id": f"{PLAN_ID}.{r['id']}",
            "section": _section_code(r["id"]),
            "parent": f"{PLAN_ID}.{r['parent']}" if r.get("parent") else None,
            "position": pos,
            "kind": r["kind"],
            "types": list(r.get("type") or []),
            "text_vi": r["text_vi"],
            "summary_en": r["summary_en"],
            "text_source": r.get("text_source", "body"),
            "leads": leads,
            "cooperating": [c["code"] for c in r.get("cooperating_agencies", [])],
            "targets": r.get("targets", []),
            "recurrence": r.get("recurrence"),
            "deadlines": deadlines,
            "timeframe": r.get("horizon"),
            "condition": r.get("condition"),
            "notes": r.get("notes"),
            "references": r.get("references", []),
            "related": [f"{PLAN_ID}.{x}" for x in r.get("related", [])],
            "tags": r.get("tags", []),
            "products": [{"collection": c, "relation": rel} for c, rel in PRODUCT_LINKS.get(r["id"], [])],
        }
        tasks.append(t)
    return tasks


def _parse_target(value: Any) -> tuple[float | None, float | None]:
    if isinstance(value, (int, float)):
        return float(value), float(value)
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", str(value))]
    if "2x" in str(value) or not nums:
        return None, None
    s = str(value)
    if len(nums) >= 2 and ("–" in s or "-" in s):
        return nums[0], nums[1]
    if ">" in s:
        return nums[0], None
    return nums[0], nums[0]


def _programmes(progs: dict[str, Any], seeds: Path, findings: list[dict[str, str]]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    plans = []
    recall: dict[str, float] = {}
    texts: dict[str, str] = {}
    for p in progs["programmes"]:
        seed_name = Path(p["source_seed"]).name
        if seed_name not in texts:
            texts[seed_name] = (seeds / seed_name).read_text(encoding="utf-8")
        src = texts[seed_name]
        ocr = seed_name.startswith("000_")
        src_norm, src_tokens = normalise(src), set(tokens(src))
        sections: OrderedDict[str, dict[str, Any]] = OrderedDict()
        tasks = []
        for pos, t in enumerate(p["tasks"]):
            grp = t.get("group")
            sec = grp["code"] if grp else (p.get("table", "").split(".")[0] or "—")
            if sec not in sections:
                title = grp["title_vi"] if grp else re.sub(r"^[IVX]+\.\s*", "", p.get("table") or "Nhiệm vụ")
                sections[sec] = {"code": sec, "title_vi": title, "parent": None, "position": len(sections)}
            lead_key = fold(t["lead"]["vi"]).strip()
            if lead_key not in LEAD_NAMES:
                raise ValueError(f"{t['id']}: unknown lead {t['lead']['vi']!r}; add it to LEAD_NAMES")
            uncertain = "[?]" in t["lead"]["vi"] or bool(t["lead"].get("ocr_uncertain"))
            leads = [{"agency": a, "inferred": False, **({"note": "lead read from a garbled OCR cell [?]"} if uncertain else {})}
                     for a in LEAD_NAMES[lead_key]]
            # check the text against its seed
            if ocr:
                rc = token_recall(t["text_vi"], src_tokens)
                recall[t["id"]] = rc
                if rc < 0.6:
                    findings.append({"record": t["id"], "issue": f"text found in OCR seed {seed_name} with token recall {rc:.2f} only"})
            else:
                needle = normalise(t["text_vi"])
                if needle not in src_norm and fold(needle) not in fold(src_norm):
                    rc = token_recall(t["text_vi"], src_tokens)
                    recall[t["id"]] = rc
                    if rc < 0.9:
                        findings.append({"record": t["id"], "issue": f"text not found verbatim in {seed_name} (token recall {rc:.2f})"})
            deadlines = []
            if t.get("recurrence") == "annual":
                deadlines.append({"who": leads[0]["agency"], "action": t["summary_en"], "due_text": t.get("timeframe"),
                                  "recurrence": "annual", "month": None, "last_day": None, "rrule": None})
            tasks.append({
                "local_id": t["id"].split(".", 1)[1],
                "id": t["id"],
                "section": sec,
                "parent": None,
                "position": pos,
                "kind": "task",
                "types": [t["type"]] if isinstance(t["type"], str) else list(t["type"]),
                "text_vi": t["text_vi"],
                "summary_en": t["summary_en"],
                "text_source": "table",
                "leads": leads,
                "cooperating": [],
                "targets": [],
                "recurrence": t.get("recurrence"),
                "deadlines": deadlines,
                "timeframe": t.get("timeframe"),
                "condition": t.get("deadline"),
                "notes": "; ".join(x for x in (t.get("note"), t.get("timeframe_note"),
                                               f"seed typos kept: {', '.join(t['seed_typos'])}" if t.get("seed_typos") else None,
                                               f"status per seed 001: {t['status_per_seed_001']}" if t.get("status_per_seed_001") else None) if x) or None,
                "references": [],
                "related": [],
                "tags": [],
                "products": [],
                "gaps": task_gaps({"text_vi": t["text_vi"], "summary_en": t["summary_en"], "timeframe": t.get("timeframe"),
                                   "lead": t["lead"]["vi"]}, None, seed_name),
            })
        dec = p.get("decision") or {}
        years = re.findall(r"(20\d\d)", p["programme_id"])
        indicators = []
        for i, o in enumerate(p.get("objectives_targets") or []):
            lo, hi = _parse_target(o["value"])
            indicators.append({
                "id": f"target-{i + 1}", "task": None, "name_vi": None, "name_en": o["metric"], "unit": o.get("unit"),
                "target_min": lo, "target_max": hi, "target_text": str(o["value"]),
                "by_year": o.get("by") if isinstance(o.get("by"), int) else None, "aggregate": "latest",
            })
        plans.append({
            "id": p["programme_id"],
            "kind": "draft-programme" if p["programme_id"].endswith("DRAFT") else "programme",
            "title_vi": p["programme_vi"],
            "title_en": p["programme_en"],
            "title_inferred": False,
            "start_year": int(years[0]) if len(years) == 2 else 2013,
            "end_year": int(years[-1]),
            "decision_number": dec.get("number"),
            "decision_date": dec.get("date"),
            "issuer": dec.get("issuer"),
            "source_seed": seed_name,
            "coordinator": "SKHCN",
            "notes": dec.get("note"),
            "reporting": None,
            "sections": list(sections.values()),
            "tasks": tasks,
            "indicators": indicators,
        })
    return plans, recall


def task_gaps(fields: dict[str, Any], restored: str | None, source: str) -> list[dict[str, Any]]:
    """The "[?]" gaps of a task's texts (``text_vi``, ``timeframe``, ``lead``), checked against the restored
    plan (None: no restored text, the source's own reading is all there is). A gap of ``summary_en`` (the
    project's English summary of ``text_vi``) has the state of the Vietnamese gap it translates."""
    out: list[dict[str, Any]] = []
    vi: list[dict[str, Any]] = []
    for field in ("text_vi", "summary_en", "timeframe", "lead"):
        value = fields.get(field)
        if field == "summary_en":
            found = find_gaps(value, None, source=source)
            for i, g in enumerate(found):
                if i < len(vi):
                    g.update({k: vi[i][k] for k in ("state", "note", "ocr", "source")}, translates=vi[i]["reading"])
        else:
            found = find_gaps(value, restored if field == "text_vi" else None, source=source, whole=field in ("timeframe", "lead"))
        if field == "text_vi":
            vi = found
        out += [{"field": field, **g} for g in found]
    return out


def build_seed(seeds: Path = DEFAULT_SEEDS) -> dict[str, Any]:
    """Read, check and combine the seeds; return the registry seed document (a plain dict)."""
    seeds = Path(seeds)
    plan = yaml.safe_load((seeds / "plan-004-tasks.yaml").read_text(encoding="utf-8"))
    restored = (seeds / "plan-004-restored.md").read_text(encoding="utf-8")
    ocr = next(seeds.glob("004_*.txt")).read_text(encoding="utf-8")
    progs = yaml.safe_load((seeds / "other-programmes-tasks.yaml").read_text(encoding="utf-8"))

    findings: list[dict[str, str]] = [{"record": r, "issue": i} for r, i in MANUAL_FINDINGS]
    body = normalise(restored_body(restored))
    # check 1: texts are in the restored plan
    for r in plan["records"]:
        if normalise(r["text_vi"]) not in body:
            findings.append({"record": r["id"], "issue": "text_vi is not in the restored plan text"})
    # check 2: counts per subsection
    doc_counts = count_restored_items(restored)
    ext_counts: Counter[str] = Counter()
    for r in plan["records"]:
        sec = _section_code(r["id"])
        if sec.split(".")[0] in ("III", "V") and r["kind"] != "oversight":
            ext_counts[sec] += 1
    for sec, n in doc_counts.items():
        if ext_counts[sec] != n:
            findings.append({"record": sec, "issue": f"{ext_counts[sec]} records in the extraction, {n} items in the restored text"})
    # check 3: OCR token recall
    ocr_tokens = set(tokens(ocr))
    recall = {r["id"]: round(token_recall(r["text_vi"], ocr_tokens), 3) for r in plan["records"]}
    for rid, rc in recall.items():
        if rc < 0.6:
            findings.append({"record": rid, "issue": f"text_vi matches the OCR of seed 004 with token recall {rc:.2f} only"})

    agencies = _agency_block(plan)
    known = {a["id"] for a in agencies}
    tasks = _plan_tasks(plan, findings)
    for t in tasks:
        t["gaps"] = task_gaps(t, restored, "plan-004-restored.md")
    for t in tasks:
        for a in [l["agency"] for l in t["leads"]] + t["cooperating"]:
            if a not in known:
                raise ValueError(f"{t['id']}: unknown agency {a}")
    src = plan["source"]
    reporting = {
        "agencies": REPORTING_AGENCIES,
        "reminder": {"who": "SKHCN", "month": 11, "last_day": 14, "text": "trước ngày 15 tháng 11 hàng năm", "task": f"{PLAN_ID}.VI.2.b"},
        "report": {"who": "ALL", "month": 12, "last_day": 17, "text": "trước ngày 18 tháng 12 hàng năm", "task": f"{PLAN_ID}.VI.2.a"},
        "consolidation": {"who": "SKHCN", "to": "UBND_TP", "task": f"{PLAN_ID}.VI.2.c"},
    }
    space = {
        "id": PLAN_ID,
        "kind": "plan",
        "title_vi": src["title_vi"],
        "title_en": src["title_en"],
        "title_inferred": True,
        "start_year": 2021,
        "end_year": 2030,
        "decision_number": src.get("document_number"),
        "decision_date": src.get("document_date"),
        "issuer": src.get("issuer"),
        "source_seed": Path(src["seed"]).name,
        "coordinator": "SKHCN",
        "notes": src.get("number_date_note"),
        "reporting": reporting,
        "sections": list(_section_titles(plan["records"]).values()),
        "tasks": tasks,
        "indicators": PLAN_INDICATORS,
    }
    others, prog_recall = _programmes(progs, seeds, findings)
    for p in others:
        for t in p["tasks"]:
            for l in t["leads"]:
                if l["agency"] not in known:
                    raise ValueError(f"{t['id']}: unknown agency {l['agency']}")
    return {
        "format": "hpgeo-registry-seed/1",
        "built": dt.date.today().isoformat(),
        "built_from": sorted(p.name for p in seeds.iterdir() if p.is_file()),
        "checks": {
            "plan_records": len(plan["records"]),
            "plan_texts_in_restored_text": sum(normalise(r["text_vi"]) in body for r in plan["records"]),
            "restored_item_counts": dict(doc_counts),
            "plan_ocr_token_recall_min": min(recall.values()),
            "plan_ocr_token_recall_min_record": min(recall, key=recall.get),
            "programme_tasks": sum(len(p["tasks"]) for p in others),
            "programme_texts_not_verbatim": sorted(prog_recall),
        },
        "disagreements": findings,
        "agencies": agencies,
        "plans": [space, *others],
    }


def write_seed(doc: dict[str, Any], out: Path = DEFAULT_OUT) -> Path:
    """Write the seed YAML (atomically), with the disagreements repeated as a header comment."""
    out = Path(out)
    header = [
        "# hpgeo task registry: seed data (the project's own file).",
        "# Built by `python -m registry.seedbuild` from ../shared/seeds (see registry/seedbuild.py for the checks);",
        "# edit the builder, not this file. Load into the database with `hpgeo registry load`.",
        "#",
        "# Disagreements between the seed extraction and the plan texts (also under `disagreements:`):",
    ]
    for f in doc["disagreements"]:
        header.append(f"#  - {f['record']}: {f['issue']}")
    text = "\n".join(header) + "\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    seeds = Path(args[0]) if args else DEFAULT_SEEDS
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUT
    doc = build_seed(seeds)
    write_seed(doc, out)
    print(f"wrote {out}: {sum(len(p['tasks']) for p in doc['plans'])} tasks, {len(doc['agencies'])} agencies, "
          f"{len(doc['disagreements'])} disagreements")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

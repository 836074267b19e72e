"""Text helpers of the seed build: Vietnamese folding, normalisation, token recall, the restored plan's body."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict
from typing import Any

__all__ = ["fold", "normalise", "tokens", "token_recall", "restored_body", "count_restored_items", "restorer_notes",
           "find_gaps", "strip_resolved", "GAP", "GAP_STATES"]



def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d), keep letters, digits and '&'."""
    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"\s+", " ", s.replace("[?]", "")).strip()


def normalise(text: str) -> str:
    """Without markdown emphasis, heading marks and bullets; whitespace collapsed."""
    s = text.replace("**", "")
    s = re.sub(r"^\s*(#+|-)\s*", "", s, flags=re.M)
    return re.sub(r"\s+", " ", s).strip()


def tokens(text: str) -> list[str]:
    """Folded words of three or more letters or digits."""
    return re.findall(r"[a-z0-9]{3,}", fold(text))


def token_recall(text: str, haystack_tokens: set[str]) -> float:
    """Share of the tokens of ``text`` found in ``haystack_tokens`` (1 for a text without tokens)."""
    toks = tokens(text)
    return 1.0 if not toks else sum(t in haystack_tokens for t in toks) / len(toks)


def restored_body(md: str) -> str:
    """The document body of the restored plan: without the leading comment and the restorer's notes."""
    body = re.sub(r"<!--.*?-->", "", md, count=1, flags=re.S)
    return body.split("\n---\n")[0]


def count_restored_items(md: str) -> "OrderedDict[str, int]":
    """Bullets (or, where there are none, paragraphs) under each ``###`` heading of sections III and V.

    Keys are ``III.1`` … ``III.7`` and ``V.1`` … ``V.12``. Independent of the extraction: it is how the
    registry's counts are checked against the document itself.
    """
    out: OrderedDict[str, int] = OrderedDict()
    top = None
    sub = None
    paragraphs: Counter[str] = Counter()
    for line in restored_body(md).splitlines():
        m2 = re.match(r"^## ([IVX]+)\.", line)
        m3 = re.match(r"^### (\d+)\.", line)
        if m2:
            top, sub = m2.group(1), None
            continue
        if m3 and top in ("III", "V"):
            sub = f"{top}.{m3.group(1)}"
            out[sub] = 0
            continue
        if sub is None or top not in ("III", "V"):
            continue
        if line.startswith("- "):
            out[sub] += 1
        elif line.strip():
            paragraphs[sub] += 1
    for key, n in out.items():
        if n == 0:
            out[key] = paragraphs[key]
    return out


# -- "[?]" gaps ------------------------------------------------------------------------------------
GAP = "[?]"
GAP_STATES = ("resolved", "conjectural", "illegible")
_READING = re.compile(r"(\S+(?:[ \t]+\S+)?)[ \t]*\[\?\]")


def restorer_notes(md: str) -> str:
    """The restorer's notes of the restored plan (the part after the body's closing ``---``)."""
    body = re.sub(r"<!--.*?-->", "", md, count=1, flags=re.S)
    parts = body.split("\n---\n", 1)
    return parts[1] if len(parts) > 1 else ""


def _note_item(notes: str, reading: str) -> str | None:
    """The bullet of the restorer's notes that discusses ``reading [?]`` (markdown emphasis removed)."""
    plain = notes.replace("**", "")
    pos = plain.find(f"{reading} {GAP}")
    if pos < 0:
        return None
    start = plain.rfind("\n", 0, pos) + 1
    while start > 0 and not re.match(r"\s*(-|\d+\.)\s", plain[start:]):
        start = plain.rfind("\n", 0, start - 1) + 1
    end = pos
    for m in re.finditer(r"\n(\s*(-|\d+\.)\s|\s*\n)", plain[pos:]):
        end = pos + m.start()
        break
    else:
        end = len(plain)
    return re.sub(r"\s+", " ", re.sub(r"^\s*(-|\d+\.)\s*", "", plain[start:end])).strip()


def find_gaps(text: str | None, restored_md: str | None, *, source: str, whole: bool = False) -> list[dict[str, Any]]:
    """The ``[?]`` gaps of ``text``, each checked against the plan's restored text.

    A gap is the word or two before a ``[?]`` (``whole``: the whole value, e.g. an agency name read from
    one garbled table cell). ``restored_md`` is the restored plan (None when the text
    has no restored rendering, e.g. the programme tables read from an OCR seed). Each gap is:

    - ``resolved``: the restored text has the passage with that reading and without ``[?]``: the
      reading is certain and the mark can go;
    - ``conjectural``: the restored text keeps the ``[?]`` too: the reading is the restorer's conjecture
      (``note`` and ``ocr`` give the restorer's explanation and the OCR's letters when the notes have them);
    - ``illegible``: no restored text holds the passage: the source is not legible there.
    """
    if not text or GAP not in text:
        return []
    body = normalise(restored_body(restored_md)) if restored_md else None
    notes = restorer_notes(restored_md) if restored_md else ""
    out: list[dict[str, Any]] = []
    for m in _READING.finditer(text):
        reading = (normalise(text.replace(GAP, "")) if whole else m.group(1)).strip(" ,;:.")
        before = normalise(text[max(0, m.start() - 60):m.start()].replace(GAP, ""))
        passage = normalise(f"{before} {m.group(1)}").split(" ", 1)[-1] if before else normalise(m.group(1))
        gap: dict[str, Any] = {"reading": reading, "state": "illegible", "source": source, "note": None, "ocr": None}
        if body is not None and passage in body:
            at = body.find(passage) + len(passage)
            if body[at:at + 4].strip().startswith(GAP):
                item = _note_item(notes, reading)
                ocr = re.search(r"`([^`]+)`", item) if item else None
                gap.update(state="conjectural", note=item, ocr=ocr.group(1) if ocr else None)
            else:
                gap.update(state="resolved")
        out.append(gap)
    return out


def strip_resolved(text: str, gaps: list[dict[str, Any]]) -> str:
    """``text`` without the ``[?]`` of the gaps the restored text resolved (in order of appearance)."""
    parts = text.split(GAP)
    out = parts[0]
    for i, rest in enumerate(parts[1:]):
        state = gaps[i]["state"] if i < len(gaps) else "illegible"
        out = (out.rstrip() if state == "resolved" else out + GAP) + (rest if state != "resolved" or rest[:1] in ",.;: " else " " + rest)
    return out

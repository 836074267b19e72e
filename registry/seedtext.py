"""Text helpers of the seed build: Vietnamese folding, normalisation, token recall, the restored plan's body."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict

__all__ = ["fold", "normalise", "tokens", "token_recall", "restored_body", "count_restored_items"]



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

"""Text that may be stored and exported: no lone surrogates, no control characters but ``\\n`` and ``\\t``.

Lone surrogates cannot be encoded as UTF-8 (responses, SQLite, files fail on them); control characters
and the non-characters U+FFFE/U+FFFF are not allowed in XML (DOCX and XLSX exports fail on them).
:func:`text_problem` says what is wrong with a string; :func:`printable` cleans a string that is
already stored, for output.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["text_problem", "printable", "ALLOWED_CONTROLS"]

ALLOWED_CONTROLS = frozenset("\n\t")
_NONCHARACTERS = frozenset("\ufffe\uffff")
_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def text_problem(value: str) -> str | None:
    """None when ``value`` may be stored, else the reason (first offending character and its position)."""
    for i, ch in enumerate(value):
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return f"contains a lone surrogate U+{ord(ch):04X} at position {i} (not valid UTF-8)"
        if (cat == "Cc" and ch not in ALLOWED_CONTROLS) or ch in _NONCHARACTERS:
            return f"contains the control character U+{ord(ch):04X} at position {i} (only line feed and tab are allowed)"
    return None


def printable(value: str) -> str:
    """``value`` with every character :func:`text_problem` refuses replaced by U+FFFD (for output of stored text)."""
    return _BAD.sub("\ufffd", value)

"""Checks of the values the registry stores: texts (no lone surrogates, no control characters but
line feed and tab, bounded length) and indicator values (finite numbers ≥ 0).

Every write checks all its values before it touches the database, so a refused write changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

from base.text import text_problem
from registry.errors import InvalidRegistryInput

__all__ = ["check_text", "check_value", "MAX_TEXT", "MAX_SHORT"]

MAX_TEXT = 100_000
MAX_SHORT = 2048


def check_text(value: Any, field: str, *, max_len: int = MAX_TEXT, required: bool = False) -> str:
    """``value`` if it is a string the registry may store and export, else :class:`InvalidRegistryInput`."""
    if not isinstance(value, str):
        raise InvalidRegistryInput(f"{field} must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidRegistryInput(f"{field} is empty")
    if len(value) > max_len:
        raise InvalidRegistryInput(f"{field} is longer than {max_len} characters ({len(value)})")
    problem = text_problem(value)
    if problem:
        raise InvalidRegistryInput(f"{field} {problem}")
    return value


def check_value(value: Any, field: str) -> float:
    """An indicator value: a finite number ≥ 0 (not a boolean, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRegistryInput(f"{field} needs a number ≥ 0 (got {value!r})")
    try:
        v = float(value)
    except OverflowError as exc:
        raise InvalidRegistryInput(f"{field} needs a finite number (got an integer of {len(str(value))} digits)") from exc
    if not math.isfinite(v):
        raise InvalidRegistryInput(f"{field} needs a finite number ≥ 0 (got {v!r})")
    if v < 0:
        raise InvalidRegistryInput(f"{field} needs a number ≥ 0 (got {v!r})")
    return v

"""Namespace-agnostic helpers over :mod:`xml.etree.ElementTree` for product metadata files.

SAFE and MTL XML files use several namespaces that change between processing baselines; the
helpers match elements by *local* name so one reader covers all versions.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import numpy as np

from ingest.readers.errors import MalformedMetadata, MissingProductFile, TrailingJunk

__all__ = ["parse", "local", "iter_local", "find", "text", "opt_text", "floats", "parse_time"]


def parse(path: str | os.PathLike) -> ET.Element:
    """Parse an XML file and return its root, with reader errors instead of ET's."""
    p = Path(path)
    if not p.is_file():
        raise MissingProductFile(f"metadata file not found: {p}")
    data = p.read_bytes()
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        # Some archived manifests carry junk after the root element (truncated re-writes):
        # keep everything up to the root's closing tag, and say so.
        m = re.search(rb"<([A-Za-z_][\w.:-]*)[\s>]", data.split(b"?>", 1)[-1])
        end = data.rfind(b"</" + m.group(1) + b">") if m else -1
        if "junk after document element" in str(exc) and end > 0:
            warnings.warn(f"{p.name}: ignored {len(data) - end - len(m.group(1)) - 3} bytes after the root element",
                          TrailingJunk, stacklevel=2)
            return ET.fromstring(data[: end + len(m.group(1)) + 3])
        raise MalformedMetadata(f"{p.name} is not well-formed XML: {exc}") from exc


def local(el: ET.Element) -> str:
    """The tag without its ``{namespace}`` prefix."""
    return el.tag.rsplit("}", 1)[-1]


def iter_local(el: ET.Element, name: str) -> Iterator[ET.Element]:
    """All descendants (depth first) whose local tag is ``name``."""
    for e in el.iter():
        if local(e) == name:
            yield e


def find(el: ET.Element, name: str) -> ET.Element | None:
    return next(iter_local(el, name), None)


def opt_text(el: ET.Element, name: str) -> str | None:
    e = find(el, name)
    return e.text.strip() if e is not None and e.text is not None else None


def text(el: ET.Element, name: str, where: str = "") -> str:
    """Text of the first ``name`` element; :class:`MalformedMetadata` if absent."""
    t = opt_text(el, name)
    if t is None:
        raise MalformedMetadata(f"<{name}> missing{' in ' + where if where else ''}")
    return t


def floats(el: ET.Element, name: str, where: str = "") -> np.ndarray:
    """Whitespace-separated numbers of the first ``name`` child as float64."""
    t = text(el, name, where)
    try:
        return np.array(t.split(), dtype=np.float64)
    except ValueError as exc:
        raise MalformedMetadata(f"<{name}> in {where or 'metadata'} is not a list of numbers") from exc


def parse_time(value: str) -> dt.datetime:
    """ISO 8601 time (with or without 'Z', any fraction digits) → timezone-aware UTC datetime."""
    v = value.strip().rstrip("Z")
    if "." in v:
        head, frac = v.split(".", 1)
        v = f"{head}.{frac[:6]:0<6}"
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError as exc:
        raise MalformedMetadata(f"not an ISO time: {value!r}") from exc
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)

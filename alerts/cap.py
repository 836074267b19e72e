"""CAP 1.2 (OASIS Common Alerting Protocol) messages with lxml: one ``<alert>``, an ``<info>`` in vi-VN
and one in en-US, an ``<area>`` with the affected polygons and the unit's official code.

Simulated input makes ``status=Exercise`` and says so in every headline; real input ``Actual``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Sequence

from lxml import etree

__all__ = ["CAP_NS", "CapInfo", "CapMessage", "cap_time", "cap_xml", "reference", "MIME_CAP", "EXERCISE_VI", "EXERCISE_EN"]

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
MIME_CAP = "application/cap+xml"
EXERCISE_VI = "[DIỄN TẬP – DỮ LIỆU MÔ PHỎNG] "
EXERCISE_EN = "[EXERCISE – SIMULATED DATA] "


def cap_time(t: dt.datetime) -> str:
    """CAP dateTime: seconds, explicit offset, never ``Z`` (``2025-09-15T11:02:31+00:00``)."""
    t = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def reference(sender: str, identifier: str, sent: dt.datetime) -> str:
    return f"{sender},{identifier},{cap_time(sent)}"


@dataclass
class CapInfo:
    language: str
    event: str
    headline: str
    description: str
    instruction: str | None = None


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str  # Actual | Exercise
    msg_type: str  # Alert | Update | Cancel
    category: str
    urgency: str
    severity: str
    certainty: str
    event_code: str
    sender_name: str
    web: str
    area_desc: str
    geocode: tuple[str, str]  # (valueName, value)
    infos: Sequence[CapInfo]
    polygons: Sequence[Sequence[tuple[float, float]]] = ()  # rings of (lat, lon), closed
    resources: Sequence[tuple[str, str, str]] = ()  # (description, mime type, uri)
    parameters: Sequence[tuple[str, str]] = ()
    references: Sequence[str] = ()
    note: str | None = None
    expires: dt.datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _ring(ring: Sequence[tuple[float, float]]) -> str:
    pts = list(ring)
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    return " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in pts)


def cap_xml(m: CapMessage) -> bytes:
    """The message as CAP 1.2 XML (UTF-8, with declaration), elements in the schema's order."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", m.identifier)
    _sub(root, "sender", m.sender)
    _sub(root, "sent", cap_time(m.sent))
    _sub(root, "status", m.status)
    _sub(root, "msgType", m.msg_type)
    _sub(root, "scope", "Public")
    if m.note:
        _sub(root, "note", m.note)
    if m.references:
        _sub(root, "references", " ".join(m.references))
    for info in m.infos:
        el = _sub(root, "info")
        _sub(el, "language", info.language)
        _sub(el, "category", m.category)
        _sub(el, "event", info.event)
        _sub(el, "responseType", "AllClear" if m.msg_type == "Cancel" else "Monitor")
        _sub(el, "urgency", "Past" if m.msg_type == "Cancel" else m.urgency)
        _sub(el, "severity", m.severity)
        _sub(el, "certainty", m.certainty)
        code = _sub(el, "eventCode")
        _sub(code, "valueName", "HPGEO-EVENT")
        _sub(code, "value", m.event_code)
        if m.expires:
            _sub(el, "expires", cap_time(m.expires))
        _sub(el, "senderName", m.sender_name)
        _sub(el, "headline", info.headline)
        _sub(el, "description", info.description)
        if info.instruction:
            _sub(el, "instruction", info.instruction)
        _sub(el, "web", m.web)
        for name, value in m.parameters:
            p = _sub(el, "parameter")
            _sub(p, "valueName", name)
            _sub(p, "value", value)
        for desc, mime, uri in m.resources:
            r = _sub(el, "resource")
            _sub(r, "resourceDesc", desc)
            _sub(r, "mimeType", mime)
            _sub(r, "uri", uri)
        area = _sub(el, "area")
        _sub(area, "areaDesc", m.area_desc)
        for ring in m.polygons:
            _sub(area, "polygon", _ring(ring))
        g = _sub(area, "geocode")
        _sub(g, "valueName", m.geocode[0])
        _sub(g, "value", m.geocode[1])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

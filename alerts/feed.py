"""Atom 1.0 feed of the active alerts: one entry per open event (its newest message), linking the CAP XML."""

from __future__ import annotations

from typing import Any, Iterable
from xml.sax.saxutils import escape

__all__ = ["atom_feed", "MIME_ATOM"]

MIME_ATOM = "application/atom+xml"


def atom_feed(messages: Iterable[dict[str, Any]], *, base_url: str, sender: str, updated: str) -> bytes:
    base = base_url.rstrip("/")
    a = lambda s: escape(str(s), {'"': "&quot;"})  # noqa: E731
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">',
           "<title>Cảnh báo hpgeo Hải Phòng / hpgeo Hai Phong alerts</title>", f"<id>{a(base)}/alerts/feed.atom</id>",
           f'<link rel="self" type="{MIME_ATOM}" href="{a(base)}/alerts/feed.atom"/>', f"<updated>{a(updated)}</updated>",
           f"<author><name>{a(sender)}</name></author>"]
    for m in messages:
        cap = f"{base}/alerts/{m['identifier']}.cap"
        out += ["<entry>", f"<id>urn:hpgeo:alert:{a(m['identifier'])}</id>", f"<title>{a(m['headline_vi'])}</title>",
                f"<updated>{a(m['sent'])}</updated>", f'<link rel="alternate" type="application/cap+xml" href="{a(cap)}"/>',
                f"<summary>{a(m['headline_en'])} ({a(m['msgType'])}, {a(m['severity'])}, {a(m['status'])})</summary>",
                f'<category term="{a(m["rule"])}"/>', "</entry>"]
    out.append("</feed>")
    return "\n".join(out).encode("utf-8")

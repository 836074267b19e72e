"""Search parameters normalised once at the boundary: one bbox type, one datetime-interval type.

Accepts what STAC API clients send (``"w,s,e,n"`` strings or lists; RFC 3339 instants or
``start/end`` intervals with ``..`` for open ends; ``YYYY``, ``YYYY-MM`` and ``YYYY-MM-DD`` shorthands for
a whole year, month or day) and raises :class:`InvalidQuery` with a
message a user can act on.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from base.text import text_problem
from ingest.catalog.errors import InvalidQuery

__all__ = [
    "BBox", "Interval", "SearchQuery", "parse_bbox", "parse_datetime", "parse_rfc3339", "parse_interval", "parse_geometry",
    "encode_token", "decode_token", "encode_offset", "GEOMETRY_TYPES", "MAX_VERTICES",
]

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection")
MAX_VERTICES = 10_000
MAX_ID_LENGTH = 256

BBox = tuple[float, float, float, float]
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Interval:
    start: dt.datetime | None
    end: dt.datetime | None

    def to_str(self) -> str:
        s = self.start.isoformat().replace("+00:00", "Z") if self.start else ".."
        e = self.end.isoformat().replace("+00:00", "Z") if self.end else ".."
        return f"{s}/{e}"


def parse_bbox(value: Any) -> BBox | None:
    """``"w,s,e,n"``, a 4- or 6-number list (the z values are dropped) → (w, s, e, n) in degrees."""
    if value is None or value == "" or value == []:
        return None
    try:
        if isinstance(value, str):
            parts = [float(p) for p in value.split(",")]
        else:
            parts = [float(p) for p in value]
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidQuery(f"bbox must be 4 (or 6) comma-separated numbers, got {value!r}") from exc
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise InvalidQuery(f"bbox must have 4 (or 6) numbers, got {len(parts)}: {value!r}")
    w, s, e, n = parts
    if not all(math.isfinite(v) for v in parts):
        raise InvalidQuery(f"bbox numbers must be finite, got {parts}")
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise InvalidQuery(f"bbox {parts} is outside longitude -180..180 / latitude -90..90 (WGS 84 degrees expected)")
    if s > n:
        raise InvalidQuery(f"bbox south {s} is greater than north {n}")
    if w > e:
        raise InvalidQuery(f"bbox west {w} is greater than east {e} (antimeridian-crossing boxes are not supported)")
    return (w, s, e, n)


def parse_datetime(value: str) -> dt.datetime:
    """One RFC 3339 instant (a bare date means its midnight UTC); naive times are UTC."""
    v = value.strip()
    if text_problem(v):
        raise InvalidQuery(f"not an RFC 3339 date-time: {ascii(value)}")
    try:
        if len(v) == 10:
            d = dt.datetime.fromisoformat(v)
        else:
            d = dt.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidQuery(f"not an RFC 3339 date-time: {value!r}") from exc
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_rfc3339(value: str) -> dt.datetime:
    """One RFC 3339 date-time, strictly: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`` (``t``/``z`` in either case);
    fractions beyond microseconds are truncated, a leap second ``:60`` is read as ``:59.999999``."""
    m = _RFC3339.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise InvalidQuery(f"not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fff]Z or ±HH:MM offset): {ascii(value)[:80]}")
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    micro = int((frac + "000000")[:6]) if frac else 0
    if sec == 60:
        sec, micro = 59, 999_999
    try:
        if m.group(8):
            tz = UTC
        else:
            oh, om = int(m.group(10)), int(m.group(11))
            if oh > 23 or om > 59:
                raise ValueError("offset out of range")
            sign = 1 if m.group(9) == "+" else -1
            tz = dt.timezone(sign * dt.timedelta(hours=oh, minutes=om))
        return dt.datetime(y, mo, d, h, mi, sec, micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidQuery(f"not a valid RFC 3339 date-time ({exc}): {ascii(value)[:80]}") from exc


def _period(text: str, strict: bool = False) -> tuple[dt.datetime, dt.datetime]:
    """First and last instant of what ``text`` names: a year ``YYYY``, a month ``YYYY-MM``, a day
    ``YYYY-MM-DD`` (each its whole span, UTC), or one RFC 3339 date-time (start = end)."""
    v = text.strip()
    if len(v) in (4, 7) and v[:4].isdigit() and (len(v) == 4 or (v[4] == "-" and v[5:].isdigit())):
        year, month = int(v[:4]), int(v[5:]) if len(v) == 7 else None
        if month is not None and not 1 <= month <= 12:
            raise InvalidQuery(f"not a month (YYYY-MM, month 01-12): {text!r}")
        if year < 1:
            raise InvalidQuery(f"not a year: {text!r}")
        start = dt.datetime(year, month or 1, 1, tzinfo=UTC)
        if month is None or month == 12:
            nxt = dt.datetime(year + 1, 1, 1, tzinfo=UTC) if year < dt.MAXYEAR else None
        else:
            nxt = dt.datetime(year, month + 1, 1, tzinfo=UTC)
        end = nxt - dt.timedelta(microseconds=1) if nxt else dt.datetime.max.replace(tzinfo=UTC)
        return start, end
    if strict:
        d = parse_rfc3339(v)
        return d, d
    d = parse_datetime(v)
    if len(v) == 10:  # a day
        return d, d + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return d, d


def parse_interval(value: Any, strict: bool = False) -> Interval | None:
    """``instant``, ``start/end``, ``../end``, ``start/..`` → Interval (inclusive); an empty end is open too.

    A bare year (``2025``), month (``2025-09``) or date (``2025-09-03``) covers its whole span, alone
    or as either end: ``2025-09`` is 1–30 September 2025, ``2025-01/2025-03`` the first quarter.
    ``strict`` (the STAC API): instants must be RFC 3339 date-times with a time zone; of the shorthands
    only the year and the month remain (an hpgeo convenience), a bare date is refused as RFC 3339 asks.
    """
    if value in (None, ""):
        return None
    if isinstance(value, Interval):
        return value
    text = str(value).strip()
    if "/" not in text:
        return Interval(*_period(text, strict))
    a, _, b = text.partition("/")
    start = None if a.strip() in ("..", "") else _period(a, strict)[0]
    end = None if b.strip() in ("..", "") else _period(b, strict)[1]
    if start is None and end is None:
        raise InvalidQuery("datetime interval '../..' is open at both ends")
    if start and end and start > end:
        raise InvalidQuery(f"datetime interval starts after it ends: {value!r}")
    return Interval(start, end)


def encode_token(sort_datetime: dt.datetime, collection_id: str, item_id: str) -> str:
    raw = json.dumps([sort_datetime.astimezone(UTC).isoformat(), collection_id, item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_offset(offset: int) -> str:
    """The cursor of a sorted search (``sortby``): the position of the next row in its total order."""
    return base64.urlsafe_b64encode(json.dumps({"offset": int(offset)}).encode()).decode().rstrip("=")


def _cursor_json(token: str) -> Any:
    try:
        pad = "=" * (-len(token) % 4)
        return json.loads(base64.urlsafe_b64decode(token + pad))
    except Exception as exc:
        raise InvalidQuery("invalid paging token") from exc


def decode_offset(token: str) -> int:
    v = _cursor_json(token)
    if not isinstance(v, dict) or not isinstance(v.get("offset"), int) or isinstance(v["offset"], bool) or v["offset"] < 0:
        raise InvalidQuery("invalid paging token (this search is sorted: its tokens come from its own next links)")
    return v["offset"]


def decode_token(token: str) -> tuple[dt.datetime, str, str]:
    try:
        d, c, i = _cursor_json(token)
        return dt.datetime.fromisoformat(d), str(c), str(i)
    except InvalidQuery:
        raise
    except Exception as exc:
        raise InvalidQuery("invalid paging token") from exc


def parse_geometry(value: Any, max_vertices: int = MAX_VERTICES) -> BaseGeometry:
    """A GeoJSON geometry (dict) → shapely geometry, refused unless it is a valid, non-empty geometry of
    finite WGS 84 coordinates (longitude -180..180, latitude -90..90) with at most ``max_vertices`` vertices."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        got = value.get("type") if isinstance(value, dict) else type(value).__name__
        raise InvalidQuery(f"intersects must be a GeoJSON geometry ({', '.join(GEOMETRY_TYPES)}), got {ascii(got)[:80]}")
    try:
        geom = shape(value)
        coords = shapely.get_coordinates(geom)
    except Exception as exc:
        raise InvalidQuery(f"intersects is not a GeoJSON geometry: {str(exc)[:200]}") from exc
    if geom.is_empty:
        raise InvalidQuery("intersects geometry is empty")
    if len(coords) > max_vertices:
        raise InvalidQuery(f"intersects has {len(coords)} vertices; at most {max_vertices} are accepted (simplify it, or use bbox)")
    if not np.isfinite(coords).all():
        raise InvalidQuery("intersects coordinates must be finite numbers (no NaN or infinity)")
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise InvalidQuery("intersects is outside longitude -180..180 / latitude -90..90 (WGS 84 degrees expected)")
    if not geom.is_valid:
        raise InvalidQuery(f"intersects is not a valid geometry: {explain_validity(geom)}")
    return geom


@dataclass(frozen=True)
class SearchQuery:
    """A normalised item search. ``filter`` is checked cql2-json (the CQL2 ``filter`` and the ``query``
    extension, AND-ed); ``sortby`` is ((queryable, descending), …), empty for the default order (newest first)."""

    collections: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    bbox: BBox | None = None
    intersects: BaseGeometry | None = field(default=None, compare=False)
    interval: Interval | None = None
    limit: int = 10
    token: str | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    filter: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def build(
        cls,
        *,
        collections: Sequence[str] | str | None = None,
        ids: Sequence[str] | str | None = None,
        bbox: Any = None,
        intersects: dict[str, Any] | None = None,
        datetime: Any = None,
        limit: int | None = 10,
        token: str | None = None,
        max_limit: int = 1000,
        max_vertices: int = MAX_VERTICES,
        sortby: Any = None,
        filter: Any = None,
        filter_lang: str | None = None,
        query: Any = None,
        strict: bool = False,
    ) -> "SearchQuery":
        """``token`` may carry the fingerprint :meth:`page_token` adds: then it must belong to this query.
        ``strict`` (the STAC API): RFC 3339 datetimes (plus the year/month shorthands), and a ``limit`` above
        ``max_limit`` is capped to it, as STAC API asks (elsewhere it is refused)."""
        from ingest.catalog import filters as f

        if bbox not in (None, "", []) and intersects:
            raise InvalidQuery("use either bbox or intersects, not both")
        lim = 10 if limit is None else int(limit)
        if lim < 1:
            raise InvalidQuery(f"limit must be at least 1, got {lim}")
        if lim > max_limit:
            if not strict:
                raise InvalidQuery(f"limit must be between 1 and {max_limit}, got {lim}")
            lim = max_limit
        geom = parse_geometry(intersects, max_vertices) if intersects is not None and intersects != {} else None
        parts = [e for e in (f.parse_filter(filter, filter_lang), f.query_to_cql2(query)) if e is not None]
        expr = parts[0] if len(parts) == 1 else ({"op": "and", "args": parts} if parts else None)
        q = cls(
            collections=_strs(collections, "collections"),
            ids=_strs(ids, "ids"),
            bbox=parse_bbox(bbox),
            intersects=geom,
            interval=parse_interval(datetime, strict=strict),
            limit=lim,
            sortby=f.parse_sortby(sortby),
            filter=expr,
        )
        if not token:
            return q
        cursor, _, fp = token.partition(".")
        if q.sortby:
            decode_offset(cursor)
        else:
            decode_token(cursor)
        if fp and fp != q.fingerprint():
            raise InvalidQuery("this paging token belongs to another search (collections, ids, bbox, intersects, datetime, "
                               "filter, query or sortby differ)")
        return cls(q.collections, q.ids, q.bbox, q.intersects, q.interval, q.limit, cursor, q.sortby, q.filter)

    def fingerprint(self) -> str:
        """A short hash of what the query selects and its order (not the page size), tying a paging token to its search."""
        key: list[Any] = [self.collections, self.ids, self.bbox, self.interval.to_str() if self.interval else None]
        if self.sortby or self.filter is not None:
            key += [self.sortby, self.filter]
        h = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode())
        if self.intersects is not None:
            h.update(shapely.to_wkb(self.intersects, output_dimension=2))
        return h.hexdigest()[:16]

    def page_token(self, cursor: str) -> str:
        """The token of a ``next`` link: the store's cursor and this query's fingerprint, so a client that
        sends only the token (POST with ``merge``) cannot page through another search by mistake."""
        return f"{cursor}.{self.fingerprint()}"

    def spatial_filter(self) -> BaseGeometry | None:
        if self.intersects is not None:
            return self.intersects
        if self.bbox is not None:
            return box(*self.bbox)
        return None


def _strs(value: Sequence[str] | str | None, name: str = "ids") -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        out = tuple(v.strip() for v in value.split(",") if v.strip())
    else:
        out = tuple(str(v) for v in value)
    for v in out:
        problem = text_problem(v)
        if problem:
            raise InvalidQuery(f"{name}: {ascii(v)[:80]} {problem}")
        if len(v) > MAX_ID_LENGTH:
            raise InvalidQuery(f"{name}: an id is {len(v)} characters long; at most {MAX_ID_LENGTH}")
    return out

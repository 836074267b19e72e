"""Search parameters normalised once at the boundary: one bbox type, one datetime-interval type.

Accepts what STAC API clients send (``"w,s,e,n"`` strings or lists; RFC 3339 instants or
``start/end`` intervals with ``..`` for open ends; ``YYYY``, ``YYYY-MM`` and ``YYYY-MM-DD`` shorthands for
a whole year, month or day) and raises :class:`InvalidQuery` with a
message a user can act on.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from ingest.catalog.errors import InvalidQuery

__all__ = ["BBox", "Interval", "SearchQuery", "parse_bbox", "parse_datetime", "parse_interval", "encode_token", "decode_token"]

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
    except (TypeError, ValueError) as exc:
        raise InvalidQuery(f"bbox must be 4 (or 6) comma-separated numbers, got {value!r}") from exc
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise InvalidQuery(f"bbox must have 4 (or 6) numbers, got {len(parts)}: {value!r}")
    w, s, e, n = parts
    if any(v != v for v in parts):
        raise InvalidQuery("bbox contains NaN")
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
    try:
        if len(v) == 10:
            d = dt.datetime.fromisoformat(v)
        else:
            d = dt.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidQuery(f"not an RFC 3339 date-time: {value!r}") from exc
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _period(text: str) -> tuple[dt.datetime, dt.datetime]:
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
    d = parse_datetime(v)
    if len(v) == 10:  # a day
        return d, d + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return d, d


def parse_interval(value: Any) -> Interval | None:
    """``instant``, ``start/end``, ``../end``, ``start/..`` → Interval (inclusive).

    A bare year (``2025``), month (``2025-09``) or date (``2025-09-03``) covers its whole span, alone
    or as either end: ``2025-09`` is 1–30 September 2025, ``2025-01/2025-03`` the first quarter.
    """
    if value in (None, ""):
        return None
    if isinstance(value, Interval):
        return value
    text = str(value).strip()
    if "/" not in text:
        return Interval(*_period(text))
    a, _, b = text.partition("/")
    start = None if a.strip() in ("..", "") else _period(a)[0]
    end = None if b.strip() in ("..", "") else _period(b)[1]
    if start is None and end is None:
        raise InvalidQuery("datetime interval '../..' is open at both ends")
    if start and end and start > end:
        raise InvalidQuery(f"datetime interval starts after it ends: {value!r}")
    return Interval(start, end)


def encode_token(sort_datetime: dt.datetime, collection_id: str, item_id: str) -> str:
    raw = json.dumps([sort_datetime.astimezone(UTC).isoformat(), collection_id, item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[dt.datetime, str, str]:
    try:
        pad = "=" * (-len(token) % 4)
        d, c, i = json.loads(base64.urlsafe_b64decode(token + pad))
        return dt.datetime.fromisoformat(d), str(c), str(i)
    except Exception as exc:
        raise InvalidQuery("invalid paging token") from exc


@dataclass(frozen=True)
class SearchQuery:
    """A normalised item search."""

    collections: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    bbox: BBox | None = None
    intersects: BaseGeometry | None = field(default=None, compare=False)
    interval: Interval | None = None
    limit: int = 10
    token: str | None = None

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
    ) -> "SearchQuery":
        if bbox not in (None, "", []) and intersects:
            raise InvalidQuery("use either bbox or intersects, not both")
        lim = 10 if limit is None else int(limit)
        if not (1 <= lim <= max_limit):
            raise InvalidQuery(f"limit must be between 1 and {max_limit}, got {lim}")
        geom = None
        if intersects:
            try:
                geom = shape(intersects)
            except Exception as exc:
                raise InvalidQuery(f"intersects is not a GeoJSON geometry: {exc}") from exc
            if geom.is_empty:
                raise InvalidQuery("intersects geometry is empty")
        if token:
            decode_token(token)
        return cls(
            collections=_strs(collections),
            ids=_strs(ids),
            bbox=parse_bbox(bbox),
            intersects=geom,
            interval=parse_interval(datetime),
            limit=lim,
            token=token,
        )

    def spatial_filter(self) -> BaseGeometry | None:
        if self.intersects is not None:
            return self.intersects
        if self.bbox is not None:
            return box(*self.bbox)
        return None


def _strs(value: Sequence[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)

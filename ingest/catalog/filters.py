"""Item filters of the STAC API: CQL2 (text and JSON, parsed by the ``cql2`` package), the query extension,
``sortby`` and the queryables they may name — translated to SQLAlchemy expressions, so the same filter runs on
SQLite and PostgreSQL with every literal a bound parameter.

Only properties listed in :data:`QUERYABLES` may be named (anything else is :class:`InvalidQuery`, 400), so a
property name never reaches SQL text: it is a key of this table. Supported CQL2: the Basic CQL2 class (``and``,
``or``, ``not``, ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``isNull``) and the Advanced Comparison Operators
(``like``, ``between``, ``in``). Any other operator (spatial, temporal, array, functions, arithmetic,
``casei``/``accenti``) is refused with a message naming it; the ``intersects`` and ``datetime`` search
parameters do the spatial and temporal filtering.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

import cql2
from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from ingest.catalog.errors import InvalidQuery
from ingest.catalog.models import ItemRow

__all__ = [
    "Queryable", "QUERYABLES", "CONFORMANCE_FILTER", "parse_filter", "query_to_cql2", "parse_sortby", "to_sql", "order_by",
    "queryables_schema", "MAX_FILTER_CHARS",
]

MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 30
MAX_IN_VALUES = 1000


@dataclass(frozen=True)
class Queryable:
    """A property a filter or ``sortby`` may name: its JSON type and how SQL reads it."""

    name: str
    type: str  # string | number | integer | boolean | timestamp
    description: str
    column: Callable[[], Any]
    enum: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        if self.type == "timestamp":
            s: dict[str, Any] = {"type": "string", "format": "date-time"}
        else:
            s = {"type": self.type}
        if self.enum:
            s["enum"] = list(self.enum)
        return {"title": self.name, "description": self.description, **s}


def _prop(name: str, kind: str) -> Callable[[], Any]:
    def col() -> Any:
        e = ItemRow.properties[name]
        # integers are read as floats: PostgreSQL's CAST('18.0' AS INTEGER) fails where a float compares fine
        return {"string": e.as_string, "number": e.as_float, "integer": e.as_float, "boolean": e.as_boolean}[kind]()

    return col


def _q(name: str, kind: str, description: str, enum: tuple[str, ...] = ()) -> Queryable:
    return Queryable(name, kind, description, _prop(name, kind), enum)


QUERYABLES: dict[str, Queryable] = {
    q.name: q
    for q in [
        Queryable("id", "string", "Item id.", lambda: ItemRow.id),
        Queryable("collection", "string", "Collection id.", lambda: ItemRow.collection_id),
        Queryable("datetime", "timestamp", "Nominal time (for items with only a range: its start).", lambda: ItemRow.sort_datetime),
        Queryable("start_datetime", "timestamp", "Start of the item's time range (its datetime when it has none).", lambda: ItemRow.start_datetime),
        Queryable("end_datetime", "timestamp", "End of the item's time range (its datetime when it has none).", lambda: ItemRow.end_datetime),
        _q("eo:cloud_cover", "number", "Cloud cover of the scene, percent 0-100."),
        _q("platform", "string", "Satellite, e.g. sentinel-1a, sentinel-2b, landsat-9."),
        _q("mission", "string", "Mission (STAC common metadata), when the source names one."),
        _q("constellation", "string", "Constellation, e.g. sentinel-1, sentinel-2."),
        _q("title", "string", "Item title (simulated items start with [MÔ PHỎNG / SIMULATED])."),
        _q("gsd", "number", "Ground sample distance, metres."),
        _q("proj:code", "string", "CRS of the assets, e.g. EPSG:32648."),
        _q("processing:level", "string", "Processing level, e.g. L2A, GRD, L2."),
        _q("sar:instrument_mode", "string", "SAR instrument mode, e.g. IW."),
        _q("sar:product_type", "string", "SAR product type, e.g. GRD."),
        _q("sat:orbit_state", "string", "Orbit direction.", ("ascending", "descending", "geostationary")),
        _q("sat:relative_orbit", "integer", "Relative orbit number."),
        _q("hpgeo:simulated", "boolean", "True for the simulated demo data."),
        _q("hpgeo:aoi", "string", "Area of interest the item was clipped to or built for."),
        _q("hpgeo:source", "string", "Where the scene came from (hub, file)."),
    ]
}

# CQL2 operator (as cql2-json names it) → supported?
_COMPARE = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_LOGICAL = {"and", "or", "not"}
_OTHER = {"isNull", "like", "between", "in"}

CONFORMANCE_FILTER = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
]


def queryables_schema(url: str, names: list[str] | None = None, title: str = "hpgeo items") -> dict[str, Any]:
    """The queryables as the OGC API - Features Part 3 JSON Schema (draft 2019-09), ``$id`` = ``url``."""
    qs = [QUERYABLES[n] for n in (names if names is not None else list(QUERYABLES))]
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": f"Queryables of {title}",
        "description": "Properties that filter (CQL2), query and sortby may name. Spatial filtering: the intersects/bbox "
        "parameters; temporal: the datetime parameter (CQL2 comparisons on datetime also work).",
        "properties": {q.name: q.schema() for q in qs},
        "additionalProperties": False,
    }


# -- parsing ------------------------------------------------------------------------------------------------
def parse_filter(value: Any, lang: str | None = None) -> dict[str, Any] | None:
    """A CQL2 filter (text or JSON, as ``filter-lang`` says or as it looks) → checked cql2-json (dict)."""
    if lang not in (None, "", "cql2-text", "cql2-json"):
        raise InvalidQuery(f"filter-lang must be cql2-text or cql2-json, got {ascii(lang)[:40]}")
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        if len(value) > MAX_FILTER_CHARS:
            raise InvalidQuery(f"filter is {len(value)} characters long; at most {MAX_FILTER_CHARS}")
        text = value.strip()
        if lang == "cql2-json" or (lang is None and text.startswith("{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidQuery(f"filter (cql2-json) is not JSON: {exc}") from exc
    elif lang == "cql2-text":
        raise InvalidQuery("filter-lang is cql2-text but the filter is not a string")
    if not isinstance(value, (str, dict)):
        raise InvalidQuery(f"filter must be a CQL2 text string or a CQL2 JSON object, got {type(value).__name__}")
    if isinstance(value, dict) and len(json.dumps(value)) > MAX_FILTER_CHARS:
        raise InvalidQuery(f"filter is longer than {MAX_FILTER_CHARS} characters")
    try:
        expr = cql2.Expr(value)
        out = expr.to_json()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # cql2 raises ParseError/ValidationError/Exception with a located message (a Rust panic is a BaseException)
        msg = " ".join(str(exc).split())
        raise InvalidQuery(f"filter is not valid CQL2: {msg[:300]}") from exc
    check(out)
    try:
        to_sql(out, "sqlite")  # types and arities are checked here, before any database sees the filter
    except InvalidQuery:
        raise
    except (IndexError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidQuery(f"filter is not a valid CQL2 expression for these queryables: {type(exc).__name__}") from exc
    return out


def check(expr: Any) -> None:
    """Refuse what :func:`to_sql` cannot translate, naming every unsupported operator and unknown property."""
    unsupported: set[str] = set()
    unknown: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InvalidQuery(f"filter is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            if "op" in node:
                op = node["op"]
                if op not in _COMPARE and op not in _LOGICAL and op not in _OTHER:
                    unsupported.add(str(op))
                for a in node.get("args", []):
                    walk(a, depth + 1)
            elif "property" in node:
                if node["property"] not in QUERYABLES:
                    unknown.add(str(node["property"]))
        elif isinstance(node, list):
            if len(node) > MAX_IN_VALUES:
                raise InvalidQuery(f"filter has a list of {len(node)} values; at most {MAX_IN_VALUES}")
            for a in node:
                walk(a, depth + 1)

    walk(expr, 0)
    problems = []
    if unsupported:
        problems.append(f"unsupported CQL2 operator(s): {', '.join(sorted(unsupported))} (supported: and, or, not, "
                        "=, <>, <, <=, >, >=, isNull, like, between, in; use the intersects and datetime parameters "
                        "for spatial and temporal filters)")
    if unknown:
        problems.append(f"unknown queryable(s): {', '.join(sorted(ascii(u) for u in unknown))} (see /stac/queryables)")
    if problems:
        raise InvalidQuery("; ".join(problems))


_QUERY_OPS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query_value(name: str, v: Any) -> Any:
    """A numeric string for a number queryable is read as the number (clients send query values from text)."""
    q = QUERYABLES.get(name)
    if q is not None and q.type in ("number", "integer"):
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return v
        if isinstance(v, list):
            return [_query_value(name, x) for x in v]
    return v


def query_to_cql2(value: Any) -> dict[str, Any] | None:
    """The query extension (``{"eo:cloud_cover": {"lt": 10}}``, or its JSON text in GET) → cql2-json."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        if len(value) > MAX_FILTER_CHARS:
            raise InvalidQuery(f"query is longer than {MAX_FILTER_CHARS} characters")
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidQuery(f"query is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidQuery('query must be an object: {"property": {"op": value}}')
    args: list[dict[str, Any]] = []
    for name, ops in value.items():
        if not isinstance(ops, dict) or not ops:
            raise InvalidQuery(f"query.{ascii(name)[:60]} must be an object of operators (eq, neq, lt, lte, gt, gte, startsWith, "
                               "endsWith, contains, in)")
        prop = {"property": name}
        for op, v in ops.items():
            v = _query_value(name, v)
            if op in _QUERY_OPS:
                args.append({"op": _QUERY_OPS[op], "args": [prop, v]})
            elif op in ("startsWith", "endsWith", "contains"):
                if not isinstance(v, str):
                    raise InvalidQuery(f"query {op} needs a string")
                pat = {"startsWith": "{}%", "endsWith": "%{}", "contains": "%{}%"}[op].format(_like_escape(v))
                args.append({"op": "like", "args": [prop, pat]})
            elif op == "in":
                if not isinstance(v, list) or not v:
                    raise InvalidQuery("query in needs a non-empty list")
                args.append({"op": "in", "args": [prop, v]})
            else:
                raise InvalidQuery(f"unsupported query operator {ascii(op)[:40]} (eq, neq, lt, lte, gt, gte, startsWith, endsWith, "
                                   "contains, in)")
    expr = args[0] if len(args) == 1 else {"op": "and", "args": args}
    check(expr)
    to_sql(expr, "sqlite")  # types checked before any database sees it
    return expr


def parse_sortby(value: Any) -> tuple[tuple[str, bool], ...]:
    """``"+datetime,-eo:cloud_cover"`` (GET) or ``[{"field": "properties.datetime", "direction": "desc"}]`` (POST)
    → ((name, descending), …); names may carry the ``properties.`` prefix and must be queryables."""
    if value is None or value == "" or value == []:
        return ()
    out: list[tuple[str, bool]] = []
    if isinstance(value, str):
        for part in value.split(","):
            p = part.strip()
            if not p:
                continue
            desc = p.startswith("-")
            out.append((p.lstrip("+-").strip(), desc))
    elif isinstance(value, list):
        for s in value:
            if not isinstance(s, dict) or not isinstance(s.get("field"), str):
                raise InvalidQuery('sortby must be a list of {"field": name, "direction": "asc"|"desc"}')
            direction = s.get("direction", "asc")
            if direction not in ("asc", "desc"):
                raise InvalidQuery(f"sortby direction must be asc or desc, got {ascii(direction)[:20]}")
            out.append((s["field"], direction == "desc"))
    else:
        raise InvalidQuery("sortby must be a string (GET) or a list of objects (POST)")
    named: list[tuple[str, bool]] = []
    for name, desc in out:
        n = name[len("properties."):] if name.startswith("properties.") else name
        if n not in QUERYABLES:
            raise InvalidQuery(f"sortby: unknown field {ascii(name)[:80]} (sortable: {', '.join(QUERYABLES)})")
        if any(n == m for m, _ in named):
            raise InvalidQuery(f"sortby names {n!r} twice")
        named.append((n, desc))
    if len(named) > 8:
        raise InvalidQuery("sortby names at most 8 fields")
    return tuple(named)


def order_by(sortby: tuple[tuple[str, bool], ...]) -> list[Any]:
    """ORDER BY terms: the fields (missing values last in either direction), then collection and id (a total order)."""
    terms = []
    for name, desc in sortby:
        col = QUERYABLES[name].column()
        terms.append((col.desc() if desc else col.asc()).nulls_last())
    return terms + [ItemRow.collection_id.asc(), ItemRow.id.asc()]


# -- translation --------------------------------------------------------------------------------------------
def _timestamp(v: Any) -> dt.datetime:
    from ingest.catalog.query import parse_rfc3339

    if isinstance(v, dict) and "timestamp" in v:
        return parse_rfc3339(str(v["timestamp"]))
    if isinstance(v, dict) and "date" in v:
        try:
            d = dt.date.fromisoformat(str(v["date"]))
        except ValueError as exc:
            raise InvalidQuery(f"not a DATE: {ascii(v['date'])[:40]}") from exc
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)
    if isinstance(v, str):
        return parse_rfc3339(v)
    raise InvalidQuery(f"a timestamp queryable is compared with {ascii(v)[:60]}; use TIMESTAMP('…') / {{\"timestamp\": …}}")


def _literal(q: Queryable, v: Any) -> Any:
    """``v`` as a value of ``q``'s type, or InvalidQuery."""
    if isinstance(v, dict) and "property" in v:
        raise InvalidQuery("property-to-property comparisons are not supported")
    if q.type == "timestamp":
        return _timestamp(v)
    if q.type in ("number", "integer"):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidQuery(f"{q.name} is a number; compared with {ascii(v)[:60]}")
        if not math.isfinite(float(v)):
            raise InvalidQuery(f"{q.name} is compared with a non-finite number")
        return float(v)
    if q.type == "boolean":
        if not isinstance(v, bool):
            raise InvalidQuery(f"{q.name} is a boolean; compared with {ascii(v)[:60]}")
        return v
    if not isinstance(v, str):
        raise InvalidQuery(f"{q.name} is a string; compared with {ascii(v)[:60]}")
    return v


def _prop_and_rest(args: list[Any]) -> tuple[Queryable, list[Any], bool]:
    """The queryable of a comparison and its other arguments; ``flipped`` when the property came second."""
    if args and isinstance(args[0], dict) and "property" in args[0]:
        return QUERYABLES[args[0]["property"]], list(args[1:]), False
    if len(args) == 2 and isinstance(args[1], dict) and "property" in args[1]:
        return QUERYABLES[args[1]["property"]], [args[0]], True
    raise InvalidQuery("a comparison needs a property (queryable) as one of its arguments")


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (``%``, ``_``, ``\\`` escapes) as an SQLite GLOB pattern (case-sensitive, like CQL2)."""
    out, i = [], 0
    special = {"*": "[*]", "?": "[?]", "[": "[[]", "]": "[]]"}
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(special.get(nxt, nxt))
            i += 2
            continue
        out.append("*" if c == "%" else "?" if c == "_" else special.get(c, c))
        i += 1
    return "".join(out)


def to_sql(expr: dict[str, Any], dialect: str) -> ColumnElement[bool]:
    """The checked cql2-json ``expr`` as a SQLAlchemy boolean expression (literals are bound parameters)."""

    def tr(node: Any) -> Any:
        if isinstance(node, bool):
            return true() if node else false()
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidQuery(f"filter: {ascii(node)[:80]} is not a boolean expression")
        op, args = node["op"], node.get("args", [])
        if op == "and":
            return and_(*[tr(a) for a in args])
        if op == "or":
            return or_(*[tr(a) for a in args])
        if op == "not":
            if len(args) != 1:
                raise InvalidQuery("not takes one argument")
            return not_(tr(args[0]))
        if op in _COMPARE:
            q, rest, flipped = _prop_and_rest(args)
            if len(rest) != 1:
                raise InvalidQuery(f"{op} takes two arguments")
            o = _FLIP[op] if flipped else op
            return getattr(q.column(), _COMPARE[o])(_literal(q, rest[0]))
        q, rest, _ = _prop_and_rest(args)
        col = q.column()
        if op == "isNull":
            return col.is_(None)
        if op == "between":
            if len(rest) == 1 and isinstance(rest[0], list):  # the draft form: [property, [low, high]]
                rest = rest[0]
            if len(rest) != 2:
                raise InvalidQuery("between takes a property and two values")
            if q.type not in ("number", "integer", "timestamp"):
                raise InvalidQuery(f"between needs a number or timestamp queryable; {q.name} is a {q.type}")
            return col.between(_literal(q, rest[0]), _literal(q, rest[1]))
        if op == "in":
            if len(rest) != 1 or not isinstance(rest[0], list) or not rest[0]:
                raise InvalidQuery("in takes a property and a non-empty list")
            return col.in_([_literal(q, v) for v in rest[0]])
        if op == "like":
            if q.type != "string" or len(rest) != 1 or not isinstance(rest[0], str):
                raise InvalidQuery("like takes a string queryable and a pattern string")
            if dialect == "sqlite":  # SQLite's LIKE ignores case; CQL2's does not
                return col.op("GLOB", is_comparison=True)(_glob(rest[0]))
            return col.like(rest[0], escape="\\")
        raise InvalidQuery(f"unsupported CQL2 operator: {op}")

    return tr(expr)

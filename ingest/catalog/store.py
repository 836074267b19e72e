"""The catalog: STAC collections and items (and imported AOIs) behind SQLAlchemy.

Every write runs in one transaction; searches are lazy (a generator over keyset-paginated
pages), ordered newest first. The same code runs on SQLite (default) and PostgreSQL. Spatial
filters: on PostgreSQL with PostGIS (migration 0003 added ``items.geom``) in SQL with
``ST_Intersects``; elsewhere a bbox prefilter in SQL, then an exact shapely test in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
from functools import cached_property
from typing import Any, Iterable, Iterator, Sequence

from shapely.geometry import mapping, shape
from sqlalchemy import and_, bindparam, delete, func, literal_column, or_, select, text

from geo.aoi import AOI, builtin_aois, builtin_ids, find_aoi, geometry_from_geojson, select_valid
from geo.errors import AOINotFound
from base.db import Database, make_engine
from ingest.catalog.errors import CollectionNotFound, InvalidItem, ItemNotFound
from ingest.catalog.models import AOIRow, CollectionRow, ItemRow
from ingest.catalog.filters import order_by, to_sql
from ingest.catalog.query import SearchQuery, decode_offset, decode_token, encode_offset, encode_token, parse_datetime

__all__ = ["Catalog", "Page", "item_hash"]

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


def item_hash(item: dict[str, Any]) -> str:
    """Stable content hash of an item (excluding links, which the API adds)."""
    body = {k: item.get(k) for k in ("id", "collection", "geometry", "properties", "assets", "stac_extensions")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class Page:
    """One page of search results plus the token of the next page (None on the last)."""

    def __init__(self, items: list[dict[str, Any]], next_token: str | None, matched: int | None = None):
        self.items = items
        self.next_token = next_token
        self.matched = matched
        # a page after the first: (True, token of the previous page; None when that is the first page)
        self.prev: tuple[bool, str | None] = (False, None)


class Catalog(Database):
    """STAC catalog on a SQLAlchemy engine. Create with :meth:`open` (migrates) or from an engine."""

    migrations_package = "ingest.catalog"
    version_table = "alembic_version_catalog"

    # -- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "Catalog":
        cat = cls(make_engine(url))
        if migrate:
            cat.upgrade()
        return cat

    @classmethod
    def from_settings(cls, settings: Any) -> "Catalog":
        s = settings
        if s.database_url is None:
            s.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(s.catalog_url)

    def upgrade(self, revision: str = "head") -> None:
        super().upgrade(revision)
        self.__dict__.pop("spatial_sql", None)  # the schema may have changed: look again

    @cached_property
    def spatial_sql(self) -> bool:
        """True when spatial filters run in SQL: PostgreSQL with the PostGIS ``items.geom`` column."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.engine.connect() as conn:
            found = conn.execute(text(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'items' AND column_name = 'geom'"
            ))
            return found.first() is not None

    # -- collections ----------------------------------------------------------------------------
    def put_collection(self, collection: dict[str, Any], kind: str = "input") -> None:
        if not collection.get("id"):
            raise InvalidItem("collection has no id")
        with self.session() as s:
            row = s.get(CollectionRow, collection["id"])
            if row is None:
                s.add(CollectionRow(id=collection["id"], title=collection.get("title", ""), kind=kind, data=collection))
            elif row.data != collection or row.kind != kind:
                row.data, row.title, row.kind = collection, collection.get("title", ""), kind

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        with self.session() as s:
            row = s.get(CollectionRow, collection_id)
            if row is None:
                raise CollectionNotFound(f"no collection {collection_id!r}")
            return dict(row.data)

    def list_collections(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [dict(r.data) for r in s.scalars(select(CollectionRow).order_by(CollectionRow.id))]

    def collection_kinds(self) -> dict[str, str]:
        with self.session() as s:
            return {r.id: r.kind for r in s.scalars(select(CollectionRow))}

    # -- items ----------------------------------------------------------------------------------
    def put_items(self, items: Sequence[dict[str, Any]]) -> list[str]:
        """Insert or replace items, all in one transaction. Returns the ids that changed."""
        changed: list[str] = []
        with self.session() as s:
            for item in items:
                row = _item_row(item)
                if s.get(CollectionRow, row.collection_id) is None:
                    raise CollectionNotFound(f"item {row.id!r}: no collection {row.collection_id!r}")
                old = s.get(ItemRow, (row.collection_id, row.id))
                if old is not None and old.content_hash == row.content_hash:
                    continue
                if old is not None:
                    row.created_at = old.created_at
                    s.delete(old)
                    s.flush()
                s.add(row)
                changed.append(row.id)
        if changed:
            log.info("catalog: wrote %d item(s): %s", len(changed), ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))
        return changed

    def put_item(self, item: dict[str, Any]) -> bool:
        return bool(self.put_items([item]))

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        with self.session() as s:
            row = s.get(ItemRow, (collection_id, item_id))
            if row is None:
                if s.get(CollectionRow, collection_id) is None:
                    raise CollectionNotFound(f"no collection {collection_id!r}")
                raise ItemNotFound(f"no item {item_id!r} in collection {collection_id!r}")
            return _row_item(row)

    def has_item(self, collection_id: str, item_id: str) -> bool:
        with self.session() as s:
            return s.get(ItemRow, (collection_id, item_id)) is not None

    def delete_item(self, collection_id: str, item_id: str) -> None:
        with self.session() as s:
            res = s.execute(delete(ItemRow).where(ItemRow.collection_id == collection_id, ItemRow.id == item_id))
            if res.rowcount == 0:
                raise ItemNotFound(f"no item {item_id!r} in collection {collection_id!r}")

    def count_items(self, collection_id: str | None = None) -> int:
        from sqlalchemy import func

        with self.session() as s:
            q = select(func.count()).select_from(ItemRow)
            if collection_id:
                q = q.where(ItemRow.collection_id == collection_id)
            return int(s.scalar(q) or 0)

    def search_page(self, query: SearchQuery, count: bool = False) -> Page:
        """One page of results and the token of the next one; with ``count``, also the number of matches."""
        out: list[dict[str, Any]] = []
        if query.sortby:
            start = decode_offset(query.token) if query.token else 0
            for pos, row in self._iter_sorted(query, start):
                if len(out) == query.limit:
                    return Page(out, encode_offset(pos), self.count_matches(query) if count else None)
                out.append(_row_item(row))
            return Page(out, None, self.count_matches(query) if count else None)
        last = first = None
        page = None
        for row in self._iter_rows(query):
            if len(out) == query.limit:
                # there is at least one more: the next page starts after the last one returned
                page = Page(out, encode_token(last.sort_datetime, last.collection_id, last.id), self.count_matches(query) if count else None)
                break
            out.append(_row_item(row))
            first = first or row
            last = row
        page = page or Page(out, None, self.count_matches(query) if count else None)
        if query.token and first is not None:
            page.prev = self._prev_cursor(query, first)
        return page

    def _prev_cursor(self, q: SearchQuery, first: ItemRow) -> tuple[bool, str | None]:
        """Where the page before the one starting at ``first`` starts: walk back ``limit + 1`` matches (default order)."""
        back = list(itertools.islice(self._iter_rows_before(q, _aware(first.sort_datetime), first.collection_id, first.id), q.limit + 1))
        if not back:
            return (False, None)
        if len(back) <= q.limit:
            return (True, None)  # the previous page is the first
        r = back[q.limit]
        return (True, encode_token(r.sort_datetime, r.collection_id, r.id))

    def _iter_rows_before(self, q: SearchQuery, d: dt.datetime, c: str, i: str, batch: int = 200) -> Iterator[ItemRow]:
        """The matches before (d, c, i) in the default order, nearest first."""
        conds, geom, exact_in_python = self._conditions(q)
        order = (ItemRow.sort_datetime.asc(), ItemRow.collection_id.desc(), ItemRow.id.desc())
        while True:
            stmt = select(ItemRow).where(*conds).where(
                or_(
                    ItemRow.sort_datetime > d,
                    and_(ItemRow.sort_datetime == d, ItemRow.collection_id < c),
                    and_(ItemRow.sort_datetime == d, ItemRow.collection_id == c, ItemRow.id < i),
                )
            )
            with self.session() as s:
                rows = list(s.scalars(stmt.order_by(*order).limit(batch)))
            for row in rows:
                if not exact_in_python or shape(row.geometry).intersects(geom):
                    yield row
            if len(rows) < batch:
                return
            last = rows[-1]
            d, c, i = _aware(last.sort_datetime), last.collection_id, last.id

    def search(self, query: SearchQuery) -> Iterator[dict[str, Any]]:
        """All matching items, lazily, in the query's order (newest first unless ``sortby``; ignores ``limit``)."""
        rows = (r for _, r in self._iter_sorted(query, 0)) if query.sortby else self._iter_rows(query)
        for row in rows:
            yield _row_item(row)

    def count_matches(self, q: SearchQuery) -> int:
        """How many items the query matches (``numberMatched``), whatever the page."""
        conds, geom, exact_in_python = self._conditions(q)
        with self.session() as s:
            if not exact_in_python:
                return int(s.scalar(select(func.count()).select_from(ItemRow).where(*conds)) or 0)
            return sum(1 for g in s.scalars(select(ItemRow.geometry).where(*conds)) if shape(g).intersects(geom))

    def _conditions(self, q: SearchQuery) -> tuple[list[Any], Any, bool]:
        """WHERE terms of the query; the spatial filter, and whether its exact test runs in Python."""
        conds: list[Any] = []
        if q.collections:
            conds.append(ItemRow.collection_id.in_(q.collections))
        if q.ids:
            conds.append(ItemRow.id.in_(q.ids))
        geom = q.spatial_filter()
        exact_in_python = False
        if geom is not None and self.spatial_sql:
            # PostGIS: the exact test in SQL (GIST index on items.geom)
            wkt = bindparam("wkt", geom.wkt)
            conds.append(func.ST_Intersects(literal_column("items.geom"), func.ST_GeomFromText(wkt, 4326)))
        elif geom is not None:
            w, s_, e, n = geom.bounds
            conds += [ItemRow.maxx >= w, ItemRow.minx <= e, ItemRow.maxy >= s_, ItemRow.miny <= n]
            exact_in_python = True
        if q.interval is not None:
            if q.interval.start is not None:
                conds.append(ItemRow.end_datetime >= q.interval.start)
            if q.interval.end is not None:
                conds.append(ItemRow.start_datetime <= q.interval.end)
        if q.filter is not None:
            conds.append(to_sql(q.filter, self.engine.dialect.name))
        return conds, geom, exact_in_python

    def _iter_sorted(self, q: SearchQuery, start: int, batch: int = 200) -> Iterator[tuple[int, ItemRow]]:
        """(position, row) in the ``sortby`` order (a total order: then collection, id) from SQL position ``start``.
        The position counts SQL rows, so a page token stays exact when the spatial test runs in Python."""
        conds, geom, exact_in_python = self._conditions(q)
        order = order_by(q.sortby)
        pos = start
        while True:
            with self.session() as s:
                rows = list(s.scalars(select(ItemRow).where(*conds).order_by(*order).offset(pos).limit(batch)))
            for row in rows:
                if not exact_in_python or shape(row.geometry).intersects(geom):
                    yield pos, row
                pos += 1
            if len(rows) < batch:
                return

    def _iter_rows(self, q: SearchQuery, batch: int = 200) -> Iterator[ItemRow]:
        conds, geom, exact_in_python = self._conditions(q)
        cursor = decode_token(q.token) if q.token else None
        order = (ItemRow.sort_datetime.desc(), ItemRow.collection_id.asc(), ItemRow.id.asc())
        while True:
            stmt = select(ItemRow).where(*conds)
            if cursor is not None:
                d, c, i = cursor
                stmt = stmt.where(
                    or_(
                        ItemRow.sort_datetime < d,
                        and_(ItemRow.sort_datetime == d, ItemRow.collection_id > c),
                        and_(ItemRow.sort_datetime == d, ItemRow.collection_id == c, ItemRow.id > i),
                    )
                )
            with self.session() as s:
                rows = list(s.scalars(stmt.order_by(*order).limit(batch)))
            if not rows:
                return
            for row in rows:
                if not exact_in_python or shape(row.geometry).intersects(geom):
                    yield row
            last = rows[-1]
            cursor = (_aware(last.sort_datetime), last.collection_id, last.id)
            if len(rows) < batch:
                return

    def property_names(self, collection_id: str | None = None) -> set[str]:
        """The property names the items (of one collection) use: which queryables apply to a collection."""
        names: set[str] = set()
        stmt = select(ItemRow.properties)
        if collection_id is not None:
            stmt = stmt.where(ItemRow.collection_id == collection_id)
        with self.session() as s:
            for props in s.scalars(stmt.execution_options(yield_per=500)):
                names.update((props or {}).keys())
        return names

    # -- AOIs -----------------------------------------------------------------------------------
    def put_aois(self, aois: Iterable[AOI], replace: bool = True) -> list[str]:
        """Store imported AOIs in one transaction (all or nothing)."""
        ids: list[str] = []
        builtin = builtin_ids()
        with self.session() as s:
            for a in aois:
                if a.id in builtin:
                    raise InvalidItem(f"AOI id {a.id!r} is a built-in AOI; use --id-prefix to import under another id")
                old = s.get(AOIRow, a.id)
                if old is not None:
                    if not replace:
                        raise InvalidItem(f"AOI {a.id!r} exists")
                    s.delete(old)
                    s.flush()
                s.add(
                    AOIRow(
                        id=a.id,
                        name_vi=a.name_vi,
                        name_en=a.name_en,
                        kind=a.kind,
                        valid_from=a.valid_from,
                        valid_to=a.valid_to,
                        source=a.source,
                        geometry=mapping(a.geometry),
                        properties=a.properties,
                    )
                )
                ids.append(a.id)
        return ids

    def delete_aoi(self, aoi_id: str) -> None:
        """Delete an imported AOI. Built-in AOIs cannot be deleted (:class:`InvalidItem`)."""
        if aoi_id in builtin_ids():
            raise InvalidItem(f"AOI {aoi_id!r} is a built-in AOI and cannot be deleted")
        with self.session() as s:
            res = s.execute(delete(AOIRow).where(AOIRow.id == aoi_id))
            if res.rowcount == 0:
                raise AOINotFound(f"no imported AOI {aoi_id!r} (see `hpgeo aoi list`)")
        log.info("catalog: deleted AOI %s", aoi_id)

    def aois(self, on: dt.date | None = None, include_builtin: bool = True) -> list[AOI]:
        """Built-in and imported AOIs, optionally only those valid on ``on``."""
        with self.session() as s:
            imported = [_row_aoi(r) for r in s.scalars(select(AOIRow).order_by(AOIRow.id))]
        allaois = (builtin_aois() if include_builtin else []) + imported
        return select_valid(allaois, on)

    def aoi_index(self, on: dt.date | None = None, include_builtin: bool = True) -> list[dict[str, Any]]:
        """The AOIs without their geometries (cheap): id, names, kind, period, source, ``builtin`` and
        ``version`` (changes whenever the AOI is re-imported; ``"builtin"`` for built-in ones)."""
        out: list[dict[str, Any]] = []
        if include_builtin:
            out += [_index_entry(a, "builtin") for a in select_valid(builtin_aois(), on)]
        cols = (AOIRow.id, AOIRow.name_vi, AOIRow.name_en, AOIRow.kind, AOIRow.valid_from, AOIRow.valid_to, AOIRow.source, AOIRow.created_at)
        with self.session() as s:
            for r in s.execute(select(*cols).order_by(AOIRow.id)):
                if (on is None or r.valid_from is None or r.valid_from <= on) and (on is None or r.valid_to is None or on <= r.valid_to):
                    out.append(_index_entry(r, r.created_at.isoformat()))
        return out

    def aoi(self, aoi_id: str, on: dt.date | None = None) -> AOI:
        """One AOI by id (valid on ``on``), or :class:`AOINotFound`. Reads only that AOI's row."""
        if aoi_id in builtin_ids():
            return find_aoi(builtin_aois(), aoi_id, on)
        with self.session() as s:
            row = s.get(AOIRow, aoi_id)
            found = [_row_aoi(row)] if row is not None else []
        return find_aoi(found, aoi_id, on)


# -- helpers --------------------------------------------------------------------------------------


def _aware(d: dt.datetime) -> dt.datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def _iso(d: dt.datetime) -> str:
    return _aware(d).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _item_row(item: dict[str, Any]) -> ItemRow:
    for key in ("id", "collection", "geometry", "properties"):
        if not item.get(key):
            raise InvalidItem(f"item lacks {key!r}")
    props = item["properties"]
    try:
        if props.get("datetime"):
            start = end = parse_datetime(props["datetime"])
        else:
            start, end = parse_datetime(props["start_datetime"]), parse_datetime(props["end_datetime"])
        if props.get("start_datetime") and props.get("end_datetime"):
            start, end = parse_datetime(props["start_datetime"]), parse_datetime(props["end_datetime"])
    except (KeyError, TypeError) as exc:
        raise InvalidItem(f"item {item['id']!r} needs datetime or start_datetime/end_datetime") from exc
    sort_dt = parse_datetime(props["datetime"]) if props.get("datetime") else start
    try:
        geom = shape(item["geometry"])
    except Exception as exc:
        raise InvalidItem(f"item {item['id']!r} has an invalid geometry: {exc}") from exc
    minx, miny, maxx, maxy = geom.bounds
    return ItemRow(
        collection_id=item["collection"],
        id=item["id"],
        sort_datetime=sort_dt,
        start_datetime=start,
        end_datetime=end,
        minx=minx,
        miny=miny,
        maxx=maxx,
        maxy=maxy,
        geometry=item["geometry"],
        properties=props,
        assets=item.get("assets", {}),
        links=[l for l in item.get("links", []) if l.get("rel") not in ("self", "root", "parent", "collection", "tilejson", "xyz")],
        stac_extensions=list(item.get("stac_extensions", [])),
        simulated=bool(props.get("hpgeo:simulated", False)),
        content_hash=item_hash(item),
    )


def _row_aoi(r: AOIRow) -> AOI:
    return AOI(
        id=r.id,
        name_vi=r.name_vi,
        name_en=r.name_en,
        geometry=geometry_from_geojson(r.geometry),
        kind=r.kind,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        source=r.source,
        properties=dict(r.properties or {}),
    )


def _index_entry(a: Any, version: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "name_vi": a.name_vi,
        "name_en": a.name_en,
        "kind": a.kind,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "source": a.source,
        "builtin": version == "builtin",
        "version": version,
    }


def _row_item(row: ItemRow) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": list(row.stac_extensions or []),
        "id": row.id,
        "collection": row.collection_id,
        "geometry": row.geometry,
        "bbox": [row.minx, row.miny, row.maxx, row.maxy],
        "properties": dict(row.properties),
        "assets": dict(row.assets),
        "links": list(row.links or []),
    }

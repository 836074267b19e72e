"""Scale-out by configuration only: the catalog and the registry on PostgreSQL/PostGIS.

The SQLite suites' own test functions run here unchanged (imported below) against the PostgreSQL
fixtures of conftest.py — catalog, registry API, the demo's flood build and the STAC API. The tests
written here check what only PostgreSQL has: the PostGIS column and its trigger, the spatial filter
in SQL (ST_Intersects) with exact keyset pages, and the clean fallback when PostGIS is unavailable.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Iterator

from shapely.geometry import box, shape
from sqlalchemy import event, text

from ingest.catalog import Catalog, SearchQuery

TESTS = Path(__file__).resolve().parents[1]


def _suite(rel: str) -> ModuleType:
    """A SQLite test module, loaded under a private name so its test functions can be reused here."""
    path = TESTS / rel
    spec = importlib.util.spec_from_file_location(f"_scaleout_reuse_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_catalog = _suite("foundation/test_catalog.py")
_registry = _suite("registry/test_registry_api.py")
_flood = _suite("foundation/test_flood_foundation.py")
_demo = _suite("foundation/test_demo_cli.py")
_api = _suite("foundation/test_api.py")
_item = _catalog._item

# --- the catalog's SQLite tests, on PostgreSQL (fixture ``cat`` of conftest.py) -----------------------
test_put_is_idempotent_and_reports_changes = _catalog.test_put_is_idempotent_and_reports_changes
test_batch_is_atomic = _catalog.test_batch_is_atomic
test_unknown_item_and_collection = _catalog.test_unknown_item_and_collection
test_search_pages_newest_first_without_gaps_or_repeats = _catalog.test_search_pages_newest_first_without_gaps_or_repeats
test_search_by_bbox_datetime_and_collection = _catalog.test_search_by_bbox_datetime_and_collection

# --- the registry API's tests (load, 401/403/200 edits, audit, reports), on PostgreSQL ----------------
test_tasks_list_each_with_its_lead_agency = _registry.test_tasks_list_each_with_its_lead_agency
test_agency_key_cannot_change_another_agencys_task_and_coordinator_can = (
    _registry.test_agency_key_cannot_change_another_agencys_task_and_coordinator_can
)
test_invalid_status_changes_nothing = _registry.test_invalid_status_changes_nothing
test_reports_only_for_own_agency = _registry.test_reports_only_for_own_agency

# --- the simulated demo built with its catalog on PostgreSQL, and the STAC API over it ----------------
test_simulated_flood_iou_at_least_0_9 = _flood.test_simulated_flood_iou_at_least_0_9
test_demo_twice_leaves_the_same_items = _demo.test_demo_twice_leaves_the_same_items
test_pystac_client_search_by_bbox_and_datetime = _api.test_pystac_client_search_by_bbox_and_datetime
test_pystac_client_follows_next_links_get_and_post = _api.test_pystac_client_follows_next_links_get_and_post


# --- helpers --------------------------------------------------------------------------------------------
@contextmanager
def _statements(engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def _pages(cat: Catalog, **query) -> list[list[str]]:
    """Every page of a search (following the next tokens), as lists of ids."""
    pages, token = [], None
    while True:
        page = cat.search_page(SearchQuery.build(token=token, **query))
        pages.append([i["id"] for i in page.items])
        token = page.next_token
        if token is None:
            return pages


def _search_filters(statements: list[str]) -> list[str]:
    """The WHERE clauses of the item searches among ``statements``."""
    return [s.split("WHERE", 1)[1] for s in statements if "FROM items" in s and "WHERE" in s]


def _scalar(cat: Catalog, sql: str, **params):
    with cat.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# a triangle over the lower-left half of the grid below: its bbox overlaps every item, itself only some
TRIANGLE = {"type": "Polygon", "coordinates": [[[105.95, 19.95], [106.83, 19.97], [105.97, 20.61], [105.95, 19.95]]]}


def _grid() -> list[dict]:
    """48 items on an 8×6 grid of 0.1° squares, 9 distinct datetimes (ties broken by collection, id)."""
    return [
        _item(i, 1 + i % 9, lon=106.0 + (i % 8) * 0.1, lat=20.0 + (i // 8) * 0.1, cid="c1" if i % 3 else "c2")
        for i in range(48)
    ]


# --- PostgreSQL-only behaviour ------------------------------------------------------------------------
def test_migration_adds_a_postgis_geom_column_that_stays_in_sync(cat):
    assert _scalar(cat, "SELECT version_num FROM alembic_version_catalog") == "0004"
    assert _scalar(cat, "SELECT srid FROM geometry_columns WHERE f_table_name = 'items' AND f_geometry_column = 'geom'") == 4326
    assert _scalar(cat, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_geom'").endswith("USING gist (geom)")
    it = _item(1, 1)
    cat.put_items([it])
    geom_of = lambda: shape(json.loads(_scalar(cat, "SELECT ST_AsGeoJSON(geom) FROM items WHERE id = 'it-1'")))  # noqa: E731
    assert geom_of().equals(shape(it["geometry"]))
    # replacing the item through the catalog moves its geom
    moved = _item(1, 2, lon=107.5, lat=20.2)
    assert cat.put_items([moved]) == ["it-1"]
    assert geom_of().equals(shape(moved["geometry"]))
    # so does another writer updating the GeoJSON directly (the trigger, not the store, keeps it)
    with cat.engine.begin() as conn:
        conn.execute(text("UPDATE items SET geometry = CAST(:g AS jsonb) WHERE id = 'it-1'"), {"g": json.dumps(it["geometry"])})
    assert geom_of().equals(shape(it["geometry"]))
    # a geometry with Z is stored 2D (the column is 2D)
    z = _item(2, 3)
    z["geometry"] = {"type": "Point", "coordinates": [106.71, 20.71, 12.5]}
    cat.put_items([z])
    assert _scalar(cat, "SELECT ST_AsText(geom) FROM items WHERE id = 'it-2'") == "POINT(106.71 20.71)"
    # the spatial predicate the store sends can use the GIST index
    with cat.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(conn.exec_driver_sql(
            "EXPLAIN SELECT id FROM items WHERE ST_Intersects(items.geom, ST_GeomFromText('POINT(106.75 20.75)', 4326))"
        ).scalars())
    assert "ix_items_geom" in plan


def test_spatial_search_runs_in_sql_and_pages_like_sqlite(cat, tmp_path):
    items = _grid()
    cat.put_items(items)
    ref = Catalog.open(f"sqlite:///{tmp_path / 'ref.db'}")  # the embedded path, same items
    ref.put_collection({"id": "c1", "type": "Collection"})
    ref.put_collection({"id": "c2", "type": "Collection"})
    ref.put_items(items)
    assert cat.spatial_sql and not ref.spatial_sql
    tri = shape(TRIANGLE)
    exact = {i["id"] for i in items if shape(i["geometry"]).intersects(tri)}
    by_bbox = {i["id"] for i in items if shape(i["geometry"]).intersects(box(*tri.bounds))}
    assert 5 < len(exact) < len(by_bbox) == len(items)  # a bbox-only filter would return too much
    queries = [
        {"intersects": TRIANGLE},
        {"intersects": TRIANGLE, "datetime": "2025-09-02/2025-09-05", "collections": ["c1"]},
        {"bbox": [106.15, 20.15, 106.45, 20.35]},
    ]
    try:
        for q in queries:
            with _statements(cat.engine) as sql:
                pages = _pages(cat, limit=4, **q)
            assert pages == _pages(ref, limit=4, **q), q  # same items, same order, same page breaks
            assert all(len(p) == 4 for p in pages[:-1]) and len(pages) > 1, q
            wheres = _search_filters(sql)
            assert wheres and all("ST_Intersects(items.geom, ST_GeomFromText(" in w for w in wheres), wheres
            assert not any("items.minx" in w for w in wheres)  # no bbox prefilter: the exact test is in SQL
        assert {i for p in _pages(cat, limit=4, **queries[0]) for i in p} == exact
    finally:
        ref.close()


def test_without_postgis_the_catalog_migrates_and_filters_in_python(pg_database, caplog):
    url = pg_database("nopostgis", superuser=False)  # an ordinary role may not create the extension
    with caplog.at_level(logging.WARNING, logger="ingest.catalog.migrations"):
        c = Catalog.open(url)
    try:
        assert "PostGIS not available" in caplog.text
        assert _scalar(c, "SELECT version_num FROM alembic_version_catalog") == "0004"
        assert _scalar(c, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'") == 0
        assert not c.spatial_sql
        c.put_collection({"id": "c1", "type": "Collection", "title": "one"})
        c.put_collection({"id": "c2", "type": "Collection", "title": "two"})
        with _statements(c.engine) as sql:
            _catalog.test_search_by_bbox_datetime_and_collection(c)  # same answers, exact test in Python
        wheres = _search_filters(sql)
        assert any("items.minx <=" in w for w in wheres) and not any("ST_Intersects" in w for w in wheres)
    finally:
        c.close()


def test_catalog_and_registry_share_one_database_with_their_own_histories(settings, reg):
    from alembic.script import ScriptDirectory
    from alembic.config import Config

    cat = Catalog.from_settings(settings)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", "registry:migrations")
        head = ScriptDirectory.from_config(cfg).get_current_head()
        assert _scalar(cat, "SELECT version_num FROM alembic_version_registry") == head
        assert _scalar(cat, "SELECT version_num FROM alembic_version_catalog") == "0004"
        assert reg.engine.url.database == cat.engine.url.database and cat.engine.dialect.name == "postgresql"
    finally:
        cat.close()


def test_demo_catalog_is_in_postgres_and_searched_with_st_intersects(demo_settings, demo_catalog):
    assert demo_catalog.engine.dialect.name == "postgresql" and demo_catalog.spatial_sql
    assert not (demo_settings.resolved_data_dir / "catalog.db").exists()  # nothing went to SQLite
    everything = list(demo_catalog.search(SearchQuery.build()))
    assert len(everything) >= 5
    assert _scalar(demo_catalog, "SELECT count(*) FROM items WHERE geom IS NOT NULL") == len(everything)
    flood = next(demo_catalog.search(SearchQuery.build(collections=["flood-extent"])))
    footprint = shape(flood["geometry"])
    with _statements(demo_catalog.engine) as sql:
        found = [i["id"] for i in demo_catalog.search(SearchQuery.build(intersects=flood["geometry"]))]
    assert flood["id"] in found
    assert sorted(found) == sorted(i["id"] for i in everything if shape(i["geometry"]).intersects(footprint))
    assert any("ST_Intersects" in s for s in sql)
    # Bach Long Vi island, far off the coast: nothing there
    assert list(demo_catalog.search(SearchQuery.build(bbox=[107.70, 20.12, 107.74, 20.15]))) == []

"""Catalog: transactions, upserts, lazy keyset-paginated search, query normalisation."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.catalog import Catalog, CollectionNotFound, InvalidQuery, ItemNotFound, SearchQuery, parse_bbox, parse_interval


def _item(i: int, day: int, lon: float = 106.7, lat: float = 20.7, cid: str = "c1") -> dict:
    return {
        "id": f"it-{i}",
        "collection": cid,
        "geometry": {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]]},
        "properties": {"datetime": f"2025-09-{day:02d}T03:00:00Z"},
        "assets": {},
    }


@pytest.fixture()
def cat(tmp_path):
    c = Catalog.open(f"sqlite:///{tmp_path / 'c.db'}")
    c.put_collection({"id": "c1", "type": "Collection", "title": "one"})
    c.put_collection({"id": "c2", "type": "Collection", "title": "two"})
    yield c
    c.close()


def test_put_is_idempotent_and_reports_changes(cat):
    assert cat.put_items([_item(1, 1)]) == ["it-1"]
    assert cat.put_items([_item(1, 1)]) == []
    changed = _item(1, 2)
    assert cat.put_items([changed]) == ["it-1"]
    assert cat.count_items() == 1
    assert cat.get_item("c1", "it-1")["properties"]["datetime"] == "2025-09-02T03:00:00Z"


def test_batch_is_atomic(cat):
    bad = _item(2, 2, cid="missing")
    with pytest.raises(CollectionNotFound):
        cat.put_items([_item(1, 1), bad])
    assert cat.count_items() == 0


def test_unknown_item_and_collection(cat):
    with pytest.raises(ItemNotFound):
        cat.get_item("c1", "nope")
    with pytest.raises(CollectionNotFound):
        cat.get_item("nope", "x")


def test_search_pages_newest_first_without_gaps_or_repeats(cat):
    cat.put_items([_item(i, 1 + i % 20, cid="c1" if i % 2 else "c2") for i in range(45)])
    seen, token = [], None
    while True:
        page = cat.search_page(SearchQuery.build(limit=7, token=token))
        seen += [(it["properties"]["datetime"], it["id"]) for it in page.items]
        token = page.next_token
        if token is None:
            break
    assert len(seen) == 45 and len(set(seen)) == 45
    assert [d for d, _ in seen] == sorted((d for d, _ in seen), reverse=True)


def test_search_by_bbox_datetime_and_collection(cat):
    cat.put_items([_item(1, 5), _item(2, 6, lon=107.7, lat=20.1), _item(3, 20)])
    ids = lambda **kw: sorted(i["id"] for i in cat.search(SearchQuery.build(**kw)))  # noqa: E731
    assert ids(bbox="106.6,20.6,106.9,20.9") == ["it-1", "it-3"]
    assert ids(bbox=[107.6, 20.0, 107.8, 20.2]) == ["it-2"]
    assert ids(datetime="2025-09-05/2025-09-06") == ["it-1", "it-2"]
    assert ids(datetime="2025-09-06") == ["it-2"]
    assert ids(datetime="../2025-09-05T03:00:00Z") == ["it-1"]
    assert ids(datetime="2025-09-10T00:00:00Z/..") == ["it-3"]
    assert ids(collections=["c2"]) == []
    # exact geometry test, not just bbox overlap: a triangle touching only it-1's bbox corner region
    tri = {"type": "Polygon", "coordinates": [[[106.5, 20.5], [106.69, 20.5], [106.5, 20.69], [106.5, 20.5]]]}
    assert ids(intersects=tri) == []


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "a,b,c,d", "10,20,5,30", "0,50,10,40", "0,0,200,10", [1, 2], "nan,1,2,3"],
)
def test_malformed_bbox_is_rejected(bbox):
    with pytest.raises(InvalidQuery):
        parse_bbox(bbox)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2025-09", (2025, 9, 1), (2025, 10, 1)),
        ("2025", (2025, 1, 1), (2026, 1, 1)),
        ("2024-02", (2024, 2, 1), (2024, 3, 1)),
        ("2025-12", (2025, 12, 1), (2026, 1, 1)),
        ("2025-01/2025-03", (2025, 1, 1), (2025, 4, 1)),
        ("2024/2025-09-03", (2024, 1, 1), (2025, 9, 4)),
    ],
)
def test_year_and_month_shorthands_cover_their_whole_span(text, start, end):
    utc = dt.timezone.utc
    iv = parse_interval(text)
    assert iv.start == dt.datetime(*start, tzinfo=utc)
    assert iv.end == dt.datetime(*end, tzinfo=utc) - dt.timedelta(microseconds=1)
    assert parse_interval(f"{text.split('/')[0]}/..").end is None


@pytest.mark.parametrize("bad", ["2025-13", "2025-00", "2025-9", "202", "2025-09/2025-08"])
def test_bad_shorthands_are_rejected(bad):
    with pytest.raises(InvalidQuery):
        parse_interval(bad)


def test_intervals():
    iv = parse_interval("2025-09-01/2025-09-30")
    assert iv.start == dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
    assert iv.end == dt.datetime(2025, 9, 30, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)
    for bad in ("2025-13-01", "2025-09-30/2025-09-01", "../..", "yesterday"):
        with pytest.raises(InvalidQuery):
            parse_interval(bad)
    with pytest.raises(InvalidQuery):
        SearchQuery.build(limit=0)
    with pytest.raises(InvalidQuery):
        SearchQuery.build(token="!!notatoken")

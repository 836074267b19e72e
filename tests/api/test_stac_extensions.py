"""STAC API sort, fields, filter (CQL2 text and JSON), query and the spec's error answers, through pystac-client
and plain HTTP against the real app under uvicorn on 127.0.0.1 — on SQLite, and on PostgreSQL when
HPGEO_TEST_POSTGRES_URL is set (.ci/run sets it; without it the PostgreSQL case skips, under CI=true it fails).

The catalog is a small fixture whose expected answers are computed here, in plain Python over the fixture's
own list of items, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid

import httpx
import pytest
from shapely.geometry import box, mapping

from base.settings import Settings

PG_ENV = "HPGEO_TEST_POSTGRES_URL"
UTC = dt.timezone.utc

IDENTITY = {"type", "stac_version", "id", "collection"}  # what an include always returns with the included fields
PLATFORMS = ["sentinel-2a", "sentinel-2b", "Sentinel-2A", "landsat-9"]


def _fixture_items() -> list[dict]:
    """24 optical items (cloud cover, platform, time vary; 3 without cloud cover) and 6 SAR items."""
    items = []
    for i in range(24):
        t = dt.datetime(2025, 1, 1, 3, 30, tzinfo=UTC) + dt.timedelta(days=7 * i, minutes=i)
        props = {"datetime": t.isoformat().replace("+00:00", "Z"), "platform": PLATFORMS[i % 4], "title": f"scene {i:02d}",
                 "hpgeo:simulated": i % 3 == 0, "proj:code": "EPSG:32648"}
        if i % 8 != 5:
            props["eo:cloud_cover"] = float((i * 37) % 100) + 0.5
        x = 106.0 + 0.05 * (i % 6)
        items.append({"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": f"OPT-{i:02d}", "collection": "optical",
                      "geometry": mapping(box(x, 20.5, x + 0.1, 20.6)), "properties": props, "assets": {}, "links": []})
    for i in range(6):
        t = dt.datetime(2025, 3, 1, 11, 0, tzinfo=UTC) + dt.timedelta(days=12 * i)
        props = {"datetime": t.isoformat().replace("+00:00", "Z"), "platform": "sentinel-1a", "sar:instrument_mode": "IW",
                 "sat:orbit_state": "ascending" if i % 2 else "descending", "sat:relative_orbit": 18 + i}
        items.append({"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": f"SAR-{i}", "collection": "sar",
                      "geometry": mapping(box(106.5, 20.6, 106.9, 20.9)), "properties": props, "assets": {}, "links": []})
    return items


ITEMS = _fixture_items()


def _cc(item):
    return item["properties"].get("eo:cloud_cover")


def _when(item):
    return dt.datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))


def _pg_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set under CI")
        pytest.skip(f"{PG_ENV} is not set (.ci/run starts a PostgreSQL cluster and sets it)")
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stac_server(request, tmp_path_factory):
    """(base URL, backend) of the app serving the fixture catalog on the given backend."""
    import uvicorn
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from api.main import create_app
    from ingest.catalog import Catalog

    data_dir = tmp_path_factory.mktemp(f"stac-{request.param}")
    admin, dbname = None, None
    if request.param == "postgresql":
        server_url = _pg_url()
        dbname = f"hpgeo_test_stac_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        db_url = make_url(server_url).set(database=dbname).render_as_string(hide_password=False)
        settings = Settings(data_dir=data_dir, database_url=db_url, max_search_limit=50)
    else:
        settings = Settings(data_dir=data_dir, database_url=None, max_search_limit=50)
    cat = Catalog.from_settings(settings)
    cat.put_collection({"type": "Collection", "stac_version": "1.0.0", "id": "optical", "description": "fixture optical", "license": "other",
                        "extent": {"spatial": {"bbox": [[106, 20.5, 106.4, 20.6]]}, "temporal": {"interval": [[None, None]]}}, "links": []})
    cat.put_collection({"type": "Collection", "stac_version": "1.0.0", "id": "sar", "description": "fixture SAR", "license": "other",
                        "extent": {"spatial": {"bbox": [[106.5, 20.6, 106.9, 20.9]]}, "temporal": {"interval": [[None, None]]}}, "links": []})
    cat.put_items(ITEMS)
    app = create_app(settings, catalog=cat)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", request.param
    server.should_exit = True
    th.join(timeout=10)
    cat.close()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def base(stac_server):
    return stac_server[0]


def _search(base, **params):
    r = httpx.get(f"{base}/stac/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _post(base, body, status=200):
    r = httpx.post(f"{base}/stac/search", json=body)
    assert r.status_code == status, r.text
    return r.json()


def _ids(page):
    return [f["id"] for f in page["features"]]


# -- pystac-client: sortby, fields, filter ----------------------------------------------------------------------
def test_pystac_client_sortby_fields_and_cql2_filter(base):
    from pystac_client import Client

    client = Client.open(f"{base}/stac")
    assert client.conforms_to("SORT") and client.conforms_to("FIELDS") and client.conforms_to("FILTER") and client.conforms_to("QUERY")
    # CQL2 text: optical, cloud cover below 40, sorted by cloud cover descending then id
    want = sorted((i for i in ITEMS if i["collection"] == "optical" and _cc(i) is not None and _cc(i) < 40), key=lambda i: (-_cc(i), i["id"]))
    assert len(want) >= 6
    search = client.search(collections=["optical"], filter="eo:cloud_cover < 40", filter_lang="cql2-text",
                           sortby="-properties.eo:cloud_cover", limit=4)
    got = [i.id for i in search.items()]  # pystac-client follows the POST next links (3 pages of 4)
    assert got == [i["id"] for i in want]
    # CQL2 JSON, ascending by datetime, with fields: only id and the cloud cover come back
    f = {"op": "and", "args": [{"op": "=", "args": [{"property": "platform"}, "sentinel-2a"]},
                               {"op": ">=", "args": [{"property": "datetime"}, {"timestamp": "2025-03-01T00:00:00Z"}]}]}
    want = sorted((i for i in ITEMS if i["properties"]["platform"] == "sentinel-2a" and _when(i) >= dt.datetime(2025, 3, 1, tzinfo=UTC)),
                  key=_when)
    search = client.search(filter=f, sortby=[{"field": "properties.datetime", "direction": "asc"}],
                           fields={"include": ["id", "properties.eo:cloud_cover"], "exclude": []}, limit=50)
    dicts = list(search.items_as_dicts())
    assert [d["id"] for d in dicts] == [i["id"] for i in want] and len(want) >= 3
    for d, i in zip(dicts, want):
        assert set(d) == IDENTITY | {"properties"} and d["collection"] == "optical" and d["properties"] == ({"eo:cloud_cover": _cc(i)} if _cc(i) is not None else {})


@pytest.mark.parametrize("text, json_expr, pred", [
    ("platform = 'Sentinel-2A'", {"op": "=", "args": [{"property": "platform"}, "Sentinel-2A"]},
     lambda i: i["properties"]["platform"] == "Sentinel-2A"),
    ("platform LIKE 'sentinel-2%'", {"op": "like", "args": [{"property": "platform"}, "sentinel-2%"]},  # case-sensitive, as CQL2
     lambda i: i["properties"]["platform"].startswith("sentinel-2")),
    ("eo:cloud_cover BETWEEN 20 AND 60", {"op": "between", "args": [{"property": "eo:cloud_cover"}, 20, 60]},
     lambda i: _cc(i) is not None and 20 <= _cc(i) <= 60),
    ("eo:cloud_cover IS NULL AND collection = 'optical'",
     {"op": "and", "args": [{"op": "isNull", "args": [{"property": "eo:cloud_cover"}]}, {"op": "=", "args": [{"property": "collection"}, "optical"]}]},
     lambda i: i["collection"] == "optical" and _cc(i) is None),
    ("NOT (platform IN ('sentinel-2a', 'landsat-9')) AND collection <> 'sar'",
     {"op": "and", "args": [{"op": "not", "args": [{"op": "in", "args": [{"property": "platform"}, ["sentinel-2a", "landsat-9"]]}]},
                            {"op": "<>", "args": [{"property": "collection"}, "sar"]}]},
     lambda i: i["properties"]["platform"] not in ("sentinel-2a", "landsat-9") and i["collection"] != "sar"),
    ("hpgeo:simulated = true OR sat:relative_orbit > 21",
     {"op": "or", "args": [{"op": "=", "args": [{"property": "hpgeo:simulated"}, True]}, {"op": ">", "args": [{"property": "sat:relative_orbit"}, 21]}]},
     lambda i: i["properties"].get("hpgeo:simulated") is True or i["properties"].get("sat:relative_orbit", 0) > 21),
    ("datetime < TIMESTAMP('2025-02-15T00:00:00Z') OR end_datetime > TIMESTAMP('2025-05-01T00:00:00+07:00')",
     {"op": "or", "args": [{"op": "<", "args": [{"property": "datetime"}, {"timestamp": "2025-02-15T00:00:00Z"}]},
                           {"op": ">", "args": [{"property": "end_datetime"}, {"timestamp": "2025-05-01T00:00:00+07:00"}]}]},
     lambda i: _when(i) < dt.datetime(2025, 2, 15, tzinfo=UTC) or _when(i) > dt.datetime(2025, 4, 30, 17, tzinfo=UTC)),
])
def test_cql2_text_and_json_select_the_same_right_items(base, text, json_expr, pred):
    want = sorted(i["id"] for i in ITEMS if pred(i))
    assert want, "the case must select something"
    assert len(want) < len(ITEMS)
    got_text = _search(base, filter=text, limit=50)
    got_json_get = _search(base, filter=json.dumps(json_expr), **{"filter-lang": "cql2-json"}, limit=50)
    got_post = _post(base, {"filter": json_expr, "filter-lang": "cql2-json", "limit": 50})
    for page in (got_text, got_json_get, got_post):
        assert sorted(_ids(page)) == want
        assert page["numberMatched"] == len(want) == page["numberReturned"]


def test_query_extension(base):
    q = {"eo:cloud_cover": {"gte": 10, "lt": 70}, "platform": {"startsWith": "sentinel"}}
    want = sorted(i["id"] for i in ITEMS if _cc(i) is not None and 10 <= _cc(i) < 70 and i["properties"]["platform"].startswith("sentinel"))
    assert want
    assert sorted(_ids(_post(base, {"query": q, "limit": 50}))) == want
    assert sorted(_ids(_search(base, query=json.dumps(q), limit=50))) == want
    q2 = {"platform": {"in": ["landsat-9", "sentinel-1a"]}, "title": {"contains": "_"}}  # _ is a literal here, not a wildcard
    assert _ids(_post(base, {"query": q2})) == []
    r = httpx.post(f"{base}/stac/search", json={"query": {"eo:cloud_cover": {"near": 3}}})
    assert r.status_code == 400 and "near" in r.json()["description"]


def test_sorted_paging_next_and_prev_and_number_matched(base):
    want = sorted((i for i in ITEMS), key=lambda i: (i["properties"]["platform"], -_when(i).timestamp(), i["collection"], i["id"]))
    seen, pages = [], []
    url, params = f"{base}/stac/search", {"sortby": "platform,-datetime", "limit": 7}
    while url:
        page = httpx.get(url, params=params).json()
        params = None
        pages.append(page)
        assert page["numberMatched"] == len(ITEMS)
        seen += _ids(page)
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
    assert seen == [i["id"] for i in want] and len(pages) == 5
    prev = next(l["href"] for l in pages[2]["links"] if l["rel"] == "prev")
    assert _ids(httpx.get(prev).json()) == _ids(pages[1])
    assert not [l for l in pages[0]["links"] if l["rel"] == "prev"]
    # a token of one sorted search does not page another
    tok = next(l["href"] for l in pages[0]["links"] if l["rel"] == "next").split("token=")[1]
    r = httpx.get(f"{base}/stac/search", params={"sortby": "-platform", "limit": 7, "token": httpx.QueryParams(f"t={tok}")["t"]})
    assert r.status_code == 400 and "another search" in r.json()["description"]


def test_fields_include_exclude_rules(base):
    one = {"collections": ["sar"], "limit": 1}
    full = _post(base, one)["features"][0]
    assert set(_post(base, {**one, "fields": {}})["features"][0]) == {"type", "stac_version", "id", "geometry", "bbox", "links", "assets", "properties"}
    assert _post(base, {**one, "fields": {}})["features"][0]["properties"] == {"datetime": full["properties"]["datetime"]}
    ex = _post(base, {**one, "fields": {"exclude": ["geometry", "properties.platform"]}})["features"][0]
    assert "geometry" not in ex and "platform" not in ex["properties"] and ex["properties"]["sat:relative_orbit"] == full["properties"]["sat:relative_orbit"]
    both = _post(base, {**one, "fields": {"include": ["geometry"], "exclude": ["geometry"]}})["features"][0]
    assert both == {**{k: full[k] for k in IDENTITY}, "geometry": full["geometry"]}
    nested = _search(base, collections="sar", limit=1, fields="-properties,+properties.sat:orbit_state")["features"][0]
    assert nested == {**{k: full[k] for k in IDENTITY}, "properties": {"sat:orbit_state": full["properties"]["sat:orbit_state"]}}
    # the identity goes too when excluded by name
    bare = _post(base, {**one, "fields": {"include": ["properties.platform"], "exclude": ["type", "stac_version", "collection"]}})["features"][0]
    assert bare == {"id": full["id"], "properties": {"platform": "sentinel-1a"}}
    # the default set minus an exclusion, when include is given empty
    d = _post(base, {**one, "fields": {"include": [], "exclude": ["geometry"]}})["features"][0]
    assert set(d) == {"type", "stac_version", "id", "bbox", "links", "assets", "properties"}
    assert httpx.post(f"{base}/stac/search", json={"fields": None}).status_code == 400


# -- the spec's error answers ----------------------------------------------------------------------------------
def test_unsupported_operators_and_unknown_queryables_are_400_naming_them(base):
    r = httpx.get(f"{base}/stac/search", params={"filter": "S_INTERSECTS(geometry, POINT(106.7 20.7)) AND T_BEFORE(datetime, TIMESTAMP('2025-01-01T00:00:00Z'))"})
    assert r.status_code == 400
    d = r.json()["description"]
    assert "s_intersects" in d and "t_before" in d and "unsupported" in d
    r = httpx.get(f"{base}/stac/search", params={"filter": "\"eo:cloud_cover'; DROP TABLE items; --\" = 1"})
    assert r.status_code == 400 and "unknown queryable" in r.json()["description"]
    for bad in ["eo:cloud_cover >>> 3", "platform = 3", "eo:cloud_cover = 'x'", "datetime > 5"]:
        r = httpx.get(f"{base}/stac/search", params={"filter": bad})
        assert r.status_code == 400, bad
        assert set(r.json()) == {"code", "description"}
    r = httpx.post(f"{base}/stac/search", json={"sortby": [{"field": "properties.nope", "direction": "asc"}]})
    assert r.status_code == 400 and "nope" in r.json()["description"]


def test_string_literals_are_bound_parameters(base):
    evil = "x' OR '1'='1"
    assert _search(base, filter=f"platform = '{evil.replace(chr(39), chr(39) * 2)}'")["features"] == []
    assert _post(base, {"filter": {"op": "=", "args": [{"property": "id"}, "OPT-00' OR 1=1 --"]}})["features"] == []
    assert _search(base, limit=50)["numberMatched"] == len(ITEMS)  # the table is intact


def test_limit_is_capped_and_bad_values_are_400(base):
    page = _search(base, limit=100000)
    assert page["numberReturned"] == 30 and page["numberMatched"] == 30  # capped at HPGEO_MAX_SEARCH_LIMIT=50: all 30 in one page
    page = _search(base, limit=51, collections="optical,sar")
    assert page["numberReturned"] == 30
    for params in [{"limit": 0}, {"limit": -1}, {"limit": "ten"}, {"bbox": "1,2,3"}, {"nope": "1"}, {"filter-crs": "EPSG:4326"},
                   {"filter-lang": "cql1"}]:
        r = httpx.get(f"{base}/stac/search", params=params)
        assert r.status_code == 400, params
        assert r.json()["code"] and r.json()["description"]
    assert httpx.post(f"{base}/stac/search", json={"limit": "x"}).status_code == 400
    assert httpx.post(f"{base}/stac/search", json={"limitt": 3}).status_code == 400
    assert httpx.get(f"{base}/stac/collections/optical/items", params={"limit": "x"}).status_code == 400


# the validator's own lists (stac-api-validator 0.6.x) plus hpgeo's shorthands
VALID_DATETIMES = [
    "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-00:00", "1996-12-19T16:39:57+08:00", "../1985-04-12T23:20:50.52Z",
    "1985-04-12T23:20:50.52Z/..", "/1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z/", "1985-04-12t23:20:50.000z",
    "2020-07-23T00:00:00.012345678Z", "1937-01-01T12:00:27.87+01:00", "2025", "2025-03", "2025-01/2025-03",
]
INVALID_DATETIMES = [
    "/", "../..", "/..", "../", "/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z", "1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z/",
    "1985-04-12", "1937-01-01T12:00:27.87+0100", "37-01-01T12:00:27.87Z", "1985-12-12T23:20:50.52", "21985-12-12T23:20:50.52Z",
    "1985-13-12T23:20:50.52Z", "1985-12-32T23:20:50.52Z", "1985-12-01T25:20:50.52Z", "1985-12-01T00:60:50.52Z",
    "1985-12-01T00:06:61.52Z", "1985-04-12T23:20:50.Z", "1985-04-12T23:20:50,Z", "1990-12-31T23:59:61Z",
    "1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50,52Z", "2025-13",
]


def test_datetimes_are_strict_rfc3339_with_year_and_month_shorthands(base):
    for v in VALID_DATETIMES:
        assert httpx.get(f"{base}/stac/search", params={"datetime": v}).status_code == 200, v
        assert httpx.post(f"{base}/stac/search", json={"datetime": v}).status_code == 200, v
    for v in INVALID_DATETIMES:
        r = httpx.get(f"{base}/stac/search", params={"datetime": v})
        assert r.status_code == 400, v
        assert httpx.post(f"{base}/stac/search", json={"datetime": v}).status_code == 400, v
    # the shorthands cover the whole month: March 2025 holds the items of 1-31 March
    want = sorted(i["id"] for i in ITEMS if _when(i).year == 2025 and _when(i).month == 3)
    assert sorted(_ids(_search(base, datetime="2025-03", limit=50))) == want and want
    # an offset is honoured: 2025-03-01T10:00:00+07:00 is 03:00 UTC
    want = sorted(i["id"] for i in ITEMS if _when(i) <= dt.datetime(2025, 3, 1, 3, tzinfo=UTC))
    assert sorted(_ids(_search(base, datetime="../2025-03-01T10:00:00+07:00", limit=50))) == want


def test_links_on_every_page_item_and_collection(base):
    page = _search(base, collections="optical", limit=5)
    rels = {l["rel"]: l for l in page["links"]}
    assert {"self", "root", "parent", "next"} <= set(rels)
    assert httpx.get(rels["self"]["href"]).json()["features"] == page["features"]
    page = httpx.get(f"{base}/stac/collections/optical/items", params={"limit": 5}).json()
    rels = {l["rel"]: l["href"] for l in page["links"]}
    assert {"self", "root", "parent", "collection", "next"} <= set(rels) and rels["collection"].endswith("/stac/collections/optical")
    assert page["numberMatched"] == 24
    for f in page["features"]:
        assert {"self", "root", "parent", "collection"} <= {l["rel"] for l in f["links"]}
    col = httpx.get(f"{base}/stac/collections/optical").json()
    assert {"self", "root", "parent", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= {l["rel"] for l in col["links"]}
    cols = httpx.get(f"{base}/stac/collections").json()
    assert {"self", "root", "parent"} <= {l["rel"] for l in cols["links"]}


def test_service_desc_and_queryables_media_types(base):
    landing = httpx.get(f"{base}/stac").json()
    sd = next(l for l in landing["links"] if l["rel"] == "service-desc")
    r = httpx.get(sd["href"])
    assert r.status_code == 200 and r.headers["content-type"] == sd["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert r.json()["openapi"].startswith("3.") and "/stac/search" in r.json()["paths"]
    q = httpx.get(f"{base}/stac/queryables")
    assert q.headers["content-type"] == "application/schema+json" and q.json()["$id"] == f"{base}/stac/queryables"
    assert {"eo:cloud_cover", "datetime", "platform"} <= set(q.json()["properties"])
    sar = httpx.get(f"{base}/stac/collections/sar/queryables").json()
    assert "sat:orbit_state" in sar["properties"] and "eo:cloud_cover" not in sar["properties"]
    assert sar["$id"] == f"{base}/stac/collections/sar/queryables"
    assert httpx.get(f"{base}/stac/collections/nope/queryables").status_code == 404


def test_prev_links_in_the_default_order_get_and_post(base):
    want = [i["id"] for i in sorted(ITEMS, key=lambda i: (-_when(i).timestamp(), i["collection"], i["id"]))]  # newest first
    pages, url = [], f"{base}/stac/search?limit=7"
    while url:
        pages.append(httpx.get(url).json())
        url = next((l["href"] for l in pages[-1]["links"] if l["rel"] == "next"), None)
    assert sum((_ids(p) for p in pages), []) == want and len(pages) == 5
    assert not [l for l in pages[0]["links"] if l["rel"] == "prev"]
    for k in range(1, 5):
        prev = next(l["href"] for l in pages[k]["links"] if l["rel"] == "prev")
        assert _ids(httpx.get(prev).json()) == _ids(pages[k - 1]), k
    assert "token" not in next(l["href"] for l in pages[1]["links"] if l["rel"] == "prev")  # back to the first page
    # POST: the prev link's body pages back too
    p1 = _post(base, {"collections": ["optical"], "limit": 5})
    p2 = _post(base, next(l for l in p1["links"] if l["rel"] == "next")["body"])
    p3 = _post(base, next(l for l in p2["links"] if l["rel"] == "next")["body"])
    back = next(l for l in p3["links"] if l["rel"] == "prev")
    assert back["method"] == "POST" and _ids(_post(base, back["body"])) == _ids(p2)
    first = next(l for l in p2["links"] if l["rel"] == "prev")["body"]
    assert "token" not in first and _ids(_post(base, first)) == _ids(p1)

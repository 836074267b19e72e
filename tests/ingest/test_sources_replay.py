"""sentinelsat, pystac-client and hpgeo's OData client, unmodified, against replayed real hub responses;
the catalog ends with the scene records those responses describe."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import Point, Polygon, shape

from ingest.catalog import Catalog
from ingest.sources.dhus import DhusSource
from ingest.sources.errors import SourceUnavailable
from ingest.sources.odata import ODataSource
from ingest.sources.pipeline import run_ingest
from ingest.sources.records import RECORDS_COLLECTION
from ingest.sources.stac import StacSource
from tests.replay import ReplayServer, load_cassette, odata_first_page

pytestmark = pytest.mark.realdata
UTC = dt.timezone.utc
# the AOI of sentinelsat's own recorded tests (tests/map.geojson), vertex order as recorded
SENTINELSAT_MAP = Polygon([(-66.2695, -8.0592), (-66.2695, 0.7031), (-57.3047, 0.7031), (-57.3047, -8.0592)])


@pytest.fixture
def catalog(tmp_path):
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def _record(catalog, rid):
    return catalog.get_item(RECORDS_COLLECTION, rid)


def _cassettes(shared_file, *names):
    out = []
    for n in names:
        out += load_cassette(shared_file(f"catalog/{n}"))
    return out


def test_stac_earth_search_two_collections(shared_file, catalog, tmp_path):
    its = _cassettes(shared_file, "pystac_client/TestCLISearch.test_filterinprocess.yaml", "pystac_client/test_multiple_collections.yaml")
    with ReplayServer(its) as srv, StacSource(f"{srv.url}/v1") as src:
        report = run_ingest(src, Point(-105.1019, 40.1672), "2023-10-08", catalog=catalog, data_dir=tmp_path,
                            collections=["sentinel-2-l2a", "landsat-c2-l2"])
    assert srv.unmatched == []
    assert [m for m, *_ in srv.requests] == ["GET", "POST", "POST"]  # landing page, page 1, page 2 (empty)
    assert json.loads(srv.requests[2][2])["next"] == "2023-10-08T17:37:26.656958Z,LC08_L2SP_033032_20231008_02_T1,landsat-c2-l2"
    assert [r.id for r in report.records] == ["S2A_13TDE_20231008_0_L2A", "LC08_L2SP_033032_20231008_02_T1"]
    assert catalog.count_items(RECORDS_COLLECTION) == 2
    s2 = _record(catalog, "S2A_13TDE_20231008_0_L2A")
    assert s2["properties"]["datetime"] == "2023-10-08T18:02:55.276000Z"
    assert s2["properties"]["eo:cloud_cover"] == pytest.approx(0.0003)
    assert s2["properties"]["hpgeo:status"] == "listed"
    assert s2["properties"]["hpgeo:target_collection"] == "sentinel-2-l2a"
    assert shape(s2["geometry"]).contains(Point(-105.1019, 40.1672))
    ls = _record(catalog, "LC08_L2SP_033032_20231008_02_T1")
    assert ls["properties"]["eo:cloud_cover"] == 0.06 and ls["properties"]["platform"] == "landsat-8"
    assert ls["properties"]["datetime"] == "2023-10-08T17:37:26.656958Z"
    # the record's assets point at the hub, never at local files; a re-run changes nothing
    assert all(a["href"].startswith("http") for a in s2["assets"].values())
    with ReplayServer(its) as srv, StacSource(f"{srv.url}/v1") as src:
        again = run_ingest(src, Point(-105.1019, 40.1672), "2023-10-08", catalog=catalog, data_dir=tmp_path,
                           collections=["sentinel-2-l2a", "landsat-c2-l2"])
    assert len(again.records) == 2 and catalog.count_items(RECORDS_COLLECTION) == 2


def test_stac_cql2_cloud_filter_follows_pages(shared_file, catalog, tmp_path):
    its = _cassettes(shared_file, "pystac_client/TestCLISearch.test_filterinprocess.yaml")
    with ReplayServer(its) as srv, StacSource(f"{srv.url}/v1") as src:
        report = run_ingest(src, None, None, catalog=catalog, data_dir=tmp_path, max_cloud=40, limit=20)
    assert srv.unmatched == []
    assert json.loads(srv.requests[1][2]) == {"filter": {"op": "lte", "args": [{"property": "eo:cloud_cover"}, 40]}, "filter-lang": "cql2-json"}
    assert len([r for r in srv.requests if r[0] == "POST"]) == 2  # second page fetched through the rewritten next link
    ids = [r.id for r in report.records]
    # 20 items on two pages; five the server returned above 40 % are dropped by the client-side check
    assert len(ids) == 15
    assert "S2B_T24MUV_20250731T130245_L2A" not in ids and "S2B_24MUV_20250731_0_L1C" not in ids
    assert ids[0] == "S1A_IW_GRDH_1SSH_20250731T135702_20250731T135722_060328_077F7E"
    assert "S2B_T24MUA_20250731T130245_L2A" not in ids and ids[-1] == "S2B_24MXV_20250731_0_L1C"
    assert catalog.count_items(RECORDS_COLLECTION) == 15
    rec = _record(catalog, "S2B_24MVV_20250731_0_L1C")
    assert rec["properties"]["eo:cloud_cover"] == pytest.approx(24.2174, abs=1e-4)
    assert rec["properties"]["hpgeo:target_collection"] == "sentinel-2-l1c"
    s1 = _record(catalog, "S1A_IW_GRDH_1SSH_20250731T135702_20250731T135722_060328_077F7E")
    assert s1["properties"]["hpgeo:target_collection"] == "sentinel-1-grd" and "eo:cloud_cover" not in s1["properties"]


def test_planetary_computer_ids_search_and_pluggable_signer(shared_file, catalog, tmp_path):
    its = _cassettes(shared_file, "pystac_client/TestAPI.test_instance.yaml", "pystac_client/TestItemSearch.test_ids_results.yaml")
    ids = ["S2B_MSIL2A_20210610T115639_N0212_R066_T33XXG_20210613T185024.SAFE", "fl_m_2608004_nw_17_060_20191215_20200113"]
    signed: list[str] = []

    def signer(href: str) -> str:
        signed.append(href)
        return href + "?sig=test"

    with ReplayServer(its) as srv, StacSource(f"{srv.url}/api/stac/v1", signer=signer) as src:
        report = run_ingest(src, None, None, catalog=catalog, data_dir=tmp_path, collections=["naip"], ids=ids)
    assert srv.unmatched == []
    assert [r.id for r in report.records] == ["fl_m_2608004_nw_17_060_20191215_20200113"]
    rec = report.records[0]
    assert rec.datetime == dt.datetime(2019, 12, 15, tzinfo=UTC)
    assert "image" in rec.assets and rec.assets["image"]["href"].startswith("https://naipeuwest.blob.core.windows.net/")
    assert signed == []  # records and the catalog hold unsigned hrefs; signing happens at fetch time only
    item = _record(catalog, "fl_m_2608004_nw_17_060_20191215_20200113")
    assert "sig=" not in json.dumps(item)
    assert src.signer(rec.assets["image"]["href"]).endswith("?sig=test")


def test_dhus_sentinelsat_s2_cloud_cover_query(shared_file, catalog, tmp_path):
    its = _cassettes(shared_file, "sentinelsat_scihub/test_s2_cloudcover.yaml")
    with ReplayServer(its) as srv, DhusSource(f"{srv.url}/apihub/", user="user", password="pw") as src:
        report = run_ingest(src, SENTINELSAT_MAP, "2018-12-12T00:00:00Z/2018-12-28T00:00:00Z", catalog=catalog,
                            data_dir=tmp_path, platform="Sentinel-2", max_cloud=10)
    assert srv.unmatched == []
    q = parse_qs(urlsplit(srv.requests[0][1]).query)["q"][0]
    assert 'cloudcoverpercentage:["0" TO "10"]' in q and 'platformname:"Sentinel-2"' in q
    assert len(report.records) == 5 and catalog.count_items(RECORDS_COLLECTION) == 5
    rec = _record(catalog, "S2B_MSIL1C_20181219T142029_N0207_R010_T20MPS_20181219T160056")
    assert rec["properties"]["eo:cloud_cover"] == pytest.approx(3.6476)
    assert rec["properties"]["datetime"] == "2018-12-19T14:20:29.024000Z"
    assert rec["properties"]["platform"] == "sentinel-2b"
    assert rec["properties"]["hpgeo:target_collection"] == "sentinel-2-l1c"
    assert all(c <= 10 for c in (r.cloud_cover for r in report.records))
    l2a = _record(catalog, "S2A_MSIL2A_20181217T142741_N0211_R053_T20MRV_20181217T164546")
    assert l2a["properties"]["eo:cloud_cover"] == 0.0 and l2a["properties"]["hpgeo:target_collection"] == "sentinel-2-l2a"


def test_dhus_sentinelsat_s1_footprints_match_the_recording(shared_file, catalog, tmp_path):
    its = _cassettes(shared_file, "sentinelsat_scihub/test_footprints_s1.yaml")
    expected = json.loads(shared_file("catalog/sentinelsat_scihub/expected_search_footprints_s1.geojson").read_text())
    with ReplayServer(its) as srv, DhusSource(f"{srv.url}/apihub/", user="user", password="pw") as src:
        report = run_ingest(src, SENTINELSAT_MAP, "2014-10-10T00:00:00Z/2014-12-31T00:00:00Z", catalog=catalog,
                            data_dir=tmp_path, product_type="GRD")
    assert srv.unmatched == []
    assert len(report.records) == 19 and catalog.count_items(RECORDS_COLLECTION) == 19
    for f in expected["features"]:
        rec = _record(catalog, f["properties"]["identifier"])
        assert shape(rec["geometry"]).equals_exact(shape(f["geometry"]), 1e-6)
        assert dt.datetime.fromisoformat(rec["properties"]["datetime"]) == dt.datetime.fromisoformat(f["properties"]["date_beginposition"])
        assert rec["properties"]["hpgeo:remote_id"] == f["properties"]["product_id"]
        assert rec["properties"]["hpgeo:target_collection"] == "sentinel-1-grd"


def test_dhus_product_odata_gives_size_and_md5(shared_file):
    its = _cassettes(shared_file, "sentinelsat_scihub/test_get_product_odata_full.yaml")
    with ReplayServer(its) as srv, DhusSource(f"{srv.url}/apihub/", user="user", password="pw") as src:
        info = src.describe("11af8bd9-24d0-4401-9789-b7b73786e122")
    assert info["md5"] == "098645497fa5ab932ed2df98426e5b58"
    assert info["title"].startswith("S3A_OL_2_LFR____20160922T014239")


def test_odata_cdse_search_records_and_paging(shared_file, catalog, tmp_path):
    page = odata_first_page(shared_file("catalog/eodag/cop_dataspace_search.json"))
    area = Polygon([(137.7729, 13.1342), (137.7729, 23.886), (153.7491, 23.886), (153.7491, 13.1342)])
    with ReplayServer([page]) as srv, ODataSource(srv.url, page_size=2) as src:
        report = run_ingest(src, area, "2020-08-08T00:00:00Z/2020-08-16T00:00:00Z", catalog=catalog, data_dir=tmp_path,
                            collection="SENTINEL-2", product_type="S2MSI1C", limit=2)
        assert srv.unmatched == []
        with pytest.raises(SourceUnavailable, match="404"):  # no limit: follows @odata.nextLink, which was not recorded
            list(src.search(area, "2020-08-08T00:00:00Z/2020-08-16T00:00:00Z", collection="SENTINEL-2", product_type="S2MSI1C"))
    nxt = parse_qs(urlsplit(srv.requests[-1][1]).query)
    assert nxt["$skip"] == ["2"] and nxt["$top"] == ["2"]  # the rewritten next link kept paging on 127.0.0.1
    assert [r.id for r in report.records] == [
        "S2A_MSIL1C_20200808T010311_N0500_R045_T54PXA_20230413T212505",
        "S2A_MSIL1C_20200808T010311_N0500_R045_T55PBR_20230413T212505",
    ]
    a = report.records[0]
    assert (a.size, str(a.checksum)) == (224105657, "md5:923ac4992d90b57d41e7ace4d9d90757")
    assert a.download_url == f"{srv.url}/odata/v1/Products(05edf2bb-d103-49f1-a677-9e474138d84f)/$value"
    rec = _record(catalog, "S2A_MSIL1C_20200808T010311_N0500_R045_T55PBR_20230413T212505")
    assert rec["properties"]["eo:cloud_cover"] == pytest.approx(95.3695, abs=1e-4)
    assert rec["properties"]["datetime"] == "2020-08-08T01:03:11.024000Z"
    assert rec["properties"]["platform"] == "sentinel-2a"
    assert rec["assets"]["source"]["hpgeo:checksum"] == "md5:9d22f81af1320e17fa38449195a73772"
    assert rec["assets"]["source"]["file:size"] == 172342246
    assert rec["assets"]["thumbnail"]["href"].endswith("Assets(05eec53f-5f8a-4db6-a13d-c8945dda5a14)/$value")

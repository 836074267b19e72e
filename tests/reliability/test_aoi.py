"""AOI import refuses bad geometry (exit 2, the feature named, nothing stored); /aois serves outlines
simplified for display; the viewer page does not grow with the AOIs (they are fetched, not inlined)."""

from __future__ import annotations

import json
import re
import time
import warnings

import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Polygon

from api.main import create_app
from base.settings import Settings, override_settings
from geo.aoi import AOI
from hpgeo.cli import main
from ingest.catalog import Catalog

SQUARE = [[106.6, 20.7], [106.7, 20.7], [106.7, 20.8], [106.6, 20.8], [106.6, 20.7]]
BOWTIE = [[106.6, 20.7], [106.7, 20.8], [106.7, 20.7], [106.6, 20.8], [106.6, 20.7]]  # edges cross at (106.65, 20.75)


@pytest.fixture()
def env(tmp_path):
    s = Settings(data_dir=tmp_path / "data")
    with override_settings(s):
        yield s


def _write(path, *features: tuple[str, list]) -> str:
    """A GeoJSON FeatureCollection of polygons given as (name, exterior ring); the text is written as is (NaN allowed)."""
    feats = [
        '{"type":"Feature","properties":{"name":"%s"},"geometry":{"type":"Polygon","coordinates":[%s]}}'
        % (name, "[" + ",".join(f"[{x},{y}]" for x, y in ring) + "]" if ring else "")
        for name, ring in features
    ]
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}")
    return str(path)


def _err(capsys) -> str:
    """stderr without any whitespace (rich wraps long lines at the console width)."""
    return re.sub(r"\s+", "", capsys.readouterr().err)


def _has(err: str, *parts: str) -> bool:
    return all(re.sub(r"\s+", "", p) in err for p in parts)


def _listing(capsys) -> list:
    capsys.readouterr()
    assert main(["aoi", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])["features"]


def _ring(n: int, r: float = 0.1, jitter: float = 0.0) -> list:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = r + np.random.default_rng(0).uniform(-jitter, jitter, n)
    xy = np.c_[106.7 + rr * np.cos(t), 20.8 + rr * np.sin(t)].round(7).tolist()
    return xy + [xy[0]]


def test_valid_file_imports(env, tmp_path, capsys):
    f = _write(tmp_path / "two.geojson", ("Xã Một", SQUARE), ("Xã Hai", [[x + 0.2, y] for x, y in SQUARE]))
    assert main(["aoi", "import", f, "--kind", "commune"]) == 0
    aois = Catalog.from_settings(env).aois(include_builtin=False)
    assert [(a.id, a.kind) for a in aois] == [("xa-hai", "commune"), ("xa-mot", "commune")]
    # 0.1° × 0.1° at 20.75° N: 11.07 km × 10.41 km... ≈ 115.8 km² in UTM 48N
    assert aois[1].area_km2() == pytest.approx(115.8, abs=1.0)


@pytest.mark.parametrize(
    "ring,expected",
    [
        (BOWTIE, "not a valid polygon (Self-intersection[106.65 20.75])"),
        ([[106.6, 20.7], [106.7, "NaN"], [106.7, 20.8], [106.6, 20.7]], "non-finite coordinate (106.7, nan)"),
        ([[106.6, 20.7], [106.7, 20.7], [106.7, 95], [106.6, 20.7]], "out of range: lon 106.7, lat 95"),
        ([[206.6, 20.7], [206.7, 20.7], [206.7, 20.8], [206.6, 20.7]], "out of range: lon 206.6, lat 20.7"),
        (None, "has no geometry (empty)"),
    ],
    ids=["bowtie", "nan", "lat95", "lon206", "empty"],
)
def test_bad_geometry_exits_2_names_the_feature_and_changes_nothing(env, tmp_path, capsys, ring, expected):
    ok = _write(tmp_path / "ok.geojson", ("Giữ lại", SQUARE))
    assert main(["aoi", "import", ok]) == 0
    before = _listing(capsys)
    # the good feature first: the bad second one must undo the whole file, and not replace 'giu-lai'
    bad = _write(tmp_path / "bad.geojson", ("Giữ lại", [[x + 0.3, y] for x, y in SQUARE]), ("Xấu", ring))
    assert main(["aoi", "import", bad]) == 2
    assert _has(_err(capsys), "error:", "bad.geojson: feature 2 ('Xấu')", expected)
    assert _listing(capsys) == before


def test_repair_is_explicit(env, tmp_path, capsys):
    f = _write(tmp_path / "bow.geojson", ("Nơ", BOWTIE))
    assert main(["aoi", "import", f, "--repair"]) == 0
    assert _has(_err(capsys), "warning:", "feature 1 ('Nơ') was invalid (Self-intersection")
    (a,) = Catalog.from_settings(env).aois(include_builtin=False)
    assert a.geometry.is_valid and a.geometry.geom_type == "MultiPolygon" and len(a.geometry.geoms) == 2


def test_vertex_and_size_limits(env, tmp_path, capsys):
    big = _write(tmp_path / "big.geojson", ("Dày", _ring(200_001)))
    assert main(["aoi", "import", big]) == 2
    assert _has(_err(capsys), "feature 1 ('Dày') has 200,002 vertices, more than the limit of 200,000: simplify it")
    assert main(["aoi", "import", big, "--max-vertices", "100"]) == 2
    small = _write(tmp_path / "small.geojson", ("Nhỏ", SQUARE))
    size = (tmp_path / "small.geojson").stat().st_size
    assert main(["aoi", "import", small, "--max-mb", str(size / 2**20 / 2)]) == 2
    assert _has(_err(capsys), "small.geojson", "larger than the limit")
    assert Catalog.from_settings(env).aois(include_builtin=False) == []
    assert main(["aoi", "import", big, "--max-vertices", "200002"]) == 0
    assert main(["aoi", "import", small, "--max-mb", str(size / 2**20 * 2)]) == 0
    assert [a.id for a in Catalog.from_settings(env).aois(include_builtin=False)] == ["day", "nho"]


def test_catalog_delete_aoi(env):
    cat = Catalog.from_settings(env)
    cat.put_aois([AOI(id="x1", name_vi="X", name_en="X", geometry=Polygon(SQUARE))])
    from base.errors import InvalidRequest, NotFound

    with pytest.raises(InvalidRequest, match="built-in"):
        cat.delete_aoi("cat-ba")
    cat.delete_aoi("x1")
    with pytest.raises(NotFound, match="no imported AOI 'x1'"):
        cat.delete_aoi("x1")
    assert cat.aoi_index(include_builtin=False) == []


def test_viewer_stays_small_with_a_million_vertex_aoi(env):
    cat = Catalog.from_settings(env)
    ring = _ring(1_000_000, r=0.15, jitter=0.0002)  # ±22 m noise, like an over-digitised coastline
    cat.put_aois([AOI(id="big", name_vi="Vùng lớn", name_en="Big area", kind="admin", geometry=Polygon(ring))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(env, cat))
    t0 = time.perf_counter()
    page = client.get("/viewer")
    elapsed = time.perf_counter() - t0
    assert page.status_code == 200 and len(page.content) < 200_000 and elapsed < 2.0
    html = page.text
    # both layers are filled client-side from the API: the URLs and the Leaflet code that adds them
    assert "/aois?source=builtin&simplify=20" in html and "/aois?source=imported&simplify=20" in html
    cfg = json.loads(re.search(r'<script type="application/json" id="hp-config">(.*?)</script>', html, re.S).group(1))
    assert [v["key"] for v in cfg["vector"]] == ["aois", "units"]  # the outline layers viewer.js fetches and draws
    js = client.get("/viewer/static/app/viewer.js").text
    assert "getJSON(spec.url)" in js and "L.geoJSON(fc" in js
    assert all(name in html for name in ("Đơn vị hành chính (ranh giới đã nhập)", "Vùng quan tâm"))
    assert "coordinates" not in html  # no GeoJSON inlined

    r = client.get("/aois", params={"source": "imported", "simplify": 20})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    (f,) = r.json()["features"]
    assert f["id"] == "big" and f["properties"]["display"]["vertices_exact"] == 1_000_001
    assert f["properties"]["display"]["vertices"] < 30_000 and len(r.content) < 1_000_000
    assert f["properties"]["area_km2"] == pytest.approx(np.pi * (0.15 * 111.32) ** 2 * np.cos(np.radians(20.8)), rel=0.02)
    t0 = time.perf_counter()
    again = client.get("/aois/big", params={"simplify": 20})
    assert again.json()["geometry"] == f["geometry"] and time.perf_counter() - t0 < 1.0  # cached

    builtin = client.get("/aois", params={"source": "builtin", "on": "2025-07-01"}).json()
    assert "haiphong-2025" in [x["id"] for x in builtin["features"]] and "haiphong-pre2025" not in [x["id"] for x in builtin["features"]]
    assert client.get("/aois/nowhere").status_code == 404
    assert "no AOI 'nowhere'" in client.get("/aois/nowhere").json()["description"]
    assert client.get("/aois", params={"simplify": -1}).status_code == 422
    assert client.get("/aois", params={"on": "soon"}).status_code == 422

    cat.delete_aoi("big")  # a deletion is seen at once (the cache is keyed by version)
    assert client.get("/aois/big", params={"simplify": 20}).status_code == 404
    assert "/aois?source=imported" not in client.get("/viewer").text


def test_geometry_from_geojson_equals_shape():
    from shapely.geometry import MultiPolygon, box, mapping, shape

    from geo.aoi import geometry_from_geojson

    holed = box(0, 0, 3, 3).difference(box(1, 1, 2, 2))
    for geom in (box(106, 20, 107, 21), holed, MultiPolygon([box(5, 5, 6, 6), holed])):
        got = geometry_from_geojson(mapping(geom))
        assert got.geom_type == geom.geom_type and got.equals_exact(shape(mapping(geom)), 0)
    assert geometry_from_geojson({"type": "Polygon", "coordinates": []}).is_empty

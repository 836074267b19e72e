"""Issue #14 (security): the land-cover ``training`` parameter is a server-side path. It must resolve inside the
data directory and name a GeoJSON / GeoPackage / Shapefile; anything else (``..``, an absolute path elsewhere, a
symbolic link out, a GDAL virtual path, a URL, a file of another format) is refused with HTTP 400 / exit code 2
before anything is read or built. A legitimate training file inside the data directory still trains."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from base.errors import InvalidRequest
from ingest.catalog import SearchQuery

HOSTILE = [
    "/etc/passwd",
    "../../../../etc/passwd",
    "/vsicurl/https://example.com/train.geojson",
    "/vsizip//tmp/x.zip/train.shp",
    "https://example.com/train.geojson",
    "file:///etc/passwd",
]


def _write_vrt_as_geojson(path):
    # an OGR VRT pointing at /etc/passwd, dressed up as GeoJSON
    path.write_text('<OGRVRTDataSource><OGRVRTLayer name="p"><SrcDataSource>/etc/passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    return path


@pytest.mark.parametrize("value", HOSTILE)
def test_training_file_refuses_paths_out_of_the_data_dir(tmp_path, value):
    from products.landcover import training_file

    with pytest.raises(InvalidRequest):
        training_file(value, tmp_path)


def test_training_file_refuses_links_out_and_other_formats(tmp_path):
    from products.landcover import training_file

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.geojson"
    secret.write_text('{"type": "FeatureCollection", "features": []}')
    root = tmp_path / "data"
    root.mkdir()
    (root / "link.geojson").symlink_to(secret)
    with pytest.raises(InvalidRequest, match="outside the data directory"):
        training_file("link.geojson", root)
    with pytest.raises(InvalidRequest, match="outside the data directory"):
        training_file(str(secret), root)
    _write_vrt_as_geojson(root / "vrt.geojson")
    with pytest.raises(InvalidRequest, match="not a GeoJSON file"):
        training_file("vrt.geojson", root)
    (root / "t.vrt").write_text("<OGRVRTDataSource/>")
    with pytest.raises(InvalidRequest, match="not a vector format accepted"):
        training_file("t.vrt", root)
    (root / "fake.gpkg").write_text("not sqlite")
    with pytest.raises(InvalidRequest, match="not a GPKG file"):
        training_file("fake.gpkg", root)
    (root / "dir.geojson").mkdir()
    with pytest.raises(InvalidRequest, match="does not exist"):
        training_file("dir.geojson", root)
    with pytest.raises(InvalidRequest, match="does not exist"):
        training_file("missing.geojson", root)
    # inside, by relative or absolute path: accepted, resolved
    (root / "t").mkdir()
    good = root / "t" / "ok.geojson"
    good.write_text('{"type": "FeatureCollection", "features": []}')
    assert training_file("t/ok.geojson", root) == good.resolve()
    assert training_file(str(good), root) == good.resolve()


def test_training_inside_the_data_dir_trains_through_the_build_hooks(tmp_path):
    """extra_provenance / extra_inputs (what the build engine calls with the data directory) confine and read the
    file; the random forest then maps the three synthetic classes of the scene exactly."""
    from products.landcover import LandCover
    from tests.products.test_landcover_labels import _polygons, _scene, _truth

    (tmp_path / "training").mkdir()
    path = _polygons(tmp_path / "training" / "nhan.geojson", ["nước", "lúa", "đất trống", "lúa"])
    alg = LandCover()
    p = alg.parse_params({"training": "training/nhan.geojson", "class_field": "nhan"})
    prov = alg.extra_provenance(p, tmp_path)
    import hashlib

    assert prov == {"training_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    extra = alg.extra_inputs(p, tmp_path)
    assert len(extra["training"]["polygons"]) == 4
    out = alg.run({"scene": _scene(), **extra}, p)["landcover"]
    assert np.array_equal(np.asarray(out), _truth())
    assert out.attrs["hpgeo:diagnostics"]["training_classes"] == [1, 3, 4]
    # the same name in another data directory is not there: refused, never read from elsewhere
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(InvalidRequest, match="does not exist"):
        alg.extra_inputs(p, other)


@pytest.fixture(scope="module")
def coordinator(demo_settings):
    from registry import Registry

    reg = Registry.from_settings(demo_settings, seed_if_empty=True)
    return {"X-API-Key": reg.create_key("SKHCN", coordinator=True, label="training path test")[1]}


def _s2(catalog):
    return next(catalog.search(SearchQuery.build(collections=["sentinel-2-l2a"], limit=1)))


def _land_cover_ids(catalog):
    return {it["id"] for it in catalog.search(SearchQuery.build(collections=["land-cover"]))}


def test_api_refuses_hostile_training_paths(live_server, demo_catalog, demo_settings, coordinator):
    s2 = _s2(demo_catalog)
    vrt = _write_vrt_as_geojson(demo_settings.resolved_data_dir / "hostile-training-vrt.geojson")
    try:
        before = _land_cover_ids(demo_catalog)
        for value in HOSTILE + ["hostile-training-vrt.geojson"]:
            r = httpx.post(f"{live_server}/products/build/landcover", headers=coordinator, timeout=60,
                           json={"inputs": {"scene": f"sentinel-2-l2a/{s2['id']}"}, "parameters": {"training": value}})
            assert r.status_code == 400, (value, r.text)
            assert "training" in r.json()["description"] or "data directory" in r.json()["description"], r.text
        assert _land_cover_ids(demo_catalog) == before  # nothing built, no item
    finally:
        vrt.unlink()


@pytest.mark.parametrize("value", ["/etc/passwd", "../../etc/passwd", "/vsicurl/http://127.0.0.1/x.geojson", "http://127.0.0.1/x.geojson"])
def test_cli_refuses_hostile_training_paths_with_exit_2(demo_settings, demo_catalog, capsys, value):
    from base.settings import override_settings
    from hpgeo.cli import main

    s2 = _s2(demo_catalog)
    before = _land_cover_ids(demo_catalog)
    with override_settings(demo_settings):
        code = main(["products", "build", "landcover", "--items", f"scene=sentinel-2-l2a/{s2['id']}", "--param", f"training={value}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "training" in err or "data directory" in err
    assert _land_cover_ids(demo_catalog) == before

"""``hpgeo products``: list, build (by items and by AOI + period), stats; bad input exits 2."""

from __future__ import annotations

import json
import sqlite3

import pytest

from hpgeo.cli import main
from base.settings import Settings, override_settings


@pytest.fixture(scope="module")
def private_env(demo_settings, tmp_path_factory):
    """A catalog of its own (a copy of the demo's) over hard links to the demo's files: tests may import units and build.

    Hard links, not symbolic links: asset hrefs must resolve inside the data directory. Writers replace files
    (temporary name, then rename), so a build here never changes the demo's files."""
    import os
    import shutil

    src = demo_settings.resolved_data_dir
    dst = tmp_path_factory.mktemp("products-cli")
    with sqlite3.connect(src / "catalog.db") as a, sqlite3.connect(dst / "catalog.db") as b:
        a.backup(b)
    for sub in ("ard", "raw", "products", "tides"):
        if (src / sub).exists():
            shutil.copytree(src / sub, dst / sub, copy_function=os.link)
    s = Settings(data_dir=dst)
    with override_settings(s):
        yield s


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_json(private_env, capsys):
    code, out, _ = _run(capsys, "products", "list", "--json")
    assert code == 0
    algs = {a["name"]: a for a in json.loads(out)}
    assert {"flood-sar", "landcover", "landcover-change", "mangrove"} <= set(algs)
    assert algs["landcover"]["outputs"][0]["classes"]["1"] == "water"
    assert algs["mangrove"]["parameters"]["properties"]["mvi_min"]["default"] == 4.5


@pytest.mark.parametrize(
    "argv",
    [
        ("products", "build", "no-such-product", "--items", "a/b"),
        ("products", "build", "mangrove", "--items", "sentinel-2-l2a"),
        ("products", "build", "mangrove", "--items", "x=sentinel-2-l2a/a"),
        ("products", "build", "mangrove", "--items", "sentinel-2-l2a/nope"),
        ("products", "build", "mangrove", "--items", "sentinel-1-grd/a"),
        ("products", "build", "mangrove", "--aoi", "do-son"),
        ("products", "build", "mangrove", "--aoi", "nowhere", "--datetime", "2025-09-01/2025-09-30"),
        ("products", "build", "mangrove", "--aoi", "do-son", "--datetime", "not-a-date"),
        ("products", "build", "mangrove", "--aoi", "do-son", "--datetime", "2001-01-01/2001-02-01"),
        ("products", "build", "mangrove", "--items", "sentinel-2-l2a/a", "--param", "mvi_min=-3"),
        ("products", "build", "mangrove", "--items", "sentinel-2-l2a/a", "--param", "novalue"),
        ("products", "stats", "flood-extent/nope", "--units", "aoi"),
        ("products", "stats", "flood-extent", "--units", "aoi"),
        ("products", "stats", "flood-extent/x", "--units", "bogus"),
    ],
)
def test_bad_input_exits_2(private_env, capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == 2, err
    assert "error" in err


def test_build_by_aoi_and_period_selects_post_and_before(private_env, capsys):
    code, out, err = _run(capsys, "products", "build", "mangrove", "--aoi", "tien-lang-kien-thuy", "--datetime", "2025-09-01/2025-09-30")
    assert code == 0, err
    assert "scene: sentinel-2-l2a/SIM-S2B-MSIL2A-20250917T033631-T48QXH" in out
    assert "before: sentinel-2-l2a/SIM-S2B-MSIL2A-20250902T033629-T48QXH" in out
    assert "mangrove-extent/mangrove-20250917T033631-" in out


def test_build_change_and_stats_over_imported_units(private_env, capsys, tmp_path):
    from ingest.catalog import Catalog, SearchQuery
    from products.stats_models import timeseries

    cat = Catalog.from_settings(private_env)
    lc = next(cat.search(SearchQuery.build(collections=["land-cover"], limit=1)))
    # change of a map against itself: everything "no change"
    code, out, err = _run(capsys, "products", "build", "landcover-change", "--items", f"after=land-cover/{lc['id']}", "--items", f"before=land-cover/{lc['id']}", "--param", "")
    assert code == 2  # an empty --param is refused
    code, out, err = _run(capsys, "products", "build", "landcover-change", "--items", f"after=land-cover/{lc['id']}", "--items", f"before=land-cover/{lc['id']}")
    assert code == 0, err
    chg = next(
        it
        for it in cat.search(SearchQuery.build(collections=["land-cover-change"]))
        if {v["id"] for v in it["properties"]["hpgeo:provenance"]["inputs"].values()} == {lc["id"]}
    )
    stats = chg["properties"]["hpgeo:statistics"]["change"]
    valid = sum(v["pixels"] for v in lc["properties"]["hpgeo:statistics"]["landcover"].values())
    assert stats["no change"]["pixels"] == valid
    assert all(v["pixels"] == 0 for k, v in stats.items() if k != "no change")

    # import a 2 × 2 tiling of the flood product as units, then statistics per imported unit
    fl = next(cat.search(SearchQuery.build(collections=["flood-extent"], limit=1)))
    w, s, e, n = fl["bbox"]
    mx, my = (w + e) / 2, (s + n) / 2
    feats = [
        {"type": "Feature", "properties": {"id": f"q{i}{j}", "name_vi": f"Ô {i}{j}"},
         "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}
        for i, (x0, x1) in enumerate(((w - 0.01, mx), (mx, e + 0.01))) for j, (y0, y1) in enumerate(((s - 0.01, my), (my, n + 0.01)))
    ]
    f = tmp_path / "units.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    assert _run(capsys, "aoi", "import", str(f), "--kind", "test-tile")[0] == 0
    code, out, err = _run(capsys, "products", "stats", f"flood-extent/{fl['id']}", "--units", "imported", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["unit_id"] for r in rows} == {"q00", "q01", "q10", "q11"}
    for name, t in fl["properties"]["hpgeo:statistics"]["flood"].items():
        got = sum(r["hectares"] for r in rows if r["class_name"] == name)
        assert abs(got - t["hectares"]) / t["hectares"] <= 0.005
    ts = timeseries(cat, "q00", "flood-extent")
    assert len(ts) == 3 and {r["class_name"] for r in ts} == set(fl["properties"]["hpgeo:statistics"]["flood"])


@pytest.mark.parametrize(
    "param, message",
    [
        ("filter_size=4", "flood-sar: filter_size: Value error, the Lee filter window must be odd (3, 5, 7, …), got 4"),
        ("speckle=lee", "flood-sar: speckle: Extra inputs are not permitted"),
        ("terrain={\"max_slope_deg\": 0}", "flood-sar: terrain.max_slope_deg: Input should be greater than 0"),
    ],
)
def test_bad_parameters_exit_2_with_the_reason(private_env, capsys, param, message):
    from ingest.catalog import Catalog, SearchQuery

    fl = next(Catalog.from_settings(private_env).search(SearchQuery.build(collections=["flood-extent"], limit=1)))
    post = fl["properties"]["hpgeo:provenance"]["inputs"]["post"]
    code, _, err = _run(capsys, "products", "build", "flood-sar", "--items", f"post={post['collection']}/{post['id']}", "--param", param)
    assert code == 2
    assert message in " ".join(err.split())  # rich may wrap the line


def test_rebuild_from_provenance_via_cli(private_env, capsys):
    from ingest.catalog import Catalog, SearchQuery

    cat = Catalog.from_settings(private_env)
    lc = next(cat.search(SearchQuery.build(collections=["land-cover-change"], limit=1)))
    code, out, err = _run(capsys, "products", "rebuild", f"land-cover-change/{lc['id']}")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == f"land-cover-change/{lc['id']}"
    again = cat.get_item("land-cover-change", lc["id"])
    assert again["properties"]["hpgeo:statistics"] == lc["properties"]["hpgeo:statistics"]
    assert again["properties"]["processing:datetime"] != lc["properties"]["processing:datetime"]  # written again
    assert _run(capsys, "products", "rebuild", "land-cover-change")[0] == 2
    code, _, err = _run(capsys, "products", "rebuild", "land-cover-change/nope")
    assert code == 2 and "nope" in err
    lc_in = lc["properties"]["hpgeo:provenance"]["inputs"]["after"]
    code, _, err = _run(capsys, "products", "rebuild", f"land-cover/{lc_in['id']}")  # a product item: fine; its scene is not
    assert code == 0, err
    scene = cat.get_item("land-cover", lc_in["id"])["properties"]["hpgeo:provenance"]["inputs"]["scene"]
    code, _, err = _run(capsys, "products", "rebuild", f"{scene['collection']}/{scene['id']}")
    assert code == 2 and "is not a product item" in " ".join(err.split())

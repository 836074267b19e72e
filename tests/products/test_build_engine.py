"""The one build engine: parameters validated by each algorithm's model, declared registration, the grid rule."""

from __future__ import annotations

import pytest
import rasterio
from pydantic import BaseModel

from benchmarks.memory import write_scene
from geo.errors import GridMismatch
from ingest.catalog import Catalog
from ingest.items import resolve_href
from products.build import build_product, inputs_of, rebuild
from products.errors import InvalidInputs, InvalidParameters
from products.registry import BUILTIN_MODULES, Algorithm, InputSpec, ProductParams, get, names, register


@pytest.mark.parametrize("name", names())
def test_every_product_refuses_unknown_parameters(name):
    alg = get(name)
    with pytest.raises(InvalidParameters, match=rf"{name}: no_such_key: Extra inputs are not permitted"):
        alg.parse_params({"no_such_key": 1})
    assert alg.Params.model_json_schema()["additionalProperties"] is False
    alg.parse_params({})  # the defaults are valid


@pytest.mark.parametrize("name", ["flood-sar", "flood-ensemble"])
def test_lee_window_is_odd_and_in_range(name):
    alg = get(name)
    assert alg.parse_params({"filter_size": 7}).filter_size == 7
    with pytest.raises(InvalidParameters, match="filter_size: Value error, the Lee filter window must be odd .* got 4"):
        alg.parse_params({"filter_size": 4})
    with pytest.raises(InvalidParameters, match="filter_size: Input should be less than or equal to 15"):
        alg.parse_params({"filter_size": 17})


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("mangrove", {"mvi_min": 20.0}, "mvi_min .20.0. must be below mvi_max .16.5."),
        ("shoreline", {"tide_window_m": [1.0, -1.0]}, "tide_window_m: Value error, tide_window_m must be \\[low, high\\]"),
        ("shoreline", {"cloud_buffer_m": 1e6}, "cloud_buffer_m: Input should be less than or equal to 5000"),
        ("flood-sar", {"terrain": {"max_slope": 3}}, "terrain.max_slope: Extra inputs are not permitted"),
        ("flood-sar", {"threshold_db": 99}, "threshold_db: Input should be less than or equal to 10"),
        ("flood-ensemble", {"polarization": "hh"}, "polarization: Input should be 'vv' or 'vh'"),
        ("burn-severity", {"nir_band": "B04"}, "nir_band: Input should be 'auto', 'B08' or 'B8A'"),
        ("oil-candidates", {"window_m": 1e9}, "window_m: Input should be less than or equal to 50000"),
        ("turbidity", {"max_fnu": -1}, "max_fnu: Input should be greater than 0"),
        ("landcover", {"class_field": ""}, "class_field: String should have at least 1 character"),
    ],
)
def test_parameter_ranges(name, params, message):
    with pytest.raises(InvalidParameters, match=message):
        get(name).parse_params(params)


def test_parameters_must_be_a_mapping():
    with pytest.raises(InvalidParameters, match="parameters must be an object"):
        get("flood-sar").parse_params([("filter_size", 5)])  # type: ignore[arg-type]


def test_products_register_from_the_declared_modules():
    assert {type(get(n)).__module__ for n in names()} == set(BUILTIN_MODULES)
    assert len(names()) == 10


def test_registration_checks_the_declarations():
    class Loose(BaseModel):
        x: int = 1

    base = dict(version="0", title="t", title_vi="t", description="d", collection="c", outputs=(), run=lambda self, i, p: {})
    with pytest.raises(TypeError, match="refusing unknown keys"):
        register(type("A", (Algorithm,), {**base, "name": "test-loose", "inputs": (), "Params": Loose}))
    second = (InputSpec("a", ("x",), ("b",)), InputSpec("s", ("x",), ("b",), series=True))
    with pytest.raises(TypeError, match="series input, and it comes first"):
        register(type("B", (Algorithm,), {**base, "name": "test-series", "inputs": second, "Params": ProductParams}))
    with pytest.raises(TypeError, match="must not look like series members"):
        register(type("C", (Algorithm,), {**base, "name": "test-t00", "inputs": (InputSpec("t00", ("x",), ("b",)),), "Params": ProductParams}))
    assert not {"test-loose", "test-series", "test-t00"} & set(names())


@pytest.fixture(scope="module")
def two_grids(tmp_path_factory):
    """Synthetic Sentinel-2 scenes (10 m bands, 20 m B8A/B11/B12/SCL): post and pre at 128 px, pre also at 96 px."""
    d = tmp_path_factory.mktemp("grids")
    ids = {"post": write_scene(d, "s2-post", 128), "pre": write_scene(d, "s2-pre", 128), "pre96": write_scene(d, "s2-pre", 96)}
    cat = Catalog.open(f"sqlite:///{d / 'catalog.db'}")
    yield cat, d, ids
    cat.close()


def test_bands_of_one_item_at_20m_are_read_onto_its_10m_grid(two_grids):
    cat, d, ids = two_grids
    item = build_product("mangrove", {"scene": ids["post"], "before": ids["pre"]}, {}, catalog=cat, data_dir=d)
    prov = item["properties"]["hpgeo:provenance"]
    assert prov["resampled_inputs"] == ["scene/B11", "before/B11"] and prov["resample"] is False
    with rasterio.open(resolve_href(item["assets"]["mangrove"]["href"], d)) as ds:
        assert (ds.width, ds.height, ds.res) == (128, 128, (10.0, 10.0))


def test_items_on_different_grids_need_resample(two_grids):
    cat, d, ids = two_grids
    inputs = {"scene": ids["post"], "before": ids["pre96"]}
    with pytest.raises(GridMismatch, match=r"mangrove: before/B03 \(BENCH-S2-PRE-96\) is on Grid\(96x96 @ 10.*not on the grid of scene/B03 .*resample=True"):
        build_product("mangrove", inputs, {}, catalog=cat, data_dir=d)
    item = build_product("mangrove", inputs, {}, catalog=cat, data_dir=d, resample=True)
    prov = item["properties"]["hpgeo:provenance"]
    assert prov["resample"] is True
    assert prov["resampled_inputs"] == ["scene/B11", "before/B03", "before/B04", "before/B08", "before/B11"]
    with rasterio.open(resolve_href(item["assets"]["mangrove"]["href"], d)) as ds:
        assert (ds.width, ds.height) == (128, 128)
    # the flag is not part of the id (the same inputs and parameters), and rebuild warps again
    again = rebuild(item, catalog=cat, data_dir=d)
    assert again["id"] == item["id"] and again["properties"]["hpgeo:provenance"]["resampled_inputs"] == prov["resampled_inputs"]
    assert rebuild(item, catalog=cat, data_dir=d, force=False) is None  # current


def test_inputs_of_a_series_item_and_bad_inputs(two_grids):
    cat, d, ids = two_grids
    item = {"id": "x", "collection": "shoreline", "properties": {"hpgeo:provenance": {"algorithm": "shoreline", "inputs": {
        "t01": {"collection": "sentinel-2-l2a", "id": "b"}, "t00": {"collection": "sentinel-2-l2a", "id": "a"}}}}}
    assert inputs_of(item) == {"scenes": [("sentinel-2-l2a", "a"), ("sentinel-2-l2a", "b")]}
    with pytest.raises(InvalidInputs, match="is not a product item"):
        inputs_of({"id": "x", "collection": "c", "properties": {}})
    with pytest.raises(InvalidInputs, match="input 'scene' takes \\(collection, item id\\)"):
        build_product("mangrove", {"scene": "sentinel-2-l2a/x"}, {}, catalog=cat, data_dir=d)
    with pytest.raises(InvalidInputs, match="'scenes' is a dated series: give 2 or more distinct items \\(got 1\\)"):
        build_product("shoreline", {"scenes": [ids["post"], ids["post"]]}, {}, catalog=cat, data_dir=d)

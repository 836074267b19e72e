"""Band roles for series inputs (issue 14): a dated series of generic 4-band rasters (VNREDSat-1 order: blue, green,
red, NIR) with roles feeds the shoreline product's series input, each member bound by its own roles; without roles
the build refuses and names the missing ones."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from tests.ingest.test_local_band_roles import env  # noqa: F401  (a fixture: settings and catalog in tmp_path)

N = 64


def _write(path, year: int, seed: int):
    rng = np.random.default_rng(seed)
    data = rng.integers(100, 4000, (4, N, N)).astype("uint16")
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=4, dtype="uint16", crs="EPSG:32648",
                       transform=from_origin(670000, 2290000, 10, 10), nodata=0) as ds:
        ds.write(data)
        ds.update_tags(TIFFTAG_DATETIME=f"{year}:06:01 03:30:00")
    return data


def _ingest(s, cat, path, roles):
    from ingest.sources.local import LocalSource
    from ingest.sources.pipeline import run_ingest

    rep = run_ingest(LocalSource([path], band_roles=roles), None, None, catalog=cat, data_dir=s.resolved_data_dir, download=True)
    assert rep.ok, rep.errors
    return cat.get_item("local-imagery", path.stem)


def test_a_series_of_generic_items_binds_by_role_member_by_member(env):
    from products.build import prepare
    from products.inputs import load_inputs

    s, cat, tmp = env
    truth = {}
    refs = []
    for k, year in enumerate((2019, 2017, 2021)):  # out of date order on purpose
        path = tmp / f"vnredsat_{year}.tif"
        truth[year] = _write(path, year, k)
        it = _ingest(s, cat, path, "blue,green,red,nir")
        refs.append(("local-imagery", it["id"]))
    prep = prepare("shoreline", {"scenes": refs}, {"index": "ndwi"}, catalog=cat, data_dir=s.resolved_data_dir)
    members = prep.items["scenes"]
    assert [m["id"] for m in members] == ["vnredsat_2017", "vnredsat_2019", "vnredsat_2021"]  # date order
    loaded, grid, resampled = load_inputs(prep.alg, prep.items, s.resolved_data_dir, params=prep.params)
    sc = loaded["scenes"]
    assert set(sc) == {"B03", "B08"} and resampled == []  # green and NIR under the names the algorithm reads
    for i, year in enumerate((2017, 2019, 2021)):
        # reflectance as ingested: the raw counts (no scale in these files), float32
        np.testing.assert_array_equal(sc["B03"].isel(time=i).values, truth[year][1].astype("float32"))
        np.testing.assert_array_equal(sc["B08"].isel(time=i).values, truth[year][3].astype("float32"))
    # MNDWI (the default) needs SWIR1, which a 4-band file has not: refused, naming it
    from products.errors import InvalidInputs

    with pytest.raises(InvalidInputs, match=r"lacks swir16"):
        prepare("shoreline", {"scenes": refs}, {}, catalog=cat, data_dir=s.resolved_data_dir)


def test_a_series_member_without_roles_is_refused_naming_them(env):
    from products.build import prepare
    from products.errors import InvalidInputs

    s, cat, tmp = env
    a = _ingest(s, cat, tmp / "a.tif", "blue,green,red,nir") if _write(tmp / "a.tif", 2018, 1) is not None else None
    b = _ingest(s, cat, tmp / "b.tif", None) if _write(tmp / "b.tif", 2020, 2) is not None else None
    with pytest.raises(InvalidInputs, match=r"local-imagery/b lacks green, nir"):
        prepare("shoreline", {"scenes": [("local-imagery", a["id"]), ("local-imagery", b["id"])]}, {"index": "ndwi"},
                catalog=cat, data_dir=s.resolved_data_dir)

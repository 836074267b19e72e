"""Categorical local rasters stay categorical (issue 14): a −1/0/1 label raster ingested with `hpgeo ingest file`
came out resampled bilinearly as float32 (36,876 distinct values). A class map (``--categorical``, or an integer
raster with a colour table) keeps its integer dtype and codes through the reprojection and the overviews, and its
colour table goes into the item as ``classification:classes``; a continuous raster still ingests as float values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from tests.ingest.test_local_band_roles import env  # noqa: F401  (a fixture: settings and catalog in tmp_path)

N = 700  # geographic pixels of 1e-4°: reprojected to EPSG:32648 the COG is > 512 px, so it has an overview


def labels(values: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Blocks of 7×7 pixels with random codes: every block edge is a class boundary a bilinear resampling would blur."""
    rng = np.random.default_rng(seed)
    blocks = rng.choice(np.array(values), size=(N // 7, N // 7))
    return np.kron(blocks, np.ones((7, 7), dtype=blocks.dtype))


def write(path: Path, data: np.ndarray, dtype: str, colormap: dict | None = None, nodata: float | None = None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=1, dtype=dtype, crs="EPSG:4326",
                       transform=from_origin(106.6, 20.9, 1e-4, 1e-4), nodata=nodata) as ds:
        ds.write(data.astype(dtype), 1)
        ds.update_tags(TIFFTAG_DATETIME="2025:09:12 03:30:00")
        if colormap:
            ds.write_colormap(1, colormap)
    return path


def _ingest(s, cat, path, categorical=None):
    from ingest.catalog import SearchQuery
    from ingest.sources.local import LocalSource
    from ingest.sources.pipeline import run_ingest

    rep = run_ingest(LocalSource([path], categorical=categorical), None, None, catalog=cat, data_dir=s.resolved_data_dir, download=True)
    assert rep.ok, rep.errors
    return next(cat.search(SearchQuery.build(collections=["local-imagery"], ids=[path.stem], limit=1)))


def _cog(s, item):
    from ingest.items import resolve_href

    (asset,) = item["assets"].values()
    return asset, Path(resolve_href(asset["href"], s.resolved_data_dir))


def _decoded(path: Path):
    """(dtype, nodata, valid values at full resolution, valid values of the first overview, overview count)."""
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32648  # it was reprojected, so resampling happened
        full = ds.read(1)
        ovr = ds.overviews(1)
        h, w = ds.height // ovr[0], ds.width // ovr[0]
        first = ds.read(1, out_shape=(h, w))  # GDAL serves this from the first overview
        nd = ds.nodata
        return ds.dtypes[0], nd, set(np.unique(full[full != nd]).tolist()), set(np.unique(first[first != nd]).tolist()), len(ovr)


@pytest.mark.parametrize("src_nodata", [None, -9999])
def test_label_raster_with_flag_keeps_its_codes_and_dtype(env, src_nodata):
    s, cat, tmp = env
    src = labels((-1, 0, 1))
    if src_nodata is not None:
        src[:70, :70] = src_nodata  # a corner without data: masked, never a class
    item = _ingest(s, cat, write(tmp / "labels.tif", src, "int16", nodata=src_nodata), categorical=True)
    asset, path = _cog(s, item)
    dtype, nodata, full, first, n_ovr = _decoded(path)
    assert np.dtype(dtype).kind == "i" and dtype == "int16"
    # the source's nodata, else the dtype's extreme (not a class code)
    assert nodata == (src_nodata if src_nodata is not None else np.iinfo(np.int16).min)
    assert n_ovr >= 1
    assert full == {-1, 0, 1} and first == {-1, 0, 1}
    assert asset["hpgeo:categorical"] is True and asset["raster:bands"][0]["data_type"] == "int16"
    assert "classification:classes" not in asset  # no colour table, no invented classes


def test_label_raster_without_flag_is_values(env):
    """Without --categorical and without a colour table an integer raster is values: bilinear, float32 (as before)."""
    s, cat, tmp = env
    item = _ingest(s, cat, write(tmp / "labels.tif", labels((-1, 0, 1)), "int16"))
    asset, path = _cog(s, item)
    dtype, _, full, _, _ = _decoded(path)
    assert dtype == "float32" and "hpgeo:categorical" not in asset
    assert len(full) > 3  # interpolated between codes: why a label raster needs the flag


def test_colour_table_makes_a_class_map_and_is_kept(env):
    s, cat, tmp = env
    cmap = {0: (0, 0, 255, 255), 1: (0, 160, 0, 255), 2: (230, 20, 10, 255)}
    item = _ingest(s, cat, write(tmp / "landcover.tif", labels((0, 1, 2), seed=1), "uint8", colormap=cmap))
    asset, path = _cog(s, item)
    dtype, nodata, full, first, _ = _decoded(path)
    assert dtype == "uint8" and nodata == 255
    assert full == {0, 1, 2} and first == {0, 1, 2}
    assert asset["classification:classes"] == [
        {"value": 0, "name": "class-0", "color_hint": "0000ff"},
        {"value": 1, "name": "class-1", "color_hint": "00a000"},
        {"value": 2, "name": "class-2", "color_hint": "e6140a"},
    ]
    assert any("/classification/" in e for e in item["stac_extensions"])


def test_continuous_float_raster_ingests_as_before(env):
    """A smooth float field is resampled bilinearly: values between the source's, float32, not marked categorical."""
    s, cat, tmp = env
    yy, xx = np.mgrid[0:N, 0:N]
    field = (np.sin(xx / 40.0) + np.cos(yy / 55.0)).astype("float32")
    item = _ingest(s, cat, write(tmp / "field.tif", field, "float32"))
    asset, path = _cog(s, item)
    with rasterio.open(path) as ds:
        out = ds.read(1, masked=True)
        assert ds.dtypes[0] == "float32"
    src_values = set(np.unique(field).tolist())
    inner = out.compressed()
    assert "hpgeo:categorical" not in asset and "classification:classes" not in asset
    assert inner.min() >= field.min() - 1e-6 and inner.max() <= field.max() + 1e-6
    assert sum(v not in src_values for v in np.unique(inner)[:500].tolist()) > 400  # interpolated, not picked


def test_categorical_flag_on_a_float_raster_is_refused(env):
    from ingest.readers.errors import ReaderError
    from ingest.sources.local import LocalSource
    from ingest.sources.pipeline import run_ingest

    s, cat, tmp = env
    p = write(tmp / "field.tif", np.zeros((N, N)), "float32")
    rep = run_ingest(LocalSource([p], categorical=True), None, None, catalog=cat, data_dir=s.resolved_data_dir, download=True)
    assert not rep.ok and isinstance(rep.errors[0], ReaderError) and "integer" in str(rep.errors[0])
    assert rep.refused == ["field"]  # a refusal of the input (exit code 2), not an unavailable upstream
    assert not (s.resolved_data_dir / "ard" / "local-imagery" / "field").exists()

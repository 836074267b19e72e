"""The reader registry: declared order, read-only, which reader takes which listed path and which fetched files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile

import numpy as np
import pytest
import rasterio
from affine import Affine

from ingest.readers import registry
from ingest.readers.product import ProductMeta
from ingest.sources.base import FetchedScene, SceneRecord
from ingest.sources.errors import UnsupportedFile
from ingest.sources.local import read_scene, record_for
from test_sources_local_optical import L8_ID, make_landsat, make_s2_safe

WHEN = dt.datetime(2025, 1, 1, 3, 25, tzinfo=dt.timezone.utc)


def _tif(path, value: float = 7.0, crs: str | None = "EPSG:32648"):
    kw = {"crs": crs, "transform": Affine(10, 0, 650000, 0, -10, 2330000)} if crs else {}
    with rasterio.open(path, "w", driver="GTiff", width=8, height=6, count=1, dtype="float32", **kw) as ds:
        ds.write(np.full((1, 6, 8), value, dtype="float32"))
    return path


def _record(collection: str | None, source: str = "stac", **kw) -> SceneRecord:
    from shapely.geometry import box

    return SceneRecord(id="X", title="X", source=source, platform="p", product_type=kw.pop("product_type", None), datetime=WHEN,
                       footprint=box(106, 20, 107, 21), collection=collection, **kw)


def test_order_is_declared_and_read_only() -> None:
    assert [r.name for r in registry.READERS] == ["sentinel-1-safe", "sentinel-2-safe", "landsat-c2-l2", "geotiff"]
    assert isinstance(registry.READERS, tuple)
    with pytest.raises(AttributeError):
        registry.READERS.append(registry.READERS[0])  # type: ignore[attr-defined]
    assert registry.reader_named("geotiff") is registry.READERS[3]
    with pytest.raises(KeyError, match="readers: sentinel-1-safe"):
        registry.reader_named("envi")


def test_listed_paths_go_to_their_reader(tmp_path) -> None:
    s2 = make_s2_safe(tmp_path / "s2")
    landsat = make_landsat(tmp_path / "l8")
    tif = _tif(tmp_path / "vnredsat.tif")
    assert registry.describing_reader(s2).name == "sentinel-2-safe"  # has a manifest.safe too: S1 does not take it
    assert registry.describing_reader(landsat).name == "landsat-c2-l2"
    assert registry.describing_reader(tif).name == "geotiff"
    meta = registry.describing_reader(landsat).describe(landsat)
    assert isinstance(meta, ProductMeta) and meta.id == L8_ID and meta.collection == "landsat-c2-l2"
    assert registry.key_file(s2).name == "manifest.safe" and registry.key_file(landsat).name == f"{L8_ID}_MTL.txt"
    assert registry.is_product_dir(s2) and not registry.is_product_dir(tmp_path)


def test_what_no_reader_takes_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnsupportedFile, match="directory without manifest.safe"):
        record_for(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UnsupportedFile, match="not a GeoTIFF/COG/JPEG2000 file"):
        record_for(tmp_path / "notes.txt")
    with zipfile.ZipFile(tmp_path / "docs.zip", "w") as z:
        z.writestr("readme.txt", "x")
    with pytest.raises(UnsupportedFile, match="neither a SAFE product"):
        record_for(tmp_path / "docs.zip")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnsupportedFile, match="broken.zip is not a readable archive"):
        record_for(tmp_path / "broken.zip")
    with pytest.raises(UnsupportedFile, match="has no CRS.*rectify"):
        record_for(_tif(tmp_path / "scan.tif", crs=None))


def test_fetched_files_go_to_their_reader(tmp_path) -> None:
    cogs = (_tif(tmp_path / "B04.tif", 1.0), _tif(tmp_path / "B08.tif", 2.0))
    stac_s2 = FetchedScene(_record("sentinel-2-l2a", assets={"B04": {}, "B08": {}}), cogs, tmp_path, "sha256:0")
    assert registry.reading_reader(stac_s2).name == "geotiff"  # band COGs of a S2 record: not a SAFE
    scene = read_scene(stac_s2)
    assert sorted(scene.bands) == ["B04", "B08"] and float(scene.bands["B08"].mean()) == 2.0
    safe = make_s2_safe(tmp_path / "s2")
    assert registry.reading_reader(FetchedScene(_record("sentinel-2-l2a"), (safe,), tmp_path, "")).name == "sentinel-2-safe"
    # a SAFE listed as Sentinel-1 goes to the S1 reader; one of an unknown kind is refused, not read as loose rasters
    assert registry.reading_reader(FetchedScene(_record("sentinel-1-grd"), (safe,), tmp_path, "")).name == "sentinel-1-safe"
    with pytest.raises(UnsupportedFile, match="no reader for S3OLCI SAFE products"):
        registry.reading_reader(FetchedScene(_record("sentinel-3", product_type="S3OLCI"), (safe,), tmp_path, ""))
    # a Sentinel-2 record whose SAFE lost its MTD
    (safe / "MTD_MSIL2A.xml").unlink()
    with pytest.raises(UnsupportedFile, match="no MTD_MSIL1C.xml/MTD_MSIL2A.xml found"):
        read_scene(FetchedScene(_record("sentinel-2-l2a", product_type="S2MSI2A"), (safe,), tmp_path, ""))
    # a local Landsat record without its MTL
    local = dataclasses.replace(_record("landsat-c2-l2", source="local"))
    with pytest.raises(UnsupportedFile, match="no \\*_MTL.txt"):
        read_scene(FetchedScene(local, cogs, tmp_path, ""))
    with pytest.raises(UnsupportedFile, match="no GeoTIFF/COG/JPEG2000 file"):
        read_scene(FetchedScene(_record(None), (tmp_path / "s2" / "nothing",), tmp_path, ""))

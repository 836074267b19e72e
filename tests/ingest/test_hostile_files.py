"""Hostile local files through ``hpgeo ingest file``: VRTs named .tif (loose, in a zip, with /vsicurl), archives that
escape, link, repeat or explode, and rasters that are truncated, mislabelled, non-georeferenced, zero-sized, empty,
complex or 200,000² sparse. Each is refused with exit code 2 and a message, and leaves no catalog item and no file
anywhere under the test folder; a scan VRT is refused by ``hpgeo ingest rectify`` the same way."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.transform import from_origin

from base.paths import UnsafePath
from base.settings import Settings, override_settings
from hpgeo.cli import main
from ingest.catalog import Catalog, SearchQuery
from ingest.readers import archive
from ingest.sources.errors import UnsupportedFile
from tests.reliability.test_ingest_attacks import PASSWD_VRT, HostileStac

WEIRD_CRS = ('PROJCS["weird",GEOGCS["x",DATUM["d",SPHEROID["s",6378137,0]],PRIMEM["G",0],UNIT["degree",0.0174532925199433]],'
             'PROJECTION["Foo_Bar_Unknown"],UNIT["metre",1]]')


def tif(path: Path, *, crs: str | None = "EPSG:32648", transform: Affine = from_origin(600000, 2300000, 10, 10),
        dtype: str = "uint8", shape: tuple[int, int] = (64, 64), **kw) -> Path:
    data = (np.arange(shape[0] * shape[1]).reshape(shape) % 200).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype=dtype, crs=crs,
                       transform=transform, **kw) as ds:
        ds.write(data, 1)
    return path


@pytest.fixture()
def env(tmp_path):
    s = Settings(data_dir=tmp_path / "data")
    with override_settings(s):
        Catalog.from_settings(s).close()
        yield s


def snapshot(root: Path, s: Settings) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    cat = Catalog.from_settings(s)
    items = sorted((i["collection"], i["id"]) for i in cat.search(SearchQuery.build()))
    cols = sorted(c["id"] for c in cat.list_collections())
    cat.close()
    infra = ("catalog.db", ".hpgeo-writers.lock")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.name.startswith(infra)), items, cols


def refused(tmp_path: Path, env: Settings, capsys, *argv: str) -> str:
    """Run ``hpgeo ingest …`` expecting exit code 2 and no change at all; return the message (unwrapped)."""
    capsys.readouterr()
    before = snapshot(tmp_path, env)
    code = main(["ingest", *argv])
    out = capsys.readouterr()
    msg = " ".join(out.err.split())
    assert code == 2, msg
    assert "Traceback" not in out.err and msg.startswith("error:")
    assert snapshot(tmp_path, env) == before
    return msg


def vrt(path: Path, src: str = "/etc/passwd") -> Path:
    path.write_text(PASSWD_VRT.format(src=src))
    return path


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


# --- 3. VRTs ------------------------------------------------------------------------------------------------------
def test_vrt_named_tif_is_refused(tmp_path, env, capsys):
    (tmp_path / "in").mkdir()
    evil = vrt(tmp_path / "in" / "scene.tif")
    assert os.path.getsize(evil) < 600
    with rasterio.open(evil) as ds:  # plain GDAL serves /etc/passwd as pixels
        assert bytes(ds.read(1)[0, :4]) == Path("/etc/passwd").read_bytes()[:4]
    assert "not a readable raster in an accepted format" in refused(tmp_path, env, capsys, "file", str(evil))


def test_vrt_as_zip_member_is_refused(tmp_path, env, capsys):
    z = zip_of(tmp_path / "scene.zip", {"scene/B04.tif": PASSWD_VRT.format(src="/etc/passwd").encode()})
    assert "not a readable raster in an accepted format" in refused(tmp_path, env, capsys, "file", str(z))


def test_vsicurl_vrt_makes_no_request(tmp_path, env, capsys):
    with HostileStac() as victim:
        evil = vrt(tmp_path / "scene.tif", f"/vsicurl/{victim.url}/secret.tif")
        refused(tmp_path, env, capsys, "file", str(evil))
        z = zip_of(tmp_path / "curl.zip", {"B04.tif": evil.read_bytes()})
        refused(tmp_path, env, capsys, "file", str(z))
    assert victim.log == []


def test_scan_vrt_is_refused_by_rectify(tmp_path, env, capsys):
    scan = vrt(tmp_path / "scan.png")
    gcps = tmp_path / "gcps.csv"
    gcps.write_text("id,col,row,x,y\na,0,0,600000,2300000\nb,60,0,600600,2300000\nc,0,15,600000,2299850\nd,60,15,600600,2299850\n")
    out = tmp_path / "out.tif"
    msg = refused(tmp_path, env, capsys, "rectify", str(scan), "--gcps", str(gcps), "--out", str(out))
    assert "not a readable raster in an accepted format (GTiff, COG, JP2OpenJPEG, PNG, JPEG)" in msg


# --- 4. archives --------------------------------------------------------------------------------------------------
def _tar(path: Path, add) -> Path:
    with tarfile.open(path, "w") as t:
        add(t)
    return path


def _tar_member(t: tarfile.TarFile, name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("case", ["zip-dotdot", "zip-absolute", "zip-duplicate", "zip-symlink", "tar-dotdot",
                                  "tar-absolute", "tar-symlink", "tar-hardlink", "tar-device"])
def test_escaping_linking_and_duplicate_members_are_refused(tmp_path, env, capsys, case):
    good = tif(tmp_path / "good.tif").read_bytes()
    (tmp_path / "good.tif").unlink()
    p = tmp_path / ("evil.zip" if case.startswith("zip") else "evil.tar")
    if case == "zip-dotdot":
        zip_of(p, {"a/B04.tif": good, "../../escaped.tif": good})
    elif case == "zip-absolute":
        zip_of(p, {"a/B04.tif": good, str(tmp_path / "abs.tif"): good})
    elif case == "zip-duplicate":
        with zipfile.ZipFile(p, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("B04.tif", good)
            z.writestr("B04.tif", b"other")
    elif case == "zip-symlink":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("B04.tif", good)
            info = zipfile.ZipInfo("link.tif")
            info.external_attr = (0o120777 << 16)
            z.writestr(info, "/etc/passwd")
    elif case == "tar-dotdot":
        _tar(p, lambda t: (_tar_member(t, "B04.tif", good), _tar_member(t, "../escaped.tif", good)))
    elif case == "tar-absolute":
        _tar(p, lambda t: (_tar_member(t, "B04.tif", good), _tar_member(t, str(tmp_path / "abs.tif"), good)))
    elif case == "tar-symlink":
        _tar(p, lambda t: (_tar_member(t, "etc", kind=tarfile.SYMTYPE, link="/etc"), _tar_member(t, "B04.tif", good)))
    elif case == "tar-hardlink":
        _tar(p, lambda t: (_tar_member(t, "B04.tif", good), _tar_member(t, "B08.tif", kind=tarfile.LNKTYPE, link="/etc/passwd")))
    else:
        _tar(p, lambda t: (_tar_member(t, "B04.tif", good), _tar_member(t, "null", kind=tarfile.CHRTYPE)))
    msg = refused(tmp_path, env, capsys, "file", str(p))
    expect = {"dotdot": "outside the target folder", "absolute": "outside the target folder", "duplicate": "appears twice",
              "symlink": "is a symlink", "hardlink": "is a hard link", "device": "is a special file"}[case.split("-")[1]]
    assert expect in msg
    assert not (tmp_path.parent / "escaped.tif").exists() and not (tmp_path / "abs.tif").exists()


def test_zip_bomb_is_refused_before_extracting(tmp_path, env, capsys, monkeypatch):
    # the real limits (1 GiB and 20× the archive) scaled down 1024 times, so the bomb is small enough to build here
    monkeypatch.setattr(archive, "BOMB_BYTES", 1 << 20)
    z = zip_of(tmp_path / "bomb.zip", {"B04.tif": tif(tmp_path / "g.tif").read_bytes(), "zeros.tif": bytes(3 << 20)})
    (tmp_path / "g.tif").unlink()
    assert os.path.getsize(z) < 60_000
    assert "bytes uncompressed" in refused(tmp_path, env, capsys, "file", str(z))
    archive._members.cache_clear()


def test_bomb_and_member_count_limits_on_declared_sizes():
    archive.check_members("ok.zip", [("a.tif", "file", 900 << 20)], 100 << 20)
    with pytest.raises(UnsupportedFile, match="bytes uncompressed"):  # > 1 GiB and > 20× the archive
        archive.check_members("bomb.zip", [("a.tif", "file", 2 << 30)], 50 << 20)
    archive.check_members("big.zip", [("a.tif", "file", 2 << 30)], 1 << 30)  # 2×: a large but honest archive
    with pytest.raises(UnsupportedFile, match="bytes uncompressed"):
        archive.check_members("huge.zip", [("a.tif", "file", 65 << 30)], 60 << 30)
    with pytest.raises(UnsupportedFile, match="members, over the limit"):
        archive.check_members("many.zip", [(f"f{i}", "file", 1) for i in range(archive.MAX_MEMBERS + 1)], 1 << 20)


def test_product_metadata_cannot_name_files_outside_the_product(tmp_path):
    from ingest.readers.product import product_file

    for href in ("../../etc/passwd", "/etc/passwd", "a/../../b", "/vsicurl/http://x/a.tif", "http://x/a.tif", "a\\..\\b", ""):
        with pytest.raises(UnsafePath):
            product_file(tmp_path, href)
    assert product_file(tmp_path, "./measurement/s1a-iw-grd-vv.tiff") == tmp_path / "measurement" / "s1a-iw-grd-vv.tiff"


# --- 5. rasters that cannot be ingested -------------------------------------------------------------------------------
@pytest.mark.parametrize("case,message", [
    ("truncated", "cannot be read"),
    ("geographic-metres", "geographic CRS but bounds"),
    ("unreprojectable", "not on the Earth"),
    ("not-georeferenced", "has no CRS"),
    ("zero-pixel-size", "zero or non-finite pixel size"),
    ("zero-bytes", "is empty (0 bytes)"),
    ("complex64", "complex-valued bands (complex64) are not accepted"),
])
def test_unusable_rasters_exit_2_and_leave_nothing(tmp_path, env, capsys, case, message):
    (tmp_path / "in").mkdir()
    p = tmp_path / "in" / f"{case}.tif"
    if case == "truncated":
        full = tif(tmp_path / "full.tif", shape=(512, 512), tiled=True).read_bytes()
        (tmp_path / "full.tif").unlink()
        p.write_bytes(full[: len(full) // 2])
    elif case == "geographic-metres":
        tif(p, crs="EPSG:4326")  # a UTM transform labelled WGS 84
    elif case == "unreprojectable":
        tif(p, crs=WEIRD_CRS)
    elif case == "not-georeferenced":
        tif(p, crs=None, transform=Affine.identity())
    elif case == "zero-pixel-size":
        tif(p, transform=Affine(0, 0, 600000, 0, 0, 2300000))
    elif case == "zero-bytes":
        p.write_bytes(b"")
    else:
        tif(p, dtype="complex64")
    assert message in refused(tmp_path, env, capsys, "file", str(p))


def test_huge_sparse_tiff_is_refused_by_the_pixel_limit_before_any_read(tmp_path, env, capsys):
    p = tmp_path / "huge.tif"
    with rasterio.open(p, "w", driver="GTiff", width=200_000, height=200_000, count=1, dtype="uint8", crs="EPSG:32648",
                       transform=from_origin(600000, 2300000, 10, 10), tiled=True, SPARSE_OK=True):
        pass
    assert os.path.getsize(p) < 50 << 20
    t0 = time.monotonic()
    assert "over the limit of 2,000,000,000 per band" in refused(tmp_path, env, capsys, "file", str(p))
    assert time.monotonic() - t0 < 30


def test_band_description_cannot_name_a_path(tmp_path, env):
    p = tif(tmp_path / "desc.tif")
    with rasterio.open(p, "r+") as ds:
        ds.set_band_description(1, "../../../evil")
    assert main(["ingest", "file", str(p)]) == 0
    cat = Catalog.from_settings(env)
    it = cat.get_item("local-imagery", "desc")
    assert list(it["assets"]) == ["evil"] and it["assets"]["evil"]["href"] == "ard/local-imagery/desc/evil.tif"
    assert [q.relative_to(tmp_path) for q in tmp_path.rglob("*evil*")] == [Path("data/ard/local-imagery/desc/evil.tif")]


def test_a_file_name_with_spaces_gets_a_safe_id(tmp_path, env):
    p = tif(tmp_path / "my scene (1).tif")
    assert main(["ingest", "file", str(p)]) == 0
    assert Catalog.from_settings(env).has_item("local-imagery", "my_scene__1_")

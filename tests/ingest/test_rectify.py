"""Rectification of scanned images: a synthetic scan with a known (polynomial) georeference."""

from __future__ import annotations


import numpy as np
import pytest
import rasterio
import typer
from typer.testing import CliRunner

import hpgeo.cli as cli
from geo.cog import validate_cog
from hpgeo.cli.ingest_rectify import register
from ingest.readers.errors import (
    CollinearGCPs,
    DuplicateGCPs,
    GCPOutsideImage,
    InconsistentGCPs,
    MalformedGCPFile,
    NonFiniteGCPs,
    TooFewGCPs,
    UnknownRectifyMethod,
)
from ingest.rectify import GCP, fit, min_gcps, read_gcps, rectify, validate_gcps

H, W = 300, 400  # scan rows, cols
X0, Y0 = 600_000.0, 2_320_000.0  # UTM 48N near Hai Phong


def truth(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Known georeference of the scan: ~5 m pixels, rotated ~3°, with a mild quadratic warp (paper shrink)."""
    c, r = np.asarray(col, float), np.asarray(row, float)
    x = X0 + 4.99 * c + 0.26 * r + 2e-4 * c * c
    y = Y0 - 0.26 * c - 5.01 * r + 1.5e-4 * r * r
    return x, y


def inverse_truth(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton iterations on :func:`truth` (exact to ~1e-9 px)."""
    c, r = (x - X0) / 5.0, (Y0 - y) / 5.0
    for _ in range(20):
        fx, fy = truth(c, r)
        j11, j12, j21, j22 = 4.99 + 4e-4 * c, 0.26, -0.26, -5.01 + 3e-4 * r
        det = j11 * j22 - j12 * j21
        ex, ey = fx - x, fy - y
        c, r = c - (j22 * ex - j12 * ey) / det, r - (-j21 * ex + j11 * ey) / det
    return c, r


def pattern(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Smooth grey pattern (period 40-60 px) as a function of continuous pixel position."""
    return 127.5 + 100.0 * np.sin(2 * np.pi * col / 50.0) * np.cos(2 * np.pi * row / 60.0)


@pytest.fixture()
def scan(tmp_path):
    cc, rr = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    img = np.rint(pattern(cc, rr)).astype(np.uint8)
    path = tmp_path / "scan_1965.png"  # a plain, non-georeferenced scan
    with rasterio.open(path, "w", driver="PNG", width=W, height=H, count=1, dtype="uint8") as ds:
        ds.write(img, 1)
    return path


def make_gcps(n_side: int = 4, noise_px: float = 0.3, seed: int = 7) -> list[GCP]:
    rng = np.random.default_rng(seed)
    cols = np.linspace(20, W - 20, n_side)
    rows = np.linspace(20, H - 20, n_side)
    gcps = []
    for i, (c, r) in enumerate((c, r) for c in cols for r in rows):
        x, y = truth(c, r)
        dc, dr = rng.normal(0, noise_px, 2)  # clicking error on the scan
        gcps.append(GCP(f"G{i + 1}", float(c + dc), float(r + dr), float(x), float(y)))
    return gcps


def write_csv(path, gcps: list[GCP], header: str = "id,pixel,line,x,y") -> None:
    lines = [header] + [f"{g.id},{g.col},{g.row},{g.x},{g.y}" for g in gcps]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("method", ["polynomial2", "polynomial3", "tps"])
def test_rectify_within_one_pixel(scan, tmp_path, method: str) -> None:
    gcps = make_gcps(n_side=5 if method == "polynomial3" else 4)
    res = rectify(scan, gcps, tmp_path / f"{method}.tif", method=method, crs="EPSG:32648")
    validate_cog(res.path)
    assert res.rms_pixels < 1.0
    assert res.rms_map == pytest.approx(res.rms_pixels * 5.0, rel=0.3)
    assert len(res.residuals) == len(gcps)
    # check points (not GCPs): the fitted forward transform vs the truth, in pixels (~5 m)
    rng = np.random.default_rng(1)
    chk = np.column_stack([rng.uniform(30, W - 30, 200), rng.uniform(30, H - 30, 200)])
    fx, fy = res.forward(chk).T
    tx, ty = truth(chk[:, 0], chk[:, 1])
    err_px = np.hypot(fx - tx, fy - ty) / 5.0
    assert float(np.sqrt(np.mean(err_px**2))) < 1.0
    # the written COG: georeference and pixels at check points agree with the truth
    with rasterio.open(res.path) as ds:
        assert ds.crs.to_epsg() == 32648 and ds.dtypes[0] == "uint8" and ds.nodata == 0
        assert ds.res[0] == pytest.approx(5.0, rel=0.02)
        img = ds.read(1)
        rows, cols = np.meshgrid(np.arange(20, ds.height - 20, 7), np.arange(20, ds.width - 20, 7), indexing="ij")
        xs, ys = ds.transform * (cols + 0.5, rows + 0.5)
    sc, sr = inverse_truth(np.asarray(xs), np.asarray(ys))
    inside = (sc > 3) & (sc < W - 3) & (sr > 3) & (sr < H - 3)
    assert inside.sum() > 500
    got = img[rows[inside], cols[inside]].astype(float)
    assert np.all(got > 0)  # no nodata inside the scan
    expected = pattern(sc[inside], sr[inside])
    # 1 px of misregistration on this pattern is up to ~12 DN; RMS must stay well below
    assert float(np.sqrt(np.mean((got - expected) ** 2))) < 6.0


def test_exact_affine_gcps_give_zero_residuals() -> None:
    gcps = [GCP(str(i), c, r, 1000 + 2 * c, 5000 - 2 * r) for i, (c, r) in enumerate([(0, 0), (10, 0), (0, 10), (10, 10), (5, 3)])]
    res = fit(gcps, "polynomial1")
    assert res.rms_pixels == pytest.approx(0.0, abs=1e-9)
    assert res.forward(np.array([[7.0, 4.0]]))[0] == pytest.approx([1014.0, 4992.0])
    assert res.inverse(np.array([[1014.0, 4992.0]]))[0] == pytest.approx([7.0, 4.0])


def test_min_gcps() -> None:
    assert [min_gcps(m) for m in ("polynomial1", "polynomial2", "polynomial3")] == [3, 6, 10]
    with pytest.raises(UnknownRectifyMethod):
        min_gcps("polynomial4")


@pytest.mark.parametrize(
    "gcps, method, error, words",
    [
        (make_gcps(2, 0.0)[:5], "polynomial2", TooFewGCPs, "at least 6"),
        ([GCP(str(i), 10.0 * i + 5, 10.0 * i + 5, 600000.0 + 50 * i, 2320000.0 - 50 * i) for i in range(6)],
         "polynomial1", CollinearGCPs, "collinear"),
        (make_gcps(3, 0.0)[:3] + [GCP("dup", *[make_gcps(3, 0.0)[0].col, make_gcps(3, 0.0)[0].row], 1.0, 2.0)],
         "polynomial1", DuplicateGCPs, "same pixel"),
        (make_gcps(3, 0.0)[:4] + [GCP("bad", float("nan"), 5.0, 1.0, 2.0)], "polynomial1", NonFiniteGCPs, "bad"),
        (make_gcps(3, 0.0)[:4] + [GCP("far", 900.0, 5.0, 1.0, 2.0)], "polynomial1", GCPOutsideImage, "far"),
    ],
)
def test_degenerate_gcp_sets(gcps, method, error, words) -> None:
    with pytest.raises(error, match=words):
        validate_gcps(gcps, (H, W), method)


def test_inconsistent_gcps_name_the_worst(scan) -> None:
    gcps = make_gcps(4, 0.2)
    g = gcps[5]
    gcps[5] = GCP(g.id, g.col, g.row, g.x + 200.0, g.y - 150.0)  # 50 px off on the map
    with pytest.raises(InconsistentGCPs, match=f"GCP {g.id} is off"):
        rectify(scan, gcps, None, method="polynomial1")


def test_read_gcps_columns_and_crs(tmp_path) -> None:
    p = tmp_path / "g.csv"
    p.write_text("id,col,row,lon,lat\nA,1,2,106.68,20.86\nB,3,4,106.70,20.87\n")
    gcps, crs = read_gcps(p)
    assert gcps[1] == GCP("B", 3.0, 4.0, 106.70, 20.87) and crs.to_epsg() == 4326
    p.write_text("id,pixel,line,x,y,crs\nA,1,2,600000,2300000,EPSG:3405\n")
    assert read_gcps(p)[1].to_epsg() == 3405
    p.write_text("id,pixel,line,x\nA,1,2,600000\n")
    with pytest.raises(MalformedGCPFile, match="no y column"):
        read_gcps(p)
    p.write_text("id,pixel,line,x,y\nA,1,two,600000,2300000\n")
    with pytest.raises(MalformedGCPFile, match="line 2"):
        read_gcps(p)


def test_gcps_in_lonlat_are_reprojected(scan, tmp_path) -> None:
    from pyproj import Transformer

    tr = Transformer.from_crs(32648, 4326, always_xy=True)
    gcps = [GCP(g.id, g.col, g.row, *tr.transform(g.x, g.y)) for g in make_gcps(4, 0.2)]
    res = rectify(scan, gcps, None, method="polynomial2", gcp_crs="EPSG:4326", crs="EPSG:32648")
    assert res.rms_pixels < 1.0 and res.rms_map < 5.0


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _group() -> None:  # keep "rectify" a subcommand
        pass

    return app


def test_cli_rectify_reports_residuals(scan, tmp_path) -> None:
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(4, 0.3))
    out = tmp_path / "out.tif"
    result = CliRunner().invoke(_app(), ["rectify", str(scan), "--gcps", str(csv_path), "--method", "polynomial2",
                                         "--crs", "EPSG:32648", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "RMS:" in result.output and "G16" in result.output
    rms = float(result.output.split("RMS:")[1].split("px")[0])
    assert 0.0 < rms < 1.0
    validate_cog(out)


def test_cli_degenerate_gcps_exit_2(scan, tmp_path, monkeypatch, capsys) -> None:
    csv_path = tmp_path / "gcps.csv"
    write_csv(csv_path, make_gcps(2, 0.0)[:3])  # 3 GCPs for a 2nd-order polynomial
    root = typer.Typer()
    root.add_typer(_app(), name="ingest")
    if not any(g.name == "ingest" for g in cli.app.registered_groups):
        monkeypatch.setattr(cli, "app", root)  # until `hpgeo ingest` exists, mount the command the same way
    code = cli.main(["ingest", "rectify", str(scan), "--gcps", str(csv_path), "--method", "polynomial2"])
    assert code == 2
    err = capsys.readouterr().err
    assert "polynomial2 needs at least 6 GCPs, got 3" in " ".join(err.split())
    # collinear GCPs: also exit 2
    write_csv(csv_path, [GCP(str(i), 20.0 + 30 * i, 20.0 + 20 * i, X0 + 150 * i, Y0 - 100 * i) for i in range(5)])
    assert cli.main(["ingest", "rectify", str(scan), "--gcps", str(csv_path)]) == 2
    assert "collinear" in capsys.readouterr().err
    assert not (tmp_path / "scan_1965_rectified.tif").exists()


@pytest.mark.parametrize("method, n_side", [("polynomial1", 3), ("polynomial2", 4), ("polynomial3", 5), ("tps", 4)])
def test_gdal_warp_follows_the_fitted_model(tmp_path, method: str, n_side: int) -> None:
    """A scan whose bands are its own pixel-centre column and row: after GDAL's warp (in 1 MB chunks) each output pixel
    holds the scan position it was taken from, which must be what the reported model's inverse gives (bilinear is
    exact on a ramp)."""
    cc, rr = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    path = tmp_path / "ramp.tif"
    with rasterio.open(path, "w", driver="GTiff", width=W, height=H, count=2, dtype="float32") as ds:
        ds.write(np.stack([cc, rr]).astype("float32"))
    res = rectify(path, make_gcps(n_side, 0.3), tmp_path / "out.tif", method=method, crs="EPSG:32648", warp_mem_mb=1, chunks=64)
    with rasterio.open(res.path) as ds:
        got = ds.read()
        rows, cols = np.mgrid[0 : ds.height : 5, 0 : ds.width : 5]
        xs, ys = ds.transform * (cols + 0.5, rows + 0.5)
    expect = res.inverse(np.column_stack([np.ravel(xs), np.ravel(ys)]))
    gc, gr = got[0][rows, cols].ravel(), got[1][rows, cols].ravel()
    m = 3  # bilinear is exact on a ramp away from the scan edges
    inside = np.isfinite(gc) & (expect[:, 0] > m) & (expect[:, 0] < W - m) & (expect[:, 1] > m) & (expect[:, 1] < H - m)
    assert inside.sum() > 2000
    err = np.hypot(gc[inside] - expect[inside, 0], gr[inside] - expect[inside, 1])
    # GDAL interpolates the model along scanlines within 0.125 px; chunk seams (1 MB chunks) add a few hundredths
    assert err.max() < 0.2 and float(np.median(err)) < 0.1
    outside = (expect[:, 0] < -1) | (expect[:, 0] > W + 1) | (expect[:, 1] < -1) | (expect[:, 1] > H + 1)
    assert outside.any() and np.isnan(gc[outside]).all()  # off the scan: nodata

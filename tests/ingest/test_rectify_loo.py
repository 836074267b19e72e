"""Leave-one-out residuals of rectification (issue 14): an exactly determined fit (polynomial3 on 10 GCPs)
reports RMS 0 whatever its true error, so it must warn; with spare GCPs the leave-one-out residuals are
reported per GCP and overall, and equal those of an independent least-squares refit written here."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import rasterio
import typer
from typer.testing import CliRunner

from hpgeo.cli.ingest_rectify import register
from ingest.readers.errors import FewSpareGCPs, TooFewGCPs
from ingest.rectify import GCP, fit, rectify
from tests.ingest.test_rectify import H, W, inverse_truth, make_gcps, scan, truth, write_csv  # noqa: F401 (scan: fixture)


def _independent_loo(gcps: list[GCP], order: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out predictions with plain numpy lstsq on monomials of coordinates centred on the first GCP
    and scaled to km / hundreds of pixels (any affine change of variables gives the same least-squares fit)."""
    px = np.array([[g.col, g.row] for g in gcps]) / 100.0
    xy = (np.array([[g.x, g.y] for g in gcps]) - [gcps[0].x, gcps[0].y]) / 1000.0

    def design(u):
        return np.column_stack([u[:, 0] ** a * u[:, 1] ** b for a in range(order + 1) for b in range(order + 1 - a)])

    n = len(gcps)
    d_px, d_xy = np.empty(n), np.empty(n)
    for i in range(n):
        k = np.arange(n) != i
        c_inv = np.linalg.lstsq(design(xy[k]), px[k], rcond=None)[0]
        c_fwd = np.linalg.lstsq(design(px[k]), xy[k], rcond=None)[0]
        d_px[i] = np.hypot(*((design(xy[i : i + 1]) @ c_inv)[0] - px[i])) * 100.0  # pixels
        d_xy[i] = np.hypot(*((design(px[i : i + 1]) @ c_fwd)[0] - xy[i])) * 1000.0  # metres
    return d_px, d_xy


@pytest.mark.parametrize("order, n_side", [(1, 3), (2, 4), (3, 5)])
def test_loo_residuals_match_an_independent_refit(order: int, n_side: int) -> None:
    gcps = make_gcps(n_side, noise_px=0.8, seed=3)
    res = fit(gcps, f"polynomial{order}")
    d_px, d_xy = _independent_loo(gcps, order)
    assert [r.id for r in res.loo_residuals] == [g.id for g in gcps]
    assert [r.pixels for r in res.loo_residuals] == pytest.approx(list(d_px), rel=1e-6, abs=1e-9)
    assert [r.map_units for r in res.loo_residuals] == pytest.approx(list(d_xy), rel=1e-6, abs=1e-9)
    assert res.loo_rms_pixels == pytest.approx(float(np.sqrt(np.mean(d_px**2))), rel=1e-6)
    assert res.loo_rms_map == pytest.approx(float(np.sqrt(np.mean(d_xy**2))), rel=1e-6)
    assert res.spare_gcps == n_side * n_side - (order + 1) * (order + 2) // 2
    assert res.loo_rms_pixels > res.rms_pixels  # a GCP left out is predicted worse than when it is fitted


def test_polynomial3_on_10_gcps_warns_and_reports_no_loo() -> None:
    """The issue's case: 10 GCPs determine the 10 coefficients exactly; RMS is 0 while the true error is not."""
    rng = np.random.default_rng(11)
    cols, rows = rng.uniform(20, W - 20, 10), rng.uniform(20, H - 20, 10)
    gcps = []
    for i, (c, r) in enumerate(zip(cols, rows)):
        x, y = truth(c, r)
        dc, dr = rng.normal(0, 0.8, 2)
        gcps.append(GCP(f"P{i}", float(c + dc), float(r + dr), float(x), float(y)))
    with pytest.warns(FewSpareGCPs, match="no spare point"):
        res = fit(gcps, "polynomial3")
    assert res.rms_pixels == pytest.approx(0.0, abs=1e-6) and res.spare_gcps == 0
    assert res.loo_residuals is None and res.loo_rms_pixels is None
    assert any("at least 11" in w for w in res.warnings)
    # and the true error, on check points away from the GCPs, is far from 0 (so the 0 was a lie)
    chk = np.column_stack([rng.uniform(30, W - 30, 300), rng.uniform(30, H - 30, 300)])
    tx, ty = truth(chk[:, 0], chk[:, 1])
    tc, tr = res.inverse(np.column_stack([tx, ty])).T
    assert float(np.sqrt(np.mean((tc - chk[:, 0]) ** 2 + (tr - chk[:, 1]) ** 2))) > 0.3
    # 9 GCPs: refused
    from ingest.rectify import validate_gcps

    with pytest.raises(TooFewGCPs, match="at least 10 GCPs, got 9"):
        validate_gcps(gcps[:9], (H, W), "polynomial3")


def test_overfitted_order_warns_when_loo_rms_exceeds_max_rms() -> None:
    gcps = make_gcps(4, noise_px=2.0, seed=5)[:11]  # 11 noisy GCPs, 1 spare for polynomial3
    with pytest.warns(FewSpareGCPs, match="leave-one-out RMS"):
        res = fit(gcps, "polynomial3", max_rms=1.0)
    assert res.loo_rms_pixels > 1.0 >= 0 and res.spare_gcps == 1


def test_no_warning_with_enough_spare_gcps() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewSpareGCPs)
        res = fit(make_gcps(5, 0.3), "polynomial2")
    assert res.warnings == [] and res.loo_rms_pixels < 1.0


def test_tps_loo_is_its_residuals() -> None:
    res = fit(make_gcps(4, 0.5), "tps")
    assert [r.pixels for r in res.loo_residuals] == [r.pixels for r in res.residuals]
    assert res.loo_rms_pixels == pytest.approx(res.rms_pixels)


def test_cog_tags_and_cli_report_loo(scan, tmp_path) -> None:  # noqa: F811
    gcps = make_gcps(4, 0.5)
    res = rectify(scan, gcps, tmp_path / "o.tif", method="polynomial2")
    d_px, _ = _independent_loo(gcps, 2)
    with rasterio.open(res.path) as ds:
        tags = ds.tags()
    assert float(tags["HPGEO_LOO_RMS_PIXELS"]) == pytest.approx(float(np.sqrt(np.mean(d_px**2))), abs=1e-3)
    per = json.loads(tags["HPGEO_GCP_RESIDUALS"])
    assert [p["id"] for p in per] == [g.id for g in gcps]
    assert [p["loo_px"] for p in per] == pytest.approx(list(d_px), abs=1e-4)
    assert tags["HPGEO_SPARE_GCPS"] == "10" and tags["HPGEO_RECTIFY_METHOD"] == "polynomial2" and "HPGEO_RECTIFY_WARNINGS" not in tags
    assert float(tags["HPGEO_RMS_PIXELS"]) == pytest.approx(res.rms_pixels, abs=1e-3)

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    csv_path = tmp_path / "g.csv"
    write_csv(csv_path, make_gcps(5, 0.8)[:10])
    out = CliRunner().invoke(app, ["rectify", str(scan), "--gcps", str(csv_path), "--method", "polynomial3", "--dry-run"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "warning:" in text and "no spare point" in text and "leave-one-out RMS: not available" in text

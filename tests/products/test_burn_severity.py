"""Burn severity: the USGS dNBR breakpoints and class accuracy on the simulated Cát Bà fire."""

from __future__ import annotations

import numpy as np
import rasterio
import xarray as xr

from ingest.catalog import SearchQuery
from ingest.items import resolve_href
from products.burn import BURN_CLASSES, dnbr, nbr, severity_classes


def test_usgs_breakpoints():
    d = xr.DataArray(np.array([[-600, -251, -250, -101, -100, 99, 100, 269, 270, 439, 440, 659, 660, 1300, np.nan]], np.float32), dims=("y", "x"))
    assert severity_classes(d).values.tolist() == [[1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 255]]
    assert severity_classes(d.chunk({"x": 4})).values.tolist() == severity_classes(d).values.tolist()
    assert BURN_CLASSES[3] == "unburned" and BURN_CLASSES[7] == "high severity"


def test_nbr_and_dnbr_values():
    nir = xr.DataArray(np.array([[0.30, 0.10]], np.float32), dims=("y", "x"))
    sw2 = xr.DataArray(np.array([[0.06, 0.185]], np.float32), dims=("y", "x"))
    n = nbr(nir, sw2).values
    assert np.allclose(n, [[0.24 / 0.36, -0.085 / 0.285]], atol=1e-6)
    assert np.allclose(dnbr(nbr(nir, sw2)[:, :1], nbr(nir, sw2)[:, 1:]).values, (0.24 / 0.36 + 0.085 / 0.285) * 1000, atol=1e-3)


def test_simulated_cat_ba_fire_class_accuracy(demo_settings, demo_catalog):
    item = next(demo_catalog.search(SearchQuery.build(collections=["burn-severity"])))
    data_dir = demo_settings.resolved_data_dir
    with rasterio.open(resolve_href(item["assets"]["severity"]["href"], data_dir)) as ds:
        sev = ds.read(1)
    with rasterio.open(resolve_href(item["assets"]["dnbr"]["href"], data_dir)) as ds:
        d = ds.read(1).astype(np.float32)
    truth = data_dir / "raw" / "hazards" / "truth"
    with rasterio.open(truth / "burn_severity_truth.tif") as ds:
        t = ds.read(1)
    with rasterio.open(truth / "burn_dnbr_truth.tif") as ds:
        td = ds.read(1)
    m = (t != 255) & (sev != 255)
    acc = float((sev[m] == t[m]).mean())
    burned = m & (t >= 4)
    rmse = float(np.sqrt(np.mean((d[m] - td[m]) ** 2)))
    print(f"burn severity: class accuracy {acc:.4f} on {m.sum()} forest px, burned-class accuracy {(sev[burned] == t[burned]).mean():.4f}, dNBR RMSE {rmse:.1f} (×1000)")
    assert m.sum() > 100_000 and burned.sum() > 10_000
    assert acc >= 0.99  # measured 0.998
    assert (sev[burned] == t[burned]).mean() >= 0.95  # measured 0.98
    assert rmse <= 40
    # every severity class the scar holds, on its own: recall and precision against the truth (USGS table,
    # simulator.hazards) — a moved break (e.g. high severity from 660 to 560) empties or floods a class
    per_class = {}
    for k in (3, 4, 5, 6, 7):
        in_truth, in_product = m & (t == k), m & (sev == k)
        assert in_truth.sum() > 2_000, k
        per_class[k] = (float((sev[in_truth] == k).mean()), float((t[in_product] == k).mean()))
    print("burn severity per class (recall, precision):", {k: (round(r, 3), round(p, 3)) for k, (r, p) in per_class.items()})
    for k, (recall, precision) in per_class.items():
        assert recall >= 0.9 and precision >= 0.9, (k, recall, precision)
    with rasterio.open(truth / "turbidity_truth.tif") as ds:
        sea = np.isfinite(ds.read(1))
    assert (sev[sea] == 255).mean() > 0.99  # water is masked (SCL 6), not "enhanced regrowth"
    stats = item["properties"]["hpgeo:statistics"]["severity"]
    assert stats["high severity"]["pixels"] == int((sev == 7).sum())

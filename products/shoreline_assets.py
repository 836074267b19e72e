"""What a shoreline analysis is (dated waterlines, baseline, transects, positions, statistics) and its vector assets.

Assets of a shoreline item besides the ``rate`` COG (all under ``products/shoreline/<item id>/``):
- ``shorelines``: GeoJSON (WGS 84), one MultiLineString per date with its level, bimodality, tide;
- ``transects``: GeoJSON (WGS 84), transects with NSM, EPR, LRR, r², SE, LCI95, SCE;
- ``positions``: CSV, chainage (m) per date × transect (raw and as used, tide-corrected);
- ``vectors``: GeoPackage (EPSG:32648) with layers ``shorelines``, ``transects``, ``baseline``.

Each file is written to a temporary name (:func:`geo.tempfiles.atomic_path`) and renamed, so a killed
writer leaves no half file, only a ``.hpgeo-tmp`` temporary that the next writing command removes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString, MultiLineString

from geo.crs import WGS84
from geo.tempfiles import atomic_path, clean_folder
from products.registry import ExtraAsset
from products.shoreline_transects import Transect, TransectStats

__all__ = ["DatedShoreline", "ShorelineAnalysis", "VECTOR_ASSETS", "summary", "write_vectors"]

GEOJSON, GPKG, CSV = "application/geo+json", "application/geopackage+sqlite3", "text/csv"
VECTOR_ASSETS: tuple[ExtraAsset, ...] = (
    ExtraAsset("shorelines", "shorelines.geojson", GEOJSON, "Waterline per date (WGS 84)"),
    ExtraAsset("transects", "transects.geojson", GEOJSON, "Transects with DSAS change statistics (WGS 84)"),
    ExtraAsset("positions", "positions.csv", CSV, "Shoreline chainage (m from transect origin) per date and transect"),
    ExtraAsset("vectors", "shoreline.gpkg", GPKG, "Shorelines, transects and baseline (EPSG:32648)"),
)


@dataclass
class DatedShoreline:
    time: np.datetime64
    geometry: MultiLineString
    level: float
    eta: float
    tide_m: float | None = None
    used: bool = True
    item: str | None = None


@dataclass
class ShorelineAnalysis:
    """Everything the product writes: dated waterlines, baseline, transects, positions and statistics."""

    crs: Any
    shorelines: list[DatedShoreline]
    baseline: LineString
    transects: list[Transect]
    raw_positions: np.ndarray  # dates × transects, m
    positions: np.ndarray  # after tide filter/correction
    stats: list[TransectStats] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        return np.array([s.time for s in self.shorelines], dtype="datetime64[ns]")


def summary(a: ShorelineAnalysis) -> dict[str, Any]:
    lrr = np.array([s.lrr for s in a.stats])
    ci = np.array([s.ci95 for s in a.stats])
    ok = np.isfinite(lrr)
    if not ok.any():
        return {"transects": len(lrr), "with_rates": 0}
    return {
        "transects": len(lrr),
        "with_rates": int(ok.sum()),
        "lrr_mean_m_per_yr": round(float(lrr[ok].mean()), 3),
        "lrr_min_m_per_yr": round(float(lrr[ok].min()), 3),
        "lrr_max_m_per_yr": round(float(lrr[ok].max()), 3),
        "eroding_significant": int(((lrr + ci) < 0)[ok].sum()),
        "accreting_significant": int(((lrr - ci) > 0)[ok].sum()),
    }


def _frames(a: ShorelineAnalysis) -> tuple[Any, Any, Any]:
    import geopandas as gpd
    from shapely.geometry import LineString

    sl = gpd.GeoDataFrame(
        {
            "date": [str(np.datetime_as_string(s.time, unit="s")) + "Z" for s in a.shorelines],
            "item": [s.item for s in a.shorelines],
            "level": [s.level for s in a.shorelines],
            "bimodality": [s.eta for s in a.shorelines],
            "tide_m": [s.tide_m for s in a.shorelines],
            "used": [s.used for s in a.shorelines],
        },
        geometry=[s.geometry for s in a.shorelines],
        crs=a.crs,
    )
    rows = [{"name": t.name, "along_m": round(t.along, 2), **st.as_dict()} for t, st in zip(a.transects, a.stats)]
    tr = gpd.GeoDataFrame(rows, geometry=[t.line for t in a.transects], crs=a.crs)
    bl = gpd.GeoDataFrame({"name": ["baseline"]}, geometry=[LineString(a.baseline.coords)], crs=a.crs)
    return sl, tr, bl


def write_vectors(a: ShorelineAnalysis, out_dir: Path) -> None:
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    clean_folder(out_dir)  # temporaries of a killed writer
    sl, tr, bl = _frames(a)
    for gdf, fname in ((sl, "shorelines.geojson"), (tr, "transects.geojson")):
        # the layer is named explicitly: GDAL would name it after the temporary file
        _atomic(out_dir / fname, lambda tmp, g=gdf, layer=fname.removesuffix(".geojson"): g.to_crs(WGS84).to_file(tmp, driver="GeoJSON", layer=layer))

    def gpkg(tmp: Path) -> None:
        sl.to_file(tmp, layer="shorelines", driver="GPKG")
        tr.to_file(tmp, layer="transects", driver="GPKG")
        bl.to_file(tmp, layer="baseline", driver="GPKG")

    _atomic(out_dir / "shoreline.gpkg", gpkg)
    dates = [str(np.datetime_as_string(s.time, unit="s")) + "Z" for s in a.shorelines]
    names = [t.name for t in a.transects]
    raw = pd.DataFrame(a.raw_positions, columns=[f"{n}_raw" for n in names])
    used = pd.DataFrame(a.positions, columns=names)
    table = pd.concat([pd.DataFrame({"dates": dates, "tide_m": [s.tide_m for s in a.shorelines]}), used, raw], axis=1)
    _atomic(out_dir / "positions.csv", lambda tmp: table.to_csv(tmp, index=False, float_format="%.3f"))


def _atomic(dst: Path, write: Any) -> None:
    with atomic_path(dst, suffix=dst.suffix) as tmp:  # the suffix picks the driver
        write(tmp)

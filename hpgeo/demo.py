"""The offline demo: SIMULATED scenes over Hai Phong → ingest → products, deterministically.

Real users run the same ingest and product code on real sources; only the first step differs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from base.settings import get_settings
from ingest.ard import write_ard
from ingest.catalog import Catalog, SearchQuery
from products.build import build_product
from products.stats_models import item_stats
from products.zonal import item_zonal_stats
from simulator.hazards import HazardConfig, hazard_hash, simulate_hazards
from simulator.scenes import SimConfig, read_simulated, scenario_hash, simulate
from simulator.shoreline import TIDE_FILE, ShorelineSimConfig, simulate_shoreline

__all__ = ["run_demo", "DemoReport", "demo_paths", "build_demo_hazards", "build_demo_shoreline", "build_demo_land", "product_built_from", "evaluate_demo_alerts"]

log = logging.getLogger(__name__)


@dataclass
class DemoReport:
    data_dir: Path
    scenes_written: list[str] = field(default_factory=list)
    scenes_skipped: list[str] = field(default_factory=list)
    products_built: list[str] = field(default_factory=list)
    products_skipped: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # CAP messages raised by this run (Exercise: simulated data)

    def summary(self) -> str:
        return (
            f"demo data in {self.data_dir} (SIMULATED scenes over Hải Phòng)\n"
            f"  scenes ingested: {len(self.scenes_written)} new, {len(self.scenes_skipped)} unchanged\n"
            f"  products: {len(self.products_built)} built, {len(self.products_skipped)} unchanged\n"
            f"  alerts: {len(self.alerts)} CAP message(s) raised (status Exercise: simulated data)"
        )


def demo_paths(data_dir: Path) -> dict[str, Path]:
    return {"raw": data_dir / "raw" / "simulated", "truth": data_dir / "raw" / "simulated" / "truth"}


def run_demo(force: bool = False, progress: Any = None, catalog: Any = None, settings: Any = None) -> DemoReport:
    s = settings or get_settings()
    data_dir = s.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    cat = catalog or Catalog.from_settings(s)
    report = DemoReport(data_dir)
    cfg = SimConfig()
    h = scenario_hash(cfg)

    task = progress.add_task("simulating scenes", total=5) if progress else None

    def step(msg: str) -> None:
        if progress:
            progress.update(task, advance=1, description=f"simulated {msg}")

    raw = demo_paths(data_dir)["raw"]
    if force and (raw / "scenario.json").exists():
        (raw / "scenario.json").unlink()
    folders = simulate(raw, cfg, progress=step)
    if progress:
        progress.update(task, completed=5, description="scenes simulated")

    t2 = progress.add_task("ingesting (ARD COGs + catalog)", total=len(folders)) if progress else None
    ids: dict[str, tuple[str, str]] = {}
    for key, folder in folders.items():
        scene = read_simulated(folder)
        item = write_ard(scene, catalog=cat, data_dir=data_dir, source_checksum=f"{h}:{scene.id}" if not force else None)
        (report.scenes_written if item else report.scenes_skipped).append(scene.id)
        ids[key] = (scene.collection, scene.id)
        if progress:
            progress.update(t2, advance=1)

    t3 = progress.add_task("building products", total=1) if progress else None
    built = build_product(
        "flood-sar",
        {"post": ids["s1_post"], "pre": ids["s1_pre"]},
        {},
        catalog=cat,
        data_dir=data_dir,
        force=force,
        scheduler=s.dask_scheduler,
    )
    (report.products_built if built else report.products_skipped).append("flood-sar")
    if progress:
        progress.update(t3, advance=1)
    hz_new, hz_same, hz_built, hz_skipped = build_demo_hazards(ids, catalog=cat, data_dir=data_dir, force=force, scheduler=s.dask_scheduler)
    report.scenes_written += hz_new
    report.scenes_skipped += hz_same
    report.products_built += hz_built
    report.products_skipped += hz_skipped
    sl_new, sl_same, sl_item = build_demo_shoreline(catalog=cat, data_dir=data_dir, force=force, scheduler=s.dask_scheduler)
    report.scenes_written += sl_new
    report.scenes_skipped += sl_same
    (report.products_built if sl_item else report.products_skipped).append("shoreline")
    ld_built, ld_skipped = build_demo_land(ids, catalog=cat, data_dir=data_dir, force=force, scheduler=s.dask_scheduler)
    report.products_built += ld_built
    report.products_skipped += ld_skipped
    report.alerts = evaluate_demo_alerts(cat, s)
    return report


def evaluate_demo_alerts(catalog: Any, settings: Any) -> list[dict[str, Any]]:
    """The alert step: evaluate the shipped rules on the newest item of every watched product collection.

    A failing evaluation is logged at ERROR with its traceback and skipped: the built items stay.

    Idempotent (an item already evaluated raises nothing); simulated items give ``status=Exercise``.
    """
    from alerts import DEFAULT_BASE_URL, AlertStore, evaluate_item

    import logging

    store = AlertStore.from_settings(settings)
    rules = store.rules()  # the current stored rule set (the shipped rules.yaml until an admin changes them)
    out: list[dict[str, Any]] = []
    try:
        for coll in sorted({c for r in rules.rules for c in r.collections}):
            for it in catalog.search(SearchQuery.build(collections=[coll], limit=1)):
                try:
                    out += evaluate_item(store, catalog, coll, it["id"], rules, data_dir=settings.resolved_data_dir,
                                         base_url=(settings.public_url or DEFAULT_BASE_URL))
                except Exception as exc:  # noqa: BLE001 - the products are built and kept: report loudly, go on
                    logging.getLogger("hpgeo.demo").exception("ALERT EVALUATION FAILED for %s/%s (the item is built and kept; "
                                                              "retry with `hpgeo alerts evaluate %s/%s`): %s", coll, it["id"], coll, it["id"], exc)
    finally:
        store.close()
    return out


def build_demo_hazards(
    flood_ids: dict[str, tuple[str, str]], *, catalog: object, data_dir: Path, force: bool = False, scheduler: str | None = None
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The demo's hazard part: simulate + ingest the Cát Bà scenes, build water-optical, flood-ensemble
    (on the Hải Phòng flood scenes ``flood_ids``), burn-severity, turbidity and oil-candidates.

    Returns (scenes written, scenes unchanged, products built, products unchanged); idempotent.
    """
    raw = Path(data_dir) / "raw" / "hazards"
    if force and (raw / "hazards.json").exists():
        (raw / "hazards.json").unlink()
    folders = simulate_hazards(raw)
    h = hazard_hash(HazardConfig())
    written: list[str] = []
    same: list[str] = []
    ids: dict[str, tuple[str, str]] = {}
    for key, folder in folders.items():
        scene = read_simulated(folder)
        item = write_ard(scene, catalog=catalog, data_dir=Path(data_dir), source_checksum=None if force else f"{h}:{scene.id}")
        (written if item else same).append(scene.id)
        ids[key] = (scene.collection, scene.id)
    jobs = [
        ("water-optical", {"scene": flood_ids["s2_post"]}),
        ("flood-ensemble", {"post": flood_ids["s1_post"], "pre": flood_ids["s1_pre"], "optical": flood_ids["s2_post"], "optical_pre": flood_ids["s2_pre"]}),
        ("burn-severity", {"post": ids["s2_post"], "pre": ids["s2_pre"]}),
        ("turbidity", {"scene": ids["s2_post"]}),
        ("oil-candidates", {"scene": ids["s1_post"]}),
    ]
    built: list[str] = []
    skipped: list[str] = []
    for name, inputs in jobs:
        item = build_product(name, inputs, {}, catalog=catalog, data_dir=Path(data_dir), force=force, scheduler=scheduler)
        (built if item else skipped).append(name)
    return written, same, built, skipped


def build_demo_shoreline(
    *, catalog: Any, data_dir: Path, force: bool = False, scheduler: str | None = None
) -> tuple[list[str], list[str], dict[str, Any] | None]:
    """The demo's shoreline: simulate the eroding coast (SIMULATED), ingest its scenes, build the product.

    Returns (scene ids written, scene ids unchanged, the built item or None when current).
    """
    cfg = ShorelineSimConfig()
    folders = simulate_shoreline(Path(data_dir) / "raw" / "simulated-shoreline", cfg, tides_dir=Path(data_dir) / "tides")
    written: list[str] = []
    skipped: list[str] = []
    scenes: list[tuple[str, str]] = []
    for folder in folders:
        scene = read_simulated(folder)
        item = write_ard(scene, catalog=catalog, data_dir=data_dir, source_checksum=None if force else f"{cfg.hash()}:{scene.id}")
        (written if item else skipped).append(scene.id)
        scenes.append((scene.collection, scene.id))
    # the simulated gauge is written in metres above the true mean sea level: its own datum is the reference
    params = {"tide_series": TIDE_FILE, "tide_reference": "datum", "beach_slope": cfg.beach_slope}
    item = build_product("shoreline", {"scenes": scenes}, params, catalog=catalog, data_dir=data_dir, force=force, scheduler=scheduler)
    return written, skipped, item


def product_built_from(catalog: Any, collection: str, role: str, input_id: str) -> str:
    """Id of the newest product item in ``collection`` built with ``input_id`` as its ``role`` input."""
    for it in catalog.search(SearchQuery.build(collections=[collection])):
        if it["properties"].get("hpgeo:provenance", {}).get("inputs", {}).get(role, {}).get("id") == input_id:
            return it["id"]
    raise LookupError(f"no {collection} item built from {input_id}")


def build_demo_land(ids: Mapping[str, tuple[str, str]], *, catalog: Any, data_dir: Path, force: bool = False, scheduler: str | None = None) -> tuple[list[str], list[str]]:
    """Demo: land cover (k-means fallback) of both S2 scenes and its change (flooded fields turn to water),
    mangrove gain/loss between the two S2 scenes, and statistics per built-in AOI of those and of the flood
    product. Returns (built, skipped)."""
    built: list[str] = []
    skipped: list[str] = []
    jobs = (
        ("landcover", {"scene": ids["s2_pre"]}),
        ("landcover", {"scene": ids["s2_post"]}),
        ("mangrove", {"scene": ids["s2_post"], "before": ids["s2_pre"]}),
    )
    for name, inputs in jobs:
        item = build_product(name, inputs, {}, catalog=catalog, data_dir=data_dir, force=force, scheduler=scheduler)
        (built if item else skipped).append(name)
    maps = {key: product_built_from(catalog, "land-cover", "scene", ids[key][1]) for key in ("s2_pre", "s2_post")}
    change_inputs = {"before": ("land-cover", maps["s2_pre"]), "after": ("land-cover", maps["s2_post"])}
    item = build_product("landcover-change", change_inputs, {}, catalog=catalog, data_dir=data_dir, force=force, scheduler=scheduler)
    (built if item else skipped).append("landcover-change")
    for coll in ("flood-extent", "land-cover", "mangrove-extent"):
        for it in catalog.search(SearchQuery.build(collections=[coll], limit=1)):
            if force or not item_stats(catalog, coll, it["id"]):
                item_zonal_stats(catalog, coll, it["id"], data_dir=data_dir, units="aoi")
            break  # the newest item of each collection
    return built, skipped

"""The offline demo: SIMULATED scenes over Hai Phong → ingest → products, deterministically.

Real users run the same ingest and product code on real sources; only the first step differs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpgeo.settings import get_settings

__all__ = ["run_demo", "DemoReport", "demo_paths"]

log = logging.getLogger(__name__)


@dataclass
class DemoReport:
    data_dir: Path
    scenes_written: list[str] = field(default_factory=list)
    scenes_skipped: list[str] = field(default_factory=list)
    products_built: list[str] = field(default_factory=list)
    products_skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"demo data in {self.data_dir} (SIMULATED scenes over Hải Phòng)\n"
            f"  scenes ingested: {len(self.scenes_written)} new, {len(self.scenes_skipped)} unchanged\n"
            f"  products: {len(self.products_built)} built, {len(self.products_skipped)} unchanged"
        )


def demo_paths(data_dir: Path) -> dict[str, Path]:
    return {"raw": data_dir / "raw" / "simulated", "truth": data_dir / "raw" / "simulated" / "truth"}


def run_demo(force: bool = False, progress: Any = None, catalog: Any = None, settings: Any = None) -> DemoReport:
    from ingest.ard import write_ard
    from ingest.catalog import Catalog
    from ingest.simulator import SimConfig, read_simulated, scenario_hash, simulate
    from products.build import build_product

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
    )
    (report.products_built if built else report.products_skipped).append("flood-sar")
    if progress:
        progress.update(t3, advance=1)
    from ingest.simulate_hazards import build_demo_hazards

    hz_new, hz_same, hz_built, hz_skipped = build_demo_hazards(ids, catalog=cat, data_dir=data_dir, force=force)
    report.scenes_written += hz_new
    report.scenes_skipped += hz_same
    report.products_built += hz_built
    report.products_skipped += hz_skipped
    from products.shoreline_build import build_demo_shoreline

    sl_new, sl_same, sl_item = build_demo_shoreline(catalog=cat, data_dir=data_dir, force=force)
    report.scenes_written += sl_new
    report.scenes_skipped += sl_same
    (report.products_built if sl_item else report.products_skipped).append("shoreline")
    from products.zonal import build_demo_land

    ld_built, ld_skipped = build_demo_land(ids, catalog=cat, data_dir=data_dir, force=force)
    report.products_built += ld_built
    report.products_skipped += ld_skipped
    return report

"""``hpgeo ingest rectify``: georeference a scanned archive image with ground control points."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hpgeo.cli.common import console

__all__ = ["register"]


def _acquired(text: str):
    """``--datetime``: a year, a date or an RFC 3339 date-time (UTC when no offset is given)."""
    import datetime as dt
    import re

    from base.errors import InvalidRequest

    t = text.strip()
    try:
        if re.fullmatch(r"\d{4}", t):
            when = dt.datetime(int(t), 1, 1)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            when = dt.datetime.fromisoformat(t)
        else:
            when = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"--datetime {text!r} is not a year, a date or an RFC 3339 date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    if not 1850 <= when.year <= dt.datetime.now(dt.timezone.utc).year:
        raise InvalidRequest(f"--datetime {text!r} is out of range for a scanned image")
    return when


def _catalogue(path: Path, *, remove_on_failure: bool) -> None:
    """Ingest the rectified COG (collection scanned-archive); if that fails, a COG this run created is removed."""
    from hpgeo.cli.ingest import run_source
    from ingest.sources.local import LocalSource

    try:
        run_source(LocalSource([path]), None, None, None, True)
    except BaseException:
        if remove_on_failure:
            path.unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    """Add the ``rectify`` command to the ``hpgeo ingest`` group (``app``)."""

    @app.command("rectify")
    def rectify_cmd(
        scan: Path = typer.Argument(..., help="Scanned image (any GDAL-readable file: TIFF, JPEG, PNG)."),
        gcps: Path = typer.Option(..., "--gcps", help="CSV: id, pixel|col, line|row, x|lon, y|lat [, crs]."),
        method: str = typer.Option("polynomial1", "--method", help="polynomial1, polynomial2, polynomial3 or tps."),
        crs: str = typer.Option("EPSG:32648", "--crs", help="Output CRS (and the GCPs' CRS when the CSV names none)."),
        resolution: float = typer.Option(None, "--resolution", help="Output pixel size in CRS units (default: the scan's)."),
        out: Path = typer.Option(None, "--out", help="Output COG (default: SCAN_rectified.tif next to the scan)."),
        max_rms: float = typer.Option(5.0, "--max-rms", help="Reject the fit above this RMS residual (pixels)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Fit and report residuals only; write nothing."),
        acquired: str = typer.Option(None, "--datetime", help="When the scanned image was taken (YYYY, YYYY-MM-DD or RFC 3339). With it the rectified COG is catalogued in the scanned-archive collection, with its GCP residuals; without it nothing is catalogued (a scan's date is never guessed)."),
        catalog: bool = typer.Option(True, "--catalog/--no-catalog", help="Catalogue the result (needs --datetime)."),
    ) -> None:
        """Fit a transform to the GCPs, print per-GCP residuals and RMS, warp the scan to a COG and, with --datetime,
        catalogue it in the scanned-archive collection (item properties hpgeo:rectification: method, RMS, leave-one-out
        RMS, residual of every GCP)."""
        import warnings

        from ingest.readers.errors import FewSpareGCPs
        from ingest.rectify import read_gcps, rectify

        when = _acquired(acquired) if acquired is not None else None
        points, gcp_crs = read_gcps(gcps, default_crs=crs)
        dst = None if dry_run else (out or scan.with_name(f"{scan.stem}_rectified.tif"))
        existed = dst is not None and dst.exists()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewSpareGCPs)  # printed below from res.warnings
            res = rectify(scan, points, dst, method=method, gcp_crs=gcp_crs, crs=crs, resolution=resolution, max_rms=max_rms,
                          acquired=when)
        unit = res.crs.linear_units or "units"
        table = Table(title=f"GCP residuals ({res.method}, {len(points)} GCPs, {res.spare_gcps} spare; fit, then leave-one-out)")
        for col in ("GCP", "dcol px", "drow px", "|d| px", f"dx {unit}", f"dy {unit}", f"|d| {unit}", "LOO px", f"LOO {unit}"):
            table.add_column(col, justify="right")
        worst = res.worst.id
        loo = {r.id: r for r in res.loo_residuals or []}
        for r in res.residuals:
            style = "bold yellow" if r.id == worst else None
            lo = loo.get(r.id)
            table.add_row(r.id, f"{r.dcol:.3f}", f"{r.drow:.3f}", f"{r.pixels:.3f}", f"{r.dx:.3f}", f"{r.dy:.3f}",
                          f"{r.map_units:.3f}", f"{lo.pixels:.3f}" if lo else "-", f"{lo.map_units:.3f}" if lo else "-", style=style)
        console.print(table)
        console.print(f"RMS: [bold]{res.rms_pixels:.3f} px[/], {res.rms_map:.3f} {unit} (max {max_rms:g} px)")
        if res.loo_rms_pixels is not None:
            console.print(f"leave-one-out RMS: [bold]{res.loo_rms_pixels:.3f} px[/], {res.loo_rms_map:.3f} {unit}")
        else:
            console.print("leave-one-out RMS: not available (no spare GCP)")
        for w in res.warnings:
            console.print(f"[bold yellow]warning:[/] {w}")
        if res.path is not None and res.grid is not None:
            console.print(f"wrote {res.path} ({res.grid})")
            if catalog and when is not None:
                _catalogue(res.path, remove_on_failure=not existed)
            elif catalog:
                console.print("not catalogued: give --datetime (when the image was taken) to add it to scanned-archive")

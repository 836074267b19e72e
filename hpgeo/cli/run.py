"""``hpgeo demo`` and ``hpgeo serve``."""

from __future__ import annotations

import typer

from hpgeo.cli.common import console, progress


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        force: bool = typer.Option(False, "--force", help="Rebuild the simulated scenes and products even if present."),
    ) -> None:
        """Simulate Hải Phòng scenes (clearly marked SIMULATED), ingest them and build the products, then exit.

        Re-running changes nothing: scene and product ids are deterministic and unchanged items are skipped.
        """
        from hpgeo.demo import run_demo

        with progress() as bar:
            report = run_demo(force=force, progress=bar)
        console.print(report.summary())
        from base.settings import get_settings
        from maps.basemap import cache_dir, land_mask

        # the viewer's offline base map derives its land/sea mask once per machine (about a minute): do it now
        with console.status("preparing the offline base map (land/sea mask, once per machine)"):
            land_mask(cache_dir(get_settings().basemap_cache))

    @app.command("serve")
    def serve(
        host: str = typer.Option(None, "--host", help="Interface to bind (default HPGEO_HOST, 127.0.0.1)."),
        port: int = typer.Option(None, "--port", help="Port (default HPGEO_PORT, 8000)."),
        workers: int = typer.Option(1, "--workers", min=1, help="API worker processes (they are stateless)."),
        reload: bool = typer.Option(False, "--reload", help="Reload on code changes (development)."),
        deliver: bool = typer.Option(None, "--deliver/--no-deliver", help="Run the alert webhook deliverer in each worker "
                                     "(default HPGEO_ALERTS_DELIVER, true). With several workers, --no-deliver and one "
                                     "`hpgeo alerts deliver --loop`."),
    ) -> None:
        """Serve the viewer (/viewer), the STAC API (/stac), tiles and the docs (/docs); deliver the alert webhooks."""
        import os

        import uvicorn

        from base.settings import get_settings

        s = get_settings()
        h, p = host or s.host, port or s.port
        if deliver is not None:  # the workers read it (alerts.config.AlertSettings)
            os.environ["HPGEO_ALERTS_DELIVER"] = "true" if deliver else "false"
        console.print(f"hpgeo: viewer http://{h}:{p}/viewer · STAC http://{h}:{p}/stac · docs http://{h}:{p}/docs")
        uvicorn.run("api.main:create_app", factory=True, host=h, port=p, workers=workers, reload=reload, log_level="info")

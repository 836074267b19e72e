"""The ``hpgeo`` command line (typer + rich).

Errors that are the user's (base.errors.InvalidRequest, NotFound, Conflict) print a one-line
message and exit with code 2; an unreachable upstream exits with 3.

Every command that writes under the data directory (:data:`WRITERS`, ``serve`` included) first removes
the temporaries that killed writers left anywhere under it and then holds the shared writer lock for
its lifetime (:func:`geo.tempfiles.clean_data_dir`).
"""

from __future__ import annotations

import sys

import typer

from base import __version__
from hpgeo.cli import alerts as alerts_cmd
from hpgeo.cli import aoi as aoi_cmd
from hpgeo.cli import catalog as catalog_cmd
from hpgeo.cli import export as export_cmd
from hpgeo.cli import ingest as ingest_cmd
from hpgeo.cli import products as products_cmd
from hpgeo.cli import registry as registry_cmd
from hpgeo.cli import run as run_cmd
from hpgeo.cli.common import err_console, setup_logging
from base.errors import Conflict, HpgeoError, InvalidRequest, NotFound, UpstreamUnavailable

__all__ = ["app", "main", "WRITERS"]

# top-level commands that write files under the data directory (or serve an API that does)
WRITERS = frozenset({"demo", "serve", "ingest", "products", "aoi", "registry", "alerts"})

app = typer.Typer(
    name="hpgeo",
    help="Hải Phòng earth-observation service: ingest imagery, build hazard and land products, serve tiles, "
    "the viewer and the API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    log_level: str = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING (default: HPGEO_LOG_LEVEL or INFO)."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    from base.settings import get_settings

    if version:
        typer.echo(f"hpgeo {__version__}")
        raise typer.Exit()
    setup_logging(log_level or get_settings().log_level)
    if ctx.invoked_subcommand in WRITERS and not ctx.resilient_parsing:
        from geo.tempfiles import clean_data_dir

        data_dir = get_settings().resolved_data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        clean_data_dir(data_dir)


run_cmd.register(app)
export_cmd.register(app)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(aoi_cmd.app, name="aoi")
app.add_typer(ingest_cmd.app, name="ingest")
app.add_typer(products_cmd.app, name="products")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(alerts_cmd.app, name="alerts")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn hpgeo errors into messages and exit codes."""
    try:
        app(args=argv, prog_name="hpgeo", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 1
    except (InvalidRequest, NotFound, Conflict) as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        return 2
    except UpstreamUnavailable as exc:
        err_console.print(f"[bold red]upstream unavailable:[/] {exc}")
        return 3
    except HpgeoError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def entry() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())

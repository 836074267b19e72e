"""Shared CLI pieces: the console, progress bars, logging set-up and the catalog getter."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["console", "err_console", "progress", "setup_logging", "open_catalog"]

console = Console()
err_console = Console(stderr=True)


def setup_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) for h in root.handlers):
        root.setLevel(level.upper())
        return
    logging.basicConfig(
        level=level.upper(),
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=err_console, show_path=False, rich_tracebacks=False)],
    )
    for noisy in ("rasterio", "rio_cogeo", "urllib3", "alembic.runtime.migration", "httpx", "fiona", "pyogrio", "numexpr", "distributed"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A rich progress bar on stderr (so --json output on stdout stays clean)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
    ) as p:
        yield p


def open_catalog():  # noqa: ANN201 - returns ingest.catalog.Catalog
    from base.settings import get_settings
    from ingest.catalog import Catalog

    return Catalog.from_settings(get_settings())

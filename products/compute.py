"""Where dask graphs run: the local threaded scheduler (embedded) or a dask.distributed cluster (scale-out).

Chosen by configuration only (``HPGEO_DASK_SCHEDULER=tcp://host:8786``); products code is the same.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import dask

from hpgeo.errors import UpstreamUnavailable

__all__ = ["dask_context"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def dask_context(address: str | None) -> Iterator[str]:
    """Run the enclosed computations on ``address`` (a distributed scheduler) or on local threads."""
    if not address:
        with dask.config.set(scheduler="threads"):
            yield "threads"
        return
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - optional extra
        raise UpstreamUnavailable("HPGEO_DASK_SCHEDULER is set but dask.distributed is not installed (pip install .[distributed])") from exc
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise UpstreamUnavailable(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    log.info("products: computing on dask cluster %s", address)
    with client, client.as_current(), dask.config.set(scheduler=client.get):
        yield address

"""hpgeo: the earth-observation service of Hai Phong's 2030 space-technology plan.

This package is the application shell: the ``hpgeo`` CLI and the demo pipeline. It is the only
place that reads settings from the environment and passes them down. The shared ground (errors,
settings, database) is ``base``; the domain lives in ``geo``, ``ingest``, ``products``, ``maps``,
``registry`` and ``simulator``; ``api`` is the HTTP layer.
"""

from base import __version__

__all__ = ["__version__"]

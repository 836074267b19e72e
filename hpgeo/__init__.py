"""hpgeo: the earth-observation service of Hai Phong's 2030 space-technology plan.

This package is the composition root: settings, the shared error tree and the ``hpgeo`` CLI.
The domain lives in the top-level packages ``geo``, ``ingest``, ``products`` and ``maps``;
``api`` is the HTTP layer.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

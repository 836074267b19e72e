"""The shared base every hpgeo package stands on: the error tree, the one settings object, the database plumbing.

Nothing here imports another hpgeo package. The stairs run one way:
base → geo → ingest → products → maps → api → the shell (``hpgeo``: CLI and demo);
``registry`` stands on the base alone and ``simulator`` beside ``products`` (never importing it).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""Errors of the maps package."""

from hpgeo.errors import InvalidRequest

__all__ = ["UnknownColormap", "RenderError"]


class UnknownColormap(InvalidRequest):
    pass


class RenderError(InvalidRequest):
    pass

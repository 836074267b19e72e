"""Errors of the maps package."""

from base.errors import InvalidRequest

__all__ = ["UnknownColormap", "RenderError"]


class UnknownColormap(InvalidRequest):
    pass


class RenderError(InvalidRequest):
    pass

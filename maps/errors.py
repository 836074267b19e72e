"""Errors of the maps package."""

from base.errors import InvalidRequest, NotFound

__all__ = ["UnknownColormap", "RenderError", "PointOutsideItem"]


class UnknownColormap(InvalidRequest):
    pass


class RenderError(InvalidRequest):
    pass


class PointOutsideItem(NotFound):
    """A point query outside every raster of the item (HTTP 404)."""

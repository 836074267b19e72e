"""Catalog errors."""

from __future__ import annotations

from base.errors import Conflict, InvalidRequest, NotFound

__all__ = ["CatalogError", "InvalidQuery", "ItemNotFound", "CollectionNotFound", "InvalidItem", "CatalogConflict"]


class CatalogError(InvalidRequest):
    """Base of the catalog's input errors."""


class InvalidQuery(CatalogError):
    """A search parameter (bbox, datetime, limit, token) is malformed."""


class InvalidItem(CatalogError):
    """A STAC item or collection lacks required fields."""


class ItemNotFound(NotFound):
    pass


class CollectionNotFound(NotFound):
    pass


class CatalogConflict(Conflict):
    pass

"""The hpgeo catalog: STAC collections and items, and imported AOIs, on SQLAlchemy."""

from ingest.catalog.errors import CollectionNotFound, InvalidItem, InvalidQuery, ItemNotFound
from ingest.catalog.query import Interval, SearchQuery, parse_bbox, parse_interval
from ingest.catalog.store import Catalog, Page

__all__ = [
    "Catalog",
    "Page",
    "SearchQuery",
    "Interval",
    "parse_bbox",
    "parse_interval",
    "InvalidQuery",
    "ItemNotFound",
    "CollectionNotFound",
    "InvalidItem",
]

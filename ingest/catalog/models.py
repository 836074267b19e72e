"""Catalog tables. One schema for SQLite (embedded) and PostgreSQL/PostGIS (scale-out).

Geometries are stored as GeoJSON (JSON column) plus a numeric bbox that every backend can index;
on PostgreSQL the JSON columns become JSONB. Items are keyed by (collection_id, id) as in STAC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from base.db import JSONType

__all__ = ["Base", "CollectionRow", "ItemRow", "AOIRow", "JSONType"]



class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CollectionRow(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(256), default="")
    kind: Mapped[str] = mapped_column(String(32), default="input")  # input | product
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class ItemRow(Base):
    __tablename__ = "items"

    collection_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    # sort/search key: datetime, or start_datetime for items that only have a range
    sort_datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    start_datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    end_datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType)
    assets: Mapped[dict[str, Any]] = mapped_column(JSONType)
    links: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    stac_extensions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    __table_args__ = (
        Index("ix_items_sort", "sort_datetime", "collection_id", "id"),
        Index("ix_items_bbox", "minx", "maxx", "miny", "maxy"),
        Index("ix_items_period", "start_datetime", "end_datetime"),
    )


class AOIRow(Base):
    __tablename__ = "aois"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(256))
    name_en: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

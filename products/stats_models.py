"""Stored zonal statistics: one row per (product item, asset, unit, class), queried as time series.

The table lives in the catalog database (migration ``0002_product_stats``) and reuses the catalog's
declarative ``Base``. Writing an item's statistics replaces its previous rows in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from ingest.catalog.models import Base

__all__ = ["ProductStatRow", "store_stats", "item_stats", "timeseries"]


class ProductStatRow(Base):
    __tablename__ = "product_stats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[str] = mapped_column(String(256))
    asset: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(128))
    unit_name: Mapped[str] = mapped_column(String(256), default="")
    datetime: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    class_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    class_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    hectares: Mapped[float | None] = mapped_column(Float, nullable=True)
    fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    min: Mapped[float | None] = mapped_column(Float, nullable=True)
    max: Mapped[float | None] = mapped_column(Float, nullable=True)
    valid_hectares: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("collection_id", "item_id", "asset", "unit_id", "class_value", name="uq_product_stats_row"),
        Index("ix_product_stats_unit", "unit_id", "collection_id", "datetime"),
        Index("ix_product_stats_item", "collection_id", "item_id"),
    )

    def to_dict(self) -> dict[str, Any]:
        d = self.datetime if self.datetime.tzinfo else self.datetime.replace(tzinfo=dt.timezone.utc)
        out = {
            "collection": self.collection_id,
            "item": self.item_id,
            "asset": self.asset,
            "unit": self.unit_id,
            "unit_name": self.unit_name,
            "datetime": d.isoformat().replace("+00:00", "Z"),
            "valid_hectares": self.valid_hectares,
        }
        if self.class_value is not None:
            out.update({"class_value": self.class_value, "class_name": self.class_name, "hectares": self.hectares, "fraction": self.fraction})
        else:
            out.update({"mean": self.mean, "min": self.min, "max": self.max})
        return out


def store_stats(catalog: Any, collection_id: str, item_id: str, rows: Iterable[dict[str, Any]]) -> int:
    """Replace the statistics of one item with ``rows`` (dicts of the column names) atomically."""
    now = dt.datetime.now(dt.timezone.utc)
    rows = list(rows)
    with catalog.session() as s:
        s.execute(delete(ProductStatRow).where(ProductStatRow.collection_id == collection_id, ProductStatRow.item_id == item_id))
        s.add_all(ProductStatRow(collection_id=collection_id, item_id=item_id, computed_at=now, **r) for r in rows)
    return len(rows)


def item_stats(catalog: Any, collection_id: str, item_id: str) -> list[dict[str, Any]]:
    """Stored statistics of one item, by unit then class."""
    with catalog.session() as s:
        q = (
            select(ProductStatRow)
            .where(ProductStatRow.collection_id == collection_id, ProductStatRow.item_id == item_id)
            .order_by(ProductStatRow.asset, ProductStatRow.unit_id, ProductStatRow.class_value)
        )
        return [r.to_dict() for r in s.scalars(q)]


def timeseries(catalog: Any, unit_id: str, collection_id: str | None = None, class_value: int | None = None) -> list[dict[str, Any]]:
    """One unit's statistics over time (oldest first), optionally for one product collection and class."""
    with catalog.session() as s:
        q = select(ProductStatRow).where(ProductStatRow.unit_id == unit_id)
        if collection_id:
            q = q.where(ProductStatRow.collection_id == collection_id)
        if class_value is not None:
            q = q.where(ProductStatRow.class_value == class_value)
        q = q.order_by(ProductStatRow.datetime, ProductStatRow.collection_id, ProductStatRow.item_id, ProductStatRow.class_value)
        return [r.to_dict() for r in s.scalars(q)]

"""Stored zonal statistics: one row per (product item, asset, unit set, unit, class), queried as time series.

The table lives in the catalog database (migrations ``0002_product_stats`` and ``0004_stats_unit_set``)
and reuses the catalog's declarative ``Base``. A *unit set* names the units the statistics were computed
over: ``aoi`` (the built-in project AOIs), ``imported`` (``hpgeo aoi import``) or a caller's own name for
an explicit list of units. The sets of one item are stored side by side: writing an item's statistics for
one set replaces that set's previous rows, in one transaction, and never touches another set's rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from geo.aoi import approximate_ids
from ingest.catalog.models import Base
from products.errors import InvalidInputs

__all__ = ["ProductStatRow", "check_unit_set", "infer_unit_set", "store_stats", "item_stats", "timeseries"]


class ProductStatRow(Base):
    __tablename__ = "product_stats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[str] = mapped_column(String(256))
    asset: Mapped[str] = mapped_column(String(64))
    unit_set: Mapped[str] = mapped_column(String(64), default="imported")
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
        UniqueConstraint("collection_id", "item_id", "asset", "unit_set", "unit_id", "class_value", name="uq_product_stats_row"),
        Index("ix_product_stats_unit", "unit_id", "collection_id", "datetime"),
        Index("ix_product_stats_item", "collection_id", "item_id"),
    )

    def to_dict(self) -> dict[str, Any]:
        d = self.datetime if self.datetime.tzinfo else self.datetime.replace(tzinfo=dt.timezone.utc)
        out = {
            "collection": self.collection_id,
            "item": self.item_id,
            "asset": self.asset,
            "unit_set": self.unit_set,
            "unit": self.unit_id,
            "unit_name": self.unit_name,
            # a built-in AOI is a hand-drawn outline: its hectares are approximate (geo.aoi)
            "unit_approximate": self.unit_set == "aoi" and self.unit_id in approximate_ids(),
            "datetime": d.isoformat().replace("+00:00", "Z"),
            "valid_hectares": self.valid_hectares,
        }
        if self.class_value is not None:
            out.update({"class_value": self.class_value, "class_name": self.class_name, "hectares": self.hectares, "fraction": self.fraction})
        else:
            out.update({"mean": self.mean, "min": self.min, "max": self.max})
        return out


UNIT_SET_MAX = 64


def check_unit_set(name: str) -> str:
    """A unit-set name: 1–64 characters of letters, digits, ``-``, ``_``, ``.`` (else :class:`InvalidInputs`)."""
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise InvalidInputs(f"unit set must be 1-64 letters, digits, '-', '_' or '.', not {name!r}")
    return name


def infer_unit_set(unit_id: str) -> str:
    """``aoi`` for the id of a built-in project AOI, else ``imported`` (rows written without a set)."""
    from geo.aoi import builtin_aois

    return "aoi" if unit_id in {a.id for a in builtin_aois()} else "imported"


def store_stats(catalog: Any, collection_id: str, item_id: str, rows: Iterable[dict[str, Any]], unit_set: str | None = None) -> int:
    """Replace one item's statistics for one unit set (or for each set the rows name) with ``rows``, atomically.

    ``rows`` are dicts of the column names. With ``unit_set`` every row belongs to that set (a row naming
    another set is refused) and the set's previous rows are replaced even when ``rows`` is empty. Without
    it, each row's ``unit_set`` key is used, or, when absent, ``aoi`` for a built-in AOI id and
    ``imported`` otherwise. Rows of the item's other unit sets are kept.
    """
    now = dt.datetime.now(dt.timezone.utc)
    out = []
    for r in rows:
        r = dict(r)
        named = r.pop("unit_set", None)
        if unit_set is not None and named is not None and named != unit_set:
            raise InvalidInputs(f"a row of unit set {named!r} cannot be stored as unit set {unit_set!r}")
        r["unit_set"] = check_unit_set(unit_set or named or infer_unit_set(r["unit_id"]))
        out.append(r)
    sets = {check_unit_set(unit_set)} if unit_set is not None else set()
    sets |= {r["unit_set"] for r in out}
    with catalog.session() as s:
        if sets:
            s.execute(delete(ProductStatRow).where(
                ProductStatRow.collection_id == collection_id, ProductStatRow.item_id == item_id, ProductStatRow.unit_set.in_(sorted(sets))))
        s.add_all(ProductStatRow(collection_id=collection_id, item_id=item_id, computed_at=now, **r) for r in out)
    return len(out)


def item_stats(catalog: Any, collection_id: str, item_id: str, unit_set: str | None = None) -> list[dict[str, Any]]:
    """Stored statistics of one item (of one unit set, or of all), by unit set, asset, unit then class."""
    with catalog.session() as s:
        q = select(ProductStatRow).where(ProductStatRow.collection_id == collection_id, ProductStatRow.item_id == item_id)
        if unit_set is not None:
            q = q.where(ProductStatRow.unit_set == unit_set)
        q = q.order_by(ProductStatRow.unit_set, ProductStatRow.asset, ProductStatRow.unit_id, ProductStatRow.class_value)
        return [r.to_dict() for r in s.scalars(q)]


def timeseries(catalog: Any, unit_id: str, collection_id: str | None = None, class_value: int | None = None,
               unit_set: str | None = None) -> list[dict[str, Any]]:
    """One unit's statistics over time (oldest first), optionally for one product collection, class and unit set."""
    with catalog.session() as s:
        q = select(ProductStatRow).where(ProductStatRow.unit_id == unit_id)
        if collection_id:
            q = q.where(ProductStatRow.collection_id == collection_id)
        if class_value is not None:
            q = q.where(ProductStatRow.class_value == class_value)
        if unit_set is not None:
            q = q.where(ProductStatRow.unit_set == unit_set)
        q = q.order_by(ProductStatRow.datetime, ProductStatRow.collection_id, ProductStatRow.item_id, ProductStatRow.unit_set,
                       ProductStatRow.class_value)
        return [r.to_dict() for r in s.scalars(q)]

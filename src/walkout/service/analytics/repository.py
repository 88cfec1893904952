"""All SQL of store analytics: shopper visits opened in a window, what they picked, put back
and bought. Figures are summed in the database; visit ids are read only to count distinct
visits, never returned, and no account is read at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from walkout.service.models import CartEventRecord, Receipt, ReceiptLine, Visit, VisitRole

_ITEM_EVENTS = ("item_added", "item_removed")
#: Events that close a visit: item events after them were ignored by the cart.
_CLOSING_EVENTS = ("visit_closed", "receipt_issued")


@dataclass(frozen=True)
class VisitTimes:
    """When a shopper visit opened and closed (None: still in the store)."""

    opened_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class ProductTotals:
    """One product over a window: units picked up, put back and bought, and how many distinct
    visits did any of these."""

    sku: str
    picked: int
    put_back: int
    bought: int
    visits: int


def _in_window(since: datetime, until: datetime) -> ColumnElement[bool]:
    return (
        (Visit.role == VisitRole.SHOPPER) & (Visit.opened_at >= since) & (Visit.opened_at < until)
    )


def visits(session: Session, since: datetime, until: datetime) -> list[VisitTimes]:
    """Shopper visits (not staff at work) opened in [since, until)."""
    query = select(Visit.opened_at, Visit.closed_at).where(_in_window(since, until))
    return [VisitTimes(opened, closed) for opened, closed in session.execute(query)]


def _applied_item_events(since: datetime, until: datetime) -> Select[int, str, str, int]:
    """(visit, sku, type, qty) of the item events the cart applied: not those that arrived
    after their visit closed."""
    first_close = (
        select(
            CartEventRecord.visit_id.label("visit_id"),
            func.min(CartEventRecord.id).label("event_id"),
        )
        .where(CartEventRecord.type.in_(_CLOSING_EVENTS))
        .group_by(CartEventRecord.visit_id)
        .subquery()
    )
    return (
        select(
            CartEventRecord.visit_id,
            CartEventRecord.body["sku"].as_string(),
            CartEventRecord.type,
            CartEventRecord.body["qty"].as_integer(),
        )
        .join(Visit, Visit.id == CartEventRecord.visit_id)
        .outerjoin(first_close, first_close.c.visit_id == CartEventRecord.visit_id)
        .where(
            _in_window(since, until),
            CartEventRecord.type.in_(_ITEM_EVENTS),
            (first_close.c.event_id.is_(None)) | (CartEventRecord.id < first_close.c.event_id),
        )
    )


def _bought(since: datetime, until: datetime) -> Select[int, str, str, int]:
    """(visit, sku, "bought", qty) of the receipt lines of the window's visits."""
    return (
        select(Receipt.visit_id, ReceiptLine.sku, literal("bought"), ReceiptLine.qty)
        .join(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
        .join(Visit, Visit.id == Receipt.visit_id)
        .where(_in_window(since, until))
    )


def product_totals(session: Session, since: datetime, until: datetime) -> list[ProductTotals]:
    """Per product: units picked up (item_added), put back (item_removed), bought (receipts),
    and the number of distinct visits that did any of it."""
    moves = union_all(_applied_item_events(since, until), _bought(since, until)).subquery()
    visit_id, sku, kind, qty = moves.c
    query = (
        select(
            sku,
            func.sum(qty).filter(kind == "item_added"),
            func.sum(qty).filter(kind == "item_removed"),
            func.sum(qty).filter(kind == "bought"),
            func.count(visit_id.distinct()),
        )
        .group_by(sku)
        .order_by(sku)
    )
    return [
        ProductTotals(s, int(picked or 0), int(put_back or 0), int(bought or 0), int(n))
        for s, picked, put_back, bought, n in session.execute(query)
    ]


def basket_sizes(session: Session, since: datetime, until: datetime) -> Sequence[int]:
    """Units on each receipt of the window's visits (0 for a visit that bought nothing)."""
    query = (
        select(func.coalesce(func.sum(ReceiptLine.qty), 0))
        .select_from(Receipt)
        .join(Visit, Visit.id == Receipt.visit_id)
        .outerjoin(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
        .where(_in_window(since, until))
        .group_by(Receipt.id)
    )
    return [int(n) for n in session.scalars(query)]

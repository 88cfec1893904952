"""All SQL about a shopper's own baskets: what they took home, receipt by receipt."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from walkout.service.models import (
    Dispute,
    DisputeState,
    Order,
    OrderLine,
    OrderStatus,
    Receipt,
    ReceiptLine,
)
from walkout.service.suggestions.scoring import Basket


def receipt_baskets(session: Session, account_id: int) -> list[Basket]:
    """One basket per receipt of the account, without the lines the shopper disputed (they
    say they did not take them) unless staff denied the dispute."""
    query = (
        select(Receipt.id, Receipt.issued_at, ReceiptLine.sku, ReceiptLine.qty)
        .join(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
        .outerjoin(Dispute, Dispute.receipt_line_id == ReceiptLine.id)
        .where(
            Receipt.account_id == account_id,
            or_(Dispute.id.is_(None), Dispute.state == DisputeState.DENIED),
        )
        .order_by(Receipt.id)
    )
    return _baskets(session.execute(query))


def order_baskets(session: Session, account_id: int) -> list[Basket]:
    """One basket per order ahead the account collected (dated when collected)."""
    at = func.coalesce(Order.closed_at, Order.created_at)
    query = (
        select(Order.id, at, OrderLine.sku, OrderLine.qty)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.account_id == account_id, Order.status == OrderStatus.COLLECTED)
        .order_by(Order.id)
    )
    return _baskets(session.execute(query))


def _baskets(rows: Iterable[tuple[int, datetime, str, int]]) -> list[Basket]:
    """Rows of (basket id, time, sku, qty), grouped into baskets."""
    found: dict[int, tuple[datetime, dict[str, int]]] = {}
    for basket_id, at, sku, qty in rows:
        items = found.setdefault(basket_id, (at, {}))[1]
        items[sku] = items.get(sku, 0) + qty
    return [Basket(at, items) for at, items in found.values()]

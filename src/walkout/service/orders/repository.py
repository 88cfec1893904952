"""All SQL about orders ahead, their lines and the stock they reserve."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, delete, func, select, text, update
from sqlalchemy.orm import Session

from walkout.service.models import Order, OrderLine, OrderStatus, OrderStock, PaymentState

#: Orders that hold their stock: reserved until collected, canceled or a no-show.
RESERVING = (
    OrderStatus.AUTHORISING,
    OrderStatus.PLACED,
    OrderStatus.PICKING,
    OrderStatus.READY,
    OrderStatus.HANDING_OVER,
)
#: Any number that names the order-placement lock among PostgreSQL's advisory locks.
_PLACEMENT_LOCK = 0x776F_6F72  # "woor"
_Row = TypeVar("_Row", OrderLine, OrderStock)


@dataclass(frozen=True)
class Change:
    """New values for an order; None leaves a field as it is (``payment_error`` is always
    written)."""

    status: OrderStatus | None = None
    payment_state: PaymentState | None = None
    authorization_id: str | None = None
    authorized_amount: int | None = None
    captured_amount: int | None = None
    id_checked_by: int | None = None
    handed_over_by: int | None = None
    picking_at: datetime | None = None
    ready_at: datetime | None = None
    closed_at: datetime | None = None
    payment_error: str | None = None


def lock_placement(session: Session) -> None:
    """Take turns placing orders, so two orders cannot both get the last unit or slot place.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every transaction is already a
    writer's (``BEGIN IMMEDIATE``), so placements are serialised anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PLACEMENT_LOCK})


def reserved(session: Session) -> Mapping[str, int]:
    """Units of each product held by open orders."""
    query = (
        select(OrderStock.sku, func.sum(OrderStock.qty))
        .join(Order, Order.id == OrderStock.order_id)
        .where(Order.status.in_(RESERVING))
        .group_by(OrderStock.sku)
    )
    return {sku: int(qty) for sku, qty in session.execute(query)}


def booked(session: Session, first: datetime, last: datetime) -> Mapping[datetime, int]:
    """Orders booked in each slot starting in [first, last]; canceled ones free their place."""
    query = (
        select(Order.slot_start, func.count())
        .where(
            Order.slot_start >= first,
            Order.slot_start <= last,
            Order.status != OrderStatus.CANCELED,
        )
        .group_by(Order.slot_start)
    )
    return {start: int(n) for start, n in session.execute(query)}


def get(session: Session, order_id: int) -> Order | None:
    """The order as committed now (not a stale copy from this session)."""
    query = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def by_key(session: Session, account_id: int, key: str) -> Order | None:
    query = select(Order).where(Order.account_id == account_id, Order.idempotency_key == key)
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def add(session: Session, row: Order | OrderLine | OrderStock) -> None:
    session.add(row)
    session.flush()


def _by_order(
    session: Session, row: type[_Row], order_ids: Collection[int]
) -> dict[int, list[_Row]]:
    """The ``row``s of each of the orders, by SKU, in one query: a page of orders costs as many
    queries as one. Orders without any are left out."""
    query = select(row).where(row.order_id.in_(order_ids)).order_by(row.order_id, row.sku)
    found: dict[int, list[_Row]] = {}
    for r in session.scalars(query):
        found.setdefault(r.order_id, []).append(r)
    return found


def lines(session: Session, order_ids: Collection[int]) -> Mapping[int, Sequence[OrderLine]]:
    """The lines of each of the orders, by SKU."""
    return _by_order(session, OrderLine, order_ids)


def stock(session: Session, order_ids: Collection[int]) -> Mapping[int, Sequence[OrderStock]]:
    """The shelf units each of the orders takes, by SKU."""
    return _by_order(session, OrderStock, order_ids)


def of_account(session: Session, account_id: int, offset: int, limit: int) -> Sequence[Order]:
    """The account's orders, newest first (declined ones were never kept)."""
    query = (
        select(Order)
        .where(Order.account_id == account_id)
        .order_by(Order.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return session.scalars(query).all()


def for_staff(
    session: Session,
    statuses: Sequence[OrderStatus],
    slot_from: datetime | None,
    slot_to: datetime | None,
    offset: int,
    limit: int,
) -> Sequence[Order]:
    """Orders in ``statuses`` (all when empty) whose slot starts in [slot_from, slot_to), by
    slot then id: the order they are to be picked in."""
    query = select(Order)
    if statuses:
        query = query.where(Order.status.in_(statuses))
    if slot_from is not None:
        query = query.where(Order.slot_start >= slot_from)
    if slot_to is not None:
        query = query.where(Order.slot_start < slot_to)
    query = query.order_by(Order.slot_start, Order.id).offset(offset).limit(limit)
    return session.scalars(query).all()


def transition(session: Session, seen: Order, change: Change, at: datetime) -> bool:
    """Apply ``change`` if the order's status and payment state are still those ``seen`` had.

    False when another request or worker moved it first (then nothing is written).
    """
    values = {k: v for k, v in asdict(change).items() if v is not None or k == "payment_error"}
    query = (
        update(Order)
        .where(
            Order.id == seen.id,
            Order.status == seen.status,
            Order.payment_state == seen.payment_state,
        )
        .values(**values, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(query)).rowcount == 1


def discard(session: Session, seen: Order) -> bool:
    """Delete an order still as ``seen`` (its card hold was refused); False if it moved on."""
    query = delete(Order).where(
        Order.id == seen.id,
        Order.status == seen.status,
        Order.payment_state == seen.payment_state,
    )
    return cast(CursorResult[Any], session.execute(query)).rowcount == 1


def overdue(session: Session, cutoff: datetime) -> Sequence[int]:
    """Open orders whose slot ended at or before ``cutoff``: not collected in time."""
    open_ = (OrderStatus.PLACED, OrderStatus.PICKING, OrderStatus.READY)
    query = (
        select(Order.id).where(Order.status.in_(open_), Order.slot_end <= cutoff).order_by(Order.id)
    )
    return session.scalars(query).all()


def payment_due(session: Session) -> Sequence[int]:
    """Orders whose payment has a step to take: a hold to ask for, a capture at handover, or a
    hold to release (or a no-show fee to capture) after a cancel or a no-show."""
    closing = (OrderStatus.HANDING_OVER, OrderStatus.CANCELED, OrderStatus.NO_SHOW)
    query = (
        select(Order.id)
        .where(
            (
                (Order.status == OrderStatus.AUTHORISING)
                & (Order.payment_state == PaymentState.PENDING)
            )
            | (Order.status.in_(closing) & (Order.payment_state == PaymentState.AUTHORISED))
        )
        .order_by(Order.id)
    )
    return session.scalars(query).all()

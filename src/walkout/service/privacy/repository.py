"""All SQL about consent, what an account's export holds, and what blocks its erasure."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from walkout.service.models import (
    Account,
    Admission,
    Card,
    CartEventRecord,
    ConsentChange,
    Dispute,
    DisputeState,
    Erasure,
    Order,
    OrderLine,
    OrderStatus,
    Role,
    Visit,
)

#: Orders that are over: nothing more will be charged, picked or handed over.
_ORDERS_DONE = (OrderStatus.COLLECTED, OrderStatus.CANCELED, OrderStatus.NO_SHOW)


def add(session: Session, row: ConsentChange | Erasure) -> None:
    session.add(row)
    session.flush()


def latest_consent(session: Session, account_id: int) -> ConsentChange | None:
    """The account's newest consent change: the consent in force."""
    query = (
        select(ConsentChange)
        .where(ConsentChange.account_id == account_id)
        .order_by(ConsentChange.id.desc())
        .limit(1)
    )
    return session.scalars(query).one_or_none()


def consent_changes(session: Session, account_id: int) -> Sequence[ConsentChange]:
    """The account's consent changes, oldest first."""
    query = (
        select(ConsentChange)
        .where(ConsentChange.account_id == account_id)
        .order_by(ConsentChange.id)
    )
    return session.scalars(query).all()


def delete_consent(session: Session, account_id: int) -> None:
    session.execute(delete(ConsentChange).where(ConsentChange.account_id == account_id))


def erasure(session: Session, account_id: int) -> Erasure | None:
    return session.get(Erasure, account_id)


def cards(session: Session, account_id: int) -> Sequence[Card]:
    """The account's saved cards at every provider, oldest first."""
    query = select(Card).where(Card.account_id == account_id).order_by(Card.id)
    return session.scalars(query).all()


def visits(session: Session, account_id: int) -> Sequence[Visit]:
    """The account's visits, oldest first."""
    query = select(Visit).where(Visit.account_id == account_id).order_by(Visit.id)
    return session.scalars(query).all()


def admissions(session: Session, account_id: int) -> Sequence[Admission]:
    """Where and when the account came in, oldest first."""
    query = (
        select(Admission)
        .where(Admission.account_id == account_id)
        .order_by(Admission.at, Admission.visit_id)
    )
    return session.scalars(query).all()


def cart_events(session: Session, account_id: int) -> Sequence[CartEventRecord]:
    """The cart events of the account's visits, by visit and in the order they arrived."""
    query = (
        select(CartEventRecord)
        .join(Visit, Visit.id == CartEventRecord.visit_id)
        .where(Visit.account_id == account_id)
        .order_by(CartEventRecord.visit_id, CartEventRecord.id)
    )
    return session.scalars(query).all()


def orders(session: Session, account_id: int) -> Sequence[Order]:
    """The account's orders ahead, oldest first."""
    query = select(Order).where(Order.account_id == account_id).order_by(Order.id)
    return session.scalars(query).all()


def order_lines(session: Session, account_id: int) -> Sequence[OrderLine]:
    """The lines of all the account's orders, by order."""
    query = (
        select(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.account_id == account_id)
        .order_by(OrderLine.order_id, OrderLine.sku)
    )
    return session.scalars(query).all()


def has_dispute_in_progress(session: Session, account_id: int) -> bool:
    """Whether a dispute of the account waits for staff or for its refund."""
    running = (DisputeState.PENDING, DisputeState.APPROVED)
    query = select(exists().where(Dispute.account_id == account_id, Dispute.state.in_(running)))
    return bool(session.scalar(query))


def has_order_in_progress(session: Session, account_id: int) -> bool:
    """Whether an order ahead of the account is not collected, canceled or a no-show yet."""
    query = select(
        exists().where(Order.account_id == account_id, Order.status.not_in(_ORDERS_DONE))
    )
    return bool(session.scalar(query))


def other_managers(session: Session, account_id: int) -> int:
    """Managers other than ``account_id`` who can still sign in (not blocked, not erased)."""
    query = select(func.count()).where(
        Account.role == Role.MANAGER,
        Account.id != account_id,
        ~Account.blocked,
        ~exists().where(Erasure.account_id == Account.id),
    )
    return int(session.scalar(query) or 0)

"""All SQL about payments."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from walkout.service.models import Payment, PaymentState, Receipt, Visit, VisitStatus


@dataclass(frozen=True)
class Change:
    """New values for a payment; None leaves a field as it is (``error`` is always written)."""

    state: PaymentState | None = None
    attempt: int | None = None
    amount: int | None = None
    held: bool | None = None
    customer_id: str | None = None
    method_id: str | None = None
    authorization_id: str | None = None
    authorized_amount: int | None = None
    captured_amount: int | None = None
    error: str | None = None


def get(session: Session, payment_id: int) -> Payment | None:
    """The payment as committed now (not a stale copy from this session)."""
    query = (
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def get_by_visit(session: Session, visit_id: int) -> Payment | None:
    query = (
        select(Payment)
        .where(Payment.visit_id == visit_id)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def by_visits(session: Session, visit_ids: Collection[int]) -> Mapping[int, Payment]:
    """The payments of those of the visits that have one, by visit, in one query."""
    query = (
        select(Payment)
        .where(Payment.visit_id.in_(visit_ids))
        .execution_options(populate_existing=True)
    )
    return {p.visit_id: p for p in session.scalars(query)}


def add(session: Session, payment: Payment) -> None:
    session.add(payment)
    session.flush()


def transition(session: Session, seen: Payment, change: Change, at: datetime) -> bool:
    """Apply ``change`` if the payment is still in the state and attempt ``seen`` had.

    False when another worker moved it first (then nothing is written).
    """
    values = {k: v for k, v in asdict(change).items() if v is not None or k == "error"}
    query = (
        update(Payment)
        .where(Payment.id == seen.id, Payment.state == seen.state, Payment.attempt == seen.attempt)
        .values(**values, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(query)).rowcount == 1


def set_visit_status(session: Session, visit_id: int, status: VisitStatus) -> None:
    query = (
        update(Visit)
        .where(Visit.id == visit_id)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    session.execute(query)


def resumable(session: Session) -> Sequence[int]:
    """Payments a worker can move on now: not authorised yet, or authorised and not held."""
    query = (
        select(Payment.id)
        .where(
            (Payment.state == PaymentState.PENDING)
            | ((Payment.state == PaymentState.AUTHORISED) & ~Payment.held)
        )
        .order_by(Payment.id)
    )
    return session.scalars(query).all()


def held(session: Session) -> Sequence[Receipt]:
    """Receipts whose payment waits for staff review, oldest first."""
    query = (
        select(Receipt)
        .join(Payment, Payment.visit_id == Receipt.visit_id)
        .where(Payment.held)
        .order_by(Receipt.id)
    )
    return session.scalars(query).all()

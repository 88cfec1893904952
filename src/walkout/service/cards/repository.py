"""All SQL about provider customers and saved cards."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from walkout.service.models import Card, PaymentCustomer, Visit, VisitStatus


def get_customer(session: Session, account_id: int, provider: str) -> PaymentCustomer | None:
    return session.get(PaymentCustomer, (account_id, provider))


def add(session: Session, row: PaymentCustomer | Card) -> None:
    session.add(row)
    session.flush()


def cards_of(session: Session, account_id: int, provider: str) -> Sequence[Card]:
    """The account's cards at ``provider``, the most recently added first."""
    query = (
        select(Card)
        .where(Card.account_id == account_id, Card.provider == provider)
        .order_by(Card.added_at.desc(), Card.id.desc())
    )
    return session.scalars(query).all()


def get_card(session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id)


def get_by_method(session: Session, method_id: str) -> Card | None:
    return session.scalars(select(Card).where(Card.method_id == method_id)).one_or_none()


def delete(session: Session, card: Card) -> None:
    session.delete(card)
    session.flush()


def has_visit_in_progress(session: Session, account_id: int) -> bool:
    """Whether the account is in the store or its last visit's payment is still running."""
    active = (VisitStatus.OPEN, VisitStatus.CLOSED)
    query = select(exists().where(Visit.account_id == account_id, Visit.status.in_(active)))
    return bool(session.scalar(query))

"""All SQL about disputes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from walkout.service.models import Dispute, DisputeState


def get(session: Session, dispute_id: int) -> Dispute | None:
    query = (
        select(Dispute).where(Dispute.id == dispute_id).execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def of_receipt(session: Session, receipt_id: int) -> Sequence[Dispute]:
    return of_receipts(session, [receipt_id]).get(receipt_id, [])


def of_receipts(session: Session, receipt_ids: Collection[int]) -> Mapping[int, list[Dispute]]:
    """The disputes of each of the receipts, oldest first, in one query; receipts without one
    are left out."""
    query = select(Dispute).where(Dispute.receipt_id.in_(receipt_ids)).order_by(Dispute.id)
    out: dict[int, list[Dispute]] = {}
    for dispute in session.scalars(query):
        out.setdefault(dispute.receipt_id, []).append(dispute)
    return out


def refunded(session: Session, receipt_ids: Collection[int]) -> Mapping[int, int]:
    """What was refunded on each of the receipts, in one query; receipts without a refund are
    left out."""
    query = (
        select(Dispute.receipt_id, func.sum(Dispute.amount))
        .where(Dispute.receipt_id.in_(receipt_ids), Dispute.state == DisputeState.REFUNDED)
        .group_by(Dispute.receipt_id)
    )
    return {receipt_id: int(amount) for receipt_id, amount in session.execute(query)}


def in_state(session: Session, state: DisputeState) -> Sequence[Dispute]:
    """Disputes in ``state``, oldest first."""
    query = select(Dispute).where(Dispute.state == state).order_by(Dispute.id)
    return session.scalars(query).all()


def add(session: Session, dispute: Dispute) -> None:
    session.add(dispute)
    session.flush()


def decide(
    session: Session,
    dispute_id: int,
    expected: DisputeState,
    state: DisputeState,
    at: datetime,
    **values: object,
) -> bool:
    """Move a dispute from ``expected`` to ``state``; False when it was not in ``expected``."""
    query = (
        update(Dispute)
        .where(Dispute.id == dispute_id, Dispute.state == expected)
        .values(state=state, decided_at=at, **values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(query)).rowcount == 1

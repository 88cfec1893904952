"""All SQL about receipts and their lines."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from walkout.service.models import CartEventRecord, Receipt, ReceiptLine


def get(session: Session, receipt_id: int, *, for_update: bool = False) -> Receipt | None:
    """The receipt, locked until the transaction ends when ``for_update`` (PostgreSQL)."""
    return session.get(Receipt, receipt_id, with_for_update=for_update)


def get_by_visit(session: Session, visit_id: int) -> Receipt | None:
    return session.scalars(select(Receipt).where(Receipt.visit_id == visit_id)).one_or_none()


def of_account(session: Session, account_id: int) -> Sequence[Receipt]:
    """The account's receipts, newest first."""
    query = (
        select(Receipt)
        .where(Receipt.account_id == account_id)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    )
    return session.scalars(query).all()


def lines(session: Session, receipt_id: int) -> Sequence[ReceiptLine]:
    return lines_of(session, [receipt_id]).get(receipt_id, [])


def lines_of(session: Session, receipt_ids: Collection[int]) -> Mapping[int, list[ReceiptLine]]:
    """The lines of each of the receipts, in one query; receipts without lines are left out."""
    query = (
        select(ReceiptLine)
        .where(ReceiptLine.receipt_id.in_(receipt_ids))
        .order_by(ReceiptLine.receipt_id, ReceiptLine.id)
    )
    out: dict[int, list[ReceiptLine]] = {}
    for line in session.scalars(query):
        out.setdefault(line.receipt_id, []).append(line)
    return out


def get_line(session: Session, line_id: int) -> ReceiptLine | None:
    return session.get(ReceiptLine, line_id)


def add(session: Session, row: Receipt | ReceiptLine) -> None:
    session.add(row)
    session.flush()


def delete(session: Session, line: ReceiptLine) -> None:
    session.delete(line)
    session.flush()


def issued_event(session: Session, visit_id: int, event_id: str) -> CartEventRecord | None:
    """The logged ``ReceiptIssued`` a receipt was made from."""
    query = select(CartEventRecord).where(
        CartEventRecord.visit_id == visit_id, CartEventRecord.event_id == event_id
    )
    return session.scalars(query).one_or_none()

"""All SQL about stock per facing and staff tasks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from walkout.service.models import StaffTask, Stock, TaskKind


def lock_stock(session: Session, plate: str, sku: str) -> Stock | None:
    """The facing's stock row, locked for this transaction; None when never counted."""
    query = (
        select(Stock)
        .where(Stock.plate == plate, Stock.sku == sku)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def all_stock(session: Session) -> Sequence[Stock]:
    return session.scalars(select(Stock)).all()


def add(session: Session, row: Stock | StaffTask) -> None:
    session.add(row)
    session.flush()


def open_restock(session: Session, plate: str, sku: str) -> StaffTask | None:
    query = select(StaffTask).where(
        StaffTask.kind == TaskKind.RESTOCK,
        StaffTask.plate == plate,
        StaffTask.sku == sku,
        StaffTask.closed_at.is_(None),
    )
    return session.scalars(query).one_or_none()


def open_tasks(session: Session) -> Sequence[StaffTask]:
    """Open tasks, newest first."""
    query = select(StaffTask).where(StaffTask.closed_at.is_(None)).order_by(StaffTask.id.desc())
    return session.scalars(query).all()


def lock_task(session: Session, task_id: int) -> StaffTask | None:
    query = (
        select(StaffTask)
        .where(StaffTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()

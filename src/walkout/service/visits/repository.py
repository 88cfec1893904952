"""All SQL about visits."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from walkout.service.models import Visit, VisitStatus


def get_open(session: Session, account_id: int) -> Visit | None:
    query = select(Visit).where(Visit.account_id == account_id, Visit.status == VisitStatus.OPEN)
    return session.scalars(query).one_or_none()


def has_unpaid(session: Session, account_id: int) -> bool:
    query = select(
        exists().where(Visit.account_id == account_id, Visit.status == VisitStatus.UNPAID)
    )
    return bool(session.scalar(query))


def add(session: Session, visit: Visit) -> None:
    session.add(visit)
    session.flush()

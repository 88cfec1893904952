"""All SQL about admissions (consumed entry tokens)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from walkout.service.models import Admission


def is_used(session: Session, token_id: str) -> bool:
    return session.get(Admission, token_id) is not None


def add(session: Session, admission: Admission) -> None:
    session.add(admission)
    session.flush()

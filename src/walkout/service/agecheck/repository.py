"""All SQL about age checks."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from walkout.service.models import AgeCheck, AgeCheckState


def get(session: Session, visit_id: int, *, for_update: bool = False) -> AgeCheck | None:
    query = select(AgeCheck).where(AgeCheck.visit_id == visit_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def add(session: Session, check: AgeCheck) -> None:
    session.add(check)
    session.flush()


def open_of(session: Session, visit_ids: Collection[int]) -> set[int]:
    """Those of the visits whose age check is open, in one query."""
    query = select(AgeCheck.visit_id).where(
        AgeCheck.visit_id.in_(visit_ids), AgeCheck.state == AgeCheckState.OPEN
    )
    return set(session.scalars(query))

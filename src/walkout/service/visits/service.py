"""Visits: an account's time in the store, opened at the gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from walkout.service.errors import NotFound
from walkout.service.fields import MAX_ID
from walkout.service.models import Visit, VisitRole, VisitStatus
from walkout.service.visits import repository


class NoOpenVisit(NotFound):
    code = "no_open_visit"

    def __init__(self) -> None:
        super().__init__("this account is not in the store")


@dataclass(frozen=True)
class Entered:
    """The visit a person was admitted to, and whether the admission opened it."""

    visit: Visit
    new_visit: bool


def visit_id_in(token: str | None) -> int | None:
    """The visit id a gate put in an engine token (ADR 4); None when the token is not one.

    Cart events and floor views both carry the token, so both read it here, the one rule.
    """
    if token is None or not token.isascii() or not token.isdigit() or len(token) > 10:
        return None
    visit_id = int(token)
    return visit_id if 1 <= visit_id <= MAX_ID else None


def current(session: Session, account_id: int) -> Visit:
    """The account's open visit."""
    visit = repository.get_open(session, account_id)
    if visit is None:
        raise NoOpenVisit()
    return visit


def has_unpaid(session: Session, account_id: int) -> bool:
    """Whether the account owes a closed visit's payment."""
    return repository.has_unpaid(session, account_id)


def enter(session: Session, account_id: int, role: VisitRole, gate: str, now: datetime) -> Entered:
    """One more person in on the account: joins its open visit, or opens one."""
    visit = repository.get_open(session, account_id)
    if visit is not None:
        visit.people += 1
        session.flush()
        return Entered(visit, new_visit=False)
    visit = Visit(
        account_id=account_id,
        role=role,
        status=VisitStatus.OPEN,
        entry_gate=gate,
        people=1,
        opened_at=now,
    )
    repository.add(session, visit)
    return Entered(visit, new_visit=True)

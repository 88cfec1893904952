"""Repositories against SQLite and PostgreSQL, each test in a rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from walkout.service.accounts import repository as accounts
from walkout.service.db import make_sessionmaker
from walkout.service.entry import repository as admissions
from walkout.service.models import (
    Account,
    Admission,
    ApiToken,
    FailureScope,
    Role,
    TokenKind,
    Visit,
    VisitRole,
    VisitStatus,
)
from walkout.service.visits import repository as visits

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with make_sessionmaker(connection)() as session:
        yield session


def new_account(session: Session, email: str | None = "a@example.com") -> Account:
    account = Account(
        email=email, role=Role.SHOPPER, blocked=False, has_payment_method=False, created_at=T0
    )
    accounts.add(session, account)
    return account


def new_visit(session: Session, account: Account, status: VisitStatus) -> Visit:
    visit = Visit(
        account_id=account.id,
        role=VisitRole.SHOPPER,
        status=status,
        entry_gate="entry-1",
        people=1,
        opened_at=T0,
    )
    visits.add(session, visit)
    return visit


def test_times_come_back_as_aware_utc(session: Session) -> None:
    cet = timezone(timedelta(hours=1))
    account = new_account(session)
    account.created_at = datetime(2026, 11, 29, 13, 0, 0, 250000, tzinfo=cet)
    session.flush()
    session.expire_all()
    reloaded = accounts.get(session, account.id)
    assert reloaded is not None
    assert reloaded.created_at == T0.replace(microsecond=250000)
    assert reloaded.created_at.tzinfo is UTC


def test_naive_times_are_refused(session: Session) -> None:
    account = new_account(session)
    account.created_at = datetime(2026, 11, 29, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_email_is_unique(session: Session) -> None:
    new_account(session)
    with pytest.raises(IntegrityError), session.begin_nested():
        new_account(session)
    assert accounts.get_by_email(session, "a@example.com") is not None
    assert accounts.get_by_email(session, "b@example.com") is None


def test_live_tokens_respect_expiry(session: Session) -> None:
    account = new_account(session)
    for name, kind, expires in [
        ("session", TokenKind.SESSION, T0 + timedelta(hours=1)),
        ("device", TokenKind.DEVICE, None),
    ]:
        accounts.add(
            session,
            ApiToken(
                account_id=account.id,
                token_hash=name.ljust(64, "0"),
                kind=kind,
                created_at=T0,
                expires_at=expires,
            ),
        )
    later = T0 + timedelta(hours=1)
    assert accounts.get_live_token(session, "session".ljust(64, "0"), T0) is not None
    assert accounts.get_live_token(session, "session".ljust(64, "0"), later) is None
    assert accounts.get_live_token(session, "device".ljust(64, "0"), later) is not None
    assert accounts.get_live_token(session, "unknown".ljust(64, "0"), T0) is None
    accounts.delete_session_tokens(session, account.id, expired_before=later)
    assert {t.kind for t in session.query(ApiToken)} == {TokenKind.DEVICE}


def test_failures_are_counted_per_scope_and_key_within_the_window(session: Session) -> None:
    email = "a@example.com"
    for minutes in (0, 1, 2, 6):
        at = T0 + timedelta(minutes=minutes)
        accounts.record_failure(session, FailureScope.ACCOUNT, email, at)
    accounts.record_failure(session, FailureScope.CLIENT, email, T0 + timedelta(minutes=3))

    def count(scope: FailureScope, key: str, since: datetime) -> tuple[int, datetime | None]:
        failures = accounts.failures_since(session, scope, key, since)
        return failures.count, failures.oldest

    since = T0 + timedelta(minutes=1)  # exclusive
    assert count(FailureScope.ACCOUNT, email, since) == (2, T0 + timedelta(minutes=2))
    assert count(FailureScope.CLIENT, email, since) == (1, T0 + timedelta(minutes=3))
    assert count(FailureScope.ACCOUNT, "b@example.com", since) == (0, None)
    accounts.prune_failures(session, T0 + timedelta(minutes=1))  # inclusive
    assert count(FailureScope.ACCOUNT, email, T0 - timedelta(days=1))[0] == 2
    accounts.clear_failures(session, FailureScope.ACCOUNT, email)
    assert count(FailureScope.ACCOUNT, email, T0 - timedelta(days=1))[0] == 0
    assert count(FailureScope.CLIENT, email, T0 - timedelta(days=1))[0] == 1


def test_one_open_visit_per_account(session: Session) -> None:
    account = new_account(session)
    assert visits.get_open(session, account.id) is None
    assert not visits.has_unpaid(session, account.id)
    new_visit(session, account, VisitStatus.PAID)
    new_visit(session, account, VisitStatus.UNPAID)
    new_visit(session, account, VisitStatus.UNPAID)
    opened = new_visit(session, account, VisitStatus.OPEN)
    assert visits.get_open(session, account.id) is opened
    assert visits.has_unpaid(session, account.id)
    with pytest.raises(IntegrityError), session.begin_nested():
        new_visit(session, account, VisitStatus.OPEN)
    other = new_account(session, "b@example.com")
    assert not visits.has_unpaid(session, other.id)
    new_visit(session, other, VisitStatus.OPEN)


def test_an_admission_marks_its_token_used_once(session: Session) -> None:
    account = new_account(session)
    visit = new_visit(session, account, VisitStatus.OPEN)

    def admit() -> None:
        admission = Admission(
            token_id="ab" * 16, account_id=account.id, visit_id=visit.id, gate="g", at=T0
        )
        admissions.add(session, admission)

    assert not admissions.is_used(session, "ab" * 16)
    admit()
    assert admissions.is_used(session, "ab" * 16)
    session.expunge_all()
    with pytest.raises(IntegrityError), session.begin_nested():
        admit()

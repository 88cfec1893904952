"""All SQL about accounts, bearer tokens and counted sign-in failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from walkout.service.models import Account, ApiToken, FailureScope, SignInFailure, TokenKind


def get(session: Session, account_id: int, *, for_update: bool = False) -> Account | None:
    """The account, locked until the transaction ends when ``for_update`` (PostgreSQL)."""
    query = select(Account).where(Account.id == account_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_by_email(session: Session, email: str) -> Account | None:
    return session.scalars(select(Account).where(Account.email == email)).one_or_none()


def add(session: Session, row: Account | ApiToken) -> None:
    """Insert ``row`` now, so its id is known and constraint violations surface here."""
    session.add(row)
    session.flush()


def get_live_token(session: Session, token_hash: str, now: datetime) -> ApiToken | None:
    """The unexpired bearer token with this hash."""
    query = select(ApiToken).where(
        ApiToken.token_hash == token_hash,
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
    )
    return session.scalars(query).one_or_none()


def delete_token(session: Session, token: ApiToken) -> None:
    session.delete(token)
    session.flush()


def delete_session_tokens(
    session: Session, account_id: int, *, expired_before: datetime | None = None
) -> None:
    """Delete the account's sign-in tokens: all, or only those expired before the given time."""
    query = delete(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.kind == TokenKind.SESSION
    )
    if expired_before is not None:
        query = query.where(ApiToken.expires_at <= expired_before)
    session.execute(query)


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins counted for one key within the window."""

    count: int
    oldest: datetime | None


def failures_since(session: Session, scope: FailureScope, key: str, since: datetime) -> Failures:
    """The failures ``key`` has had after ``since``."""
    query = select(func.count(), func.min(SignInFailure.at)).where(
        SignInFailure.scope == scope, SignInFailure.key == key, SignInFailure.at > since
    )
    row = session.execute(query).one()
    return Failures(row[0], row[1])


def record_failure(session: Session, scope: FailureScope, key: str, at: datetime) -> None:
    session.add(SignInFailure(scope=scope, key=key, at=at))
    session.flush()


def clear_failures(session: Session, scope: FailureScope, key: str) -> None:
    session.execute(
        delete(SignInFailure).where(SignInFailure.scope == scope, SignInFailure.key == key)
    )


def prune_failures(session: Session, before: datetime) -> None:
    """Forget failures too old to count."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= before))

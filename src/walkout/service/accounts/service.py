"""Accounts: sign-up, rate-limited sign-in, sign-out, devices and managers' changes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from walkout.service.accounts import repository
from walkout.service.accounts.schemas import AccountUpdate, PersonRole
from walkout.service.deps import Services
from walkout.service.errors import AccountBlocked, Conflict, DomainError, NotFound
from walkout.service.models import Account, ApiToken, FailureScope, Role, TokenKind
from walkout.service.security import DEVICE_TOKEN_PREFIX, SESSION_TOKEN_PREFIX


class EmailTaken(Conflict):
    code = "email_taken"

    def __init__(self) -> None:
        super().__init__("an account with this email exists")


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"
    keep_changes = True  # the failure just counted must be committed

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins: try again in {retry_after_s} s",
            {"Retry-After": str(retry_after_s)},
        )


class WrongPassword(DomainError):
    status = 403
    code = "wrong_password"
    keep_changes = True  # the failure just counted must be committed

    def __init__(self) -> None:
        super().__init__("the password does not match: nothing was changed")


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token: the only time its plain text exists."""

    token: str
    expires_at: datetime | None


@dataclass(frozen=True)
class DeviceCredentials:
    account: Account
    token: IssuedToken


def create_person(
    session: Session, services: Services, email: str, password: str, role: PersonRole
) -> Account:
    """A new account for a person."""
    if repository.get_by_email(session, email) is not None:
        raise EmailTaken()
    account = Account(
        email=email,
        password_hash=services.passwords.hash(password),
        role=role,
        blocked=False,
        has_payment_method=False,
        created_at=services.clock(),
    )
    repository.add(session, account)
    return account


_FailureKeys = tuple[tuple[FailureScope, str], ...]


def _failure_keys(email: str, client: str) -> _FailureKeys:
    """What failed password checks are counted against: the email and the client."""
    return ((FailureScope.ACCOUNT, email), (FailureScope.CLIENT, client))


def _check_rates(session: Session, services: Services, keys: _FailureKeys, now: datetime) -> None:
    """Refuse (429) while any of ``keys`` has had too many failures lately."""
    settings = services.settings
    for scope, key in keys:
        failures = repository.failures_since(session, scope, key, now - settings.sign_in_window)
        if failures.count >= settings.sign_in_max_failures and failures.oldest is not None:
            wait = (failures.oldest + settings.sign_in_window - now).total_seconds()
            raise TooManyAttempts(max(1, math.ceil(wait)))


def _record_failures(
    session: Session, services: Services, keys: _FailureKeys, now: datetime
) -> None:
    """Count a failed password check against each of ``keys`` (forgetting expired ones)."""
    repository.prune_failures(session, now - services.settings.sign_in_window)
    for scope, key in keys:
        repository.record_failure(session, scope, key, now)


def sign_in(
    session: Session, services: Services, email: str, password: str, client: str
) -> IssuedToken:
    """A session token for the right password; failures are counted per email and per client."""
    now = services.clock()
    keys = _failure_keys(email, client)
    _check_rates(session, services, keys, now)
    account = repository.get_by_email(session, email)
    password_hash = account.password_hash if account is not None else None
    if account is None or not services.passwords.verify(password_hash, password):
        _record_failures(session, services, keys, now)
        raise InvalidCredentials()
    if account.blocked:
        raise AccountBlocked()
    repository.clear_failures(session, FailureScope.ACCOUNT, email)
    if password_hash is not None and services.passwords.needs_rehash(password_hash):
        account.password_hash = services.passwords.hash(password)
    repository.delete_session_tokens(session, account.id, expired_before=now)
    return _issue(
        session, services, account, TokenKind.SESSION, now + services.settings.session_ttl
    )


def confirm_password(
    session: Session, services: Services, account: Account, password: str, client: str
) -> None:
    """Check a signed-in person's password before a change that cannot be undone (erasing the
    account): a stolen bearer token alone must not do it, nor guess the password, so failures
    count towards the same limits as failed sign-ins."""
    assert account.email is not None, "people have an email"
    now = services.clock()
    keys = _failure_keys(account.email, client)
    _check_rates(session, services, keys, now)
    if not services.passwords.verify(account.password_hash, password):
        _record_failures(session, services, keys, now)
        raise WrongPassword()


def _issue(
    session: Session,
    services: Services,
    account: Account,
    kind: TokenKind,
    expires_at: datetime | None,
) -> IssuedToken:
    prefix = SESSION_TOKEN_PREFIX if kind is TokenKind.SESSION else DEVICE_TOKEN_PREFIX
    text = services.bearer.new(prefix)
    token = ApiToken(
        account_id=account.id,
        token_hash=services.bearer.hash(text),
        kind=kind,
        created_at=services.clock(),
        expires_at=expires_at,
    )
    repository.add(session, token)
    return IssuedToken(text, expires_at)


def sign_out(
    session: Session, services: Services, account: Account, token: ApiToken, *, everywhere: bool
) -> None:
    """End this sign-in; ``everywhere`` ends them all and revokes every entry token issued."""
    if everywhere:
        repository.delete_session_tokens(session, account.id)
        account.entry_tokens_revoked_at = services.clock()
    else:
        repository.delete_token(session, token)


def create_device(session: Session, services: Services, name: str) -> DeviceCredentials:
    """A device account (a gate or a sensor) and its never-expiring token."""
    account = Account(
        name=name,
        role=Role.DEVICE,
        blocked=False,
        has_payment_method=False,
        created_at=services.clock(),
    )
    repository.add(session, account)
    return DeviceCredentials(account, _issue(session, services, account, TokenKind.DEVICE, None))


def update_account(
    session: Session, manager: Account, account_id: int, update: AccountUpdate
) -> Account:
    """A manager sets a person's role or blocks them (never their own account)."""
    account = repository.get(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    if account.id == manager.id:
        raise Conflict("managers cannot change their own account")
    if update.role is not None:
        if account.role is Role.DEVICE:
            raise Conflict("a device account's role cannot change")
        account.role = update.role
    if update.blocked is not None:
        account.blocked = update.blocked
    session.flush()
    return account

"""Entry: issue the app's QR tokens and decide at the gate who comes in on which visit."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import segno
from sqlalchemy.orm import Session

from walkout.service.accounts import repository as accounts
from walkout.service.deps import Services
from walkout.service.entry import repository
from walkout.service.entry.token import EntryToken, ForgedToken
from walkout.service.errors import DomainError
from walkout.service.models import Account, Admission, Role, VisitRole
from walkout.service.settings import AccessPolicy
from walkout.service.visits import service as visits


class Refusal(StrEnum):
    """Why a gate refuses a scanned token (the ``code`` of the 403 answer)."""

    FORGED = "forged"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    BLOCKED = "blocked"
    REVOKED = "revoked"
    STAFF_ONLY = "staff_only"
    NO_PAYMENT_METHOD = "no_payment_method"
    UNPAID_VISIT = "unpaid_visit"


class EntryRefused(DomainError):
    status = 403

    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.code = reason.value
        self.reason = reason


@dataclass(frozen=True)
class SignedEntryToken:
    token: EntryToken
    text: str


def issue(services: Services, account: Account) -> SignedEntryToken:
    """A fresh entry token for ``account`` and its signed text."""
    token = EntryToken.issue(account.id, services.clock(), services.settings.entry_token_ttl)
    return SignedEntryToken(token, services.entry_signer.sign(token))


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code, an SVG document."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=8, border=4)
    return out.getvalue()


def refusal(
    session: Session, services: Services, account: Account, issued_at: datetime | None = None
) -> EntryRefused | None:
    """Why the gates refuse ``account`` (showing a token issued at ``issued_at``; None: any
    fresh one), or None if they admit it.

    The gates check this at each scan; the app asks beforehand (``GET /entry/status``) so that
    a shopper learns what to fix at home rather than at the gate.
    """
    if account.blocked:
        return EntryRefused(Refusal.BLOCKED, "this account is blocked")
    revoked_at = account.entry_tokens_revoked_at
    if issued_at is not None and revoked_at is not None and issued_at <= revoked_at:
        return EntryRefused(Refusal.REVOKED, "this account signed out everywhere since")
    staff = account.role in (Role.STAFF, Role.MANAGER)
    if services.settings.access_policy is AccessPolicy.STAFF_ONLY and not staff:
        return EntryRefused(Refusal.STAFF_ONLY, "the store admits staff only now")
    if not staff:
        if not account.has_payment_method:
            return EntryRefused(Refusal.NO_PAYMENT_METHOD, "add a payment method in the app")
        if visits.has_unpaid(session, account.id):
            return EntryRefused(Refusal.UNPAID_VISIT, "a previous visit is not paid")
    return None


def admit(session: Session, services: Services, gate: str, text: str) -> visits.Entered:
    """Consume a scanned token and admit one person, or refuse with the first reason found."""
    try:
        token = services.entry_signer.parse(text)
    except ForgedToken as e:
        raise EntryRefused(Refusal.FORGED, f"not a valid entry token: {e}") from None
    now = services.clock()
    if now >= token.expires_at:
        raise EntryRefused(Refusal.EXPIRED, "this entry token has expired")
    # Locks the account (PostgreSQL) so that scans on one account are decided one at a time.
    account = accounts.get(session, token.account_id, for_update=True)
    if account is None:
        raise EntryRefused(Refusal.REVOKED, "this entry token's account no longer exists")
    if repository.is_used(session, token.token_id):
        raise EntryRefused(Refusal.REPLAYED, "this entry token has been used")
    refused = refusal(session, services, account, token.issued_at)
    if refused is not None:
        raise refused
    staff = account.role in (Role.STAFF, Role.MANAGER)
    role = VisitRole.STAFF if staff else VisitRole.SHOPPER
    entered = visits.enter(session, account.id, role, gate, now)
    repository.add(
        session,
        Admission(
            token_id=token.token_id,
            account_id=account.id,
            visit_id=entered.visit.id,
            gate=gate,
            at=now,
        ),
    )
    return entered

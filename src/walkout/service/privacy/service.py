"""Privacy: a shopper's consent to personalisation, the export of everything held on them, and
erasure of their account (ADR 9).

Erasure keeps the account row as an anonymous tombstone: visits, receipts, payments and
disputes must stay for the accounting period and keep pointing at one (nameless) account, while
everything that identifies the person (email, password, name, cards, sign-ins, consent) goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from walkout.domain.events import CART_EVENT_ADAPTER
from walkout.payments import PaymentError, PaymentRetryableError
from walkout.service.accounts import repository as accounts
from walkout.service.accounts import service as accounts_service
from walkout.service.accounts.schemas import AccountRead
from walkout.service.billing.provider import PaymentUnavailable, retrying
from walkout.service.cards import repository as cards_repository
from walkout.service.cards.schemas import CardRead
from walkout.service.deps import Services
from walkout.service.errors import Conflict, NotFound
from walkout.service.models import Account, ConsentChange, Erasure, FailureScope, Role
from walkout.service.privacy import repository
from walkout.service.privacy.schemas import (
    ConsentChangeRead,
    ConsentRead,
    EntryRead,
    ExportedEvent,
    ExportedOrder,
    ExportedOrderLine,
    ExportRead,
)
from walkout.service.receipts import repository as receipts_repository
from walkout.service.receipts import service as receipts
from walkout.service.visits import repository as visits
from walkout.service.visits.schemas import VisitRead


class ErasureRefusal(StrEnum):
    """Why an account cannot be erased yet (the ``code`` of the 409 answer)."""

    VISIT_OPEN = "visit_open"
    UNPAID_VISIT = "unpaid_visit"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    DISPUTE_IN_PROGRESS = "dispute_in_progress"
    ORDER_IN_PROGRESS = "order_in_progress"
    LAST_MANAGER = "last_manager"


class ErasureRefused(Conflict):
    def __init__(self, reason: ErasureRefusal, detail: str) -> None:
        super().__init__(detail)
        self.code = reason.value
        self.reason = reason


@dataclass(frozen=True)
class Consent:
    """The consent in force: personalisation on or off, and since when (None: never set)."""

    personalisation: bool
    changed_at: datetime | None


def consent(session: Session, account_id: int) -> Consent:
    """The account's consent to personalisation; off unless it was turned on."""
    latest = repository.latest_consent(session, account_id)
    if latest is None:
        return Consent(personalisation=False, changed_at=None)
    return Consent(latest.personalisation, latest.at)


def set_consent(
    session: Session, services: Services, account_id: int, personalisation: bool
) -> Consent:
    """Turn personalisation on or off; setting it to what it is changes nothing (no new
    entry in the log, the time stays)."""
    current = consent(session, account_id)
    if current.personalisation == personalisation and current.changed_at is not None:
        return current
    change = ConsentChange(
        account_id=account_id, personalisation=personalisation, at=services.clock()
    )
    repository.add(session, change)
    return Consent(change.personalisation, change.at)


def consent_read(found: Consent) -> ConsentRead:
    return ConsentRead(personalisation=found.personalisation, changed_at=found.changed_at)


def export(session: Session, services: Services, account: Account) -> ExportRead:
    """Everything the service holds on ``account``, as one document."""
    events = [
        ExportedEvent(
            visit_id=record.visit_id,
            received_at=record.received_at,
            event=CART_EVENT_ADAPTER.validate_python(record.body),
        )
        for record in repository.cart_events(session, account.id)
    ]
    lines: dict[int, list[ExportedOrderLine]] = {}
    for line in repository.order_lines(session, account.id):
        lines.setdefault(line.order_id, []).append(ExportedOrderLine.model_validate(line))
    orders = [
        ExportedOrder.model_validate(order).model_copy(update={"lines": lines.get(order.id, [])})
        for order in repository.orders(session, account.id)
    ]
    catalogue = services.catalogue
    return ExportRead(
        exported_at=services.clock(),
        account=AccountRead.model_validate(account),
        consent=consent_read(consent(session, account.id)),
        consent_changes=[
            ConsentChangeRead.model_validate(c)
            for c in repository.consent_changes(session, account.id)
        ],
        cards=[CardRead.model_validate(c) for c in repository.cards(session, account.id)],
        visits=[VisitRead.model_validate(v) for v in repository.visits(session, account.id)],
        entries=[EntryRead.model_validate(a) for a in repository.admissions(session, account.id)],
        cart_events=events,
        receipts=receipts.describe_all(
            session, receipts_repository.of_account(session, account.id), catalogue, evidence=False
        ),
        orders=orders,
    )


def _refusal(session: Session, account: Account) -> ErasureRefused | None:
    """The first reason the account cannot be erased now, if any."""
    if visits.get_open(session, account.id) is not None:
        return ErasureRefused(
            ErasureRefusal.VISIT_OPEN, "you are in the store: try again after you leave"
        )
    if visits.has_unpaid(session, account.id):
        return ErasureRefused(ErasureRefusal.UNPAID_VISIT, "a visit is not paid: settle it first")
    if cards_repository.has_visit_in_progress(session, account.id):
        return ErasureRefused(
            ErasureRefusal.PAYMENT_IN_PROGRESS,
            "your last visit's payment is still running or waits for review: try again later",
        )
    if repository.has_dispute_in_progress(session, account.id):
        return ErasureRefused(
            ErasureRefusal.DISPUTE_IN_PROGRESS,
            "a dispute waits for staff or for its refund: try again once it is decided",
        )
    if repository.has_order_in_progress(session, account.id):
        return ErasureRefused(
            ErasureRefusal.ORDER_IN_PROGRESS,
            "an order ahead is not collected or canceled yet: try again once it is",
        )
    if account.role is Role.MANAGER and repository.other_managers(session, account.id) == 0:
        return ErasureRefused(
            ErasureRefusal.LAST_MANAGER, "the store's last manager cannot be erased"
        )
    return None


def erase(
    session: Session, services: Services, account_id: int, password: str, client: str
) -> None:
    """Forget the person behind ``account_id`` after checking their password, unless a visit,
    a payment, a dispute or an order still needs them; calling it again changes nothing.

    Cards are detached at the provider first (a card the provider no longer knows counts as
    detached), so a provider outage fails the request before anything is erased and a retry
    starts over. The account row stays as a tombstone; entry tokens already issued are revoked.
    """
    account = accounts.get(session, account_id, for_update=True)
    if account is None:
        raise NotFound(f"no account {account_id}")
    if repository.erasure(session, account.id) is not None:
        return
    accounts_service.confirm_password(session, services, account, password, client)
    refusal = _refusal(session, account)
    if refusal is not None:
        raise refusal
    provider = services.settings.payment_provider.value
    for card in repository.cards(session, account.id):
        if card.provider == provider:
            _detach(services, card.method_id)
        cards_repository.delete(session, card)
    now = services.clock()
    assert account.email is not None, "people have an email"
    accounts.clear_failures(session, FailureScope.ACCOUNT, account.email)
    accounts.delete_session_tokens(session, account.id)
    repository.delete_consent(session, account.id)
    account.email = account.name = account.password_hash = None
    account.has_payment_method = False
    account.entry_tokens_revoked_at = now
    repository.add(session, Erasure(account_id=account.id, erased_at=now))


def _detach(services: Services, method_id: str) -> None:
    """Detach a card at the provider; one it no longer knows is as good as detached."""
    try:
        retrying(services.settings, lambda: services.provider.detach_method(method_id))
    except PaymentError:
        return
    except PaymentRetryableError as e:
        raise PaymentUnavailable(f"the payment provider is unavailable: {e}") from e

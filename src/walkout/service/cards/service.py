"""Cards: a provider customer per account, saved cards, and ``has_payment_method`` in step."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from walkout.payments import LedgerProvider
from walkout.service.accounts import repository as accounts
from walkout.service.billing.provider import interactive
from walkout.service.cards import repository
from walkout.service.deps import Services
from walkout.service.errors import Conflict, NotFound
from walkout.service.models import Account, Card, PaymentCustomer


class NotLedger(NotFound):
    code = "not_ledger"

    def __init__(self) -> None:
        super().__init__("this store does not use the ledger provider: use its card form")


class CardInUse(Conflict):
    code = "card_in_use"

    def __init__(self) -> None:
        super().__init__("cards cannot be removed during a visit or while its payment runs")


def ledger_token(services: Services, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
    """The ledger's card form: an unattached method id for a (test) card number."""
    provider = services.provider
    if not isinstance(provider, LedgerProvider):
        raise NotLedger()
    return interactive(
        services.settings, lambda: provider.tokenize_card(number, exp_month, exp_year, cvc)
    )


def customer_id(session: Session, services: Services, account: Account) -> str:
    """The account's customer at the provider, created on first use."""
    name = services.settings.payment_provider.value
    customer = repository.get_customer(session, account.id, name)
    if customer is not None:
        return customer.customer_id
    key = f"account-{account.id}-customer"
    created = interactive(
        services.settings,
        lambda: services.provider.create_customer(email=account.email, idempotency_key=key),
    )
    repository.add(
        session, PaymentCustomer(account_id=account.id, provider=name, customer_id=created.id)
    )
    return created.id


def add_card(session: Session, services: Services, account_id: int, token: str) -> Card:
    """Save the card behind a provider-side token; the account may now enter the store."""
    account = _locked(session, account_id)
    customer = customer_id(session, services, account)
    method = interactive(
        services.settings, lambda: services.provider.attach_method(customer, token)
    )
    card = repository.get_by_method(session, method.id)
    if card is None:
        card = Card(
            account_id=account.id,
            provider=services.settings.payment_provider.value,
            method_id=method.id,
            brand=method.brand,
            last4=method.last4,
            added_at=services.clock(),
        )
        repository.add(session, card)
    account.has_payment_method = True
    return card


def cards(session: Session, services: Services, account_id: int) -> Sequence[Card]:
    """The account's cards, the one charged (the most recently added) first."""
    return repository.cards_of(session, account_id, services.settings.payment_provider.value)


def default_card(session: Session, services: Services, account_id: int) -> Card | None:
    """The card a visit is charged to: the most recently added."""
    found = cards(session, services, account_id)
    return found[0] if found else None


def card_of(session: Session, account_id: int, card_id: int) -> Card:
    """The account's card ``card_id`` (404 for anyone else's)."""
    card = repository.get_card(session, card_id)
    if card is None or card.account_id != account_id:
        raise NotFound(f"no card {card_id}")
    return card


def remove_card(session: Session, services: Services, account_id: int, card_id: int) -> None:
    """Detach and forget a card; without cards left the account may not enter."""
    account = _locked(session, account_id)
    card = card_of(session, account.id, card_id)
    if repository.has_visit_in_progress(session, account.id):
        raise CardInUse()
    interactive(services.settings, lambda: services.provider.detach_method(card.method_id))
    repository.delete(session, card)
    account.has_payment_method = bool(cards(session, services, account.id))


def _locked(session: Session, account_id: int) -> Account:
    account = accounts.get(session, account_id, for_update=True)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account

"""The payment provider contract: value types, errors and the `PaymentProvider` Protocol.

Money is always integer minor units (cents) plus an ISO 4217 currency code, stored upper case.
Card numbers never reach this code: a payment method is attached from a provider-side token
(a Stripe PaymentMethod id, or a token from the ledger's card form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_CURRENCY = re.compile(r"[A-Za-z]{3}")


class PaymentError(Exception):
    """A final payment failure: retrying the same request will not help."""


class IdempotencyConflict(PaymentError):
    """An idempotency key was reused for a different request."""


class CardDeclined(PaymentError):
    """A final refusal of the card: `code` is the error code, `decline_code` the issuer's reason."""

    def __init__(self, code: str, decline_code: str | None = None, message: str = "") -> None:
        super().__init__(message or f"card declined: {decline_code or code}")
        self.code = code
        self.decline_code = decline_code

    def __reduce__(self) -> tuple[type[CardDeclined], tuple[str, str | None, str]]:
        return (type(self), (self.code, self.decline_code, str(self)))


class PaymentRetryableError(Exception):
    """A transient failure (network, rate limit, provider outage): retry with the same key."""


@dataclass(frozen=True)
class Customer:
    """A customer record at the provider."""

    id: str
    email: str | None


@dataclass(frozen=True)
class PaymentMethod:
    """A saved card of a customer; only the brand and last four digits are known to us."""

    id: str
    customer_id: str
    brand: str
    last4: str


@dataclass(frozen=True)
class Authorization:
    """Funds held on a card, not yet captured (a manual-capture PaymentIntent in Stripe)."""

    id: str
    customer_id: str
    method_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class Payment:
    """A captured authorisation; `id` is the authorisation's id, `amount` what was captured."""

    id: str
    customer_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class Refund:
    """Money returned from a captured payment."""

    id: str
    payment_id: str
    amount: int
    currency: str


class PaymentProvider(Protocol):
    """What the store service needs from a payment processor.

    Mutating calls are idempotent: the same key with the same request returns the first
    result (or raises the first final error) without a second charge; the same key with a
    different request raises `IdempotencyConflict`. Calls without an explicit key (attach,
    detach, cancel) are naturally idempotent and derive their key from their arguments.
    Failures raise `CardDeclined`, `PaymentError` (final) or `PaymentRetryableError`.
    """

    def create_customer(self, *, email: str | None, idempotency_key: str) -> Customer:
        """Create a customer."""
        ...

    def attach_method(self, customer_id: str, token: str) -> PaymentMethod:
        """Save the card behind a provider-side token for the customer."""
        ...

    def list_methods(self, customer_id: str) -> list[PaymentMethod]:
        """The customer's saved cards."""
        ...

    def detach_method(self, method_id: str) -> None:
        """Remove a saved card."""
        ...

    def authorize(
        self, customer_id: str, method_id: str, amount: int, currency: str, idempotency_key: str
    ) -> Authorization:
        """Hold `amount` on the card, off session; raises `CardDeclined` when refused."""
        ...

    def capture(self, authorization: Authorization, amount: int, idempotency_key: str) -> Payment:
        """Capture `amount` (at most the authorised amount, once); the rest is released."""
        ...

    def cancel(self, authorization: Authorization) -> None:
        """Release an uncaptured authorisation."""
        ...

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> Refund:
        """Return `amount` of a captured payment; all refunds together at most what was captured."""
        ...


def check_money(amount: int, currency: str) -> str:
    """Validate a positive amount in minor units and an ISO code; return the code upper case."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"amount must be a positive integer number of minor units, got {amount!r}")
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency must be a three-letter ISO 4217 code, got {currency!r}")
    return currency.upper()


def require_within(amount: int, available: int, action: str) -> None:
    """Raise `PaymentError` unless `amount` fits in what is `available` for `action`."""
    if amount > available:
        raise PaymentError(f"cannot {action} {amount}: only {available} available")

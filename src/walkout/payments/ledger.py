"""`LedgerProvider`: the built-in payment provider for the demo and offline stores.

It keeps the books of a card processor in memory and moves no money. Ids are deterministic
(`cus_L00000001`, `pm_L…`, `pi_L…`, `re_L…`: one counter per kind). Cards enter through the
ledger's own card form, `tokenize_card`, which returns an unattached method id and keeps only
the brand and last four digits; Stripe's test-mode method ids are also accepted.

Test cards (numbers for `tokenize_card`, or the equivalent Stripe test id):

- `4242 4242 4242 4242` / `pm_card_visa`: always succeeds.
- `5555 5555 5555 4444`: succeeds (mastercard).
- `4000 0000 0000 0002` / `pm_card_visa_chargeDeclined`: declined when attached
  (`card_declined`, `generic_decline`).
- `4000 0000 0000 9995`: declined when attached (`card_declined`, `insufficient_funds`).
- `4000 0000 0000 0341` / `pm_card_chargeCustomerFail`: attaches, declined when authorised
  (`card_declined`, `generic_decline`).

Any other number that passes the Luhn check succeeds.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal, TypeVar

from walkout.payments.idempotency import IdempotencyRecord, describe
from walkout.payments.provider import (
    Authorization,
    CardDeclined,
    Customer,
    Payment,
    PaymentError,
    PaymentMethod,
    Refund,
    check_money,
    require_within,
)

T = TypeVar("T")
Phase = Literal["before", "after"]
FaultHook = Callable[[str, Phase], None]
"""Called with (operation, phase) around every mutating call; may raise to inject a fault.

"before" runs before anything changes (a request that never arrived); "after" runs once the
outcome is recorded (a response that was lost): a retry with the same key then replays it.
"""


class _Stage(Enum):
    """When a test card is declined."""

    ATTACH = "attach"
    AUTHORIZE = "authorize"


@dataclass(frozen=True)
class _Decline:
    stage: _Stage
    decline_code: str


_DECLINES: dict[str, _Decline] = {
    "4000000000000002": _Decline(_Stage.ATTACH, "generic_decline"),
    "4000000000009995": _Decline(_Stage.ATTACH, "insufficient_funds"),
    "4000000000000341": _Decline(_Stage.AUTHORIZE, "generic_decline"),
}
_TEST_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeCustomerFail": "4000000000000341",
}


class Status(Enum):
    """The state of an authorisation in the ledger."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELED = "canceled"


@dataclass(frozen=True)
class LedgerEntry:
    """One authorisation and what became of it (amounts in minor units)."""

    id: str
    customer_id: str
    method_id: str
    currency: str
    authorized: int
    captured: int
    refunded: int
    status: Status


@dataclass(frozen=True)
class _Card:
    brand: str
    last4: str
    decline: _Decline | None


@dataclass
class _Method:
    card: _Card
    customer_id: str | None = None
    detached: bool = False


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def _card(number: str) -> _Card:
    return _Card(_brand(number), number[-4:], _DECLINES.get(number))


class LedgerProvider:
    """An in-memory, thread-safe `PaymentProvider` with Stripe's invariants; see the module doc."""

    def __init__(self, fault: FaultHook | None = None) -> None:
        self._fault = fault
        self._lock = threading.Lock()
        self._idempotency = IdempotencyRecord()
        self._counters: dict[str, itertools.count[int]] = {}
        self._customers: dict[str, Customer] = {}
        self._methods: dict[str, _Method] = {}
        self._entries: dict[str, LedgerEntry] = {}

    # The card form ----------------------------------------------------------------------

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        """The ledger's card form: validate a card and return an unattached method id.

        The expiry is checked for form only (the ledger reads no clock).
        """
        digits = "".join(number.split())
        if not (digits.isdigit() and 12 <= len(digits) <= 19 and _luhn_ok(digits)):
            raise PaymentError("invalid card number")
        if not 1 <= exp_month <= 12 or exp_year < 2000:
            raise PaymentError("invalid expiry date")
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise PaymentError("invalid card security code")
        with self._lock:
            return self._new_method(_card(digits))

    # Inspection -------------------------------------------------------------------------

    def entries(self, customer_id: str | None = None) -> list[LedgerEntry]:
        """All authorisations, oldest first, optionally of one customer."""
        with self._lock:
            return [e for e in self._entries.values() if customer_id in (None, e.customer_id)]

    # PaymentProvider --------------------------------------------------------------------

    def create_customer(self, *, email: str | None, idempotency_key: str) -> Customer:
        """Create a customer."""

        def act() -> Customer:
            with self._lock:
                customer = Customer(self._next_id("cus"), email)
                self._customers[customer.id] = customer
                return customer

        return self._mutate("create_customer", idempotency_key, act, email)

    def attach_method(self, customer_id: str, token: str) -> PaymentMethod:
        """Attach a card-form token or a Stripe test id to the customer."""

        def act() -> PaymentMethod:
            with self._lock:
                self._customer(customer_id)
                if token in _TEST_TOKENS:
                    method_id = self._new_method(_card(_TEST_TOKENS[token]))
                else:
                    method_id = token
                method = self._method(method_id)
                if method.detached or method.customer_id not in (None, customer_id):
                    raise PaymentError(f"payment method {method_id} cannot be attached")
                decline = method.card.decline
                if decline is not None and decline.stage is _Stage.ATTACH:
                    raise CardDeclined("card_declined", decline.decline_code)
                method.customer_id = customer_id
                return _public_method(method_id, method, customer_id)

        return self._mutate(
            "attach_method", f"attach:{customer_id}:{token}", act, customer_id, token
        )

    def list_methods(self, customer_id: str) -> list[PaymentMethod]:
        """The customer's cards in the order they were attached."""
        with self._lock:
            self._customer(customer_id)
            return [
                _public_method(mid, m, customer_id)
                for mid, m in self._methods.items()
                if m.customer_id == customer_id
            ]

    def detach_method(self, method_id: str) -> None:
        """Detach a card; it cannot be attached or used again."""

        def act() -> None:
            with self._lock:
                method = self._method(method_id)
                if method.customer_id is None:
                    raise PaymentError(f"payment method {method_id} is not attached")
                method.customer_id = None
                method.detached = True

        self._mutate("detach_method", f"detach:{method_id}", act, method_id)

    def authorize(
        self, customer_id: str, method_id: str, amount: int, currency: str, idempotency_key: str
    ) -> Authorization:
        """Hold `amount` on a card of the customer."""
        currency = check_money(amount, currency)

        def act() -> Authorization:
            with self._lock:
                self._customer(customer_id)
                method = self._method(method_id)
                if method.customer_id != customer_id:
                    raise PaymentError(f"payment method {method_id} is not one of {customer_id}")
                decline = method.card.decline
                if decline is not None and decline.stage is _Stage.AUTHORIZE:
                    raise CardDeclined("card_declined", decline.decline_code)
                entry = LedgerEntry(
                    id=self._next_id("pi"),
                    customer_id=customer_id,
                    method_id=method_id,
                    currency=currency,
                    authorized=amount,
                    captured=0,
                    refunded=0,
                    status=Status.AUTHORIZED,
                )
                self._entries[entry.id] = entry
                return Authorization(entry.id, customer_id, method_id, amount, currency)

        return self._mutate(
            "authorize", idempotency_key, act, customer_id, method_id, amount, currency
        )

    def capture(self, authorization: Authorization, amount: int, idempotency_key: str) -> Payment:
        """Capture up to the authorised amount, once."""
        check_money(amount, authorization.currency)

        def act() -> Payment:
            with self._lock:
                entry = self._entry(authorization.id, Status.AUTHORIZED)
                require_within(amount, entry.authorized, "capture")
                self._entries[entry.id] = replace(entry, captured=amount, status=Status.CAPTURED)
                return Payment(entry.id, entry.customer_id, amount, entry.currency)

        return self._mutate("capture", idempotency_key, act, authorization.id, amount)

    def cancel(self, authorization: Authorization) -> None:
        """Release an uncaptured authorisation."""

        def act() -> None:
            with self._lock:
                entry = self._entry(authorization.id, Status.AUTHORIZED)
                self._entries[entry.id] = replace(entry, status=Status.CANCELED)

        self._mutate("cancel", f"cancel:{authorization.id}", act, authorization.id)

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> Refund:
        """Refund part or all of what is left of a captured payment."""
        check_money(amount, payment.currency)

        def act() -> Refund:
            with self._lock:
                entry = self._entry(payment.id, Status.CAPTURED)
                require_within(amount, entry.captured - entry.refunded, "refund")
                self._entries[entry.id] = replace(entry, refunded=entry.refunded + amount)
                return Refund(self._next_id("re"), entry.id, amount, entry.currency)

        return self._mutate("refund", idempotency_key, act, payment.id, amount)

    # Internals (callers hold self._lock) -------------------------------------------------

    def _mutate(self, operation: str, key: str, act: Callable[[], T], *args: object) -> T:
        def attempt() -> T:
            if self._fault is not None:
                self._fault(operation, "before")
            return act()

        result = self._idempotency.run(key, describe(operation, *args), attempt)
        if self._fault is not None:
            self._fault(operation, "after")
        return result

    def _next_id(self, kind: str) -> str:
        counter = self._counters.setdefault(kind, itertools.count(1))
        return f"{kind}_L{next(counter):08d}"

    def _new_method(self, card: _Card) -> str:
        method_id = self._next_id("pm")
        self._methods[method_id] = _Method(card)
        return method_id

    def _customer(self, customer_id: str) -> Customer:
        try:
            return self._customers[customer_id]
        except KeyError:
            raise PaymentError(f"no such customer: {customer_id}") from None

    def _method(self, method_id: str) -> _Method:
        try:
            return self._methods[method_id]
        except KeyError:
            raise PaymentError(f"no such payment method: {method_id}") from None

    def _entry(self, entry_id: str, status: Status) -> LedgerEntry:
        entry = self._entries.get(entry_id)
        if entry is None:
            raise PaymentError(f"no such authorisation: {entry_id}")
        if entry.status is not status:
            raise PaymentError(f"authorisation {entry_id} is {entry.status.value}")
        return entry


def _public_method(method_id: str, method: _Method, customer_id: str) -> PaymentMethod:
    return PaymentMethod(method_id, customer_id, method.card.brand, method.card.last4)

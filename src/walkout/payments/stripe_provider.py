"""`StripeProvider`: payments through Stripe (or a Stripe emulator such as localstripe).

Authorisations are PaymentIntents with `capture_method="manual"`, confirmed at once and off
session, on a PaymentMethod id that the customer's browser created with Stripe Elements (or a
test-mode id such as `pm_card_visa`). Every mutating call sends an idempotency key; we also
keep our own `IdempotencyRecord`, so a repeated key returns the first result even where the
server ignores keys (localstripe does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import stripe

from walkout.payments.idempotency import IdempotencyRecord, describe
from walkout.payments.provider import (
    Authorization,
    CardDeclined,
    Customer,
    IdempotencyConflict,
    Payment,
    PaymentError,
    PaymentMethod,
    PaymentRetryableError,
    Refund,
    check_money,
    require_within,
)

T = TypeVar("T")


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Translate Stripe's exceptions into the provider error hierarchy."""
    try:
        yield
    except stripe.CardError as e:
        decline_code = e.error.decline_code if e.error is not None else None
        raise CardDeclined(e.code or "card_declined", decline_code, e.user_message or "") from e
    except (stripe.APIConnectionError, stripe.RateLimitError) as e:
        raise PaymentRetryableError(str(e)) from e
    except stripe.IdempotencyError as e:
        raise IdempotencyConflict(str(e)) from e
    except stripe.StripeError as e:
        status = e.http_status
        if status is None or status >= 500 or status == 409:  # 409: concurrent use of a key
            raise PaymentRetryableError(str(e)) from e
        raise PaymentError(str(e)) from e


def _method(pm: stripe.PaymentMethod, customer_id: str) -> PaymentMethod:
    card = pm.card
    if card is None:
        return PaymentMethod(pm.id, customer_id, pm.type, "")
    return PaymentMethod(pm.id, customer_id, card.brand, card.last4)


class StripeProvider:
    """A `PaymentProvider` on the Stripe API.

    `api_base` points the client at another server (localstripe in tests). Stripe's own
    network retries are off by default (`max_network_retries=0`): retry with `with_retries`.
    `http_client` replaces the transport (tests inject faults there). Intents are created with
    `automatic_payment_methods={"enabled": true, "allow_redirects": "never"}` (the card needs
    no redirect, so no `return_url`); `automatic_payment_methods=False` leaves that parameter
    out for emulators that predate it (localstripe).

    Stripe enforces the payment invariants itself; localstripe does not refuse over-refunds or
    the capture of a canceled intent, so this object also refuses them for the payments it
    has seen. That guard and the idempotency record live in this object's memory.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = stripe.DEFAULT_API_BASE,
        http_client: stripe.HTTPClient | None = None,
        max_network_retries: int = 0,
        automatic_payment_methods: bool = True,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            http_client=http_client,
            max_network_retries=max_network_retries,
        )
        self._automatic_payment_methods = automatic_payment_methods
        self._idempotency = IdempotencyRecord()
        self._lock = threading.Lock()
        self._refunded: dict[str, int] = {}
        self._canceled: set[str] = set()

    def create_customer(self, *, email: str | None, idempotency_key: str) -> Customer:
        """Create a Stripe Customer."""

        def act(options: stripe.RequestOptions) -> Customer:
            params: stripe.params.CustomerCreateParams = {} if email is None else {"email": email}
            customer = self._client.v1.customers.create(params, options)
            return Customer(customer.id, customer.email)

        return self._mutate("create_customer", idempotency_key, act, email)

    def attach_method(self, customer_id: str, token: str) -> PaymentMethod:
        """Attach a PaymentMethod id (from Elements, or a test id) to the customer."""

        def act(options: stripe.RequestOptions) -> PaymentMethod:
            pm = self._client.v1.payment_methods.attach(token, {"customer": customer_id}, options)
            return _method(pm, customer_id)

        return self._mutate(
            "attach_method", f"attach:{customer_id}:{token}", act, customer_id, token
        )

    def list_methods(self, customer_id: str) -> list[PaymentMethod]:
        """The customer's cards (the first 100)."""
        with _stripe_errors():
            listed = self._client.v1.payment_methods.list(
                {"customer": customer_id, "type": "card", "limit": 100}
            )
        return [_method(pm, customer_id) for pm in listed.data]

    def detach_method(self, method_id: str) -> None:
        """Detach a PaymentMethod; Stripe never lets it be used again."""

        def act(options: stripe.RequestOptions) -> None:
            self._client.v1.payment_methods.detach(method_id, None, options)

        self._mutate("detach_method", f"detach:{method_id}", act, method_id)

    def authorize(
        self, customer_id: str, method_id: str, amount: int, currency: str, idempotency_key: str
    ) -> Authorization:
        """Create and confirm a manual-capture PaymentIntent, off session."""
        currency = check_money(amount, currency)

        def act(options: stripe.RequestOptions) -> Authorization:
            params: stripe.params.PaymentIntentCreateParams = {
                "amount": amount,
                "currency": currency.lower(),
                "customer": customer_id,
                "payment_method": method_id,
                "capture_method": "manual",
                "confirm": True,
                "off_session": True,
            }
            if self._automatic_payment_methods:
                params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
            intent = self._client.v1.payment_intents.create(params, options)
            if intent.status == "requires_action":
                raise CardDeclined("authentication_required")
            if intent.status != "requires_capture":
                raise PaymentError(f"PaymentIntent {intent.id} is {intent.status}")
            return Authorization(
                intent.id, customer_id, method_id, intent.amount, intent.currency.upper()
            )

        return self._mutate(
            "authorize", idempotency_key, act, customer_id, method_id, amount, currency
        )

    def capture(self, authorization: Authorization, amount: int, idempotency_key: str) -> Payment:
        """Capture up to the authorised amount, once; Stripe releases the rest."""
        check_money(amount, authorization.currency)
        require_within(amount, authorization.amount, "capture")

        def act(options: stripe.RequestOptions) -> Payment:
            with self._lock:
                if authorization.id in self._canceled:
                    raise PaymentError(f"authorisation {authorization.id} is canceled")
            self._client.v1.payment_intents.capture(
                authorization.id, {"amount_to_capture": amount}, options
            )
            return Payment(
                authorization.id, authorization.customer_id, amount, authorization.currency
            )

        return self._mutate("capture", idempotency_key, act, authorization.id, amount)

    def cancel(self, authorization: Authorization) -> None:
        """Cancel an uncaptured PaymentIntent."""

        def act(options: stripe.RequestOptions) -> None:
            self._client.v1.payment_intents.cancel(authorization.id, None, options)
            with self._lock:
                self._canceled.add(authorization.id)

        self._mutate("cancel", f"cancel:{authorization.id}", act, authorization.id)

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> Refund:
        """Refund part of a captured PaymentIntent."""
        check_money(amount, payment.currency)

        def act(options: stripe.RequestOptions) -> Refund:
            with self._lock:
                refunded = self._refunded.get(payment.id, 0)
                require_within(amount, payment.amount - refunded, "refund")
                self._refunded[payment.id] = refunded + amount
            try:
                refund = self._client.v1.refunds.create(
                    {"payment_intent": payment.id, "amount": amount}, options
                )
            except BaseException:
                with self._lock:
                    self._refunded[payment.id] -= amount
                raise
            return Refund(refund.id, payment.id, refund.amount, refund.currency.upper())

        return self._mutate("refund", idempotency_key, act, payment.id, amount)

    def _mutate(
        self,
        operation: str,
        key: str,
        act: Callable[[stripe.RequestOptions], T],
        *args: object,
    ) -> T:
        def attempt() -> T:
            with _stripe_errors():
                return act({"idempotency_key": key})

        return self._idempotency.run(key, describe(operation, *args), attempt)

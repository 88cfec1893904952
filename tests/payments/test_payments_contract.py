"""The PaymentProvider contract, run against the ledger and against Stripe (localstripe)."""

from __future__ import annotations

import random

import pytest
from payments_support import Harness

from walkout.payments import (
    Authorization,
    Backoff,
    CardDeclined,
    Customer,
    IdempotencyConflict,
    PaymentError,
    PaymentMethod,
    PaymentRetryableError,
    with_retries,
)

GOOD_CARD = "pm_card_visa"
DECLINED_ON_ATTACH = "pm_card_visa_chargeDeclined"
DECLINED_ON_CHARGE = "pm_card_chargeCustomerFail"


def _customer_with_card(h: Harness, token: str = GOOD_CARD) -> tuple[Customer, PaymentMethod]:
    customer = h.provider.create_customer(email="shopper@example.com", idempotency_key="cus-1")
    return customer, h.provider.attach_method(customer.id, token)


def _authorized(h: Harness, amount: int = 1000) -> Authorization:
    customer, method = _customer_with_card(h)
    return h.provider.authorize(customer.id, method.id, amount, "eur", "auth-1")


def test_customer_and_methods(harness: Harness) -> None:
    p = harness.provider
    customer, method = _customer_with_card(harness)
    assert customer.email == "shopper@example.com"
    assert (method.customer_id, method.brand, method.last4) == (customer.id, "visa", "4242")
    second = p.attach_method(customer.id, "pm_card_chargeCustomerFail")
    assert {m.id for m in p.list_methods(customer.id)} == {method.id, second.id}
    p.detach_method(method.id)
    assert [m.id for m in p.list_methods(customer.id)] == [second.id]


def test_authorize_capture_in_full_and_refund_in_full(harness: Harness) -> None:
    p = harness.provider
    auth = _authorized(harness, 1234)
    assert (auth.amount, auth.currency) == (1234, "EUR")
    assert harness.count_captures(auth.customer_id) == 0
    payment = p.capture(auth, 1234, "cap-1")
    assert (payment.id, payment.amount, payment.currency) == (auth.id, 1234, "EUR")
    assert harness.count_captures(auth.customer_id) == 1
    refund = p.refund(payment, 1234, "ref-1")
    assert (refund.payment_id, refund.amount, refund.currency) == (payment.id, 1234, "EUR")
    with pytest.raises(PaymentError):
        p.refund(payment, 1, "ref-2")


def test_partial_capture_and_partial_refunds(harness: Harness) -> None:
    p = harness.provider
    auth = _authorized(harness, 1000)
    payment = p.capture(auth, 600, "cap-1")
    assert payment.amount == 600
    assert p.refund(payment, 250, "ref-1").amount == 250
    with pytest.raises(PaymentError):
        p.refund(payment, 351, "ref-2")  # only 350 of the 600 captured are left
    assert p.refund(payment, 350, "ref-3").amount == 350
    with pytest.raises(PaymentError):
        p.refund(payment, 1, "ref-4")


def test_capture_is_bounded_by_the_authorisation_and_happens_once(harness: Harness) -> None:
    p = harness.provider
    auth = _authorized(harness, 1000)
    with pytest.raises(PaymentError):
        p.capture(auth, 1001, "cap-1")
    p.capture(auth, 1000, "cap-2")
    with pytest.raises(PaymentError):
        p.capture(auth, 1000, "cap-3")
    assert harness.count_captures(auth.customer_id) == 1


def test_a_canceled_authorisation_cannot_be_captured(harness: Harness) -> None:
    p = harness.provider
    auth = _authorized(harness)
    p.cancel(auth)
    p.cancel(auth)  # naturally idempotent
    with pytest.raises(PaymentError):
        p.capture(auth, 500, "cap-1")
    assert harness.count_captures(auth.customer_id) == 0


def test_a_card_declined_when_attached(harness: Harness) -> None:
    customer = harness.provider.create_customer(email=None, idempotency_key="cus-1")
    with pytest.raises(CardDeclined) as declined:
        harness.provider.attach_method(customer.id, DECLINED_ON_ATTACH)
    assert declined.value.code == "card_declined"
    assert harness.provider.list_methods(customer.id) == []


def test_a_card_declined_when_charged(harness: Harness) -> None:
    p = harness.provider
    customer, method = _customer_with_card(harness, DECLINED_ON_CHARGE)
    for _ in range(2):  # the same key replays the decline
        with pytest.raises(CardDeclined) as declined:
            p.authorize(customer.id, method.id, 1000, "EUR", "auth-1")
        assert declined.value.code == "card_declined"
    assert harness.count_authorizations(customer.id) == 0


def test_the_same_key_twice_charges_once(harness: Harness) -> None:
    p = harness.provider
    customer, method = _customer_with_card(harness)
    first = p.authorize(customer.id, method.id, 1000, "EUR", "auth-1")
    assert p.authorize(customer.id, method.id, 1000, "EUR", "auth-1") == first
    assert harness.count_authorizations(customer.id) == 1
    payment = p.capture(first, 800, "cap-1")
    assert p.capture(first, 800, "cap-1") == payment
    assert harness.count_captures(customer.id) == 1
    refund = p.refund(payment, 500, "ref-1")
    assert p.refund(payment, 500, "ref-1") == refund
    assert p.refund(payment, 300, "ref-2").amount == 300  # the repeat took nothing


def test_a_key_reused_for_another_request_is_refused(harness: Harness) -> None:
    p = harness.provider
    customer, method = _customer_with_card(harness)
    auth = p.authorize(customer.id, method.id, 1000, "EUR", "auth-1")
    with pytest.raises(IdempotencyConflict):
        p.authorize(customer.id, method.id, 999, "EUR", "auth-1")
    with pytest.raises(IdempotencyConflict):
        p.capture(auth, 1000, "auth-1")
    assert harness.count_authorizations(customer.id) == 1


def test_retryable_failures_then_success_capture_once(harness: Harness) -> None:
    p = harness.provider
    customer, method = _customer_with_card(harness)
    sleeps: list[float] = []
    backoff = Backoff(base_s=0.1, factor=2.0, cap_s=1.0, jitter=0.5)

    harness.faults.arm("authorize", 1)
    auth = with_retries(
        lambda: p.authorize(customer.id, method.id, 1000, "EUR", "auth-1"),
        attempts=3,
        backoff=backoff,
        sleep=sleeps.append,
        rng=random.Random(1),
    )
    harness.faults.arm("capture", 2)
    payment = with_retries(
        lambda: p.capture(auth, 1000, "cap-1"),
        attempts=3,
        backoff=backoff,
        sleep=sleeps.append,
        rng=random.Random(2),
    )
    assert payment.amount == 1000
    assert len(sleeps) == 3
    assert harness.count_authorizations(customer.id) == 1
    assert harness.count_captures(customer.id) == 1


def test_retries_exhausted_then_a_later_retry_with_the_same_key(harness: Harness) -> None:
    p = harness.provider
    auth = _authorized(harness)
    harness.faults.arm("capture", 2)
    with pytest.raises(PaymentRetryableError):
        with_retries(lambda: p.capture(auth, 700, "cap-1"), 2, Backoff(), sleep=lambda _: None)
    assert harness.count_captures(auth.customer_id) == 0
    assert p.capture(auth, 700, "cap-1").amount == 700
    assert harness.count_captures(auth.customer_id) == 1


@pytest.mark.parametrize(("amount", "currency"), [(0, "EUR"), (-5, "EUR"), (100, "EURO")])
def test_invalid_amounts_are_refused_before_any_call(
    harness: Harness, amount: int, currency: str
) -> None:
    with pytest.raises(ValueError, match=r"amount|currency"):
        harness.provider.authorize("cus_x", "pm_x", amount, currency, "auth-1")

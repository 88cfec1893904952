"""Fixtures for the payment tests: the providers under contract test, and localstripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from payments_support import (
    API_KEY,
    FaultPlan,
    FaultyTransport,
    Harness,
    localstripe_for_tests,
)

from walkout.payments import PaymentRetryableError
from walkout.payments.ledger import LedgerProvider, Phase, Status
from walkout.payments.stripe_provider import StripeProvider


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """Base URL of a running localstripe; skipped locally if it cannot start, failed under CI."""
    with localstripe_for_tests() as url:
        yield url


def _ledger_harness() -> Harness:
    plan = FaultPlan()

    def fault(operation: str, phase: Phase) -> None:
        if phase == "before" and plan.take(operation):
            raise PaymentRetryableError(f"injected: {operation} unavailable")

    ledger = LedgerProvider(fault=fault)
    return Harness(
        name="ledger",
        provider=ledger,
        faults=plan,
        count_authorizations=lambda customer: len(ledger.entries(customer)),
        count_captures=lambda customer: sum(
            e.status is Status.CAPTURED for e in ledger.entries(customer)
        ),
    )


def _stripe_harness(url: str) -> Harness:
    plan = FaultPlan()
    provider = StripeProvider(
        API_KEY, api_base=url, http_client=FaultyTransport(plan), automatic_payment_methods=False
    )
    inspector = stripe.StripeClient(API_KEY, base_addresses={"api": url})

    def charges(customer: str) -> list[stripe.Charge]:
        listed = inspector.v1.charges.list({"customer": customer, "limit": 100})
        return [c for c in listed.data if c.status == "succeeded"]

    return Harness(
        name="stripe",
        provider=provider,
        faults=plan,
        count_authorizations=lambda customer: len(charges(customer)),
        count_captures=lambda customer: sum(c.captured for c in charges(customer)),
    )


@pytest.fixture(params=["ledger", "stripe"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """A fresh provider of each kind (Stripe through localstripe)."""
    if request.param == "ledger":
        return _ledger_harness()
    return _stripe_harness(request.getfixturevalue("localstripe_url"))

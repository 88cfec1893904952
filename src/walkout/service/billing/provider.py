"""The payment provider the settings choose, and the retry policy of every call to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from walkout.payments import (
    Backoff,
    CardDeclined,
    LedgerProvider,
    PaymentError,
    PaymentProvider,
    PaymentRetryableError,
    with_retries,
)
from walkout.service.errors import DomainError
from walkout.service.settings import ProviderName, Settings

T = TypeVar("T")


def make_provider(settings: Settings) -> PaymentProvider:
    """A ``LedgerProvider``, or a ``StripeProvider`` on the configured key and API base."""
    if settings.payment_provider is ProviderName.LEDGER:
        return LedgerProvider()
    from walkout.payments.stripe_provider import StripeProvider  # loads the Stripe SDK

    assert settings.stripe_api_key is not None  # checked by Settings
    return StripeProvider(
        settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        automatic_payment_methods=settings.stripe_automatic_payment_methods,
    )


def retrying(settings: Settings, call: Callable[[], T]) -> T:
    """``call`` (whose idempotency key is bound already), retried on transient failures."""
    backoff = Backoff(base_s=settings.payment_retry_base.total_seconds())
    return with_retries(call, settings.payment_attempts, backoff)


class CardRefused(DomainError):
    status = 402
    code = "card_declined"


class PaymentRejected(DomainError):
    status = 422
    code = "payment_rejected"


class PaymentUnavailable(DomainError):
    status = 503
    code = "payment_unavailable"


def interactive(settings: Settings, call: Callable[[], T]) -> T:
    """``retrying(call)`` for a request a person waits on: failures become 4xx/503 answers."""
    try:
        return retrying(settings, call)
    except CardDeclined as e:
        raise CardRefused(f"the card was declined ({e.decline_code or e.code})") from e
    except PaymentError as e:
        raise PaymentRejected(str(e)) from e
    except PaymentRetryableError as e:
        raise PaymentUnavailable(f"the payment provider is unavailable: {e}") from e

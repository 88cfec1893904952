"""Walk-out payments: one `PaymentProvider` contract, the built-in ledger, and Stripe.

`walkout.payments.stripe_provider.StripeProvider` is not imported here, so that using the
ledger does not load the Stripe SDK.
"""

from walkout.payments.ledger import LedgerProvider
from walkout.payments.provider import (
    Authorization,
    CardDeclined,
    Customer,
    IdempotencyConflict,
    Payment,
    PaymentError,
    PaymentMethod,
    PaymentProvider,
    PaymentRetryableError,
    Refund,
)
from walkout.payments.retry import Backoff, with_retries

__all__ = [
    "Authorization",
    "Backoff",
    "CardDeclined",
    "Customer",
    "IdempotencyConflict",
    "LedgerProvider",
    "Payment",
    "PaymentError",
    "PaymentMethod",
    "PaymentProvider",
    "PaymentRetryableError",
    "Refund",
    "with_retries",
]

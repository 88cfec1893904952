"""StripeProvider against a canned transport: the requests it sends and how errors map."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from walkout.payments import (
    Authorization,
    CardDeclined,
    IdempotencyConflict,
    Payment,
    PaymentError,
    PaymentRetryableError,
)
from walkout.payments.stripe_provider import StripeProvider

CUSTOMER = {"id": "cus_1", "object": "customer", "email": "a@example.com"}
METHOD = {
    "id": "pm_1",
    "object": "payment_method",
    "type": "card",
    "customer": "cus_1",
    "card": {"brand": "visa", "last4": "4242"},
}
INTENT = {
    "id": "pi_1",
    "object": "payment_intent",
    "amount": 1000,
    "currency": "eur",
    "status": "requires_capture",
}


def _connection_error(message: str) -> stripe.APIConnectionError:
    return stripe.APIConnectionError(message)  # type: ignore[no-untyped-call]


REFUND = {"id": "re_1", "object": "refund", "amount": 300, "currency": "eur"}
AUTH = Authorization("pi_1", "cus_1", "pm_1", 1000, "EUR")


@dataclass(frozen=True)
class Sent:
    """One request as the transport saw it."""

    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, str]


class CannedTransport(stripe.HTTPClient):
    """Answers each request with the next canned (status, body) or raises the next exception."""

    name = "canned"

    def __init__(self, *answers: tuple[int, Mapping[str, Any]] | Exception) -> None:
        super().__init__()
        self.answers = list(answers)
        self.sent: list[Sent] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        query = post_data if method.lower() == "post" else parts.query
        key = (headers or {}).get("Idempotency-Key")
        self.sent.append(Sent(method.lower(), parts.path, key, dict(parse_qsl(query or ""))))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return json.dumps(body), status, {}

    def close(self) -> None:
        pass


def _provider(transport: CannedTransport, automatic: bool = True) -> StripeProvider:
    return StripeProvider(
        "sk_test_x",
        api_base="http://stripe.invalid",
        http_client=transport,
        automatic_payment_methods=automatic,
    )


def test_every_mutating_call_sends_an_idempotency_key() -> None:
    t = CannedTransport(
        (200, CUSTOMER),
        (200, METHOD),
        (200, {**INTENT, "status": "canceled"}),
        (200, {**INTENT, "status": "succeeded"}),
        (200, REFUND),
        (200, METHOD),
    )
    p = _provider(t)
    p.create_customer(email="a@example.com", idempotency_key="cus-1")
    p.attach_method("cus_1", "pm_card_visa")
    p.cancel(AUTH)
    payment = p.capture(Authorization("pi_2", "cus_1", "pm_1", 1000, "EUR"), 700, "cap-1")
    assert payment == Payment("pi_2", "cus_1", 700, "EUR")
    assert p.refund(payment, 300, "ref-1").amount == 300
    p.detach_method("pm_1")
    assert [(s.path, s.idempotency_key) for s in t.sent] == [
        ("/v1/customers", "cus-1"),
        ("/v1/payment_methods/pm_card_visa/attach", "attach:cus_1:pm_card_visa"),
        ("/v1/payment_intents/pi_1/cancel", "cancel:pi_1"),
        ("/v1/payment_intents/pi_2/capture", "cap-1"),
        ("/v1/refunds", "ref-1"),
        ("/v1/payment_methods/pm_1/detach", "detach:pm_1"),
    ]
    assert t.sent[3].params == {"amount_to_capture": "700"}
    assert t.sent[4].params == {"payment_intent": "pi_2", "amount": "300"}


@pytest.mark.parametrize("automatic", [True, False])
def test_authorize_creates_a_manual_capture_intent_off_session(automatic: bool) -> None:
    t = CannedTransport((200, INTENT))
    auth = _provider(t, automatic).authorize("cus_1", "pm_1", 1000, "eur", "auth-1")
    assert auth == AUTH
    (sent,) = t.sent
    assert (sent.path, sent.idempotency_key) == ("/v1/payment_intents", "auth-1")
    expected = {
        "amount": "1000",
        "currency": "eur",
        "customer": "cus_1",
        "payment_method": "pm_1",
        "capture_method": "manual",
        "confirm": "true",
        "off_session": "true",
    }
    if automatic:
        expected["automatic_payment_methods[enabled]"] = "true"
        expected["automatic_payment_methods[allow_redirects]"] = "never"
    assert sent.params == expected


def _error(status: int, **error: str) -> tuple[int, Mapping[str, Any]]:
    return status, {"error": {"message": "injected", **error}}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_error(402, type="card_error", code="card_declined"), CardDeclined),
        (_error(400, type="invalid_request_error"), PaymentError),
        (_error(404, type="invalid_request_error"), PaymentError),
        (_error(401, type="invalid_request_error"), PaymentError),
        (_error(400, type="idempotency_error"), IdempotencyConflict),
        (_error(409, type="api_error"), PaymentRetryableError),
        (_error(429, type="rate_limit_error"), PaymentRetryableError),
        (_error(500, type="api_error"), PaymentRetryableError),
        (_error(503, type="api_error"), PaymentRetryableError),
        (_connection_error("connection reset"), PaymentRetryableError),
    ],
)
def test_stripe_errors_map_onto_the_hierarchy(
    answer: tuple[int, Mapping[str, Any]] | Exception, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as raised:
        _provider(CannedTransport(answer)).capture(AUTH, 1000, "cap-1")
    assert type(raised.value) is expected
    assert isinstance(raised.value.__cause__, stripe.StripeError)


def test_a_decline_keeps_its_codes_and_is_replayed_without_a_second_request() -> None:
    declined = _error(402, type="card_error", code="card_declined", decline_code="do_not_honor")
    t = CannedTransport(declined)
    p = _provider(t)
    for _ in range(2):
        with pytest.raises(CardDeclined) as raised:
            p.authorize("cus_1", "pm_1", 1000, "EUR", "auth-1")
        assert (raised.value.code, raised.value.decline_code) == ("card_declined", "do_not_honor")
    assert len(t.sent) == 1


def test_a_retryable_failure_is_not_remembered() -> None:
    t = CannedTransport(_error(503, type="api_error"), (200, {**INTENT, "status": "succeeded"}))
    p = _provider(t)
    with pytest.raises(PaymentRetryableError):
        p.capture(AUTH, 1000, "cap-1")
    assert p.capture(AUTH, 1000, "cap-1").amount == 1000
    assert [s.idempotency_key for s in t.sent] == ["cap-1", "cap-1"]


def test_an_intent_that_needs_the_customer_is_a_decline() -> None:
    t = CannedTransport((200, {**INTENT, "status": "requires_action"}))
    with pytest.raises(CardDeclined) as raised:
        _provider(t).authorize("cus_1", "pm_1", 1000, "EUR", "auth-1")
    assert raised.value.code == "authentication_required"


def test_a_failed_refund_releases_its_reservation() -> None:
    t = CannedTransport(_connection_error("reset"), (200, {**REFUND, "amount": 700}))
    p = _provider(t)
    payment = Payment("pi_1", "cus_1", 700, "EUR")
    with pytest.raises(PaymentRetryableError):
        p.refund(payment, 700, "ref-1")
    assert p.refund(payment, 700, "ref-2").amount == 700
    with pytest.raises(PaymentError):
        p.refund(payment, 1, "ref-3")
    assert len(t.sent) == 2

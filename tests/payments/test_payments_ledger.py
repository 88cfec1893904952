"""LedgerProvider beyond the shared contract: card form, test cards, faults, threads, invariants."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from walkout.payments import (
    Authorization,
    CardDeclined,
    IdempotencyConflict,
    Payment,
    PaymentError,
    PaymentRetryableError,
    Refund,
)
from walkout.payments.ledger import LedgerProvider, Phase, Status


def _shopper(ledger: LedgerProvider, token: str = "pm_card_visa") -> tuple[str, str]:
    customer = ledger.create_customer(email=None, idempotency_key="cus-1")
    return customer.id, ledger.attach_method(customer.id, token).id


def test_ids_are_deterministic() -> None:
    def run() -> list[str]:
        ledger = LedgerProvider()
        customer, method = _shopper(ledger)
        auth = ledger.authorize(customer, method, 500, "EUR", "a")
        payment = ledger.capture(auth, 500, "c")
        return [customer, method, auth.id, ledger.refund(payment, 100, "r").id]

    assert run() == run() == ["cus_L00000001", "pm_L00000001", "pi_L00000001", "re_L00000001"]


def test_card_form_tokens_keep_only_brand_and_last_four() -> None:
    ledger = LedgerProvider()
    customer = ledger.create_customer(email=None, idempotency_key="cus-1").id
    visa = ledger.tokenize_card("4242 4242 4242 4242", 12, 2030, "123")
    master = ledger.tokenize_card("5555555555554444", 1, 2031, "1234")
    assert ledger.attach_method(customer, visa).brand == "visa"
    attached = ledger.attach_method(customer, master)
    assert (attached.id, attached.brand, attached.last4) == (master, "mastercard", "4444")
    assert [m.id for m in ledger.list_methods(customer)] == [visa, master]


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc"),
    [
        ("4242424242424241", 12, 2030, "123"),  # fails the Luhn check
        ("4242", 12, 2030, "123"),
        ("4242424242424242", 13, 2030, "123"),
        ("4242424242424242", 12, 30, "123"),
        ("4242424242424242", 12, 2030, "12"),
    ],
)
def test_card_form_refuses_invalid_cards(number: str, month: int, year: int, cvc: str) -> None:
    with pytest.raises(PaymentError):
        LedgerProvider().tokenize_card(number, month, year, cvc)


def test_test_cards_decline_as_documented() -> None:
    ledger = LedgerProvider()
    customer = ledger.create_customer(email=None, idempotency_key="cus-1").id
    poor = ledger.tokenize_card("4000000000009995", 12, 2030, "123")
    with pytest.raises(CardDeclined) as at_attach:
        ledger.attach_method(customer, poor)
    assert (at_attach.value.code, at_attach.value.decline_code) == (
        "card_declined",
        "insufficient_funds",
    )
    failing = ledger.attach_method(
        customer, ledger.tokenize_card("4000000000000341", 1, 2030, "321")
    )
    with pytest.raises(CardDeclined) as at_charge:
        ledger.authorize(customer, failing.id, 100, "USD", "a")
    assert at_charge.value.decline_code == "generic_decline"
    assert ledger.entries() == []


def test_methods_belong_to_one_customer_and_detaching_is_final() -> None:
    ledger = LedgerProvider()
    alice, method = _shopper(ledger)
    bob = ledger.create_customer(email=None, idempotency_key="cus-2").id
    with pytest.raises(PaymentError):
        ledger.attach_method(bob, method)
    with pytest.raises(PaymentError):
        ledger.authorize(bob, method, 100, "EUR", "a")
    ledger.detach_method(method)
    with pytest.raises(PaymentError):
        ledger.attach_method(alice, method)
    with pytest.raises(PaymentError):
        ledger.authorize(alice, method, 100, "EUR", "b")
    with pytest.raises(PaymentError):
        ledger.list_methods("cus_unknown")


def test_a_lost_response_is_replayed_on_retry() -> None:
    lost: list[str] = []

    def lose_first_capture_response(operation: str, phase: Phase) -> None:
        if operation == "capture" and phase == "after" and not lost:
            lost.append(operation)
            raise PaymentRetryableError("injected: response lost")

    ledger = LedgerProvider(fault=lose_first_capture_response)
    customer, method = _shopper(ledger)
    auth = ledger.authorize(customer, method, 900, "EUR", "a")
    with pytest.raises(PaymentRetryableError):
        ledger.capture(auth, 900, "c")
    assert ledger.entries()[0].captured == 900  # applied although the caller saw an error
    assert ledger.capture(auth, 900, "c").amount == 900
    assert [e.status for e in ledger.entries()] == [Status.CAPTURED]


def _in_threads(n: int, fn: Callable[[int], object]) -> None:
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_calls_are_safe() -> None:
    ledger = LedgerProvider()
    customer, method = _shopper(ledger)
    _in_threads(16, lambda i: ledger.authorize(customer, method, 100 + i, "EUR", f"k{i}"))
    _in_threads(16, lambda i: ledger.authorize(customer, method, 999, "EUR", "same"))
    entries = ledger.entries(customer)
    assert len(entries) == 17
    assert len({e.id for e in entries}) == 17


@dataclass
class _Model:
    """What the ledger should hold for one authorisation."""

    key: str
    captured: int = 0
    refunded: int = 0
    status: Status = Status.AUTHORIZED
    cancel_tried: bool = False


@dataclass(frozen=True)
class _Call:
    """A finished call (its key bound inside `fn`) and its outcome: a value or an error type."""

    fn: Callable[[], object]
    outcome: object


class LedgerMachine(RuleBasedStateMachine):
    """Random operation sequences, checked against a reference model of Stripe's rules."""

    auths = Bundle("auths")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.ledger = LedgerProvider()
        self.customer, self.method = _shopper(self.ledger)
        self.model: dict[str, _Model] = {}
        self.refunded: dict[str, int] = {}
        self.calls: list[_Call] = []

    def _key(self) -> str:
        return f"k{len(self.calls)}"

    def _call(self, fn: Callable[[], object], allowed: bool) -> object:
        """Run a new call; check that the ledger accepts it exactly when the model does."""
        try:
            outcome: object = fn()
        except PaymentError as e:
            outcome = type(e)
        assert isinstance(outcome, type) is not allowed, outcome
        self.calls.append(_Call(fn, outcome))
        return outcome

    @rule(target=auths, amount=st.integers(1, 3000))
    def authorize(self, amount: int) -> Authorization:
        key = self._key()
        auth = self._call(
            lambda: self.ledger.authorize(self.customer, self.method, amount, "EUR", key), True
        )
        assert isinstance(auth, Authorization)
        self.model[auth.id] = _Model(key)
        return auth

    @rule(target=payments, auth=auths, amount=st.integers(1, 3000))
    def capture(self, auth: Authorization, amount: int) -> MultipleResults[Payment]:
        m = self.model[auth.id]
        allowed = m.status is Status.AUTHORIZED and amount <= auth.amount
        key = self._key()
        outcome = self._call(lambda: self.ledger.capture(auth, amount, key), allowed)
        if not isinstance(outcome, Payment):
            return multiple()
        m.captured, m.status = amount, Status.CAPTURED
        return multiple(outcome)

    @rule(auth=auths)
    def cancel(self, auth: Authorization) -> None:
        m = self.model[auth.id]
        if m.cancel_tried:
            return  # its derived key now replays the first outcome: see `repeat`
        m.cancel_tried = True
        if self._call(lambda: self.ledger.cancel(auth), m.status is Status.AUTHORIZED) is None:
            m.status = Status.CANCELED

    @rule(payment=payments, amount=st.integers(1, 2000))
    def refund(self, payment: Payment, amount: int) -> None:
        m = self.model[payment.id]
        key = self._key()
        outcome = self._call(
            lambda: self.ledger.refund(payment, amount, key), amount <= m.captured - m.refunded
        )
        if isinstance(outcome, Refund):
            m.refunded += amount
            self.refunded[payment.id] = self.refunded.get(payment.id, 0) + outcome.amount

    @precondition(lambda self: bool(self.calls))
    @rule(pick=st.integers(0, 10_000))
    def repeat(self, pick: int) -> None:
        """Repeating a call with its key gives the first outcome and changes nothing."""
        call = self.calls[pick % len(self.calls)]
        before = self.ledger.entries()
        try:
            again: object = call.fn()
        except PaymentError as e:
            again = type(e)
        assert again == call.outcome
        assert self.ledger.entries() == before

    @rule(auth=auths)
    def reuse_a_key_for_another_amount(self, auth: Authorization) -> None:
        key = self.model[auth.id].key
        before = self.ledger.entries()
        with pytest.raises(IdempotencyConflict):
            self.ledger.authorize(self.customer, self.method, auth.amount + 1, "EUR", key)
        assert self.ledger.entries() == before

    @invariant()
    def books_balance(self) -> None:
        entries = {e.id: e for e in self.ledger.entries()}
        assert entries.keys() == self.model.keys()
        for entry in entries.values():
            m = self.model[entry.id]
            assert (entry.captured, entry.refunded, entry.status) == (
                m.captured,
                m.refunded,
                m.status,
            )
            assert 0 <= entry.refunded <= entry.captured <= entry.authorized
            assert self.refunded.get(entry.id, 0) == entry.refunded
        assert sum(e.captured - e.refunded for e in entries.values()) >= 0


LedgerMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_ledger_keeps_its_invariants = LedgerMachine.TestCase


def test_a_key_reused_for_a_different_request_conflicts() -> None:
    ledger = LedgerProvider()
    customer, method = _shopper(ledger)
    ledger.authorize(customer, method, 100, "EUR", "k")
    with pytest.raises(IdempotencyConflict):
        ledger.authorize(customer, method, 100, "USD", "k")
    with pytest.raises(IdempotencyConflict):
        ledger.create_customer(email=None, idempotency_key="k")

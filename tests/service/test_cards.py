"""Cards: the ledger's card form, saving, listing and removing; has_payment_method in step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, select

from walkout.service import Settings
from walkout.service.models import PaymentCustomer

from .conftest import make_settings, open_store
from .helpers import FakeClock, Store
from .shop import VISA, add_card, card_token, customer_of, enter, ledger


def has_payment_method(store: Store, headers: dict[str, str]) -> bool:
    value: bool = store.client.get("/me", headers=headers).json()["has_payment_method"]
    return value


def test_cards_are_added_listed_and_removed(store: Store) -> None:
    shopper = store.person(payment=False)
    first = add_card(store, shopper)
    second = add_card(store, shopper, "5555 5555 5555 4444")
    listed = store.client.get("/cards", headers=shopper.headers).json()
    assert [(c["id"], c["brand"], c["last4"]) for c in listed] == [
        (second, "mastercard", "4444"),  # the newest is the one charged
        (first, "visa", "4242"),
    ]
    customer = customer_of(store, shopper.account_id)
    assert len(ledger(store).list_methods(customer)) == 2
    with store.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PaymentCustomer)) == 1

    assert store.client.delete(f"/cards/{second}", headers=shopper.headers).status_code == 204
    assert has_payment_method(store, shopper.headers) is True
    assert store.client.delete(f"/cards/{first}", headers=shopper.headers).status_code == 204
    assert has_payment_method(store, shopper.headers) is False
    assert store.client.get("/cards", headers=shopper.headers).json() == []
    assert ledger(store).list_methods(customer) == []
    gate = store.device()
    r = store.scan(gate, store.entry_token(shopper))
    assert (r.status_code, r.json()["code"]) == (403, "no_payment_method")


def test_a_card_declined_when_saved_is_refused(store: Store) -> None:
    shopper = store.person(payment=False)
    token = card_token(store, shopper, "4000 0000 0000 9995")
    r = store.client.post("/cards", json={"token": token}, headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (402, "card_declined")
    assert "insufficient_funds" in r.json()["detail"]
    assert has_payment_method(store, shopper.headers) is False


@pytest.mark.parametrize(
    ("field", "value"),
    [("number", "4242 4242 4242 4241"), ("cvc", "12a"), ("exp_month", 13)],
)
def test_the_card_form_rejects_bad_cards(store: Store, field: str, value: object) -> None:
    shopper = store.person(payment=False)
    form = {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123", field: value}
    r = store.client.post("/cards/ledger-token", json=form, headers=shopper.headers)
    assert r.status_code == 422
    assert r.json()["code"] in ("payment_rejected", "invalid_request")


def test_an_unknown_token_is_rejected(store: Store) -> None:
    shopper = store.person(payment=False)
    r = store.client.post("/cards", json={"token": "pm_nope"}, headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (422, "payment_rejected")


def test_the_same_token_twice_saves_one_card(store: Store) -> None:
    shopper = store.person(payment=False)
    token = card_token(store, shopper)
    first = store.client.post("/cards", json={"token": token}, headers=shopper.headers).json()
    second = store.client.post("/cards", json={"token": token}, headers=shopper.headers).json()
    assert first["id"] == second["id"]
    assert len(store.client.get("/cards", headers=shopper.headers).json()) == 1


def test_no_card_is_removed_during_a_visit_or_someone_elses(store: Store) -> None:
    shopper, other = store.person(payment=False), store.person(payment=False)
    card = add_card(store, shopper)
    enter(store, store.device(), shopper)
    r = store.client.delete(f"/cards/{card}", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (409, "card_in_use")
    assert store.client.delete(f"/cards/{card}", headers=other.headers).status_code == 404


@pytest.fixture
def stripe_store(settings: Settings, clock: FakeClock, connection: Connection) -> Iterator[Store]:
    stripe = make_settings(
        settings.db_url,
        settings.data_dir,
        payment_provider="stripe",
        stripe_api_key="sk_test_unused",
        stripe_api_base="http://127.0.0.1:9",
    )
    with open_store(stripe, clock, connection) as store:
        yield store


def test_the_ledger_card_form_is_only_there_with_the_ledger(stripe_store: Store) -> None:
    shopper = stripe_store.person(payment=False)
    form = {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    r = stripe_store.client.post("/cards/ledger-token", json=form, headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_ledger")


def test_stripe_needs_its_key() -> None:
    with pytest.raises(ValueError, match="stripe_api_key"):
        Settings(payment_provider="stripe")

"""Privacy: consent to personalisation, the export of a shopper's data, and erasure (ADR 9)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select

from walkout.payments import LedgerProvider, PaymentRetryableError
from walkout.service.models import Account, Erasure, Order, OrderStatus, Receipt, Role
from walkout.service.privacy import service as privacy
from walkout.service.settings import Settings

from .conftest import open_store
from .helpers import PASSWORD, Caller, FakeClock, Store, statements
from .order_rows import insert_order
from .shop import (
    DECLINED_AT_CHARGE,
    Feed,
    add_card,
    customer_of,
    enter,
    ledger,
    post_events,
    sku_priced,
)


def erase(store: Store, person: Caller, password: str = PASSWORD) -> Any:
    return store.client.request(
        "DELETE", "/me", json={"password": password}, headers=person.headers
    )


def shop_once(store: Store, shopper: Caller, items: dict[str, int], **receipt: Any) -> int:
    """One visit of ``shopper`` that picks ``items`` and leaves with them; the visit id."""
    gate = store.device()
    visit_id = enter(store, gate, shopper)
    feed = Feed(visit_id, store.services.catalogue)
    picks = [feed.added(sku, qty) for sku, qty in items.items()]
    post_events(store, gate, [*picks, *feed.exit(items, **receipt)])
    return visit_id


def customer(store: Store) -> Caller:
    """A shopper with a saved ledger card."""
    shopper = store.person(payment=False)
    add_card(store, shopper)
    return shopper


# consent


def test_consent_is_off_until_turned_on_and_each_change_is_logged(
    store: Store, clock: FakeClock
) -> None:
    shopper = store.person()
    r = store.client.get("/me/consent", headers=shopper.headers)
    assert r.json() == {"personalisation": False, "changed_at": None}
    r = store.client.put("/me/consent", json={"personalisation": True}, headers=shopper.headers)
    assert r.status_code == 200, r.text
    on_at = clock.now
    assert r.json()["personalisation"] is True
    clock.advance(60)
    again = store.client.put("/me/consent", json={"personalisation": True}, headers=shopper.headers)
    assert again.json() == r.json()  # no change: the time it was given stays
    clock.advance(60)
    store.client.put("/me/consent", json={"personalisation": False}, headers=shopper.headers)
    found = store.client.get("/me/consent", headers=shopper.headers).json()
    assert found["personalisation"] is False
    export = store.client.get("/me/export", headers=shopper.headers).json()
    changes = [(c["personalisation"], c["at"]) for c in export["consent_changes"]]
    assert [on for on, _ in changes] == [True, False]
    assert changes[0][1] == on_at.isoformat().replace("+00:00", "Z")
    assert store.client.get("/me/consent", headers=store.person().headers).json() == {
        "personalisation": False,
        "changed_at": None,
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"personalisation": "yes"}, {"personalisation": 1}, {"personalisation": True, "x": 1}],
)
def test_consent_must_be_a_plain_boolean(store: Store, body: dict[str, Any]) -> None:
    r = store.client.put("/me/consent", json=body, headers=store.person().headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


# export


def test_export_holds_everything_on_the_caller_and_nothing_on_others(store: Store) -> None:
    catalogue = store.services.catalogue
    sku = sku_priced(catalogue, 100, 2000)
    shopper = customer(store)
    other = customer(store)
    visit_id = shop_once(store, shopper, {sku: 2})
    shop_once(store, other, {sku: 1})
    store.client.put("/me/consent", json={"personalisation": True}, headers=shopper.headers)
    r = store.client.get("/me/export", headers=shopper.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    assert r.headers["content-disposition"].endswith('.json"')
    body = r.json()
    assert body["format"] == "walkout-export/1"
    assert body["account"]["id"] == shopper.account_id
    assert body["account"]["email"].startswith("person")
    assert body["consent"]["personalisation"] is True
    (card,) = body["cards"]
    assert set(card) == {"id", "brand", "last4", "added_at"}
    assert card["last4"] == "4242"
    assert [v["id"] for v in body["visits"]] == [visit_id]
    assert [e["visit_id"] for e in body["entries"]] == [visit_id]
    kinds = [e["event"]["type"] for e in body["cart_events"]]
    assert kinds == ["item_added", "visit_closed", "receipt_issued"]
    assert {e["visit_id"] for e in body["cart_events"]} == {visit_id}
    (receipt,) = body["receipts"]
    assert [(ln["sku"], ln["qty"]) for ln in receipt["lines"]] == [(sku, 2)]
    assert receipt["payment"]["state"] == "captured"
    assert receipt["lines"][0]["evidence"] is None  # the engine's evidence is staff-only
    assert {r["account_id"] for r in body["receipts"]} == {shopper.account_id}


def test_the_export_costs_as_many_queries_for_ten_receipts_as_for_one(
    store: Store, connection: Connection
) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = customer(store)

    def exported(n: int) -> int:
        with statements(connection) as sent:
            r = store.client.get("/me/export", headers=shopper.headers)
        assert r.status_code == 200, r.text
        assert [len(receipt["lines"]) for receipt in r.json()["receipts"]] == [1] * n
        return len(sent)

    shop_once(store, shopper, {sku: 1})
    one = exported(1)
    for _ in range(9):
        shop_once(store, shopper, {sku: 2})
    assert exported(10) == one


# erasure


def test_erasure_forgets_the_person_and_keeps_the_anonymous_receipts(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = customer(store)
    customer_id = customer_of(store, shopper.account_id)
    shop_once(store, shopper, {sku: 1})
    store.client.put("/me/consent", json={"personalisation": True}, headers=shopper.headers)
    email = store.client.get("/me", headers=shopper.headers).json()["email"]
    early_token = store.entry_token(shopper)  # issued before, scanned after the erasure
    assert ledger(store).list_methods(customer_id) != []

    r = erase(store, shopper)
    assert r.status_code == 204, r.text

    assert store.client.get("/me", headers=shopper.headers).status_code == 401
    assert store.sign_in(email).json()["code"] == "invalid_credentials"
    assert ledger(store).list_methods(customer_id) == []  # detached at the provider
    refused = store.scan(store.device(), early_token)
    assert refused.status_code == 403  # its cards are gone and its entry tokens revoked
    assert refused.json()["code"] == "revoked"
    with store.services.sessions() as session:
        account = session.get(Account, shopper.account_id)
        assert account is not None
        assert (account.email, account.password_hash, account.has_payment_method) == (
            None,
            None,
            False,
        )
        assert session.get(Erasure, shopper.account_id) is not None
        receipts = session.scalars(
            select(Receipt).where(Receipt.account_id == shopper.account_id)
        ).all()
        assert len(receipts) == 1  # kept for the accounts
    staff = store.person(Role.STAFF)
    kept = store.client.get(f"/receipts/{receipts[0].id}", headers=staff.headers)
    assert kept.status_code == 200
    assert kept.json()["payment"]["state"] == "captured"
    # The email is free again: the same person may start over.
    again = store.client.post("/auth/sign-up", json={"email": email, "password": PASSWORD})
    assert again.status_code == 201, again.text


def test_erasing_again_changes_nothing(store: Store, clock: FakeClock) -> None:
    shopper = customer(store)
    assert erase(store, shopper).status_code == 204
    with store.services.sessions.begin() as session:
        erased_at = session.get(Erasure, shopper.account_id)
        assert erased_at is not None
        first = erased_at.erased_at
    clock.advance(3600)
    with store.services.sessions.begin() as session:
        privacy.erase(session, store.services, shopper.account_id, "whatever", "testclient")
    with store.services.sessions() as session:
        row = session.get(Erasure, shopper.account_id)
        assert row is not None
        assert row.erased_at == first


def test_a_wrong_password_erases_nothing_and_counts_as_a_failed_sign_in(store: Store) -> None:
    shopper = customer(store)
    limit = store.services.settings.sign_in_max_failures
    for _ in range(limit):
        r = erase(store, shopper, "not my password")
        assert (r.status_code, r.json()["code"]) == (403, "wrong_password")
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")
    assert store.client.get("/me", headers=shopper.headers).status_code == 200
    assert store.client.get("/cards", headers=shopper.headers).json() != []


def test_erasure_waits_while_in_the_store(store: Store) -> None:
    shopper = customer(store)
    enter(store, store.device(), shopper)
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (409, "visit_open")
    assert store.client.get("/me", headers=shopper.headers).status_code == 200


def test_erasure_waits_for_a_payment_held_for_review(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = customer(store)
    shop_once(store, shopper, {sku: 1}, flagged=True)
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (409, "payment_in_progress")


def test_erasure_waits_while_money_is_owed(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = store.person(payment=False)
    add_card(store, shopper, DECLINED_AT_CHARGE)
    shop_once(store, shopper, {sku: 1})
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (409, "unpaid_visit")


def test_erasure_waits_for_a_dispute_to_be_decided(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 600, 2000)  # above the automatic refund
    shopper = customer(store)
    shop_once(store, shopper, {sku: 1})
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    receipt = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    body = {"line_id": receipt["lines"][0]["id"], "reason": "not mine"}
    r = store.client.post(f"/receipts/{receipt['id']}/disputes", json=body, headers=shopper.headers)
    dispute = r.json()
    assert dispute["state"] == "pending"
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (409, "dispute_in_progress")
    staff = store.person(Role.STAFF)
    path = f"/staff/disputes/{dispute['id']}/deny"
    assert store.client.post(path, json={}, headers=staff.headers).status_code == 200
    assert erase(store, shopper).status_code == 204


def test_orders_are_exported_and_an_open_one_holds_the_erasure(store: Store) -> None:
    shopper = customer(store)
    sku = sku_priced(store.services.catalogue, 100, 2000)
    collected = insert_order(store, shopper.account_id, OrderStatus.COLLECTED, [sku])
    placed = insert_order(store, shopper.account_id, OrderStatus.PLACED, [sku])
    body = store.client.get("/me/export", headers=shopper.headers).json()
    assert [(o["id"], o["status"]) for o in body["orders"]] == [
        (collected, "collected"),
        (placed, "placed"),
    ]
    assert [(ln["sku"], ln["qty"]) for ln in body["orders"][0]["lines"]] == [(sku, 1)]
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (409, "order_in_progress")
    with store.services.sessions.begin() as session:
        order = session.get(Order, placed)
        assert order is not None
        order.status = OrderStatus.CANCELED
    assert erase(store, shopper).status_code == 204


def test_the_last_manager_cannot_be_erased(store: Store) -> None:
    manager = store.person(Role.MANAGER)
    r = erase(store, manager)
    assert (r.status_code, r.json()["code"]) == (409, "last_manager")
    store.person(Role.MANAGER)
    assert erase(store, manager).status_code == 204


def test_devices_cannot_erase_themselves(store: Store) -> None:
    r = erase(store, store.device())
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


class Outage:
    """Makes the ledger's card detachment fail as a provider outage while ``down``."""

    def __init__(self) -> None:
        self.down = True

    def __call__(self, operation: str, phase: str) -> None:
        if self.down and operation == "detach_method" and phase == "before":
            raise PaymentRetryableError("provider down")


@pytest.fixture
def outage_store(
    settings: Settings, clock: FakeClock, connection: Connection
) -> Iterator[tuple[Store, Outage]]:
    outage = Outage()
    with open_store(settings, clock, connection, provider=LedgerProvider(fault=outage)) as store:
        yield store, outage


def test_a_provider_outage_fails_the_erasure_before_anything_is_lost_and_a_retry_finishes(
    outage_store: tuple[Store, Outage],
) -> None:
    store, outage = outage_store
    shopper = customer(store)
    r = erase(store, shopper)
    assert (r.status_code, r.json()["code"]) == (503, "payment_unavailable")
    assert store.client.get("/me", headers=shopper.headers).json()["email"] is not None
    assert len(store.client.get("/cards", headers=shopper.headers).json()) == 1
    outage.down = False
    assert erase(store, shopper).status_code == 204
    assert ledger(store).list_methods(customer_of(store, shopper.account_id)) == []

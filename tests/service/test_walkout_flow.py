"""The walk-out flow end to end over HTTP: card, entry, live cart, exit, charge, receipt,
dispute, refund; declined cards, held receipts, staff visits and empty baskets."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from walkout.service.models import Role

from .helpers import Caller, Store, statements
from .shop import (
    DECLINED_AT_CHARGE,
    Feed,
    add_card,
    captures,
    customer_of,
    enter,
    ledger,
    post_events,
    sku_priced,
)


@pytest.fixture
def gate(store: Store) -> Caller:
    return store.device()


def test_sign_up_to_refund_over_http(store: Store, gate: Caller) -> None:
    catalogue = store.services.catalogue
    cheap, dear = sku_priced(catalogue, 100, 400), sku_priced(catalogue, 600, 2000)
    price = {sku: catalogue.products[sku].price for sku in (cheap, dear)}
    shopper = store.person(payment=False)
    assert store.client.get("/me", headers=shopper.headers).json()["has_payment_method"] is False
    add_card(store, shopper)
    me = store.client.get("/me", headers=shopper.headers).json()
    assert me["has_payment_method"] is True

    visit_id = enter(store, gate, shopper)
    feed = Feed(visit_id, catalogue)
    events = [feed.added(cheap, 2), feed.added(dear), feed.removed(cheap)]
    assert post_events(store, gate, events) == ["applied"] * 3
    cart = store.client.get("/visits/current/cart", headers=shopper.headers).json()
    assert [(line["sku"], line["qty"]) for line in cart["lines"]] == sorted([(cheap, 1), (dear, 1)])
    assert cart["total"] == price[cheap] + price[dear]
    assert cart["currency"] == "USD"

    assert post_events(store, gate, feed.exit({cheap: 1, dear: 1})) == ["applied"] * 2
    total = price[cheap] + price[dear]
    assert captures(ledger(store), customer_of(store, shopper.account_id)) == [total]
    assert store.client.get("/visits/current", headers=shopper.headers).status_code == 404

    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert summary["visit_id"] == visit_id
    assert summary["payment"]["state"] == "captured"
    assert summary["payment"]["captured_amount"] == total
    receipt = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    names = {line["sku"]: line["name"] for line in receipt["lines"]}
    assert names[dear] == catalogue.products[dear].name
    assert all(line["evidence"] is None for line in receipt["lines"])  # staff only
    line = next(line for line in receipt["lines"] if line["sku"] == cheap)

    r = store.client.post(
        f"/receipts/{summary['id']}/disputes",
        json={"line_id": line["id"], "reason": "I put it back"},
        headers=shopper.headers,
    )
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert (dispute["state"], dispute["amount"]) == ("refunded", price[cheap])
    assert dispute["refund_id"] is not None
    receipt = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    assert receipt["refunded"] == price[cheap]
    disputed = next(x for x in receipt["lines"] if x["id"] == line["id"])
    assert disputed["dispute"]["state"] == "refunded"
    (entry,) = ledger(store).entries(customer_of(store, shopper.account_id))
    assert entry.refunded == price[cheap]

    # Back in: the visit is paid, so the gate admits a new one.
    assert enter(store, gate, shopper) != visit_id


def test_declined_card_unpaid_entry_refused_then_settled(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = store.person(payment=False)
    add_card(store, shopper, DECLINED_AT_CHARGE)
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, [*Feed(visit_id, store.services.catalogue).exit({sku: 1})])
    (receipt,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert receipt["payment"]["state"] == "declined"
    r = store.scan(gate, store.entry_token(shopper))
    assert (r.status_code, r.json()["code"]) == (403, "unpaid_visit")

    good = add_card(store, shopper)
    r = store.client.post(
        f"/visits/{visit_id}/settle", json={"card_id": good}, headers=shopper.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["visit_status"] == "paid"
    assert r.json()["payment"]["state"] == "captured"
    price = store.services.catalogue.products[sku].price
    assert captures(ledger(store)) == [price]
    again = store.client.post(
        f"/visits/{visit_id}/settle", json={"card_id": good}, headers=shopper.headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_settle")
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200


def test_settle_is_only_for_ones_own_visit(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper, other = store.person(payment=False), store.person(payment=False)
    add_card(store, shopper, DECLINED_AT_CHARGE)
    card = add_card(store, other)
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({sku: 1}))
    r = store.client.post(
        f"/visits/{visit_id}/settle", json={"card_id": card}, headers=other.headers
    )
    assert r.status_code == 404
    r = store.client.post(
        f"/visits/{visit_id}/settle", json={"card_id": card}, headers=shopper.headers
    )
    assert r.status_code == 404  # not the shopper's card


def test_flagged_receipt_is_held_for_review_then_captured(store: Store, gate: Caller) -> None:
    catalogue = store.services.catalogue
    sku = sku_priced(catalogue, 600, 2000)
    price = catalogue.products[sku].price
    shopper = store.person(payment=False)
    add_card(store, shopper)
    visit_id = enter(store, gate, shopper)
    feed = Feed(visit_id, catalogue)
    post_events(
        store,
        gate,
        [feed.added(sku, 2, confidence=0.4), *feed.exit({sku: 2}, confidence=0.4, flagged=True)],
    )
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert summary["flagged"] is True
    assert (summary["payment"]["state"], summary["payment"]["held"]) == ("authorised", True)
    assert captures(ledger(store)) == []
    # Held is not owed: the shopper may come back in meanwhile.
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200

    staff = store.person(Role.STAFF)
    held = store.client.get("/staff/reviews", headers=staff.headers).json()
    assert [r["id"] for r in held] == [summary["id"]]
    staff_view = store.client.get(f"/receipts/{summary['id']}", headers=staff.headers).json()
    (evidence,) = staff_view["lines"][0]["evidence"]
    assert (evidence["type"], evidence["evidence"]["confidence"]) == ("item_added", 0.4)

    r = store.client.post(
        f"/staff/receipts/{summary['id']}/approve", json={"amount": price}, headers=staff.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["payment"]["state"] == "captured"
    assert r.json()["reviewed_at"] is not None
    assert captures(ledger(store)) == [price]  # one unit, not two: staff corrected it
    assert store.client.get("/staff/reviews", headers=staff.headers).json() == []
    r = store.client.post(
        f"/staff/receipts/{summary['id']}/approve", json={}, headers=staff.headers
    )
    assert (r.status_code, r.json()["code"]) == (409, "not_held")


def test_listing_receipts_costs_as_many_queries_for_ten_as_for_one(
    store: Store, gate: Caller, connection: Connection
) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper, staff = store.person(payment=False), store.person(Role.STAFF)
    add_card(store, shopper)

    def shop(n: int) -> None:
        for _ in range(n):  # held for review, not owed: the shopper may come straight back in
            feed = Feed(enter(store, gate, shopper), store.services.catalogue)
            post_events(store, gate, feed.exit({sku: 1}, flagged=True))

    def listed(path: str, who: Caller, n: int) -> int:
        with statements(connection) as sent:
            r = store.client.get(path, headers=who.headers)
        assert r.status_code == 200, r.text
        assert [s["payment"]["held"] for s in r.json()] == [True] * n
        return len(sent)

    lists = (("/receipts", shopper), ("/staff/reviews", staff))
    shop(1)
    one = [listed(path, who, 1) for path, who in lists]
    shop(9)
    assert [listed(path, who, 10) for path, who in lists] == one


def test_a_held_receipt_released_at_zero_charges_nothing(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = store.person(payment=False)
    add_card(store, shopper)
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({sku: 1}, flagged=True))
    staff = store.person(Role.MANAGER)
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    too_much = {"amount": summary["total"] + 1}
    url = f"/staff/receipts/{summary['id']}/approve"
    assert store.client.post(url, json=too_much, headers=staff.headers).status_code == 409
    r = store.client.post(url, json={"amount": 0}, headers=staff.headers)
    assert r.json()["payment"]["state"] == "canceled"
    assert captures(ledger(store)) == []
    assert [e.status.value for e in ledger(store).entries()] == ["canceled"]
    visit = store.client.get("/receipts", headers=shopper.headers).json()[0]
    assert visit["payment"]["state"] == "canceled"


def test_a_receipt_whose_total_disagrees_with_its_lines_is_held(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper = store.person(payment=False)
    add_card(store, shopper)
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({sku: 1}, total=1))
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert summary["flagged"] is True
    assert summary["total"] == store.services.catalogue.products[sku].price
    assert summary["payment"]["held"] is True


def test_an_empty_basket_is_paid_without_a_payment(store: Store, gate: Caller) -> None:
    shopper = store.person(payment=False)
    add_card(store, shopper)
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({}))
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert (summary["total"], summary["payment"]) == (0, None)
    assert ledger(store).entries() == []
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200


def test_staff_visits_are_not_billed(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    worker = store.person(Role.STAFF, payment=False)
    visit_id = enter(store, gate, worker)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({sku: 3}))
    (summary,) = store.client.get("/receipts", headers=worker.headers).json()
    assert summary["payment"] is None
    assert store.scan(gate, store.entry_token(worker)).status_code == 200


def test_receipts_are_private_to_their_shopper(store: Store, gate: Caller) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper, other = store.person(payment=False), store.person()
    add_card(store, shopper)
    post_events(
        store, gate, Feed(enter(store, gate, shopper), store.services.catalogue).exit({sku: 1})
    )
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert store.client.get("/receipts", headers=other.headers).json() == []
    r = store.client.get(f"/receipts/{summary['id']}", headers=other.headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    manager = store.person(Role.MANAGER)
    assert (
        store.client.get(f"/receipts/{summary['id']}", headers=manager.headers).status_code == 200
    )

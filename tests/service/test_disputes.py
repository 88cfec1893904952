"""Disputes: small ones refunded at once, larger ones decided by staff; never more than charged."""

from __future__ import annotations

from typing import Any

from walkout.service.models import Role

from .helpers import Caller, Store
from .shop import Feed, add_card, enter, ledger, post_events, sku_priced


def bought(store: Store, items: dict[str, int], **receipt: Any) -> tuple[Caller, dict[str, Any]]:
    """A shopper who bought ``items``, and their receipt."""
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    post_events(store, gate, feed.exit(items, **receipt))
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    full = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    return shopper, full


def dispute(
    store: Store, shopper: Caller, receipt: dict[str, Any], line: int = 0, **body: Any
) -> Any:
    payload = {"line_id": receipt["lines"][line]["id"], "reason": "wrong item", **body}
    return store.client.post(
        f"/receipts/{receipt['id']}/disputes", json=payload, headers=shopper.headers
    )


def test_a_large_dispute_waits_for_staff_then_is_refunded(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 600, 2000)
    price = store.services.catalogue.products[sku].price
    shopper, receipt = bought(store, {sku: 1})
    r = dispute(store, shopper, receipt)
    assert r.status_code == 201, r.text
    pending = r.json()
    assert (pending["state"], pending["refund_id"]) == ("pending", None)
    staff = store.person(Role.STAFF)
    queue = store.client.get("/staff/disputes", headers=staff.headers).json()
    assert [d["id"] for d in queue] == [pending["id"]]
    r = store.client.post(
        f"/staff/disputes/{pending['id']}/approve",
        json={"note": "seen on camera"},
        headers=staff.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["note"]) == ("refunded", "seen on camera")
    assert store.client.get("/staff/disputes", headers=staff.headers).json() == []
    after = store.client.get(f"/receipts/{receipt['id']}", headers=shopper.headers).json()
    assert after["refunded"] == price
    assert ledger(store).entries()[0].refunded == price
    again = store.client.post(
        f"/staff/disputes/{pending['id']}/approve", json={}, headers=staff.headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "not_pending")


def test_a_denied_dispute_refunds_nothing(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 600, 2000)
    shopper, receipt = bought(store, {sku: 1})
    pending = dispute(store, shopper, receipt).json()
    manager = store.person(Role.MANAGER)
    r = store.client.post(
        f"/staff/disputes/{pending['id']}/deny", json={"note": "taken"}, headers=manager.headers
    )
    assert r.json()["state"] == "denied"
    r = store.client.post(
        f"/staff/disputes/{pending['id']}/approve", json={}, headers=manager.headers
    )
    assert r.status_code == 409
    assert (
        store.client.get(f"/receipts/{receipt['id']}", headers=shopper.headers).json()["refunded"]
        == 0
    )
    assert ledger(store).entries()[0].refunded == 0
    missing = store.client.post("/staff/disputes/999999/deny", json={}, headers=manager.headers)
    assert missing.status_code == 404


def test_part_of_a_line_can_be_disputed_once(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 500)
    price = store.services.catalogue.products[sku].price
    shopper, receipt = bought(store, {sku: 3})
    assert dispute(store, shopper, receipt, qty=4).status_code == 409
    r = dispute(store, shopper, receipt, qty=1)
    assert (r.json()["state"], r.json()["amount"]) == ("refunded", price)
    r = dispute(store, shopper, receipt, qty=1)
    assert (r.status_code, r.json()["code"]) == (409, "already_disputed")


def test_no_dispute_refunds_more_than_was_charged(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 500)
    price = store.services.catalogue.products[sku].price
    shopper, receipt = bought(store, {sku: 2}, flagged=True)
    r = dispute(store, shopper, receipt)
    assert (r.status_code, r.json()["code"]) == (409, "not_charged")
    staff = store.person(Role.STAFF)
    r = store.client.post(
        f"/staff/receipts/{receipt['id']}/approve", json={"amount": price}, headers=staff.headers
    )
    assert r.json()["payment"]["captured_amount"] == price
    r = dispute(store, shopper, receipt)  # both units, but only one was charged
    assert r.status_code == 409
    assert dispute(store, shopper, receipt, qty=1).json()["state"] == "refunded"


def test_only_ones_own_receipt_can_be_disputed(store: Store) -> None:
    sku = sku_priced(store.services.catalogue, 100, 500)
    _, receipt = bought(store, {sku: 1})
    other = store.person()
    assert dispute(store, other, receipt).status_code == 404
    staff = store.person(Role.STAFF)
    assert dispute(store, staff, receipt).status_code == 404

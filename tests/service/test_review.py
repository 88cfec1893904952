"""Staff review corrections: the reviewer rewrites a held receipt's lines; the receipt, the
charge and the stock follow, once, and the engine's lines stay for audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from walkout.domain.events import ItemAdded
from walkout.service.models import Role

from .helpers import Caller, Store
from .shop import Feed, add_card, captures, enter, ledger, post_events

UNITS = 10


@dataclass(frozen=True)
class Product:
    sku: str
    plate: str
    price: int


@dataclass
class Review:
    """A flagged visit that took 2 × ``a`` and 1 × ``c``; ``b`` is a cheaper product."""

    staff: Caller
    shopper: Caller
    receipt_id: int
    a: Product
    b: Product
    c: Product

    @property
    def url(self) -> str:
        return f"/staff/receipts/{self.receipt_id}/approve"


def _products(store: Store) -> list[Product]:
    """Shelf products (no meal kits: selling one moves its components' stock) sold without an
    ID check, with a single facing each, cheapest first."""
    catalogue = store.services.catalogue
    found = [
        Product(sku, plates[0], catalogue.products[sku].price)
        for sku, plates in catalogue.facings.items()
        if len(plates) == 1
        and not catalogue.products[sku].age_restricted
        and not catalogue.products[sku].is_kit
    ]
    return sorted(found, key=lambda p: (p.price, p.sku))


def stock(store: Store, staff: Caller) -> dict[str, int | None]:
    r = store.client.get("/staff/inventory", headers=staff.headers)
    assert r.status_code == 200, r.text
    return {f["sku"]: f["units"] for f in r.json() if f["units"] is not None}


def taken(feed: Feed, product: Product, qty: int, confidence: float) -> ItemAdded:
    event = feed.added(product.sku, qty, confidence=confidence)
    evidence = event.evidence.model_copy(update={"plate": product.plate})
    return event.model_copy(update={"evidence": evidence})


@pytest.fixture
def review(store: Store) -> Review:
    products = _products(store)
    b, a, c = products[0], products[-1], products[-2]  # b costs less than a + c
    staff = store.person(Role.STAFF)
    for product in (a, b, c):
        path = f"/staff/inventory/{product.plate}/{product.sku}"
        r = store.client.put(path, json={"units": UNITS}, headers=staff.headers)
        assert r.status_code == 200, r.text
    gate = store.device()
    shopper = store.person(payment=False)
    add_card(store, shopper)
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    events = [
        taken(feed, a, 2, 0.45),
        taken(feed, c, 1, 0.95),
        *feed.exit({a.sku: 2, c.sku: 1}, confidence=0.45, flagged=True),
    ]
    assert post_events(store, gate, events) == ["applied"] * 4
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert summary["payment"]["held"] is True
    return Review(staff, shopper, summary["id"], a, b, c)


def lines_of(body: dict[str, Any]) -> dict[str, int]:
    return {line["sku"]: line["qty"] for line in body["lines"]}


def test_corrected_lines_rewrite_the_receipt_capture_less_and_move_stock_once(
    store: Store, review: Review
) -> None:
    a, b, c = review.a, review.b, review.c
    assert stock(store, review.staff) == {a.sku: UNITS - 2, b.sku: UNITS, c.sku: UNITS - 1}
    # One unit of a was a look-alike b; c was never taken.
    corrected = {"lines": [{"sku": a.sku, "qty": 1}, {"sku": b.sku, "qty": 1}]}
    r = store.client.post(review.url, json=corrected, headers=review.staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert lines_of(body) == {a.sku: 1, b.sku: 1}
    assert body["total"] == a.price + b.price
    assert {line["sku"]: line["confidence"] for line in body["lines"]} == {a.sku: 1.0, b.sku: 1.0}
    assert [(e["sku"], e["qty"]) for e in body["engine_lines"]] == sorted([(a.sku, 2), (c.sku, 1)])
    assert (body["payment"]["state"], body["payment"]["held"]) == ("captured", False)
    assert captures(ledger(store)) == [a.price + b.price]
    assert stock(store, review.staff) == {a.sku: UNITS - 1, b.sku: UNITS - 1, c.sku: UNITS}

    # A repeat (a retried request, a second reviewer) changes nothing.
    again = store.client.post(review.url, json=corrected, headers=review.staff.headers)
    assert (again.status_code, again.json()["code"]) == (409, "not_held")
    assert captures(ledger(store)) == [a.price + b.price]
    assert stock(store, review.staff) == {a.sku: UNITS - 1, b.sku: UNITS - 1, c.sku: UNITS}

    # The shopper sees the corrected receipt, without the audit lines or evidence.
    mine = store.client.get(f"/receipts/{review.receipt_id}", headers=review.shopper.headers)
    assert lines_of(mine.json()) == {a.sku: 1, b.sku: 1}
    assert mine.json()["engine_lines"] is None
    assert mine.json()["total"] == a.price + b.price


def test_a_correction_above_the_authorisation_changes_nothing(store: Store, review: Review) -> None:
    a, c = review.a, review.c
    before = stock(store, review.staff)
    too_much = {"lines": [{"sku": a.sku, "qty": 3}, {"sku": c.sku, "qty": 1}]}
    r = store.client.post(review.url, json=too_much, headers=review.staff.headers)
    assert r.status_code == 409, r.text
    assert "at most" in r.json()["detail"]
    staff_view = store.client.get(f"/receipts/{review.receipt_id}", headers=review.staff.headers)
    assert lines_of(staff_view.json()) == {a.sku: 2, c.sku: 1}
    assert staff_view.json()["payment"]["held"] is True
    assert stock(store, review.staff) == before
    assert captures(ledger(store)) == []


def test_removing_every_line_charges_nothing_and_puts_the_stock_back(
    store: Store, review: Review
) -> None:
    r = store.client.post(review.url, json={"lines": []}, headers=review.staff.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["lines"], r.json()["total"]) == ([], 0)
    assert r.json()["payment"]["state"] == "canceled"
    assert captures(ledger(store)) == []
    assert set(stock(store, review.staff).values()) == {UNITS}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": 1, "lines": []}, 422),
        ({"lines": [{"sku": "x", "qty": 1}, {"sku": "x", "qty": 2}]}, 422),
        ({"lines": [{"sku": "x", "qty": -1}]}, 422),
        ({"lines": [{"sku": "x", "qty": 1, "price": 1}]}, 422),
        ({"lines": [{"sku": "no-such-product", "qty": 1}]}, 422),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(
    store: Store, review: Review, body: dict[str, Any], status: int
) -> None:
    before = stock(store, review.staff)
    r = store.client.post(review.url, json=body, headers=review.staff.headers)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    assert stock(store, review.staff) == before
    held = store.client.get("/staff/reviews", headers=review.staff.headers).json()
    assert [h["id"] for h in held] == [review.receipt_id]


def test_shoppers_cannot_correct_receipts(store: Store, review: Review) -> None:
    body = {"lines": [{"sku": review.a.sku, "qty": 1}]}
    r = store.client.post(review.url, json=body, headers=review.shopper.headers)
    assert r.status_code == 403


def test_a_charged_receipt_corrected_later_refunds_the_difference_once(
    store: Store, review: Review
) -> None:
    a, c = review.a, review.c
    r = store.client.post(review.url, json={}, headers=review.staff.headers)
    assert r.json()["payment"]["state"] == "captured"
    charged = 2 * a.price + c.price
    correct = f"/staff/receipts/{review.receipt_id}/correct"
    # Only one a was taken, and no c.
    body = {"lines": [{"sku": a.sku, "qty": 1}]}
    r = store.client.post(correct, json=body, headers=review.staff.headers)
    assert r.status_code == 200, r.text
    refunds = {line["sku"]: line["dispute"] for line in r.json()["lines"]}
    assert (refunds[a.sku]["qty"], refunds[a.sku]["state"]) == (1, "refunded")
    assert (refunds[c.sku]["qty"], refunds[c.sku]["state"]) == (1, "refunded")
    assert r.json()["refunded"] == a.price + c.price
    assert ledger(store).entries()[0].refunded == a.price + c.price
    assert stock(store, review.staff) == {a.sku: UNITS - 1, review.b.sku: UNITS, c.sku: UNITS}

    # A repeat changes nothing: the lines already stand at what is left after refunds.
    again = store.client.post(correct, json=body, headers=review.staff.headers)
    assert again.status_code == 200, again.text
    assert ledger(store).entries()[0].refunded == a.price + c.price
    assert stock(store, review.staff)[a.sku] == UNITS - 1
    mine = store.client.get("/receipts", headers=review.shopper.headers).json()[0]
    assert mine["payment"]["captured_amount"] - mine["refunded"] == charged - a.price - c.price


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([{"sku": "A", "qty": 3}, {"sku": "C", "qty": 1}], "can_only_lower"),
        (
            [{"sku": "A", "qty": 2}, {"sku": "C", "qty": 1}, {"sku": "B", "qty": 1}],
            "can_only_lower",
        ),
    ],
)
def test_a_charged_receipt_cannot_be_raised(
    store: Store, review: Review, lines: list[dict[str, Any]], code: str
) -> None:
    skus = {"A": review.a.sku, "B": review.b.sku, "C": review.c.sku}
    store.client.post(review.url, json={}, headers=review.staff.headers)
    body = {"lines": [{**line, "sku": skus[line["sku"]]} for line in lines]}
    correct = f"/staff/receipts/{review.receipt_id}/correct"
    r = store.client.post(correct, json=body, headers=review.staff.headers)
    assert (r.status_code, r.json()["code"]) == (409, code)
    assert ledger(store).entries()[0].refunded == 0


def test_a_held_receipt_is_corrected_in_its_review_not_after(store: Store, review: Review) -> None:
    correct = f"/staff/receipts/{review.receipt_id}/correct"
    r = store.client.post(correct, json={"lines": []}, headers=review.staff.headers)
    assert (r.status_code, r.json()["code"]) == (409, "not_captured")
    assert stock(store, review.staff)[review.a.sku] == UNITS - 2


def test_a_line_the_shopper_disputed_is_left_to_that_dispute(store: Store, review: Review) -> None:
    a = review.a
    store.client.post(review.url, json={}, headers=review.staff.headers)
    receipt = store.client.get(
        f"/receipts/{review.receipt_id}", headers=review.shopper.headers
    ).json()
    line_a = next(line for line in receipt["lines"] if line["sku"] == a.sku)
    r = store.client.post(
        f"/receipts/{review.receipt_id}/disputes",
        json={"line_id": line_a["id"], "qty": 1, "reason": "took one"},
        headers=review.shopper.headers,
    )
    assert r.status_code == 201, r.text
    correct = f"/staff/receipts/{review.receipt_id}/correct"
    # What the dispute claims already counts: a stands at 1 and c is lowered.
    body = {"lines": [{"sku": a.sku, "qty": 1}]}
    r = store.client.post(correct, json=body, headers=review.staff.headers)
    assert r.status_code == 200, r.text
    refunds = {line["sku"]: line["dispute"]["reason"] for line in r.json()["lines"]}
    assert refunds == {a.sku: "took one", review.c.sku: "Corrected by staff review"}
    r = store.client.post(correct, json={"lines": []}, headers=review.staff.headers)
    assert (r.status_code, r.json()["code"]) == (409, "line_disputed")

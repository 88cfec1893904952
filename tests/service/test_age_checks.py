"""Age checks: a restricted pick holds its line and the walk-out capture until staff check ID."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from walkout.service.models import Role
from walkout.service.settings import Settings, default_store_file

from .conftest import open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, add_card, captures, customer_of, enter, ledger, post_events


@dataclass
class Shop:
    store: Store
    gate: Caller
    staff: Caller
    shopper: Caller
    feed: Feed
    beer: str  # age-restricted
    bread: str  # not restricted

    def price(self, sku: str) -> int:
        return self.store.services.catalogue.products[sku].price

    def get(self, path: str, caller: Caller | None = None) -> Any:
        r = self.store.client.get(path, headers=(caller or self.staff).headers)
        assert r.status_code == 200, r.text
        return r.json()

    def decide(self, confirmed: bool) -> Any:
        path = f"/staff/visits/{self.feed.token}/age-check"
        return self.store.client.post(
            path, json={"confirmed": confirmed}, headers=self.staff.headers
        )

    def age_tasks(self) -> list[Any]:
        return [t for t in self.get("/staff/tasks") if t["kind"] == "age_check"]

    def cart(self) -> dict[str, bool]:
        lines = self.get("/visits/current/cart", self.shopper)["lines"]
        return {line["sku"]: line["held_for_age_check"] for line in lines}

    def receipt(self) -> Any:
        (summary,) = self.get("/receipts", self.shopper)
        return self.get(f"/receipts/{summary['id']}", self.shopper)

    def captured(self) -> list[int]:
        return captures(ledger(self.store), customer_of(self.store, self.shopper.account_id))

    def walk_out(self) -> None:
        items = {self.beer: 2, self.bread: 1}
        assert post_events(self.store, self.gate, self.feed.exit(items)) == ["applied"] * 2


@pytest.fixture
def shop(
    settings: Settings, clock: FakeClock, connection: Connection, tmp_path: Path
) -> Iterator[Shop]:
    data = json.loads(default_store_file().read_text())
    products = data["products"]
    products[0]["age_restricted"] = True
    store_file = tmp_path / "store.json"
    store_file.write_text(json.dumps(data))
    restricted = settings.model_copy(update={"store_file": store_file})
    with open_store(restricted, clock, connection) as store:
        gate, shopper = store.device(), store.person(payment=False)
        add_card(store, shopper)
        feed = Feed(enter(store, gate, shopper), store.services.catalogue)
        beer, bread = products[0]["sku"], products[1]["sku"]
        yield Shop(store, gate, store.caller(Role.STAFF), shopper, feed, beer, bread)


def test_a_restricted_pick_opens_one_task_and_holds_its_line(shop: Shop) -> None:
    picks = [shop.feed.added(shop.bread), shop.feed.added(shop.beer), shop.feed.added(shop.beer)]
    assert post_events(shop.store, shop.gate, picks) == ["applied"] * 3
    (task,) = shop.age_tasks()
    assert (task["visit_id"], task["sku"]) == (int(shop.feed.token), shop.beer)
    assert shop.cart() == {shop.beer: True, shop.bread: False}


def test_confirming_after_walk_out_captures_the_full_total(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.beer, 2), shop.feed.added(shop.bread)])
    shop.walk_out()
    receipt = shop.receipt()
    assert receipt["payment"]["state"] == "authorised"
    assert receipt["payment"]["held"]
    held = {line["sku"]: line["held_for_age_check"] for line in receipt["lines"]}
    assert held == {shop.beer: True, shop.bread: False}
    assert shop.captured() == []

    r = shop.decide(True)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["payment_state"]) == ("confirmed", "captured")
    total = 2 * shop.price(shop.beer) + shop.price(shop.bread)
    assert shop.captured() == [total]
    assert shop.age_tasks() == []
    assert not any(line["held_for_age_check"] for line in shop.receipt()["lines"])
    again = shop.decide(False)
    assert (again.status_code, again.json()["code"]) == (409, "age_check_decided")
    assert shop.captured() == [total]


def test_refusing_after_walk_out_captures_without_the_restricted_lines(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.beer, 2), shop.feed.added(shop.bread)])
    shop.walk_out()
    r = shop.decide(False)
    assert (r.json()["state"], r.json()["payment_state"]) == ("refused", "captured")
    assert shop.captured() == [shop.price(shop.bread)]
    assert shop.age_tasks() == []


def test_refusing_before_walk_out_drops_the_lines_and_charges_the_rest(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.beer, 2), shop.feed.added(shop.bread)])
    assert shop.decide(False).json()["payment_state"] is None
    assert shop.cart() == {shop.bread: False}
    shop.walk_out()
    assert shop.receipt()["payment"]["state"] == "captured"
    assert shop.captured() == [shop.price(shop.bread)]


def test_a_check_confirmed_before_walk_out_lets_the_payment_capture_at_once(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.beer, 2), shop.feed.added(shop.bread)])
    assert shop.decide(True).json()["state"] == "confirmed"
    assert shop.cart() == {shop.beer: False, shop.bread: False}
    shop.walk_out()
    assert shop.captured() == [2 * shop.price(shop.beer) + shop.price(shop.bread)]
    assert not shop.receipt()["payment"]["held"]


def test_an_unrestricted_visit_is_untouched(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.bread)])
    assert shop.age_tasks() == []
    assert shop.cart() == {shop.bread: False}
    assert shop.decide(True).status_code == 404
    items = {shop.bread: 1}
    assert post_events(shop.store, shop.gate, shop.feed.exit(items)) == ["applied"] * 2
    assert shop.captured() == [shop.price(shop.bread)]


def test_a_flagged_receipt_stays_for_review_after_the_check(shop: Shop) -> None:
    post_events(shop.store, shop.gate, [shop.feed.added(shop.beer, 2), shop.feed.added(shop.bread)])
    items = {shop.beer: 2, shop.bread: 1}
    post_events(shop.store, shop.gate, shop.feed.exit(items, flagged=True))
    receipt_id = shop.receipt()["id"]
    approve = f"/staff/receipts/{receipt_id}/approve"
    early = shop.store.client.post(approve, json={}, headers=shop.staff.headers)
    assert (early.status_code, early.json()["code"]) == (409, "age_check_open")
    assert shop.decide(False).json()["payment_state"] == "authorised"
    assert shop.receipt()["payment"]["held"]
    assert shop.captured() == []
    r = shop.store.client.post(approve, json={}, headers=shop.staff.headers)
    assert r.status_code == 200, r.text
    assert shop.captured() == [shop.price(shop.bread)]

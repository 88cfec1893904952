"""Inventory: cart events move stock per facing; restock and misplaced-item tasks for staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from walkout.domain.events import ItemAdded, ItemRemoved
from walkout.service.models import Role

from .helpers import Caller, Store
from .shop import Feed, enter, post_events


@dataclass
class Shop:
    staff: Caller
    gate: Caller
    feed: Feed
    plate: str  # the only plate of ``sku``
    sku: str
    other_plate: str  # a plate that does not hold ``sku``


@pytest.fixture
def shop(store: Store) -> Shop:
    facings = store.services.catalogue.facings
    sku = next(s for s, plates in facings.items() if len(plates) == 1)
    other = next(p for s, plates in facings.items() if s != sku for p in plates)
    gate = store.device()
    feed = Feed(enter(store, gate, store.person()), store.services.catalogue)
    return Shop(store.caller(Role.STAFF), gate, feed, facings[sku][0], sku, other)


def on(event: ItemAdded | ItemRemoved, plate: str) -> ItemAdded | ItemRemoved:
    """The event as seen on ``plate``."""
    return event.model_copy(update={"evidence": event.evidence.model_copy(update={"plate": plate})})


def count(store: Store, shop: Shop, units: int, **extra: Any) -> dict[str, Any]:
    path = f"/staff/inventory/{shop.plate}/{shop.sku}"
    r = store.client.put(path, json={"units": units, **extra}, headers=shop.staff.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def facing(store: Store, shop: Shop) -> dict[str, Any]:
    r = store.client.get("/staff/inventory", headers=shop.staff.headers)
    assert r.status_code == 200, r.text
    (found,) = [f for f in r.json() if (f["plate"], f["sku"]) == (shop.plate, shop.sku)]
    assert isinstance(found, dict)
    return found


def tasks(store: Store, shop: Shop) -> list[dict[str, Any]]:
    r = store.client.get("/staff/tasks", headers=shop.staff.headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def test_stock_is_unknown_until_counted_and_events_do_not_guess(store: Store, shop: Shop) -> None:
    assert facing(store, shop)["status"] == "unknown"
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku), shop.plate)])
    assert facing(store, shop)["units"] is None
    assert tasks(store, shop) == []


def test_events_move_stock_once_each_and_never_below_zero(store: Store, shop: Shop) -> None:
    assert count(store, shop, 10)["status"] == "ok"
    took = on(shop.feed.added(shop.sku, 3), shop.plate)
    assert post_events(store, shop.gate, [took]) == ["applied"]
    assert facing(store, shop)["units"] == 7
    assert post_events(store, shop.gate, [took]) == ["duplicate"]
    assert facing(store, shop)["units"] == 7
    put_back = on(shop.feed.removed(shop.sku, 1), shop.plate)
    post_events(store, shop.gate, [put_back, put_back])
    assert facing(store, shop)["units"] == 8
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku, 20), shop.plate)])
    assert facing(store, shop)["units"] == 0


def test_a_put_on_a_foreign_plate_opens_a_misplaced_task(store: Store, shop: Shop) -> None:
    count(store, shop, 5)
    foreign = on(shop.feed.removed(shop.sku, 2), shop.other_plate)
    post_events(store, shop.gate, [foreign, foreign])
    (task,) = tasks(store, shop)
    assert (task["kind"], task["plate"], task["sku"], task["qty"]) == (
        "misplaced",
        shop.other_plate,
        shop.sku,
        2,
    )
    assert task["visit_id"] == int(shop.feed.token)
    assert facing(store, shop)["units"] == 5  # not counted anywhere yet
    r = store.client.post(f"/staff/tasks/{task['id']}/done", headers=shop.staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["closed_at"] is not None
    assert facing(store, shop)["units"] == 7  # back on its home facing
    assert tasks(store, shop) == []
    again = store.client.post(f"/staff/tasks/{task['id']}/done", headers=shop.staff.headers)
    assert (again.status_code, again.json()["code"]) == (409, "task_closed")
    assert facing(store, shop)["units"] == 7


def test_restock_task_opens_once_at_the_threshold_and_closes_on_restock(
    store: Store, shop: Shop
) -> None:
    count(store, shop, 4, threshold=2)
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku), shop.plate)])
    assert tasks(store, shop) == []  # 3 > 2
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku), shop.plate)])
    (task,) = tasks(store, shop)
    assert (task["kind"], task["qty"]) == ("restock", 2)
    assert facing(store, shop)["status"] == "low"
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku), shop.plate)])
    assert [t["id"] for t in tasks(store, shop)] == [task["id"]]  # still the one task
    assert count(store, shop, 12, threshold=2)["status"] == "ok"
    assert tasks(store, shop) == []
    post_events(store, shop.gate, [on(shop.feed.added(shop.sku, 10), shop.plate)])
    (reopened,) = tasks(store, shop)
    assert reopened["id"] != task["id"]


def test_the_default_threshold_is_the_setting(store: Store, shop: Shop) -> None:
    low = store.services.settings.restock_threshold
    assert count(store, shop, low)["status"] == "low"
    assert facing(store, shop)["threshold"] == low
    assert [t["kind"] for t in tasks(store, shop)] == ["restock"]


def test_tasks_are_listed_newest_first(store: Store, shop: Shop) -> None:
    count(store, shop, 1)
    post_events(store, shop.gate, [on(shop.feed.removed(shop.sku), shop.other_plate)])
    assert [t["kind"] for t in tasks(store, shop)] == ["misplaced", "restock"]


def test_only_facings_of_the_store_file_can_be_counted(store: Store, shop: Shop) -> None:
    path = f"/staff/inventory/{shop.other_plate}/{shop.sku}"
    r = store.client.put(path, json={"units": 3}, headers=shop.staff.headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = store.client.post("/staff/tasks/1/done", headers=shop.staff.headers)
    assert r.status_code == 404

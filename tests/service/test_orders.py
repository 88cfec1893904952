"""Order ahead for pickup and meal kits, over HTTP on SQLite and PostgreSQL (issue #4)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import Connection

from walkout.payments import LedgerProvider, PaymentRetryableError
from walkout.payments.ledger import Phase, Status
from walkout.service import Settings, create_app
from walkout.service.db import upgrade_head
from walkout.service.models import Role, VisitStatus
from walkout.service.settings import default_store_file

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store, TestClient, statements
from .shop import DECLINED_AT_CHARGE, add_card, captures, customer_of, enter, ledger

NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SLOT = NOON + timedelta(hours=1)  # 13:00-13:15, bookable at noon (lead time 30 min)


@dataclass(frozen=True)
class Kit:
    """The store file of these tests: a meal kit of two parts, and their only facings."""

    path: Path
    kit: str
    part_a: str  # 2 per kit
    part_b: str  # 1 per kit
    plate_a: str
    plate_b: str
    beer: str  # age-restricted
    plate_beer: str
    prices: dict[str, int]


def kit_store_file(directory: Path) -> Kit:
    data = json.loads(default_store_file().read_text())
    plates: dict[str, list[str]] = {}
    for facing in data["facings"]:
        plates.setdefault(facing["sku"], []).extend(facing["plates"])
    single = [p for p in data["products"] if len(plates.get(p["sku"], [])) == 1]
    plain = [p for p in single if not p["age_restricted"] and "meal-kit" not in p["tags"]]
    a, b = plain[0], plain[1]
    beer = next(p for p in single if p["age_restricted"])
    kit = next(p for p in data["products"] if "meal-kit" in p["tags"])
    kit["components"] = [{"sku": a["sku"], "qty": 2}, {"sku": b["sku"], "qty": 1}]
    path = directory / "kit-store.json"
    path.write_text(json.dumps(data))
    return Kit(
        path,
        kit["sku"],
        a["sku"],
        b["sku"],
        plates[a["sku"]][0],
        plates[b["sku"]][0],
        beer["sku"],
        plates[beer["sku"]][0],
        {p["sku"]: p["price"] for p in data["products"]},
    )


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return kit_store_file(tmp_path_factory.mktemp("kits"))


@dataclass
class Shop:
    store: Store
    kit: Kit
    shopper: Caller
    staff: Caller
    manager: Caller
    window: Caller  # the pickup window's scanner

    def count(self, plate: str, sku: str, units: int) -> None:
        r = self.store.client.put(
            f"/staff/inventory/{plate}/{sku}", json={"units": units}, headers=self.staff.headers
        )
        assert r.status_code == 200, r.text

    def units(self, plate: str, sku: str) -> int | None:
        r = self.store.client.get("/staff/inventory", headers=self.staff.headers)
        (found,) = [f for f in r.json() if (f["plate"], f["sku"]) == (plate, sku)]
        units: int | None = found["units"]
        return units

    def available(self, sku: str, who: Caller | None = None) -> int:
        r = self.store.client.get(
            "/catalog", params={"q": sku}, headers=(who or self.shopper).headers
        )
        assert r.status_code == 200, r.text
        (item,) = [i for i in r.json()["items"] if i["sku"] == sku]
        available: int = item["available"]
        return available

    def order(
        self,
        lines: dict[str, int],
        who: Caller | None = None,
        slot: datetime = SLOT,
        key: str | None = None,
        **extra: Any,
    ) -> Response:
        body = {
            "lines": [{"sku": s, "qty": q} for s, q in lines.items()],
            "slot_start": slot.isoformat(),
            "mode": "drive_through",
            **extra,
        }
        headers = dict((who or self.shopper).headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        r: Response = self.store.client.post("/orders", json=body, headers=headers)
        return r

    def placed(self, lines: dict[str, int], **extra: Any) -> dict[str, Any]:
        r = self.order(lines, **extra)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def staff_post(self, order_id: int, action: str) -> Response:
        r: Response = self.store.client.post(
            f"/staff/orders/{order_id}/{action}", headers=self.staff.headers
        )
        return r

    def to_ready(self, order_id: int) -> None:
        assert self.staff_post(order_id, "picking").json()["status"] == "picking"
        assert self.staff_post(order_id, "ready").json()["status"] == "ready"

    def code(self, order_id: int, who: Caller | None = None) -> str:
        r = self.store.client.get(
            f"/orders/{order_id}/pickup-code", headers=(who or self.shopper).headers
        )
        assert r.status_code == 200, r.text
        code: str = r.json()["code"]
        return code

    def handover(self, code: str, **extra: Any) -> Response:
        r: Response = self.store.client.post(
            "/pickup/handover", json={"code": code, **extra}, headers=self.window.headers
        )
        return r

    def get(self, order_id: int, who: Caller | None = None) -> dict[str, Any]:
        r = self.store.client.get(f"/orders/{order_id}", headers=(who or self.shopper).headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def _settings_values(kit: Kit) -> dict[str, object]:
    return {
        "store_file": kit.path,
        "pickup_slot_capacity": 2,
        "pickup_slot_minutes": 15,
        "pickup_lead_time": 1800,
        "pickup_grace": 1800,
    }


def _settings(settings: Settings, kit: Kit, **overrides: object) -> Settings:
    assert settings.database_url is not None
    values = {**_settings_values(kit), **overrides}
    return make_settings(settings.database_url, settings.data_dir, **values)


def _shop(store: Store, kit: Kit) -> Shop:
    manager = store.person(Role.MANAGER)
    shopper = store.person(payment=False)
    add_card(store, shopper)
    return Shop(store, kit, shopper, store.person(Role.STAFF), manager, store.device(manager))


@pytest.fixture
def shop(settings: Settings, clock: FakeClock, connection: Connection, kit: Kit) -> Iterator[Shop]:
    with open_store(_settings(settings, kit), clock, connection) as store:
        yield _shop(store, kit)


def stocked(shop: Shop, a: int = 10, b: int = 5) -> None:
    shop.count(shop.kit.plate_a, shop.kit.part_a, a)
    shop.count(shop.kit.plate_b, shop.kit.part_b, b)


def test_browse_order_pick_and_hand_over_with_the_qr_code(shop: Shop) -> None:
    k = shop.kit
    stocked(shop)
    assert shop.available(k.kit) == 5  # min(10 // 2, 5 // 1)
    r = shop.store.client.get("/catalog", params={"q": k.kit.upper()}, headers=shop.shopper.headers)
    (item,) = r.json()["items"]
    assert item["kit"] is True
    assert item["price"] == k.prices[k.kit]
    assert [(c["sku"], c["qty"]) for c in item["components"]] == [(k.part_a, 2), (k.part_b, 1)]
    slots = shop.store.client.get("/pickup/slots", headers=shop.shopper.headers).json()
    assert slots[0]["start"] == "2026-11-29T12:30:00Z"
    assert slots[0]["remaining"] == 2

    order = shop.placed({k.kit: 2, k.part_a: 1})
    total = 2 * k.prices[k.kit] + k.prices[k.part_a]
    assert order["status"] == "placed"
    assert order["total"] == total
    assert order["payment"] == {
        "state": "authorised",
        "authorized_amount": total,
        "captured_amount": None,
        "error": None,
    }
    assert {p["sku"]: p["qty"] for p in order["picks"]} == {k.part_a: 5, k.part_b: 2}
    # Reserved: 5 of 10 A and 2 of 5 B are held, so min(5 // 2, 3) kits are left.
    assert shop.available(k.kit) == 2
    assert shop.available(k.part_a) == 5
    slots = shop.store.client.get("/pickup/slots", headers=shop.shopper.headers).json()
    assert next(s for s in slots if s["start"] == "2026-11-29T13:00:00Z")["remaining"] == 1

    listed = shop.store.client.get(
        "/staff/orders", params={"status": "placed"}, headers=shop.staff.headers
    )
    assert [o["id"] for o in listed.json()] == [order["id"]]
    shop.to_ready(order["id"])
    qr = shop.store.client.get(f"/orders/{order['id']}/pickup-qr.svg", headers=shop.shopper.headers)
    assert qr.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in qr.content

    code = shop.code(order["id"])
    r = shop.handover(code, order_id=order["id"])
    assert r.status_code == 200, r.text
    collected = r.json()
    assert collected["status"] == "collected"
    assert collected["payment"]["captured_amount"] == total
    assert captures(ledger(shop.store), customer_of(shop.store, shop.shopper.account_id)) == [total]
    assert shop.units(k.plate_a, k.part_a) == 5
    assert shop.units(k.plate_b, k.part_b) == 3
    assert shop.available(k.kit) == 2  # the sale took the stock the order held

    again = shop.handover(code)
    assert (again.status_code, again.json()["code"]) == (409, "replayed")
    assert captures(ledger(shop.store)) == [total]


def test_a_retried_post_with_the_same_idempotency_key_is_one_order(shop: Shop) -> None:
    stocked(shop)
    first = shop.placed({shop.kit.kit: 1}, key="tap-1")
    second = shop.placed({shop.kit.kit: 1}, key="tap-1")
    assert second["id"] == first["id"]
    assert len(ledger(shop.store).entries()) == 1
    r = shop.order({shop.kit.kit: 2}, key="tap-1")
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_key_reused")
    assert shop.placed({shop.kit.kit: 1}, key="tap-2")["id"] != first["id"]


def test_a_declined_card_keeps_no_order_and_no_stock(shop: Shop) -> None:
    stocked(shop)
    person = shop.store.person(payment=False)
    add_card(shop.store, person, DECLINED_AT_CHARGE)
    r = shop.order({shop.kit.kit: 1}, who=person)
    assert (r.status_code, r.json()["code"]) == (402, "card_declined")
    assert shop.store.client.get("/orders", headers=person.headers).json() == []
    assert shop.available(shop.kit.kit) == 5


def test_who_may_order(shop: Shop) -> None:
    stocked(shop)
    no_card = shop.store.person(payment=False)
    r = shop.order({shop.kit.kit: 1}, who=no_card)
    assert (r.status_code, r.json()["code"]) == (403, "no_payment_method")
    gate = shop.store.device(shop.manager)
    visit = enter(shop.store, gate, shop.shopper)
    shop.store.set_visit_status(visit, VisitStatus.UNPAID)
    r = shop.order({shop.kit.kit: 1})
    assert (r.status_code, r.json()["code"]) == (403, "unpaid_visit")
    r = shop.order({shop.kit.kit: 1}, who=shop.staff)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


def test_sold_out_unknown_and_uncounted_products_are_refused(shop: Shop) -> None:
    stocked(shop, a=3, b=5)
    r = shop.order({shop.kit.kit: 2})  # needs 4 A, 3 are there
    assert (r.status_code, r.json()["code"]) == (409, "sold_out")
    assert shop.kit.part_a in r.json()["detail"]
    assert shop.available(shop.kit.beer) == 0  # never counted
    r = shop.order({shop.kit.beer: 1})
    assert (r.status_code, r.json()["code"]) == (409, "sold_out")
    r = shop.order({"no-such-sku": 1})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_product")
    assert ledger(shop.store).entries() == []


def test_slots_full_past_too_soon_and_off_the_grid(shop: Shop) -> None:
    stocked(shop)
    shop.placed({shop.kit.part_b: 1})
    second = shop.placed({shop.kit.part_b: 1})
    r = shop.order({shop.kit.part_b: 1})
    assert (r.status_code, r.json()["code"]) == (409, "slot_full")
    shop.store.client.post(f"/orders/{second['id']}/cancel", headers=shop.shopper.headers)
    assert shop.order({shop.kit.part_b: 1}).status_code == 201  # a cancel frees its place
    for slot in (
        NOON - timedelta(minutes=15),  # past
        NOON + timedelta(minutes=15),  # within the lead time
        SLOT + timedelta(minutes=7),  # not a slot's start
        NOON.replace(hour=21),  # after closing
        NOON + timedelta(days=8),  # too far ahead
    ):
        r = shop.order({shop.kit.part_b: 1}, slot=slot)
        assert (r.status_code, r.json()["code"]) == (422, "slot_unavailable"), slot


def test_curb_orders_need_a_vehicle_note(shop: Shop) -> None:
    stocked(shop)
    r = shop.order({shop.kit.part_b: 1}, mode="curb")
    assert r.status_code == 422
    assert "vehicle" in r.json()["detail"]
    order = shop.placed({shop.kit.part_b: 1}, mode="curb", bay="3", vehicle="red van")
    assert (order["mode"], order["bay"], order["vehicle"]) == ("curb", "3", "red van")


def test_cancel_is_free_until_picking_starts(shop: Shop) -> None:
    stocked(shop)
    early = shop.placed({shop.kit.kit: 1})
    assert shop.available(shop.kit.kit) == 4
    r = shop.store.client.post(f"/orders/{early['id']}/cancel", headers=shop.shopper.headers)
    assert r.json()["status"] == "canceled"
    assert r.json()["payment"]["state"] == "canceled"
    assert shop.available(shop.kit.kit) == 5
    assert [e.status for e in ledger(shop.store).entries()] == [Status.CANCELED]

    late = shop.placed({shop.kit.kit: 1})
    shop.staff_post(late["id"], "picking")
    r = shop.store.client.post(f"/orders/{late['id']}/cancel", headers=shop.shopper.headers)
    assert (r.status_code, r.json()["code"]) == (409, "cancel_too_late")
    assert shop.get(late["id"])["status"] == "picking"
    r = shop.store.client.post(f"/orders/{late['id']}/cancel", headers=shop.staff.headers)
    assert r.status_code == 403  # staff cancel through /staff/orders/{id}/cancel
    assert shop.staff_post(late["id"], "cancel").json()["status"] == "canceled"


def test_another_shoppers_order_is_not_found(shop: Shop) -> None:
    stocked(shop)
    order = shop.placed({shop.kit.kit: 1})
    other = shop.store.person()
    for path in ("", "/pickup-code", "/pickup-qr.svg"):
        r = shop.store.client.get(f"/orders/{order['id']}{path}", headers=other.headers)
        assert r.status_code == 404
    r = shop.store.client.post(f"/orders/{order['id']}/cancel", headers=other.headers)
    assert r.status_code == 404


def test_staff_steps_follow_the_order_of_work(shop: Shop) -> None:
    stocked(shop)
    order = shop.placed({shop.kit.kit: 1})
    r = shop.staff_post(order["id"], "ready")
    assert (r.status_code, r.json()["code"]) == (409, "wrong_status")
    assert shop.staff_post(10**9, "picking").status_code == 404


def test_the_window_refuses_forged_foreign_and_unready_codes(shop: Shop) -> None:
    stocked(shop)
    first = shop.placed({shop.kit.kit: 1})
    second = shop.placed({shop.kit.part_b: 1})
    code = shop.code(first["id"])
    r = shop.handover(code)
    assert (r.status_code, r.json()["code"]) == (409, "not_ready")
    shop.to_ready(first["id"])
    tampered = code[:-2] + ("AA" if not code.endswith("AA") else "BA")
    for forged in (tampered, "wop1.x.y", shop.store.entry_token(shop.shopper), ""):
        r = shop.handover(forged) if forged else shop.handover("-")
        assert (r.status_code, r.json()["code"]) == (403, "forged"), forged
    r = shop.handover(code, order_id=second["id"])
    assert (r.status_code, r.json()["code"]) == (403, "wrong_order")
    assert shop.get(first["id"])["status"] == "ready"
    assert captures(ledger(shop.store)) == []


def test_age_restricted_orders_need_the_id_checked(shop: Shop) -> None:
    shop.count(shop.kit.plate_beer, shop.kit.beer, 6)
    order = shop.placed({shop.kit.beer: 2})
    assert order["restricted"] is True
    shop.to_ready(order["id"])
    code = shop.code(order["id"])
    r = shop.handover(code)
    assert (r.status_code, r.json()["code"]) == (409, "id_check_required")
    r = shop.handover(code, id_checked=True)
    assert r.json()["status"] == "collected"
    assert shop.units(shop.kit.plate_beer, shop.kit.beer) == 4


def test_a_capture_outage_at_the_window_is_retried_without_a_second_charge(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    down = {"on": False}

    def fault(operation: str, phase: Phase) -> None:
        if down["on"] and operation == "capture" and phase == "after":
            raise PaymentRetryableError("response lost")

    provider = LedgerProvider(fault)
    with open_store(_settings(settings, kit), clock, connection, provider=provider) as store:
        shop = _shop(store, kit)
        stocked(shop)
        order = shop.placed({kit.kit: 1})
        shop.to_ready(order["id"])
        code = shop.code(order["id"])
        down["on"] = True
        r = shop.handover(code)
        assert (r.status_code, r.json()["code"]) == (503, "payment_unavailable")
        assert shop.get(order["id"])["status"] == "ready"
        assert shop.units(kit.plate_a, kit.part_a) == 10
        down["on"] = False
        assert shop.handover(code).json()["status"] == "collected"
        assert captures(provider) == [kit.prices[kit.kit]]
        assert shop.units(kit.plate_a, kit.part_a) == 8


def test_no_shows_release_stock_and_the_hold(shop: Shop, clock: FakeClock) -> None:
    stocked(shop)
    ready = shop.placed({shop.kit.kit: 1})
    shop.to_ready(ready["id"])
    later = shop.placed({shop.kit.kit: 1}, slot=SLOT + timedelta(hours=2))
    clock.advance(timedelta(hours=1, minutes=44).total_seconds())  # 13:44: within the grace
    r = shop.store.client.post("/staff/orders/expire", headers=shop.manager.headers)
    assert r.json() == {"no_show": [], "payments": []}
    clock.advance(60)  # 13:45: the 13:15 slot end plus 30 minutes
    r = shop.store.client.post("/staff/orders/expire", headers=shop.manager.headers)
    assert r.json() == {"no_show": [ready["id"]], "payments": [ready["id"]]}
    assert shop.get(ready["id"])["status"] == "no_show"
    assert shop.get(ready["id"])["payment"]["state"] == "canceled"
    assert shop.get(later["id"])["status"] == "placed"
    assert shop.available(shop.kit.kit) == 4
    assert shop.handover(shop.code(later["id"])).json()["code"] == "not_ready"


def test_no_shows_expire_while_the_service_runs_without_anyone_asking(
    db_url: str, tmp_path: Path, clock: FakeClock, kit: Kit
) -> None:
    settings = make_settings(
        db_url, tmp_path, **{**_settings_values(kit), "pickup_sweep_period": 0.02}
    )
    upgrade_head(settings)
    app = create_app(settings, clock)
    with TestClient(app) as client:
        shop = _shop(Store(client, app.state.services), kit)
        stocked(shop)
        order = shop.placed({kit.kit: 1})
        shop.to_ready(order["id"])
        clock.advance(timedelta(hours=1, minutes=46).total_seconds())  # past 13:45
        deadline = time.monotonic() + 30
        # The sweep marks the no-show, then releases its payment.
        while True:
            now = shop.get(order["id"])
            if now["status"] == "no_show" and now["payment"]["state"] != "authorised":
                break
            assert time.monotonic() < deadline, "the background sweep never ran"
            time.sleep(0.02)
        assert shop.get(order["id"])["payment"]["state"] == "canceled"
        assert shop.available(kit.kit) == 5


def test_a_no_show_fee_is_captured_from_the_hold(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    with open_store(_settings(settings, kit, pickup_no_show_fee=250), clock, connection) as store:
        shop = _shop(store, kit)
        stocked(shop)
        order = shop.placed({kit.kit: 1})
        clock.advance(timedelta(hours=2).total_seconds())
        shop.store.client.post("/staff/orders/expire", headers=shop.manager.headers)
        assert shop.get(order["id"])["payment"]["captured_amount"] == 250
        assert captures(ledger(store)) == [250]


def test_the_sweep_runs_when_the_service_starts(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    with open_store(_settings(settings, kit), clock, connection) as store:
        shop = _shop(store, kit)
        stocked(shop)
        order = shop.placed({kit.kit: 1})
        provider = store.services.provider
    clock.advance(timedelta(hours=3).total_seconds())
    with open_store(_settings(settings, kit), clock, connection, provider=provider) as store:
        r = store.client.get("/staff/orders", headers=shop.staff.headers)
        assert [(o["id"], o["status"]) for o in r.json()] == [(order["id"], "no_show")]


def test_listing_and_paging(shop: Shop) -> None:
    stocked(shop)
    ids = [
        shop.placed({shop.kit.part_b: 1}, slot=SLOT + timedelta(hours=i))["id"] for i in range(3)
    ]
    r = shop.store.client.get("/orders", params={"limit": 2}, headers=shop.shopper.headers)
    assert [o["id"] for o in r.json()] == ids[::-1][:2]
    r = shop.store.client.get(
        "/staff/orders",
        params={"slot_from": (SLOT + timedelta(hours=1)).isoformat()},
        headers=shop.staff.headers,
    )
    assert [o["id"] for o in r.json()] == ids[1:]
    r = shop.store.client.get(
        "/catalog", params={"limit": 3, "offset": 2}, headers=shop.staff.headers
    )
    page = r.json()
    assert page["offset"] == 2
    assert len(page["items"]) == 3
    catalogue = shop.store.services.catalogue
    assert page["total"] == len(catalogue.products)
    items: list[dict[str, Any]] = []
    while len(items) < page["total"]:
        params = {"limit": 200, "offset": len(items)}
        items += shop.store.client.get(
            "/catalog", params=params, headers=shop.staff.headers
        ).json()["items"]
    assert items[2:5] == page["items"]
    kits = sum(p.is_kit for p in catalogue.products.values())
    assert kits >= 1
    assert [i["kit"] for i in items] == [True] * kits + [False] * (len(items) - kits)
    for group in (items[:kits], items[kits:]):
        names = [i["name"].casefold() for i in group]
        assert names == sorted(names)


def test_listing_orders_costs_as_many_queries_for_ten_as_for_one(
    shop: Shop, connection: Connection
) -> None:
    stocked(shop, a=20, b=10)

    def listed(path: str, who: Caller, n: int) -> int:
        with statements(connection) as sent:
            r = shop.store.client.get(path, headers=who.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()) == n
        assert all(len(o["lines"]) == 1 and len(o["picks"]) == 2 for o in r.json())
        return len(sent)

    def place(first: int, n: int) -> None:
        for i in range(first, first + n):  # two orders a slot
            shop.placed({shop.kit.kit: 1}, slot=SLOT + timedelta(minutes=15 * (i // 2)))

    lists = (("/orders", shop.shopper), ("/staff/orders", shop.staff))
    place(0, 1)
    one = [listed(path, who, 1) for path, who in lists]
    place(1, 9)
    assert [listed(path, who, 10) for path, who in lists] == one


def test_uncounted_facings_offer_the_configured_units(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    configured = _settings(settings, kit, pickup_uncounted_units=3)
    with open_store(configured, clock, connection) as store:
        shop = _shop(store, kit)
        assert shop.available(kit.part_b) == 3
        assert shop.available(kit.kit) == 1  # min(3 // 2, 3 // 1)
        shop.count(kit.plate_b, kit.part_b, 0)  # counted empty: the allowance no longer applies
        assert shop.available(kit.kit) == 0


def test_staff_see_the_picking_list_of_an_order(shop: Shop) -> None:
    stocked(shop)
    order = shop.placed({shop.kit.kit: 1})
    r = shop.store.client.get(f"/staff/orders/{order['id']}", headers=shop.staff.headers)
    picks = [(p["sku"], p["qty"]) for p in r.json()["picks"]]
    assert picks == sorted([(shop.kit.part_a, 2), (shop.kit.part_b, 1)])
    (line,) = r.json()["lines"]
    assert [c["qty"] for c in line["components"]] == [2, 1]
    assert (
        shop.store.client.get("/staff/orders/999999", headers=shop.staff.headers).status_code == 404
    )


def test_a_lost_hold_answer_is_finished_by_the_retry_with_one_hold(
    settings: Settings, clock: FakeClock, connection: Connection, kit: Kit
) -> None:
    lost = {"on": False}

    def fault(operation: str, phase: Phase) -> None:
        if lost["on"] and operation == "authorize" and phase == "after":
            raise PaymentRetryableError("response lost")

    provider = LedgerProvider(fault)
    with open_store(_settings(settings, kit), clock, connection, provider=provider) as store:
        shop = _shop(store, kit)
        stocked(shop)
        lost["on"] = True
        r = shop.order({kit.kit: 1}, key="k1")
        assert (r.status_code, r.json()["code"]) == (503, "payment_unavailable")
        assert shop.available(kit.kit) == 4  # the reservation stands meanwhile
        lost["on"] = False
        order = shop.placed({kit.kit: 1}, key="k1")
        assert order["status"] == "placed"
        assert [e.authorized for e in provider.entries()] == [kit.prices[kit.kit]]
        assert [
            o["id"] for o in store.client.get("/orders", headers=shop.shopper.headers).json()
        ] == [order["id"]]

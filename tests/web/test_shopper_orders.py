"""Order ahead in the shopper app: a meal kit ordered for curbside pickup, packed by staff and
handed over at the window while the open app follows the order to "collected"; cancelling;
and favourites once the shopper turns personalisation on.

The service runs with the test store's meal kit made of two shelf products, stocked by staff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from service.helpers import Caller
from service.shop import sku_priced
from walkout.service.models import Role
from walkout.service.settings import default_store_file

from .conftest import Live, Snap, assert_labelled, open_app

#: How often an open order's screen checks its status (orders.js ORDER_POLL_MS).
ORDER_POLL_MS = 2000


def kit_store(directory: Path) -> KitStore:
    """The test store with its meal kit made of two shelf products (2 + 1 per kit)."""
    data = json.loads(default_store_file().read_text())
    plates = {f["sku"]: f["plates"][0] for f in data["facings"]}
    plain = [
        p
        for p in data["products"]
        if p["sku"] in plates and not p["age_restricted"] and "meal-kit" not in p["tags"]
    ]
    kit = next(p for p in data["products"] if "meal-kit" in p["tags"])
    kit["components"] = [{"sku": plain[0]["sku"], "qty": 2}, {"sku": plain[1]["sku"], "qty": 1}]
    path = directory / "kit-store.json"
    path.write_text(json.dumps(data))
    parts = {p["sku"]: plates[p["sku"]] for p in plain[:2]}
    return KitStore(path, kit["name"], kit["price"], parts)


@dataclass(frozen=True)
class KitStore:
    path: Path
    kit_name: str
    kit_price: int
    parts: dict[str, str]  # component sku -> its shelf plate


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> KitStore:
    return kit_store(tmp_path_factory.mktemp("kits"))


@pytest.fixture
def live_settings(kits: KitStore) -> dict[str, object]:
    return {"store_file": kits.path}


def stock(live: Live, staff: Caller, kits: KitStore, units: int = 10) -> None:
    """Staff count the kit's parts on their shelves: kits can be ordered."""
    for sku, plate in kits.parts.items():
        r = live.client.put(
            f"/staff/inventory/{plate}/{sku}", json={"units": units}, headers=staff.headers
        )
        assert r.status_code == 200, r.text


def test_order_ahead_and_collect_at_the_window(
    live: Live, page: Page, kits: KitStore, snap: Snap
) -> None:
    staff = live.person(Role.STAFF)
    stock(live, staff, kits)
    shopper = live.shopper()
    page.clock.install()
    open_app(page, live, shopper, "order")

    expect(page.locator("#suggestions")).to_contain_text("Want suggestions")
    page.get_by_label("Search products").fill(kits.kit_name.upper())  # any case
    kit = page.locator("#catalog li").filter(has_text=kits.kit_name)
    expect(kit).to_contain_text("Meal kit")
    expect(kit).to_contain_text("Contains:")
    kit.get_by_role("button", name=f"Add {kits.kit_name}").click()
    expect(page.locator("#basket")).to_contain_text(kits.kit_name)
    expect(page.locator("#catalog li")).to_have_count(1)
    assert_labelled(page)
    snap(page, "app-order")
    page.get_by_role("link", name="Choose a pickup time").click()

    expect(page.get_by_label("Pickup time")).to_be_visible()
    page.get_by_label("Curbside bay").check()
    page.get_by_label("Your car").fill("blue estate, KA-123")
    assert_labelled(page)
    snap(page, "app-order-pickup")
    page.get_by_role("button", name=f"Order and hold ${kits.kit_price / 100:.2f}").click()

    status = page.locator("#order-status")
    expect(status).to_contain_text("Placed")
    expect(page.get_by_role("img", name="Your pickup QR code")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    order_id = int(page.url.rsplit("/", 1)[1])

    for action in ("picking", "ready"):
        r = live.client.post(f"/staff/orders/{order_id}/{action}", headers=staff.headers)
        assert r.status_code == 200, r.text
    # The open page follows the order by itself (it looks every 2 s).
    page.clock.fast_forward(ORDER_POLL_MS)
    expect(status).to_contain_text("Ready")
    snap(page, "app-order-ready")

    r = live.client.get(f"/orders/{order_id}/pickup-code", headers=shopper.headers)
    code = r.json()["code"]
    r = live.client.post("/pickup/handover", json={"code": code}, headers=staff.headers)
    assert r.status_code == 200, r.text
    page.clock.fast_forward(ORDER_POLL_MS)
    expect(status).to_contain_text("Collected")
    expect(page.get_by_role("main")).to_contain_text("Collected. Enjoy!")
    expect(page.get_by_role("img", name="Your pickup QR code")).to_have_count(0)


def test_favourites_show_once_personalisation_is_on(live: Live, page: Page) -> None:
    shopper = live.shopper()
    gate = live.device()
    chips = sku_priced(live.services.catalogue, 100, 200)
    visit = live.enter(gate, shopper)
    live.post_events(gate, live.feed(visit).exit({chips: 2}))
    open_app(page, live, shopper, "account")

    switch = page.get_by_label("Suggest products from my own shopping")
    expect(switch).not_to_be_checked()  # off until the shopper turns it on
    switch.check()
    expect(switch).to_be_enabled()
    r = live.client.get("/me/consent", headers=shopper.headers)
    assert r.json()["personalisation"] is True

    page.get_by_role("link", name="Order", exact=True).click()
    favourites = page.locator("#suggestions")
    expect(favourites.get_by_role("heading", name="Your favourites")).to_be_visible()
    expect(favourites).to_contain_text(live.services.catalogue.products[chips].name)


def test_an_order_is_cancelled_until_picking_starts(live: Live, page: Page, kits: KitStore) -> None:
    staff = live.person(Role.STAFF)
    stock(live, staff, kits)
    shopper = live.shopper()
    open_app(page, live, shopper, "order")
    page.get_by_label("Search products").fill(kits.kit_name)
    page.get_by_role("button", name=f"Add {kits.kit_name}").click()
    page.get_by_role("link", name="Choose a pickup time").click()
    page.get_by_role("button", name=re.compile("^Order and hold")).click()
    expect(page.locator("#order-status")).to_contain_text("Placed")

    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#order-status")).to_contain_text("Cancelled")
    expect(page.get_by_role("main")).to_contain_text("the hold on your card is released")
    expect(page.get_by_role("button", name="Cancel order")).to_be_hidden()
    page.get_by_role("link", name="All orders").click()
    expect(page.locator("#orders li")).to_have_count(1)
    expect(page.locator("#orders")).to_contain_text("Cancelled")


def test_the_catalog_opens_on_the_meal_kits_with_what_is_in_them(live: Live, page: Page) -> None:
    catalogue = live.services.catalogue
    kits = sorted(
        (p for p in catalogue.products.values() if p.is_kit), key=lambda p: p.name.casefold()
    )
    assert len(kits) > 1  # the store's own kits, besides the one this module builds
    open_app(page, live, live.shopper(), "order")
    items = page.locator("#catalog li")
    expect(items.first).to_contain_text(kits[0].name)
    for i, kit in enumerate(kits):
        item = items.nth(i)
        expect(item).to_contain_text("Meal kit")
        contents = ", ".join(f"{catalogue.name(c.sku)} × {c.qty}" for c in kit.components)
        expect(item).to_contain_text(f"Contains: {contents}")

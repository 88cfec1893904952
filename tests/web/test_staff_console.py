"""The staff console at /staff/ in headless Chromium, against the real service.

Staff work at a desk (a wide viewport) or on the floor with a phone; each test plays the
shoppers, the gate and the store's engine over HTTP as the devices would, and checks what the
console shows and what its clicks did through the API and the payment ledger.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from service.helpers import PASSWORD, Caller
from service.shop import captures, ledger
from walkout.domain.events import Candidate, ItemAdded, PersonNear, WeightTrace
from walkout.domain.floor import FloorPerson, FloorView
from walkout.domain.store import Product
from walkout.service.accounts import service as accounts
from walkout.service.models import Role

from .conftest import Live, Snap, new_page

CONSOLE = "/staff/"
DESK = {"width": 1280, "height": 900}
STAFF_EMAIL = "sam@example.com"


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """A desk-sized page in a fresh context."""
    opened = new_page(browser, DESK)
    yield opened
    opened.context.close()


def staff_member(live: Live, email: str = STAFF_EMAIL) -> Caller:
    """A staff account made as the CLI makes it, signed in over HTTP."""
    with live.services.sessions.begin() as session:
        account = accounts.create_person(session, live.services, email, PASSWORD, Role.STAFF)
        account_id = account.id
    r = live.sign_in(email)
    assert r.status_code == 200, r.text
    return Caller(account_id, r.json()["access_token"], Role.STAFF)


def open_console(page: Page, live: Live, staff: Caller, route: str) -> None:
    """Open the console signed in as ``staff`` (its token put where the console keeps it)."""
    page.add_init_script(f"localStorage.setItem('walkout.token', {staff.token!r})")
    page.goto(f"{live.url}{CONSOLE}#/{route}")


def shelf_products(live: Live) -> list[tuple[Product, str]]:
    """Shelf products (no kits) sold without an ID check, with their first plate, dearest
    first."""
    catalogue = live.services.catalogue
    found = [
        (catalogue.products[sku], plates[0])
        for sku, plates in catalogue.facings.items()
        if not (catalogue.products[sku].age_restricted or catalogue.products[sku].is_kit)
    ]
    return sorted(found, key=lambda pair: (-pair[0].price, pair[0].sku))


def count(live: Live, staff: Caller, plate: str, sku: str, units: int) -> None:
    r = live.client.put(
        f"/staff/inventory/{plate}/{sku}", json={"units": units}, headers=staff.headers
    )
    assert r.status_code == 200, r.text


def test_staff_sign_in_and_correct_a_flagged_visit_in_one_click(
    live: Live, desk: Page, snap: Snap
) -> None:
    (picked, plate), (look_alike, _) = shelf_products(live)[0], shelf_products(live)[1]
    shopper, gate = live.shopper(), live.device()
    feed = live.feed(live.enter(gate, shopper))
    added = feed.added(picked.sku, 1, confidence=0.45)
    evidence = added.evidence.model_copy(
        update={
            "plate": plate,
            "delta_g": -350.0,
            "person_p": 0.9,
            "candidates": [
                Candidate(sku=picked.sku, qty=-1, p=0.5),
                Candidate(sku=look_alike.sku, qty=-1, p=0.45),
            ],
            "trace": WeightTrace(t0=0.5, dt=0.25, grams=[900, 900, 880, 700, 560, 550, 550]),
            "people": [
                PersonNear(person="track-1", x=2.0, y=3.0, hand_m=0.0, p=0.9),
                PersonNear(person="track-2", x=2.6, y=3.4, hand_m=0.35, p=0.1),
            ],
        }
    )
    event: ItemAdded = added.model_copy(update={"evidence": evidence})
    exit_events = feed.exit({picked.sku: 1}, confidence=0.45, flagged=True)
    assert live.post_events(gate, [event, *exit_events]) == ["applied"] * 3
    (receipt,) = live.client.get("/receipts", headers=shopper.headers).json()
    staff_member(live)

    desk.goto(f"{live.url}{CONSOLE}#/reviews")
    desk.get_by_label("Email").fill(STAFF_EMAIL)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_role("heading", name="Review queue")).to_be_visible()
    snap(desk, "staff-reviews")
    desk.get_by_role("link", name=f"Receipt {receipt['id']}").click()

    expect(
        desk.get_by_role("img", name=f"Weight on plate {plate}: from 900 g to 550 g")
    ).to_be_visible()
    expect(desk.get_by_role("table", name="Who was near")).to_contain_text("track-2")
    candidates = desk.get_by_role("list", name="Candidate products")
    expect(candidates).to_contain_text(look_alike.name)
    expect(candidates).to_contain_text("45%")
    snap(desk, "staff-review")

    desk.get_by_role("button", name=f"Use {look_alike.name} × 1 instead and approve").click()
    expect(desk.locator(".result")).to_contain_text("captured")

    r = live.client.get(f"/receipts/{receipt['id']}", headers=shopper.headers)
    assert [(line["sku"], line["qty"]) for line in r.json()["lines"]] == [(look_alike.sku, 1)]
    assert r.json()["total"] == look_alike.price
    assert captures(ledger(live)) == [look_alike.price]
    # The console shows the engine's original line, kept for audit.
    expect(desk.get_by_role("region", name="As the engine issued it")).to_contain_text(picked.name)


def test_floor_map_shows_a_shopper_and_a_plates_stock(live: Live, desk: Page, snap: Snap) -> None:
    (product, plate), *others = shelf_products(live)
    staff = staff_member(live)
    count(live, staff, plate, product.sku, 12)
    by_plate = {p: product for product, p in reversed(others) if p != plate}
    (low_plate, low), (empty_plate, empty) = list(by_plate.items())[:2]
    count(live, staff, low_plate, low.sku, 1)
    count(live, staff, empty_plate, empty.sku, 0)
    shopper, gate = live.shopper(), live.device()
    visit_id = live.enter(gate, shopper)
    feed = live.feed(visit_id)
    added = feed.added(product.sku, 2)
    on_plate = added.model_copy(
        update={"evidence": added.evidence.model_copy(update={"plate": plate})}
    )
    assert live.post_events(gate, [on_plate]) == ["applied"]
    at_work = live.enter(gate, staff)
    people = [
        FloorPerson(person="track-7", token=str(visit_id), x=3, y=4),
        FloorPerson(person="track-8", token=None, x=5.5, y=2.5),  # not matched to a visit
        FloorPerson(person="track-9", token=str(at_work), x=4, y=2),  # staff at work
    ]
    view = FloorView(t=5.0, people=people)
    r = live.client.post("/floor", json=view.model_dump(mode="json"), headers=gate.headers)
    assert r.status_code == 200, r.text

    open_console(desk, live, staff, "floor")
    dot = desk.get_by_role("button", name="Shopper track-7, 2 in the cart")
    expect(dot).to_be_visible()
    expect(desk.locator(".counts")).to_have_text("3 on the floor · 2 plates low or empty")
    expect(desk.get_by_role("button", name=f"Plate {empty_plate}: empty")).to_be_visible()
    expect(desk.get_by_role("button", name="Staff member track-9")).to_have_class("shopper staff")
    dot.click()
    expect(desk.locator(".detail")).to_contain_text(f"visit {visit_id}")
    lines = desk.get_by_role("list", name="Cart").get_by_role("listitem")
    expect(lines).to_have_count(1)
    total = f"${2 * product.price / 100:,.2f}"
    expect(lines.first).to_have_text(f"2 × {product.name}{total}")
    expect(desk.locator(".detail .total")).to_have_text(total)
    # The panel follows the chosen shopper's cart as it changes.
    one_more = feed.added(product.sku, 1)
    assert live.post_events(gate, [one_more]) == ["applied"]
    expect(lines.first).to_have_text(f"3 × {product.name}${3 * product.price / 100:,.2f}")

    desk.get_by_role("button", name=f"Plate {plate}: in stock").click()
    detail = desk.locator(".detail")
    expect(detail).to_contain_text(product.name)
    expect(detail).to_contain_text("10 units")
    expect(detail).to_contain_text(f"2 × {product.name} picked up")
    snap(desk, "staff-floor")


def _place_order(live: Live, shopper: Caller, sku: str) -> int:
    slots = live.client.get("/pickup/slots", headers=shopper.headers).json()
    slot = next(s for s in slots if s["remaining"] > 0)
    body = {
        "lines": [{"sku": sku, "qty": 2}],
        "slot_start": slot["start"],
        "mode": "drive_through",
    }
    r = live.client.post("/orders", json=body, headers=shopper.headers)
    assert r.status_code == 201, r.text
    order_id: int = r.json()["id"]
    return order_id


def test_a_pickup_order_is_picked_made_ready_and_handed_over(
    live: Live, desk: Page, snap: Snap
) -> None:
    (product, plate), *_ = shelf_products(live)
    staff = staff_member(live)
    count(live, staff, plate, product.sku, 20)
    shopper = live.shopper()
    order_id = _place_order(live, shopper, product.sku)

    open_console(desk, live, staff, "tasks")
    order = desk.locator(f'[data-order="{order_id}"]')
    expect(order).to_contain_text(f"2 × {product.name}")
    snap(desk, "staff-tasks")
    order.get_by_role("button", name="Start picking").click()
    expect(order).to_contain_text("picking")
    order.get_by_role("button", name="Ready for pickup").click()
    expect(order.get_by_label("Pickup code (scan the shopper's QR)")).to_be_visible()

    code = live.client.get(f"/orders/{order_id}/pickup-code", headers=shopper.headers)
    order.get_by_label("Pickup code (scan the shopper's QR)").fill(code.json()["code"])
    order.get_by_role("button", name="Hand over").click()
    expect(desk.get_by_text("No orders to prepare.")).to_be_visible()

    mine = live.client.get(f"/orders/{order_id}", headers=shopper.headers).json()
    assert mine["status"] == "collected"
    assert mine["payment"]["captured_amount"] == 2 * product.price
    assert captures(ledger(live)) == [2 * product.price]


def test_analytics_shows_visits_and_pick_to_purchase(live: Live, desk: Page, snap: Snap) -> None:
    products = shelf_products(live)
    (product, _), (other, _) = products[0], products[1]
    gate = live.device()
    visits = live.services.settings.analytics_min_visits
    for _ in range(visits):
        shopper = live.shopper()
        feed = live.feed(live.enter(gate, shopper))
        events = [
            feed.added(product.sku),
            feed.added(other.sku),
            feed.removed(other.sku),
            *feed.exit({product.sku: 1}),
        ]
        assert live.post_events(gate, events) == ["applied"] * 5
        # Two views a second apart: a second of dwell where the shopper stood.
        for t in (1.0, 2.0):
            person = FloorPerson(person="track-1", token=feed.token, x=4.0, y=5.0)
            view = FloorView(t=t, people=[person]).model_dump(mode="json")
            assert live.client.post("/floor", json=view, headers=gate.headers).status_code == 200
    staff = staff_member(live)

    open_console(desk, live, staff, "analytics")
    expect(desk.locator('[data-figure="visits"]')).to_have_text(str(visits))
    # Picked, put back, bought, pick to purchase.
    cells = desk.locator(f'tr[data-sku="{product.sku}"] td')
    expect(cells).to_have_text([str(visits), "0", str(visits), "100%"])
    other_cells = desk.locator(f'tr[data-sku="{other.sku}"] td')
    expect(other_cells).to_have_text([str(visits), str(visits), "0", "0%"])
    expect(desk.get_by_role("img", name="Visits per hour of the day")).to_contain_text(str(visits))
    expect(desk.locator(".heat rect")).not_to_have_count(0)
    snap(desk, "staff-analytics")
    with desk.expect_download() as download:
        desk.get_by_role("button", name="Download products (CSV)").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_a_charged_receipt_is_lowered_and_the_difference_refunded(
    live: Live, page: Page, snap: Snap
) -> None:
    (product, _), *_ = shelf_products(live)
    shopper, gate = live.shopper(), live.device()
    feed = live.feed(live.enter(gate, shopper))
    live.post_events(gate, [feed.added(product.sku, 3), *feed.exit({product.sku: 3})])
    # The payment is taken in the background, after the events were answered.
    deadline = time.monotonic() + 30
    while True:
        (receipt,) = live.client.get("/receipts", headers=shopper.headers).json()
        if receipt["payment"]["state"] not in ("pending", "authorised"):
            break
        assert time.monotonic() < deadline, "the payment never moved on"
        time.sleep(0.02)
    assert receipt["payment"]["state"] == "captured"
    staff = staff_member(live)

    # On a phone at the shelf: open the receipt by its number, one unit was not taken.
    open_console(page, live, staff, "reviews")
    page.get_by_label("Receipt number").fill(str(receipt["id"]))
    page.get_by_role("button", name="Open receipt").click()
    page.get_by_label("Quantity taken").fill("2")
    snap(page, "staff-correct-phone")
    page.get_by_role("button", name="Refund what was not taken").click()
    expect(page.locator(".result")).to_contain_text(f"Refunded ${product.price / 100:.2f}")

    assert ledger(live).entries()[0].refunded == product.price
    mine = live.client.get(f"/receipts/{receipt['id']}", headers=shopper.headers).json()
    assert mine["refunded"] == product.price


def test_the_console_speaks_korean(live: Live, browser: Browser) -> None:
    page = new_page(browser, DESK, locale="ko-KR")
    try:
        page.goto(f"{live.url}{CONSOLE}")
        expect(page.get_by_role("heading", name="직원 로그인")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        page.get_by_label("언어").select_option("en")
        expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        page.context.close()

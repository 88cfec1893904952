"""The shopper app at /app/ in headless Chromium, against the real service.

Each test drives the app as a shopper would on a phone, while the gate and the store's engine
are played over HTTP exactly as the devices would: a scan at the gate, then cart events.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from service.helpers import PASSWORD, Caller
from service.shop import DECLINED_AT_CHARGE, add_card, sku_priced
from walkout.service.models import (
    DisputeState,
    OrderStatus,
    PaymentState,
    PickupMode,
    Role,
    VisitStatus,
)
from walkout.service.web import WEB_ROOT

from .conftest import PHONE, Live, Snap, assert_labelled, new_page, open_app

APP_SOURCES: Path = WEB_ROOT / "app"

#: How often the entry screen looks for a visit the gate opened (app.js VISIT_POLL_MS).
VISIT_POLL_MS = 2000


def test_sign_up_add_card_and_show_a_refreshing_qr(live: Live, page: Page, snap: Snap) -> None:
    page.clock.install()
    open_app(page, live, route="sign-up")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    assert_labelled(page)
    snap(page, "app-sign-up")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Payment cards")).to_be_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill("2030")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Add card").click()
    expect(page.locator("#cards li")).to_have_count(1)
    expect(page.locator("#cards")).to_contain_text("Visa •••• 4242")
    assert_labelled(page)
    snap(page, "app-cards")

    page.get_by_role("link", name="Enter").click()
    qr = page.get_by_role("img", name="Your entry QR code")
    expect(qr).to_have_attribute("data-refreshed", "0")
    expect(qr).to_have_attribute("src", re.compile(r"^blob:"))
    assert_labelled(page)
    snap(page, "app-entry-qr")
    first = qr.get_attribute("src")
    # The token lives 30 s: the app fetches a fresh one before it expires.
    page.clock.fast_forward(30_000)
    expect(qr).to_have_attribute("data-refreshed", "1")
    assert qr.get_attribute("src") != first


def test_sign_out_and_sign_in_again(live: Live, page: Page) -> None:
    email = "bo@example.com"
    r = live.client.post("/auth/sign-up", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    open_app(page, live)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That email and password do not match.")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#entry-refused")).to_be_visible()  # no card yet
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("main")).to_contain_text(email)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.getItem('walkout.token')") is None


def test_signing_in_in_the_store_opens_the_cart(live: Live, page: Page) -> None:
    email = "in-store@example.com"
    credentials = {"email": email, "password": PASSWORD}
    assert live.client.post("/auth/sign-up", json=credentials).status_code == 201
    token = live.client.post("/auth/sign-in", json=credentials).json()["access_token"]
    me = live.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    shopper = Caller(me["id"], token, Role.SHOPPER)
    add_card(live, shopper)
    live.enter(live.device(), shopper)
    open_app(page, live)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()


def test_live_cart_receipt_and_dispute(live: Live, page: Page, snap: Snap) -> None:
    shopper = live.shopper()
    gate = live.device()
    page.clock.install()
    open_app(page, live, shopper, "enter")
    expect(page.get_by_role("img", name="Your entry QR code")).to_be_visible()

    visit = live.enter(gate, shopper)
    # The app notices the gate's admission (it looks every 2 s) and turns to the live cart.
    page.clock.fast_forward(VISIT_POLL_MS)
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(page.locator("#visit-state")).to_contain_text("You are shopping")
    # In the store, the entry code is for someone joining the visit: the app stays there.
    page.get_by_role("link", name="Enter", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("lets someone in with you")
    page.clock.fast_forward(VISIT_POLL_MS)
    page.get_by_role("link", name="Back to your cart").click()
    expect(page.locator("#visit-state")).to_contain_text("You are shopping")

    catalogue = live.services.catalogue
    chips = sku_priced(catalogue, 100, 200)
    popcorn = sku_priced(catalogue, 300, 400)
    feed = live.feed(visit)
    live.post_events(gate, [feed.added(chips)])
    chips_line = page.locator(f'#cart-lines li[data-sku="{chips}"]')
    expect(chips_line).to_contain_text(catalogue.products[chips].name)
    total = catalogue.products[chips].price
    expect(page.locator("#cart-total")).to_have_text(f"${total / 100:.2f}")

    live.post_events(gate, [feed.added(popcorn, 2)])
    total += 2 * catalogue.products[popcorn].price
    expect(page.locator(f'#cart-lines li[data-sku="{popcorn}"]')).to_contain_text("× 2")
    expect(page.locator("#cart-total")).to_have_text(f"${total / 100:.2f}")
    assert_labelled(page)
    snap(page, "app-live-cart")

    live.post_events(gate, feed.exit({chips: 1, popcorn: 2}))
    expect(page.locator("#visit-state")).to_have_text("Paid. Thank you!")
    page.get_by_role("link", name="See your receipt").click()

    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(page.locator("#receipt-total")).to_have_text(f"${total / 100:.2f}")
    line = page.locator("#receipt-lines li").filter(has_text=catalogue.products[chips].name)
    line.get_by_role("button", name="Report a problem").click()
    line.get_by_label(re.compile("What is wrong")).fill("I put it back on the shelf")
    assert_labelled(page)
    line.get_by_role("button", name="Send").click()
    # Small amounts are refunded at once.
    expect(
        page.locator("#receipt-lines li").filter(has_text=catalogue.products[chips].name)
    ).to_contain_text("Refunded")
    snap(page, "app-receipt-dispute")

    page.get_by_role("link", name="Receipts", exact=True).click()
    expect(page.locator("#receipts li")).to_have_count(1)
    expect(page.locator("#receipts")).to_contain_text("Paid")


def test_entry_refused_without_a_card_says_why(live: Live, page: Page, snap: Snap) -> None:
    shopper = live.shopper(card=False)
    open_app(page, live, shopper, "enter")
    refused = page.locator("#entry-refused")
    expect(refused).to_contain_text("Add a card first")
    expect(page.get_by_role("img", name="Your entry QR code")).to_have_count(0)
    snap(page, "app-entry-refused")
    refused.get_by_role("link", name="Add a card").click()
    expect(page.get_by_role("heading", name="Payment cards")).to_be_visible()


def test_a_blocked_account_is_told_so(live: Live, page: Page) -> None:
    shopper = live.shopper()
    live.edit_account(shopper.account_id, blocked=True)
    open_app(page, live, shopper, "enter")
    expect(page.get_by_role("alert")).to_have_text(
        "This account is blocked. Please contact the store."
    )
    expect(page.get_by_role("img", name="Your entry QR code")).to_have_count(0)


def test_cards_are_listed_newest_first_and_removed(live: Live, page: Page) -> None:
    shopper = live.shopper()
    add_card(live, shopper, "5555 5555 5555 4444")
    open_app(page, live, shopper, "cards")
    cards = page.locator("#cards li")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Mastercard •••• 4444")
    expect(cards.first).to_contain_text("Charged")
    page.get_by_role("button", name="Remove the card ending 4444").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Visa •••• 4242")
    expect(cards.first).to_contain_text("Charged")


def test_an_unpaid_visit_is_settled_from_the_entry_screen(live: Live, page: Page) -> None:
    shopper = live.person(Role.SHOPPER, payment=False)
    add_card(live, shopper, DECLINED_AT_CHARGE)
    gate = live.device()
    visit = live.enter(gate, shopper)
    sku = sku_priced(live.services.catalogue, 100, 200)
    live.post_events(gate, live.feed(visit).exit({sku: 1}))
    good = add_card(live, shopper)

    open_app(page, live, shopper, "enter")
    expect(page.locator("#entry-refused")).to_contain_text("not paid")
    page.get_by_label("Pay with").select_option(str(good))
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    expect(page.get_by_role("img", name="Your entry QR code")).to_be_visible()


def test_switch_to_korean(live: Live, page: Page, snap: Snap) -> None:
    shopper = live.shopper()
    open_app(page, live, shopper, "enter")
    expect(page.get_by_role("heading", name="Enter the store")).to_be_visible()
    page.get_by_label("Language").select_option("ko")
    expect(page.get_by_role("heading", name="매장 입장")).to_be_visible()
    expect(page.get_by_role("img", name="입장 QR 코드")).to_have_attribute("data-refreshed", "0")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("link", name="영수증")).to_be_visible()
    snap(page, "app-korean")
    # The choice is kept for the next visit.
    page.reload()
    expect(page.get_by_role("heading", name="매장 입장")).to_be_visible()


def test_a_korean_phone_starts_in_korean(live: Live, browser: Browser) -> None:
    page = new_page(browser, PHONE, locale="ko-KR")
    try:
        open_app(page, live)
        expect(page.get_by_role("heading", name="로그인")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "ko")
    finally:
        page.context.close()


def test_every_string_is_in_english_and_korean(live: Live, page: Page) -> None:
    page.goto(f"{live.url}/app/")
    strings = page.evaluate(
        "import('/app/strings.js').then(m => ({en: Object.keys(m.STRINGS.en),"
        " ko: Object.keys(m.STRINGS.ko)}))"
    )
    english, korean = set(strings["en"]), set(strings["ko"])
    assert english == korean
    sources = "\n".join(p.read_text() for p in APP_SOURCES.glob("*.js"))
    used = set(re.findall(r"\bt\(\s*\"([\w.]+)\"", sources))
    assert len(used) > 50  # the pattern still finds the app's calls
    assert used <= english, used - english
    # Keys built from the service's states: one per value, so a new state cannot show raw.
    families = {
        "visit": VisitStatus,
        "payment": PaymentState,
        "dispute": DisputeState,
        "status": OrderStatus,
        "mode": PickupMode,
        "orders.when": PickupMode,
    }
    for prefix, states in families.items():
        missing = {f"{prefix}.{state.value}" for state in states} - english
        assert not missing, missing


def test_the_app_shell_works_offline_and_api_answers_are_never_cached(
    live: Live, page: Page
) -> None:
    shopper = live.shopper()
    open_app(page, live, shopper, "enter")
    expect(page.get_by_role("img", name="Your entry QR code")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")
    cached = page.evaluate(
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        ".then(c => c.keys())))).then(all => all.flat().map(r => new URL(r.url).pathname))"
    )
    assert {"/app/", "/app/app.js", "/shared/api.js"} <= set(cached)
    assert all(path.startswith(("/app/", "/shared/")) for path in cached), cached

    page.context.set_offline(True)
    page.reload()
    # The shell comes from the cache; the screen says the store is out of reach.
    expect(page.get_by_role("alert")).to_have_text(
        "The store cannot be reached. Check your connection."
    )

"""The walk-out flow once more with the Stripe provider, against localstripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from sqlalchemy import Connection

from payments.payments_support import API_KEY, localstripe_for_tests
from walkout.service import Settings

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, customer_of, enter, post_events, sku_priced


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """The machine's shared localstripe; skipped locally if it cannot start, failed under CI."""
    with localstripe_for_tests() as url:
        yield url


@pytest.fixture
def stripe_store(
    settings: Settings, clock: FakeClock, connection: Connection, localstripe_url: str
) -> Iterator[Store]:
    on_stripe = make_settings(
        settings.db_url,
        settings.data_dir,
        payment_provider="stripe",
        stripe_api_key=API_KEY,
        stripe_api_base=localstripe_url,
        stripe_automatic_payment_methods=False,  # localstripe predates it
    )
    with open_store(on_stripe, clock, connection) as store:
        yield store


def save_card(store: Store, person: Caller, payment_method: str) -> int:
    """Save a Stripe PaymentMethod (what Stripe Elements hands the app)."""
    r = store.client.post("/cards", json={"token": payment_method}, headers=person.headers)
    assert r.status_code == 201, r.text
    card_id: int = r.json()["id"]
    return card_id


def charges(url: str, customer: str) -> list[stripe.Charge]:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": url})
    listed = client.v1.charges.list({"customer": customer, "limit": 100})
    return [c for c in listed.data if c.status == "succeeded"]


def test_walk_out_charge_and_refund_on_stripe(stripe_store: Store, localstripe_url: str) -> None:
    store = stripe_store
    catalogue = store.services.catalogue
    cheap = sku_priced(catalogue, 100, store.services.settings.dispute_auto_refund_max)
    dear = sku_priced(catalogue, 600, 2000)
    total = catalogue.products[cheap].price + catalogue.products[dear].price
    shopper, gate = store.person(payment=False), store.device()
    save_card(store, shopper, "pm_card_visa")
    (card,) = store.client.get("/cards", headers=shopper.headers).json()
    assert (card["brand"], card["last4"]) == ("visa", "4242")

    feed = Feed(enter(store, gate, shopper), catalogue)
    post_events(store, gate, [feed.added(cheap), feed.added(dear), *feed.exit({cheap: 1, dear: 1})])
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    assert summary["payment"]["state"] == "captured"
    customer = customer_of(store, shopper.account_id)
    (charge,) = charges(localstripe_url, customer)
    assert (charge.amount, charge.captured) == (total, True)

    receipt = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    line = next(x for x in receipt["lines"] if x["sku"] == cheap)
    r = store.client.post(
        f"/receipts/{summary['id']}/disputes",
        json={"line_id": line["id"], "reason": "never took it"},
        headers=shopper.headers,
    )
    assert r.json()["state"] == "refunded", r.text
    assert r.json()["refund_id"].startswith("re_")
    (charge,) = charges(localstripe_url, customer)
    assert charge.amount_refunded == catalogue.products[cheap].price


def test_declined_then_settled_on_stripe(stripe_store: Store, localstripe_url: str) -> None:
    store = stripe_store
    sku = sku_priced(store.services.catalogue, 100, 2000)
    shopper, gate = store.person(payment=False), store.device()
    save_card(store, shopper, "pm_card_chargeCustomerFail")
    visit_id = enter(store, gate, shopper)
    post_events(store, gate, Feed(visit_id, store.services.catalogue).exit({sku: 1}))
    assert store.scan(gate, store.entry_token(shopper)).json()["code"] == "unpaid_visit"
    good = save_card(store, shopper, "pm_card_visa")
    r = store.client.post(
        f"/visits/{visit_id}/settle", json={"card_id": good}, headers=shopper.headers
    )
    assert r.json()["visit_status"] == "paid", r.text
    assert len(charges(localstripe_url, customer_of(store, shopper.account_id))) == 1
    assert store.scan(gate, store.entry_token(shopper)).status_code == 200

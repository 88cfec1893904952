"""Suggestions: favourites and items bought together from a shopper's own baskets, with
consent only; the scoring's rules as properties (ADR 9)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkout.service.models import OrderStatus
from walkout.service.suggestions.scoring import (
    HALF_LIFE,
    MIN_PAIR_BASKETS,
    Basket,
    bought_together,
    favourites,
    weight,
)

from .helpers import Caller, FakeClock, Store
from .order_rows import insert_order
from .shop import Feed, add_card, enter, post_events

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
SKUS = st.sampled_from(["apple", "bread", "cheese", "dates", "eggs"])
BASKETS = st.lists(
    st.builds(
        Basket,
        at=st.integers(0, 400).map(lambda d: NOW - timedelta(days=d)),
        items=st.dictionaries(SKUS, st.integers(0, 5), max_size=5),
    ),
    max_size=12,
)


# scoring


@given(BASKETS, st.randoms())
def test_scores_do_not_depend_on_the_order_of_baskets(
    baskets: list[Basket], rnd: random.Random
) -> None:
    shuffled = list(baskets)
    rnd.shuffle(shuffled)
    assert favourites(shuffled, NOW, 10) == favourites(baskets, NOW, 10)
    assert bought_together(shuffled, NOW, 10) == bought_together(baskets, NOW, 10)


@given(BASKETS)
def test_favourites_are_exactly_the_products_bought_counted_right(baskets: list[Basket]) -> None:
    found = {f.sku: f for f in favourites(baskets, NOW, 100)}
    bought = {sku for b in baskets for sku, qty in b.items.items() if qty > 0}
    assert set(found) == bought
    for sku, f in found.items():
        holding = [b for b in baskets if b.items.get(sku, 0) > 0]
        assert f.baskets == len(holding)
        assert f.units == sum(b.items[sku] for b in holding)
        assert f.last_bought == max(b.at for b in holding)
        assert 0 < f.score <= f.baskets  # no basket counts more than once
    scores = [f.score for f in found.values()]
    ranked = [f.score for f in favourites(baskets, NOW, 100)]
    assert ranked == sorted(scores, reverse=True)


@given(BASKETS, st.integers(0, 10))
def test_limit_keeps_the_best(baskets: list[Basket], limit: int) -> None:
    assert favourites(baskets, NOW, limit) == favourites(baskets, NOW, 100)[:limit]
    assert bought_together(baskets, NOW, limit) == bought_together(baskets, NOW, 100)[:limit]


@given(BASKETS)
def test_pairs_shared_at_least_two_baskets_and_never_more_than_either(
    baskets: list[Basket],
) -> None:
    favs = {f.sku: f for f in favourites(baskets, NOW, 100)}
    for pair in bought_together(baskets, NOW, 100):
        assert pair.first < pair.second
        both = [b for b in baskets if b.items.get(pair.first, 0) > 0 < b.items.get(pair.second, 0)]
        assert pair.baskets == len(both) >= MIN_PAIR_BASKETS
        assert pair.baskets <= min(favs[pair.first].baskets, favs[pair.second].baskets)
        assert pair.score <= min(favs[pair.first].score, favs[pair.second].score) + 1e-9


@given(BASKETS, st.integers(1, 400))
def test_a_new_basket_only_raises_what_it_holds(baskets: list[Basket], days: int) -> None:
    before = {f.sku: f.score for f in favourites(baskets, NOW, 100)}
    extra = Basket(NOW - timedelta(days=days), {"bread": 1})
    after = {f.sku: f.score for f in favourites([*baskets, extra], NOW, 100)}
    assert after["bread"] > before.get("bread", 0.0)
    assert {k: v for k, v in after.items() if k != "bread"} == {
        k: v for k, v in before.items() if k != "bread"
    }


def test_recent_habits_lead_and_old_ones_fade() -> None:
    old = [Basket(NOW - timedelta(days=200 + d), {"cheese": 1}) for d in range(3)]
    new = [Basket(NOW - timedelta(days=d), {"bread": 1}) for d in range(2)]
    ranked = favourites([*old, *new], NOW, 10)
    assert [f.sku for f in ranked] == ["bread", "cheese"]  # 2 recent beat 3 from months ago
    assert weight(NOW - HALF_LIFE, NOW) == pytest.approx(0.5)
    assert weight(NOW + timedelta(days=1), NOW) == 1.0  # a clock ahead never counts more


def test_frequency_beats_one_bulk_buy() -> None:
    baskets = [Basket(NOW, {"eggs": 12}), Basket(NOW, {"bread": 1}), Basket(NOW, {"bread": 1})]
    assert [f.sku for f in favourites(baskets, NOW, 10)] == ["bread", "eggs"]


# over HTTP


def suggestions(store: Store, shopper: Caller, **params: int) -> dict[str, object]:
    r = store.client.get("/me/suggestions", params=params, headers=shopper.headers)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def consent(store: Store, shopper: Caller, on: bool) -> None:
    r = store.client.put("/me/consent", json={"personalisation": on}, headers=shopper.headers)
    assert r.status_code == 200, r.text


def shop(store: Store, shopper: Caller, gate: Caller, items: dict[str, int]) -> None:
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    post_events(store, gate, feed.exit(items))


@pytest.fixture
def skus(store: Store) -> list[str]:
    cheap = [p.sku for p in store.services.catalogue.products.values() if 0 < p.price <= 500]
    return cheap[:3]


def test_without_consent_nothing_is_computed(store: Store) -> None:
    shopper = store.person()
    r = store.client.get("/me/suggestions", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (409, "consent_required")
    consent(store, shopper, True)
    consent(store, shopper, False)
    r = store.client.get("/me/suggestions", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (409, "consent_required")


def test_favourites_and_pairs_come_from_the_shoppers_own_receipts(
    store: Store, clock: FakeClock, skus: list[str]
) -> None:
    a, b, c = skus
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    shop(store, shopper, gate, {a: 1, b: 2})
    clock.advance(86400)
    shop(store, shopper, gate, {a: 1, b: 1, c: 1})
    clock.advance(86400)
    shop(store, shopper, gate, {a: 3})
    other = store.person(payment=False)
    add_card(store, other)
    for _ in range(3):
        shop(store, other, gate, {c: 5})  # someone else's habits never leak in
    consent(store, shopper, True)
    body = suggestions(store, shopper)
    catalogue = store.services.catalogue
    favs = body["favourites"]
    assert isinstance(favs, list)
    assert [(f["sku"], f["baskets"], f["units"]) for f in favs] == [(a, 3, 5), (b, 2, 3), (c, 1, 1)]
    assert favs[0]["name"] == catalogue.products[a].name
    assert favs[0]["unit_price"] == catalogue.products[a].price
    assert favs[0]["last_bought"] == clock.now.isoformat().replace("+00:00", "Z")
    pairs = body["bought_together"]
    assert isinstance(pairs, list)
    assert [([p["sku"] for p in pair["products"]], pair["baskets"]) for pair in pairs] == [
        (sorted([a, b]), 2)
    ]
    limited = suggestions(store, shopper, limit=1)["favourites"]
    assert isinstance(limited, list)
    assert [f["sku"] for f in limited] == [a]
    r = store.client.get("/me/suggestions", params={"limit": 0}, headers=shopper.headers)
    assert r.status_code == 422


def test_disputed_lines_are_not_favourites(store: Store, skus: list[str]) -> None:
    a, b, _ = skus
    shopper = store.person(payment=False)
    add_card(store, shopper)
    shop(store, shopper, store.device(), {a: 1, b: 1})
    (summary,) = store.client.get("/receipts", headers=shopper.headers).json()
    receipt = store.client.get(f"/receipts/{summary['id']}", headers=shopper.headers).json()
    line = next(ln for ln in receipt["lines"] if ln["sku"] == b)
    r = store.client.post(
        f"/receipts/{receipt['id']}/disputes",
        json={"line_id": line["id"], "reason": "never took it"},
        headers=shopper.headers,
    )
    assert r.status_code == 201, r.text
    consent(store, shopper, True)
    favs = suggestions(store, shopper)["favourites"]
    assert isinstance(favs, list)
    assert [f["sku"] for f in favs] == [a]


def test_collected_orders_count_as_baskets(store: Store, skus: list[str]) -> None:
    a, b, _ = skus
    shopper = store.person()
    for status in (OrderStatus.COLLECTED, OrderStatus.COLLECTED, OrderStatus.CANCELED):
        insert_order(store, shopper.account_id, status, [a, b])
    consent(store, shopper, True)
    body = suggestions(store, shopper)
    favs = body["favourites"]
    pairs = body["bought_together"]
    assert isinstance(favs, list)
    assert isinstance(pairs, list)
    assert sorted((f["sku"], f["baskets"]) for f in favs) == sorted([(a, 2), (b, 2)])
    assert [pair["baskets"] for pair in pairs] == [2]

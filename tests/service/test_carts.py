"""Cart events: applied once each to the right visit; the live cart and its event stream."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from walkout.service import Settings
from walkout.service.models import CartEventRecord, Role

from .conftest import make_settings, open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, add_card, as_json, enter, post_events, sku_priced


@dataclass
class Visit:
    shopper: Caller
    gate: Caller
    feed: Feed


@pytest.fixture
def visit(store: Store) -> Visit:
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    return Visit(shopper, gate, Feed(enter(store, gate, shopper), store.services.catalogue))


def cart(store: Store, shopper: Caller) -> dict[str, int]:
    r = store.client.get("/visits/current/cart", headers=shopper.headers)
    assert r.status_code == 200, r.text
    return {line["sku"]: line["qty"] for line in r.json()["lines"]}


def test_items_added_and_removed_make_the_cart(store: Store, visit: Visit) -> None:
    a, b = (
        sku_priced(store.services.catalogue, 100, 2000, 0),
        sku_priced(store.services.catalogue, 100, 2000, 1),
    )
    feed = visit.feed
    post_events(store, visit.gate, [feed.added(a, 3), feed.added(b)])
    assert cart(store, visit.shopper) == {a: 3, b: 1}
    post_events(store, visit.gate, [feed.removed(a, 2), feed.removed(b), feed.removed(b)])
    assert cart(store, visit.shopper) == {a: 1}


def test_staff_read_any_visits_cart_as_its_shopper_sees_it(store: Store, visit: Visit) -> None:
    a, b = (
        sku_priced(store.services.catalogue, 100, 2000, 0),
        sku_priced(store.services.catalogue, 100, 2000, 1),
    )
    post_events(store, visit.gate, [visit.feed.added(a, 2), visit.feed.added(b)])
    staff = store.person(Role.STAFF)
    path = f"/staff/visits/{visit.feed.token}/cart"
    r = store.client.get(path, headers=staff.headers)
    assert r.status_code == 200, r.text
    own = store.client.get("/visits/current/cart", headers=visit.shopper.headers)
    assert r.json() == own.json()
    assert {line["sku"]: line["qty"] for line in r.json()["lines"]} == {a: 2, b: 1}
    prices = store.services.catalogue.products
    assert r.json()["total"] == 2 * prices[a].price + prices[b].price
    missing = store.client.get(f"/staff/visits/{10**9}/cart", headers=staff.headers)
    assert missing.status_code == 404
    shopper = store.client.get(path, headers=visit.shopper.headers)
    assert shopper.status_code == 403


def test_a_line_keeps_its_lowest_confidence(store: Store, visit: Visit) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    feed = visit.feed
    post_events(
        store, visit.gate, [feed.added(sku, confidence=0.9), feed.added(sku, confidence=0.6)]
    )
    r = store.client.get("/visits/current/cart", headers=visit.shopper.headers).json()
    assert r["lines"][0]["confidence"] == 0.6
    assert r["total"] == 2 * store.services.catalogue.products[sku].price


def test_the_same_events_twice_apply_once(store: Store, visit: Visit) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    batch = [visit.feed.added(sku, 2), visit.feed.removed(sku)]
    assert post_events(store, visit.gate, batch) == ["applied", "applied"]
    assert post_events(store, visit.gate, batch) == ["duplicate", "duplicate"]
    assert post_events(store, visit.gate, [batch[1], batch[0]]) == ["duplicate", "duplicate"]
    assert cart(store, visit.shopper) == {sku: 1}
    with store.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CartEventRecord)) == 2


def test_an_event_id_is_unique_per_visit_not_per_store(store: Store, visit: Visit) -> None:
    """A restarted engine numbers its events again: the same id on another visit applies."""
    sku = sku_priced(store.services.catalogue, 100, 2000)
    other = store.person(payment=False)
    add_card(store, other)
    other_feed = Feed(enter(store, visit.gate, other), store.services.catalogue)
    assert post_events(store, visit.gate, [visit.feed.added(sku)]) == ["applied"]
    assert post_events(store, visit.gate, [other_feed.added(sku)]) == ["applied"]
    assert cart(store, other) == {sku: 1}


@pytest.mark.parametrize("token", ["999999", "abc", "0", "٣", str(2**40)])
def test_events_of_unknown_visits_are_reported(store: Store, visit: Visit, token: str) -> None:
    event = visit.feed.added(sku_priced(store.services.catalogue, 100, 2000))
    assert post_events(store, visit.gate, [event.model_copy(update={"token": token})]) == [
        "unknown_visit"
    ]


def test_item_events_after_the_visit_closed_are_ignored(store: Store, visit: Visit) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    feed = visit.feed
    assert post_events(store, visit.gate, [feed.closed(), feed.added(sku)]) == [
        "applied",
        "ignored",
    ]
    assert (
        store.client.get("/visits/current/cart", headers=visit.shopper.headers).status_code == 404
    )
    second_receipt = [feed.receipt({}), feed.receipt({sku: 1})]
    assert post_events(store, visit.gate, second_receipt) == ["applied", "ignored"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "item_added"},
        [{"type": "no_such_event", "id": "x", "t": 0, "visit": "v1"}],
        [
            {
                "type": "item_added",
                "id": "x",
                "t": 0,
                "visit": "v1",
                "token": "1",
                "sku": "s",
                "qty": 0,
                "evidence": None,
            }
        ],
    ],
)
def test_malformed_batches_are_refused_whole(store: Store, visit: Visit, body: Any) -> None:
    r = store.client.post("/events", json=body, headers=visit.gate.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_batches_are_bounded(store: Store, visit: Visit) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    batch = as_json([visit.feed.added(sku) for _ in range(1001)])
    assert store.client.post("/events", json=batch, headers=visit.gate.headers).status_code == 422


def read_frames(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of each Server-Sent Event; comments are skipped."""
    kind, data = None, None
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
        elif line == "" and kind is not None and data is not None:
            yield kind, data
            kind, data = None, None


def test_the_live_stream_pushes_each_change_until_paid(store: Store, visit: Visit) -> None:
    sku = sku_priced(store.services.catalogue, 100, 2000)
    feed = visit.feed
    post_events(store, visit.gate, [feed.added(sku)])
    posted: list[list[str]] = []

    def engine() -> None:
        posted.append(post_events(store, visit.gate, [feed.added(sku)]))
        posted.append(post_events(store, visit.gate, feed.exit({sku: 2})))

    with store.client.stream(
        "GET", "/visits/current/events", headers=visit.shopper.headers
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = read_frames(response.iter_lines())
        kind, first = next(frames)  # subscribed before this snapshot was read
        assert (kind, first["cart"]["lines"][0]["qty"]) == ("cart", 1)
        sender = threading.Thread(target=engine)
        sender.start()
        rest = list(frames)  # the stream ends once the visit is paid
        sender.join()
    assert posted == [["applied"], ["applied", "applied"]]
    assert [kind for kind, _ in rest] == ["cart", "closed", "receipt", "payment", "payment"]
    assert rest[0][1]["cart"]["lines"][0]["qty"] == 2
    assert rest[2][1]["receipt_id"] is not None
    assert [data["payment_state"] for _, data in rest[3:]] == ["authorised", "captured"]
    assert rest[-1][1]["visit_status"] == "paid"


@pytest.fixture
def quick_heartbeat_store(
    settings: Settings, clock: FakeClock, connection: Connection
) -> Iterator[Store]:
    quick = make_settings(settings.db_url, settings.data_dir, stream_heartbeat=0.05)
    with open_store(quick, clock, connection) as store:
        yield store


def test_the_stream_keeps_alive_while_idle(quick_heartbeat_store: Store) -> None:
    store = quick_heartbeat_store
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    with store.client.stream("GET", "/visits/current/events", headers=shopper.headers) as r:
        lines = r.iter_lines()
        assert next(lines) == "event: cart"
        assert [next(lines) for _ in range(3)][1:] == ["", ": keep-alive"]
        post_events(store, gate, feed.exit({}))
        kinds = [line for line in lines if line.startswith("event: ")]
    assert kinds == ["event: closed", "event: receipt"]  # nothing owed: paid at once


def test_no_stream_without_an_open_visit(store: Store) -> None:
    shopper = store.person()
    r = store.client.get("/visits/current/events", headers=shopper.headers)
    assert (r.status_code, r.json()["code"]) == (404, "no_open_visit")


Op = tuple[bool, int, int]  # (added?, which product, qty)


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.integers(1, 3)), max_size=8),
    cuts=st.lists(st.integers(0, 8), max_size=3),
    resend=st.lists(st.integers(0, 7), max_size=4),
)
def test_the_cart_is_the_fold_of_distinct_events_whatever_the_batching(
    store: Store, ops: list[Op], cuts: list[int], resend: list[int]
) -> None:
    """Batches cut anywhere, with earlier events sent again, give the cart of one pass."""
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    skus = [sku_priced(store.services.catalogue, 100, 2000, i) for i in range(3)]
    events = [feed.added(skus[i], q) if add else feed.removed(skus[i], q) for add, i, q in ops]
    expected: dict[str, int] = {}
    for add, i, qty in ops:
        expected[skus[i]] = max(0, expected.get(skus[i], 0) + (qty if add else -qty))
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    sent: list[Any] = []
    for start, end in itertools.pairwise(bounds):
        again = [sent[r % len(sent)] for r in resend] if sent else []
        outcomes = post_events(store, gate, [*again, *events[start:end]])
        assert outcomes == ["duplicate"] * len(again) + ["applied"] * (end - start)
        sent += events[start:end]
    assert cart(store, shopper) == {sku: qty for sku, qty in expected.items() if qty > 0}
    post_events(store, gate, feed.exit({}))  # leave, so the next example's people start afresh

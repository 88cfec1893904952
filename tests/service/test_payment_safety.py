"""Never charge twice: repeated events, transient failures, lost responses and restarts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection

from walkout.payments import PaymentRetryableError
from walkout.payments.ledger import LedgerProvider, Phase
from walkout.service import Settings
from walkout.service.models import Role

from .conftest import open_store
from .helpers import Caller, FakeClock, Store
from .shop import Feed, add_card, captures, enter, post_events, sku_priced


@dataclass
class Faults:
    """Planned transient failures of the ledger: ``arm("capture", "after", 2)``."""

    remaining: dict[tuple[str, Phase], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, operation: str, phase: Phase, times: int) -> None:
        with self.lock:
            self.remaining[(operation, phase)] = times

    def __call__(self, operation: str, phase: Phase) -> None:
        with self.lock:
            left = self.remaining.get((operation, phase), 0)
            self.remaining[(operation, phase)] = max(0, left - 1)
        if left > 0:
            raise PaymentRetryableError(f"injected: {operation} {phase}")


@dataclass
class World:
    settings: Settings
    clock: FakeClock
    connection: Connection
    faults: Faults
    ledger: LedgerProvider

    def open(self) -> Iterator[Store]:
        """A (new) service on the same database and the same processor."""
        with open_store(self.settings, self.clock, self.connection, provider=self.ledger) as s:
            yield s


@pytest.fixture
def world(settings: Settings, clock: FakeClock, connection: Connection) -> World:
    faults = Faults()
    return World(settings, clock, connection, faults, LedgerProvider(fault=faults))


@dataclass
class Shopping:
    shopper: Caller
    gate: Caller
    feed: Feed
    sku: str
    price: int


def shop(store: Store, low: int = 100, high: int = 2000) -> Shopping:
    """A shopper with a card, in the store, and a product priced within [low, high]."""
    shopper = store.person(payment=False)
    add_card(store, shopper)
    gate = store.device()
    sku = sku_priced(store.services.catalogue, low, high)
    feed = Feed(enter(store, gate, shopper), store.services.catalogue)
    return Shopping(shopper, gate, feed, sku, store.services.catalogue.products[sku].price)


def payment(store: Store, shopper: Caller) -> dict[str, object]:
    (receipt,) = store.client.get("/receipts", headers=shopper.headers).json()
    value: dict[str, object] = receipt["payment"]
    return value


def test_the_exit_events_delivered_twice_charge_once(world: World) -> None:
    for store in world.open():
        s = shop(store)
        exit_events = s.feed.exit({s.sku: 2})
        assert post_events(store, s.gate, exit_events) == ["applied", "applied"]
        assert post_events(store, s.gate, exit_events) == ["duplicate", "duplicate"]
        assert post_events(store, s.gate, [exit_events[1]]) == ["duplicate"]
        assert captures(world.ledger) == [2 * s.price]


@pytest.mark.parametrize("phase", ["before", "after"])
def test_transient_capture_failures_are_retried_with_one_key(world: World, phase: Phase) -> None:
    """ "after": the capture happened but its answer was lost; the retry gets the same one."""
    for store in world.open():
        s = shop(store)
        world.faults.arm("capture", phase, 2)
        post_events(store, s.gate, s.feed.exit({s.sku: 1}))
        assert payment(store, s.shopper)["state"] == "captured"
        assert captures(world.ledger) == [s.price]


def test_a_restart_resumes_an_unfinished_capture_once(world: World) -> None:
    attempts = world.settings.payment_attempts
    for store in world.open():
        s = shop(store)
        world.faults.arm("capture", "after", attempts)  # captured, but no answer came back
        post_events(store, s.gate, s.feed.exit({s.sku: 1}))
        stuck = payment(store, s.shopper)
        assert stuck["state"] == "authorised"
        assert str(stuck["error"]).startswith("retrying:")
        assert store.client.get("/visits/current", headers=s.shopper.headers).status_code == 404
        assert store.scan(s.gate, store.entry_token(s.shopper)).status_code == 200  # not owed
    for store in world.open():  # the restart: its start-up resumes the payment
        assert payment(store, s.shopper)["state"] == "captured"
    assert captures(world.ledger) == [s.price]
    assert len(world.ledger.entries()) == 1


def test_a_restart_resumes_a_pending_payment_without_a_second_hold(world: World) -> None:
    for store in world.open():
        s = shop(store)
        world.faults.arm("authorize", "after", world.settings.payment_attempts)
        post_events(store, s.gate, s.feed.exit({s.sku: 1}))
        assert payment(store, s.shopper)["state"] == "pending"
        assert len(world.ledger.entries()) == 1  # held at the processor, unknown to us
    for store in world.open():
        assert payment(store, s.shopper)["state"] == "captured"
    assert len(world.ledger.entries()) == 1
    assert captures(world.ledger) == [s.price]


def test_a_manager_can_resume_after_an_outage(world: World) -> None:
    for store in world.open():
        s = shop(store)
        world.faults.arm("authorize", "before", world.settings.payment_attempts)
        post_events(store, s.gate, s.feed.exit({s.sku: 1}))
        assert world.ledger.entries() == []
        manager = store.person(Role.MANAGER)
        r = store.client.post("/staff/payments/resume", headers=manager.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["payments"]) == 1
        assert payment(store, s.shopper)["state"] == "captured"
        again = store.client.post("/staff/payments/resume", headers=manager.headers).json()
        assert again == {"payments": [], "refunds": []}
        assert captures(world.ledger) == [s.price]


def test_a_refund_outage_is_resumed_once(world: World) -> None:
    for store in world.open():
        s = shop(store, high=world.settings.dispute_auto_refund_max)
        staff = store.person(Role.STAFF)
        post_events(store, s.gate, s.feed.exit({s.sku: 1}))
        (receipt,) = store.client.get("/receipts", headers=s.shopper.headers).json()
        line = store.client.get(f"/receipts/{receipt['id']}", headers=s.shopper.headers).json()
        world.faults.arm("refund", "after", world.settings.payment_attempts)
        r = store.client.post(
            f"/receipts/{receipt['id']}/disputes",
            json={"line_id": line["lines"][0]["id"], "reason": "not mine"},
            headers=s.shopper.headers,
        )
        assert r.json()["state"] == "approved"  # refund due; the refund's answer was lost
    for store in world.open():
        disputes = store.client.get(
            "/staff/disputes", params={"state": "refunded"}, headers=staff.headers
        ).json()
        assert [d["id"] for d in disputes] == [r.json()["id"]]
    (entry,) = world.ledger.entries()
    assert entry.refunded == s.price

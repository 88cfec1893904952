"""200 visits closing at once, each receipt delivered twice: exactly one charge per visit."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from walkout.domain.events import ReceiptIssued
from walkout.payments.ledger import LedgerProvider, Status
from walkout.service import create_app
from walkout.service.accounts.service import create_device, create_person
from walkout.service.cards.service import add_card
from walkout.service.db import upgrade_head
from walkout.service.deps import Services
from walkout.service.models import Payment, PaymentState, Role, Visit, VisitRole, VisitStatus
from walkout.service.visits.service import enter

from .conftest import make_settings
from .helpers import PASSWORD, FakeClock, TestClient
from .shop import Feed, as_json, sku_priced

VISITS = 200


@dataclass(frozen=True)
class Live:
    client: TestClient
    services: Services
    ledger: LedgerProvider


@pytest.fixture
def fast_db_url(db_url: str) -> Iterator[str]:
    """``db_url``, with SQLite's file in memory (/dev/shm): contention is tested, not fsync."""
    shm = Path("/dev/shm")
    if not db_url.startswith("sqlite") or not shm.is_dir():
        yield db_url
        return
    with tempfile.TemporaryDirectory(dir=shm) as directory:
        yield f"sqlite:///{Path(directory) / 'walkout.db'}"


@pytest.fixture
def live(fast_db_url: str, tmp_path: Path) -> Iterator[Live]:
    """The service on a database of its own (real commits), with its own engine."""
    settings = make_settings(fast_db_url, tmp_path)
    upgrade_head(settings)
    ledger = LedgerProvider()
    with TestClient(create_app(settings, FakeClock(), provider=ledger)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        yield Live(client, services, ledger)


def open_visits(services: Services, ledger: LedgerProvider, count: int) -> tuple[str, list[int]]:
    """A device token and ``count`` open visits of shoppers with a card each."""
    with services.sessions.begin() as session:
        device = create_device(session, services, "engine").token.token
        visit_ids = []
        for i in range(count):
            account = create_person(session, services, f"s{i}@example.com", PASSWORD, Role.SHOPPER)
            add_card(
                session,
                services,
                account.id,
                ledger.tokenize_card("4242424242424242", 12, 2030, "123"),
            )
            entered = enter(session, account.id, VisitRole.SHOPPER, "entry-1", services.clock())
            visit_ids.append(entered.visit.id)
    return device, visit_ids


def test_visits_closing_at_once_are_charged_exactly_once_each(live: Live) -> None:
    services = live.services
    sku = sku_priced(services.catalogue, 100, 2000)
    device, visit_ids = open_visits(services, live.ledger, VISITS)
    receipts: list[ReceiptIssued] = [
        Feed(v, services.catalogue).receipt({sku: 1 + v % 3}) for v in visit_ids
    ]
    deliveries = receipts * 2
    random.Random(7).shuffle(deliveries)
    headers = {"Authorization": f"Bearer {device}"}

    def deliver(event: ReceiptIssued) -> str:
        r = live.client.post("/events", json=as_json([event]), headers=headers)
        assert r.status_code == 200, r.text
        outcome: str = r.json()["results"][0]["outcome"]
        return outcome

    with ThreadPoolExecutor(32) as pool:
        outcomes = Counter(pool.map(deliver, deliveries))
    assert outcomes == {"applied": VISITS, "duplicate": VISITS}

    captured = [e for e in live.ledger.entries() if e.status is Status.CAPTURED]
    assert len(live.ledger.entries()) == len(captured) == VISITS
    assert Counter(e.customer_id for e in captured).most_common(1)[0][1] == 1
    price = services.catalogue.products[sku].price
    assert sorted(e.captured for e in captured) == sorted(price * (1 + v % 3) for v in visit_ids)
    with services.sessions() as session:
        states = Counter(session.scalars(select(Payment.state)))
        statuses = Counter(session.scalars(select(Visit.status)))
    assert states == {PaymentState.CAPTURED: VISITS}
    assert statuses == {VisitStatus.PAID: VISITS}

"""Helpers for the walk-out tests: cards, entry, and the engine's cart events for a visit."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from walkout.domain.events import (
    Candidate,
    CartEvent,
    Evidence,
    ItemAdded,
    ItemRemoved,
    ReceiptIssued,
    VisitClosed,
)
from walkout.domain.truth import Receipt, ReceiptLine
from walkout.payments.ledger import LedgerProvider, Status
from walkout.service.catalogue import Catalogue
from walkout.service.models import PaymentCustomer

from .helpers import Caller, Store

VISA = "4242 4242 4242 4242"
#: Attaches, then is declined when a payment is authorised.
DECLINED_AT_CHARGE = "4000 0000 0000 0341"


def card_token(store: Store, person: Caller, number: str = VISA) -> str:
    """The ledger card form's token for ``number``."""
    form = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    r = store.client.post("/cards/ledger-token", json=form, headers=person.headers)
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def add_card(store: Store, person: Caller, number: str = VISA) -> int:
    """Save a ledger card for ``person``; its id."""
    token = card_token(store, person, number)
    r = store.client.post("/cards", json={"token": token}, headers=person.headers)
    assert r.status_code == 201, r.text
    card_id: int = r.json()["id"]
    return card_id


def enter(store: Store, gate: Caller, person: Caller) -> int:
    """Scan a fresh entry token of ``person`` at ``gate``; the visit id."""
    r = store.scan(gate, store.entry_token(person))
    assert r.status_code == 200, r.text
    visit_id: int = r.json()["visit_id"]
    return visit_id


def as_json(events: Sequence[BaseModel]) -> list[Any]:
    """Cart events as the engine sends them."""
    return [e.model_dump(mode="json") for e in events]


def post_events(store: Store, device: Caller, events: Sequence[BaseModel]) -> list[str]:
    """Send a batch as the store's engine; the outcome of each event."""
    r = store.client.post("/events", json=as_json(events), headers=device.headers)
    assert r.status_code == 200, r.text
    return [result["outcome"] for result in r.json()["results"]]


def sku_priced(catalogue: Catalogue, low: int, high: int, skip: int = 0) -> str:
    """A product priced within [low, high] (the ``skip``-th such one)."""
    found = (p.sku for p in catalogue.products.values() if low <= p.price <= high)
    return next(itertools.islice(found, skip, None))


class Feed:
    """The engine's cart events for one visit, with ids like the engine's (``v1:7``)."""

    def __init__(self, visit_id: int, catalogue: Catalogue, engine_visit: str = "v1") -> None:
        self.token = str(visit_id)
        self.catalogue = catalogue
        self.engine_visit = engine_visit
        self._serial: Iterator[int] = itertools.count(1)

    def _id(self) -> str:
        return f"{self.engine_visit}:{next(self._serial)}"

    def _evidence(self, sku: str, qty: int, confidence: float) -> Evidence:
        return Evidence(
            plate="plate-1",
            t_start=1.0,
            t_end=2.0,
            delta_g=-100.0 * qty,
            person="track-1",
            person_p=0.99,
            candidates=[Candidate(sku=sku, qty=-qty, p=confidence)],
            confidence=confidence,
        )

    def added(self, sku: str, qty: int = 1, confidence: float = 0.97) -> ItemAdded:
        return ItemAdded(
            id=self._id(),
            t=2.0,
            visit=self.engine_visit,
            token=self.token,
            sku=sku,
            qty=qty,
            evidence=self._evidence(sku, qty, confidence),
        )

    def removed(self, sku: str, qty: int = 1, confidence: float = 0.97) -> ItemRemoved:
        return ItemRemoved(
            id=self._id(),
            t=3.0,
            visit=self.engine_visit,
            token=self.token,
            sku=sku,
            qty=qty,
            evidence=self._evidence(sku, qty, confidence),
        )

    def closed(self) -> VisitClosed:
        return VisitClosed(
            id=self._id(), t=9.0, visit=self.engine_visit, token=self.token, gate="exit-1"
        )

    def receipt(
        self,
        items: dict[str, int],
        *,
        confidence: float = 0.97,
        flagged: bool = False,
        total: int | None = None,
    ) -> ReceiptIssued:
        lines = [
            ReceiptLine(
                sku=sku, qty=qty, price=self.catalogue.products[sku].price, confidence=confidence
            )
            for sku, qty in sorted(items.items())
        ]
        computed = sum(line.qty * line.price for line in lines)
        receipt = Receipt(
            token=self.token,
            items=dict(items),
            total=computed if total is None else total,
            confidence=confidence,
            lines=lines,
            flagged=flagged,
            closed_at=9.0,
        )
        return ReceiptIssued(id=self._id(), t=9.0, visit=self.engine_visit, receipt=receipt)

    def exit(self, items: dict[str, int], **receipt: Any) -> list[CartEvent]:
        """What the engine sends when the visit leaves: VisitClosed, then ReceiptIssued."""
        return [self.closed(), self.receipt(items, **receipt)]


def ledger(store: Store) -> LedgerProvider:
    provider = store.services.provider
    assert isinstance(provider, LedgerProvider)
    return provider


def customer_of(store: Store, account_id: int) -> str:
    with store.services.sessions() as session:
        query = select(PaymentCustomer.customer_id).where(PaymentCustomer.account_id == account_id)
        customer = session.scalars(query).one()
    return customer


def captures(provider: LedgerProvider, customer_id: str | None = None) -> list[int]:
    """The captured amount of each captured authorisation (of one customer, or all)."""
    return [e.captured for e in provider.entries(customer_id) if e.status is Status.CAPTURED]

"""Live carts: the engine's cart events applied once each to visits, and pushed to the app.

The engine's ``token`` on an event is the visit id the gate put in its gate message (ADR 4).
Each event is logged under its visit with its id unique there, so a repeated event is a
no-op. ``ReceiptIssued`` closes the visit, stores the receipt, takes the components of the
meal kits it sold off the shelves' counts and opens its payment, which runs once the batch is
committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from walkout.domain.events import (
    CART_EVENT_ADAPTER,
    CartEvent,
    ItemAdded,
    ItemRemoved,
    ReceiptIssued,
    VisitClosed,
)
from walkout.service.agecheck import service as agecheck
from walkout.service.billing import service as billing
from walkout.service.carts import repository
from walkout.service.carts.schemas import CartLineRead, CartRead, CartUpdate, EventResult, Outcome
from walkout.service.deps import Services
from walkout.service.inventory import service as inventory
from walkout.service.models import CartLine, Visit, VisitStatus
from walkout.service.orders import stock
from walkout.service.receipts import service as receipts
from walkout.service.visits import service as visits


@dataclass(frozen=True)
class Applied:
    """What a batch did: an outcome per event, the updates to push, the payments to run."""

    results: list[EventResult]
    updates: list[CartUpdate]
    payments: list[int]


def visit_id_of(event: CartEvent) -> int | None:
    """Our visit id in the event's token; None when the token is not one."""
    return visits.visit_id_in(
        event.receipt.token if isinstance(event, ReceiptIssued) else event.token
    )


def apply(session: Session, services: Services, events: Sequence[CartEvent]) -> Applied:
    """Apply a batch of cart events in order; each event at most once."""
    ids = [visit_id_of(e) for e in events]
    found = repository.lock_visits(session, (i for i in ids if i is not None))
    results: list[EventResult] = []
    updates: list[CartUpdate] = []
    payments: list[int] = []
    for event, visit_id in zip(events, ids, strict=True):
        visit = found.get(visit_id) if visit_id is not None else None
        outcome: Outcome
        if visit is None:
            outcome = "unknown_visit"
        elif not repository.record_event(
            session,
            visit.id,
            event.id,
            event.type,
            CART_EVENT_ADAPTER.dump_python(event, mode="json"),
            services.clock(),
        ):
            outcome = "duplicate"
        else:
            outcome = _apply(session, services, visit, event, updates, payments)
        results.append(EventResult(id=event.id, outcome=outcome))
    return Applied(results, updates, payments)


def _apply(
    session: Session,
    services: Services,
    visit: Visit,
    event: CartEvent,
    updates: list[CartUpdate],
    payments: list[int],
) -> Outcome:
    if isinstance(event, ItemAdded | ItemRemoved):
        if visit.status is not VisitStatus.OPEN:
            return "ignored"
        _change_line(session, visit.id, event)
        inventory.on_item_event(session, services, visit.id, event)
        if isinstance(event, ItemAdded):
            agecheck.on_item_added(session, services, visit.id, event)
        cart = read_cart(session, services, visit)
        updates.append(
            CartUpdate(kind="cart", visit_id=visit.id, visit_status=visit.status, cart=cart)
        )
    elif isinstance(event, VisitClosed):
        if visit.status is not VisitStatus.OPEN:
            return "ignored"
        _close(services, visit)
        updates.append(CartUpdate(kind="closed", visit_id=visit.id, visit_status=visit.status))
    elif isinstance(event, ReceiptIssued):
        if visit.status is VisitStatus.OPEN:
            _close(services, visit)
        receipt = receipts.issue(session, services, visit, event)
        if receipt is None:
            return "ignored"
        stock.on_receipt(session, services, receipt)
        payment = billing.open_payment(session, services, visit, receipt)
        if payment is not None:
            agecheck.on_payment_opened(session, services, receipt, payment)
            payments.append(payment.id)
        updates.append(
            CartUpdate(
                kind="receipt",
                visit_id=visit.id,
                visit_status=visit.status,
                receipt_id=receipt.id,
                payment_state=payment.state if payment is not None else None,
            )
        )
    session.flush()
    return "applied"


def _close(services: Services, visit: Visit) -> None:
    visit.status = VisitStatus.CLOSED
    visit.closed_at = services.clock()


def _change_line(session: Session, visit_id: int, event: ItemAdded | ItemRemoved) -> None:
    line = repository.get_line(session, visit_id, event.sku)
    confidence = event.evidence.confidence
    if isinstance(event, ItemAdded):
        if line is None:
            repository.add_line(
                session,
                CartLine(visit_id=visit_id, sku=event.sku, qty=event.qty, confidence=confidence),
            )
        else:
            line.qty += event.qty
            line.confidence = min(line.confidence, confidence)
    elif line is not None:
        line.qty -= min(line.qty, event.qty)
        line.confidence = min(line.confidence, confidence)
        if line.qty == 0:
            repository.delete_line(session, line)


def after_commit(services: Services, applied: Applied) -> None:
    """Push the batch's updates to the apps, then run the payments it opened."""
    for update in applied.updates:
        services.bus.publish(update)
    for payment_id in applied.payments:
        billing.run(services, payment_id)


def read_cart(session: Session, services: Services, visit: Visit) -> CartRead:
    """The visit's cart now, named and priced from the catalogue."""
    catalogue = services.catalogue
    lines = []
    found = repository.lines(session, visit.id)
    held = agecheck.held_skus(session, catalogue, visit.id, (line.sku for line in found))
    for line in found:
        price = catalogue.price(line.sku)
        lines.append(
            CartLineRead(
                sku=line.sku,
                name=catalogue.name(line.sku),
                unit_price=price,
                qty=line.qty,
                amount=(price or 0) * line.qty,
                confidence=line.confidence,
                held_for_age_check=line.sku in held,
            )
        )
    return CartRead(
        visit_id=visit.id,
        status=visit.status,
        currency=catalogue.currency,
        lines=lines,
        total=sum(line.amount for line in lines),
    )


def current_cart(session: Session, services: Services, account_id: int) -> CartRead:
    """The cart of the account's open visit."""
    return read_cart(session, services, visits.current(session, account_id))

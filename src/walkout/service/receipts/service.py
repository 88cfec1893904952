"""Receipts: the engine's receipt of a visit priced and named from the catalogue; history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from walkout.domain.events import CART_EVENT_ADAPTER, ItemAdded, ItemRemoved, ReceiptIssued
from walkout.domain.truth import ReceiptLine as EngineLine
from walkout.service.agecheck import service as agecheck
from walkout.service.billing import repository as payments
from walkout.service.carts import repository as events
from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.disputes import repository as disputes
from walkout.service.disputes.schemas import DisputeRead
from walkout.service.errors import NotFound
from walkout.service.models import (
    Account,
    DisputeState,
    Receipt,
    ReceiptLine,
    Role,
    Visit,
)
from walkout.service.receipts import repository
from walkout.service.receipts.schemas import (
    LineEvidence,
    PaymentRead,
    ReceiptLineRead,
    ReceiptRead,
    ReceiptSummary,
)


def issue(
    session: Session, services: Services, visit: Visit, event: ReceiptIssued
) -> Receipt | None:
    """Store the engine's receipt of ``visit``; None when the visit has one already.

    Lines without the engine's extension are priced from the catalogue. The receipt is
    flagged for review when the engine says so, when its total disagrees with its lines, or
    when a product is not in the catalogue.
    """
    if repository.get_by_visit(session, visit.id) is not None:
        return None
    catalogue = services.catalogue
    engine = event.receipt
    lines = engine.lines
    if lines is None:
        lines = [
            EngineLine(
                sku=sku, qty=qty, price=catalogue.price(sku) or 0, confidence=engine.confidence
            )
            for sku, qty in sorted(engine.items.items())
            if qty > 0
        ]
    total = sum(line.price * line.qty for line in lines)
    unknown = any(catalogue.price(line.sku) is None for line in lines)
    receipt = Receipt(
        visit_id=visit.id,
        account_id=visit.account_id,
        event_id=event.id,
        currency=catalogue.currency,
        total=total,
        confidence=engine.confidence,
        flagged=bool(engine.flagged) or total != engine.total or unknown,
        issued_at=services.clock(),
    )
    repository.add(session, receipt)
    for line in lines:
        repository.add(
            session,
            ReceiptLine(
                receipt_id=receipt.id,
                sku=line.sku,
                name=catalogue.name(line.sku),
                unit_price=line.price,
                qty=line.qty,
                confidence=line.confidence,
            ),
        )
    return receipt


def visible(session: Session, account: Account, receipt_id: int) -> Receipt:
    """A receipt the account may see: its own, or any for staff and managers."""
    receipt = repository.get(session, receipt_id)
    staff = account.role in (Role.STAFF, Role.MANAGER)
    if receipt is None or not (staff or receipt.account_id == account.id):
        raise NotFound(f"no receipt {receipt_id}")
    return receipt


def own(
    session: Session, account: Account, receipt_id: int, *, for_update: bool = False
) -> Receipt:
    """One of the account's own receipts (locked when ``for_update``)."""
    receipt = repository.get(session, receipt_id, for_update=for_update)
    if receipt is None or receipt.account_id != account.id:
        raise NotFound(f"no receipt {receipt_id}")
    return receipt


def history(session: Session, account_id: int) -> list[ReceiptSummary]:
    """The account's receipts, newest first."""
    return [summary(session, r) for r in repository.of_account(session, account_id)]


def summary(session: Session, receipt: Receipt) -> ReceiptSummary:
    payment = payments.get_by_visit(session, receipt.visit_id)
    refunded = sum(
        d.amount
        for d in disputes.of_receipt(session, receipt.id)
        if d.state is DisputeState.REFUNDED
    )
    return ReceiptSummary(
        id=receipt.id,
        visit_id=receipt.visit_id,
        account_id=receipt.account_id,
        issued_at=receipt.issued_at,
        currency=receipt.currency,
        total=receipt.total,
        confidence=receipt.confidence,
        flagged=receipt.flagged,
        reviewed_at=receipt.reviewed_at,
        payment=PaymentRead.model_validate(payment) if payment is not None else None,
        refunded=refunded,
    )


def _evidence(session: Session, visit_id: int) -> dict[str, list[LineEvidence]]:
    by_sku: dict[str, list[LineEvidence]] = {}
    for record in events.item_events(session, visit_id):
        event = CART_EVENT_ADAPTER.validate_python(record.body)
        assert isinstance(event, ItemAdded | ItemRemoved)
        by_sku.setdefault(event.sku, []).append(
            LineEvidence(
                event_id=event.id,
                type=event.type,
                t=event.t,
                qty=event.qty,
                evidence=event.evidence,
            )
        )
    return by_sku


def describe(
    session: Session, receipt: Receipt, catalogue: Catalogue, *, evidence: bool
) -> ReceiptRead:
    """The receipt with its lines, their disputes, their age-check holds and (for staff) their
    evidence."""
    disputed = {d.receipt_line_id: d for d in disputes.of_receipt(session, receipt.id)}
    found = _evidence(session, receipt.visit_id) if evidence else {}
    lines: Sequence[ReceiptLine] = repository.lines(session, receipt.id)
    held = agecheck.held_skus(session, catalogue, receipt.visit_id, (ln.sku for ln in lines))
    return ReceiptRead(
        **summary(session, receipt).model_dump(),
        lines=[
            ReceiptLineRead(
                id=line.id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                qty=line.qty,
                amount=line.unit_price * line.qty,
                confidence=line.confidence,
                dispute=(
                    DisputeRead.model_validate(disputed[line.id]) if line.id in disputed else None
                ),
                evidence=found.get(line.sku, []) if evidence else None,
                held_for_age_check=line.sku in held,
            )
            for line in lines
        ],
    )

"""Receipts: the engine's receipt of a visit priced and named from the catalogue; history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from walkout.domain.events import CART_EVENT_ADAPTER, ReceiptIssued
from walkout.domain.truth import Receipt as EngineReceipt
from walkout.domain.truth import ReceiptLine as EngineLine
from walkout.service.agecheck import repository as agecheck_repository
from walkout.service.agecheck import service as agecheck
from walkout.service.billing import repository as payments
from walkout.service.carts import repository as events
from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.disputes import repository as disputes
from walkout.service.disputes.schemas import DisputeRead
from walkout.service.errors import Conflict, DomainError, NotFound
from walkout.service.inventory import service as inventory
from walkout.service.models import (
    CLAIMED_DISPUTES,
    Account,
    Dispute,
    DisputeState,
    Payment,
    PaymentState,
    Receipt,
    ReceiptLine,
    Role,
    Visit,
)
from walkout.service.receipts import repository
from walkout.service.receipts.schemas import (
    EngineLineRead,
    LineCorrection,
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
    lines = engine_lines(catalogue, engine)
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


def engine_lines(catalogue: Catalogue, engine: EngineReceipt) -> list[EngineLine]:
    """The engine's lines of a receipt; without the lines extension, one per product priced
    from the catalogue."""
    if engine.lines is not None:
        return engine.lines
    return [
        EngineLine(sku=sku, qty=qty, price=catalogue.price(sku) or 0, confidence=engine.confidence)
        for sku, qty in sorted(engine.items.items())
        if qty > 0
    ]


class UnknownProduct(DomainError):
    status = 422
    code = "unknown_product"


def correct(
    session: Session, services: Services, receipt: Receipt, corrections: Sequence[LineCorrection]
) -> None:
    """Rewrite a receipt's lines to what a reviewer found (a SKU left out is removed) and its
    total to match; each product's stock moves by the difference, on the plate the visit took
    it from. The engine's lines stay in the cart event log for audit (``audit_lines``).

    Lines staff changed get confidence 1: a person checked them. Runs in the caller's
    transaction, so the rewrite and the stock moves commit with the review, once.
    """
    catalogue = services.catalogue
    current = {line.sku: line for line in repository.lines(session, receipt.id)}
    wanted = {c.sku: c.qty for c in corrections if c.qty > 0}
    unknown = sorted(s for s in wanted if s not in current and catalogue.price(s) is None)
    if unknown:
        raise UnknownProduct(f"not in the store's catalogue: {', '.join(unknown)}")
    plates = _plates(session, receipt)
    for sku in sorted(current.keys() | wanted.keys()):
        line = current.get(sku)
        old, new = (line.qty if line is not None else 0), wanted.get(sku, 0)
        if old == new:
            continue
        inventory.put_back(session, services, sku, old - new, plates)
        if line is None:
            price = catalogue.price(sku)
            assert price is not None
            row = ReceiptLine(
                receipt_id=receipt.id,
                sku=sku,
                name=catalogue.name(sku),
                unit_price=price,
                qty=new,
                confidence=1.0,
            )
            repository.add(session, row)
        elif new == 0:
            repository.delete(session, line)
        else:
            line.qty, line.confidence = new, 1.0
    rewritten = repository.lines(session, receipt.id)
    receipt.total = sum(line.unit_price * line.qty for line in rewritten)
    session.flush()


class NotCaptured(Conflict):
    code = "not_captured"

    def __init__(self) -> None:
        super().__init__(
            "this receipt has not been charged: correct it in its review "
            "(POST /staff/receipts/{id}/approve with lines)"
        )


class CanOnlyLower(Conflict):
    code = "can_only_lower"


class LineDisputed(Conflict):
    code = "line_disputed"


#: The reason on the refund a correction of a charged receipt makes.
CORRECTION_REASON = "Corrected by staff review"


def lower(
    session: Session,
    services: Services,
    receipt: Receipt,
    corrections: Sequence[LineCorrection],
    reviewer: Account,
) -> list[int]:
    """Correct a charged receipt: each line lowered gets a refund of the difference, approved
    by ``reviewer`` (a dispute in state approved, refunded with the disputes' keyed, resumable
    refunds); the stock moves by the difference. The ids of the refunds to run.

    The lines stay as charged, with the refunds on them, as with a shopper's dispute; a
    charged card cannot be charged more, so nothing can be added or raised. A line counts
    as what is left after its refunds: repeating a correction changes nothing, and a line
    already disputed otherwise is refused (decide that dispute instead).
    """
    payment = payments.get_by_visit(session, receipt.visit_id)
    if payment is None or payment.state is not PaymentState.CAPTURED:
        raise NotCaptured()
    lines = {line.sku: line for line in repository.lines(session, receipt.id)}
    wanted = {c.sku: c.qty for c in corrections}
    added = sorted(s for s, qty in wanted.items() if qty > 0 and s not in lines)
    if added:
        raise CanOnlyLower(f"the receipt is charged: {', '.join(added)} cannot be added")
    disputed = {d.receipt_line_id: d for d in disputes.of_receipt(session, receipt.id)}
    plates = _plates(session, receipt)
    now = services.clock()
    refunds = []
    for sku, line in sorted(lines.items()):
        dispute = disputed.get(line.id)
        claimed = dispute.qty if dispute is not None and dispute.state in CLAIMED_DISPUTES else 0
        left, new = line.qty - claimed, wanted.get(sku, 0)
        if new == left:
            continue
        if new > left:
            raise CanOnlyLower(f"the receipt is charged: {sku} cannot go above {left}")
        if dispute is not None:
            raise LineDisputed(f"{sku} is disputed already: decide dispute {dispute.id}")
        inventory.put_back(session, services, sku, left - new, plates)
        refund = Dispute(
            receipt_line_id=line.id,
            receipt_id=receipt.id,
            account_id=receipt.account_id,
            qty=left - new,
            amount=(left - new) * line.unit_price,
            reason=CORRECTION_REASON,
            state=DisputeState.APPROVED,
            decided_by=reviewer.id,
            created_at=now,
            decided_at=now,
        )
        disputes.add(session, refund)
        refunds.append(refund.id)
    if refunds:
        receipt.reviewed_at = now
    session.flush()
    return refunds


def _plates(session: Session, receipt: Receipt) -> list[str]:
    """The plates the visit's cart events came from, in order: where its products go back."""
    found = _evidence(session, receipt.visit_id)
    return [e.evidence.plate for evidence in found.values() for e in evidence]


def audit_lines(session: Session, receipt: Receipt, catalogue: Catalogue) -> list[EngineLineRead]:
    """The receipt's lines as the engine issued them (from the logged ``ReceiptIssued``)."""
    record = repository.issued_event(session, receipt.visit_id, receipt.event_id)
    if record is None:
        return []
    event = CART_EVENT_ADAPTER.validate_python(record.body)
    assert isinstance(event, ReceiptIssued)
    return [
        EngineLineRead(
            sku=line.sku,
            name=catalogue.name(line.sku),
            unit_price=line.price,
            qty=line.qty,
            confidence=line.confidence,
        )
        for line in engine_lines(catalogue, event.receipt)
    ]


def visible(
    session: Session, account: Account, receipt_id: int, *, for_update: bool = False
) -> Receipt:
    """A receipt the account may see: its own, or any for staff and managers (locked when
    ``for_update``)."""
    receipt = repository.get(session, receipt_id, for_update=for_update)
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
    return summaries(session, repository.of_account(session, account_id))


def summaries(session: Session, receipts: Sequence[Receipt]) -> list[ReceiptSummary]:
    """The receipts as listed, their payments and refunds loaded for all of them at once: a
    list of receipts costs as many queries as one."""
    paid = payments.by_visits(session, [r.visit_id for r in receipts])
    refunded = disputes.refunded(session, [r.id for r in receipts])
    return [_summary(r, paid.get(r.visit_id), refunded.get(r.id, 0)) for r in receipts]


def summary(session: Session, receipt: Receipt) -> ReceiptSummary:
    (one,) = summaries(session, [receipt])
    return one


def _summary(receipt: Receipt, payment: Payment | None, refunded: int) -> ReceiptSummary:
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
        event = events.item_event(record)
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
    (one,) = describe_all(session, [receipt], catalogue, evidence=evidence)
    return one


def describe_all(
    session: Session, receipts: Sequence[Receipt], catalogue: Catalogue, *, evidence: bool
) -> list[ReceiptRead]:
    """:func:`describe` of each receipt, lines, disputes, payments and age checks loaded for all
    of them at once (without evidence, a list of receipts costs as many queries as one)."""
    ids = [r.id for r in receipts]
    lines = repository.lines_of(session, ids)
    disputed = disputes.of_receipts(session, ids)
    checking = agecheck_repository.open_of(session, [r.visit_id for r in receipts])
    return [
        _described(
            session,
            receipt,
            head,
            lines.get(receipt.id, []),
            {d.receipt_line_id: d for d in disputed.get(receipt.id, [])},
            receipt.visit_id in checking,
            catalogue,
            evidence,
        )
        for receipt, head in zip(receipts, summaries(session, receipts), strict=True)
    ]


def _described(
    session: Session,
    receipt: Receipt,
    head: ReceiptSummary,
    lines: Sequence[ReceiptLine],
    disputed: dict[int, Dispute],
    check_open: bool,
    catalogue: Catalogue,
    evidence: bool,
) -> ReceiptRead:
    """One receipt's :class:`ReceiptRead`, given its lines, their disputes and whether its
    visit's age check is open; with ``evidence``, its changes' evidence and the engine's own
    lines, for staff."""
    found = _evidence(session, receipt.visit_id) if evidence else {}
    held = agecheck.held_of(catalogue, check_open, (ln.sku for ln in lines))
    return ReceiptRead(
        **head.model_dump(),
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
        engine_lines=audit_lines(session, receipt, catalogue) if evidence else None,
    )

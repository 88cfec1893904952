"""HTTP endpoints of billing: settling an unpaid visit, staff review of held receipts, resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from walkout.service.auth import Manager, Person, StaffMember
from walkout.service.billing import service
from walkout.service.billing.schemas import Resumed, Settle, VisitPayment
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.disputes import service as disputes
from walkout.service.fields import MAX_ID
from walkout.service.receipts import service as receipts
from walkout.service.receipts.schemas import (
    Correction,
    PaymentRead,
    ReceiptRead,
    ReceiptSummary,
    ReviewDecision,
)

router = APIRouter(tags=["billing"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    "/visits/{visit_id}/settle",
    summary="Pay an unpaid visit with one of the account's cards",
    description="Answers with the payment's new state: 'captured' (the visit is paid), or "
    "'declined' again.",
)
def settle(
    visit_id: Id, body: Settle, principal: Person, session: DbSession, services: ServicesDep
) -> VisitPayment:
    payment = service.settle(session, services, principal.account, visit_id, body.card_id)
    return VisitPayment(
        visit_id=visit_id,
        visit_status=service.VISIT_STATUS[payment.state],
        payment=PaymentRead.model_validate(payment),
    )


@router.get("/staff/reviews", summary="Receipts held for review before capture (staff)")
def reviews(_: StaffMember, session: DbSession) -> list[ReceiptSummary]:
    return receipts.summaries(session, service.held_receipts(session))


@router.post(
    "/staff/receipts/{receipt_id}/approve",
    summary="Release a held receipt: capture its total, a corrected amount, or the total of "
    "corrected lines (staff)",
    description="With 'lines', the receipt's lines become the reviewer's (remove a line, "
    "change a quantity, replace a look-alike, add a missed product): its total is captured "
    "(at most what was authorised) and each product's stock moves by the difference, all in "
    "one step that a repeat cannot apply twice (it answers 409 not_held). The engine's lines "
    "stay in 'engine_lines'.",
)
def approve_receipt(
    receipt_id: Id,
    body: ReviewDecision,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> ReceiptRead:
    correcting = body.lines is not None
    receipt = receipts.visible(session, principal.account, receipt_id, for_update=correcting)
    amount = body.amount
    if body.lines is not None:
        receipts.correct(session, services, receipt, body.lines)
        amount = receipt.total
    service.release(session, services, receipt, amount, principal.account)
    return receipts.describe(session, receipt, services.catalogue, evidence=True)


@router.post(
    "/staff/receipts/{receipt_id}/correct",
    summary="Correct a charged receipt: refund what the reviewer found was not taken (staff)",
    description="'lines' are the products as the reviewer found them; each line lowered is "
    "refunded by the difference (shown as a dispute on the line, approved by staff) and its "
    "stock moves back. A charged receipt can only go down (409 can_only_lower); a repeat "
    "changes nothing. A held receipt is corrected in its review instead (409 not_captured).",
)
def correct_receipt(
    receipt_id: Id,
    body: Correction,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> ReceiptRead:
    receipt = receipts.visible(session, principal.account, receipt_id, for_update=True)
    refunds = receipts.lower(session, services, receipt, body.lines, principal.account)
    session.commit()  # no transaction (no lock) while the provider is called
    for dispute_id in refunds:
        disputes.refund(services, dispute_id)
    return receipts.describe(session, receipt, services.catalogue, evidence=True)


@router.post(
    "/staff/payments/resume",
    summary="Move on every payment and refund left behind by an outage (manager)",
)
def resume(_: Manager, services: ServicesDep) -> Resumed:
    return Resumed(payments=service.resume(services), refunds=disputes.resume(services))

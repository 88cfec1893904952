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
    return [receipts.summary(session, r) for r in service.held_receipts(session)]


@router.post(
    "/staff/receipts/{receipt_id}/approve",
    summary="Release a held receipt: capture its total or a corrected amount (staff)",
)
def approve_receipt(
    receipt_id: Id,
    body: ReviewDecision,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> ReceiptRead:
    receipt = receipts.visible(session, principal.account, receipt_id)
    service.release(session, services, receipt, body.amount, principal.account)
    return receipts.describe(session, receipt, services.catalogue, evidence=True)


@router.post(
    "/staff/payments/resume",
    summary="Move on every payment and refund left behind by an outage (manager)",
)
def resume(_: Manager, services: ServicesDep) -> Resumed:
    return Resumed(payments=service.resume(services), refunds=disputes.resume(services))

"""HTTP endpoints of disputes: a shopper disputes a line; staff decide the larger ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from walkout.service.auth import Person, StaffMember
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.disputes import service
from walkout.service.disputes.schemas import DisputeCreate, DisputeDecision, DisputeRead
from walkout.service.fields import MAX_ID
from walkout.service.models import DisputeState

router = APIRouter(tags=["disputes"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    "/receipts/{receipt_id}/disputes",
    status_code=status.HTTP_201_CREATED,
    summary="Dispute a line of one's receipt: refunded at once up to a threshold, else staff "
    "decide",
)
def open_dispute(
    receipt_id: Id,
    body: DisputeCreate,
    principal: Person,
    session: DbSession,
    services: ServicesDep,
) -> DisputeRead:
    dispute = service.open_dispute(
        session, services, principal.account, receipt_id, body.line_id, body.qty, body.reason
    )
    return DisputeRead.model_validate(dispute)


@router.get("/staff/disputes", summary="Disputes in a state, oldest first (staff)")
def list_disputes(
    _: StaffMember, session: DbSession, state: DisputeState = DisputeState.PENDING
) -> list[DisputeRead]:
    return [DisputeRead.model_validate(d) for d in service.in_state(session, state)]


@router.post("/staff/disputes/{dispute_id}/approve", summary="Approve and refund (staff)")
def approve(
    dispute_id: Id,
    body: DisputeDecision,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> DisputeRead:
    dispute = service.decide(session, services, principal.account, dispute_id, True, body.note)
    return DisputeRead.model_validate(dispute)


@router.post("/staff/disputes/{dispute_id}/deny", summary="Deny a dispute (staff)")
def deny(
    dispute_id: Id,
    body: DisputeDecision,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> DisputeRead:
    dispute = service.decide(session, services, principal.account, dispute_id, False, body.note)
    return DisputeRead.model_validate(dispute)

"""HTTP endpoint of age checks: staff confirm or refuse a visit's ID check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from walkout.service.agecheck import service
from walkout.service.agecheck.schemas import AgeCheckDecision, AgeCheckRead
from walkout.service.auth import StaffMember
from walkout.service.billing import repository as billing_repository
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import MAX_ID

router = APIRouter(tags=["age checks"])


@router.post(
    "/staff/visits/{visit_id}/age-check",
    summary="Confirm a shopper's age or refuse the restricted items of a visit (staff)",
)
def decide(
    visit_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AgeCheckDecision,
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> AgeCheckRead:
    check = service.decide(session, services, principal.account, visit_id, body.confirmed)
    payment = billing_repository.get_by_visit(session, visit_id)
    return AgeCheckRead(
        visit_id=check.visit_id,
        state=check.state,
        opened_at=check.opened_at,
        decided_at=check.decided_at,
        payment_state=payment.state if payment is not None else None,
    )

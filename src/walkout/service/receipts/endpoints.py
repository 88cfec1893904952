"""HTTP endpoints of receipts: history and one receipt (with evidence for staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from walkout.service.auth import Person
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import MAX_ID
from walkout.service.models import Role
from walkout.service.receipts import service
from walkout.service.receipts.schemas import ReceiptRead, ReceiptSummary

router = APIRouter(tags=["receipts"])


@router.get("/receipts", summary="The signed-in account's receipts, newest first")
def history(principal: Person, session: DbSession) -> list[ReceiptSummary]:
    return service.history(session, principal.account.id)


@router.get(
    "/receipts/{receipt_id}",
    summary="A receipt's lines, payment and disputes; staff see any receipt and its evidence",
)
def receipt(
    receipt_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Person,
    session: DbSession,
    services: ServicesDep,
) -> ReceiptRead:
    account = principal.account
    found = service.visible(session, account, receipt_id)
    staff = account.role is not Role.SHOPPER
    return service.describe(session, found, services.catalogue, evidence=staff)

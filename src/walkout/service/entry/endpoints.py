"""HTTP endpoints of entry: the app's QR token and the gates' scans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from walkout.service.auth import Device, Person
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.entry import service
from walkout.service.entry.schemas import Admitted, EntryStatus, EntryTokenRead, GateScan
from walkout.service.fields import NO_CONTROL

router = APIRouter(tags=["entry"])

NO_STORE = {"Cache-Control": "no-store"}
GateId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=NO_CONTROL, description="The gate's id.")
]


@router.get("/entry/token", summary="A fresh single-use entry token to show as a QR code")
def entry_token(principal: Person, services: ServicesDep, response: Response) -> EntryTokenRead:
    signed = service.issue(services, principal.account)
    response.headers.update(NO_STORE)
    token = signed.token
    return EntryTokenRead(token=signed.text, issued_at=token.issued_at, expires_at=token.expires_at)


@router.get(
    "/entry/status", summary="Whether the gates would admit the signed-in person now, and why not"
)
def entry_status(principal: Person, session: DbSession, services: ServicesDep) -> EntryStatus:
    refused = service.refusal(session, services, principal.account)
    if refused is None:
        return EntryStatus(allowed=True, code=None, detail=None)
    return EntryStatus(allowed=False, code=refused.code, detail=refused.detail)


@router.get(
    "/entry/qr.svg",
    summary="A fresh entry token drawn as a QR code",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def entry_qr(principal: Person, services: ServicesDep) -> Response:
    signed = service.issue(services, principal.account)
    headers = {**NO_STORE, "X-Entry-Token-Expires-At": signed.token.expires_at.isoformat()}
    return Response(service.qr_svg(signed.text), media_type="image/svg+xml", headers=headers)


@router.post(
    "/gates/{gate}/scan",
    summary="Admit the person showing this token, or refuse with a reason (device)",
    responses={
        403: {
            "description": "Refused: code is forged, expired, replayed, blocked, "
            "revoked, staff_only, no_payment_method or unpaid_visit."
        }
    },
)
def scan(
    gate: GateId,
    body: GateScan,
    _: Device,
    session: DbSession,
    services: ServicesDep,
) -> Admitted:
    entered = service.admit(session, services, gate, body.token)
    visit = entered.visit
    return Admitted(
        visit_id=visit.id,
        account_id=visit.account_id,
        role=visit.role,
        people=visit.people,
        new_visit=entered.new_visit,
    )

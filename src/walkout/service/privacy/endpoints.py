"""HTTP endpoints of privacy: consent to personalisation, data export and account erasure."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from walkout.service.accounts.endpoints import client_of
from walkout.service.auth import Person
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.privacy import service
from walkout.service.privacy.schemas import ConsentRead, ConsentUpdate, ErasureConfirm, ExportRead

router = APIRouter(tags=["privacy"])


@router.get(
    "/me/consent", summary="Whether you let the store personalise suggestions (default off)"
)
def get_consent(principal: Person, session: DbSession) -> ConsentRead:
    return service.consent_read(service.consent(session, principal.account.id))


@router.put("/me/consent", summary="Turn personalisation on or off (each change is logged)")
def put_consent(
    body: ConsentUpdate, principal: Person, session: DbSession, services: ServicesDep
) -> ConsentRead:
    found = service.set_consent(session, services, principal.account.id, body.personalisation)
    return service.consent_read(found)


@router.get(
    "/me/export",
    summary="Download everything the store holds on you, as JSON",
    response_description="A JSON document, sent as a file to save.",
)
def export(
    principal: Person, session: DbSession, services: ServicesDep, response: Response
) -> ExportRead:
    document = service.export(session, services, principal.account)
    day = document.exported_at.date().isoformat()
    name = f"walkout-export-{principal.account.id}-{day}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return document


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase your account: cards, sign-ins, email and password (receipts are kept, "
    "anonymous, for the accounts); refused during a visit or while money or a dispute is open",
    responses={
        403: {"description": "Wrong password (`wrong_password`)."},
        409: {
            "description": "Not now: `visit_open`, `unpaid_visit`, `payment_in_progress`, "
            "`dispute_in_progress`, `order_in_progress` or `last_manager`."
        },
    },
)
def erase(
    body: ErasureConfirm,
    principal: Person,
    request: Request,
    session: DbSession,
    services: ServicesDep,
) -> None:
    service.erase(session, services, principal.account.id, body.password, client_of(request))

"""HTTP endpoints of accounts: sign-up, sign-in, sign-out, me, devices, managers' changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from walkout.service.accounts import service
from walkout.service.accounts.schemas import (
    AccountRead,
    AccountUpdate,
    DeviceCreate,
    DeviceCreated,
    SignIn,
    SignUp,
    TokenRead,
)
from walkout.service.auth import PUBLIC, AnyAccount, Manager, Person
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import MAX_ID
from walkout.service.models import Role

router = APIRouter(tags=["accounts"])


def client_of(request: Request) -> str:
    """The client failed password checks are counted against (its address)."""
    return request.client.host if request.client is not None else "unknown"


@router.post(
    "/auth/sign-up",
    status_code=status.HTTP_201_CREATED,
    dependencies=[PUBLIC],
    summary="Create a shopper account",
)
def sign_up(body: SignUp, session: DbSession, services: ServicesDep) -> AccountRead:
    account = service.create_person(session, services, body.email, body.password, Role.SHOPPER)
    return AccountRead.model_validate(account)


@router.post(
    "/auth/sign-in",
    dependencies=[PUBLIC],
    summary="Get a bearer token (failures are rate-limited per account and per client)",
)
def sign_in(body: SignIn, request: Request, session: DbSession, services: ServicesDep) -> TokenRead:
    issued = service.sign_in(session, services, body.email, body.password, client_of(request))
    return TokenRead(access_token=issued.token, expires_at=issued.expires_at)


@router.post(
    "/auth/sign-out",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this sign-in; with everywhere=true, all of them and every entry token",
)
def sign_out(
    principal: Person, session: DbSession, services: ServicesDep, everywhere: bool = False
) -> None:
    service.sign_out(session, services, principal.account, principal.token, everywhere=everywhere)


@router.get("/me", summary="The signed-in account")
def me(principal: AnyAccount) -> AccountRead:
    return AccountRead.model_validate(principal.account)


@router.post(
    "/devices",
    status_code=status.HTTP_201_CREATED,
    summary="Create a device account (gate, sensor) and its token (manager)",
)
def create_device(
    body: DeviceCreate, _: Manager, session: DbSession, services: ServicesDep
) -> DeviceCreated:
    created = service.create_device(session, services, body.name)
    return DeviceCreated(
        account=AccountRead.model_validate(created.account),
        token=TokenRead(access_token=created.token.token, expires_at=created.token.expires_at),
    )


@router.patch("/accounts/{account_id}", summary="Change a person's role or block them (manager)")
def update_account(
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AccountUpdate,
    principal: Manager,
    session: DbSession,
) -> AccountRead:
    account = service.update_account(session, principal.account, account_id, body)
    return AccountRead.model_validate(account)

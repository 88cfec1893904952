"""Who is calling: bearer-token authentication and the role each endpoint requires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from walkout.service.accounts import repository
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.errors import AccountBlocked, Forbidden, NotAuthenticated
from walkout.service.models import Account, ApiToken, Role

_bearer = HTTPBearer(auto_error=False, description="A sign-in token or a device token.")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the bearer token it used."""

    account: Account
    token: ApiToken


@dataclass(frozen=True)
class RoleGuard:
    """Admits callers whose account has one of ``roles``: 401 without a valid token, else 403."""

    roles: frozenset[Role]

    def __call__(
        self,
        session: DbSession,
        services: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise NotAuthenticated()
        token = repository.get_live_token(
            session, services.bearer.hash(credentials.credentials), services.clock()
        )
        if token is None:
            raise NotAuthenticated("the bearer token is unknown, expired or signed out")
        account = repository.get(session, token.account_id)
        if account is None:
            raise NotAuthenticated("the bearer token's account no longer exists")
        if account.blocked:
            raise AccountBlocked()
        if account.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise Forbidden(f"this endpoint is for: {allowed}")
        return Principal(account, token)


@dataclass(frozen=True)
class PublicAccess:
    """Declares an endpoint open to anyone, signed in or not."""

    def __call__(self) -> None:
        return None


PEOPLE = frozenset({Role.SHOPPER, Role.STAFF, Role.MANAGER})

PUBLIC = Depends(PublicAccess())
AnyAccount = Annotated[Principal, Depends(RoleGuard(frozenset(Role)))]
Person = Annotated[Principal, Depends(RoleGuard(PEOPLE))]
Manager = Annotated[Principal, Depends(RoleGuard(frozenset({Role.MANAGER})))]
StaffMember = Annotated[Principal, Depends(RoleGuard(frozenset({Role.STAFF, Role.MANAGER})))]
Device = Annotated[Principal, Depends(RoleGuard(frozenset({Role.DEVICE})))]

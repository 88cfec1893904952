"""HTTP endpoints of visits."""

from __future__ import annotations

from fastapi import APIRouter

from walkout.service.auth import Person
from walkout.service.deps import DbSession
from walkout.service.visits import service
from walkout.service.visits.schemas import VisitRead

router = APIRouter(tags=["visits"])


@router.get("/visits/current", summary="The signed-in account's open visit (404 when none)")
def current(principal: Person, session: DbSession) -> VisitRead:
    return VisitRead.model_validate(service.current(session, principal.account.id))

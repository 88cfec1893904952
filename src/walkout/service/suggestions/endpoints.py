"""HTTP endpoints of suggestions: favourites to re-order and items bought together."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from walkout.service.auth import Person
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.suggestions import service
from walkout.service.suggestions.schemas import SuggestionsRead

router = APIRouter(tags=["suggestions"])


@router.get(
    "/me/suggestions",
    summary="Your favourites and items you buy together, from your own baskets (needs consent)",
    responses={409: {"description": "Personalisation is off (`consent_required`)."}},
)
def suggestions(
    principal: Person,
    session: DbSession,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many of each.")] = 10,
) -> SuggestionsRead:
    return service.suggest(session, services, principal.account.id, limit)

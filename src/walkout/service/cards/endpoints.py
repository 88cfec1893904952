"""HTTP endpoints of cards: the ledger's card form, add, list and remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from walkout.service.auth import Person
from walkout.service.cards import service
from walkout.service.cards.schemas import CardCreate, CardRead, LedgerCardForm, LedgerToken
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import MAX_ID

router = APIRouter(tags=["cards"])


@router.post(
    "/cards/ledger-token",
    summary="The ledger's card form: tokenise a (test) card for POST /cards (ledger only)",
)
def ledger_token(body: LedgerCardForm, _: Person, services: ServicesDep) -> LedgerToken:
    token = service.ledger_token(services, body.number, body.exp_month, body.exp_year, body.cvc)
    return LedgerToken(token=token)


@router.post(
    "/cards",
    status_code=status.HTTP_201_CREATED,
    summary="Save a card from a provider token; the newest card is the one charged",
    responses={402: {"description": "The card was declined."}},
)
def add_card(
    body: CardCreate, principal: Person, session: DbSession, services: ServicesDep
) -> CardRead:
    card = service.add_card(session, services, principal.account.id, body.token)
    return CardRead.model_validate(card)


@router.get("/cards", summary="The signed-in account's cards, the one charged first")
def list_cards(principal: Person, session: DbSession, services: ServicesDep) -> list[CardRead]:
    found = service.cards(session, services, principal.account.id)
    return [CardRead.model_validate(c) for c in found]


@router.delete(
    "/cards/{card_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a card (not during a visit or while its payment runs)",
)
def remove_card(
    card_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Person,
    session: DbSession,
    services: ServicesDep,
) -> None:
    service.remove_card(session, services, principal.account.id, card_id)

"""Suggestions from a shopper's own baskets, only with their consent (ADR 9).

Nothing is stored: each request reads the shopper's baskets and ranks them (``scoring``), so
turning consent off stops personalisation at once and leaves no profile behind.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.errors import Conflict
from walkout.service.privacy import service as privacy
from walkout.service.suggestions import repository, scoring
from walkout.service.suggestions.schemas import (
    FavouriteRead,
    PairRead,
    ProductRef,
    SuggestionsRead,
)


class ConsentRequired(Conflict):
    code = "consent_required"

    def __init__(self) -> None:
        super().__init__(
            "personalisation is off: turn it on with PUT /me/consent to get suggestions"
        )


def baskets(session: Session, account_id: int, catalogue: Catalogue) -> list[scoring.Basket]:
    """The account's baskets (receipts and collected orders), keeping only the products the
    store sells now."""
    found = []
    own = [
        *repository.receipt_baskets(session, account_id),
        *repository.order_baskets(session, account_id),
    ]
    for basket in own:
        items = {sku: qty for sku, qty in basket.items.items() if sku in catalogue.products}
        if items:
            found.append(scoring.Basket(basket.at, items))
    return found


def _product(catalogue: Catalogue, sku: str) -> ProductRef:
    product = catalogue.products[sku]
    return ProductRef(sku=sku, name=product.name, unit_price=product.price)


def suggest(session: Session, services: Services, account_id: int, limit: int) -> SuggestionsRead:
    """Up to ``limit`` favourites and ``limit`` pairs bought together; 409 without consent."""
    if not privacy.consent(session, account_id).personalisation:
        raise ConsentRequired()
    catalogue = services.catalogue
    found = baskets(session, account_id, catalogue)
    now = services.clock()
    return SuggestionsRead(
        currency=catalogue.currency,
        favourites=[
            FavouriteRead(
                **_product(catalogue, f.sku).model_dump(),
                score=f.score,
                baskets=f.baskets,
                units=f.units,
                last_bought=f.last_bought,
            )
            for f in scoring.favourites(found, now, limit)
        ],
        bought_together=[
            PairRead(
                products=[_product(catalogue, p.first), _product(catalogue, p.second)],
                score=p.score,
                baskets=p.baskets,
            )
            for p in scoring.bought_together(found, now, limit)
        ],
    )

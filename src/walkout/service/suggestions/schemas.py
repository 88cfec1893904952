"""Response bodies of the suggestions endpoint."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ProductRef(BaseModel):
    sku: str
    name: str
    unit_price: int = Field(description="Today's price, in minor units.")


class FavouriteRead(ProductRef):
    score: float = Field(
        description="Baskets holding it, each counting half as much per 30 days of age."
    )
    baskets: int = Field(description="Your baskets (receipts and orders) holding it.")
    units: int = Field(description="Units you took home in all.")
    last_bought: datetime


class PairRead(BaseModel):
    products: list[ProductRef] = Field(min_length=2, max_length=2)
    score: float = Field(description="Baskets holding both, recency weighted like favourites.")
    baskets: int = Field(description="Your baskets holding both (at least 2).")


class SuggestionsRead(BaseModel):
    currency: str
    favourites: list[FavouriteRead] = Field(description="Best first.")
    bought_together: list[PairRead] = Field(description="Best first.")

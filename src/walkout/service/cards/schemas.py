"""Request and response bodies of the cards endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LedgerCardForm(_Request):
    """A card typed into the ledger's card form (demo stores; test numbers)."""

    number: Annotated[str, Field(min_length=12, max_length=32, examples=["4242 4242 4242 4242"])]
    exp_month: Annotated[int, Field(ge=1, le=12)]
    exp_year: Annotated[int, Field(ge=2000, le=2200)]
    cvc: Annotated[str, Field(min_length=3, max_length=4)]


class LedgerToken(BaseModel):
    token: str = Field(description="Give it to POST /cards.")


class CardCreate(_Request):
    token: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            pattern=r"^[A-Za-z0-9_]+$",
            description="A Stripe PaymentMethod id (Stripe Elements) or a ledger card-form token.",
        ),
    ]


class CardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand: str
    last4: str
    added_at: datetime

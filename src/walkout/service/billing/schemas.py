"""Request and response bodies of the billing endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.fields import MAX_ID
from walkout.service.models import VisitStatus
from walkout.service.receipts.schemas import PaymentRead


class Settle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_id: Annotated[int, Field(ge=1, le=MAX_ID, description="One of the account's cards.")]


class VisitPayment(BaseModel):
    visit_id: int
    visit_status: VisitStatus = Field(description="'paid' once settled; 'unpaid' if declined.")
    payment: PaymentRead


class Resumed(BaseModel):
    payments: list[int] = Field(description="Payments that were moved on.")
    refunds: list[int] = Field(description="Disputes whose refund was retried.")

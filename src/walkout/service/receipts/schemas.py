"""Response and request bodies of the receipts endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from walkout.domain.events import Evidence
from walkout.service.disputes.schemas import DisputeRead
from walkout.service.models import PaymentState


class LineEvidence(BaseModel):
    """A cart event behind a receipt line (staff only)."""

    event_id: str
    type: str
    t: float = Field(description="The engine's time of the event (seconds).")
    qty: int
    evidence: Evidence


class ReceiptLineRead(BaseModel):
    id: int
    sku: str
    name: str
    unit_price: int
    qty: int
    amount: int
    confidence: float
    dispute: DisputeRead | None
    evidence: list[LineEvidence] | None = Field(description="Staff only; null for shoppers.")
    held_for_age_check: bool = Field(
        default=False, description="Age-restricted: not captured until staff check the ID."
    )


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    state: PaymentState
    amount: int = Field(description="What is to be captured (after any staff review).")
    captured_amount: int | None
    held: bool = Field(description="Waiting for staff review before capture.")
    error: str | None


class ReceiptSummary(BaseModel):
    id: int
    visit_id: int
    account_id: int
    issued_at: datetime
    currency: str
    total: int
    confidence: float
    flagged: bool = Field(description="The engine was unsure: staff review it before capture.")
    reviewed_at: datetime | None
    payment: PaymentRead | None = Field(description="Null when nothing was owed.")
    refunded: int = Field(description="Refunded through disputes, in minor units.")


class ReceiptRead(ReceiptSummary):
    lines: list[ReceiptLineRead]


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="What to capture (default: the receipt's total; 0 charges nothing).",
    )

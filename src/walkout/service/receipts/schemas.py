"""Response and request bodies of the receipts endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from walkout.domain.events import Evidence
from walkout.service.disputes.schemas import DisputeRead
from walkout.service.fields import Label
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


class EngineLineRead(BaseModel):
    """A line as the engine issued it, kept for audit after staff correct the receipt."""

    sku: str
    name: str
    unit_price: int
    qty: int
    confidence: float


class ReceiptRead(ReceiptSummary):
    lines: list[ReceiptLineRead]
    engine_lines: list[EngineLineRead] | None = Field(
        default=None,
        description="Staff only: the engine's lines as issued (unchanged by corrections).",
    )


#: The most units of one product a reviewer can put on a line.
MAX_LINE_QTY = 999


class LineCorrection(BaseModel):
    """What a reviewer saw taken of one product: its SKU and units (0 removes the line)."""

    model_config = ConfigDict(extra="forbid")

    sku: Label
    qty: Annotated[int, Field(ge=0, le=MAX_LINE_QTY)]


class ReviewDecision(BaseModel):
    """Approve a held receipt as it is, at another amount, or with corrected lines."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="What to capture (default: the receipt's total; 0 charges nothing).",
    )
    lines: Annotated[list[LineCorrection], Field(max_length=200)] | None = Field(
        default=None,
        description="The visit's products as the reviewer found them, replacing the receipt's "
        "lines (a SKU left out is removed); the total, the charge and the stock follow. "
        "Not with 'amount'.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> ReviewDecision:
        if self.amount is not None and self.lines is not None:
            raise ValueError("give either 'amount' or 'lines', not both")
        _once_each(self.lines or ())
        return self


class Correction(BaseModel):
    """A charged receipt's products as a reviewer found them (a SKU left out: none taken)."""

    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[LineCorrection], Field(max_length=200)]

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> Correction:
        _once_each(self.lines)
        return self


def _once_each(lines: Sequence[LineCorrection]) -> None:
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("each SKU may appear once in 'lines'")

"""Request and response bodies of the disputes endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.fields import MAX_ID, NO_CONTROL
from walkout.service.models import DisputeState

Text = Annotated[str, Field(min_length=1, max_length=1000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisputeCreate(_Request):
    line_id: Annotated[int, Field(ge=1, le=MAX_ID, description="The receipt line disputed.")]
    qty: Annotated[int | None, Field(ge=1, description="Units disputed; all when omitted.")] = None
    reason: Annotated[Text, Field(pattern=NO_CONTROL)]


class DisputeDecision(_Request):
    note: Annotated[str, Field(max_length=1000)] | None = None


class DisputeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    receipt_id: int
    receipt_line_id: int
    account_id: int
    qty: int
    amount: int = Field(description="The refund asked for, in minor units.")
    reason: str
    state: DisputeState = Field(
        description="pending (staff decide), approved (refund due), refunded, denied or failed."
    )
    refund_id: str | None
    note: str | None
    created_at: datetime
    decided_at: datetime | None

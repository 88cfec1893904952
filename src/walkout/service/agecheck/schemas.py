"""Request and response bodies of the age-check endpoint."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.models import AgeCheckState, PaymentState


class AgeCheckDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirmed: bool = Field(description="True: ID shows the age; false: the sale is refused.")


class AgeCheckRead(BaseModel):
    visit_id: int
    state: AgeCheckState
    opened_at: datetime
    decided_at: datetime | None
    payment_state: PaymentState | None = Field(
        description="The visit's payment after the decision; null before walk-out."
    )

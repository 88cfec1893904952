"""Request and response bodies of the entry endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.models import VisitRole


class EntryTokenRead(BaseModel):
    token: str = Field(description="Show it as a QR code; it is single-use.")
    issued_at: datetime
    expires_at: datetime = Field(description="Fetch a fresh token before this.")


class EntryStatus(BaseModel):
    """Whether the gates would admit the signed-in person now, and if not, why."""

    allowed: bool
    code: str | None = Field(
        description="Why not: staff_only, no_payment_method or unpaid_visit (as the gate's 403)."
    )
    detail: str | None = Field(description="What to do about it, in words.")


class GateScan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, Field(min_length=1, max_length=4096, description="As scanned.")]


class Admitted(BaseModel):
    """The gate lets one person in, who shops on ``visit_id``."""

    visit_id: int
    account_id: int
    role: VisitRole = Field(description="'staff' for staff and managers (not billed).")
    people: int = Field(description="People in on this visit, this one included.")
    new_visit: bool = Field(description="False when this person joined a group's open visit.")

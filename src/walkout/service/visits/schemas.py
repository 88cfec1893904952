"""Response bodies of the visits endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from walkout.service.models import VisitRole, VisitStatus


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    role: VisitRole
    status: VisitStatus
    entry_gate: str
    people: int
    opened_at: datetime
    closed_at: datetime | None

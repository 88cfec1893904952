"""Request and response bodies of the inventory and staff task endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.models import TaskKind


class StockCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: Annotated[int, Field(ge=0, le=100_000, description="Units counted on the facing.")]
    threshold: Annotated[
        int | None,
        Field(ge=0, le=100_000, description="Restock at or below this; the setting if null."),
    ] = None


class FacingRead(BaseModel):
    plate: str
    sku: str
    name: str
    units: int | None = Field(description="Null until staff count the facing.")
    threshold: int
    status: Literal["unknown", "ok", "low"]


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: TaskKind
    plate: str
    sku: str
    qty: int = Field(description="Misplaced: units put there; restock: units left at opening.")
    visit_id: int | None
    opened_at: datetime
    closed_at: datetime | None

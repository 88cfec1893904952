"""Ground truth (PROTOCOL section 3) and receipts (section 4).

Both are files that other tools write, so unknown keys are ignored rather than refused.
walkout's optional extensions (documented in ``docs/protocol-extensions.md``):

- a truth session's ``staff`` flag (staff shop nothing; their receipt must be empty),
- a handoff event's ``to_person`` (the group member who received the item),
- truth's ``restocks`` (units staff put on shelves), and
- a receipt's ``lines``, ``flagged`` and ``closed_at`` (set by the engine).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Count = Annotated[int, Field(ge=0)]
Items = dict[str, Count]
TruthKind = Literal["pick", "put", "misplace", "handoff"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TruthSession(_Record):
    token: Annotated[str, Field(min_length=1)]
    people: Annotated[int, Field(ge=1)]
    items: Items
    staff: bool = False


class TruthEvent(_Record):
    t: Annotated[float, Field(allow_inf_nan=False)]
    token: str
    person: Annotated[int, Field(ge=0)]
    sku: str
    plate: str
    qty: Annotated[int, Field(ge=1)]
    kind: TruthKind
    to_person: Annotated[int, Field(ge=0)] | None = None


class Restock(_Record):
    t: Annotated[float, Field(allow_inf_nan=False)]
    token: str
    person: Annotated[int, Field(ge=0)]
    sku: str
    plate: str
    qty: Annotated[int, Field(ge=1)]


class Truth(_Record):
    sessions: list[TruthSession]
    events: list[TruthEvent]
    restocks: list[Restock] = Field(default_factory=list)


class ReceiptLine(_Record):
    """Extension: one product line of a receipt with the engine's confidence in it."""

    sku: str
    qty: Annotated[int, Field(ge=1)]
    price: Count
    confidence: Annotated[float, Field(ge=0, le=1)]


class Receipt(_Record):
    token: Annotated[str, Field(min_length=1)]
    items: Items
    total: int
    confidence: Annotated[float, Field(ge=0, le=1)]
    lines: list[ReceiptLine] | None = None
    flagged: bool | None = None
    closed_at: float | None = None


class Receipts(_Record):
    receipts: list[Receipt]

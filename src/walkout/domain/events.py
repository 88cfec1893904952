"""Cart events: the one vocabulary the engine speaks to the rest of walkout.

The engine emits these; replay writes them as evidence, the service turns them into live carts,
receipts and payments, and the web apps show them. Each event has a stable ``id`` (unique within
a stream, deterministic for a given input) so that consumers can apply it exactly once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from walkout.domain.truth import Receipt

Probability = Annotated[float, Field(ge=0, le=1)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    t: float
    visit: str


class Candidate(BaseModel):
    """One hypothesis for what a shelf change was: ``qty`` units of ``sku`` (signed: < 0 taken)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    qty: int
    p: Probability


class WeightTrace(BaseModel):
    """A plate's load around a change, resampled evenly: ``grams[i]`` is the load at
    ``t0 + i * dt`` (stream seconds), tare included. Readings between messages are
    interpolated; a still plate is reported once per message (its mean)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t0: float
    dt: Annotated[float, Field(gt=0)]
    grams: list[float]


class PersonNear(BaseModel):
    """Someone near the plate when its load changed, for a reviewer to weigh the attribution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: str = Field(description="The engine's id for the person (its track).")
    x: float = Field(description="Floor position (metres) in the middle of the change.")
    y: float
    hand_m: float | None = Field(
        description="Closest approach of a hand to the plate's box around the change, in "
        "metres (0: inside it); null when no hand was seen."
    )
    p: Probability | None = Field(
        description="The chance the engine gave this person of having made the change; null "
        "when out of reach (not a candidate)."
    )


class Evidence(BaseModel):
    """Why the engine believes a cart change: the shelf event and who was reaching."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plate: str
    t_start: float
    t_end: float
    delta_g: float
    person: str | None = Field(description="The engine's id for the person it attributed to.")
    person_p: Probability = Field(description="Confidence that this person made the change.")
    party_p: Probability | None = Field(
        default=None,
        description="Extension: confidence that someone on this visit made the change (the "
        "person or a member of their group, on the same bill); the line's confidence uses it. "
        "Null from producers that do not say: the same as ``person_p``.",
    )
    candidates: list[Candidate]
    confidence: Probability = Field(
        description="Confidence in the whole line (product × party: ``party_p``)."
    )
    trace: WeightTrace | None = Field(
        default=None,
        description="Extension: the plate's load around the change; only for a change whose "
        "confidence is below the review threshold (what staff review).",
    )
    people: list[PersonNear] | None = Field(
        default=None,
        description="Extension: who was near the plate, with the attribution's candidates and "
        "their chances; only with ``trace``.",
    )


class VisitOpened(_Event):
    type: Literal["visit_opened"] = "visit_opened"
    token: str
    gate: str


class PersonJoined(_Event):
    """Another person entered on the same token (a group member on the same bill)."""

    type: Literal["person_joined"] = "person_joined"
    token: str
    person: str


class _ItemChange(_Event):
    """``qty`` units of ``sku`` went into (or out of) the visit's cart, and why."""

    token: str
    sku: str
    qty: Annotated[int, Field(ge=1)]
    evidence: Evidence


class ItemAdded(_ItemChange):
    type: Literal["item_added"] = "item_added"


class ItemRemoved(_ItemChange):
    type: Literal["item_removed"] = "item_removed"


class VisitClosed(_Event):
    type: Literal["visit_closed"] = "visit_closed"
    token: str
    gate: str | None


class ReceiptIssued(_Event):
    type: Literal["receipt_issued"] = "receipt_issued"
    receipt: Receipt


CartEvent = Annotated[
    VisitOpened | PersonJoined | ItemAdded | ItemRemoved | VisitClosed | ReceiptIssued,
    Field(discriminator="type"),
]
CART_EVENT_ADAPTER: TypeAdapter[CartEvent] = TypeAdapter(CartEvent)

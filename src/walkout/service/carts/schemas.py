"""Request and response bodies of the cart endpoints, and the live updates pushed to the app."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from walkout.service.models import PaymentState, VisitStatus


class CartLineRead(BaseModel):
    sku: str
    name: str
    unit_price: int | None = Field(description="Minor units; null for a product not in the store.")
    qty: int
    amount: int = Field(description="unit_price × qty (0 when the price is unknown).")
    confidence: float = Field(description="The engine's lowest confidence in this line.")
    held_for_age_check: bool = Field(
        default=False, description="Age-restricted: waits for staff to check the shopper's ID."
    )


class CartRead(BaseModel):
    visit_id: int
    status: VisitStatus
    currency: str
    lines: list[CartLineRead]
    total: int


Outcome = Literal["applied", "duplicate", "unknown_visit", "ignored"]


class EventResult(BaseModel):
    id: str
    outcome: Outcome = Field(
        description="'duplicate': applied before (a no-op); 'unknown_visit': the token is not a "
        "visit of this store; 'ignored': logged but changes nothing (the visit is over)."
    )


class EventsApplied(BaseModel):
    results: list[EventResult]


class CartUpdate(BaseModel):
    """One change of a visit, pushed to the shopper's app (Server-Sent Event ``kind``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["cart", "closed", "receipt", "payment"]
    visit_id: int
    visit_status: VisitStatus
    cart: CartRead | None = Field(default=None, description="The cart after a 'cart' change.")
    receipt_id: int | None = None
    payment_state: PaymentState | None = None

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to the visit (paid, or money owed)."""
        return self.visit_status in (VisitStatus.PAID, VisitStatus.UNPAID)

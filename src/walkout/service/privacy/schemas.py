"""Request and response bodies of the privacy endpoints: consent, export and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from walkout.domain.events import CartEvent
from walkout.service.accounts.schemas import AccountRead
from walkout.service.cards.schemas import CardRead
from walkout.service.models import OrderStatus, PaymentState, PickupMode
from walkout.service.receipts.schemas import ReceiptRead
from walkout.service.visits.schemas import VisitRead


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentUpdate(_Request):
    personalisation: Annotated[
        bool,
        Field(
            strict=True,
            description="Whether the service may use your own visits and orders to suggest "
            "products (favourites, bought together).",
        ),
    ]


class ConsentRead(BaseModel):
    personalisation: bool = Field(description="Off until you turn it on.")
    changed_at: datetime | None = Field(description="When you last changed it; null: never.")


class ConsentChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    personalisation: bool
    at: datetime


class ErasureConfirm(_Request):
    password: Annotated[
        str, Field(max_length=256, description="Your password, to confirm: this is final.")
    ]


class EntryRead(BaseModel):
    """One admission at an entry gate."""

    model_config = ConfigDict(from_attributes=True)

    visit_id: int
    gate: str
    at: datetime


class ExportedEvent(BaseModel):
    """A cart event the engine sent about one of your visits, as the service received it."""

    visit_id: int
    received_at: datetime
    event: CartEvent


class ExportedOrderLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    unit_price: int
    qty: int


class ExportedOrder(BaseModel):
    """An order ahead as the service stores it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    mode: PickupMode
    slot_start: datetime
    slot_end: datetime
    bay: str | None
    vehicle: str | None
    currency: str
    total: int
    restricted: bool
    payment_state: PaymentState
    authorized_amount: int | None
    captured_amount: int | None
    created_at: datetime
    closed_at: datetime | None
    lines: list[ExportedOrderLine] = []


class ExportRead(BaseModel):
    """Everything the store service holds on your account."""

    format: Literal["walkout-export/1"] = "walkout-export/1"
    exported_at: datetime
    account: AccountRead
    consent: ConsentRead
    consent_changes: list[ConsentChangeRead] = Field(description="Oldest first.")
    cards: list[CardRead] = Field(
        description="Brand and last four digits only: the card "
        "numbers are held by the payment provider, never here."
    )
    visits: list[VisitRead] = Field(description="Oldest first.")
    entries: list[EntryRead] = Field(description="Each admission at a gate, oldest first.")
    cart_events: list[ExportedEvent] = Field(description="By visit, as received.")
    receipts: list[ReceiptRead] = Field(
        description="Newest first, with their lines, payment, refunds and disputes."
    )
    orders: list[ExportedOrder] = Field(description="Orders ahead, oldest first.")

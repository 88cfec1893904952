"""Request and response bodies of the catalog, pickup slot and order endpoints.

The shopper and staff web apps build on these names: keep them stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from walkout.service.fields import MAX_ID, NO_CONTROL
from walkout.service.models import OrderStatus, PaymentState, PickupMode

#: A product's SKU as the store file spells it.
Sku = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL)]
#: Most units of one product in an order.
MAX_QTY = 99


class ComponentRead(BaseModel):
    """One product inside a meal kit."""

    sku: str
    name: str
    qty: int = Field(description="Units of this product in one kit.")


class CatalogProduct(BaseModel):
    sku: str
    name: str
    price: int = Field(description="Minor units (cents).")
    currency: str
    restricted: bool = Field(description="Age-restricted: ID is checked at pickup.")
    tags: list[str]
    kit: bool = Field(description="A meal kit: made of `components`, sold at its own price.")
    components: list[ComponentRead]
    available: int = Field(
        description="Units that can be ordered for pickup now (a kit: how many can be made)."
    )


class CatalogPage(BaseModel):
    total: int = Field(description="Products matching the search, on every page.")
    offset: int
    limit: int
    items: list[CatalogProduct]


class SlotRead(BaseModel):
    start: datetime
    end: datetime
    capacity: int
    remaining: int = Field(description="Orders the slot still takes (0: full).")


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    qty: Annotated[int, Field(ge=1, le=MAX_QTY)]


class OrderCreate(BaseModel):
    """An order ahead: what, when (a slot's start from GET /pickup/slots) and how."""

    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=50)]
    slot_start: AwareDatetime = Field(description="The start of a slot from GET /pickup/slots.")
    mode: PickupMode
    bay: Annotated[str, Field(min_length=1, max_length=32, pattern=NO_CONTROL)] | None = Field(
        default=None, description="Curb: the bay the shopper will wait in, if known."
    )
    vehicle: Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL)] | None = Field(
        default=None, description="Curb (required): how staff recognise the car."
    )

    @model_validator(mode="after")
    def _consistent(self) -> OrderCreate:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each product once per order: add up its qty")
        if self.mode is PickupMode.CURB and self.vehicle is None:
            raise ValueError("curb pickup needs a vehicle note (e.g. 'blue estate car, KA-123')")
        if self.mode is PickupMode.DRIVE_THROUGH and (self.bay or self.vehicle):
            raise ValueError("bay and vehicle are for curb pickup only")
        return self


class OrderLineRead(BaseModel):
    sku: str
    name: str
    unit_price: int
    qty: int
    amount: int
    components: list[ComponentRead] = Field(description="A meal kit's contents; else empty.")


class PickRead(BaseModel):
    """Shelf units to pick for the order (meal kits expanded into their components)."""

    sku: str
    name: str
    qty: int


class OrderPaymentRead(BaseModel):
    state: PaymentState = Field(
        description="pending (hold asked for), authorised (held), captured, or canceled "
        "(hold released)."
    )
    authorized_amount: int | None
    captured_amount: int | None
    error: str | None


class OrderRead(BaseModel):
    id: int
    account_id: int
    status: OrderStatus
    mode: PickupMode
    slot_start: datetime
    slot_end: datetime
    bay: str | None
    vehicle: str | None
    currency: str
    total: int
    restricted: bool = Field(description="Holds an age-restricted product: ID is checked.")
    lines: list[OrderLineRead]
    picks: list[PickRead]
    payment: OrderPaymentRead
    cancelable: bool = Field(description="The shopper can still cancel it free of charge.")
    created_at: datetime
    picking_at: datetime | None
    ready_at: datetime | None
    closed_at: datetime | None = Field(description="When collected, canceled or a no-show.")


class PickupCodeRead(BaseModel):
    order_id: int
    code: str = Field(description="Show it (as a QR code) at the pickup window.")


class Handover(BaseModel):
    """What the window scanned, and what staff checked."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=4096, description="As scanned.")]
    order_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None,
        description="The order staff are handing over, when known: a code of another order "
        "is refused.",
    )
    id_checked: bool = Field(
        default=False,
        description="Staff checked the shopper's ID (required for age-restricted products).",
    )


class Swept(BaseModel):
    no_show: list[int] = Field(description="Orders that became no-shows.")
    payments: list[int] = Field(description="Orders whose payment was moved on.")

"""The store service's tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from walkout.service.db import Base, UTCDateTime


class Role(StrEnum):
    """What an account may do; ``device`` accounts are gates and sensors."""

    SHOPPER = "shopper"
    STAFF = "staff"
    MANAGER = "manager"
    DEVICE = "device"


class TokenKind(StrEnum):
    """A bearer token from a sign-in (expires) or one a manager made for a device (does not)."""

    SESSION = "session"
    DEVICE = "device"


class FailureScope(StrEnum):
    """What a counted sign-in failure is keyed on."""

    ACCOUNT = "account"
    CLIENT = "client"


class VisitRole(StrEnum):
    """Whether a visit is shopping (billed) or staff at work (not billed)."""

    SHOPPER = "shopper"
    STAFF = "staff"


class VisitStatus(StrEnum):
    """``open`` while in the store; ``closed`` once out while its payment runs or awaits review;
    then ``paid``, or ``unpaid`` while money is owed (declined: the gate refuses entry)."""

    OPEN = "open"
    CLOSED = "closed"
    UNPAID = "unpaid"
    PAID = "paid"


class PaymentState(StrEnum):
    """A visit's payment: pending → authorised → captured | canceled, or declined | failed."""

    PENDING = "pending"
    AUTHORISED = "authorised"
    CAPTURED = "captured"
    CANCELED = "canceled"
    DECLINED = "declined"
    FAILED = "failed"


class DisputeState(StrEnum):
    """A disputed receipt line: awaiting staff (``pending``), refund due, refunded or denied."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUNDED = "refunded"
    DENIED = "denied"
    FAILED = "failed"


#: Dispute states whose units and amount no longer count as charged (refunded, or on the way).
CLAIMED_DISPUTES = (DisputeState.PENDING, DisputeState.APPROVED, DisputeState.REFUNDED)


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Account(Base):
    """A person (email + password) or a device (name only)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    blocked: Mapped[bool] = mapped_column(default=False)
    #: Set by the payments module when the account has a usable payment method on file.
    has_payment_method: Mapped[bool] = mapped_column(default=False)
    #: Entry tokens issued at or before this instant are refused as revoked.
    entry_tokens_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token, stored as its keyed hash only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TokenKind] = mapped_column(_enum(TokenKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """One failed sign-in, counted against its account's email and against its client."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[FailureScope] = mapped_column(_enum(FailureScope))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Visit(Base):
    """One account's time in the store, from its first admission to its exit."""

    __tablename__ = "visits"
    __table_args__ = (
        # At most one open visit per account, on both databases.
        Index(
            "uq_visits_open_account",
            "account_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_visits_account_id_status", "account_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[VisitRole] = mapped_column(_enum(VisitRole))
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus))
    entry_gate: Mapped[str] = mapped_column(String(128))
    people: Mapped[int]
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Admission(Base):
    """An entry token consumed at a gate: makes each token single-use and logs who came in."""

    __tablename__ = "admissions"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    gate: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentCustomer(Base):
    """An account's customer record at a payment provider."""

    __tablename__ = "payment_customers"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255))


class Card(Base):
    """A saved card: the provider's payment method id, brand and last four digits only."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    method_id: Mapped[str] = mapped_column(String(255), unique=True)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CartEventRecord(Base):
    """A cart event the engine sent for a visit, as received: makes events apply once."""

    __tablename__ = "cart_events"
    __table_args__ = (
        UniqueConstraint("visit_id", "event_id", name="uq_cart_events_visit_id_event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CartLine(Base):
    """One product in a visit's live cart."""

    __tablename__ = "cart_lines"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(128), primary_key=True)
    qty: Mapped[int]
    confidence: Mapped[float]


class Receipt(Base):
    """The engine's receipt of a closed visit, priced from the store catalogue."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int]
    confidence: Mapped[float]
    #: The engine was unsure (or its total disagreed with its lines): staff review first.
    flagged: Mapped[bool]
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReceiptLine(Base):
    """One product line of a receipt."""

    __tablename__ = "receipt_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    unit_price: Mapped[int]
    qty: Mapped[int]
    confidence: Mapped[float]


class Payment(Base):
    """The payment of one visit and where its state machine stands (see ``PaymentState``)."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[PaymentState] = mapped_column(_enum(PaymentState))
    #: 1, then one more each time the shopper settles with another card (new idempotency keys).
    attempt: Mapped[int]
    #: What to capture, in the currency's minor unit.
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    #: Held for staff review: authorised, not captured until reviewed.
    held: Mapped[bool]
    provider: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    method_id: Mapped[str | None] = mapped_column(String(255))
    authorization_id: Mapped[str | None] = mapped_column(String(255))
    authorized_amount: Mapped[int | None]
    captured_amount: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Dispute(Base):
    """A shopper's dispute of a receipt line and its refund."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_line_id: Mapped[int] = mapped_column(
        ForeignKey("receipt_lines.id", ondelete="CASCADE"), unique=True
    )
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    qty: Mapped[int]
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(1000))
    state: Mapped[DisputeState] = mapped_column(_enum(DisputeState))
    refund_id: Mapped[str | None] = mapped_column(String(255))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaskKind(StrEnum):
    """A staff task: refill a facing running low, return an item put back on a foreign plate, or
    check a shopper's ID for an age-restricted product."""

    RESTOCK = "restock"
    MISPLACED = "misplaced"
    AGE_CHECK = "age_check"


class Stock(Base):
    """Units on one facing (a plate and a product it holds); unknown until staff count it."""

    __tablename__ = "stock"

    plate: Mapped[str] = mapped_column(String(128), primary_key=True)
    sku: Mapped[str] = mapped_column(String(128), primary_key=True)
    units: Mapped[int | None]
    #: Overrides the ``restock_threshold`` setting for this facing.
    threshold: Mapped[int | None]
    #: The cart event that last moved the count (null after a count or a task).
    last_event_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffTask(Base):
    """Work for staff on the shop floor; ``closed_at`` is null while it is open."""

    __tablename__ = "staff_tasks"
    __table_args__ = (
        # At most one open restock task per facing, on both databases.
        Index(
            "uq_staff_tasks_open_restock",
            "plate",
            "sku",
            unique=True,
            sqlite_where=text("kind = 'restock' AND closed_at IS NULL"),
            postgresql_where=text("kind = 'restock' AND closed_at IS NULL"),
        ),
        Index("ix_staff_tasks_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind))
    plate: Mapped[str] = mapped_column(String(128))
    sku: Mapped[str] = mapped_column(String(128))
    #: Misplaced: the units put on the wrong plate; restock: the units left when it opened.
    qty: Mapped[int]
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    event_id: Mapped[str | None] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class AgeCheckState(StrEnum):
    """A visit's ID check: ``open`` until staff confirm the shopper's age or refuse the sale."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class AgeCheck(Base):
    """The ID check of a visit that picked an age-restricted product (one per visit)."""

    __tablename__ = "age_checks"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("staff_tasks.id", ondelete="SET NULL"))
    state: Mapped[AgeCheckState] = mapped_column(_enum(AgeCheckState))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


# privacy: personalisation consent and account erasure (ADR 9)


class ConsentChange(Base):
    """A shopper turned personalisation on or off: the log is the proof of consent, and its
    newest row per account is the consent in force (none: off)."""

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    personalisation: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Erasure(Base):
    """The tombstone of an account whose person asked to be forgotten: its email, password,
    cards and sign-ins are gone; its visits, receipts and payments stay for the accounts."""

    __tablename__ = "erasures"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


#: Store analytics select visits by when they opened.
Index("ix_visits_opened_at", Visit.opened_at)


# orders: meal kits and order ahead for pickup (ADR 8)


class OrderStatus(StrEnum):
    """An order ahead: ``authorising`` while its card hold is asked for (stock and slot already
    reserved), ``placed``, ``picking``, ``ready``, ``handing_over`` while the window captures
    the payment, then ``collected``; or ``canceled`` / ``no_show``."""

    AUTHORISING = "authorising"
    PLACED = "placed"
    PICKING = "picking"
    READY = "ready"
    HANDING_OVER = "handing_over"
    COLLECTED = "collected"
    CANCELED = "canceled"
    NO_SHOW = "no_show"


class PickupMode(StrEnum):
    """Where the shopper collects: the drive-through window or a curbside bay."""

    DRIVE_THROUGH = "drive_through"
    CURB = "curb"


class Order(Base):
    """An order ahead for pickup, its slot, and the card hold that pays for it."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "idempotency_key", name="uq_orders_account_id_idempotency_key"
        ),
        Index("ix_orders_status_slot_start", "status", "slot_start"),
        Index("ix_orders_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus))
    mode: Mapped[PickupMode] = mapped_column(_enum(PickupMode))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime())
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Curb pickup: the bay the shopper will wait in, and how to recognise the car.
    bay: Mapped[str | None] = mapped_column(String(32))
    vehicle: Mapped[str | None] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int]
    #: Holds an age-restricted product: the window must check ID at handover.
    restricted: Mapped[bool]
    #: The client's Idempotency-Key and a digest of its request: a retried POST gets this order.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    #: The random id in the order's signed pickup code.
    code_id: Mapped[str] = mapped_column(String(32))
    payment_state: Mapped[PaymentState] = mapped_column(_enum(PaymentState))
    provider: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(255))
    method_id: Mapped[str] = mapped_column(String(255))
    authorization_id: Mapped[str | None] = mapped_column(String(255))
    authorized_amount: Mapped[int | None]
    captured_amount: Mapped[int | None]
    payment_error: Mapped[str | None] = mapped_column(String(512))
    id_checked_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    handed_over_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    picking_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderLine(Base):
    """One product of an order, priced and named as it was when ordered."""

    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    unit_price: Mapped[int]
    qty: Mapped[int]


class OrderStock(Base):
    """Units of one shelf product an order takes (a kit's components, expanded when ordered):
    reserved while the order is open, taken off the facings when it is collected."""

    __tablename__ = "order_stock"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    qty: Mapped[int]


# floor: the anonymous dwell heatmap (ADR 12)


class FloorDwell(Base):
    """Person-seconds spent in one cell of the floor grid during one hour: no person, track or
    visit is stored, so the heatmap cannot be traced back to anyone."""

    __tablename__ = "floor_dwell"

    #: The start of the hour (UTC).
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    #: The cell ``floor(x / cell size)``, ``floor(y / cell size)`` (store coordinates).
    cell_x: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cell_y: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seconds: Mapped[float]

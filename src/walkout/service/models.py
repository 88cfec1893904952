"""The store service's tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, String, text
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
    """``open`` while in the store; then ``paid``, or ``unpaid`` while its payment is owed."""

    OPEN = "open"
    UNPAID = "unpaid"
    PAID = "paid"


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

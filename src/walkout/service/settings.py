"""The store service's settings, read from ``WALKOUT_*`` environment variables."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from walkout.adapters.eventlog import nats_servers


class AccessPolicy(StrEnum):
    """Who the entry gates admit."""

    PUBLIC = "public"
    STAFF_ONLY = "staff_only"


class CartBusKind(StrEnum):
    """How live cart updates reach the shoppers' streams."""

    LOCAL = "local"
    NATS = "nats"


class ProviderName(StrEnum):
    """Which payment provider charges the shoppers."""

    LEDGER = "ledger"
    STRIPE = "stripe"


def default_store_file() -> Path:
    """``examples/stores/corner.json`` of the repository this package lives in."""
    return Path(__file__).resolve().parents[3] / "examples" / "stores" / "corner.json"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/walkout``, or ``~/.local/share/walkout``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "walkout"


def _seconds(value: object) -> object:
    """Environment values are strings: read a plain number as seconds."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return float(value)
    return value


def _zone(name: str) -> str:
    """An IANA time zone name the system knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r}") from e
    return name


def _nats_url(value: str | None) -> str | None:
    """A nats:// (or tls://) URL."""
    return None if value is None else nats_servers(value)


#: A duration: seconds (``30``), ``HH:MM:SS`` or ISO 8601 (``PT30S``).
Duration = Annotated[timedelta, BeforeValidator(_seconds)]


class Settings(BaseSettings):
    """Configuration of one store service; every field can be set as ``WALKOUT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="WALKOUT_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the default SQLite database and the generated secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database (sqlite:/// or postgresql+psycopg://); "
        "unset means the SQLite file walkout.db in data_dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key that signs entry tokens and hashes bearer tokens; when unset, one is "
        "generated on first run and kept in data_dir/secret_key.",
    )
    entry_token_ttl: Duration = Field(
        default=timedelta(seconds=30),
        gt=timedelta(0),
        le=timedelta(minutes=10),
        description="How long an entry QR token is valid (seconds, or ISO 8601); the app "
        "fetches a fresh one sooner.",
    )
    access_policy: AccessPolicy = Field(
        default=AccessPolicy.PUBLIC,
        description="'public' admits every shopper; 'staff_only' admits staff and managers only.",
    )
    session_ttl: Duration = Field(
        default=timedelta(days=30),
        gt=timedelta(0),
        description="How long a sign-in's bearer token is valid.",
    )
    sign_in_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins per account, and per client, allowed within "
        "sign_in_window; more are refused with 429.",
    )
    sign_in_window: Duration = Field(
        default=timedelta(minutes=5),
        gt=timedelta(0),
        description="The sliding window over which failed sign-ins are counted.",
    )
    argon2_time_cost: int = Field(
        default=3, ge=1, description="Argon2id passes (RFC 9106 low-memory profile: 3)."
    )
    argon2_memory_kib: int = Field(
        default=65536,
        ge=8,
        description="Argon2id memory in KiB (RFC 9106 low-memory profile: 65536).",
    )

    store_file: Path = Field(
        default_factory=default_store_file,
        description="The store file whose catalogue names and prices receipts and carts "
        "(default: the repository's examples/stores/corner.json).",
    )
    payment_provider: ProviderName = Field(
        default=ProviderName.LEDGER,
        description="'ledger' (built-in, moves no money) or 'stripe' (needs stripe_api_key).",
    )
    stripe_api_key: SecretStr | None = Field(
        default=None, description="Stripe secret key, for payment_provider=stripe."
    )
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        description="Base URL of the Stripe API (an emulator's in tests).",
    )
    stripe_automatic_payment_methods: bool = Field(
        default=True,
        description="Send automatic_payment_methods on PaymentIntents; off for emulators that "
        "predate it (localstripe).",
    )
    payment_attempts: int = Field(
        default=4,
        ge=1,
        le=10,
        description="Tries of each payment call on a transient failure, same idempotency key.",
    )
    payment_retry_base: Duration = Field(
        default=timedelta(seconds=0.25),
        ge=timedelta(0),
        description="Backoff before the first retry of a payment call; doubles each retry.",
    )
    dispute_auto_refund_max: int = Field(
        default=500,
        ge=0,
        description="Disputed lines up to this amount (minor units) are refunded at once; "
        "larger ones wait for staff.",
    )
    restock_threshold: int = Field(
        default=2,
        ge=0,
        description="Units on a facing at or below which a restock task opens (a facing may "
        "override it).",
    )
    stream_heartbeat: Duration = Field(
        default=timedelta(seconds=15),
        gt=timedelta(0),
        description="Idle time after which the live cart stream sends a keep-alive comment.",
    )
    event_log: Annotated[str | None, AfterValidator(_nats_url)] = Field(
        default=None,
        description="URL of the NATS JetStream event log (nats://host:4222) whose cart events "
        "the service applies as the durable consumer event_log_consumer; unset: cart events "
        "arrive by POST /events only.",
    )
    event_log_consumer: str = Field(
        default="store-service",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Durable consumer name of the service on the event log: its position is "
        "kept by the log, so a restarted service resumes after the last applied batch.",
    )
    event_log_batch: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Most cart events applied in one transaction from the event log.",
    )
    cart_bus: CartBusKind = Field(
        default=CartBusKind.LOCAL,
        description="'local' pushes live cart updates to this process's streams only; 'nats' "
        "fans them out through NATS (cart_bus_url) to every service process.",
    )
    cart_bus_url: Annotated[str, AfterValidator(_nats_url)] = Field(
        default="nats://127.0.0.1:4222", description="NATS server of cart_bus=nats."
    )
    analytics_min_visits: int = Field(
        default=5,
        ge=1,
        description="Store analytics show a figure only when at least this many shopper visits "
        "make it up (k-anonymity); smaller windows, hours, bins and products are suppressed.",
    )

    store_timezone: Annotated[str, AfterValidator(_zone)] = Field(
        default="UTC",
        description="The store's IANA time zone (e.g. Europe/Berlin): pickup opening hours are "
        "local times in it.",
    )
    pickup_opens: time = Field(
        default=time(8, 0), description="Local time the first pickup slot of a day starts."
    )
    pickup_closes: time = Field(
        default=time(20, 0), description="Local time by which the last pickup slot of a day ends."
    )
    pickup_slot_minutes: int = Field(
        default=15, ge=5, le=240, description="Length of a pickup slot in minutes."
    )
    pickup_slot_capacity: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Orders per pickup slot, drive-through and curb together (what the pickers "
        "can prepare).",
    )
    pickup_lead_time: Duration = Field(
        default=timedelta(minutes=30),
        ge=timedelta(0),
        description="The earliest slot that can be booked starts at least this long from now.",
    )
    pickup_days_ahead: int = Field(
        default=6,
        ge=1,
        le=7,
        description="How many days ahead slots can be booked (card holds last about 7 days).",
    )
    pickup_grace: Duration = Field(
        default=timedelta(minutes=30),
        ge=timedelta(0),
        description="An order not collected this long after its slot ends is a no-show.",
    )
    pickup_sweep_period: Duration = Field(
        default=timedelta(seconds=60),
        gt=timedelta(0),
        le=timedelta(hours=1),
        description="How often the running service marks overdue orders as no-shows (and "
        "moves on their payments).",
    )
    pickup_no_show_fee: int = Field(
        default=0,
        ge=0,
        description="Minor units captured from a no-show's hold (at most its total); 0 releases "
        "the hold.",
    )
    pickup_uncounted_units: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="Units a facing that staff never counted offers for order ahead; 0 means "
        "only counted stock can be ordered.",
    )

    @model_validator(mode="after")
    def _pickup_hours(self) -> Settings:
        if self.pickup_closes <= self.pickup_opens:
            raise ValueError("pickup_closes must be after pickup_opens")
        return self

    @model_validator(mode="after")
    def _stripe_needs_key(self) -> Settings:
        if self.payment_provider is ProviderName.STRIPE and self.stripe_api_key is None:
            raise ValueError("payment_provider=stripe needs stripe_api_key")
        return self

    @property
    def db_url(self) -> str:
        """The database URL in effect."""
        return self.database_url or f"sqlite:///{self.data_dir / 'walkout.db'}"


def ensure_secret_key(settings: Settings) -> bytes:
    """The signing key: the configured one, else data_dir/secret_key, created on first use."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=settings.data_dir, prefix=".secret_key.")
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(tmp, path)
        os.unlink(tmp)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"{path} holds a key shorter than 32 characters")
    return key.encode()

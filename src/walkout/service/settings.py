"""The store service's settings, read from ``WALKOUT_*`` environment variables."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccessPolicy(StrEnum):
    """Who the entry gates admit."""

    PUBLIC = "public"
    STAFF_ONLY = "staff_only"


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

"""Secrets at rest: argon2id password hashes and keyed hashes of bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from walkout.service.settings import Settings

#: Prefix of each kind of bearer token, so a leaked token is recognisable (secret scanners).
SESSION_TOKEN_PREFIX = "wo_s_"
DEVICE_TOKEN_PREFIX = "wo_d_"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A separate key for each use of the service's secret."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Passwords:
    """argon2id hashing with the configured cost."""

    hasher: PasswordHasher

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(
            PasswordHasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=1,
            )
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; a missing hash still costs one hash (no timing leak)."""
        if password_hash is None:
            self.hasher.hash(password)
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        return self.hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class BearerTokens:
    """Opaque bearer tokens; the database keeps only their HMAC."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> BearerTokens:
        return cls(derive_key(secret, "walkout bearer token hash"))

    @staticmethod
    def new(prefix: str) -> str:
        return prefix + secrets.token_urlsafe(32)

    def hash(self, token: str) -> str:
        return hmac.new(self.key, token.encode(), hashlib.sha256).hexdigest()

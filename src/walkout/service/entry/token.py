"""Entry QR tokens: short-lived, HMAC-signed, carrying who may enter.

A token is ``wo1.<payload>.<mac>``, both parts unpadded base64url. The payload is 40 bytes:
account id, issued-at and expiry (milliseconds since the epoch), each a big-endian uint64, then
the 16-byte random token id. The MAC is HMAC-SHA256 over ``wo1.<payload>`` with a key derived
from the service's secret. Parsing accepts only the exact bytes ``sign`` produces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from walkout.service.security import derive_key

PREFIX = "wo1."
_PAYLOAD = struct.Struct(">QQQ16s")
_MAC_BYTES = hashlib.sha256().digest_size
_SHAPE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")


class ForgedToken(ValueError):
    """Not a token this service signed (garbage, tampered with, or signed with another key)."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    """Strict unpadded base64url: the text must be the canonical encoding of what it decodes to."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise ForgedToken("not base64url") from e
    if _b64encode(raw) != text:
        raise ForgedToken("not canonical base64url")
    return raw


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _millis(at: datetime) -> int:
    return (at - _EPOCH) // _MS


def _from_millis(ms: int) -> datetime:
    return _EPOCH + ms * _MS


@dataclass(frozen=True)
class EntryToken:
    """What an entry token says: whose it is, its id, and when it was issued and expires."""

    account_id: int
    token_id: str  # 32 hex digits
    issued_at: datetime
    expires_at: datetime

    @classmethod
    def issue(cls, account_id: int, now: datetime, ttl: timedelta) -> EntryToken:
        """A fresh token for ``account_id`` with a random id (times kept to the millisecond)."""
        issued = _from_millis(_millis(now))
        return cls(account_id, secrets.token_hex(16), issued, issued + ttl)


@dataclass(frozen=True)
class Sealer:
    """Signs and opens ``<prefix><payload>.<mac>`` texts: the payload and an HMAC-SHA256 over
    ``<prefix><payload>``, both unpadded base64url. Entry tokens and pickup codes use it, each
    with its own prefix and a key of its own derived from the secret."""

    key: bytes
    prefix: str

    def _mac(self, signed_part: str) -> bytes:
        return hmac.new(self.key, signed_part.encode(), hashlib.sha256).digest()

    def seal(self, payload: bytes) -> str:
        signed_part = self.prefix + _b64encode(payload)
        return f"{signed_part}.{_b64encode(self._mac(signed_part))}"

    def open(self, text: str) -> bytes:
        """The payload of ``text``; raises ForgedToken unless it is exactly one we sealed."""
        if not text.startswith(self.prefix):
            raise ForgedToken("wrong kind of code")
        shape = _SHAPE.fullmatch(text[len(self.prefix) :])
        if shape is None:
            raise ForgedToken("malformed")
        payload, mac = _b64decode(shape[1]), _b64decode(shape[2])
        expected = self._mac(self.prefix + shape[1])
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise ForgedToken("bad signature")
        return payload


@dataclass(frozen=True)
class EntryTokenSigner:
    """Signs and verifies entry tokens with one key."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> EntryTokenSigner:
        return cls(derive_key(secret, "walkout entry token"))

    @property
    def _sealer(self) -> Sealer:
        return Sealer(self.key, PREFIX)

    def sign(self, token: EntryToken) -> str:
        payload = _PAYLOAD.pack(
            token.account_id,
            _millis(token.issued_at),
            _millis(token.expires_at),
            bytes.fromhex(token.token_id),
        )
        return self._sealer.seal(payload)

    def parse(self, text: str) -> EntryToken:
        """The token ``text`` carries; raises ForgedToken unless it is exactly one we signed."""
        payload = self._sealer.open(text)
        if len(payload) != _PAYLOAD.size:
            raise ForgedToken("bad payload")
        account_id, issued_ms, expires_ms, token_id = _PAYLOAD.unpack(payload)
        return EntryToken(
            account_id, token_id.hex(), _from_millis(issued_ms), _from_millis(expires_ms)
        )

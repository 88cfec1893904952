"""Pickup codes: the signed text a shopper shows (as a QR code) at the pickup window.

A code is ``wop1.<payload>.<mac>``, sealed like an entry token (``entry.token.Sealer``) with a
key of its own. The payload is 24 bytes: the order id (big-endian uint64) and the order's
random 16-byte code id. A code has no expiry: the order's status decides whether it is
honoured (ready: yes; collected: replayed), and its code id ties it to that one order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from walkout.service.entry.token import ForgedToken, Sealer
from walkout.service.security import derive_key

PREFIX = "wop1."
_PAYLOAD = struct.Struct(">Q16s")


@dataclass(frozen=True)
class PickupCode:
    """What a pickup code says: which order, and the code id that order was given."""

    order_id: int
    code_id: str  # 32 hex digits


@dataclass(frozen=True)
class PickupCodeSigner:
    """Signs and verifies pickup codes with one key."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> PickupCodeSigner:
        return cls(derive_key(secret, "walkout pickup code"))

    @property
    def _sealer(self) -> Sealer:
        return Sealer(self.key, PREFIX)

    def sign(self, code: PickupCode) -> str:
        return self._sealer.seal(_PAYLOAD.pack(code.order_id, bytes.fromhex(code.code_id)))

    def parse(self, text: str) -> PickupCode:
        """The code ``text`` carries; raises ForgedToken unless it is exactly one we signed."""
        payload = self._sealer.open(text)
        if len(payload) != _PAYLOAD.size:
            raise ForgedToken("bad payload")
        order_id, code_id = _PAYLOAD.unpack(payload)
        return PickupCode(order_id, code_id.hex())

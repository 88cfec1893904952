"""Retries for transient payment failures: exponential backoff with jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from walkout.payments.provider import PaymentRetryableError

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): min(cap_s, base_s * factor**(n-1)), scaled by jitter.

    With `jitter` j the delay is drawn uniformly from [(1 - j) * d, d], so that many clients
    failing together do not retry in lockstep.
    """

    base_s: float = 0.25
    factor: float = 2.0
    cap_s: float = 8.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.factor < 1 or self.cap_s < 0 or not 0 <= self.jitter <= 1:
            raise ValueError(f"invalid backoff {self}")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before the `retry`-th retry."""
        d = min(self.cap_s, self.base_s * self.factor ** (retry - 1))
        return d * (1.0 - self.jitter * rng.random())


def with_retries(
    fn: Callable[[], T],
    attempts: int,
    backoff: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call `fn` up to `attempts` times, sleeping between tries; retry only on
    `PaymentRetryableError` and re-raise the last one when all attempts fail.

    `fn` takes no arguments: bind the idempotency key once, outside, so that every attempt
    sends the same key and the provider acts at most once. `rng` defaults to a fresh
    `random.Random()`; pass a seeded one for reproducible delays.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    rng = rng if rng is not None else random.Random()
    for retry in range(1, attempts):
        try:
            return fn()
        except PaymentRetryableError:
            sleep(backoff.delay(retry, rng))
    return fn()

"""Idempotency on our side: a repeated key returns the first outcome instead of acting twice."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from walkout.payments.provider import IdempotencyConflict, PaymentError

T = TypeVar("T")


@dataclass(frozen=True)
class _Outcome:
    request: str
    value: object
    error: PaymentError | None


class IdempotencyRecord:
    """Thread-safe in-memory record of outcomes by idempotency key.

    `run(key, request, fn)` calls `fn` once per key: a later call with the same key and the
    same request description returns the stored value or raises a copy of the stored final
    error (`PaymentError` and subclasses); a different request raises `IdempotencyConflict`.
    Any other exception (notably `PaymentRetryableError`) is not stored, so a retry with the
    same key runs `fn` again. Calls with the same key are serialised; other keys run in parallel.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._outcomes: dict[str, _Outcome] = {}

    def run(self, key: str, request: str, fn: Callable[[], T]) -> T:
        """Run `fn` for `key` at most once to a final outcome; see the class docstring."""
        if not key:
            raise ValueError("an idempotency key must not be empty")
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            outcome = self._outcomes.get(key)
            if outcome is None:
                try:
                    value = fn()
                except PaymentError as error:
                    outcome = _Outcome(request, None, error)
                    self._outcomes[key] = outcome
                    raise
                self._outcomes[key] = _Outcome(request, value, None)
                return value
        if outcome.request != request:
            raise IdempotencyConflict(
                f"idempotency key {key!r} was first used for {outcome.request}, not {request}"
            )
        if outcome.error is not None:
            raise copy.copy(outcome.error)
        return cast(T, outcome.value)


def describe(operation: str, *args: object) -> str:
    """A canonical description of a request, compared when a key is reused."""
    return f"{operation}{args!r}"

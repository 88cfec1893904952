"""with_retries, Backoff and the IdempotencyRecord."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkout.payments import (
    Backoff,
    CardDeclined,
    IdempotencyConflict,
    PaymentError,
    PaymentRetryableError,
    with_retries,
)
from walkout.payments.idempotency import IdempotencyRecord, describe


class Flaky:
    """Fails retryably `failures` times, then returns how many calls it took."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise PaymentRetryableError("try again")
        return self.calls


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    sleeps: list[float] = []
    flaky = Flaky(5)
    backoff = Backoff(base_s=0.1, factor=2.0, cap_s=0.5, jitter=0.0)
    assert with_retries(flaky, 6, backoff, sleep=sleeps.append) == 6
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_jitter_is_reproducible_with_a_seed() -> None:
    def delays(seed: int) -> list[float]:
        sleeps: list[float] = []
        with_retries(Flaky(4), 5, Backoff(), sleep=sleeps.append, rng=random.Random(seed))
        return sleeps

    assert delays(7) == delays(7)
    assert delays(7) != delays(8)


@given(
    base=st.floats(0, 10),
    factor=st.floats(1, 4),
    cap=st.floats(0, 60),
    jitter=st.floats(0, 1),
    retry=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_a_delay_stays_within_its_jitter_band(
    base: float, factor: float, cap: float, jitter: float, retry: int, seed: int
) -> None:
    full = min(cap, base * factor ** (retry - 1))
    delay = Backoff(base, factor, cap, jitter).delay(retry, random.Random(seed))
    assert (1 - jitter) * full - 1e-9 <= delay <= full + 1e-9


def test_gives_up_after_the_last_attempt() -> None:
    sleeps: list[float] = []
    flaky = Flaky(3)
    with pytest.raises(PaymentRetryableError):
        with_retries(flaky, 3, Backoff(), sleep=sleeps.append)
    assert (flaky.calls, len(sleeps)) == (3, 2)


@pytest.mark.parametrize(
    "error", [PaymentError("no"), CardDeclined("card_declined"), ValueError("bug")]
)
def test_final_errors_are_not_retried(error: Exception) -> None:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        with_retries(fail, 5, Backoff(), sleep=lambda _: pytest.fail("slept"))
    assert calls == [1]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="attempts"):
        with_retries(Flaky(0), 0, Backoff())
    with pytest.raises(ValueError, match="backoff"):
        Backoff(jitter=1.5)


def test_record_replays_values_and_final_errors_but_not_retryable_ones() -> None:
    record = IdempotencyRecord()
    assert record.run("k1", describe("op", 1), lambda: "first") == "first"
    assert record.run("k1", describe("op", 1), lambda: "second") == "first"
    with pytest.raises(IdempotencyConflict):
        record.run("k1", describe("op", 2), lambda: "other")

    declined = CardDeclined("card_declined", "insufficient_funds")

    def decline() -> str:
        raise declined

    for _ in range(2):
        with pytest.raises(CardDeclined) as replayed:
            record.run("k2", describe("op", 1), decline)
    assert replayed.value is not declined
    assert (replayed.value.code, replayed.value.decline_code) == (
        "card_declined",
        declined.decline_code,
    )

    flaky = Flaky(1)
    with pytest.raises(PaymentRetryableError):
        record.run("k3", describe("op", 1), flaky)
    assert record.run("k3", describe("op", 1), flaky) == 2


def test_record_runs_a_key_once_under_concurrency() -> None:
    record = IdempotencyRecord()
    calls: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    results: list[int] = []

    def act() -> int:
        with lock:
            calls.append(1)
            return len(calls)

    def worker() -> None:
        barrier.wait()
        results.append(record.run("k", "op()", act))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(calls), results) == (1, [1] * 8)

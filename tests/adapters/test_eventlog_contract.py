"""The event log contract, run against the in-memory log and NATS JetStream alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from walkout.adapters.eventlog import (
    EventLog,
    MemoryEventLog,
    NatsEventLog,
    NatsLogConfig,
    event_key,
    events_subject,
    stream_name,
)
from walkout.domain.events import CartEvent, VisitClosed, VisitOpened

from .brokers import NATS_URL, require, unique

pytestmark = pytest.mark.anyio


@dataclass
class Harness:
    """A log under test, a second handle on the same log (another process), raw writes."""

    log: EventLog
    reopen: Callable[[], Awaitable[EventLog]]
    append_raw: Callable[[bytes], Awaitable[None]]


@pytest.fixture(params=["memory", "nats"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        memory = MemoryEventLog()

        async def same() -> EventLog:
            return memory

        async def raw(record: bytes) -> None:
            memory.append_raw(record)

        yield Harness(memory, same, raw)
        return
    require("NATS")
    store = unique("test")
    nats_log = await NatsEventLog.connect(NATS_URL, store)
    others: list[NatsEventLog] = []

    async def another() -> EventLog:
        others.append(await NatsEventLog.connect(NATS_URL, store))
        return others[-1]

    try:
        yield Harness(nats_log, another, nats_log.append_raw)
    finally:
        for other in others:
            await other.close()
        await nats_log.delete()
        await nats_log.close()


def opened(n: int, token: str = "7") -> VisitOpened:
    return VisitOpened(id=f"v1:{n}", t=100.0 + n, visit="v1", token=token, gate="entry-1")


def ids(events: list[CartEvent]) -> list[str]:
    return [e.id for e in events]


async def test_appended_events_are_read_back_in_order_and_intact(harness: Harness) -> None:
    events = [opened(1), opened(2), VisitClosed(id="v1:3", t=104, visit="v1", token="7", gate=None)]
    result = await harness.log.append(events)
    assert (result.stored, result.duplicates) == (3, 0)
    async with harness.log.consumer("service") as consumer:
        batch = await consumer.fetch(10, timeout_s=2)
        assert batch.events == events
        await batch.ack()
        assert (await consumer.fetch(10, timeout_s=0.2)).events == []


async def test_an_event_appended_again_is_stored_once(harness: Harness) -> None:
    await harness.log.append([opened(1), opened(2)])
    again = await harness.log.append([opened(2), opened(3)])
    assert (again.stored, again.duplicates) == (1, 1)
    # The same engine id on another visit token is another event (a restarted engine).
    other = await harness.log.append([opened(1, token="8")])
    assert (other.stored, other.duplicates) == (1, 0)
    async with harness.log.consumer("service") as consumer:
        batch = await consumer.fetch(10, timeout_s=2)
    assert [(e.id, e.token) for e in batch.events if isinstance(e, VisitOpened)] == [
        ("v1:1", "7"),
        ("v1:2", "7"),
        ("v1:3", "7"),
        ("v1:1", "8"),
    ]


async def test_a_durable_consumer_resumes_after_what_it_acknowledged(harness: Harness) -> None:
    await harness.log.append([opened(n) for n in range(1, 6)])
    async with harness.log.consumer("service") as consumer:
        first = await consumer.fetch(2, timeout_s=2)
        assert ids(first.events) == ["v1:1", "v1:2"]
        await first.ack()
    later = await harness.reopen()  # another process, the same consumer name
    async with later.consumer("service") as consumer:
        rest = await consumer.fetch(10, timeout_s=2)
        await rest.ack()
    assert ids(rest.events) == ["v1:3", "v1:4", "v1:5"]


async def test_consumers_of_different_names_each_read_everything(harness: Harness) -> None:
    await harness.log.append([opened(1), opened(2)])
    for name in ("service", "analytics"):
        async with harness.log.consumer(name) as consumer:
            batch = await consumer.fetch(10, timeout_s=2)
            await batch.ack()
        assert ids(batch.events) == ["v1:1", "v1:2"]


async def test_a_retried_batch_comes_back_before_newer_events(harness: Harness) -> None:
    await harness.log.append([opened(1), opened(2)])
    async with harness.log.consumer("service") as consumer:
        failed = await consumer.fetch(10, timeout_s=2)
        await harness.log.append([opened(3)])
        await failed.retry()
        again = await consumer.fetch(10, timeout_s=2)
        await again.ack()
        assert ids(again.events)[:2] == ["v1:1", "v1:2"]
        seen = ids(again.events)
        if len(seen) < 3:
            newer = await consumer.fetch(10, timeout_s=2)
            await newer.ack()
            seen += ids(newer.events)
        assert seen == ["v1:1", "v1:2", "v1:3"]
        assert consumer.stats.redelivered == 2


async def test_a_batch_left_unsettled_is_delivered_to_the_next_reader(harness: Harness) -> None:
    await harness.log.append([opened(1)])
    async with harness.log.consumer("service") as consumer:
        await consumer.fetch(10, timeout_s=2)  # the reader stops before applying it
    async with harness.log.consumer("service") as consumer:
        batch = await consumer.fetch(10, timeout_s=2)
        await batch.ack()
    assert ids(batch.events) == ["v1:1"]


async def test_malformed_records_are_skipped_counted_and_never_block(harness: Harness) -> None:
    await harness.append_raw(b"not json")
    await harness.append_raw(b'{"type": "visit_opened"}')
    await harness.log.append([opened(1)])
    async with harness.log.consumer("service") as consumer:
        got: list[CartEvent] = []
        for _ in range(3):
            batch = await consumer.fetch(10, timeout_s=1)
            await batch.ack()
            got += batch.events
        assert ids(got) == ["v1:1"]
        assert consumer.stats.malformed == 2
        assert consumer.stats.delivered == 1


async def test_fetch_waits_for_the_next_event_and_times_out_empty(harness: Harness) -> None:
    async with harness.log.consumer("service") as consumer:
        assert (await consumer.fetch(5, timeout_s=0.2)).events == []
        await harness.log.append([opened(1)])
        batch = await consumer.fetch(5, timeout_s=2)
        await batch.ack()
        assert ids(batch.events) == ["v1:1"]


def test_names_and_keys() -> None:
    assert events_subject("corner") == "walkout.corner.events"
    assert stream_name("corner") == "walkout-corner-events"
    with pytest.raises(ValueError, match="cannot name"):
        events_subject("a.b")
    assert event_key(opened(1)) != event_key(opened(1, token="8"))
    assert event_key(opened(1)).startswith("v1:1/")


async def test_a_stream_made_with_older_settings_is_updated() -> None:
    require("NATS")
    store = unique("test")
    first = await NatsEventLog.connect(NATS_URL, store, NatsLogConfig(duplicate_window_s=60))
    try:
        second = await NatsEventLog.connect(NATS_URL, store)  # today's settings
        await second.close()
        info = await first._js.stream_info(first.stream)
        assert info.config.duplicate_window == NatsLogConfig().duplicate_window_s
    finally:
        await first.delete()
        await first.close()

"""The engine runner: a recording through the runner gives exactly the events of a direct replay;
an unreachable log is waited for; a live source stops without closing anyone's visit."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from walkout.adapters.devices import DeviceInbox, RecordingSource, topic_for
from walkout.adapters.eventlog import (
    AppendResult,
    EventLogError,
    MemoryEventLog,
    event_key,
)
from walkout.adapters.runner import JsonLinesSink, RetryPolicy, run_engine
from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent, ReceiptIssued, VisitOpened
from walkout.domain.messages import parse_message
from walkout.domain.store import Store
from walkout.engine.core import Engine
from walkout.recording import find_recording, iter_lines

from .runs import quiet_run, shelf_store

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    store = shelf_store("corner")
    return store, quiet_run(tmp_path_factory.mktemp("run"), store)


def replayed(store: Store, recording: Path) -> list[CartEvent]:
    """The events of a direct, in-process replay."""
    engine = Engine(store)
    events = [e for line in iter_lines(recording) for e in engine.feed_line(line)]
    return events + engine.finish()


async def read_all(log: MemoryEventLog) -> list[CartEvent]:
    async with log.consumer("check") as consumer:
        batch = await consumer.fetch(100_000, timeout_s=0.1)
        await batch.ack()
    return batch.events


async def test_a_recording_through_the_runner_gives_the_replays_events(
    run: tuple[Store, Path],
) -> None:
    store, out = run
    recording = find_recording(out)
    log = MemoryEventLog()
    stats = await run_engine(Engine(store), RecordingSource(recording), log, finish=True)
    want = replayed(store, recording)
    assert any(isinstance(e, ReceiptIssued) for e in want)
    assert await read_all(log) == want
    assert (stats.events, stats.stored, stats.duplicates) == (len(want), len(want), 0)
    assert stats.finished
    assert len(stats.delays_s) > 0


class FlakyLog:
    """A log that fails the first ``failures`` appends of several events."""

    def __init__(self, failures: int) -> None:
        self.log = MemoryEventLog()
        self.failures = failures

    async def append(self, events: Sequence[CartEvent]) -> AppendResult:
        if self.failures and len(events) > 1:
            self.failures -= 1
            # Half-way: the log took some events before failing (a lost acknowledgement).
            await self.log.append(events[: len(events) // 2])
            raise EventLogError("connection lost")
        return await self.log.append(events)


async def test_appends_are_retried_until_the_log_takes_them_and_never_doubled() -> None:
    store = shelf_store("corner")
    inbox = DeviceInbox(store.id)
    gate = parse_message(orjson.dumps({"type": "gate", "gate": "entry-1", "t": 10.0, "token": "5"}))
    inbox.offer(topic_for(store.id, gate), orjson.dumps(gate.model_dump(mode="json")))
    inbox.close()
    flaky = FlakyLog(failures=2)
    stats = await run_engine(
        Engine(store), inbox, flaky, finish=True, retry=RetryPolicy(first_s=0.01)
    )
    events = await read_all(flaky.log)
    assert stats.append_retries == 2
    assert stats.duplicates == 1  # stored by a failed try, not stored again
    assert [e.type for e in events] == ["visit_opened", "visit_closed", "receipt_issued"]
    assert len({event_key(e) for e in events}) == len(events)


async def test_stopping_a_live_source_leaves_visits_open() -> None:
    store = shelf_store("corner")
    inbox = DeviceInbox(store.id)
    gate = parse_message(orjson.dumps({"type": "gate", "gate": "entry-1", "t": 10.0, "token": "5"}))
    inbox.offer(topic_for(store.id, gate), orjson.dumps(gate.model_dump(mode="json")))
    later = gate.model_copy(update={"t": 11.0, "token": "6"})  # moves stream time on
    inbox.offer(topic_for(store.id, later), orjson.dumps(later.model_dump(mode="json")))
    inbox.close()
    log = MemoryEventLog()
    stats = await run_engine(Engine(store), inbox, log, finish=False)
    events = await read_all(log)
    assert not stats.finished
    assert [type(e) for e in events] == [VisitOpened]  # the second is still in the reorder window


async def test_a_quiet_source_is_finished_after_the_idle_time() -> None:
    store = shelf_store("corner")
    inbox = DeviceInbox(store.id)  # never closed: a live source gone quiet
    gate = parse_message(orjson.dumps({"type": "gate", "gate": "entry-1", "t": 10.0, "token": "5"}))
    inbox.offer(topic_for(store.id, gate), orjson.dumps(gate.model_dump(mode="json")))
    log = MemoryEventLog()
    stats = await run_engine(Engine(store), inbox, log, finish=False, idle_finish_s=0.2)
    assert stats.finished
    receipts = [e for e in await read_all(log) if isinstance(e, ReceiptIssued)]
    assert [r.receipt.token for r in receipts] == ["5"]


async def test_the_json_lines_sink_writes_one_event_per_line() -> None:
    out = io.BytesIO()
    event = VisitOpened(id="v1:1", t=1.0, visit="v1", token="5", gate="entry-1")
    result = await JsonLinesSink(out).append([event, event])
    assert result.stored == 2
    lines = out.getvalue().splitlines()
    assert [CART_EVENT_ADAPTER.validate_json(line) for line in lines] == [event, event]

"""The engine runner: sensor messages in, through the engine, cart events out to the event log.

The runner is only I/O around ``Engine.feed`` and ``Engine.finish``; ordering, late messages
and time all stay the engine's business (time comes from the messages). Each message's events
are appended before the next message is fed, and an append that fails is retried with the
same event keys until the log takes it (the log drops what it had already), so no event is
lost or doubled while the log is unreachable: the source queues meanwhile.

A live source never ends by itself. Stopping a live runner does *not* finish the engine:
finishing closes every open visit and issues its receipt, which must happen only when the
shoppers have left (or at the end of a recording, or after ``idle_finish_s`` without any
message, for batch runs and tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from walkout.adapters.devices import (
    MqttSource,
    RecordingSource,
    SensorSource,
    SourceStats,
    subscription,
)
from walkout.adapters.eventlog import AppendResult, EventLogError, encode, open_event_log
from walkout.domain.events import CartEvent
from walkout.domain.store import Store
from walkout.engine.core import Engine, EngineStats

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Where the runner puts cart events (every ``EventLog`` is one)."""

    async def append(self, events: Sequence[CartEvent]) -> AppendResult: ...


class JsonLinesSink:
    """An ``EventSink`` that writes each event as a JSON line (the embedded runner's output)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    async def append(self, events: Sequence[CartEvent]) -> AppendResult:
        for event in events:
            self.out.write(encode(event) + b"\n")
        self.out.flush()
        return AppendResult(stored=len(events))


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between tries of an append: ``first_s``, doubling up to ``max_s``."""

    first_s: float = 0.2
    max_s: float = 5.0


@dataclass
class RunnerStats:
    """What one run did; delays are wall-clock seconds from a message's arrival to its
    events being in the log."""

    messages: int = 0
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    append_retries: int = 0
    finished: bool = False
    #: The last 10,000 (a live runner runs for days).
    delays_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


async def append_until_stored(
    sink: EventSink, events: Sequence[CartEvent], stats: RunnerStats, retry: RetryPolicy
) -> None:
    """Append ``events``, retrying (with their keys, so never twice) until the sink takes them."""
    wait = retry.first_s
    while True:
        try:
            result = await sink.append(events)
        except (EventLogError, OSError, TimeoutError) as exc:
            stats.append_retries += 1
            log.warning("event log unavailable, retrying in %.1f s: %s", wait, exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, retry.max_s)
            continue
        stats.stored += result.stored
        stats.duplicates += result.duplicates
        return


async def run_engine(
    engine: Engine,
    source: SensorSource,
    sink: EventSink,
    *,
    finish: bool,
    idle_finish_s: float | None = None,
    retry: RetryPolicy | None = None,
) -> RunnerStats:
    """Feed ``source`` to ``engine`` and append its events to ``sink`` until the source ends
    (then finish the engine when ``finish``) or, with ``idle_finish_s``, until no message came
    for that long (then always finish)."""
    retry = retry or RetryPolicy()
    stats = RunnerStats()
    readings = aiter(source)
    while True:
        try:
            if idle_finish_s is None:
                reading = await anext(readings)
            else:
                reading = await asyncio.wait_for(anext(readings), idle_finish_s)
        except StopAsyncIteration:
            break
        except TimeoutError:
            finish = True
            break
        stats.messages += 1
        events = engine.feed(reading.message)
        if events:
            stats.events += len(events)
            await append_until_stored(sink, events, stats, retry)
            stats.delays_s.append(time.time() - reading.received)
    if finish:
        events = engine.finish()
        stats.events += len(events)
        await append_until_stored(sink, events, stats, retry)
        stats.finished = True
    return stats


@dataclass(frozen=True)
class RunReport:
    """A finished run: the runner's, the source's and the engine's counts."""

    runner: RunnerStats
    source: SourceStats
    engine: EngineStats


async def run_store(
    store: Store,
    *,
    mqtt: str | None = None,
    recording: Path | None = None,
    event_log: str | None = None,
    out: IO[bytes] | None = None,
    speed: float | None = None,
    idle_finish_s: float | None = None,
    client_id: str | None = None,
    ready: Callable[[str], None] | None = None,
) -> RunReport:
    """``walkout run-engine``: the store's engine on its devices (``mqtt`` URL) or on a
    ``recording``, appending to the event log at ``event_log`` (else writing JSON lines to
    ``out``). SIGINT and SIGTERM stop it cleanly (a live run is not finished, see above).
    ``ready`` is told what is being read once the source and the log are ready."""
    if (mqtt is None) == (recording is None):
        raise ValueError("give exactly one of an MQTT URL and a recording")
    engine = Engine(store)
    async with contextlib.AsyncExitStack() as stack:
        source: SensorSource
        if mqtt is not None:
            live = MqttSource(mqtt, store.id, client_id=client_id)
            source = await stack.enter_async_context(live)
        else:
            assert recording is not None
            source = RecordingSource(recording, speed)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, source.close)
            stack.callback(loop.remove_signal_handler, sig)
        sink: EventSink
        if event_log is not None:
            sink = await stack.enter_async_context(open_event_log(event_log, store.id))
        else:
            sink = JsonLinesSink(out or sys.stdout.buffer)
        if ready is not None:
            ready(f"{subscription(store.id)} at {mqtt}" if mqtt else str(recording))
        stats = await run_engine(
            engine, source, sink, finish=recording is not None, idle_finish_s=idle_finish_s
        )
        return RunReport(stats, source.stats, engine.stats)

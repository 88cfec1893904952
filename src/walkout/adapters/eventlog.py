"""The event log: a store's cart events, kept durably from the engine until the service applied
them.

The engine runner appends each event as it is made; the store service reads them through a
named, durable consumer and acknowledges a batch only once it is committed (at-least-once:
the service applies events idempotently, so a redelivery is harmless). Two implementations
keep one contract (``tests/adapters/test_eventlog_contract.py``):

- :class:`MemoryEventLog`: in one process, for tests and single-machine runs;
- :class:`NatsEventLog`: NATS JetStream, a file-backed stream per store on subject
  ``walkout.<store>.events``, deduplicated by ``Nats-Msg-Id`` so that an event appended twice
  (a retried append, a re-sent recording) is stored once.

Events travel as JSON written by ``CART_EVENT_ADAPTER`` (the one vocabulary). A record that
does not decode (a foreign writer, a newer version) is skipped, counted and never redelivered:
it can never block the log.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.client import JetStreamContext
from pydantic import ValidationError

from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent, ReceiptIssued

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: JetStream header that makes the stream drop a message whose id it has stored already.
MSG_ID = "Nats-Msg-Id"


class EventLogError(RuntimeError):
    """The event log cannot be reached or refused a request; the reason is in the message."""


def check_store_id(store_id: str) -> str:
    """``store_id`` when it can name NATS subjects and streams (letters, digits, ``_``, ``-``)."""
    if not _TOKEN.fullmatch(store_id):
        raise ValueError(
            f"store id {store_id!r} cannot name an event log: use 1-64 letters, digits, '_', '-'"
        )
    return store_id


def events_subject(store_id: str) -> str:
    """The subject a store's cart events are appended to."""
    return f"walkout.{check_store_id(store_id)}.events"


def stream_name(store_id: str) -> str:
    """The JetStream stream that keeps a store's cart events."""
    return f"walkout-{check_store_id(store_id)}-events"


def event_key(event: CartEvent) -> str:
    """The event's identity in the log: its id within the visit token it belongs to.

    Engine ids (``v3:17``) restart with the engine, so the id alone would make a restarted
    engine's new events look like duplicates; the service likewise keys events by (visit, id).
    """
    token = event.receipt.token if isinstance(event, ReceiptIssued) else event.token
    return f"{event.id}/{hashlib.blake2b(token.encode(), digest_size=10).hexdigest()}"


def encode(event: CartEvent) -> bytes:
    return CART_EVENT_ADAPTER.dump_json(event)


@dataclass
class ConsumerStats:
    """What a consumer was given: events (redeliveries included) and undecodable records."""

    delivered: int = 0
    redelivered: int = 0
    malformed: int = 0


@dataclass
class AppendResult:
    """How many of the appended events were new, and how many the log had already."""

    stored: int = 0
    duplicates: int = 0


@dataclass
class EventBatch:
    """Events handed to a consumer, oldest first; settle it once with ``ack`` or ``retry``."""

    events: list[CartEvent]
    _settle: Callable[[bool], Awaitable[None]] = field(repr=False)
    settled: bool = False

    async def ack(self) -> None:
        """The events are applied: never deliver them to this consumer again."""
        await self._done(True)

    async def retry(self) -> None:
        """The events were not applied: deliver them again, before any newer event."""
        await self._done(False)

    async def _done(self, ok: bool) -> None:
        if not self.settled:
            self.settled = True
            await self._settle(ok)


class EventConsumer(Protocol):
    """A durable reader of the log: its position survives the process that reads."""

    stats: ConsumerStats

    async def fetch(self, max_events: int, timeout_s: float) -> EventBatch:
        """The next events (at most ``max_events``), waiting up to ``timeout_s`` for the
        first; an empty batch when none came."""
        ...


class EventLog(Protocol):
    """Append-only, durable, deduplicated log of one store's cart events."""

    async def append(self, events: Sequence[CartEvent]) -> AppendResult:
        """Store ``events`` in order; returns once they are durable. An event whose
        :func:`event_key` is stored already is not stored again."""
        ...

    def consumer(self, name: str) -> contextlib.AbstractAsyncContextManager[EventConsumer]:
        """Read as the durable consumer ``name`` until the context ends; batches left
        unsettled then are delivered again (to the next reader of the name)."""
        ...


def _decode(raw: bytes, stats: ConsumerStats) -> CartEvent | None:
    try:
        return CART_EVENT_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        stats.malformed += 1
        log.warning("event log: skipped a record that is not a cart event: %s", exc.errors()[0])
        return None


# -- in memory ------------------------------------------------------------------------------


@dataclass
class _Position:
    """A memory consumer's state: the next new record, and records to deliver again."""

    next: int = 0
    redo: list[int] = field(default_factory=list)


class MemoryEventLog:
    """An ``EventLog`` in this process (records are kept as bytes, as a broker keeps them)."""

    def __init__(self) -> None:
        self._records: list[bytes] = []
        self._keys: set[str] = set()
        self._positions: dict[str, _Position] = {}
        self._changed = asyncio.Event()

    async def append(self, events: Sequence[CartEvent]) -> AppendResult:
        result = AppendResult()
        for event in events:
            key = event_key(event)
            if key in self._keys:
                result.duplicates += 1
                continue
            self._keys.add(key)
            self._records.append(encode(event))
            result.stored += 1
        self._wake()
        return result

    def append_raw(self, record: bytes) -> None:
        """Store bytes as a foreign writer might (for tests of malformed records)."""
        self._records.append(record)
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def consumer(self, name: str) -> AsyncIterator[EventConsumer]:
        reader = _MemoryConsumer(self, self._positions.setdefault(name, _Position()))
        try:
            yield reader
        finally:
            await reader.close()

    def _take(self, position: _Position, max_events: int) -> list[tuple[int, bool]]:
        """Up to ``max_events`` (index, redelivered) pairs, redeliveries first."""
        taken = [(i, True) for i in position.redo[:max_events]]
        del position.redo[: len(taken)]
        while len(taken) < max_events and position.next < len(self._records):
            taken.append((position.next, False))
            position.next += 1
        return taken


class _MemoryConsumer:
    def __init__(self, log: MemoryEventLog, position: _Position) -> None:
        self._log = log
        self._position = position
        self._batches: list[EventBatch] = []
        self.stats = ConsumerStats()

    async def fetch(self, max_events: int, timeout_s: float) -> EventBatch:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            taken = self._log._take(self._position, max_events)
            events: list[CartEvent] = []
            indices: list[int] = []
            for index, again in taken:
                event = _decode(self._log._records[index], self.stats)
                if event is not None:
                    events.append(event)
                    indices.append(index)
                    self.stats.delivered += 1
                    self.stats.redelivered += again
            if events or loop.time() >= deadline:
                return self._batch(events, indices)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._log._changed.wait(), deadline - loop.time())

    def _batch(self, events: list[CartEvent], indices: list[int]) -> EventBatch:
        async def settle(ok: bool) -> None:
            if not ok:
                for index in indices:
                    bisect.insort(self._position.redo, index)
                self._log._wake()

        batch = EventBatch(events, settle)
        self._batches = [b for b in self._batches if not b.settled] + [batch]
        return batch

    async def close(self) -> None:
        """Batches still unsettled are delivered again, to the next reader."""
        for batch in self._batches:
            await batch.retry()


# -- NATS JetStream -------------------------------------------------------------------------


@dataclass(frozen=True)
class NatsLogConfig:
    """How a store's stream and the service's consumer are set up on JetStream."""

    #: A re-appended event within this window is recognised as a duplicate and dropped.
    duplicate_window_s: float = 3600.0
    #: Events older than this are dropped from the stream (the service has applied them).
    max_age_s: float = 30 * 24 * 3600.0
    #: A delivered event not acknowledged within this is delivered again (a consumer died).
    ack_wait_s: float = 30.0
    #: Seconds to wait for JetStream to answer a request.
    request_timeout_s: float = 5.0


def nats_servers(url: str) -> str:
    """Check a ``nats://`` (or ``tls://``) URL and return it for the client."""
    parts = urlsplit(url)
    if parts.scheme not in ("nats", "tls") or not parts.hostname:
        raise ValueError(f"not a NATS URL (nats://host:port): {url!r}")
    return url


async def _log_error(exc: Exception) -> None:
    log.warning("NATS: %r", exc)


async def connect_nats(url: str, name: str, **options: Any) -> NatsClient:
    """A NATS connection that fails fast when the server is unreachable at first (raising
    ``EventLogError``), and once connected reconnects for as long as the process runs."""
    try:
        nc = await nats.connect(
            nats_servers(url),
            name=name,
            connect_timeout=2,
            max_reconnect_attempts=1,  # the first connection: two tries
            reconnect_time_wait=0.5,
            error_cb=_log_error,
            **options,
        )
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        raise EventLogError(f"cannot reach NATS at {url}: {exc!r}") from exc
    nc.options["max_reconnect_attempts"] = -1  # read at each reconnection: never give up
    return nc


class NatsEventLog:
    """An ``EventLog`` on NATS JetStream: one file-backed stream per store."""

    def __init__(self, nc: NatsClient, store_id: str, config: NatsLogConfig) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=config.request_timeout_s)
        self.subject = events_subject(store_id)
        self.stream = stream_name(store_id)
        self.config = config

    @classmethod
    async def connect(
        cls, url: str, store_id: str, config: NatsLogConfig | None = None
    ) -> NatsEventLog:
        """Connect to the server at ``url`` and make sure the store's stream exists."""
        config = config or NatsLogConfig()
        nc = await connect_nats(url, f"walkout event log {store_id}")
        self = cls(nc, store_id, config)
        stream = StreamConfig(
            name=self.stream,
            subjects=[self.subject],
            storage=StorageType.FILE,
            duplicate_window=config.duplicate_window_s,
            max_age=config.max_age_s,
        )
        try:
            try:
                await self._js.add_stream(stream)
            except nats.js.errors.BadRequestError:
                await self._js.update_stream(stream)  # exists with older settings
        except nats.errors.Error as exc:
            await nc.close()
            raise EventLogError(f"cannot set up stream {self.stream}: {exc!r}") from exc
        return self

    async def close(self) -> None:
        await self._nc.drain()

    async def delete(self) -> None:
        """Remove the store's stream and everything in it (tests and decommissioning)."""
        await self._js.delete_stream(self.stream)

    async def append(self, events: Sequence[CartEvent]) -> AppendResult:
        result = AppendResult()
        for event in events:
            try:
                ack = await self._js.publish(
                    self.subject, encode(event), headers={MSG_ID: event_key(event)}
                )
            except nats.errors.Error as exc:
                raise EventLogError(f"cannot append to {self.stream}: {exc!r}") from exc
            if ack.duplicate:
                result.duplicates += 1
            else:
                result.stored += 1
        return result

    async def append_raw(self, record: bytes) -> None:
        """Publish bytes as a foreign writer might (for tests of malformed records)."""
        await self._js.publish(self.subject, record)

    @contextlib.asynccontextmanager
    async def consumer(self, name: str) -> AsyncIterator[EventConsumer]:
        check_store_id(name)
        config = ConsumerConfig(
            durable_name=name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.config.ack_wait_s,
            filter_subject=self.subject,
        )
        try:
            sub = await self._js.pull_subscribe(
                self.subject, durable=name, stream=self.stream, config=config
            )
        except nats.errors.Error as exc:
            raise EventLogError(f"cannot read {self.stream} as {name}: {exc!r}") from exc
        reader = _NatsConsumer(sub)
        try:
            yield reader
        finally:
            with contextlib.suppress(nats.errors.Error):
                await reader.close()
                await sub.unsubscribe()


class _NatsConsumer:
    """Reads a JetStream pull consumer; a retried batch is kept here and handed out again
    before anything newer (JetStream would redeliver a nak'd message after newer ones), its
    ack timer reset. Batches still held when the reader stops are nak'd for the next reader."""

    def __init__(self, sub: JetStreamContext.PullSubscription) -> None:
        self._sub = sub
        self._batches: list[EventBatch] = []
        self._redo: list[tuple[Msg, CartEvent]] = []
        self.stats = ConsumerStats()

    async def fetch(self, max_events: int, timeout_s: float) -> EventBatch:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        if self._redo:
            taken, self._redo = self._redo[:max_events], self._redo[max_events:]
            for msg, _ in taken:
                await msg.in_progress()
            self.stats.delivered += len(taken)
            self.stats.redelivered += len(taken)
            return self._batch(taken)
        try:
            msgs = await self._sub.fetch(max_events, timeout=max(timeout_s, 0.01))
        except TimeoutError:  # nats.errors.TimeoutError is one too: no events came
            msgs = []
        except nats.errors.Error as exc:
            raise EventLogError(f"cannot fetch events: {exc!r}") from exc
        kept: list[tuple[Msg, CartEvent]] = []
        for msg in msgs:
            event = _decode(msg.data, self.stats)
            if event is None:
                await msg.term()  # never again: it would only be skipped again
                continue
            kept.append((msg, event))
            self.stats.delivered += 1
            self.stats.redelivered += msg.metadata.num_delivered > 1
        return self._batch(kept)

    def _batch(self, kept: list[tuple[Msg, CartEvent]]) -> EventBatch:
        async def settle(ok: bool) -> None:
            if ok:
                for msg, _ in kept:
                    await msg.ack()
            else:
                self._redo = sorted(
                    kept + self._redo, key=lambda item: item[0].metadata.sequence.stream
                )

        batch = EventBatch([event for _, event in kept], settle)
        self._batches = [b for b in self._batches if not b.settled] + [batch]
        return batch

    async def close(self) -> None:
        for batch in self._batches:
            await batch.retry()
        for msg, _ in self._redo:
            await msg.nak()
        self._redo = []


@contextlib.asynccontextmanager
async def open_event_log(url: str, store_id: str) -> AsyncIterator[EventLog]:
    """The event log at ``url`` until the context ends: ``memory:`` (this process only) or
    ``nats://host:port`` (JetStream; flushed and closed at the end)."""
    if url == "memory:":
        check_store_id(store_id)
        yield MemoryEventLog()
        return
    event_log = await NatsEventLog.connect(url, store_id)
    try:
        yield event_log
    finally:
        await event_log.close()

"""The service's reader of the event log: the engine's cart events, applied as POST /events
applies them.

With ``WALKOUT_EVENT_LOG`` set, the app's lifespan runs one :class:`EventLogConsumer`: it
reads the store's log as the durable consumer ``event_log_consumer``, applies each batch in one
transaction through ``carts.service.apply`` (each event once per visit, so a redelivery is a
no-op), acknowledges the batch only after the commit, then pushes the live updates and runs
the payments the batch opened. A batch that fails (the database is away) is retried, before
anything newer, until it commits; the log's position is kept by the log, so a restarted service
resumes where it stopped. Nothing the log holds can stop the consumer: records that are not cart
events are skipped by the log, and an unreachable log is waited for.

One consumer process per store keeps the events in order: several processes on the same
durable name share the batches (JetStream spreads them), which may apply two batches out of
order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from walkout.adapters.eventlog import EventLog, EventLogError, check_store_id, open_event_log
from walkout.domain.events import CartEvent
from walkout.service.carts import service
from walkout.service.carts.bus import NatsCartBus
from walkout.service.deps import Services

log = logging.getLogger(__name__)


@dataclass
class ConsumerStats:
    """What the consumer did: batches committed, outcomes of their events, failed tries."""

    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: int = 0


def apply_committed(services: Services, events: Sequence[CartEvent]) -> service.Applied:
    """Apply a batch in one transaction, committed on return."""
    with services.sessions.begin() as session:
        return service.apply(session, services, events)


class EventLogConsumer:
    """Applies a store's event log to the service's database until stopped."""

    def __init__(
        self,
        services: Services,
        name: str,
        batch: int,
        *,
        fetch_timeout_s: float = 1.0,
        backoff_s: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        self.services = services
        self.name = name
        self.batch = batch
        self.fetch_timeout_s = fetch_timeout_s
        self.backoff_s = backoff_s
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the batch in hand, then return from ``run``."""
        self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def run(self, event_log: EventLog) -> None:
        """Read and apply batches until ``stop``; a failing batch is retried with backoff."""
        first, most = self.backoff_s
        wait = first
        async with event_log.consumer(self.name) as consumer:
            while not self._stopping.is_set():
                batch = await consumer.fetch(self.batch, self.fetch_timeout_s)
                if not batch.events:
                    continue
                try:
                    applied = await run_in_threadpool(apply_committed, self.services, batch.events)
                except Exception:  # the database is away, or a bug: never lose the batch
                    self.stats.failures += 1
                    log.exception("event log: a batch failed, retrying in %.1f s", wait)
                    await batch.retry()
                    await self._pause(wait)
                    wait = min(wait * 2, most)
                    continue
                wait = first
                await batch.ack()
                self.stats.batches += 1
                self.stats.outcomes.update(r.outcome for r in applied.results)
                try:
                    await run_in_threadpool(service.after_commit, self.services, applied)
                except Exception:  # payments resume at the next start; never stop reading
                    log.exception("event log: pushing updates or running payments failed")

    async def run_connected(self, url: str, store_id: str) -> None:
        """``run`` on the log at ``url``, reconnecting with backoff while it is unreachable."""
        first, most = self.backoff_s
        wait = first
        while not self._stopping.is_set():
            try:
                async with open_event_log(url, store_id) as event_log:
                    wait = first
                    await self.run(event_log)
            except EventLogError as exc:
                self.stats.failures += 1
                log.warning("event log: %s; retrying in %.1f s", exc, wait)
                await self._pause(wait)
                wait = min(wait * 2, most)
            except Exception:  # never leave the service without its consumer
                self.stats.failures += 1
                log.exception("event log: the consumer failed; restarting in %.1f s", wait)
                await self._pause(wait)
                wait = min(wait * 2, most)


@contextlib.asynccontextmanager
async def running(services: Services) -> AsyncIterator[EventLogConsumer | None]:
    """The cart adapters the settings ask for, for the app's lifespan: the NATS cart bus
    connected, the event log consumed. Stops both (the batch in hand is finished first)."""
    settings = services.settings
    bus = services.bus
    if isinstance(bus, NatsCartBus):
        await bus.start()
    consumer: EventLogConsumer | None = None
    task: asyncio.Task[None] | None = None
    if settings.event_log is not None:
        check_store_id(services.catalogue.store_id)  # fail at start, not in the background
        consumer = EventLogConsumer(services, settings.event_log_consumer, settings.event_log_batch)
        task = asyncio.create_task(
            consumer.run_connected(settings.event_log, services.catalogue.store_id)
        )
    try:
        yield consumer
    finally:
        if consumer is not None and task is not None:
            consumer.stop()
            await task
        if isinstance(bus, NatsCartBus):
            await bus.stop()

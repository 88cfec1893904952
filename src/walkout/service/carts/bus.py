"""Live cart updates: a small publish/subscribe contract and its in-process implementation.

Publishers run in worker threads (sync endpoints, payment runs); subscribers are Server-Sent
Event streams on the event loop. ``LocalCartBus`` serves one process; ``NatsCartBus`` fans
updates out to every service process of the store through NATS (``CartUpdate`` as JSON on the
core subject ``walkout.<store>.carts.<visit id>``), so a stream on one process sees the events
another process applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import ValidationError

from walkout.adapters.eventlog import EventLogError, check_store_id, connect_nats
from walkout.service.carts.schemas import CartUpdate
from walkout.service.settings import CartBusKind, Settings

log = logging.getLogger(__name__)


class Subscription(Protocol):
    """Updates of one visit, in publication order."""

    async def next(self, timeout_s: float) -> CartUpdate | None:
        """The next update, or None after ``timeout_s`` without one.

        Raises ``SubscriptionLost`` when updates were dropped (the reader was too slow).
        """
        ...


class CartBus(Protocol):
    """Fan-out of visit updates to whoever watches the visit."""

    def publish(self, update: CartUpdate) -> None:
        """Deliver ``update`` to the visit's current subscribers; never blocks."""
        ...

    def subscribe(self, visit_id: int) -> AbstractContextManager[Subscription]:
        """Watch a visit from now on, until the context ends; call on the event loop."""
        ...


class SubscriptionLost(Exception):
    """A subscriber fell too far behind and missed updates: it should start over."""


class _LocalSubscription:
    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[CartUpdate] = asyncio.Queue(capacity)
        self.lost = False

    def offer(self, update: CartUpdate) -> None:
        """Runs on the subscriber's loop."""
        try:
            self.queue.put_nowait(update)
        except asyncio.QueueFull:
            self.lost = True

    async def next(self, timeout_s: float) -> CartUpdate | None:
        if self.lost:
            raise SubscriptionLost()
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None


class LocalCartBus:
    """A ``CartBus`` within one process: thread-safe, bounded queue per subscriber."""

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._subscribers: dict[int, set[_LocalSubscription]] = {}

    def publish(self, update: CartUpdate) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(update.visit_id, ()))
        for sub in subscribers:
            with contextlib.suppress(RuntimeError):  # its loop has closed: it is going away
                sub.loop.call_soon_threadsafe(sub.offer, update)

    @contextlib.contextmanager
    def subscribe(self, visit_id: int) -> Iterator[Subscription]:
        sub = _LocalSubscription(asyncio.get_running_loop(), self._capacity)
        with self._lock:
            self._subscribers.setdefault(visit_id, set()).add(sub)
        try:
            yield sub
        finally:
            with self._lock:
                subs = self._subscribers[visit_id]
                subs.discard(sub)
                if not subs:
                    del self._subscribers[visit_id]


class NatsCartBus:
    """A ``CartBus`` across the store's service processes, through NATS core subjects.

    An update is delivered to this process's subscribers at once (as ``LocalCartBus`` does)
    and published for the others; each process listens to every visit of the store and
    hands what others publish to its own subscribers (a store's update rate is small). NATS
    is best-effort here: while it is unreachable, other processes miss updates and their
    streams catch up from the next one (each carries the whole cart). Call ``start`` and
    ``stop`` on the event loop (the app's lifespan does).
    """

    def __init__(self, url: str, store_id: str, capacity: int = 256) -> None:
        self.url = url
        self.prefix = f"walkout.{check_store_id(store_id)}.carts"
        self._local = LocalCartBus(capacity)
        self._nc: NatsClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.malformed = 0

    async def start(self, retry_s: float = 5.0) -> None:
        """Connect now, or keep trying in the background while the service runs."""
        self._loop = asyncio.get_running_loop()
        if not await self._connect():
            self._connecting = asyncio.create_task(self._keep_connecting(retry_s))

    async def _keep_connecting(self, retry_s: float) -> None:
        while not await self._connect():
            await asyncio.sleep(retry_s)

    async def _connect(self) -> bool:
        try:
            nc = await connect_nats(
                self.url,
                f"walkout cart bus {self.prefix}",
                no_echo=True,  # this process's updates went to its subscribers directly
            )
            await nc.subscribe(f"{self.prefix}.*", cb=self._received)
            await nc.flush()  # the server has the subscription: nothing published is missed
        except (EventLogError, nats.errors.Error) as exc:
            log.warning("cart bus: NATS at %s unreachable, updates stay local: %r", self.url, exc)
            return False
        self._nc = nc
        return True

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._nc is not None:
            nc, self._nc = self._nc, None
            with contextlib.suppress(nats.errors.Error):
                await nc.drain()

    async def _received(self, msg: Msg) -> None:
        try:
            update = CartUpdate.model_validate_json(msg.data)
        except ValidationError:
            self.malformed += 1
            return
        self._local.publish(update)

    def publish(self, update: CartUpdate) -> None:
        self._local.publish(update)
        nc, loop = self._nc, self._loop
        if nc is None or loop is None:
            return
        subject, data = f"{self.prefix}.{update.visit_id}", update.model_dump_json().encode()
        with contextlib.suppress(RuntimeError):  # the loop has closed: the service is stopping
            loop.call_soon_threadsafe(self._send, nc, subject, data)

    def _send(self, nc: NatsClient, subject: str, data: bytes) -> None:
        """On the loop, in publication order (a task's first step runs in creation order and
        queues the message before it can yield)."""
        task = asyncio.get_running_loop().create_task(nc.publish(subject, data))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("cart bus: an update was not published: %r", task.exception())

    def subscribe(self, visit_id: int) -> AbstractContextManager[Subscription]:
        return self._local.subscribe(visit_id)


def make_bus(settings: Settings, store_id: str) -> CartBus:
    """The cart bus the settings choose, for the store ``store_id``."""
    if settings.cart_bus is CartBusKind.NATS:
        return NatsCartBus(settings.cart_bus_url, store_id)
    return LocalCartBus()

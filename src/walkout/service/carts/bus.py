"""Live cart updates: a small publish/subscribe contract and its in-process implementation.

Publishers run in worker threads (sync endpoints, payment runs); subscribers are Server-Sent
Event streams on the event loop. A NATS-backed bus can replace ``LocalCartBus`` by serialising
``CartUpdate`` as JSON on a subject per visit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from walkout.service.carts.schemas import CartUpdate


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

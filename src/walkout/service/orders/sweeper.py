"""No-shows found while the service runs: the order sweep, repeated in the background.

An order not collected within ``pickup_grace`` of its slot must become a no-show (its stock
and card hold released, a fee captured) even when no manager asks for it, so the app runs
``service.sweep`` every ``pickup_sweep_period`` of real time. The period only paces the
checks: what is overdue is decided by ``services.clock``, as everywhere else. At shutdown the
sweep in progress, if any, finishes before the app stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from walkout.service.deps import Services
from walkout.service.orders import service

log = logging.getLogger(__name__)


async def _sweep_until(services: Services, stop: asyncio.Event) -> None:
    period = services.settings.pickup_sweep_period.total_seconds()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)
        if stop.is_set():
            return
        try:
            await run_in_threadpool(service.sweep, services)
        except Exception:
            # A database or payment outage: the next sweep tries again (a sweep is idempotent).
            log.exception("the order sweep failed; retrying in %.0f s", period)


@contextlib.asynccontextmanager
async def sweeping(services: Services) -> AsyncIterator[None]:
    """Sweep orders every ``pickup_sweep_period`` while the block runs."""
    stop = asyncio.Event()
    task = asyncio.create_task(_sweep_until(services, stop), name="order-sweep")
    try:
        yield
    finally:
        stop.set()
        await task

"""The in-process cart bus: fan-out per visit, keep-alive timeouts, slow readers cut off."""

from __future__ import annotations

import asyncio
import threading

import pytest

from walkout.service.carts.bus import LocalCartBus, SubscriptionLost
from walkout.service.carts.schemas import CartUpdate
from walkout.service.models import VisitStatus


def update(visit_id: int, kind: str = "closed") -> CartUpdate:
    return CartUpdate.model_validate(
        {"kind": kind, "visit_id": visit_id, "visit_status": VisitStatus.CLOSED}
    )


def test_updates_reach_the_visits_subscribers_from_any_thread() -> None:
    bus = LocalCartBus()

    async def main() -> list[CartUpdate | None]:
        with bus.subscribe(1) as first, bus.subscribe(1) as second, bus.subscribe(2) as other:

            def publish() -> None:
                for visit_id in (1, 2, 1):
                    bus.publish(update(visit_id))

            publisher = threading.Thread(target=publish)
            publisher.start()
            publisher.join()
            got = [await first.next(1), await first.next(1), await second.next(1)]
            got += [await other.next(1), await other.next(0.01)]
        return got

    got = asyncio.run(main())
    assert [u.visit_id if u else None for u in got] == [1, 1, 1, 2, None]


def test_a_reader_that_falls_behind_is_told_to_start_over() -> None:
    bus = LocalCartBus(capacity=2)

    async def main() -> None:
        with bus.subscribe(1) as sub:
            for _ in range(3):
                bus.publish(update(1))
            await asyncio.sleep(0)  # let the loop deliver them
            with pytest.raises(SubscriptionLost):
                await sub.next(1)

    asyncio.run(main())


def test_unsubscribed_visits_are_forgotten() -> None:
    bus = LocalCartBus()

    async def main() -> None:
        with bus.subscribe(1):
            pass
        bus.publish(update(1))  # nobody listens: nothing to deliver, nothing kept

    asyncio.run(main())
    assert bus._subscribers == {}

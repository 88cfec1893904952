"""HTTP endpoints of carts: the engine's event batches, the live cart and its update stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Path
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from walkout.domain.events import CartEvent
from walkout.service.auth import Device, Person, StaffMember
from walkout.service.carts import service
from walkout.service.carts.bus import SubscriptionLost
from walkout.service.carts.schemas import CartRead, CartUpdate, EventsApplied
from walkout.service.deps import DbSession, Services, ServicesDep
from walkout.service.errors import NotFound
from walkout.service.fields import MAX_ID
from walkout.service.models import Visit
from walkout.service.visits import service as visits

router = APIRouter(tags=["carts"])

MAX_BATCH = 1000


@router.post(
    "/events",
    summary="Apply a batch of the engine's cart events, each once (device)",
    description="A JSON array of cart events (walkout.domain.events). Each event's token is "
    "the visit id; an event id already applied to the visit is a no-op.",
)
def post_events(
    events: Annotated[list[CartEvent], Body(max_length=MAX_BATCH)],
    _: Device,
    session: DbSession,
    services: ServicesDep,
    background: BackgroundTasks,
) -> EventsApplied:
    applied = service.apply(session, services, events)
    # Runs after the batch is committed (and answered): updates out, then payments.
    background.add_task(service.after_commit, services, applied)
    return EventsApplied(results=applied.results)


@router.get("/visits/current/cart", summary="The cart of the signed-in account's open visit")
def current_cart(principal: Person, session: DbSession, services: ServicesDep) -> CartRead:
    return service.current_cart(session, services, principal.account.id)


@router.get(
    "/staff/visits/{visit_id}/cart",
    summary="One visit's cart, e.g. of a shopper on the live floor (staff)",
)
def visit_cart(
    visit_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    _: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> CartRead:
    return service.read_cart(session, services, _visit(session, visit_id))


def _visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"no visit {visit_id}")
    return visit


def _snapshot(services: Services, visit_id: int) -> CartUpdate:
    with services.sessions() as session:
        visit = _visit(session, visit_id)
        cart = service.read_cart(session, services, visit)
        return CartUpdate(kind="cart", visit_id=visit.id, visit_status=visit.status, cart=cart)


def _frame(update: CartUpdate) -> str:
    return f"event: {update.kind}\ndata: {update.model_dump_json()}\n\n"


async def _stream(services: Services, visit_id: int) -> AsyncIterator[str]:
    heartbeat_s = services.settings.stream_heartbeat.total_seconds()
    with services.bus.subscribe(visit_id) as subscription:
        # Subscribed first, then the snapshot: no change can fall in between.
        update = await run_in_threadpool(_snapshot, services, visit_id)
        yield _frame(update)
        while not update.final:
            try:
                next_update = await subscription.next(heartbeat_s)
            except SubscriptionLost:
                return  # the app reconnects and starts from a fresh snapshot
            if next_update is None:
                yield ": keep-alive\n\n"
                continue
            update = next_update
            yield _frame(update)


@router.get(
    "/visits/current/events",
    summary="Server-Sent Events of the open visit: the cart, then each change, until paid",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def live_events(principal: Person, session: DbSession, services: ServicesDep) -> StreamingResponse:
    visit = visits.current(session, principal.account.id)
    return StreamingResponse(
        _stream(services, visit.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

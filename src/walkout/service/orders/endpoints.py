"""HTTP endpoints of order ahead: catalog, pickup slots, orders, picking and the pickup window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from walkout.service.auth import Manager, Person, Principal, RoleGuard, StaffMember
from walkout.service.catalogue import Catalogue
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.entry import service as entry
from walkout.service.entry.endpoints import NO_STORE
from walkout.service.errors import NotFound
from walkout.service.fields import MAX_ID, NO_CONTROL
from walkout.service.models import Order, OrderLine, OrderStatus, OrderStock, Role
from walkout.service.orders import repository, service, stock
from walkout.service.orders.schemas import (
    CatalogPage,
    CatalogProduct,
    ComponentRead,
    Handover,
    OrderCreate,
    OrderLineRead,
    OrderPaymentRead,
    OrderRead,
    PickRead,
    PickupCodeRead,
    SlotRead,
    Swept,
)

router = APIRouter(tags=["orders"])

Shopper = Annotated[Principal, Depends(RoleGuard(frozenset({Role.SHOPPER})))]
#: The pickup window: staff, or a scanner device there.
Window = Annotated[
    Principal, Depends(RoleGuard(frozenset({Role.STAFF, Role.MANAGER, Role.DEVICE})))
]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _components(catalogue: Catalogue, sku: str) -> list[ComponentRead]:
    product = catalogue.products.get(sku)
    if product is None:
        return []
    return [
        ComponentRead(sku=c.sku, name=catalogue.name(c.sku), qty=c.qty) for c in product.components
    ]


def _reads(session: Session, catalogue: Catalogue, orders: Sequence[Order]) -> list[OrderRead]:
    """The orders as answered, their lines and picks loaded for all of them at once: a page of
    orders costs as many queries as one."""
    ids = [o.id for o in orders]
    lines = repository.lines(session, ids)
    picks = repository.stock(session, ids)
    return [_order_read(catalogue, o, lines.get(o.id, []), picks.get(o.id, [])) for o in orders]


def _read(session: Session, catalogue: Catalogue, order: Order) -> OrderRead:
    (read,) = _reads(session, catalogue, [order])
    return read


def _order_read(
    catalogue: Catalogue, order: Order, lines: Sequence[OrderLine], picks: Sequence[OrderStock]
) -> OrderRead:
    return OrderRead(
        id=order.id,
        account_id=order.account_id,
        status=order.status,
        mode=order.mode,
        slot_start=order.slot_start,
        slot_end=order.slot_end,
        bay=order.bay,
        vehicle=order.vehicle,
        currency=order.currency,
        total=order.total,
        restricted=order.restricted,
        lines=[
            OrderLineRead(
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                qty=line.qty,
                amount=line.unit_price * line.qty,
                components=_components(catalogue, line.sku),
            )
            for line in lines
        ],
        picks=[
            PickRead(sku=units.sku, name=catalogue.name(units.sku), qty=units.qty)
            for units in picks
        ],
        payment=OrderPaymentRead(
            state=order.payment_state,
            authorized_amount=order.authorized_amount,
            captured_amount=order.captured_amount,
            error=order.payment_error,
        ),
        cancelable=service.cancelable(order),
        created_at=order.created_at,
        picking_at=order.picking_at,
        ready_at=order.ready_at,
        closed_at=order.closed_at,
    )


@router.get(
    "/catalog",
    summary="Products to order ahead, with price and availability",
    description="Meal kits first (what order ahead is for), then the other products; each "
    "group by name.",
)
def catalog(
    _: Person,
    session: DbSession,
    services: ServicesDep,
    q: Annotated[
        str | None,
        Query(max_length=128, pattern=NO_CONTROL, description="Part of a name or SKU, any case."),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> CatalogPage:
    catalogue = services.catalogue
    needle = (q or "").strip().casefold()
    matching = sorted(
        (
            p
            for p in catalogue.products.values()
            if needle in p.name.casefold() or needle in p.sku.casefold()
        ),
        key=lambda p: (not p.is_kit, p.name.casefold(), p.sku),
    )
    page = matching[offset : offset + limit]
    free = stock.availability(session, services) if page else None
    items = [
        CatalogProduct(
            sku=p.sku,
            name=p.name,
            price=p.price,
            currency=catalogue.currency,
            restricted=p.age_restricted,
            tags=list(p.tags),
            kit=p.is_kit,
            components=_components(catalogue, p.sku),
            available=free.of_product(p.sku) if free is not None else 0,
        )
        for p in page
    ]
    return CatalogPage(total=len(matching), offset=offset, limit=limit, items=items)


@router.get("/pickup/slots", summary="Pickup slots that can be booked, with places left")
def pickup_slots(_: Person, session: DbSession, services: ServicesDep) -> list[SlotRead]:
    return [
        SlotRead(start=p.slot.start, end=p.slot.end, capacity=p.capacity, remaining=p.remaining)
        for p in service.slot_places(session, services)
    ]


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Order ahead for pickup: reserve stock and a slot, hold the total on the card",
    description="A retried request with the same Idempotency-Key answers the same order. "
    "Refusals: 402 card_declined (no order kept), 409 sold_out or slot_full, 422 "
    "slot_unavailable or unknown_product, 403 no_payment_method or unpaid_visit.",
)
def place_order(
    body: OrderCreate,
    principal: Shopper,
    session: DbSession,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None,
        Header(min_length=1, max_length=255, pattern=NO_CONTROL, alias="Idempotency-Key"),
    ] = None,
) -> OrderRead:
    order = service.place(session, services, principal.account, body, idempotency_key)
    return _read(session, services.catalogue, order)


@router.get("/orders", summary="The shopper's orders, newest first")
def list_orders(
    principal: Shopper,
    session: DbSession,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[OrderRead]:
    orders = repository.of_account(session, principal.account.id, offset, limit)
    return _reads(session, services.catalogue, orders)


@router.get("/orders/{order_id}", summary="One of the shopper's orders")
def get_order(
    order_id: OrderId, principal: Shopper, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.own(session, principal.account, order_id)
    return _read(session, services.catalogue, order)


@router.get("/orders/{order_id}/pickup-code", summary="The order's pickup code, as text")
def pickup_code(
    order_id: OrderId,
    principal: Shopper,
    session: DbSession,
    services: ServicesDep,
    response: Response,
) -> PickupCodeRead:
    order = service.own(session, principal.account, order_id)
    response.headers.update(NO_STORE)
    return PickupCodeRead(order_id=order.id, code=service.pickup_code(services, order))


@router.get(
    "/orders/{order_id}/pickup-qr.svg",
    summary="The order's pickup code drawn as a QR code",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def pickup_qr(
    order_id: OrderId, principal: Shopper, session: DbSession, services: ServicesDep
) -> Response:
    order = service.own(session, principal.account, order_id)
    svg = entry.qr_svg(service.pickup_code(services, order))
    return Response(svg, media_type="image/svg+xml", headers=NO_STORE)


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel an order free of charge, until picking starts",
    description="409 cancel_too_late once staff started picking.",
)
def cancel_order(
    order_id: OrderId, principal: Shopper, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.cancel_own(session, services, principal.account, order_id)
    return _read(session, services.catalogue, order)


@router.get("/staff/orders", summary="Orders to pick and hand over, by slot (staff)")
def staff_orders(
    _: StaffMember,
    session: DbSession,
    services: ServicesDep,
    status_: Annotated[
        list[OrderStatus] | None, Query(alias="status", max_length=8, description="Any of these.")
    ] = None,
    slot_from: Annotated[
        AwareDatetime | None, Query(description="Slots starting at or after.")
    ] = None,
    slot_to: Annotated[AwareDatetime | None, Query(description="Slots starting before.")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[OrderRead]:
    orders = repository.for_staff(session, status_ or [], slot_from, slot_to, offset, limit)
    return _reads(session, services.catalogue, orders)


@router.get("/staff/orders/{order_id}", summary="One order with its picking list (staff)")
def staff_order(
    order_id: OrderId, _: StaffMember, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = repository.get(session, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return _read(session, services.catalogue, order)


@router.post("/staff/orders/{order_id}/picking", summary="Start picking an order (staff)")
def start_picking(
    order_id: OrderId, _: StaffMember, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.start_picking(session, services, order_id)
    return _read(session, services.catalogue, order)


@router.post("/staff/orders/{order_id}/ready", summary="An order is packed and ready (staff)")
def mark_ready(
    order_id: OrderId, _: StaffMember, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.mark_ready(session, services, order_id)
    return _read(session, services.catalogue, order)


@router.post(
    "/staff/orders/{order_id}/cancel",
    summary="Cancel an order the store cannot fill; its card hold is released (staff)",
)
def staff_cancel(
    order_id: OrderId, _: StaffMember, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.cancel_by_staff(session, services, order_id)
    return _read(session, services.catalogue, order)


@router.post(
    "/pickup/handover",
    summary="Hand an order over at the window: verify its code, capture the payment "
    "(staff or the window's device)",
    responses={
        403: {"description": "forged, or wrong_order (the code of another order)."},
        409: {
            "description": "replayed (collected already), order_closed, not_ready, "
            "handover_in_progress or id_check_required."
        },
    },
)
def handover(
    body: Handover, principal: Window, session: DbSession, services: ServicesDep
) -> OrderRead:
    order = service.hand_over(
        session, services, principal.account, body.code, body.order_id, body.id_checked
    )
    return _read(session, services.catalogue, order)


@router.post(
    "/staff/orders/expire",
    summary="Mark orders not collected in time as no-shows and move on pending payments (manager)",
)
def expire(_: Manager, services: ServicesDep) -> Swept:
    swept = service.sweep(services)
    return Swept(no_show=swept.no_show, payments=swept.payments)

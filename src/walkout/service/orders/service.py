"""Order ahead for pickup: the catalog, slots, placing, picking, handover, cancel and no-shows.

An order reserves its stock (meal kits as their components) and a place in its slot as it is
placed, then asks the card for a hold; a refused card leaves no order. Staff pick it and mark
it ready; at the window the shopper's signed pickup code is scanned, the hold is captured and
the stock taken. The shopper cancels free until picking starts; an order not collected within
``pickup_grace`` after its slot is a no-show: its stock is released and its hold released or
charged the no-show fee. ``sweep`` finds no-shows and moves on payments a stop left half-way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from walkout.service.billing.provider import CardRefused, PaymentRejected, PaymentUnavailable
from walkout.service.cards import service as cards
from walkout.service.deps import Services
from walkout.service.entry.token import ForgedToken
from walkout.service.errors import Conflict, DomainError, Forbidden, NotFound
from walkout.service.models import (
    Account,
    Order,
    OrderLine,
    OrderStatus,
    OrderStock,
    PaymentState,
)
from walkout.service.orders import payment, repository, slots, stock
from walkout.service.orders.code import PickupCode
from walkout.service.orders.repository import RESERVING, Change
from walkout.service.orders.schemas import OrderCreate
from walkout.service.visits import service as visits


class NoPaymentMethod(Forbidden):
    code = "no_payment_method"

    def __init__(self) -> None:
        super().__init__("add a card in the app before ordering")


class UnpaidVisit(Forbidden):
    code = "unpaid_visit"

    def __init__(self) -> None:
        super().__init__("a previous visit is not paid: settle it first")


class UnknownProduct(DomainError):
    status = 422
    code = "unknown_product"


class NothingToPay(DomainError):
    status = 422
    code = "nothing_to_pay"

    def __init__(self) -> None:
        super().__init__("these products cost nothing: there is nothing to order")


class SlotUnavailable(DomainError):
    status = 422
    code = "slot_unavailable"


class SlotFull(Conflict):
    code = "slot_full"

    def __init__(self) -> None:
        super().__init__("this pickup slot is fully booked: choose another")


class SoldOut(Conflict):
    code = "sold_out"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different order")


class OrderNotOpen(Conflict):
    code = "order_closed"


class CancelTooLate(Conflict):
    code = "cancel_too_late"

    def __init__(self) -> None:
        super().__init__("picking has started: this order can no longer be canceled in the app")


class WrongStatus(Conflict):
    code = "wrong_status"


class Refusal(StrEnum):
    """Why the window refuses a pickup code (the ``code`` of the answer)."""

    FORGED = "forged"
    WRONG_ORDER = "wrong_order"
    REPLAYED = "replayed"
    ORDER_CLOSED = "order_closed"
    NOT_READY = "not_ready"
    IN_PROGRESS = "handover_in_progress"
    ID_CHECK_REQUIRED = "id_check_required"


class HandoverRefused(DomainError):
    def __init__(self, reason: Refusal, detail: str, status: int = 409) -> None:
        super().__init__(detail)
        self.code = reason.value
        self.status = status
        self.reason = reason


_SLOT_PROBLEMS = {
    slots.SlotProblem.NOT_A_SLOT: "not the start of a pickup slot: see GET /pickup/slots",
    slots.SlotProblem.PAST: "this pickup slot is in the past",
    slots.SlotProblem.TOO_SOON: "this pickup slot starts too soon to prepare the order",
    slots.SlotProblem.TOO_FAR: "this pickup slot is too far ahead to book yet",
}


@dataclass(frozen=True)
class SlotPlaces:
    """A bookable slot and the orders it still takes."""

    slot: slots.Slot
    capacity: int
    remaining: int


@dataclass(frozen=True)
class Swept:
    """What a sweep did: orders that became no-shows, orders whose payment moved on."""

    no_show: list[int]
    payments: list[int]


def cancelable(order: Order) -> bool:
    """Whether the shopper can still cancel free of charge: until picking starts."""
    return order.status is OrderStatus.PLACED


def slot_places(session: Session, services: Services) -> list[SlotPlaces]:
    """Every bookable slot with its remaining places."""
    found = slots.bookable(services.settings, services.clock())
    if not found:
        return []
    taken = repository.booked(session, found[0].start, found[-1].start)
    capacity = services.settings.pickup_slot_capacity
    return [SlotPlaces(s, capacity, max(0, capacity - taken.get(s.start, 0))) for s in found]


def _digest(request: OrderCreate) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _eligible(session: Session, services: Services, account: Account) -> tuple[str, str]:
    """The account's provider customer and the card to hold, or why it may not order."""
    card = cards.default_card(session, services, account.id)
    if not account.has_payment_method or card is None:
        raise NoPaymentMethod()
    if visits.has_unpaid(session, account.id):
        raise UnpaidVisit()
    return cards.customer_id(session, services, account), card.method_id


def place(
    session: Session,
    services: Services,
    account: Account,
    request: OrderCreate,
    idempotency_key: str | None,
) -> Order:
    """Reserve the stock and slot place, hold the total on the shopper's card: the order.

    With ``idempotency_key``, a request repeated with the same key and body returns the first
    order (finishing its card hold if a failure interrupted it) instead of a second one.
    """
    digest = _digest(request)
    if idempotency_key is not None:
        existing = repository.by_key(session, account.id, idempotency_key)
        if existing is not None:
            if existing.request_digest != digest:
                raise IdempotencyKeyReused()
            session.commit()
            return _hold(session, services, existing.id)
    customer_id, method_id = _eligible(session, services, account)
    catalogue = services.catalogue
    products = []
    for line in request.lines:
        product = catalogue.products.get(line.sku)
        if product is None:
            raise UnknownProduct(f"no product {line.sku!r} in this store")
        products.append((product, line.qty))
    total = sum(p.price * qty for p, qty in products)
    if total == 0:
        raise NothingToPay()
    now = services.clock()
    slot = slots.check(services.settings, now, request.slot_start)
    if isinstance(slot, slots.SlotProblem):
        raise SlotUnavailable(_SLOT_PROBLEMS[slot])
    repository.lock_placement(session)
    taken = repository.booked(session, slot.start, slot.start).get(slot.start, 0)
    if taken >= services.settings.pickup_slot_capacity:
        raise SlotFull()
    wanted = stock.needs(catalogue, request.lines)
    short = stock.shortages(stock.availability(session, services), wanted)
    if short:
        detail = "; ".join(f"{s.sku}: {s.free} left, {s.wanted} wanted" for s in short)
        raise SoldOut(f"not enough in stock: {detail}")
    order = Order(
        account_id=account.id,
        status=OrderStatus.AUTHORISING,
        mode=request.mode,
        slot_start=slot.start,
        slot_end=slot.end,
        bay=request.bay,
        vehicle=request.vehicle,
        currency=catalogue.currency,
        total=total,
        restricted=any(p.age_restricted for p, _ in products),
        idempotency_key=idempotency_key,
        request_digest=digest,
        code_id=secrets.token_hex(16),
        payment_state=PaymentState.PENDING,
        provider=services.settings.payment_provider.value,
        customer_id=customer_id,
        method_id=method_id,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, order)
    for product, qty in products:
        repository.add(
            session,
            OrderLine(
                order_id=order.id,
                sku=product.sku,
                name=product.name,
                unit_price=product.price,
                qty=qty,
            ),
        )
    for sku, qty in sorted(wanted.items()):
        repository.add(session, OrderStock(order_id=order.id, sku=sku, qty=qty))
    session.commit()  # the reservation stands while the card is asked (no lock held)
    return _hold(session, services, order.id)


def _hold(session: Session, services: Services, order_id: int) -> Order:
    """Ask for (or finish asking for) the order's card hold; refusals as 402/422/503."""
    outcome = payment.run(services, order_id)
    if outcome.order is None:
        reason = outcome.error or "refused"
        if outcome.declined:
            raise CardRefused(f"the card was declined ({reason}): no order was placed")
        raise PaymentRejected(f"the payment was refused ({reason}): no order was placed")
    if outcome.order.status is OrderStatus.AUTHORISING:
        raise PaymentUnavailable(
            "the payment provider is unavailable: the order is kept for a moment; retry with "
            "the same Idempotency-Key"
        )
    return _fresh(session, order_id)


def _fresh(session: Session, order_id: int) -> Order:
    order = repository.get(session, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def own(session: Session, account: Account, order_id: int) -> Order:
    """The shopper's order (404 for anyone else's)."""
    order = repository.get(session, order_id)
    if order is None or order.account_id != account.id:
        raise NotFound(f"no order {order_id}")
    return order


def pickup_code(services: Services, order: Order) -> str:
    """The signed code the shopper shows at the window, while the order is open."""
    if order.status not in RESERVING or order.status is OrderStatus.AUTHORISING:
        raise OrderNotOpen(f"this order is {order.status.value}: it has no pickup code")
    return services.pickup_signer.sign(PickupCode(order.id, order.code_id))


def _move(
    session: Session, services: Services, order: Order, allowed: set[OrderStatus], change: Change
) -> Order:
    """Apply a status change to an order in one of ``allowed`` statuses, or refuse (409)."""
    if order.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise WrongStatus(f"this order is {order.status.value}; it must be {names}")
    if not repository.transition(session, order, change, services.clock()):
        raise Conflict("the order changed meanwhile: look again")
    return _fresh(session, order.id)


def start_picking(session: Session, services: Services, order_id: int) -> Order:
    order = _fresh(session, order_id)
    change = Change(status=OrderStatus.PICKING, picking_at=services.clock())
    return _move(session, services, order, {OrderStatus.PLACED}, change)


def mark_ready(session: Session, services: Services, order_id: int) -> Order:
    order = _fresh(session, order_id)
    change = Change(status=OrderStatus.READY, ready_at=services.clock())
    return _move(session, services, order, {OrderStatus.PICKING}, change)


def _close(session: Session, services: Services, order: Order, allowed: set[OrderStatus]) -> Order:
    """Cancel: the stock and slot place are freed at once, then the hold is released."""
    change = Change(status=OrderStatus.CANCELED, closed_at=services.clock())
    _move(session, services, order, allowed, change)
    session.commit()
    payment.run(services, order.id)
    return _fresh(session, order.id)


def cancel_own(session: Session, services: Services, account: Account, order_id: int) -> Order:
    """The shopper cancels: free until picking starts, refused after."""
    order = own(session, account, order_id)
    if order.status in (OrderStatus.PICKING, OrderStatus.READY):
        raise CancelTooLate()
    return _close(session, services, order, {OrderStatus.PLACED})


def cancel_by_staff(session: Session, services: Services, order_id: int) -> Order:
    """Staff cancel an order they cannot fill (before handover): the hold is released."""
    order = _fresh(session, order_id)
    allowed = {OrderStatus.PLACED, OrderStatus.PICKING, OrderStatus.READY}
    return _close(session, services, order, allowed)


def _check_code(order: Order | None, code: PickupCode) -> Order:
    if order is None:
        raise HandoverRefused(Refusal.FORGED, "no such order", status=403)
    if order.code_id != code.code_id:
        raise HandoverRefused(Refusal.WRONG_ORDER, "this code belongs to another order", 403)
    if order.status is OrderStatus.COLLECTED:
        raise HandoverRefused(Refusal.REPLAYED, "this order has been collected already")
    if order.status in (OrderStatus.CANCELED, OrderStatus.NO_SHOW):
        raise HandoverRefused(Refusal.ORDER_CLOSED, f"this order is {order.status.value}")
    if order.status is OrderStatus.HANDING_OVER:
        raise HandoverRefused(Refusal.IN_PROGRESS, "this order is being handed over")
    if order.status is not OrderStatus.READY:
        raise HandoverRefused(Refusal.NOT_READY, f"this order is {order.status.value}, not ready")
    return order


def hand_over(
    session: Session,
    services: Services,
    by: Account,
    text: str,
    order_id: int | None,
    id_checked: bool,
) -> Order:
    """The window scanned a pickup code: capture the hold, take the stock, hand it over."""
    try:
        code = services.pickup_signer.parse(text)
    except ForgedToken as e:
        raise HandoverRefused(Refusal.FORGED, f"not a valid pickup code: {e}", 403) from None
    if order_id is not None and code.order_id != order_id:
        raise HandoverRefused(
            Refusal.WRONG_ORDER, f"this code is for order {code.order_id}, not {order_id}", 403
        )
    order = _check_code(repository.get(session, code.order_id), code)
    if order.restricted and not id_checked:
        raise HandoverRefused(
            Refusal.ID_CHECK_REQUIRED,
            "this order holds age-restricted products: check the shopper's ID first",
        )
    change = Change(
        status=OrderStatus.HANDING_OVER,
        handed_over_by=by.id,
        id_checked_by=by.id if order.restricted else None,
    )
    if not repository.transition(session, order, change, services.clock()):
        raise HandoverRefused(Refusal.IN_PROGRESS, "this order changed meanwhile: scan again")
    session.commit()
    outcome = payment.run(services, order.id)
    done = _fresh(session, order.id)
    if done.status is OrderStatus.COLLECTED:
        return done
    if done.status is OrderStatus.HANDING_OVER:  # the provider is down: let staff retry
        repository.transition(session, done, Change(status=OrderStatus.READY), services.clock())
        session.commit()
        raise PaymentUnavailable(
            f"the payment could not be captured now ({outcome.error}): do not hand over yet; "
            "scan again in a moment"
        )
    raise PaymentRejected(f"the payment could not be captured ({outcome.error}): do not hand over")


def sweep(services: Services) -> Swept:
    """Mark orders not collected in time as no-shows, then move on every payment due: hold
    requests and captures a stop interrupted, releases and no-show fees."""
    now = services.clock()
    no_show = []
    with services.sessions() as session:
        for order_id in repository.overdue(session, now - services.settings.pickup_grace):
            order = repository.get(session, order_id)
            change = Change(status=OrderStatus.NO_SHOW, closed_at=now)
            if order is not None and repository.transition(session, order, change, now):
                no_show.append(order_id)
        session.commit()
        due = list(repository.payment_due(session))
    for order_id in due:
        payment.run(services, order_id)
    return Swept(no_show, due)

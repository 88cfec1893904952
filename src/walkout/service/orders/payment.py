"""An order's card hold: asked for when it is placed, captured at handover, released (or a
no-show fee captured) when it is canceled or not collected.

Like a visit's payment (ADR 6): each provider call carries a key derived from the order
(``order-<id>-auth``, ``order-<id>-capture``), is retried on transient failures, and runs with
no transaction open; its outcome is written only if the order is still where it was (a
compare-and-set on status and payment state). So a retried request, racing workers and a
restarted service repeat the same keyed calls and record one outcome: never two charges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from walkout.payments import Authorization, CardDeclined, PaymentError, PaymentRetryableError
from walkout.service.billing.provider import retrying
from walkout.service.deps import Services
from walkout.service.models import Order, OrderStatus, PaymentState
from walkout.service.orders import repository, stock
from walkout.service.orders.repository import Change


@dataclass(frozen=True)
class Outcome:
    """Where an order's payment stopped: the order (None once discarded: its hold was
    refused), and the last provider error (None when every step succeeded)."""

    order: Order | None
    declined: bool
    error: str | None


def key(order: Order, operation: str) -> str:
    """The idempotency key of ``operation`` on the order's card hold."""
    return f"order-{order.id}-{operation}"


def _authorization(order: Order) -> Authorization:
    assert order.authorization_id is not None
    assert order.authorized_amount is not None
    return Authorization(
        order.authorization_id,
        order.customer_id,
        order.method_id,
        order.authorized_amount,
        order.currency,
    )


def _authorise(services: Services, order: Order) -> Change:
    try:
        held = retrying(
            services.settings,
            lambda: services.provider.authorize(
                order.customer_id, order.method_id, order.total, order.currency, key(order, "auth")
            ),
        )
    except CardDeclined as e:
        return Change(payment_state=PaymentState.DECLINED, payment_error=e.decline_code or e.code)
    except PaymentError as e:
        return Change(payment_state=PaymentState.FAILED, payment_error=str(e)[:512])
    return Change(
        status=OrderStatus.PLACED,
        payment_state=PaymentState.AUTHORISED,
        authorization_id=held.id,
        authorized_amount=held.amount,
    )


def _capture(services: Services, order: Order, amount: int) -> Change:
    held = _authorization(order)
    captured = retrying(
        services.settings,
        lambda: services.provider.capture(held, amount, key(order, "capture")),
    )
    return Change(payment_state=PaymentState.CAPTURED, captured_amount=captured.amount)


def _hand_over(services: Services, order: Order) -> Change:
    """Capture the whole hold; a final refusal sends the order back to ``ready`` (not handed
    over) with the reason."""
    try:
        change = _capture(services, order, order.total)
    except PaymentError as e:
        return Change(status=OrderStatus.READY, payment_error=str(e)[:512])
    return Change(
        status=OrderStatus.COLLECTED,
        payment_state=change.payment_state,
        captured_amount=change.captured_amount,
        closed_at=services.clock(),
    )


def _release(services: Services, order: Order) -> Change:
    """A canceled order's hold is released; a no-show's pays the configured fee, if any."""
    fee = services.settings.pickup_no_show_fee if order.status is OrderStatus.NO_SHOW else 0
    fee = min(fee, order.authorized_amount or 0)
    try:
        if fee > 0:
            return _capture(services, order, fee)
        held = _authorization(order)
        retrying(services.settings, lambda: services.provider.cancel(held))
    except PaymentError as e:
        return Change(payment_state=PaymentState.FAILED, payment_error=str(e)[:512])
    return Change(payment_state=PaymentState.CANCELED)


def _next_step(order: Order) -> Callable[[Services, Order], Change] | None:
    if order.status is OrderStatus.AUTHORISING and order.payment_state is PaymentState.PENDING:
        return _authorise
    if order.payment_state is not PaymentState.AUTHORISED:
        return None
    if order.status is OrderStatus.HANDING_OVER:
        return _hand_over
    if order.status in (OrderStatus.CANCELED, OrderStatus.NO_SHOW):
        return _release
    return None


def _record(session: Session, services: Services, order: Order, change: Change) -> bool:
    """Write a step's outcome if the order is still as seen; collected orders take stock."""
    if change.payment_state in (PaymentState.DECLINED, PaymentState.FAILED) and (
        order.status is OrderStatus.AUTHORISING
    ):
        return repository.discard(session, order)  # no hold: no order is kept
    if not repository.transition(session, order, change, services.clock()):
        return False
    if change.status is OrderStatus.COLLECTED:
        for units in repository.stock(session, [order.id]).get(order.id, []):
            stock.take(session, services, units.sku, units.qty)
    return True


def run(services: Services, order_id: int) -> Outcome:
    """Move an order's payment on as far as it goes now, one committed step at a time.

    Safe to call any number of times, concurrently and after a restart. A transient failure
    that outlasts the retries leaves the order where it was, with the error, for the sweep.
    An order held with another provider than the configured one is left alone.
    """
    error: str | None = None
    declined = False
    with services.sessions() as session:
        while True:
            order = repository.get(session, order_id)
            session.commit()  # no transaction (no lock) while the provider is called
            step = None if order is None else _next_step(order)
            if (
                order is None
                or step is None
                or order.provider != services.settings.payment_provider
            ):
                return Outcome(order, declined, error)
            try:
                change = step(services, order)
            except PaymentRetryableError as e:
                error = f"retrying: {e}"[:512]
                repository.transition(session, order, Change(payment_error=error), services.clock())
                session.commit()
                return Outcome(repository.get(session, order_id), declined, error)
            if _record(session, services, order, change):
                error = change.payment_error
                declined = change.payment_state is PaymentState.DECLINED
            session.commit()

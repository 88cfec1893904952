"""Orders ahead written straight into the database, for the privacy and suggestions tests
(they need an order in a given state, not the ordering flow the orders tests cover)."""

from __future__ import annotations

from datetime import timedelta

from walkout.service.models import Order, OrderLine, OrderStatus, PaymentState, PickupMode

from .helpers import Store


def insert_order(store: Store, account_id: int, status: OrderStatus, skus: list[str]) -> int:
    """An order of one unit of each of ``skus`` in ``status``; its id."""
    now = store.services.clock()
    done = status in (OrderStatus.COLLECTED, OrderStatus.CANCELED, OrderStatus.NO_SHOW)
    with store.services.sessions.begin() as session:
        order = Order(
            account_id=account_id,
            status=status,
            mode=PickupMode.DRIVE_THROUGH,
            slot_start=now,
            slot_end=now + timedelta(minutes=15),
            currency=store.services.catalogue.currency,
            total=100 * len(skus),
            restricted=False,
            request_digest="0" * 64,
            code_id="0" * 32,
            payment_state=PaymentState.CAPTURED if done else PaymentState.AUTHORISED,
            provider="ledger",
            customer_id="cus_test",
            method_id="pm_test",
            created_at=now,
            closed_at=now if done else None,
            updated_at=now,
        )
        session.add(order)
        session.flush()
        for sku in skus:
            session.add(OrderLine(order_id=order.id, sku=sku, name=sku, unit_price=100, qty=1))
        order_id: int = order.id
    return order_id

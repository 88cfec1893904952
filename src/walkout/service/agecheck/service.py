"""Age checks: an age-restricted pick holds its cart line until staff check the shopper's ID.

The first ``ItemAdded`` of an age-restricted product on a visit opens the visit's check and an
``age_check`` staff task. While the check is open the visit's restricted lines are held, and a
receipt holding any is authorised but not captured (the billing hold). Staff confirm (the lines
are released; a held payment captures its amount) or refuse (the restricted lines come off the live
cart and off what is charged, the shopper returns them; a held payment captures the rest).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from walkout.domain.events import ItemAdded
from walkout.service.agecheck import repository
from walkout.service.billing import repository as billing_repository
from walkout.service.billing import service as billing
from walkout.service.billing.repository import Change
from walkout.service.carts import repository as carts_repository
from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.errors import Conflict, NotFound
from walkout.service.inventory import repository as inventory_repository
from walkout.service.models import (
    Account,
    AgeCheck,
    AgeCheckState,
    Payment,
    Receipt,
    StaffTask,
    TaskKind,
)
from walkout.service.receipts import repository as receipts_repository


class AgeCheckDecided(Conflict):
    code = "age_check_decided"

    def __init__(self) -> None:
        super().__init__("this visit's age check is decided already")


def restricted(catalogue: Catalogue, sku: str) -> bool:
    """Whether the store file marks the product age-restricted."""
    product = catalogue.products.get(sku)
    return product is not None and product.age_restricted


def state(session: Session, visit_id: int) -> AgeCheckState | None:
    """The visit's age check state; None when it never picked a restricted product."""
    check = repository.get(session, visit_id)
    return check.state if check is not None else None


def on_item_added(session: Session, services: Services, visit_id: int, event: ItemAdded) -> None:
    """Open the visit's check and its staff task at its first age-restricted pick."""
    if not restricted(services.catalogue, event.sku) or repository.get(session, visit_id):
        return
    now = services.clock()
    task = StaffTask(
        kind=TaskKind.AGE_CHECK,
        plate=event.evidence.plate,
        sku=event.sku,
        qty=event.qty,
        visit_id=visit_id,
        event_id=event.id,
        opened_at=now,
    )
    inventory_repository.add(session, task)
    repository.add(
        session,
        AgeCheck(visit_id=visit_id, task_id=task.id, state=AgeCheckState.OPEN, opened_at=now),
    )


def _restricted_amount(session: Session, catalogue: Catalogue, receipt: Receipt) -> int:
    """What the receipt's age-restricted lines cost."""
    lines = receipts_repository.lines(session, receipt.id)
    return sum(ln.unit_price * ln.qty for ln in lines if restricted(catalogue, ln.sku))


def _charged_without(payment: Payment, refused: int) -> int:
    """The payment's amount less the refused lines (never below zero)."""
    return max(0, payment.amount - refused)


def on_payment_opened(
    session: Session, services: Services, receipt: Receipt, payment: Payment
) -> None:
    """Hold a fresh payment while its visit's check is open; leave refused lines uncharged."""
    check_state = state(session, receipt.visit_id)
    if check_state in (None, AgeCheckState.CONFIRMED):
        return
    refused = _restricted_amount(session, services.catalogue, receipt)
    if refused == 0:
        return
    if check_state is AgeCheckState.OPEN:
        payment.held = True
    else:
        payment.amount = _charged_without(payment, refused)
    session.flush()


def decide(
    session: Session, services: Services, staff: Account, visit_id: int, confirmed: bool
) -> AgeCheck:
    """Record staff's decision, close the task, and release a payment held for the check."""
    check = repository.get(session, visit_id, for_update=True)
    if check is None:
        raise NotFound(f"visit {visit_id} has no age check")
    if check.state is not AgeCheckState.OPEN:
        raise AgeCheckDecided()
    now = services.clock()
    check.state = AgeCheckState.CONFIRMED if confirmed else AgeCheckState.REFUSED
    check.decided_at, check.decided_by = now, staff.id
    if check.task_id is not None:
        task = inventory_repository.lock_task(session, check.task_id)
        if task is not None and task.closed_at is None:
            task.closed_at, task.closed_by = now, staff.id
    if not confirmed:  # the shopper hands them back: off the live cart
        for line in carts_repository.lines(session, visit_id):
            if restricted(services.catalogue, line.sku):
                carts_repository.delete_line(session, line)
    session.flush()
    receipt = receipts_repository.get_by_visit(session, visit_id)
    payment = billing_repository.get_by_visit(session, visit_id)
    if receipt is None or payment is None or not payment.held:
        return check
    amount = payment.amount
    if not confirmed:
        amount = _charged_without(payment, _restricted_amount(session, services.catalogue, receipt))
    if receipt.flagged:  # the engine's doubt still needs its own review: only the amount moves
        billing_repository.transition(session, payment, Change(amount=amount), now)
    else:
        billing.release(session, services, receipt, amount, staff)
    return check


def held_skus(
    session: Session, catalogue: Catalogue, visit_id: int, skus: Iterable[str]
) -> set[str]:
    """The given products whose lines on the visit wait for its open age check."""
    return held_of(catalogue, visit_id in repository.open_of(session, [visit_id]), skus)


def held_of(catalogue: Catalogue, check_open: bool, skus: Iterable[str]) -> set[str]:
    """The given products held on a visit whose age check is open (``check_open``) or not."""
    return {sku for sku in skus if restricted(catalogue, sku)} if check_open else set()

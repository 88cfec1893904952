"""Walk-out payment: a payment per closed visit, driven through its states without charging twice.

States (``PaymentState``): pending → authorised → captured, or canceled when staff set the
amount to zero; declined (the card) or failed (anything else final) leave the visit unpaid
until the shopper settles with another card, which starts a new attempt. Every provider call
carries a key derived from the visit and the attempt (``visit-<id>-auth``,
``visit-<id>-capture``; ``-<attempt>`` appended from the second attempt on), is retried on
transient failures, and runs outside any database transaction; its outcome is written only
if the payment is still where it was (a compare-and-set on state and attempt), so workers
racing on one payment, or a restarted service, repeat the same keyed calls and record one
outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from walkout.payments import Authorization, CardDeclined, PaymentError, PaymentRetryableError
from walkout.payments import Payment as CapturedPayment
from walkout.service.agecheck import repository as age_checks
from walkout.service.billing import repository
from walkout.service.billing.provider import retrying
from walkout.service.billing.repository import Change
from walkout.service.cards import repository as cards_repository
from walkout.service.cards import service as cards
from walkout.service.carts.schemas import CartUpdate
from walkout.service.deps import Services
from walkout.service.errors import Conflict, NotFound
from walkout.service.models import (
    Account,
    AgeCheckState,
    Payment,
    PaymentState,
    Receipt,
    Role,
    Visit,
    VisitRole,
    VisitStatus,
)

#: The visit's status while its payment is in each state.
VISIT_STATUS = {
    PaymentState.PENDING: VisitStatus.CLOSED,
    PaymentState.AUTHORISED: VisitStatus.CLOSED,
    PaymentState.CAPTURED: VisitStatus.PAID,
    PaymentState.CANCELED: VisitStatus.PAID,
    PaymentState.DECLINED: VisitStatus.UNPAID,
    PaymentState.FAILED: VisitStatus.UNPAID,
}


class NothingToSettle(Conflict):
    code = "nothing_to_settle"

    def __init__(self) -> None:
        super().__init__("this visit owes nothing")


class AgeCheckOpen(Conflict):
    code = "age_check_open"

    def __init__(self) -> None:
        super().__init__("check the shopper's ID first: POST /staff/visits/{id}/age-check")


class NotHeld(Conflict):
    code = "not_held"

    def __init__(self) -> None:
        super().__init__("this receipt is not waiting for review")


def open_payment(
    session: Session, services: Services, visit: Visit, receipt: Receipt
) -> Payment | None:
    """The payment of a visit just receipted; None (and the visit paid) when nothing is owed."""
    if visit.role is VisitRole.STAFF or receipt.total == 0:
        visit.status = VisitStatus.PAID
        return None
    name = services.settings.payment_provider.value
    customer = cards_repository.get_customer(session, visit.account_id, name)
    card = cards.default_card(session, services, visit.account_id)
    payment = Payment(
        visit_id=visit.id,
        account_id=visit.account_id,
        state=PaymentState.PENDING,
        attempt=1,
        amount=receipt.total,
        currency=receipt.currency,
        held=receipt.flagged,
        provider=name,
        customer_id=customer.customer_id if customer is not None else None,
        method_id=card.method_id if card is not None else None,
        updated_at=services.clock(),
    )
    repository.add(session, payment)
    visit.status = VisitStatus.CLOSED
    return payment


def key(payment: Payment, operation: str) -> str:
    """The idempotency key of ``operation`` in the payment's current attempt."""
    suffix = "" if payment.attempt == 1 else f"-{payment.attempt}"
    return f"visit-{payment.visit_id}-{operation}{suffix}"


def _authorise(services: Services, payment: Payment) -> Change:
    if payment.amount == 0:
        return Change(state=PaymentState.CANCELED)
    if payment.customer_id is None or payment.method_id is None:
        return Change(state=PaymentState.FAILED, error="no card on file")
    customer, method = payment.customer_id, payment.method_id
    try:
        held = retrying(
            services.settings,
            lambda: services.provider.authorize(
                customer, method, payment.amount, payment.currency, key(payment, "auth")
            ),
        )
    except CardDeclined as e:
        return Change(state=PaymentState.DECLINED, error=e.decline_code or e.code)
    except PaymentError as e:
        return Change(state=PaymentState.FAILED, error=str(e)[:512])
    return Change(
        state=PaymentState.AUTHORISED, authorization_id=held.id, authorized_amount=held.amount
    )


def _authorization(payment: Payment) -> Authorization:
    assert payment.authorization_id is not None
    assert payment.customer_id is not None
    assert payment.method_id is not None
    assert payment.authorized_amount is not None
    return Authorization(
        payment.authorization_id,
        payment.customer_id,
        payment.method_id,
        payment.authorized_amount,
        payment.currency,
    )


def _capture(services: Services, payment: Payment) -> Change:
    held = _authorization(payment)
    try:
        if payment.amount == 0:
            retrying(services.settings, lambda: services.provider.cancel(held))
            return Change(state=PaymentState.CANCELED)
        captured = retrying(
            services.settings,
            lambda: services.provider.capture(held, payment.amount, key(payment, "capture")),
        )
    except PaymentError as e:  # a lapsed or refused authorisation: settle starts over
        return Change(state=PaymentState.FAILED, error=str(e)[:512])
    return Change(state=PaymentState.CAPTURED, captured_amount=captured.amount)


def _next_step(payment: Payment) -> Callable[[Services, Payment], Change] | None:
    if payment.state is PaymentState.PENDING:
        return _authorise
    if payment.state is PaymentState.AUTHORISED and not payment.held:
        return _capture
    return None


def run(services: Services, payment_id: int) -> PaymentState:
    """Move a payment on as far as it goes now, one committed step at a time; its state.

    Safe to call any number of times, concurrently and after a restart. A transient failure
    that outlasts the retries leaves the payment where it was (with ``error``) for ``resume``.
    A payment opened with another provider than the configured one is left alone.
    """
    with services.sessions() as session:
        while True:
            payment = repository.get(session, payment_id)
            if payment is None:
                raise NotFound(f"no payment {payment_id}")
            session.commit()  # no transaction (no lock) while the provider is called
            step = _next_step(payment)
            if step is None or payment.provider != services.settings.payment_provider.value:
                return payment.state
            try:
                change = step(services, payment)
            except PaymentRetryableError as e:
                repository.transition(
                    session, payment, Change(error=f"retrying: {e}"[:512]), services.clock()
                )
                session.commit()
                return payment.state
            if repository.transition(session, payment, change, services.clock()):
                assert change.state is not None
                status = VISIT_STATUS[change.state]
                repository.set_visit_status(session, payment.visit_id, status)
                session.commit()
                services.bus.publish(
                    CartUpdate(
                        kind="payment",
                        visit_id=payment.visit_id,
                        visit_status=status,
                        payment_state=change.state,
                    )
                )
            else:
                session.commit()  # another worker moved it: look again


def captured(payment: Payment) -> CapturedPayment:
    """The provider's view of a captured payment, for refunds."""
    assert payment.state is PaymentState.CAPTURED
    assert payment.captured_amount is not None
    assert payment.authorization_id is not None
    assert payment.customer_id is not None
    return CapturedPayment(
        payment.authorization_id, payment.customer_id, payment.captured_amount, payment.currency
    )


def settle(
    session: Session, services: Services, account: Account, visit_id: int, card_id: int
) -> Payment:
    """Pay an unpaid visit with one of the account's cards: a new attempt, run now."""
    payment = repository.get_by_visit(session, visit_id)
    if payment is None or payment.account_id != account.id:
        raise NotFound(f"no payment for visit {visit_id}")
    if payment.state not in (PaymentState.DECLINED, PaymentState.FAILED):
        raise NothingToSettle()
    card = cards.card_of(session, account.id, card_id)
    customer = cards.customer_id(session, services, account)
    change = Change(
        state=PaymentState.PENDING,
        attempt=payment.attempt + 1,
        customer_id=customer,
        method_id=card.method_id,
    )
    if not repository.transition(session, payment, change, services.clock()):
        raise NothingToSettle()
    repository.set_visit_status(session, visit_id, VisitStatus.CLOSED)
    session.commit()
    run(services, payment.id)
    settled = repository.get(session, payment.id)
    assert settled is not None
    return settled


def held_receipts(session: Session) -> Sequence[Receipt]:
    """Receipts waiting for staff review before their payment is captured."""
    return repository.held(session)


def release(
    session: Session, services: Services, receipt: Receipt, amount: int | None, reviewer: Account
) -> Payment:
    """Staff reviewed a held receipt: capture ``amount`` (default: the receipt's total; at most
    what was authorised; 0 releases the hold and charges nothing)."""
    assert reviewer.role in (Role.STAFF, Role.MANAGER)
    payment = repository.get_by_visit(session, receipt.visit_id)
    if payment is None or not payment.held:
        raise NotHeld()
    check = age_checks.get(session, receipt.visit_id)
    if check is not None and check.state is AgeCheckState.OPEN:
        raise AgeCheckOpen()
    limit = payment.authorized_amount if payment.authorized_amount is not None else payment.amount
    amount = payment.amount if amount is None else amount
    if amount > limit:
        raise Conflict(f"at most {limit} can be captured")
    owed_nothing = amount == 0 and payment.state in (PaymentState.DECLINED, PaymentState.FAILED)
    state = PaymentState.CANCELED if owed_nothing else None
    if not repository.transition(
        session, payment, Change(held=False, amount=amount, state=state), services.clock()
    ):
        raise NotHeld()
    if state is not None:
        repository.set_visit_status(session, payment.visit_id, VISIT_STATUS[state])
    receipt.reviewed_at = services.clock()
    session.commit()
    run(services, payment.id)
    released = repository.get(session, payment.id)
    assert released is not None
    return released


def resume(services: Services) -> list[int]:
    """Run every payment that can move on now (after a restart or an outage); their ids."""
    with services.sessions() as session:
        ids = list(repository.resumable(session))
    for payment_id in ids:
        run(services, payment_id)
    return ids

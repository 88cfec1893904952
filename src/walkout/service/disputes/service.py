"""Disputes: a shopper contests a receipt line; small amounts are refunded at once, larger ones
wait for staff. Refunds carry the key ``dispute-<id>-refund`` and are retried like payments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from walkout.payments import PaymentError, PaymentRetryableError
from walkout.service.billing import repository as payments
from walkout.service.billing import service as billing
from walkout.service.billing.provider import retrying
from walkout.service.deps import Services
from walkout.service.disputes import repository
from walkout.service.errors import Conflict, NotFound
from walkout.service.models import CLAIMED_DISPUTES, Account, Dispute, DisputeState, PaymentState
from walkout.service.receipts import repository as receipts_repository
from walkout.service.receipts import service as receipts


class NotCharged(Conflict):
    code = "not_charged"

    def __init__(self) -> None:
        super().__init__("this receipt has not been charged (yet): nothing to refund")


class AlreadyDisputed(Conflict):
    code = "already_disputed"

    def __init__(self) -> None:
        super().__init__("this line is disputed already")


class NotPending(Conflict):
    code = "not_pending"

    def __init__(self) -> None:
        super().__init__("this dispute is decided already")


def open_dispute(
    session: Session,
    services: Services,
    account: Account,
    receipt_id: int,
    line_id: int,
    qty: int | None,
    reason: str,
) -> Dispute:
    """Dispute ``qty`` units (default all) of a line of one's own charged receipt."""
    receipt = receipts.own(session, account, receipt_id, for_update=True)
    line = receipts_repository.get_line(session, line_id)
    if line is None or line.receipt_id != receipt.id:
        raise NotFound(f"no line {line_id} on receipt {receipt_id}")
    payment = payments.get_by_visit(session, receipt.visit_id)
    if payment is None or payment.state is not PaymentState.CAPTURED:
        raise NotCharged()
    assert payment.captured_amount is not None
    qty = line.qty if qty is None else qty
    if qty > line.qty:
        raise Conflict(f"the line has {line.qty} units")
    earlier = repository.of_receipt(session, receipt.id)
    if any(d.receipt_line_id == line.id for d in earlier):
        raise AlreadyDisputed()
    amount = qty * line.unit_price
    claimed = sum(d.amount for d in earlier if d.state in CLAIMED_DISPUTES)
    if amount == 0 or claimed + amount > payment.captured_amount:
        raise Conflict(f"only {payment.captured_amount - claimed} of the charge can be refunded")
    small = amount <= services.settings.dispute_auto_refund_max
    dispute = Dispute(
        receipt_line_id=line.id,
        receipt_id=receipt.id,
        account_id=account.id,
        qty=qty,
        amount=amount,
        reason=reason,
        state=DisputeState.APPROVED if small else DisputeState.PENDING,
        created_at=services.clock(),
        decided_at=services.clock() if small else None,
    )
    repository.add(session, dispute)
    if small:
        session.commit()
        refund(services, dispute.id)
    return _reloaded(session, dispute.id)


def refund(services: Services, dispute_id: int) -> DisputeState:
    """Refund an approved dispute (at most once: a keyed call); its state afterwards."""
    with services.sessions() as session:
        dispute = repository.get(session, dispute_id)
        if dispute is None:
            raise NotFound(f"no dispute {dispute_id}")
        receipt = receipts_repository.get(session, dispute.receipt_id)
        assert receipt is not None
        payment = payments.get_by_visit(session, receipt.visit_id)
        assert payment is not None
        session.commit()  # no transaction while the provider is called
        if dispute.state is not DisputeState.APPROVED:
            return dispute.state
        charged = billing.captured(payment)
        key = f"dispute-{dispute.id}-refund"
        approved, now = DisputeState.APPROVED, services.clock()
        try:
            done = retrying(
                services.settings, lambda: services.provider.refund(charged, dispute.amount, key)
            )
        except PaymentRetryableError as e:
            repository.decide(session, dispute.id, approved, approved, now, error=str(e)[:512])
            session.commit()
            return approved
        except PaymentError as e:
            state = DisputeState.FAILED
            repository.decide(session, dispute.id, approved, state, now, error=str(e)[:512])
        else:
            state = DisputeState.REFUNDED
            repository.decide(session, dispute.id, approved, state, now, refund_id=done.id)
        session.commit()
        return state


def in_state(session: Session, state: DisputeState) -> Sequence[Dispute]:
    return repository.in_state(session, state)


def decide(
    session: Session,
    services: Services,
    staff: Account,
    dispute_id: int,
    approve: bool,
    note: str | None,
) -> Dispute:
    """Staff approve (refund now) or deny a pending dispute."""
    state = DisputeState.APPROVED if approve else DisputeState.DENIED
    if repository.get(session, dispute_id) is None:
        raise NotFound(f"no dispute {dispute_id}")
    if not repository.decide(
        session,
        dispute_id,
        DisputeState.PENDING,
        state,
        services.clock(),
        decided_by=staff.id,
        note=note,
    ):
        raise NotPending()
    if approve:
        session.commit()
        refund(services, dispute_id)
    return _reloaded(session, dispute_id)


def resume(services: Services) -> list[int]:
    """Refund every approved dispute still waiting for its refund; their ids."""
    with services.sessions() as session:
        ids = [d.id for d in repository.in_state(session, DisputeState.APPROVED)]
    for dispute_id in ids:
        refund(services, dispute_id)
    return ids


def _reloaded(session: Session, dispute_id: int) -> Dispute:
    dispute = repository.get(session, dispute_id)
    assert dispute is not None
    return dispute

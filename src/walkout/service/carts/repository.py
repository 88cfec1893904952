"""All SQL about the cart event log and live cart lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from walkout.domain.events import CART_EVENT_ADAPTER, ItemAdded, ItemRemoved
from walkout.service.models import CartEventRecord, CartLine, Visit


def lock_visits(session: Session, visit_ids: Iterable[int]) -> dict[int, Visit]:
    """The visits that exist among ``visit_ids``, locked in id order (no deadlocks)."""
    query = (
        select(Visit)
        .where(Visit.id.in_(sorted(set(visit_ids))))
        .order_by(Visit.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {v.id: v for v in session.scalars(query)}


def record_event(
    session: Session,
    visit_id: int,
    event_id: str,
    kind: str,
    body: dict[str, Any],
    at: datetime,
) -> bool:
    """Log an event once: False when the visit already has an event with this id."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    query = (
        insert(CartEventRecord)
        .values(visit_id=visit_id, event_id=event_id, type=kind, body=body, received_at=at)
        .on_conflict_do_nothing(index_elements=["visit_id", "event_id"])
        .returning(CartEventRecord.id)
    )
    return session.execute(query).scalar_one_or_none() is not None


def item_events(session: Session, visit_id: int) -> Sequence[CartEventRecord]:
    """The visit's item_added and item_removed events, in the order they arrived."""
    query = (
        select(CartEventRecord)
        .where(
            CartEventRecord.visit_id == visit_id,
            CartEventRecord.type.in_(("item_added", "item_removed")),
        )
        .order_by(CartEventRecord.id)
    )
    return session.scalars(query).all()


def item_event(record: CartEventRecord) -> ItemAdded | ItemRemoved:
    """The event of an item_added or item_removed record (as ``item_events`` returns)."""
    event = CART_EVENT_ADAPTER.validate_python(record.body)
    assert isinstance(event, ItemAdded | ItemRemoved)
    return event


def get_line(session: Session, visit_id: int, sku: str) -> CartLine | None:
    return session.get(CartLine, (visit_id, sku))


def lines(session: Session, visit_id: int) -> Sequence[CartLine]:
    query = select(CartLine).where(CartLine.visit_id == visit_id).order_by(CartLine.sku)
    return session.scalars(query).all()


def add_line(session: Session, line: CartLine) -> None:
    session.add(line)
    session.flush()


def delete_line(session: Session, line: CartLine) -> None:
    session.delete(line)
    session.flush()

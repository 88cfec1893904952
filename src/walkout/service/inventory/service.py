"""Inventory: units per facing moved by the engine's cart events, restock and misplaced tasks.

A facing's stock is unknown until staff count it; from then on each applied ``ItemAdded``
takes units off the evidence's plate and each ``ItemRemoved`` puts them back there, unless the
plate does not hold that product: then a misplaced-item task opens instead. A known stock at or
below its threshold keeps one restock task open, closed when the stock rises above it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from walkout.domain.events import ItemAdded, ItemRemoved
from walkout.service.deps import Services
from walkout.service.errors import Conflict, NotFound
from walkout.service.inventory import repository
from walkout.service.models import Account, StaffTask, Stock, TaskKind


class TaskClosed(Conflict):
    code = "task_closed"

    def __init__(self) -> None:
        super().__init__("this task is done already")


@dataclass(frozen=True)
class FacingStock:
    """One facing as staff see it: its units (None: never counted) and restock threshold."""

    plate: str
    sku: str
    name: str
    units: int | None
    threshold: int

    @property
    def low(self) -> bool:
        return self.units is not None and self.units <= self.threshold


def on_item_event(
    session: Session, services: Services, visit_id: int, event: ItemAdded | ItemRemoved
) -> None:
    """Move stock for a cart event applied to a visit (in the cart's transaction, so once)."""
    plate, sku = event.evidence.plate, event.sku
    if isinstance(event, ItemRemoved) and not services.catalogue.faces(plate, sku):
        task = StaffTask(
            kind=TaskKind.MISPLACED,
            plate=plate,
            sku=sku,
            qty=event.qty,
            visit_id=visit_id,
            event_id=event.id,
            opened_at=services.clock(),
        )
        repository.add(session, task)
        return
    change = -event.qty if isinstance(event, ItemAdded) else event.qty
    _shift(session, services, plate, sku, change, event.id)


def put_back(
    session: Session, services: Services, sku: str, units: int, near: Sequence[str]
) -> None:
    """A review found ``units`` of ``sku`` still on the shelf (negative: taken after all): move
    the stock of its facing on the first of the ``near`` plates that holds it (where the visit
    shopped), else of its first facing. A facing never counted stays unknown."""
    plates = [p for p in near if services.catalogue.faces(p, sku)]
    plates += services.catalogue.facings.get(sku, ())
    if units != 0 and plates:
        _shift(session, services, plates[0], sku, units, None)


def set_count(
    session: Session, services: Services, plate: str, sku: str, units: int, threshold: int | None
) -> FacingStock:
    """Staff counted ``units`` on a facing (and may override its threshold)."""
    if not services.catalogue.faces(plate, sku):
        raise NotFound(f"plate {plate} holds no {sku}")
    row = repository.lock_stock(session, plate, sku)
    if row is None:
        row = Stock(plate=plate, sku=sku, units=None, updated_at=services.clock())
        repository.add(session, row)
    row.threshold = threshold
    _move(session, services, row, units, None)
    return _facing(services, row)


def facings(session: Session, services: Services) -> list[FacingStock]:
    """Every facing of the store file, with its stock."""
    rows = {(r.plate, r.sku): r for r in repository.all_stock(session)}
    found = []
    for sku, plates in services.catalogue.facings.items():
        for plate in plates:
            row = rows.get((plate, sku)) or Stock(plate=plate, sku=sku, units=None)
            found.append(_facing(services, row))
    return sorted(found, key=lambda f: (f.plate, f.sku))


def open_tasks(session: Session) -> Sequence[StaffTask]:
    return repository.open_tasks(session)


def done(session: Session, services: Services, staff: Account, task_id: int) -> StaffTask:
    """Close an open task; a misplaced item counts as back on its product's first facing."""
    task = repository.lock_task(session, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.closed_at is not None:
        raise TaskClosed()
    task.closed_at, task.closed_by = services.clock(), staff.id
    session.flush()
    home = services.catalogue.facings.get(task.sku, ())
    if task.kind is TaskKind.MISPLACED and home:
        row = repository.lock_stock(session, home[0], task.sku)
        if row is not None and row.units is not None:
            _move(session, services, row, row.units + task.qty, None)
    return task


def _threshold(services: Services, row: Stock) -> int:
    return services.settings.restock_threshold if row.threshold is None else row.threshold


def _facing(services: Services, row: Stock) -> FacingStock:
    name = services.catalogue.name(row.sku)
    return FacingStock(row.plate, row.sku, name, row.units, _threshold(services, row))


def _shift(
    session: Session, services: Services, plate: str, sku: str, units: int, event_id: str | None
) -> None:
    """Add ``units`` (or take them off) to a counted facing; an uncounted one stays unknown."""
    row = repository.lock_stock(session, plate, sku)
    if row is not None and row.units is not None:
        _move(session, services, row, max(0, row.units + units), event_id)


def _move(
    session: Session, services: Services, row: Stock, units: int, event_id: str | None
) -> None:
    """Set a facing's units, then open or close its restock task to match."""
    row.units, row.last_event_id, row.updated_at = units, event_id, services.clock()
    session.flush()
    task = repository.open_restock(session, row.plate, row.sku)
    low = units <= _threshold(services, row)
    if low and task is None:
        restock = StaffTask(
            kind=TaskKind.RESTOCK,
            plate=row.plate,
            sku=row.sku,
            qty=units,
            opened_at=services.clock(),
        )
        repository.add(session, restock)
    elif not low and task is not None:
        task.closed_at = services.clock()
        session.flush()

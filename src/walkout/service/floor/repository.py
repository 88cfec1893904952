"""All SQL of the floor: dwell cells, open visits' cart sizes, a plate's recent cart events."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from walkout.service.floor.live import DwellCell
from walkout.service.models import (
    CartEventRecord,
    CartLine,
    FloorDwell,
    Visit,
    VisitRole,
    VisitStatus,
)


def add_dwell(session: Session, cells: Mapping[DwellCell, float]) -> None:
    """Add person-seconds to cells; concurrent writes add up (one upsert per cell)."""
    if not cells:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"hour": c.hour, "cell_x": c.x, "cell_y": c.y, "seconds": s}
        for c, s in sorted(cells.items(), key=lambda item: (item[0].hour, item[0].x, item[0].y))
    ]
    query = insert(FloorDwell).values(rows)
    query = query.on_conflict_do_update(
        index_elements=["hour", "cell_x", "cell_y"],
        set_={"seconds": FloorDwell.seconds + query.excluded.seconds},
    )
    session.execute(query)


def dwell(session: Session, since: datetime, until: datetime) -> Sequence[tuple[int, int, float]]:
    """(cell x, cell y, person-seconds) summed over the hours starting in ``[since, until]``."""
    query = (
        select(FloorDwell.cell_x, FloorDwell.cell_y, func.sum(FloorDwell.seconds))
        .where(FloorDwell.hour >= since, FloorDwell.hour <= until)
        .group_by(FloorDwell.cell_x, FloorDwell.cell_y)
    )
    return [(x, y, float(s)) for x, y, s in session.execute(query)]


def open_cart_sizes(session: Session, visit_ids: Collection[int]) -> dict[int, int]:
    """Units in the cart of each of ``visit_ids`` that is an open visit."""
    if not visit_ids:
        return {}
    query = (
        select(Visit.id, func.coalesce(func.sum(CartLine.qty), 0))
        .outerjoin(CartLine, CartLine.visit_id == Visit.id)
        .where(Visit.id.in_(sorted(visit_ids)), Visit.status == VisitStatus.OPEN)
        .group_by(Visit.id)
    )
    return {visit_id: int(units) for visit_id, units in session.execute(query)}


def staff_visits(session: Session, visit_ids: Collection[int]) -> set[int]:
    """Those of ``visit_ids`` that are staff at work (open or not)."""
    if not visit_ids:
        return set()
    query = select(Visit.id).where(Visit.id.in_(sorted(visit_ids)), Visit.role == VisitRole.STAFF)
    return set(session.scalars(query))


def plate_events(session: Session, plate: str, limit: int) -> Sequence[CartEventRecord]:
    """The newest item events whose evidence names ``plate``, newest first."""
    query = (
        select(CartEventRecord)
        .where(
            CartEventRecord.type.in_(("item_added", "item_removed")),
            CartEventRecord.body["evidence"]["plate"].as_string() == plate,
        )
        .order_by(CartEventRecord.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()

"""The live floor for staff, the store's layout, a plate's stock and events, the dwell heatmap.

The engine posts a floor view about twice a second. The latest is kept in memory
(``LiveFloor``) and shown to staff with each person's open visit and cart size, next to every
plate's stock level. Each view also adds the time since the previous one to the heatmap: every
person of the previous view spent it in their cell (``CELL_M`` square, by hour of the service's
clock). Only those sums are stored, never who was where; they are gathered in memory and
written every ``WRITE_EVERY``, before the heatmap is read and when the service stops, so a
view costs no write of its own (a crash loses at most the last few seconds of dwell).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from walkout.domain.floor import FloorView
from walkout.service.carts import repository as cart_events
from walkout.service.deps import Services
from walkout.service.errors import DomainError, NotFound
from walkout.service.floor import repository
from walkout.service.floor.live import DwellCell, Snapshot
from walkout.service.floor.schemas import (
    Bounds,
    FacingLevelRead,
    FixtureRead,
    FloorPersonRead,
    FloorPosted,
    FloorRead,
    GateRead,
    HeatmapRead,
    LayoutRead,
    PlateDetailRead,
    PlateEventRead,
    PlateLevelRead,
    PlateRead,
    ProductRead,
    StockState,
)
from walkout.service.inventory import service as inventory
from walkout.service.visits import service as visits
from walkout.storefile import load_store

#: Side of a heatmap cell, in metres.
CELL_M = 0.5
#: People of a view older than this are not shown: no engine is posting.
STALE = timedelta(seconds=10)
#: Views farther apart than this (stream seconds) add nothing to the heatmap: a gap or restart.
MAX_STEP_S = 5.0
#: Gathered dwell is written to the database at most this often (and when the heatmap is read).
WRITE_EVERY = timedelta(seconds=10)
#: How many of a plate's latest cart events staff see.
PLATE_EVENTS = 20
#: Heatmap dates outside these are refused (no store is that old, nor that far ahead).
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_SEVERITY: tuple[StockState, ...] = ("empty", "low", "ok")


class InvalidPeriod(DomainError):
    status = 422
    code = "invalid_period"


def post(session: Session, services: Services, view: FloorView) -> FloorPosted:
    """Make ``view`` the live floor and add the time since the previous view to the heatmap."""
    now = services.clock()
    previous = services.floor.swap(Snapshot(view, now))
    if previous is None or not 0.0 < view.t - previous.view.t <= MAX_STEP_S:
        return FloorPosted(people=len(view.people), dwell_s=0.0)
    step = view.t - previous.view.t
    bounds = layout(services).bounds
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    cells: dict[DwellCell, float] = {}
    staff = _staff(session, _visit_ids(previous.view))
    for person in previous.view.people:
        if person.person in staff:
            continue  # the heatmap shows where shoppers linger, not where staff work
        if bounds.min_x <= person.x <= bounds.max_x and bounds.min_y <= person.y <= bounds.max_y:
            cell = DwellCell(hour, math.floor(person.x / CELL_M), math.floor(person.y / CELL_M))
            cells[cell] = cells.get(cell, 0.0) + step
    services.floor.add_dwell(cells)
    repository.add_dwell(session, services.floor.take_dwell(now, WRITE_EVERY))
    return FloorPosted(people=len(view.people), dwell_s=round(sum(cells.values()), 3))


def write_dwell(services: Services) -> None:
    """Write the dwell gathered since the last write (the service is stopping)."""
    with services.sessions.begin() as session:
        repository.add_dwell(session, services.floor.take_dwell(services.clock(), None))


def _visit_ids(view: FloorView) -> dict[str, int | None]:
    """Each person of ``view`` with the visit id in their token, if any."""
    return {p.person: visits.visit_id_in(p.token) for p in view.people}


def _staff(session: Session, ids: Mapping[str, int | None]) -> set[str]:
    """Those of the people in ``ids`` whose visit is a staff member's."""
    staff = repository.staff_visits(session, {i for i in ids.values() if i is not None})
    return {person for person, visit_id in ids.items() if visit_id in staff}


def live(session: Session, services: Services) -> FloorRead:
    """The latest view with each person's open visit and cart size, and every plate's stock."""
    snapshot = services.floor.latest()
    people: list[FloorPersonRead] = []
    if snapshot is not None and services.clock() - snapshot.received_at <= STALE:
        ids = _visit_ids(snapshot.view)
        sizes = repository.open_cart_sizes(session, {i for i in ids.values() if i is not None})
        staff = _staff(session, ids)
        for p in snapshot.view.people:
            visit_id = ids[p.person]
            known = visit_id if visit_id in sizes else None
            people.append(
                FloorPersonRead(
                    person=p.person,
                    visit_id=known,
                    cart_items=0 if known is None else sizes[known],
                    staff=p.person in staff,
                    x=p.x,
                    y=p.y,
                )
            )
    return FloorRead(
        t=None if snapshot is None else snapshot.view.t,
        received_at=None if snapshot is None else snapshot.received_at,
        people=people,
        plates=plate_levels(session, services),
    )


def _state(facing: inventory.FacingStock) -> StockState:
    if facing.units is None:
        return "unknown"
    if facing.units == 0:
        return "empty"
    return "low" if facing.low else "ok"


def plate_levels(session: Session, services: Services) -> list[PlateLevelRead]:
    """Every plate of the layout with the stock of its counted facings."""
    counted: dict[str, list[inventory.FacingStock]] = {}
    for facing in inventory.facings(session, services):
        if facing.units is not None:
            counted.setdefault(facing.plate, []).append(facing)
    levels = []
    for plate in layout(services).plates:
        facings = counted.get(plate.id, [])
        if not facings:
            levels.append(
                PlateLevelRead(plate=plate.id, units=None, threshold=None, state="unknown")
            )
            continue
        levels.append(
            PlateLevelRead(
                plate=plate.id,
                units=sum(f.units or 0 for f in facings),
                threshold=sum(f.threshold for f in facings),
                state=min((_state(f) for f in facings), key=_SEVERITY.index),
            )
        )
    return levels


def layout(services: Services) -> LayoutRead:
    """The floor plan of the service's store file (built once per version of the file)."""
    path = services.settings.store_file.resolve()
    return _layout(path, path.stat().st_mtime_ns)


@functools.cache
def _layout(path: Path, mtime_ns: int) -> LayoutRead:
    store = load_store(path)
    xs = [x for x, _ in store.floor]
    ys = [y for _, y in store.floor]
    return LayoutRead(
        store_id=store.id,
        name=store.name,
        currency=store.currency,
        floor=[list(point) for point in store.floor],
        bounds=Bounds(min_x=min(xs), min_y=min(ys), max_x=max(xs), max_y=max(ys)),
        gates=[GateRead(id=g.id, kind=g.kind, area=[list(a) for a in g.area]) for g in store.gates],
        fixtures=[
            FixtureRead(
                id=f.id, kind=f.kind, footprint=[list(a) for a in f.footprint], height=f.height
            )
            for f in store.fixtures
        ],
        plates=[
            PlateRead(id=p.id, box=[list(c) for c in p.box], skus=list(store.skus_on(p.id)))
            for p in store.plates
        ],
        products=[ProductRead(sku=p.sku, name=p.name, price=p.price) for p in store.products],
    )


def plate(session: Session, services: Services, plate_id: str) -> PlateDetailRead:
    """A plate's stock per product and its latest cart events."""
    if all(p.id != plate_id for p in layout(services).plates):
        raise NotFound(f"no plate {plate_id}")
    facings = [
        FacingLevelRead(
            sku=f.sku, name=f.name, units=f.units, threshold=f.threshold, state=_state(f)
        )
        for f in inventory.facings(session, services)
        if f.plate == plate_id
    ]
    events = []
    for record in repository.plate_events(session, plate_id, PLATE_EVENTS):
        event = cart_events.item_event(record)
        events.append(
            PlateEventRead(
                event_id=event.id,
                type=event.type,
                visit_id=record.visit_id,
                sku=event.sku,
                qty=event.qty,
                t=event.t,
                confidence=event.evidence.confidence,
                received_at=record.received_at,
            )
        )
    return PlateDetailRead(plate=plate_id, facings=facings, events=events)


def _utc(at: datetime, name: str) -> datetime:
    try:
        found = at.astimezone(UTC)
    except OverflowError:
        found = _EARLIEST - timedelta(days=1)
    if not _EARLIEST <= found < _LATEST:
        raise InvalidPeriod(f"{name} must be in the years {_EARLIEST.year}-{_LATEST.year - 1}")
    return found


def heatmap(
    session: Session, services: Services, since: datetime | None, until: datetime | None
) -> HeatmapRead:
    """Person-seconds per cell over the floor, summed over the whole hours from the one holding
    ``since`` (default: a day before ``until``) to the one holding ``until`` (default: now)."""
    end = _utc(until or services.clock(), "until")
    start = _utc(since, "since") if since is not None else end - timedelta(days=1)
    if start >= end:
        raise InvalidPeriod("since must be before until")
    repository.add_dwell(session, services.floor.take_dwell(services.clock(), None))
    start = start.replace(minute=0, second=0, microsecond=0)
    bounds = layout(services).bounds
    x0, y0 = math.floor(bounds.min_x / CELL_M), math.floor(bounds.min_y / CELL_M)
    columns = math.ceil(bounds.max_x / CELL_M) - x0
    rows = math.ceil(bounds.max_y / CELL_M) - y0
    grid = [[0.0] * columns for _ in range(rows)]
    for x, y, seconds in repository.dwell(session, start, end):
        if 0 <= y - y0 < rows and 0 <= x - x0 < columns:
            grid[y - y0][x - x0] += seconds
    grid = [[round(s, 3) for s in row] for row in grid]
    return HeatmapRead(
        since=start,
        until=end,
        cell_m=CELL_M,
        origin=[x0 * CELL_M, y0 * CELL_M],
        columns=columns,
        rows=rows,
        seconds=grid,
        total_s=round(sum(map(sum, grid)), 3),
    )

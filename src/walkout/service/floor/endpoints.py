"""HTTP endpoints of the floor: the engine's live views, and what the staff console draws."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from walkout.domain.floor import FloorView
from walkout.service.auth import Device, StaffMember
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import Label
from walkout.service.floor import service
from walkout.service.floor.schemas import (
    FloorPosted,
    FloorRead,
    HeatmapRead,
    LayoutRead,
    PlateDetailRead,
)

router = APIRouter(tags=["floor"])


@router.post(
    "/floor",
    summary="The engine's view of who is where now (device)",
    description="Posted about twice a second by the engine; the token of a person is the "
    "visit id the gate put in its gate message.",
)
def post_floor(
    view: FloorView, _: Device, session: DbSession, services: ServicesDep
) -> FloorPosted:
    return service.post(session, services, view)


@router.get(
    "/staff/floor",
    summary="People on the floor with their visit and cart size, plates with stock (staff)",
)
def live_floor(_: StaffMember, session: DbSession, services: ServicesDep) -> FloorRead:
    return service.live(session, services)


@router.get(
    "/store/layout", summary="The floor plan: fixtures, plates and their products, gates (staff)"
)
def store_layout(_: StaffMember, services: ServicesDep) -> LayoutRead:
    return service.layout(services)


@router.get("/staff/plates/{plate}", summary="A plate's stock and latest cart events (staff)")
def plate_detail(
    plate: Annotated[Label, Path()], _: StaffMember, session: DbSession, services: ServicesDep
) -> PlateDetailRead:
    return service.plate(session, services, plate)


@router.get(
    "/staff/analytics/heatmap",
    summary="Anonymous dwell time per floor cell over whole hours (staff)",
)
def dwell_heatmap(
    _: StaffMember,
    session: DbSession,
    services: ServicesDep,
    since: Annotated[
        AwareDatetime | None, Query(description="Default: a day before until.")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Default: now.")] = None,
) -> HeatmapRead:
    return service.heatmap(session, services, since, until)

"""HTTP endpoints of inventory: stock counts per facing and the staff task list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from walkout.service.auth import StaffMember
from walkout.service.deps import DbSession, ServicesDep
from walkout.service.fields import MAX_ID, Label
from walkout.service.inventory import service
from walkout.service.inventory.schemas import FacingRead, StockCount, TaskRead

router = APIRouter(tags=["inventory"])


def _read(facing: service.FacingStock) -> FacingRead:
    status = "unknown" if facing.units is None else "low" if facing.low else "ok"
    return FacingRead(
        plate=facing.plate,
        sku=facing.sku,
        name=facing.name,
        units=facing.units,
        threshold=facing.threshold,
        status=status,
    )


@router.get("/staff/inventory", summary="Every facing with its stock and threshold (staff)")
def list_inventory(_: StaffMember, session: DbSession, services: ServicesDep) -> list[FacingRead]:
    return [_read(f) for f in service.facings(session, services)]


@router.put("/staff/inventory/{plate}/{sku}", summary="Set a facing's counted stock (staff)")
def set_count(
    plate: Annotated[Label, Path()],
    sku: Annotated[Label, Path()],
    body: StockCount,
    _: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> FacingRead:
    facing = service.set_count(session, services, plate, sku, body.units, body.threshold)
    return _read(facing)


@router.get("/staff/tasks", summary="Open restock and misplaced-item tasks, newest first (staff)")
def list_tasks(_: StaffMember, session: DbSession) -> list[TaskRead]:
    return [TaskRead.model_validate(t) for t in service.open_tasks(session)]


@router.post("/staff/tasks/{task_id}/done", summary="Close a task (staff)")
def task_done(
    task_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: StaffMember,
    session: DbSession,
    services: ServicesDep,
) -> TaskRead:
    return TaskRead.model_validate(service.done(session, services, principal.account, task_id))

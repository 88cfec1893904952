"""HTTP endpoints of store analytics (staff): the report as JSON, and its tables as CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from walkout.service.analytics import service
from walkout.service.analytics.schemas import AnalyticsRead
from walkout.service.auth import StaffMember
from walkout.service.deps import DbSession, ServicesDep

router = APIRouter(tags=["analytics"])

_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "CSV with a header row, as a file to save.",
    }
}


def report_window(
    services: ServicesDep,
    since: Annotated[
        datetime | None,
        Query(description="Start (rounded down to the hour); default: 7 days before until."),
    ] = None,
    until: Annotated[
        datetime | None,
        Query(description="End, exclusive (rounded up to the hour); default: this hour's end."),
    ] = None,
    tz: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="IANA time zone of the hours of the day and of times without an offset; "
            "default: the store's (setting store_timezone).",
        ),
    ] = None,
) -> service.Window:
    zone = services.settings.store_timezone if tz is None else tz
    return service.window(services.clock(), since, until, zone)


Window = Annotated[service.Window, Depends(report_window)]


@router.get(
    "/staff/analytics",
    summary="Visits per hour, time in store, basket sizes and pick-to-purchase per product "
    "(staff; no identities, small counts suppressed)",
)
def analytics(
    _: StaffMember, span: Window, session: DbSession, services: ServicesDep
) -> AnalyticsRead:
    return service.report(session, services, span)


def _download(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/staff/analytics/products.csv",
    summary="Per product: picked, put back, bought, pick-to-purchase (staff; CSV)",
    response_class=Response,
    responses=_CSV,
)
def products_csv(
    _: StaffMember, span: Window, session: DbSession, services: ServicesDep
) -> Response:
    found = service.report(session, services, span)
    return _download(service.products_csv(found), service.filename(found, "products"))


@router.get(
    "/staff/analytics/hours.csv",
    summary="Visits per hour of the day (staff; CSV)",
    response_class=Response,
    responses=_CSV,
)
def hours_csv(_: StaffMember, span: Window, session: DbSession, services: ServicesDep) -> Response:
    found = service.report(session, services, span)
    return _download(service.hours_csv(found), service.filename(found, "hours"))

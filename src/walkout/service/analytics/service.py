"""Store analytics without identities (ADR 9): visits per hour of the day, time in store,
basket sizes and, per product, units picked up, put back and bought.

Only shopper visits count (staff at work are not shopping). Windows are whole hours, and a
figure made up by fewer than ``analytics_min_visits`` visits is not shown: a window with fewer
visits shows nothing at all, so a narrow window cannot single out one shopper's basket.
"""

from __future__ import annotations

import csv
import functools
import io
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from walkout.service.analytics import repository, stats
from walkout.service.analytics.schemas import (
    AnalyticsRead,
    DistributionRead,
    HourRead,
    ProductStatsRead,
)
from walkout.service.catalogue import Catalogue
from walkout.service.deps import Services
from walkout.service.errors import DomainError

#: The window when none is given: the last seven days.
DEFAULT_SPAN = timedelta(days=7)
#: The longest window one report may cover.
MAX_SPAN = timedelta(days=366)
_HOUR = timedelta(hours=1)
_YEARS = range(2000, 2101)


class InvalidWindow(DomainError):
    status = 422
    code = "invalid_window"


@dataclass(frozen=True)
class Window:
    """[since, until) in whole hours of ``zone``, both aware."""

    since: datetime
    until: datetime
    zone: zoneinfo.ZoneInfo


@functools.cache
def _zones() -> frozenset[str]:
    """The IANA names this system knows (checked against a list, so that no odd name reaches
    the file system through ``ZoneInfo``)."""
    return frozenset(zoneinfo.available_timezones())


def _zone(name: str) -> zoneinfo.ZoneInfo:
    if name not in _zones():
        raise InvalidWindow(f"unknown time zone {name!r}: use an IANA name like Europe/Paris")
    return zoneinfo.ZoneInfo(name)


def _local(value: datetime, zone: zoneinfo.ZoneInfo, name: str) -> datetime:
    if value.year not in _YEARS:
        raise InvalidWindow(f"{name} must be between the years 2000 and 2100")
    value = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return value.astimezone(zone)


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def window(now: datetime, since: datetime | None, until: datetime | None, timezone: str) -> Window:
    """The report's window: ``since`` down and ``until`` up to whole hours of ``timezone``
    (times without an offset are read in it); by default the seven days up to the end of the
    current hour."""
    zone = _zone(timezone)
    end = _local(now if until is None else until, zone, "until")
    end_hour = _floor_hour(end)
    end = end_hour if end == end_hour and until is not None else end_hour + _HOUR
    start = end - DEFAULT_SPAN if since is None else _floor_hour(_local(since, zone, "since"))
    if start >= end:
        raise InvalidWindow("since must be before until")
    if end - start > MAX_SPAN:
        raise InvalidWindow(f"a report covers at most {MAX_SPAN.days} days")
    return Window(start, end, zone)


def _products(
    catalogue: Catalogue, totals: Iterable[repository.ProductTotals], k: int
) -> tuple[list[ProductStatsRead], int]:
    """The products at least ``k`` visits touched, most picked first; and how many were left
    out."""
    shown = []
    left_out = 0
    for found in totals:
        if found.visits < k:
            left_out += 1
            continue
        shown.append(
            ProductStatsRead(
                sku=found.sku,
                name=catalogue.name(found.sku),
                picked=found.picked,
                put_back=found.put_back,
                bought=found.bought,
                pick_to_purchase=found.bought / found.picked if found.picked else None,
                visits=found.visits,
            )
        )
    shown.sort(key=lambda p: (-p.picked, -p.bought, p.sku))
    return shown, left_out


def report(session: Session, services: Services, span: Window) -> AnalyticsRead:
    """The store's figures for the visits that entered within ``span``."""
    k = services.settings.analytics_min_visits
    found = repository.visits(session, span.since, span.until)
    if len(found) < k:
        return AnalyticsRead(
            since=span.since,
            until=span.until,
            timezone=span.zone.key,
            min_visits=k,
            suppressed=True,
            visits=None,
            hours=[],
            time_in_store=None,
            basket_size=None,
            products=[],
            products_suppressed=None,
        )
    per_hour = [0] * 24
    for visit in found:
        per_hour[visit.opened_at.astimezone(span.zone).hour] += 1
    stays = [(v.closed_at - v.opened_at).total_seconds() for v in found if v.closed_at is not None]
    sizes = repository.basket_sizes(session, span.since, span.until)
    totals = repository.product_totals(session, span.since, span.until)
    products, left_out = _products(services.catalogue, totals, k)
    return AnalyticsRead(
        since=span.since,
        until=span.until,
        timezone=span.zone.key,
        min_visits=k,
        suppressed=False,
        visits=len(found),
        hours=[HourRead(hour=h, visits=stats.suppress(n, k)) for h, n in enumerate(per_hour)],
        time_in_store=DistributionRead.model_validate(
            stats.distribution(stays, stats.TIME_IN_STORE_EDGES, k)
        ),
        basket_size=DistributionRead.model_validate(
            stats.distribution(sizes, stats.BASKET_SIZE_EDGES, k)
        ),
        products=products,
        products_suppressed=left_out,
    )


def safe_cell(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def products_csv(found: AnalyticsRead) -> str:
    """The report's products as CSV, with a header row (only it when suppressed)."""
    header = ["sku", "name", "picked", "put_back", "bought", "pick_to_purchase", "visits"]
    return _csv(
        header,
        (
            [
                safe_cell(p.sku),
                safe_cell(p.name),
                p.picked,
                p.put_back,
                p.bought,
                "" if p.pick_to_purchase is None else f"{p.pick_to_purchase:.4f}",
                p.visits,
            ]
            for p in found.products
        ),
    )


def hours_csv(found: AnalyticsRead) -> str:
    """Visits per hour of the day as CSV (an empty cell: suppressed)."""
    return _csv(
        ["hour", "visits"],
        ([h.hour, "" if h.visits is None else h.visits] for h in found.hours),
    )


def filename(found: AnalyticsRead, what: str) -> str:
    """A download name saying what and which window, e.g. ``products-20261122T12-20261129T13``."""
    fmt = "%Y%m%dT%H"
    return f"walkout-{what}-{found.since.strftime(fmt)}-{found.until.strftime(fmt)}.csv"

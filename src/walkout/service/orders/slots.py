"""Pickup slots: a grid of fixed-length slots within the store's local opening hours.

Slots are computed, never stored: each local day of the store's time zone has slots from
``pickup_opens`` every ``pickup_slot_minutes`` while a slot ends by ``pickup_closes``. A slot
can be booked when it starts at least ``pickup_lead_time`` from now and less than
``pickup_days_ahead`` days from now (card holds lapse after about seven days).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from walkout.service.settings import Settings


@dataclass(frozen=True)
class Slot:
    """One pickup slot, in aware UTC."""

    start: datetime
    end: datetime


class SlotProblem(StrEnum):
    """Why a requested slot cannot be booked."""

    NOT_A_SLOT = "not_a_slot"
    PAST = "past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"


def _day_slots(settings: Settings, day: date) -> Iterator[Slot]:
    zone = ZoneInfo(settings.store_timezone)
    length = timedelta(minutes=settings.pickup_slot_minutes)
    start = datetime.combine(day, settings.pickup_opens, zone)
    closes = datetime.combine(day, settings.pickup_closes, zone)
    while start + length <= closes:
        # Aware arithmetic on a zoned datetime is wall-clock arithmetic; slots are UTC spans.
        utc = start.astimezone(UTC)
        yield Slot(utc, utc + length)
        start += length


def _days(settings: Settings, first: datetime, last: datetime) -> Iterator[date]:
    zone = ZoneInfo(settings.store_timezone)
    day, end = first.astimezone(zone).date(), last.astimezone(zone).date()
    while day <= end:
        yield day
        day += timedelta(days=1)


def bookable(settings: Settings, now: datetime) -> list[Slot]:
    """Every slot that can be booked now, in time order."""
    earliest = now + settings.pickup_lead_time
    horizon = now + timedelta(days=settings.pickup_days_ahead)
    found = {
        slot.start: slot
        for day in _days(settings, earliest, horizon)
        for slot in _day_slots(settings, day)
        if earliest <= slot.start < horizon
    }
    return [found[start] for start in sorted(found)]


def check(settings: Settings, now: datetime, start: datetime) -> Slot | SlotProblem:
    """The slot starting at ``start`` if it can be booked now, else why not."""
    if start < now:
        return SlotProblem.PAST
    if start < now + settings.pickup_lead_time:
        return SlotProblem.TOO_SOON
    if start >= now + timedelta(days=settings.pickup_days_ahead):
        return SlotProblem.TOO_FAR
    day = start.astimezone(ZoneInfo(settings.store_timezone)).date()
    slot = next((s for s in _day_slots(settings, day) if s.start == start), None)
    return SlotProblem.NOT_A_SLOT if slot is None else slot

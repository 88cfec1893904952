"""The live floor kept in memory: the latest view the engine posted, for the staff console.

Positions change several times a second and are worth nothing a few seconds later, so they are
never written to the database; only their anonymous sum, the dwell heatmap, is (see
``service.py``), gathered here between writes so that a view costs no write of its own. One
service serves one store, so there is one latest view.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from walkout.domain.floor import FloorView


@dataclass(frozen=True)
class DwellCell:
    """One cell of the heatmap grid during one hour (its start, UTC)."""

    hour: datetime
    x: int
    y: int


@dataclass(frozen=True)
class Snapshot:
    """A floor view and when the service received it (the service's clock)."""

    view: FloorView
    received_at: datetime


class LiveFloor:
    """The store's latest floor view; thread-safe (endpoints run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._dwell: dict[DwellCell, float] = {}
        self._written_at: datetime | None = None

    def swap(self, snapshot: Snapshot) -> Snapshot | None:
        """Make ``snapshot`` the latest; returns the one it replaces."""
        with self._lock:
            previous, self._latest = self._latest, snapshot
        return previous

    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._latest

    def add_dwell(self, cells: Mapping[DwellCell, float]) -> None:
        """Person-seconds to write to the heatmap later."""
        with self._lock:
            for cell, seconds in cells.items():
                self._dwell[cell] = self._dwell.get(cell, 0.0) + seconds

    def take_dwell(self, now: datetime, every: timedelta | None) -> dict[DwellCell, float]:
        """The person-seconds gathered, to write now, if the last write was ``every`` ago or
        more (always when ``every`` is None); else nothing."""
        with self._lock:
            last = self._written_at
            if not self._dwell or (every is not None and last is not None and now - last < every):
                return {}
            taken, self._dwell, self._written_at = self._dwell, {}, now
            return taken

"""What people intend to do: the shelves' true stock, where to stand at a plate, shopping lists.

Everything here is decided with the run's ``numpy.random.Generator``; :mod:`walkout.sim.world`
plays the plans out in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from walkout.domain.store import Box, Plate, Store
from walkout.sim.navigation import FloorGrid, Point
from walkout.sim.scenarios import Scenario

REACH_M = 0.75
"""Longest arm reach from the shoulder (m)."""
STAND_REACH_M = 0.5
"""Farthest a body centre stands from its hand target, measured on the floor (m)."""
STOCK_UNITS = (4, 12)
"""Units of each product stocked on each of its plates (min, max)."""
LOOKALIKE_RATIO = 0.05
"""Two products look alike to a load cell when their unit weights differ by less than this."""
NEIGHBOUR_M = 1.5
"""Plates whose boxes are this close (m) are neighbours (look-alikes, misplacements)."""

VisitKind = Literal["pick", "touch", "lean", "put", "misplace", "restock"]


@dataclass(frozen=True, slots=True)
class Held:
    """One unit in a person's hand or basket."""

    sku: str
    plate: str
    """The plate it was picked from."""
    weight_g: float


@dataclass(frozen=True, slots=True)
class Stand:
    """A place on the floor to stand at a plate, with the hand's target in the plate box."""

    at: Point
    hand: tuple[float, float]
    """Floor position of the hand inside the box; the height is drawn per reach."""


@dataclass(frozen=True, slots=True)
class Visit:
    """Go to a plate and act on it. ``item`` is the unit put down (put, misplace)."""

    plate: str
    kind: VisitKind
    sku: str | None = None
    item: Held | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """Walk up to a group member and hand over a unit."""

    to: int
    item: Held


@dataclass(frozen=True, slots=True)
class Leave:
    """Walk out through an exit gate."""

    gate: str


Task = Visit | Handoff | Leave


class Shelves:
    """The true stock: every unit on every plate with its own weight."""

    def __init__(self, store: Store, rng: np.random.Generator) -> None:
        self._store = store
        self.units: dict[str, dict[str, list[float]]] = {p.id: {} for p in store.plates}
        self.capacity: dict[str, dict[str, int]] = {p.id: {} for p in store.plates}
        for facing in store.facings:
            for pid in facing.plates:
                n = int(rng.integers(STOCK_UNITS[0], STOCK_UNITS[1] + 1))
                self.capacity[pid][facing.sku] = n
                self.units[pid][facing.sku] = self.draw_units(facing.sku, n, rng)

    def draw_units(self, sku: str, n: int, rng: np.random.Generator) -> list[float]:
        """``n`` fresh units of a product, each weighing N(weight_g, weight_sd_g)."""
        p = self._store.product(sku)
        w = rng.normal(p.weight_g, p.weight_sd_g, n)
        return [float(x) for x in np.maximum(w, 0.5 * p.weight_g)]

    def load_g(self, plate: str) -> float:
        return float(sum(sum(u) for u in self.units[plate].values()))

    def count(self, plate: str, sku: str) -> int:
        return len(self.units[plate].get(sku, ()))

    def fill(self, plate: str) -> float:
        """Share of the plate's capacity in stock (1 for a plate that carries nothing)."""
        cap = sum(self.capacity[plate].values())
        if cap == 0:
            return 1.0
        return sum(self.count(plate, s) for s in self.capacity[plate]) / cap

    def take(self, plate: str, sku: str, n: int, rng: np.random.Generator) -> list[float]:
        """Remove up to ``n`` random units of ``sku``; returns their weights."""
        stock = self.units[plate].get(sku, [])
        taken = []
        for _ in range(min(n, len(stock))):
            taken.append(stock.pop(int(rng.integers(len(stock)))))
        return taken

    def stocked(self, plate: str) -> bool:
        """Whether any product faced on the plate is in stock there."""
        return any(self.units[plate].get(sku) for sku in self.capacity[plate])

    def put(self, plate: str, sku: str, weights: list[float]) -> None:
        self.units[plate].setdefault(sku, []).extend(weights)

    def shortfall(self, plate: str) -> dict[str, int]:
        """Units of each faced product missing from full capacity."""
        return {
            sku: cap - self.count(plate, sku)
            for sku, cap in self.capacity[plate].items()
            if self.count(plate, sku) < cap
        }


class Catalogue:
    """The store as shoppers see it: reachable plates, where to stand, look-alikes, hot spots."""

    def __init__(
        self, store: Store, grid: FloorGrid, region: int, rng: np.random.Generator
    ) -> None:
        """``region``: the grid region people walk in; plates reachable only from elsewhere
        (behind a counter, say) are left out."""
        self.store = store
        self.stands: dict[str, list[Stand]] = {}
        for plate in store.plates:
            options = [s for s in plate_stands(plate, grid) if grid.region(s.at) == region]
            if options and store.skus_on(plate.id):
                self.stands[plate.id] = options
        self.plates: list[str] = [p.id for p in store.plates if p.id in self.stands]
        if not self.plates:
            raise ValueError(f"store {store.id!r}: no plate with products can be reached")
        centres = np.array([store.plate(p).centre for p in self.plates])
        tree = cKDTree(centres)
        self.neighbours: dict[str, list[str]] = {
            pid: [self.plates[j] for j in sorted(near) if self.plates[j] != pid]
            for pid, near in zip(
                self.plates, tree.query_ball_point(centres, NEIGHBOUR_M), strict=True
            )
        }
        self.lookalikes: list[tuple[str, str]] = self._lookalikes()
        seed_plate = self.plates[int(rng.integers(len(self.plates)))]
        k = min(len(self.plates), max(3, len(self.plates) // 50))
        _, idx = tree.query(store.plate(seed_plate).centre, k=k)
        self.hot: list[str] = [self.plates[int(j)] for j in np.atleast_1d(idx)]

    def _lookalikes(self) -> list[tuple[str, str]]:
        """(plate, sku) pairs whose product has a look-alike weight on a neighbouring plate."""
        out = []
        for pid in self.plates:
            for sku in self.store.skus_on(pid):
                w = self.store.product(sku).weight_g
                for other in [pid, *self.neighbours[pid]]:
                    if any(
                        o != sku and abs(self.store.product(o).weight_g - w) < LOOKALIKE_RATIO * w
                        for o in self.store.skus_on(other)
                    ):
                        out.append((pid, sku))
                        break
        return out

    def shopping_list(
        self, scenario: Scenario, shelves: Shelves, rng: np.random.Generator, entry: Point
    ) -> list[Visit]:
        """A shopper's plate visits, in walking order from ``entry``. Shoppers mostly head for
        shelves that are not empty."""
        n = int(rng.integers(scenario.visits[0], scenario.visits[1] + 1))
        visits = []
        for _ in range(n):
            for _ in range(5):
                plate, sku = self._target(scenario, rng)
                if shelves.stocked(plate):
                    break
            v = rng.random()
            kind: VisitKind = (
                "touch"
                if v < scenario.touch
                else "lean"
                if v < scenario.touch + scenario.lean
                else "pick"
            )
            visits.append(Visit(plate, kind, sku=sku))
        return self._walking_order(visits, entry)

    def _target(self, scenario: Scenario, rng: np.random.Generator) -> tuple[str, str | None]:
        """A plate to visit, and the product wanted when it matters (look-alikes)."""
        u = rng.random()
        if u < scenario.hot_share:
            return self.hot[int(rng.integers(len(self.hot)))], None
        if u < scenario.hot_share + scenario.lookalike and self.lookalikes:
            return self.lookalikes[int(rng.integers(len(self.lookalikes)))]
        return self.plates[int(rng.integers(len(self.plates)))], None

    def restock_round(
        self, shelves: Shelves, rng: np.random.Generator, entry: Point
    ) -> list[Visit]:
        """A staff member's restock visits: the emptiest plates first (5 to 15 of them)."""
        n = int(rng.integers(5, 16))
        fills = np.array([shelves.fill(p) for p in self.plates])
        order = np.lexsort((rng.random(len(self.plates)), fills))[:n]
        return self._walking_order([Visit(self.plates[int(i)], "restock") for i in order], entry)

    def misplace_target(self, origin: str, rng: np.random.Generator) -> str:
        """Another plate to leave a unit on: usually a neighbour of ``origin``."""
        near = self.neighbours[origin]
        if near and rng.random() < 0.7:
            return near[int(rng.integers(len(near)))]
        others = [p for p in self.plates if p != origin]
        return others[int(rng.integers(len(others)))] if others else origin

    def _walking_order(self, visits: list[Visit], entry: Point) -> list[Visit]:
        """Greedy nearest-next order, from the entry."""
        left = list(visits)
        out: list[Visit] = []
        here = entry
        while left:
            i = min(range(len(left)), key=lambda k: here.dist(self.stands[left[k].plate][0].at))
            here = self.stands[left[i].plate][0].at
            out.append(left.pop(i))
        return out


def hand_in_box(xy: tuple[float, float], box: Box) -> tuple[float, float]:
    """The floor point of a box nearest ``xy``, kept 4 cm in from its sides (where a hand
    reaching from ``xy`` goes in)."""
    (x0, y0, _), (x1, y1, _) = box
    inset_x, inset_y = min(0.04, (x1 - x0) / 2), min(0.04, (y1 - y0) / 2)
    return (
        min(max(xy[0], x0 + inset_x), x1 - inset_x),
        min(max(xy[1], y0 + inset_y), y1 - inset_y),
    )


def plate_stands(plate: Plate, grid: FloorGrid, limit: int = 8) -> list[Stand]:
    """Free places within reach of the plate's box, best (nearest its middle) first, at least
    0.2 m apart."""
    (x0, y0, _), (x1, y1, _) = plate.box
    reach = STAND_REACH_M
    cells = grid.free_cells_near((x0 - reach, y0 - reach), (x1 + reach, y1 + reach))
    mid = Point((x0 + x1) / 2, (y0 + y1) / 2)
    options: list[Stand] = []
    for c in sorted(cells, key=lambda c: (round(c.dist(mid), 6), c.x, c.y)):
        hx, hy = hand_in_box((c.x, c.y), plate.box)
        if math.hypot(hx - c.x, hy - c.y) > reach:
            continue
        if any(o.at.dist(c) < 0.2 for o in options):
            continue
        options.append(Stand(c, (hx, hy)))
        if len(options) == limit:
            break
    return options

"""Where people can stand and how they get there: an occupancy grid of the floor and A*.

Obstacles are the store's fixtures (or, for a store without fixtures, the floor extent of every
plate box). A cell is *free* when a body of radius ``body_radius`` centred anywhere in it stays
clear of every obstacle and inside the floor.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from walkout.domain.geometry import points_in_polygon, polygon_bounds
from walkout.domain.store import Store

FloatArray = NDArray[np.float64]

BODY_RADIUS = 0.25
"""Radius of a person's body footprint (m)."""

_SQRT2 = math.sqrt(2.0)
_GREED = 1.5
"""Weighted A*: paths at most this much longer than the shortest (within 1 % after smoothing in
practice), for several times fewer expanded cells."""


@dataclass(frozen=True, slots=True)
class Point:
    """A point on the floor (m)."""

    x: float
    y: float

    def dist(self, other: Point) -> float:
        return math.hypot(self.x - other.x, self.y - other.y)


def obstacle_polygons(store: Store) -> list[list[tuple[float, float]]]:
    """Fixture footprints, or each plate box's floor rectangle when the store has no fixtures."""
    if store.fixtures:
        return [list(f.footprint) for f in store.fixtures]
    out = []
    for plate in store.plates:
        (x0, y0, _), (x1, y1, _) = plate.box
        out.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    return out


def _edge_distance(points: FloatArray, polygon: Sequence[Sequence[float]]) -> FloatArray:
    """Distance from points ``(..., 2)`` to the nearest edge of a polygon."""
    a = np.asarray(polygon, dtype=float)
    d = np.roll(a, -1, axis=0) - a
    rel = points[..., None, :] - a  # (..., K, 2)
    s = np.clip((rel * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0.0, 1.0)
    out: FloatArray = np.linalg.norm(rel - s[..., None] * d, axis=-1).min(axis=-1)
    return out


class FloorGrid:
    """The floor as square cells of ``cell`` metres, with the cells a body may stand in."""

    def __init__(self, store: Store, cell: float = 0.1, body_radius: float = BODY_RADIUS) -> None:
        self.cell = cell
        fx0, fy0, fx1, fy1 = polygon_bounds(store.floor)
        self.x0 = fx0 - cell
        self.y0 = fy0 - cell
        self.nx = math.ceil((fx1 - fx0) / cell) + 2
        self.ny = math.ceil((fy1 - fy0) / cell) + 2
        xs = self.x0 + (np.arange(self.nx) + 0.5) * cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * cell
        centres = np.stack(np.meshgrid(xs, ys), axis=-1)  # (ny, nx, 2)
        # Exact distance from each cell centre to the nearest wall or obstacle (0 inside one),
        # computed only where it can matter.
        inside = points_in_polygon(centres, store.floor)
        clearance = np.where(inside, _edge_distance(centres, store.floor), 0.0)
        reach = body_radius + cell
        for poly in obstacle_polygons(store):
            bx0, by0, bx1, by1 = polygon_bounds(poly)
            i0, i1 = self._span(bx0 - reach, bx1 + reach, self.x0, self.nx)
            j0, j1 = self._span(by0 - reach, by1 + reach, self.y0, self.ny)
            window = centres[j0:j1, i0:i1]
            here = np.where(points_in_polygon(window, poly), 0.0, _edge_distance(window, poly))
            clearance[j0:j1, i0:i1] = np.minimum(clearance[j0:j1, i0:i1], here)
        # A body centred anywhere in a free cell is at least body_radius from every obstacle.
        self.free: NDArray[np.bool_] = clearance >= body_radius + cell * _SQRT2 / 2
        self._free_flat: list[bool] = self.free.ravel().tolist()
        # Connected free areas (4-connected: exactly what A* without corner cutting can reach).
        self.regions: NDArray[np.int32] = ndimage.label(self.free)[0]

    def _span(self, lo: float, hi: float, origin: float, n: int) -> tuple[int, int]:
        a = max(int((lo - origin) / self.cell) - 1, 0)
        b = min(int((hi - origin) / self.cell) + 2, n)
        return a, b

    def index(self, x: float, y: float) -> int | None:
        """The flat index of the cell holding ``(x, y)``, or None off the grid."""
        i = int((x - self.x0) / self.cell)
        j = int((y - self.y0) / self.cell)
        if 0 <= i < self.nx and 0 <= j < self.ny and x >= self.x0 and y >= self.y0:
            return j * self.nx + i
        return None

    def centre(self, index: int) -> Point:
        j, i = divmod(index, self.nx)
        return Point(self.x0 + (i + 0.5) * self.cell, self.y0 + (j + 0.5) * self.cell)

    def region(self, p: Point) -> int:
        """The connected free area holding ``p`` (0 when ``p`` is not free)."""
        k = self.index(p.x, p.y)
        return 0 if k is None else int(self.regions.flat[k])

    def is_free(self, x: float, y: float) -> bool:
        k = self.index(x, y)
        return k is not None and self._free_flat[k]

    def free_points(self, xy: FloatArray) -> NDArray[np.bool_]:
        """Vectorised :meth:`is_free` for points ``(..., 2)``."""
        i = np.floor((xy[..., 0] - self.x0) / self.cell).astype(int)
        j = np.floor((xy[..., 1] - self.y0) / self.cell).astype(int)
        on = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        out = np.zeros(i.shape, dtype=bool)
        out[on] = self.free[j[on], i[on]]
        return out

    def free_cells_near(self, lo: Sequence[float], hi: Sequence[float]) -> list[Point]:
        """Centres of the free cells in (and a cell around) the rectangle ``lo``–``hi``."""
        i0, i1 = self._span(lo[0], hi[0], self.x0, self.nx)
        j0, j1 = self._span(lo[1], hi[1], self.y0, self.ny)
        jj, ii = np.nonzero(self.free[j0:j1, i0:i1])
        return [self.centre(int((j + j0) * self.nx + i + i0)) for j, i in zip(jj, ii, strict=True)]

    def line_free(self, a: Point, b: Point) -> bool:
        """Whether every point of the segment ``a``–``b`` lies in a free cell."""
        n = max(2, math.ceil(a.dist(b) / (self.cell / 2)) + 1)
        s = np.linspace(0.0, 1.0, n)
        pts = np.stack([a.x + s * (b.x - a.x), a.y + s * (b.y - a.y)], axis=-1)
        return bool(self.free_points(pts).all())

    def plan(
        self, start: Point, goal: Point, avoid: Iterable[Point] = (), avoid_radius: float = 0.5
    ) -> list[Point] | None:
        """A shortest free path from ``start`` to ``goal`` as waypoints (``start`` excluded,
        ``goal`` last), or None when there is none. Cells within ``avoid_radius`` of an
        ``avoid`` point (other people) count as blocked, except near the start and goal."""
        s = self.index(start.x, start.y)
        g = self.index(goal.x, goal.y)
        if s is None or g is None or not self._free_flat[s] or not self._free_flat[g]:
            return None
        blocked = self._blocked_near(avoid, avoid_radius, keep=(start, goal))
        # Around people a goal may be cut off: give up after a bounded search then.
        budget = (
            max(4000, 20 * round(start.dist(goal) / self.cell)) if blocked else len(self._free_flat)
        )
        cells = self._astar(s, g, blocked, budget)
        if cells is None:
            return None
        return self._smooth(start, [self.centre(c) for c in cells[1:-1]], goal)

    def _blocked_near(
        self, avoid: Iterable[Point], radius: float, keep: tuple[Point, Point]
    ) -> set[int]:
        r = math.ceil(radius / self.cell)
        disk = [
            dj * self.nx + di
            for dj in range(-r, r + 1)
            for di in range(-r, r + 1)
            if math.hypot(di, dj) * self.cell < radius
        ]
        out: set[int] = set()
        for p in avoid:
            k = self.index(p.x, p.y)
            if k is None or min(p.dist(keep[0]), p.dist(keep[1])) < radius + self.cell:
                continue
            out.update(k + d for d in disk if 0 <= k + d < len(self._free_flat))
        return out

    def _astar(self, s: int, g: int, blocked: set[int], budget: int) -> list[int] | None:
        """8-connected weighted A* over free cells (no corner cutting), expanding at most
        ``budget`` cells."""
        nx, free = self.nx, self._free_flat
        gi, gj = g % nx, g // nx
        cost = [math.inf] * len(free)
        came = [-1] * len(free)
        closed = bytearray(len(free))
        cost[s] = 0.0
        heap = [(0.0, s)]
        diag = _SQRT2
        while heap:
            _, k = heapq.heappop(heap)
            if k == g:
                path = [k]
                while k != s:
                    k = came[k]
                    path.append(k)
                return path[::-1]
            if closed[k]:
                continue
            closed[k] = 1
            budget -= 1
            if budget < 0:
                return None
            e, w, n, so = k + 1, k - 1, k + nx, k - nx
            oe = free[e] and e not in blocked
            ow = free[w] and w not in blocked
            on = free[n] and n not in blocked
            os = free[so] and so not in blocked
            moves = [
                (e, 1.0, oe),
                (w, 1.0, ow),
                (n, 1.0, on),
                (so, 1.0, os),
                (n + 1, diag, oe and on),
                (n - 1, diag, ow and on),
                (so + 1, diag, oe and os),
                (so - 1, diag, ow and os),
            ]
            base = cost[k]
            for m, c, ok in moves:
                if not ok or closed[m] or (c == diag and (not free[m] or m in blocked)):
                    continue
                nc = base + c
                if nc < cost[m]:
                    cost[m] = nc
                    came[m] = k
                    mj, mi = divmod(m, nx)
                    dx, dy = abs(mi - gi), abs(mj - gj)
                    heapq.heappush(
                        heap, (nc + _GREED * (max(dx, dy) + (diag - 1.0) * min(dx, dy)), m)
                    )
        return None

    def _smooth(self, start: Point, inner: list[Point], goal: Point) -> list[Point]:
        """String-pull a cell path: keep only the waypoints needed for free straight legs."""
        pts = [start, *inner, goal]
        out: list[Point] = []
        anchor = 0
        while anchor < len(pts) - 1:
            nxt = anchor + 1
            lo, hi = nxt, len(pts) - 1
            # Farthest visible point by bisection (visibility is nearly monotone along a path).
            while lo <= hi:
                mid = (lo + hi) // 2
                if self.line_free(pts[anchor], pts[mid]):
                    nxt = mid
                    lo = mid + 1
                else:
                    hi = mid - 1
            out.append(pts[nxt])
            anchor = nxt
        return out

"""The floor grid and path planning: free cells keep a body clear of fixtures and walls."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walkout.domain.geometry import points_in_polygon
from walkout.sim.behaviour import STAND_REACH_M, plate_stands
from walkout.sim.navigation import BODY_RADIUS, FloorGrid, Point, obstacle_polygons
from world_helpers import GONDOLA_X, GONDOLA_Y, small_store

STORE = small_store()
GRID = FloorGrid(STORE)
coords = st.tuples(st.floats(0.0, 12.0), st.floats(0.0, 9.0))


def inside(p: Point, polygon: list[tuple[float, float]]) -> bool:
    return bool(points_in_polygon(np.array([p.x, p.y]), polygon))


def edge_distance(p: Point, polygon: list[tuple[float, float]]) -> float:
    """Distance from a point to a polygon's boundary."""
    best = math.inf
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        dx, dy = x2 - x1, y2 - y1
        s = min(1.0, max(0.0, ((p.x - x1) * dx + (p.y - y1) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(p.x - x1 - s * dx, p.y - y1 - s * dy))
    return best


@given(coords)
def test_free_points_keep_a_body_clear(xy: tuple[float, float]) -> None:
    p = Point(*xy)
    if not GRID.is_free(p.x, p.y):
        return
    assert inside(p, list(STORE.floor))
    assert edge_distance(p, list(STORE.floor)) >= BODY_RADIUS
    for poly in obstacle_polygons(STORE):
        assert not inside(p, poly)
        assert edge_distance(p, poly) >= BODY_RADIUS


def test_aisles_are_open_and_gondolas_are_not() -> None:
    (_, a1), (b0, _) = GONDOLA_X[0], GONDOLA_X[1]
    mid_aisle = Point((a1 + b0) / 2, 5.0)
    assert GRID.is_free(mid_aisle.x, mid_aisle.y)
    assert not GRID.is_free(GONDOLA_X[0][0] + 0.4, 5.0)
    assert not GRID.is_free(-1.0, 5.0)
    assert GRID.index(-1.0, 5.0) is None


FREE = np.flatnonzero(GRID.free.ravel())
free_cells = st.integers(0, len(FREE) - 1).map(lambda i: GRID.centre(int(FREE[i])))


@settings(max_examples=40, deadline=None)
@given(free_cells, free_cells)
def test_plans_are_free_and_reach_the_goal(start: Point, goal: Point) -> None:
    path = GRID.plan(start, goal)
    assert path is not None  # the room is connected
    assert path[-1] == goal
    legs = [start, *path]
    for p, q in itertools.pairwise(legs):
        assert GRID.line_free(p, q)
    assert sum(p.dist(q) for p, q in itertools.pairwise(legs)) >= start.dist(goal) - 1e-9


def test_plan_goes_around_a_gondola_and_refuses_the_unreachable() -> None:
    y0, y1 = GONDOLA_Y
    west = Point(GONDOLA_X[0][0] - 0.5, (y0 + y1) / 2)
    east = Point(GONDOLA_X[0][1] + 0.5, (y0 + y1) / 2)
    path = GRID.plan(west, east)
    assert path is not None
    length = sum(p.dist(q) for p, q in zip([west, *path], path, strict=False))
    assert length > 2 * (y1 - y0) / 2  # had to walk round an end of the gondola
    inside = Point(GONDOLA_X[0][0] + 0.4, 5.0)
    assert GRID.plan(west, inside) is None


def test_plan_avoids_people_when_asked() -> None:
    (_, a1), (b0, _) = GONDOLA_X[0], GONDOLA_X[1]
    x = (a1 + b0) / 2
    start, goal = Point(x, 3.2), Point(x, 6.8)
    direct = GRID.plan(start, goal)
    assert direct == [goal]
    blocker = Point(x, 5.0)
    detour = GRID.plan(start, goal, avoid=[blocker])
    assert detour is not None
    legs = [start, *detour]
    for p, q in itertools.pairwise(legs):
        for s in np.linspace(0, 1, 50):
            at = Point(p.x + s * (q.x - p.x), p.y + s * (q.y - p.y))
            assert at.dist(blocker) >= 0.5 - GRID.cell


@pytest.mark.parametrize("plate", [p.id for p in STORE.plates[::7]])
def test_plate_stands_are_free_and_within_reach(plate: str) -> None:
    box = STORE.plate(plate).box
    stands = plate_stands(STORE.plate(plate), GRID)
    assert stands
    for s in stands:
        assert GRID.is_free(s.at.x, s.at.y)
        hx, hy = s.hand
        assert box[0][0] <= hx <= box[1][0]
        assert box[0][1] <= hy <= box[1][1]
        assert math.hypot(hx - s.at.x, hy - s.at.y) <= STAND_REACH_M
    for a, b in itertools.pairwise(stands):
        assert a.at.dist(b.at) >= 0.2

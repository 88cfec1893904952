"""The procedural example stores: counts, layout rules, camera coverage, planogram, determinism."""

from __future__ import annotations

import re
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from walkout.domain.geometry import pixel_rays, points_in_polygon, polygon_bounds, project
from walkout.domain.store import Fixture, Store
from walkout.sim.storegen import TEMPLATES, Template, generate_store
from walkout.sim.vision import CameraView, VisionParams, occluders
from walkout.storefile import store_json

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "stores"
PLATE_ID = re.compile(r"^(?P<fixture>[A-Z]\d+)-(?P<side>[AB])-S(?P<shelf>\d)-P(?P<n>\d+)$")
WALL_KINDS = {"fridge", "chiller", "freezer"}

Rect = tuple[float, float, float, float]


@cache
def store(template: Template, seed: int = 0) -> Store:
    return generate_store(template, seed)


def rect(fixture: Fixture) -> Rect:
    xs = sorted({p[0] for p in fixture.footprint})
    ys = sorted({p[1] for p in fixture.footprint})
    assert len(fixture.footprint) == 4, f"{fixture.id} is not a rectangle"
    assert len(xs) == 2, f"{fixture.id} is not axis-aligned"
    assert len(ys) == 2, f"{fixture.id} is not axis-aligned"
    return xs[0], ys[0], xs[1], ys[1]


def gap(a: Rect, b: Rect) -> float:
    """Distance between two axis-aligned rectangles (0 when they touch or overlap)."""
    dx = max(b[0] - a[2], a[0] - b[2], 0.0)
    dy = max(b[1] - a[3], a[1] - b[3], 0.0)
    return float(np.hypot(dx, dy))


def overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def walkable_points(s: Store, height: float, step: float = 0.25, body: float = 0.2) -> np.ndarray:
    """Grid points on the floor, ``body`` clear of the walls and outside every fixture."""
    x0, y0, x1, y1 = polygon_bounds(s.floor)
    gx, gy = np.meshgrid(
        np.arange(x0 + body, x1 - body + 1e-9, step), np.arange(y0 + body, y1 - body + 1e-9, step)
    )
    pts = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    pts = pts[free(s, pts)]
    return np.concatenate([pts, np.full((len(pts), 1), height)], axis=1)


def free(s: Store, pts: np.ndarray) -> np.ndarray:
    """Which floor points ``(N, 2)`` are on the floor and outside every fixture."""
    inside = points_in_polygon(pts, s.floor)
    for f in s.fixtures:
        inside &= ~points_in_polygon(pts, f.footprint)
    return inside


def seen_by(s: Store, points: np.ndarray) -> np.ndarray:
    counts = np.zeros(len(points), dtype=int)
    for cam in s.cameras:
        counts += project(cam, points)[1]
    return counts


# --- counts and references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "plates", "products", "cameras", "gates_each_way"),
    [("corner", 120, 80, range(18, 19), 1), ("grocery", 1000, 600, range(40, 100), 2)],
)
def test_counts(
    template: Template, plates: int, products: int, cameras: range, gates_each_way: int
) -> None:
    s = store(template)
    assert sum(f.kind == "gondola" for f in s.fixtures) >= 4
    assert len(s.plates) >= plates
    assert len(s.products) >= products
    assert len(s.cameras) in cameras
    entries = sorted(g.id for g in s.gates if g.kind == "entry")
    exits = sorted(g.id for g in s.gates if g.kind == "exit")
    assert entries == [f"entry-{i + 1}" for i in range(gates_each_way)]
    assert exits == [f"exit-{i + 1}" for i in range(gates_each_way)]


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_product_faced_and_every_plate_stocked(template: Template) -> None:
    s = store(template)
    assert all(s.plates_of(p.sku) for p in s.products)
    assert all(s.skus_on(p.id) for p in s.plates)


# --- determinism and the committed files ---------------------------------------------------


def test_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown store template 'mall'"):
        generate_store("mall", 0)  # type: ignore[arg-type]


def test_same_seed_same_bytes_other_seed_other_store() -> None:
    first = store_json(generate_store("corner", seed=7))
    assert store_json(generate_store("corner", seed=7)) == first
    assert store_json(generate_store("corner", seed=8)) != first


@pytest.mark.parametrize("template", TEMPLATES)
def test_committed_example_equals_generator_output(template: Template) -> None:
    committed = (EXAMPLES / f"{template}.json").read_bytes()
    assert committed == store_json(store(template)), (
        f"examples/stores/{template}.json is stale: regenerate it with generate_store"
    )


# --- layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_fixtures_inside_floor_apart_and_clear_of_walls(template: Template) -> None:
    s = store(template)
    fx0, fy0, fx1, fy1 = polygon_bounds(s.floor)
    rects = {f.id: rect(f) for f in s.fixtures}
    for f in s.fixtures:
        x0, y0, x1, y1 = rects[f.id]
        assert fx0 <= x0 < x1 <= fx1
        assert fy0 <= y0 < y1 <= fy1
        wall_gaps = sorted((x0 - fx0, y0 - fy0, fx1 - x1, fy1 - y1))
        if f.kind in WALL_KINDS:
            assert wall_gaps[0] == 0, f"{f.id} must back onto a wall"
            assert wall_gaps[1] >= 0.8, f"{f.id} ends too close to a wall"
        else:
            need = 1.5 if f.kind == "gondola" else 0.8
            assert wall_gaps[0] >= need, f"{f.id} is {wall_gaps[0]:.2f} m from a wall"
    for (a, ra), (b, rb) in combinations(rects.items(), 2):
        assert gap(ra, rb) >= 1.5, f"{a} and {b} leave an aisle under 1.5 m"


@pytest.mark.parametrize("template", TEMPLATES)
def test_fixture_shapes_are_realistic(template: Template) -> None:
    for f in store(template).fixtures:
        x0, y0, x1, y1 = rect(f)
        depth, length = sorted((x1 - x0, y1 - y0))
        if f.kind == "gondola":
            assert 0.9 <= depth <= 1.2
            assert 1.6 <= f.height <= 1.8
            assert length >= 3.0
        elif f.kind in WALL_KINDS:
            assert depth == pytest.approx(0.8)
            assert f.height == pytest.approx(2.0)


@pytest.mark.parametrize("template", TEMPLATES)
def test_gates_inside_floor_and_clear_of_fixtures(template: Template) -> None:
    s = store(template)
    fx0, fy0, fx1, fy1 = polygon_bounds(s.floor)
    areas = {g.id: polygon_bounds(g.area) for g in s.gates}
    for gid, (x0, y0, x1, y1) in areas.items():
        assert fx0 <= x0 < x1 <= fx1
        assert fy0 <= y0 < y1 <= fy1
        assert y0 == fy0, f"{gid} is not at the front wall"
        assert sorted((x1 - x0, y1 - y0)) == pytest.approx([1.0, 1.5])
        for f in s.fixtures:
            assert not overlaps((x0, y0, x1, y1), rect(f)), f"{gid} overlaps {f.id}"
    for a, b in combinations(areas.values(), 2):
        assert not overlaps(a, b)


@pytest.mark.parametrize("template", TEMPLATES)
def test_one_connected_walkable_floor(template: Template) -> None:
    """With a body's clearance (0.35 m) every free spot, hence every aisle, entry and exit, is
    reachable from every other."""
    s = store(template)
    step, clearance = 0.1, 0.35
    x0, y0, x1, y1 = polygon_bounds(s.floor)
    xs = np.arange(x0 + clearance, x1 - clearance + 1e-9, step)
    ys = np.arange(y0 + clearance, y1 - clearance + 1e-9, step)
    gx, gy = np.meshgrid(xs, ys)
    free = np.ones(gx.shape, dtype=bool)
    for f in s.fixtures:
        fx0, fy0, fx1, fy1 = rect(f)
        free &= ~(
            (gx > fx0 - clearance)
            & (gx < fx1 + clearance)
            & (gy > fy0 - clearance)
            & (gy < fy1 + clearance)
        )
    labels, n = ndimage.label(free)
    assert n == 1
    for g in s.gates:
        cx, cy = np.mean(np.asarray(g.area), axis=0)
        i, j = round((cy - ys[0]) / step), round((cx - xs[0]) / step)
        assert labels[i, j] == 1, f"{g.id} is not on the walkable floor"


@pytest.mark.parametrize("template", TEMPLATES)
def test_plate_boxes_sit_on_fixture_shelves(template: Template) -> None:
    s = store(template)
    rects = {f.id: rect(f) for f in s.fixtures}
    shelves: dict[tuple[str, str], set[int]] = {}
    for p in s.plates:
        m = PLATE_ID.match(p.id)
        assert m, p.id
        assert p.hz == 60
        x0, y0, x1, y1 = rects[m["fixture"]]
        (bx0, by0, bz0), (bx1, by1, bz1) = p.box
        assert x0 <= bx0 < bx1 <= x1
        assert y0 <= by0 < by1 <= y1
        assert 0.1 <= bz0 < bz1 <= 2.0
        along_y = y1 - y0 > x1 - x0
        width, depth = (by1 - by0, bx1 - bx0) if along_y else (bx1 - bx0, by1 - by0)
        assert 0.29 - 1e-9 <= width <= 0.6
        assert depth == pytest.approx(0.4)
        shelves.setdefault((m["fixture"], m["side"]), set()).add(int(m["shelf"]))
    assert {len(s) for s in shelves.values()} <= {3, 4, 5}


# --- cameras -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_walkable_point_and_plate_seen_by_two_cameras(template: Template) -> None:
    s = store(template)
    body = walkable_points(s, height=1.0)
    assert len(body) > 1000
    assert seen_by(s, body).min() >= 2
    plates = np.array([p.centre for p in s.plates])
    assert seen_by(s, plates).min() >= 2


def seen_past_fixtures(s: Store, points: np.ndarray) -> np.ndarray:
    """How many cameras see each point ``(N, 3)`` with no fixture in between."""
    cell = VisionParams().occlusion_cell_px
    views = [CameraView.build(cam, occluders(s), cell) for cam in s.cameras]
    counts = np.zeros(len(points), dtype=int)
    for view in views:
        uv, ahead = project(view.cam, points)
        counts += ahead & view.unhidden(points, uv, 0.0)
    return counts


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_shopper_crouching_at_a_bottom_shelf_is_seen_by_two_cameras(template: Template) -> None:
    """One camera cannot tell how far along its rays a person is, and a shopper reaching into a
    bottom shelf crouches: head at about 1.1 m, hips at 0.6 m, a step from the shelf. From the
    walls alone the gondolas hid 29 of the corner store's 138 bottom plates' shoppers' hips
    from all cameras but one (ADR 21). Now two cameras see both, past the fixtures, 0.3 m in
    front of every bottom plate."""
    s = store(template)
    lowest = min(p.box[0][2] for p in s.plates)
    spots = []
    for plate in s.plates:
        (x0, y0, z0), (x1, y1, _) = plate.box
        if z0 > lowest + 0.05:
            continue
        around = np.array([(x0 - 0.3, (y0 + y1) / 2), (x1 + 0.3, (y0 + y1) / 2),
                           ((x0 + x1) / 2, y0 - 0.3), ((x0 + x1) / 2, y1 + 0.3)])  # fmt: skip
        aisle = around[free(s, around)]
        assert len(aisle), f"{plate.id} has no aisle in front of it"
        spots.append((plate.id, aisle[0]))
    body = np.array([(*xy, z) for _, xy in spots for z in (0.6, 1.1)])
    counts = seen_past_fixtures(s, body).reshape(len(spots), 2).min(axis=1)
    blind = [pid for (pid, _), n in zip(spots, counts, strict=True) if n < 2]
    assert not blind, f"{len(blind)} of {len(spots)} bottom plates: {blind[:5]}"


@pytest.mark.parametrize("template", TEMPLATES)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_seed_builds_a_covered_store(template: Template, seed: int) -> None:
    s = generate_store(template, seed)
    assert seen_by(s, walkable_points(s, height=1.0, step=0.5)).min() >= 2
    assert seen_by(s, np.array([p.centre for p in s.plates])).min() >= 2
    check_calibration(s)


@pytest.mark.parametrize("template", TEMPLATES)
def test_camera_calibration_is_plausible(template: Template) -> None:
    check_calibration(store(template))


def check_calibration(s: Store) -> None:
    """Realistic intrinsics, ceiling mounts looking down, and projection that inverts exactly."""
    x0, y0, x1, y1 = polygon_bounds(s.floor)
    targets = walkable_points(s, height=1.0, step=0.5)
    for cam in s.cameras:
        k = np.asarray(cam.K)
        assert k[0, 0] == k[1, 1]
        assert 0.8 < k[0, 0] / (cam.width / 2) < 1.2  # a wide lens: about 90 degrees across
        assert abs(k[0, 2] - cam.width / 2) < 0.02 * cam.width
        assert abs(k[1, 2] - cam.height / 2) < 0.02 * cam.height
        assert 10 <= cam.fps <= 15
        k1, k2 = cam.dist[:2]
        assert -0.1 <= k1 <= 0.05
        assert k1 != 0
        assert k2 >= 0.45 * k1 * k1  # monotonic radial distortion
        cx, cy, cz = cam.centre
        assert x0 < cx < x1
        assert y0 < cy < y1
        assert 2.8 <= cz <= 3.5
        forward = np.asarray(cam.R)[2]
        assert -0.9 < forward[2] < -0.3, "looks down with a tilt"
        # Every pixel a floor point lands on casts its ray back through that point.
        uv, visible = project(cam, targets)
        assert visible.sum() >= 10
        centre, rays = pixel_rays(cam, uv[visible])
        expected = targets[visible] - centre
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        assert np.abs(rays - expected).max() < 1e-4


# --- products and planogram ----------------------------------------------------------------


def upc_valid(code: str) -> bool:
    digits = [int(d) for d in code]
    return (3 * sum(digits[0:11:2]) + sum(digits[1:11:2]) + digits[11]) % 10 == 0


@pytest.mark.parametrize("template", TEMPLATES)
def test_products_look_real(template: Template) -> None:
    s = store(template)
    assert all(len(p.sku) == 12 and p.sku.isdigit() and upc_valid(p.sku) for p in s.products)
    assert any(p.sku.startswith("0") for p in s.products)
    assert len({p.name for p in s.products}) == len(s.products)
    assert all(p.price > 0 and p.price % 10 == 9 for p in s.products)
    assert all(0.5 <= p.weight_sd_g <= 0.06 * p.weight_g for p in s.products)
    alcohol = [p for p in s.products if "alcohol" in p.tags]
    assert alcohol
    assert all(p.age_restricted == ("alcohol" in p.tags) for p in s.products)
    tags = {t for p in s.products for t in p.tags}
    assert {"beer", "wine", "can", "bottle", "snack", "coffee", "drink"} <= tags


def test_corner_carries_a_grab_and_go_range() -> None:
    tags = {t for p in store("corner").products for t in p.tags}
    assert {"sandwich", "salad", "dessert", "fruit", "ready-meal", "meal-kit"} <= tags


@pytest.mark.parametrize("template", TEMPLATES)
def test_meal_kits_are_made_of_products_on_the_shelves(template: Template) -> None:
    s = store(template)
    products = {p.sku: p for p in s.products}
    faced = {f.sku for f in s.facings}
    kits = [p for p in s.products if "meal-kit" in p.tags]
    assert kits
    for kit in kits:
        assert kit.is_kit, f"{kit.name} has no components"
        skus = [c.sku for c in kit.components]
        assert len(set(skus)) == len(skus)
        for sku in skus:
            part = products[sku]
            assert sku in faced
            assert not part.is_kit
            assert not part.age_restricted
    # Kits follow their recipe where the store sells its ingredients (the grocery does).
    if template == "grocery":
        fajita = next(k for k in kits if "Fajita" in k.name)
        names = [products[c.sku].name for c in fajita.components]
        assert any("Chicken" in n for n in names)
        assert any("Tortillas" in n for n in names)


@pytest.mark.parametrize("template", TEMPLATES)
def test_planogram_mixes_spans_shares_and_look_alikes(template: Template) -> None:
    s = store(template)
    spans = [len(f.plates) for f in s.facings]
    assert set(spans) == {1, 2, 3}
    for f in s.facings:
        keys = [PLATE_ID.match(p) for p in f.plates]
        assert all(keys)
        assert len({(k["fixture"], k["side"], k["shelf"]) for k in keys if k}) == 1
        ns = [int(k["n"]) for k in keys if k]
        assert ns == list(range(ns[0], ns[0] + len(ns))), "a product spans adjacent plates"

    weights = {p.sku: p.weight_g for p in s.products}
    carried = [s.skus_on(p.id) for p in s.plates]
    assert sum(len(c) == 1 for c in carried) >= 0.8 * len(carried)
    pairs = [sorted(weights[k] for k in c) for c in carried if len(c) == 2]
    assert max(len(c) for c in carried) == 2
    assert any(hi / lo < 1.01 for lo, hi in pairs), "look-alikes sharing a plate"
    assert any(hi / lo >= 1.5 for lo, hi in pairs), "two clearly different products on a plate"

    # Look-alikes on neighbouring plates: different products under 1 % apart.
    by_id = {p.id: s.skus_on(p.id) for p in s.plates}
    neighbours = 0
    for p in s.plates:
        m = PLATE_ID.match(p.id)
        assert m
        nxt = f"{m['fixture']}-{m['side']}-S{m['shelf']}-P{int(m['n']) + 1}"
        if nxt in by_id and len(by_id[p.id]) == len(by_id[nxt]) == 1:
            a, b = by_id[p.id][0], by_id[nxt][0]
            neighbours += a != b and abs(weights[a] - weights[b]) < 0.01 * weights[a]
    assert neighbours >= 10


@pytest.mark.parametrize("template", TEMPLATES)
def test_products_sharing_a_plate_stand_in_lanes_side_by_side(template: Template) -> None:
    s = store(template)
    for plate in s.plates:
        skus = s.skus_on(plate.id)
        lanes = s.lanes_on(plate.id)
        if len(skus) == 1:
            assert lanes == {}
            continue
        assert set(lanes) == set(skus)
        (lo, hi), (lo2, hi2) = (lanes[k] for k in skus)
        axis = next(i for i in range(3) if hi[i] != plate.box[1][i])
        # Two halves along the shelf, each as deep and high as the plate's box.
        assert lo == plate.box[0]
        assert hi2 == plate.box[1]
        assert hi[axis] == lo2[axis] == pytest.approx(sum(b[axis] for b in plate.box) / 2, abs=1e-3)
        assert [v for i, v in enumerate(hi) if i != axis] == [
            v for i, v in enumerate(plate.box[1]) if i != axis
        ]
        assert axis in (0, 1)
    assert all(f.box is None for f in s.facings if len(s.skus_on(f.plates[0])) == 1)

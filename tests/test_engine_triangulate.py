"""Batched camera rays and ray triangulation of the people tracker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from people_scene import make_store
from walkout.domain.geometry import pixel_rays, project
from walkout.engine.people import box_distance, segment_box_distance
from walkout.engine.triangulate import CameraBank, RayBundle, ray_gaps

STORE = make_store()
BANK = CameraBank(STORE.cameras)


def test_bank_rays_match_pixel_rays_within_a_hundredth_of_a_pixel() -> None:
    rng = np.random.default_rng(0)
    for i, cam in enumerate(STORE.cameras):
        uv = rng.uniform((0, 0), (cam.width, cam.height), (200, 17, 2))
        centre, want = pixel_rays(cam, uv)
        got = BANK.rays(np.full(200, i), uv)
        angle = np.arccos(np.clip((want * got).sum(-1), -1.0, 1.0))
        assert angle.max() * cam.K[0][0] < 0.01
        np.testing.assert_allclose(BANK.centres[i], centre, atol=1e-9)


def test_bank_handles_mixed_cameras_and_pixels_beyond_the_image() -> None:
    cam = np.array([1, 0, 3])
    uv = np.array([[[-5.0, -5.0]], [[700.0, 500.0]], [[320.0, 240.0]]])
    got = BANK.rays(cam, uv)
    for row, c in enumerate(cam):
        _, want = pixel_rays(STORE.cameras[c], uv[row])
        assert np.degrees(np.arccos(min(1.0, float(want[0] @ got[row, 0])))) < 0.05


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), margin=st.sampled_from([0.0, 300.0, 1e6]))
def test_bank_rays_are_the_bilinear_grid_turned_into_the_world(seed: int, margin: float) -> None:
    """The compiled rays against the same arithmetic in numpy: each pixel's grid cell (its
    integer part, clipped to the grid), the four corners weighed bilinearly, rotated into the
    world and normalised; pixels beyond the image extrapolate from the border cells."""
    rng = np.random.default_rng(seed)
    n = 50
    cam = rng.integers(0, len(BANK), n)
    size = np.array([(c.width, c.height) for c in STORE.cameras])[cam]
    uv = rng.uniform(-margin, size[:, None, :] + margin, (n, 17, 2))
    f = uv / BANK.steps[cam][:, None, None]
    i = np.minimum(np.maximum(np.floor(f), 0), BANK.last_cell[cam][:, None, :]).astype(int)
    a = f - i
    g = BANK.grid[cam[:, None], i[..., 1], i[..., 0]]
    right = BANK.grid[cam[:, None], i[..., 1], i[..., 0] + 1]
    below = BANK.grid[cam[:, None], i[..., 1] + 1, i[..., 0]]
    corner = BANK.grid[cam[:, None], i[..., 1] + 1, i[..., 0] + 1]
    au, av = a[..., :1], a[..., 1:]
    xy = (1 - au) * (1 - av) * g + au * (1 - av) * right + (1 - au) * av * below + au * av * corner
    d = np.concatenate([xy, np.ones((n, 17, 1))], -1) @ BANK.rotations[cam]
    want = d / np.linalg.norm(d, axis=-1, keepdims=True)
    np.testing.assert_allclose(BANK.rays(cam, uv), want, rtol=0, atol=1e-12)


def test_a_pixel_that_is_not_a_number_gives_a_ray_that_is_not_one() -> None:
    got = BANK.rays(np.array([0, 1]), np.array([[[np.nan, 10.0]], [[10.0, 20.0]]]))
    assert np.isnan(got[0]).all()
    assert np.isfinite(got[1]).all()


def _views(point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact rays from every camera of the store to one point: origins, dirs ``(C, 1, 3)``."""
    dirs = point - BANK.centres
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    return BANK.centres[:, None, :], dirs[:, None, :]


_COORD = st.floats(-3.0, 3.0)


@given(st.lists(_COORD, min_size=3, max_size=3), st.lists(_COORD, min_size=3, max_size=3))
def test_a_segments_distance_to_a_box_is_its_nearest_points(a: list[float], b: list[float]) -> None:
    box = ((0.0, -1.0, 0.5), (1.0, 1.0, 1.5))
    ends = np.array([a, b])
    got = float(segment_box_distance(ends[0], ends[1], box))
    # Against the points of the segment every millimetre: the distance changes by at most
    # the step between them.
    n = int(np.linalg.norm(ends[1] - ends[0]) / 1e-3) + 2
    along = box_distance(ends[0] + np.linspace(0.0, 1.0, n)[:, None] * (ends[1] - ends[0]), box)
    assert float(along.min()) - 1e-3 <= got <= float(along.min()) + 1e-9
    assert (got == 0.0) == bool((along == 0.0).any()) or float(along.min()) < 1e-3
    # A point: the two agree to a nanometre (a point on the box's face may come out 0 by one
    # and 1.7e-12 by the other: hypothesis found one).
    assert float(segment_box_distance(ends[0], ends[0], box)) == pytest.approx(
        float(box_distance(ends[0], box)), abs=1e-9
    )


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.5, 7.5), st.floats(0.5, 5.5), st.floats(0.0, 2.0), st.floats(-1.0, 1.0)
)  # fmt: skip
def test_triangulation_of_exact_rays_is_exact(x: float, y: float, z: float, off: float) -> None:
    point = np.array([x, y, z])
    origins, dirs = _views(point)
    prior = (point + off)[None, None, :]
    group = np.zeros(4, np.intp)
    bundle = RayBundle(origins, dirs, np.ones((4, 1)), group, 1)
    exact, views = bundle.solve(prior, reg=(1e-9,) * 3)
    assert np.linalg.norm(exact[0, 0] - point) < 1e-6
    assert views[0, 0] == 4
    pulled, _ = bundle.solve(prior)  # default pull
    assert np.linalg.norm(pulled[0, 0] - point) < 0.02 * abs(off) + 1e-9


def test_an_outlier_ray_is_dropped_and_groups_stay_apart() -> None:
    a, b = np.array([2.0, 3.0, 1.0]), np.array([5.0, 2.0, 1.4])
    oa, da = _views(a)
    ob, db = _views(b)
    da[2, 0] = (b - oa[2, 0]) / np.linalg.norm(b - oa[2, 0])  # camera 2 confuses a with b
    origins = np.concatenate([oa, ob])
    dirs = np.concatenate([da, db])
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    prior = np.array([[[2.2, 3.1, 1.0]], [[5.0, 2.2, 1.3]]])
    got, views = RayBundle(origins, dirs, np.ones((8, 1)), group, 2).solve(prior)
    assert np.linalg.norm(got[0, 0] - a) < 1e-2
    assert np.linalg.norm(got[1, 0] - b) < 1e-2
    assert views[:, 0].tolist() == [3, 4]


def test_a_bundle_solves_each_prior_as_a_fresh_one_would() -> None:
    """Rays dropped as outliers in one solve are back for the next, and nothing else carries
    over: reusing a bundle gives exactly what triangulating from scratch gives."""
    a, b = np.array([2.0, 3.0, 1.0]), np.array([5.0, 2.0, 1.4])
    oa, da = _views(a)
    ob, db = _views(b)
    da[2, 0] = (b - oa[2, 0]) / np.linalg.norm(b - oa[2, 0])  # an outlier to drop
    rays = (np.concatenate([oa, ob]), np.concatenate([da, db]), np.ones((8, 1)))
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    first = np.array([[[2.2, 3.1, 1.0]], [[5.0, 2.2, 1.3]]])
    second = first + 0.3
    bundle = RayBundle(*rays, group, 2)
    bundle.solve(first, rounds=3)
    got, views = bundle.solve(second, reg=(1e-2, 1e-2, 1e-6))
    want, want_views = RayBundle(*rays, group, 2).solve(second, reg=(1e-2, 1e-2, 1e-6))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(views, want_views)
    assert views[:, 0].tolist() == [3, 4]


def test_solving_some_points_gives_exactly_what_solving_all_gives_there() -> None:
    """Points outside ``only`` stay at their prior, those inside come out bit for bit as in a
    full solve (outliers dropped the same way), and a point no ray sees stays at its prior."""
    a, b = np.array([2.0, 3.0, 1.0]), np.array([5.0, 2.0, 1.4])
    oa, da = _views(a)
    ob, db = _views(b)
    da[2, 0] = (b - oa[2, 0]) / np.linalg.norm(b - oa[2, 0])  # an outlier to drop
    origins = np.concatenate([oa, ob]).repeat(2, axis=1)
    dirs = np.concatenate([da, db]).repeat(2, axis=1)
    weights = np.ones((8, 2))
    weights[4:, 1] = 0.0  # nobody sees person 1's second keypoint
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    prior = np.array([[[2.2, 3.1, 1.0]] * 2, [[5.0, 2.2, 1.3]] * 2])
    bundle = RayBundle(origins, dirs, weights, group, 2)
    every, views = bundle.solve(prior, rounds=3)
    assert views.tolist() == [[3, 3], [4, 0]]
    np.testing.assert_array_equal(every[1, 1], prior[1, 1])
    only = np.array([[True, False], [False, False]])
    some, some_views = bundle.solve(prior, rounds=3, only=only)
    np.testing.assert_array_equal(some[only], every[only])
    np.testing.assert_array_equal(some[~only], prior[~only])
    assert some_views.tolist() == [[3, 4], [4, 0]]  # the points not solved keep every ray


def test_a_single_ray_lands_where_it_crosses_the_height_of_the_prior() -> None:
    point = np.array([4.0, 3.0, 1.0])
    origins, dirs = _views(point)
    prior = np.array([[[4.4, 2.7, 1.0]]])  # right height, wrong place
    bundle = RayBundle(origins[:1], dirs[:1], np.ones((1, 1)), np.zeros(1, np.intp), 1)
    got, views = bundle.solve(prior)
    assert views[0, 0] == 1
    w = got[0, 0] - origins[0, 0]
    assert np.linalg.norm(w - (w @ dirs[0, 0]) * dirs[0, 0]) < 1e-3  # on the ray
    assert np.linalg.norm(got[0, 0] - point) < 0.02


def test_projected_keypoints_triangulate_through_the_bank() -> None:
    point = np.array([[3.0, 2.5, 1.2]])
    rows = []
    for cam in STORE.cameras:
        uv, visible = project(cam, point)
        assert visible.all()
        rows.append(uv)
    dirs = BANK.rays(np.arange(4), np.stack(rows))
    bundle = RayBundle(BANK.centres[:, None, :], dirs, np.ones((4, 1)), np.zeros(4, np.intp), 1)
    got, _ = bundle.solve(point[None])
    assert np.linalg.norm(got[0, 0] - point[0]) < 1e-3


@given(st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3))
def test_box_distance_is_the_distance_to_the_nearest_point_of_the_box(p: list[float]) -> None:
    box = ((0.0, -1.0, 0.5), (1.0, 1.0, 1.5))
    point = np.array(p)
    nearest = np.clip(point, box[0], box[1])
    assert float(box_distance(point, box)) == pytest.approx(np.linalg.norm(point - nearest))
    if (nearest == point).all():
        assert float(box_distance(point, box)) == 0.0


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.5, 7.5), st.floats(0.5, 5.5), st.floats(0.0, 2.0), st.floats(-0.5, 0.5)
)  # fmt: skip
def test_rays_through_one_point_meet_there_and_shifted_rays_miss_by_the_shift(
    x: float, y: float, z: float, lift: float
) -> None:
    point = np.array([x, y, z])
    origins, dirs = _views(point)
    gap, mid, ok = ray_gaps(origins[0, 0], dirs[0, 0], origins[1:, 0], dirs[1:, 0])
    assert ok.all()
    assert np.abs(gap).max() < 1e-6
    assert np.abs(mid - point).max() < 1e-6
    # Camera 0's ray moved by `lift` across camera 1's ray (along their common normal; moving
    # it along itself, as straight up for a point below the camera, changes nothing) misses
    # camera 1's ray by exactly that and the others by at most that.
    normal = np.cross(dirs[0, 0], dirs[1, 0])
    lifted = origins[0, 0] + lift * normal / np.linalg.norm(normal)
    gap, _, _ = ray_gaps(lifted, dirs[0, 0], origins[1:, 0], dirs[1:, 0])
    assert (gap <= abs(lift) + 1e-9).all()
    assert gap[0] == pytest.approx(abs(lift), abs=1e-9)


def test_rays_that_meet_behind_a_camera_or_run_parallel_do_not_count() -> None:
    o, d = np.zeros(3), np.array([1.0, 0.0, 0.0])
    behind, _, ok_behind = ray_gaps(o, d, np.array([-1.0, -1.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    assert behind == pytest.approx(0.0)
    assert not ok_behind
    _, _, ok_parallel = ray_gaps(o, d, np.array([0.0, 1.0, 0.0]), d)
    assert not ok_parallel

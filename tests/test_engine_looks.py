"""Shoppers' looks in compiled code: the per-camera looks in shared rows (``_CameraLooks``),
their update and their match costs, and the sums that keep the compiled arithmetic numpy's
and Python's to the bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from walkout.engine.bulk import MAX_ABS_G, _usable_sum
from walkout.engine.people import (
    TrackerConfig,
    _CameraLooks,
    _fold_camera_looks,
    _fold_looks,
    _look_cost,
    _pairwise_sum,
    _Track,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(deadline=None)  # (the first call loads the compiled code)
@given(arrays(np.float64, st.integers(0, 700), elements=finite))
def test_pairwise_sum_adds_as_numpy_does(a: np.ndarray) -> None:
    assert _pairwise_sum(a, 0, len(a)) == np.add.reduce(a[None], axis=-1)[0]


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(finite, st.floats(-1e-12, 1e-12), st.sampled_from([math.nan, 1e9, -MAX_ABS_G])),
        max_size=40,
    )
)
def test_usable_sum_is_pythons_fsum_of_the_usable_samples(values: list[float]) -> None:
    usable = [x for x in values if -MAX_ABS_G < x < MAX_ABS_G]
    assert _usable_sum(np.array(values, dtype=float), len(values)) == math.fsum(usable)


def test_usable_sum_rounds_half_to_even_across_partials() -> None:
    """CPython's example scaled to samples: the half of the big one's last unit is a tie
    that the tiny one breaks upward (a plain sum rounds it to even, down)."""
    values = np.array([2.0**22, 2.0**-31, 2.0**-80])
    assert _usable_sum(values, 3) == math.fsum(values.tolist()) == 2.0**22 + 2.0**-30
    assert values[0] + values[1] + values[2] == 2.0**22


def numpy_fold(look: np.ndarray, n: np.ndarray, obs: np.ndarray, learn: int) -> np.ndarray:
    """The fold of a look in numpy, as the tracker once computed it."""
    rate = np.maximum(1.0 / (n + 1), 1.0 / learn)[..., None]
    mean = (1 - rate) * look + rate * obs
    out: np.ndarray = mean / np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-9)
    return out


def test_folding_looks_is_numpys_running_mean() -> None:
    rng = np.random.default_rng(6)
    look = rng.normal(size=(30, 8))
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    n, obs = rng.integers(0, 80, size=30), rng.normal(size=(30, 8))
    assert (_fold_looks(look, n, obs, 50) == numpy_fold(look, n, obs, 50)).all()


def test_folding_camera_looks_is_the_running_mean_of_each_tracks_camera() -> None:
    """The compiled update gives, to the bit, the numpy update it replaced: each (track,
    camera) pair's rows averaged in order, folded into that pair's look."""
    rng = np.random.default_rng(5)
    look = rng.normal(size=(6, 4, 8))
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    count = rng.integers(0, 80, size=(6, 4))
    slot = rng.integers(1, 6, size=40)
    cam = rng.integers(0, 4, size=40)
    app = rng.normal(size=(40, 8))
    want_look, want_count = look.copy(), count.copy()
    pair, at = np.unique(slot * 4 + cam, return_inverse=True)
    obs = np.zeros((len(pair), 8))
    np.add.at(obs, at, app)
    obs /= np.bincount(at)[:, None]
    s, c = pair // 4, pair % 4
    want_look[s, c] = numpy_fold(want_look[s, c], want_count[s, c], obs, 50)
    want_count[s, c] += 1
    _fold_camera_looks(look, count, slot, cam, app, 50)
    assert (look == want_look).all()
    assert (count == want_count).all()


def _track(serial: int) -> _Track:
    return _Track(serial, np.zeros(2), 0.0, None)  # type: ignore[arg-type]


def test_rows_of_tracks_gone_are_taken_back_before_more_are_made() -> None:
    book = _CameraLooks(n_cams=3)
    first = [_track(k) for k in range(3)]
    rows = book.claim(first, first, dims=8).tolist()
    assert sorted(rows) == [1, 2, 3]  # row 0 is every track's without one
    book.look[rows[0]] = 1.0
    book.count[rows[0]] = 7
    assert book.claim(first, first, dims=8).tolist() == rows  # a track keeps its row
    later = [_track(3), *first[1:]]  # the first track left: its row goes to the new one
    assert book.claim(later, later, dims=8).tolist() == [rows[0], *rows[1:]]
    assert first[0].slot == -1
    assert (book.look[rows[0]] == 0).all()
    assert (book.count[rows[0]] == 0).all()
    crowd = [_track(k) for k in range(10, 20)]
    book.claim(crowd, crowd + later, dims=8)
    assert len({tr.slot for tr in crowd + later}) == 13
    assert book.slots([_track(99)]).tolist() == [0]


@pytest.mark.parametrize("camera_min", [0, 10])
def test_a_detection_is_compared_with_its_cameras_look_once_that_camera_taught_enough(
    camera_min: int,
) -> None:
    """Cost: ``app_weight`` per unit of cosine below ``1 - app_slack``, at most the cap, 0 where
    a look is unknown; the camera's look stands in for the overall one at ``app_camera_min``
    windows (never when 0)."""
    cfg = TrackerConfig(app_camera_min=camera_min, app_min_samples=1)
    book = _CameraLooks(n_cams=2)
    known, learnt, unknown = _track(1), _track(2), _track(3)
    known.look, known.looks = np.array([1.0, 0.0]), 5
    learnt.look, learnt.looks = np.array([1.0, 0.0]), 5
    book.claim([learnt], [learnt], dims=2)
    book.look[learnt.slot, 1] = [0.0, 1.0]
    book.count[learnt.slot, 1] = 10
    side = np.array([[0.0, 1.0], [0.0, 1.0], [math.nan, math.nan]])
    cost = _look_cost([known, learnt, unknown], cfg, side, np.array([0, 1, 1]), book)
    top = min(cfg.app_weight * (1 - cfg.app_slack), cfg.app_cap_m)
    camera = 0.0 if camera_min else top  # camera 1's look of the second track is the side
    assert cost.tolist() == [[top, top, 0.0], [top, camera, 0.0], [0.0, 0.0, 0.0]]

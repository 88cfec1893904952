"""The skeleton model: proportions, wrists on the hands, posture and gait."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from walkout.sim.body import (
    ANKLES,
    ELBOWS,
    FOREARM,
    HIPS,
    KNEES,
    SHOULDERS,
    UPPER_ARM,
    WRISTS,
    BodyMotion,
    hanging_hands,
    head_centre,
    skeleton,
)
from walkout.sim.timeline import PersonTrack

heights = st.floats(1.4, 2.0)
headings = st.floats(-np.pi, np.pi)
coords = st.floats(0.0, 30.0)


def bone(kp: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lengths: np.ndarray = np.linalg.norm(kp[:, b] - kp[:, a], axis=-1)
    return lengths


def test_proportions_of_an_average_adult() -> None:
    kp = skeleton([[2.0, 3.0]], 0.7, hanging_hands([[2.0, 3.0]], 0.7, 1.75), 1.75)
    assert np.all((bone(kp, SHOULDERS, ELBOWS) > 0.28) & (bone(kp, SHOULDERS, ELBOWS) < 0.36))
    assert np.all((bone(kp, ELBOWS, WRISTS) > 0.22) & (bone(kp, ELBOWS, WRISTS) < 0.30))
    assert np.all((bone(kp, HIPS, KNEES) > 0.38) & (bone(kp, HIPS, KNEES) < 0.48))
    assert np.all((bone(kp, KNEES, ANKLES) > 0.38) & (bone(kp, KNEES, ANKLES) < 0.48))
    shoulder_width = np.linalg.norm(kp[0, SHOULDERS[0]] - kp[0, SHOULDERS[1]])
    assert 0.3 < shoulder_width < 0.45
    assert 1.55 < head_centre(kp)[0, 2] < 1.7
    # Left is on the left: facing +x, the left shoulder has the larger y.
    facing_x = skeleton([[0.0, 0.0]], 0.0, hanging_hands([[0.0, 0.0]], 0.0, 1.75), 1.75)
    assert facing_x[0, SHOULDERS[0], 1] > facing_x[0, SHOULDERS[1], 1]


@settings(max_examples=60, deadline=None)
@given(
    x=coords,
    y=coords,
    heading=headings,
    height=heights,
    reach=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
)
def test_reaching_keeps_bones_wrists_and_vertical_order(
    x: float, y: float, heading: float, height: float, reach: list[float]
) -> None:
    """Hands anywhere in front within arm's reach: exact wrists, rigid bones, upright order."""
    hang = hanging_hands([[x, y]], heading, height)
    fwd = np.array([np.cos(heading), np.sin(heading), 0.0])
    r = np.asarray(reach).reshape(2, 3)
    offset = 0.25 * height * (r[:, :1] * fwd + (r[:, 1:2] - 0.5) * np.array([0, 0, 1.0]))
    hands = hang + offset[None] + np.array([0.0, 0.0, 0.1 * height]) * r[:, 2:3][None]
    kp = skeleton([[x, y]], heading, hands, height)
    np.testing.assert_allclose(kp[:, WRISTS], hands, atol=1e-12)
    dist = np.linalg.norm(hands[0] - kp[0, SHOULDERS], axis=-1)
    within = (dist > (UPPER_ARM - FOREARM) * height) & (dist < (UPPER_ARM + FOREARM) * height)
    upper, fore = bone(kp, SHOULDERS, ELBOWS)[0], bone(kp, ELBOWS, WRISTS)[0]
    np.testing.assert_allclose(upper, UPPER_ARM * height, rtol=1e-6)
    np.testing.assert_allclose(fore[within], FOREARM * height, rtol=1e-6)
    np.testing.assert_allclose(bone(kp, HIPS, KNEES)[0], 0.245 * height, rtol=1e-6)
    assert head_centre(kp)[0, 2] > kp[0, SHOULDERS, 2].max()
    assert kp[0, SHOULDERS, 2].min() > kp[0, HIPS, 2].max()
    assert kp[0, HIPS, 2].min() > kp[0, KNEES, 2].max()
    assert kp[0, KNEES, 2].min() > kp[0, ANKLES, 2].max()


@settings(max_examples=40, deadline=None)
@given(heading=headings, height=heights, shelf_z=st.floats(0.1, 0.5), ahead=st.floats(0.3, 0.6))
def test_low_shelf_makes_the_person_crouch_and_lean(
    heading: float, height: float, shelf_z: float, ahead: float
) -> None:
    hang = hanging_hands([[5.0, 5.0]], heading, height)
    standing = skeleton([[5.0, 5.0]], heading, hang, height)
    fwd = np.array([np.cos(heading), np.sin(heading)])
    hands = hang.copy()
    hands[0, 1, :2] = np.array([5.0, 5.0]) + ahead * fwd
    hands[0, 1, 2] = shelf_z
    kp = skeleton([[5.0, 5.0]], heading, hands, height)
    np.testing.assert_allclose(kp[0, WRISTS], hands[0], atol=1e-12)
    assert kp[0, HIPS, 2].max() < standing[0, HIPS, 2].min()  # crouched
    lean = (kp[0, SHOULDERS, :2].mean(0) - standing[0, SHOULDERS, :2].mean(0)) @ fwd
    assert lean > 0.0  # leaned towards the shelf
    assert head_centre(kp)[0, 2] > kp[0, SHOULDERS, 2].max() > kp[0, HIPS, 2].max()
    assert kp[0, HIPS, 2].min() > kp[0, KNEES, 2].max() > kp[0, ANKLES, 2].max()
    # The knees bend forward; the feet stay on the floor.
    assert ((kp[0, KNEES, :2] - kp[0, ANKLES, :2]) @ fwd).min() > 0.05
    np.testing.assert_allclose(kp[0, ANKLES, 2], standing[0, ANKLES, 2])


def walking_track(speed: float, seconds: float = 4.0) -> PersonTrack:
    t = 1_700_000_000.0 + np.arange(0.0, seconds, 1 / 30)
    xy = np.stack([1.0 + speed * (t - t[0]), np.full(len(t), 2.0)], axis=-1)
    heading = np.zeros(len(t))
    return PersonTrack(0, "T", 1.75, t, xy, heading, hanging_hands(xy, heading, 1.75))


def test_ankles_alternate_while_walking_and_rest_when_standing() -> None:
    walk = BodyMotion.from_track(walking_track(1.2))
    kp = walk.keypoints(walk.t)
    ahead = kp[:, ANKLES[0], 0] - kp[:, ANKLES[1], 0]  # left ankle ahead of the right
    assert ahead.max() > 0.3
    assert ahead.min() < -0.3
    crossings = np.count_nonzero(np.diff(np.sign(ahead[np.abs(ahead) > 0.05])))
    assert 4 <= crossings <= 12  # about 1.7 steps a second for 4 s
    # A lifted foot is always the swinging one, never both at once.
    lifted = kp[:, ANKLES, 2] > 0.08
    assert lifted.any()
    assert not (lifted[:, 0] & lifted[:, 1]).any()
    still = BodyMotion.from_track(walking_track(0.0))
    kp = still.keypoints(still.t)
    np.testing.assert_allclose(kp[:, ANKLES[0], 0], kp[:, ANKLES[1], 0])


def test_motion_interpolates_between_samples_and_knows_presence() -> None:
    track = walking_track(1.0)
    motion = BodyMotion.from_track(track)
    at_samples = motion.keypoints(track.t[10:12])
    direct = skeleton(
        track.xy[10:12],
        track.heading[10:12],
        track.hands[10:12],
        track.height_m,
        motion.travelled[10:12],
        motion.speed[10:12],
    )
    np.testing.assert_allclose(at_samples, direct, atol=1e-9)
    mid = motion.keypoints(np.array([(track.t[10] + track.t[11]) / 2]))
    np.testing.assert_allclose(mid[0, WRISTS], track.hands[10:12].mean(axis=0), atol=1e-9)
    present = motion.present(np.array([track.t[0] - 0.1, track.t[5], track.t[-1] + 0.1]))
    assert present.tolist() == [False, True, False]

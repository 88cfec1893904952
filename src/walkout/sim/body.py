"""The simulated person's skeleton: 3-D COCO-17 keypoints from a :class:`PersonTrack` sample.

Proportions are fractions of standing height (Drillis & Contini anthropometry). The wrists are
exactly the track's hands; a hand below or beyond arm's reach makes the person crouch and lean
the upper body towards it (within limits; past them the arm is drawn straight). Elbows and knees
come from two-bone inverse kinematics, and the ankles swing in a simple walking gait while the
person moves. Everything is vectorised over samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from walkout.domain.messages import COCO_KEYPOINTS
from walkout.sim.timeline import PersonTrack

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Heights above the floor, as fractions of standing height.
NOSE_Z, EYE_Z, EAR_Z = 0.915, 0.935, 0.93
SHOULDER_Z, HIP_Z, KNEE_Z, ANKLE_Z = 0.818, 0.53, 0.285, 0.039
# Segment lengths and half-widths, as fractions of standing height.
UPPER_ARM, FOREARM = 0.186, 0.146
THIGH, SHIN = HIP_Z - KNEE_Z, KNEE_Z - ANKLE_Z
SHOULDER_HALF, HIP_HALF, FOOT_HALF = 0.105, 0.06, 0.055
EYE_HALF, EAR_HALF = 0.018, 0.042
NOSE_FWD, EYE_FWD = 0.055, 0.045
#: Walking: step length (fraction of height) at full speed, the speed of a full stride (m/s)
#: and how high a swinging ankle lifts (fraction of height).
STEP, WALK_SPEED, FOOT_LIFT = 0.4, 1.2, 0.05
#: Posture limits: deepest crouch (fraction of height) and steepest forward lean (radians).
MAX_CROUCH, MAX_LEAN = 0.3, np.radians(55.0)

KP = {name: i for i, name in enumerate(COCO_KEYPOINTS)}
HEAD = np.array([KP[k] for k in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")])
SHOULDERS = np.array([KP["left_shoulder"], KP["right_shoulder"]])
ELBOWS = np.array([KP["left_elbow"], KP["right_elbow"]])
WRISTS = np.array([KP["left_wrist"], KP["right_wrist"]])
HIPS = np.array([KP["left_hip"], KP["right_hip"]])
KNEES = np.array([KP["left_knee"], KP["right_knee"]])
ANKLES = np.array([KP["left_ankle"], KP["right_ankle"]])
EARS = np.array([KP["left_ear"], KP["right_ear"]])
UPPER_BODY = np.concatenate([HEAD, SHOULDERS])

# Standing template in the body frame (forward, left, up), fractions of height. Elbows, wrists
# and knees are placeholders: they are solved for.
_TEMPLATE = np.zeros((len(COCO_KEYPOINTS), 3))
_TEMPLATE[KP["nose"]] = (NOSE_FWD, 0.0, NOSE_Z)
_TEMPLATE[KP["left_eye"]] = (EYE_FWD, EYE_HALF, EYE_Z)
_TEMPLATE[KP["right_eye"]] = (EYE_FWD, -EYE_HALF, EYE_Z)
_TEMPLATE[KP["left_ear"]] = (0.0, EAR_HALF, EAR_Z)
_TEMPLATE[KP["right_ear"]] = (0.0, -EAR_HALF, EAR_Z)
_TEMPLATE[SHOULDERS] = [(0.0, SHOULDER_HALF, SHOULDER_Z), (0.0, -SHOULDER_HALF, SHOULDER_Z)]
_TEMPLATE[HIPS] = [(0.0, HIP_HALF, HIP_Z), (0.0, -HIP_HALF, HIP_Z)]
_TEMPLATE[ANKLES] = [(0.0, FOOT_HALF, ANKLE_Z), (0.0, -FOOT_HALF, ANKLE_Z)]

_UP = np.array([0.0, 0.0, 1.0])
_EPS = 1e-9


def _unit(v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Unit vectors along the last axis and the norms (zero vectors stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, _EPS), n[..., 0]


def _frames(heading: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Forward and left unit vectors ``(N, 3)`` for headings in radians (0 = +x)."""
    c, s = np.cos(heading), np.sin(heading)
    zero = np.zeros_like(c)
    return np.stack([c, s, zero], axis=-1), np.stack([-s, c, zero], axis=-1)


def _arm_excess(shoulders: FloatArray, wrists: FloatArray, reach: FloatArray) -> FloatArray:
    """How far ``(N, 3)`` the shoulders must move for both wrists to come within reach."""
    direction, dist = _unit(wrists - shoulders)
    over = np.maximum(dist - reach[:, None], 0.0)
    excess: FloatArray = (direction * over[..., None]).sum(axis=1)
    return excess


def _rotate(
    points: FloatArray, pivot: FloatArray, axis: FloatArray, angle: FloatArray
) -> FloatArray:
    """Rotate points ``(N, K, 3)`` about unit ``axis (N, 3)`` through ``pivot (N, 3)``."""
    v = points - pivot[:, None]
    k = axis[:, None]
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    kv = (k * v).sum(axis=-1, keepdims=True)
    rotated: FloatArray = pivot[:, None] + v * c + np.cross(k, v) * s + k * kv * (1 - c)
    return rotated


def two_bone(
    root: FloatArray, end: FloatArray, l1: FloatArray, l2: FloatArray, pole: FloatArray
) -> FloatArray:
    """The middle joint of a two-segment limb from ``root`` to ``end`` (``(..., 3)``).

    Segment lengths ``l1``, ``l2`` broadcast against the points' leading axes; the joint bends
    towards ``pole``. Out of reach, the limb is drawn straight towards ``end``.
    """
    u, dist = _unit(end - root)
    dc = np.clip(dist, np.abs(l1 - l2) + 1e-6, l1 + l2)
    a = (l1**2 - l2**2 + dc**2) / (2 * dc)
    h = np.sqrt(np.maximum(l1**2 - a**2, 0.0))
    p = pole - (pole * u).sum(axis=-1, keepdims=True) * u
    p_hat, p_norm = _unit(p)
    # A pole along the limb leaves the bend undefined: bend sideways instead.
    side, _ = _unit(np.cross(u, _UP))
    p_hat = np.where((p_norm < 1e-6)[..., None], side, p_hat)
    mid: FloatArray = root + a[..., None] * u + h[..., None] * p_hat
    return mid


def skeleton(
    xy: ArrayLike,
    heading: ArrayLike,
    hands: ArrayLike,
    height_m: ArrayLike,
    travelled: ArrayLike = 0.0,
    speed: ArrayLike = 0.0,
) -> FloatArray:
    """COCO-17 keypoints ``(N, 17, 3)`` of people at floor points ``xy (N, 2)``.

    ``heading (N,)`` is the facing direction, ``hands (N, 2, 3)`` the left and right wrists,
    ``height_m`` the standing height; ``travelled`` (metres walked so far) sets the gait phase
    and ``speed`` (m/s) its amplitude. Scalars broadcast over samples.
    """
    xy = np.atleast_2d(np.asarray(xy, dtype=float))
    n = len(xy)
    heading = np.broadcast_to(np.asarray(heading, dtype=float), (n,))
    wrists = np.asarray(hands, dtype=float).reshape(n, 2, 3)
    height = np.broadcast_to(np.asarray(height_m, dtype=float), (n,))
    fwd, left = _frames(heading)
    origin = np.concatenate([xy, np.zeros((n, 1))], axis=-1)
    local = _TEMPLATE[None] * height[:, None, None]
    kp: FloatArray = (
        origin[:, None]
        + local[..., 0:1] * fwd[:, None]
        + local[..., 1:2] * left[:, None]
        + local[..., 2:3] * _UP
    )

    # Gait: the ankles swing fore and aft in antiphase, the swinging one lifted.
    amp = np.clip(np.broadcast_to(np.asarray(speed, dtype=float), (n,)) / WALK_SPEED, 0.0, 1.0)
    phase = np.pi * np.broadcast_to(np.asarray(travelled, dtype=float), (n,)) / (STEP * height)
    swing = 0.5 * STEP * height * amp * np.sin(phase)
    lift = FOOT_LIFT * height * amp * np.cos(phase)
    kp[:, ANKLES[0]] += swing[:, None] * fwd + np.maximum(lift, 0)[:, None] * _UP
    kp[:, ANKLES[1]] += -swing[:, None] * fwd + np.maximum(-lift, 0)[:, None] * _UP

    # Posture: crouch for low hands, then lean the upper body towards far ones.
    reach = (UPPER_ARM + FOREARM) * height
    crouch = np.clip(-_arm_excess(kp[:, SHOULDERS], wrists, reach)[:, 2], 0, MAX_CROUCH * height)
    kp[:, np.concatenate([UPPER_BODY, HIPS]), 2] -= crouch[:, None]
    lean = _arm_excess(kp[:, SHOULDERS], wrists, reach)
    lean[:, 2] = 0.0
    lean_dir, lean_len = _unit(lean)
    torso = (SHOULDER_Z - HIP_Z) * height
    angle = np.arcsin(np.clip(lean_len / torso, 0.0, np.sin(MAX_LEAN)))
    axis = np.cross(_UP, lean_dir)
    pivot = kp[:, HIPS].mean(axis=1)
    kp[:, UPPER_BODY] = _rotate(kp[:, UPPER_BODY], pivot, axis, angle)

    # Limbs: elbows bend down, out and back; knees bend forward.
    kp[:, WRISTS] = wrists
    out = np.stack([left, -left], axis=1)
    arm_pole = -_UP + 0.6 * out - 0.3 * fwd[:, None]
    h2 = height[:, None]
    kp[:, ELBOWS] = two_bone(kp[:, SHOULDERS], wrists, UPPER_ARM * h2, FOREARM * h2, arm_pole)
    leg_pole = np.broadcast_to(fwd[:, None], (n, 2, 3))
    kp[:, KNEES] = two_bone(kp[:, HIPS], kp[:, ANKLES], THIGH * h2, SHIN * h2, leg_pole)
    return kp


def hanging_hands(xy: ArrayLike, heading: ArrayLike, height_m: ArrayLike) -> FloatArray:
    """Wrist positions ``(N, 2, 3)`` of relaxed arms hanging at the sides."""
    xy = np.atleast_2d(np.asarray(xy, dtype=float))
    n = len(xy)
    height = np.broadcast_to(np.asarray(height_m, dtype=float), (n,))
    _, left = _frames(np.broadcast_to(np.asarray(heading, dtype=float), (n,)))
    drop = 0.97 * (UPPER_ARM + FOREARM)
    side = SHOULDER_HALF + 0.02
    base = np.concatenate([xy, ((SHOULDER_Z - drop) * height)[:, None]], axis=-1)
    lateral = (side * height)[:, None] * left
    hands: FloatArray = np.stack([base + lateral, base - lateral], axis=1)
    return hands


def head_centre(kp: FloatArray) -> FloatArray:
    """The centre of the head ``(..., 3)``: midway between the ears."""
    centre: FloatArray = kp[..., EARS, :].mean(axis=-2)
    return centre


@dataclass(frozen=True)
class BodyMotion:
    """A person's track prepared for skeletons at arbitrary times (linear interpolation)."""

    t: FloatArray
    xy: FloatArray
    heading: FloatArray
    hands: FloatArray
    travelled: FloatArray
    speed: FloatArray
    height_m: float

    @classmethod
    def from_track(cls, track: PersonTrack) -> BodyMotion:
        xy = np.asarray(track.xy, dtype=float)
        t = np.asarray(track.t, dtype=float)
        steps = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
        speed = np.zeros(len(t))
        if len(t) > 1:
            speed = np.linalg.norm(np.gradient(xy, t, axis=0), axis=-1)
        return cls(
            t=t,
            xy=xy,
            heading=np.unwrap(np.asarray(track.heading, dtype=float)),
            hands=np.asarray(track.hands, dtype=float),
            travelled=np.concatenate([[0.0], np.cumsum(steps)]),
            speed=speed,
            height_m=float(track.height_m),
        )

    def present(self, times: FloatArray) -> BoolArray:
        """Whether the person is in the store at each time."""
        mask: BoolArray = (times >= self.t[0]) & (times <= self.t[-1])
        return mask

    def keypoints(self, times: FloatArray) -> FloatArray:
        """Keypoints ``(M, 17, 3)`` at ``times`` (clamped to the track's span)."""
        times = np.asarray(times, dtype=float)
        last = len(self.t) - 1
        i = np.clip(np.searchsorted(self.t, times, side="right") - 1, 0, max(last - 1, 0))
        j = np.minimum(i + 1, last)
        span = np.where(j > i, self.t[j] - self.t[i], 1.0)
        w = np.clip((times - self.t[i]) / span, 0.0, 1.0)

        def lerp(a: FloatArray) -> FloatArray:
            ww = w.reshape(w.shape + (1,) * (a.ndim - 1))
            mixed: FloatArray = a[i] * (1 - ww) + a[j] * ww
            return mixed

        return skeleton(
            lerp(self.xy),
            lerp(self.heading),
            lerp(self.hands),
            self.height_m,
            lerp(self.travelled),
            lerp(self.speed),
        )

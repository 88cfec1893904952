"""Synthetic scenes for the people tracker's tests: a small camera store, walkers with known
3-D skeletons, and their pose messages as calibrated cameras with noise would report them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from walkout.domain.geometry import project
from walkout.domain.messages import LEFT_WRIST, RIGHT_WRIST, PoseMsg, TrackMsg
from walkout.domain.store import Store

FloatArray = NDArray[np.float64]

ENTRY = [[0.0, 2.0], [0.8, 2.0], [0.8, 4.0], [0.0, 4.0]]
EXIT = [[7.2, 2.0], [8.0, 2.0], [8.0, 4.0], [7.2, 4.0]]
#: The plate's box: in front of the gondola along the top wall.
BOX = ((3.0, 5.2, 0.9), (3.6, 5.5, 1.3))


def look_at(
    centre: Sequence[float], target: Sequence[float]
) -> tuple[list[list[float]], list[float]]:
    """OpenCV ``R`` and ``t`` of a camera at ``centre`` looking at ``target`` (image up = +z)."""
    c, f = np.asarray(centre, float), np.asarray(target, float) - np.asarray(centre, float)
    f /= np.linalg.norm(f)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(f, right)
    r = np.stack([right, down, f])
    return r.tolist(), (-(r @ c)).tolist()


def make_store(n_cameras: int = 4, fps: float = 10.0) -> Store:
    """An 8 x 6 m store: entry on the left wall, exit on the right, a gondola at the top, and
    ``n_cameras`` ceiling cameras at 3 m looking down into the room (one with lens distortion)."""
    spots = [(1.5, 1.0), (6.5, 1.0), (6.5, 5.0), (1.5, 5.0)][:n_cameras]
    cameras = []
    for i, (x, y) in enumerate(spots):
        r, t = look_at((x, y, 3.0), (4.0 + 0.3 * (x - 4.0), 3.0 + 0.3 * (y - 3.0), 0.0))
        cameras.append(
            {
                "id": f"cam-{i}",
                "width": 640,
                "height": 480,
                "fps": fps,
                "K": [[300.0, 0.0, 320.0], [0.0, 300.0, 240.0], [0.0, 0.0, 1.0]],
                "dist": [-0.05, 0.01, 0.0, 0.0, 0.0] if i == 1 else [0.0, 0.0, 0.0, 0.0, 0.0],
                "R": r,
                "t": t,
            }
        )
    return Store.model_validate(
        {
            "version": 1,
            "id": "people-test",
            "name": "People Test",
            "currency": "USD",
            "floor": [[0, 0], [8, 0], [8, 6], [0, 6]],
            "gates": [
                {"id": "entry-1", "kind": "entry", "area": ENTRY},
                {"id": "exit-1", "kind": "exit", "area": EXIT},
            ],
            "products": [{"sku": "1", "name": "Cola", "price": 199, "weight_g": 368.0}],
            "plates": [{"id": "P1", "box": [list(BOX[0]), list(BOX[1])]}],
            "facings": [{"sku": "1", "plates": ["P1"]}],
            "cameras": cameras,
            "fixtures": [
                {
                    "id": "g1",
                    "footprint": [[2.5, 5.5], [5.5, 5.5], [5.5, 6], [2.5, 6]],
                    "height": 1.8,
                }
            ],
        }
    )


# Body-frame template (forward, left, up as a fraction of height) of a standing person.
_TEMPLATE = np.array(
    [
        (0.06, 0.0, 0.92), (0.05, 0.02, 0.94), (0.05, -0.02, 0.94), (0.0, 0.045, 0.93),
        (0.0, -0.045, 0.93), (0.0, 0.11, 0.82), (0.0, -0.11, 0.82), (0.0, 0.13, 0.63),
        (0.0, -0.13, 0.63), (0.02, 0.13, 0.48), (0.02, -0.13, 0.48), (0.0, 0.06, 0.53),
        (0.0, -0.06, 0.53), (0.01, 0.06, 0.29), (0.01, -0.06, 0.29), (0.0, 0.06, 0.04),
        (0.0, -0.06, 0.04),
    ]
)  # fmt: skip


def skeleton(xy: Sequence[float] | FloatArray, heading: float, height: float) -> FloatArray:
    """COCO-17 keypoints ``(17, 3)`` of a person standing at ``xy`` facing ``heading``."""
    fwd = np.array([np.cos(heading), np.sin(heading), 0.0])
    left = np.array([-np.sin(heading), np.cos(heading), 0.0])
    local = _TEMPLATE * height
    kp: FloatArray = (
        np.array([xy[0], xy[1], 0.0])
        + local[:, :1] * fwd
        + local[:, 1:2] * left
        + local[:, 2:3] * np.array([0.0, 0.0, 1.0])
    )
    return kp


@dataclass
class Walker:
    """A person on a piecewise-linear path ``(t, x, y)``, present from the first time to the
    last; ``reaches`` put the right wrist (and elbow) at a point during ``(t0, t1, xyz)``.
    A ``look`` (an appearance descriptor) makes the cameras report one, with noise; the
    cameras numbered in ``sides`` report that descriptor instead (each sees its own side)."""

    path: list[tuple[float, float, float]]
    height: float = 1.75
    reaches: list[tuple[float, float, tuple[float, float, float]]] = field(default_factory=list)
    look: tuple[float, ...] = ()
    sides: dict[int, tuple[float, ...]] = field(default_factory=dict)

    def present(self, t: float) -> bool:
        return self.path[0][0] <= t <= self.path[-1][0]

    def xy(self, t: float) -> FloatArray:
        ts = [p[0] for p in self.path]
        return np.array([np.interp(t, ts, [p[1] for p in self.path]),
                         np.interp(t, ts, [p[2] for p in self.path])])  # fmt: skip

    def heading(self, t: float) -> float:
        d = self.xy(t + 0.1) - self.xy(t - 0.1)
        if np.hypot(*d) < 1e-6:
            d = self.xy(self.path[-1][0]) - self.xy(self.path[0][0])
        return float(np.arctan2(d[1], d[0])) if np.hypot(*d) > 1e-6 else 0.0

    def keypoints(self, t: float) -> FloatArray:
        kp = skeleton(self.xy(t), self.heading(t), self.height)
        for t0, t1, target in self.reaches:
            if t0 <= t <= t1:
                kp[RIGHT_WRIST] = target
                kp[RIGHT_WRIST - 2] = 0.5 * (kp[RIGHT_WRIST - 4] + np.asarray(target))
        return kp


def render_poses(
    store: Store,
    people: Sequence[Walker],
    t0: float,
    t1: float,
    seed: int = 0,
    *,
    pixel_sd: float = 1.5,
    drop: float = 0.05,
    false_rate: float = 0.0,
    hidden: Callable[[str, int, float], bool] = lambda cam, person, t: False,
    app_sd: float = 0.15,
) -> list[PoseMsg]:
    """Every camera's pose messages in ``[t0, t1)``: frames at the camera's fps with its own
    phase and a few ms of jitter, noisy pixels, dropped keypoints and (``false_rate`` per frame)
    invented people. ``hidden(camera, person, t)`` hides a person from a camera. People with a
    ``look`` carry it as their ``app`` descriptor, plus noise of ``app_sd`` per component."""
    rng = np.random.default_rng(seed)
    msgs: list[PoseMsg] = []
    for c, cam in enumerate(store.cameras):
        phase = 0.037 * c
        times = np.arange(t0 + phase, t1, 1.0 / cam.fps)
        times = times + rng.uniform(-0.004, 0.004, len(times))
        for t in times[(times >= t0) & (times < t1)]:
            people_kp: list[tuple[FloatArray, tuple[float, ...]]] = []
            for p, person in enumerate(people):
                if person.present(t) and not hidden(cam.id, p, t):
                    people_kp.append((person.keypoints(t), person.sides.get(c, person.look)))
            if rng.random() < false_rate:
                xy = rng.uniform((0.5, 0.5), (7.5, 5.5))
                people_kp.append((skeleton(xy, rng.uniform(0, 2 * np.pi), 1.7), ()))
            dets: list[dict[str, list[list[float]] | list[float]]] = []
            for kp3, look in people_kp:
                uv, visible = project(cam, kp3)
                visible &= rng.random(17) >= drop
                if visible.sum() < 5:
                    continue
                kp = np.zeros((17, 3))
                kp[:, :2] = uv + rng.normal(0.0, pixel_sd, uv.shape)
                kp[:, 2] = 0.9
                kp[~visible] = 0.0
                det: dict[str, list[list[float]] | list[float]] = {"kp": kp.round(1).tolist()}
                if look:
                    det["app"] = (np.asarray(look) + rng.normal(0.0, app_sd, len(look))).tolist()
                dets.append(det)
            msgs.append(PoseMsg.model_validate({"camera": cam.id, "t": t, "people": dets}))
    msgs.sort(key=lambda m: m.t)
    return msgs


def render_tracks(
    people: Sequence[Walker], t0: float, t1: float, seed: int = 0, hz: float = 15.0
) -> list[TrackMsg]:
    """An external tracker's messages: heads and both wrists with 2 cm noise, stable ids."""
    rng = np.random.default_rng(seed)
    msgs = []
    for t in np.arange(t0, t1, 1.0 / hz):
        rows = []
        for p, person in enumerate(people):
            if person.present(t):
                kp = person.keypoints(t) + rng.normal(0.0, 0.02, (17, 3))
                hands = [kp[LEFT_WRIST].tolist(), kp[RIGHT_WRIST].tolist()]
                rows.append({"id": f"ext-{p}", "head": kp[3:5].mean(0).tolist(), "hands": hands})
        msgs.append(TrackMsg.model_validate({"t": float(t), "people": rows}))
    return msgs

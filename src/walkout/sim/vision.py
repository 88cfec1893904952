"""The simulated cameras: ``pose``, ``track`` and ``product`` messages from people's motion.

:class:`VisionRenderer` turns the :class:`PersonTrack` s of a :class:`Timeline` into protocol
messages window by window. In ``pose`` mode every camera reports, once a frame, the anonymous
COCO-17 skeletons its person detector finds: keypoints hidden by fixtures (a depth map per
camera, ray-cast once), by other people (vertical cylinders) or by the head itself score 0,
detections are sometimes missed and sometimes invented, and each carries an appearance
descriptor (``app``, ADR 14) that partly shows whoever hides the person. In ``track`` mode
an external tracker reports every person's head and hands in 3-D at about 15 Hz under stable
ids. Either way, each :class:`ProductSighting` may become a ``product`` message from the
camera that sees it best.

Randomness comes from the seed: frame times from a hash of (seed, camera, frame), the rest from
generators keyed by (seed, stream, window start), so the same windows give the same bytes; the
appearance noise has a stream of its own, so descriptors change no other byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import orjson
from numpy.typing import NDArray

from walkout.domain.geometry import pixel_rays, points_in_polygon, project, undistort_normalized
from walkout.domain.store import Camera, Store
from walkout.sim.body import (
    HIPS,
    KP,
    WRISTS,
    BodyMotion,
    hanging_hands,
    head_centre,
    skeleton,
)
from walkout.sim.timeline import LineChunk, PersonTrack, ProductSighting

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

VisionMode = Literal["pose", "track"]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
_FACE = np.array([KP["nose"], KP["left_eye"], KP["right_eye"]])
_UP = np.array([0.0, 0.0, 1.0])
#: Which corners of a box take the max (True) or min (False) coordinate.
_CORNERS = np.array([(i & 1, (i >> 1) & 1, (i >> 2) & 1) for i in range(8)], dtype=bool)
# Streams of the per-window random generators.
_POSE, _TRACK, _PRODUCT, _SETUP, _APPEARANCE = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class VisionParams:
    """Noise and fault levels of the simulated cameras (defaults: a good, ordinary system)."""

    #: Largest deviation of a camera frame's time from its regular grid, in seconds.
    frame_jitter_s: float = 0.004
    #: Cameras start their frame grids at random offsets up to this (0: genlocked cameras).
    camera_phase_s: float = 0.0
    #: Range of a visible keypoint's score.
    score_range: tuple[float, float] = (0.5, 0.99)
    #: Pixel noise SD at the highest and at the lowest score.
    pixel_sd: tuple[float, float] = (1.0, 3.0)
    #: Chance that the detector drops a visible keypoint.
    keypoint_drop: float = 0.02
    #: A person is reported only with at least this many visible keypoints.
    min_keypoints: int = 5
    #: Chance that the detector misses a visible person in one frame.
    miss_rate: float = 0.03
    #: Chance per camera frame of a false detection.
    false_rate: float = 0.01
    #: Radius of the cylinder that stands in for a body when it hides others, in metres.
    body_radius_m: float = 0.2
    #: How far into a fixture a keypoint can be and still be seen (a hand in a shelf), metres.
    fixture_see_in_m: float = 0.45
    #: Cell size of the per-camera fixture depth maps, in pixels.
    occlusion_cell_px: int = 8
    #: Rate of ``track`` messages, in Hz.
    track_hz: float = 15.0
    #: SD of the tracker's head and hand positions, in metres.
    track_sd_m: float = 0.03
    #: Chance that the tracker loses one hand in one message.
    track_hand_drop: float = 0.03
    #: Range of the true product's score when it is recognised.
    product_score_range: tuple[float, float] = (0.6, 0.95)
    #: Chance that the recogniser ranks a wrong product first.
    product_wrong: float = 0.05
    #: Chance that a sighting produces no message.
    product_missing: float = 0.05
    #: Pixel noise SD of a product's position.
    product_pixel_sd: float = 3.0
    #: Length of the appearance descriptor (``app``) each pose detection carries, as a
    #: person re-identification model gives (0: none). A person's look is one of
    #: ``appearance_outfits`` common outfits plus their own variation (``appearance_own``), so
    #: strangers may look alike; each camera sees it from its own side (``appearance_view``),
    #: with noise (``appearance_noise``), and a person partly hidden by another looks partly
    #: like them.
    appearance_dims: int = 8
    appearance_outfits: int = 6
    appearance_own: float = 0.6
    appearance_view: float = 0.45
    appearance_noise: float = 0.7

    def __post_init__(self) -> None:
        rates = ("keypoint_drop", "miss_rate", "false_rate", "track_hand_drop")
        for name in (*rates, "product_wrong", "product_missing"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        lo, hi = self.score_range
        if not 0.0 < lo < hi <= 1.0:
            raise ValueError("score_range must satisfy 0 < low < high <= 1")
        plo, phi = self.product_score_range
        if not 0.5 <= plo <= phi <= 1.0:
            raise ValueError("product_score_range must satisfy 0.5 <= low <= high <= 1")
        if self.track_hz <= 0 or self.occlusion_cell_px < 1 or self.min_keypoints < 1:
            raise ValueError("track_hz, occlusion_cell_px and min_keypoints must be positive")
        if self.appearance_dims < 0 or self.appearance_outfits < 1:
            raise ValueError("appearance_dims must be >= 0 and appearance_outfits >= 1")
        looks = (self.appearance_own, self.appearance_view, self.appearance_noise)
        if min(looks) < 0:
            raise ValueError("appearance_own, appearance_view and appearance_noise must be >= 0")


def track_id(person: int, seed: int) -> str:
    """A tracker's stable id for a person: a 19-digit number derived from index and seed."""
    digest = hashlib.blake2b(f"walkout-track:{seed}:{person}".encode(), digest_size=8).digest()
    return str((int.from_bytes(digest, "big") >> 2) | (1 << 62))


def _hash_unit(seed: int, stream: int, k: IntArray) -> FloatArray:
    """Uniform numbers in [0, 1) from (seed, stream, k) by a splitmix64 hash, vectorised."""
    base = (seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03) % (1 << 64)
    x = k.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(base)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    unit: FloatArray = (x >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return unit


@dataclass(frozen=True)
class Prism:
    """A vertical prism that blocks sight: footprint polygon ``(K, 2)`` x ``[0, height]``."""

    footprint: FloatArray
    height: float


def occluders(store: Store) -> list[Prism]:
    """The store's sight blockers: its fixtures, or else the plate columns (box x/y extents)."""
    if store.fixtures:
        return [Prism(np.asarray(f.footprint, dtype=float), f.height) for f in store.fixtures]
    columns: dict[tuple[float, ...], float] = {}
    for plate in store.plates:
        lo, hi = plate.box
        key = (round(lo[0], 3), round(lo[1], 3), round(hi[0], 3), round(hi[1], 3))
        columns[key] = max(columns.get(key, 0.0), hi[2])
    return [
        Prism(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), top)
        for (x0, y0, x1, y1), top in columns.items()
    ]


def _prism_entry(origin: FloatArray, dirs: FloatArray, prism: Prism) -> FloatArray:
    """Distance along unit rays ``(R, 3)`` from ``origin`` to where they enter ``prism``."""
    o2, d2 = origin[:2], dirs[:, :2]
    a = prism.footprint
    e = np.roll(a, -1, axis=0) - a
    ao = a - o2
    denom = d2[:, None, 0] * e[None, :, 1] - d2[:, None, 1] * e[None, :, 0]
    safe = np.where(np.abs(denom) < 1e-12, np.inf, denom)
    s = (ao[None, :, 0] * e[None, :, 1] - ao[None, :, 1] * e[None, :, 0]) / safe
    u = (ao[None, :, 0] * d2[:, None, 1] - ao[None, :, 1] * d2[:, None, 0]) / safe
    z = origin[2] + s * dirs[:, None, 2]
    wall = (s > 0) & (u >= 0) & (u <= 1) & (z >= 0) & (z <= prism.height)
    best = np.where(wall, s, np.inf).min(axis=1)
    dz = np.where(np.abs(dirs[:, 2]) < 1e-12, np.inf, dirs[:, 2])
    s_top = (prism.height - origin[2]) / dz
    top_hit = (s_top > 0) & points_in_polygon(o2 + s_top[:, None] * d2, a.tolist())
    entry: FloatArray = np.minimum(best, np.where(top_hit, s_top, np.inf))
    return entry


@dataclass(frozen=True)
class CameraView:
    """One camera's precomputed geometry: its view bounds and a fixture depth map."""

    cam: Camera
    centre: FloatArray
    rot: FloatArray
    trans: FloatArray
    #: Normalised image-plane bounds (x min, x max, y min, y max), with a margin.
    bounds: FloatArray
    #: Distance from the camera to the first fixture surface, per cell of ``cell`` pixels.
    depth: FloatArray
    cell: int

    @classmethod
    def build(cls, cam: Camera, prisms: Sequence[Prism], cell: int) -> CameraView:
        rot = np.asarray(cam.R, dtype=float)
        trans = np.asarray(cam.t, dtype=float)
        w, h = cam.width, cam.height
        edge = np.linspace(0.0, 1.0, 33)
        border = np.concatenate(
            [
                np.stack([edge * w, np.zeros_like(edge)], -1),
                np.stack([edge * w, np.full_like(edge, h)], -1),
                np.stack([np.zeros_like(edge), edge * h], -1),
                np.stack([np.full_like(edge, w), edge * h], -1),
            ]
        )
        xy = undistort_normalized(cam, border)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        pad = 0.05 * (hi - lo)
        bounds = np.array([lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]])
        rows, cols = -(-h // cell), -(-w // cell)
        vv, uu = np.meshgrid(
            np.minimum((np.arange(rows) + 0.5) * cell, h - 0.5),
            np.minimum((np.arange(cols) + 0.5) * cell, w - 0.5),
            indexing="ij",
        )
        origin, dirs = pixel_rays(cam, np.stack([uu, vv], -1).reshape(-1, 2))
        ray_cam = dirs @ rot.T
        ray_xy = ray_cam[:, :2] / ray_cam[:, 2:]
        depth = np.full(rows * cols, np.inf)
        for prism in prisms:
            lo = np.append(prism.footprint.min(0), 0.0)
            hi = np.append(prism.footprint.max(0), prism.height)
            if not _boxes_in_view(rot, trans, bounds, lo[None], hi[None])[0]:
                continue
            # Only the rays within the projection of the prism's bounding box can hit it.
            pc = np.where(_CORNERS, hi, lo) @ rot.T + trans
            rays = np.arange(rows * cols)
            if (pc[:, 2] > 1e-3).all():
                img = pc[:, :2] / pc[:, 2:]
                within = (ray_xy >= img.min(0)) & (ray_xy <= img.max(0))
                rays = np.flatnonzero(within.all(axis=1))
            depth[rays] = np.minimum(depth[rays], _prism_entry(origin, dirs[rays], prism))
        return cls(cam, cam.centre, rot, trans, bounds, depth.reshape(rows, cols), cell)

    def sees(self, lo: FloatArray, hi: FloatArray) -> BoolArray:
        """Whether each axis-aligned box ``[lo, hi]`` (``(P, 3)`` each) may be in view."""
        return _boxes_in_view(self.rot, self.trans, self.bounds, lo, hi)

    def unhidden(self, points: FloatArray, uv: FloatArray, see_in: float) -> BoolArray:
        """Whether points ``(..., 3)`` at pixels ``uv`` are not hidden behind a fixture."""
        rows, cols = self.depth.shape
        cell = np.nan_to_num(uv / self.cell, nan=0.0, posinf=0.0, neginf=0.0)
        r = np.clip(cell[..., 1], 0, rows - 1).astype(np.int64)
        c = np.clip(cell[..., 0], 0, cols - 1).astype(np.int64)
        dist = np.linalg.norm(points - self.centre, axis=-1)
        ok: BoolArray = dist <= self.depth[r, c] + see_in
        return ok


def _boxes_in_view(
    rot: FloatArray, trans: FloatArray, bounds: FloatArray, lo: FloatArray, hi: FloatArray
) -> BoolArray:
    """Whether boxes ``[lo, hi]`` may meet the view frustum of normalised ``bounds``.

    Conservative: a box is out only when all its corners lie beyond one frustum plane.
    """
    corners = np.where(_CORNERS[None], hi[:, None], lo[:, None])
    pc = corners @ rot.T + trans
    x, y, z = pc[..., 0], pc[..., 1], pc[..., 2]
    xmin, xmax, ymin, ymax = bounds
    outside = (
        (z <= 0.05).all(-1)
        | (x > xmax * z).all(-1)
        | (x < xmin * z).all(-1)
        | (y > ymax * z).all(-1)
        | (y < ymin * z).all(-1)
    )
    inside: BoolArray = ~outside
    return inside


def hidden_by_people(
    centre: FloatArray, kp: FloatArray, present: BoolArray, radius: float
) -> BoolArray:
    """Which keypoints ``(T, P, 17, 3)`` other people's bodies hide from a camera at ``centre``.

    A body is a vertical cylinder of ``radius`` around its hip centre, from the floor to 0.1 m
    above its highest keypoint; ``present (T, P)`` says which people are there.
    """
    return occlusion_by_people(centre, kp, present, radius)[0]


def occlusion_by_people(
    centre: FloatArray, kp: FloatArray, present: BoolArray, radius: float
) -> tuple[BoolArray, IntArray]:
    """:func:`hidden_by_people`, and who hides the most of each person ``(T, P)`` (-1: none)."""
    n_people = present.shape[1]
    hidden = np.zeros(kp.shape[:3], dtype=bool)
    occluder = np.full(kp.shape[:2], -1, dtype=np.int64)
    if n_people < 2:
        return hidden, occluder
    axis = kp[..., HIPS, :2].mean(axis=-2)  # (T, P, 2)
    top = kp[..., 2].max(axis=-1) + 0.1  # (T, P)
    spread = np.linalg.norm(kp[..., :2] - axis[:, :, None], axis=-1).max(axis=-1)
    # Pairs (t, p, q) where q's body comes near the sight lines from the camera to p.
    seg = axis - centre[:2]
    rel = axis[:, None, :, :] - centre[:2]  # (T, P, Q, 2): q relative to the camera
    along = np.clip(
        (rel * seg[:, :, None]).sum(-1) / np.maximum((seg**2).sum(-1), 1e-12)[..., None], 0, 1
    )
    gap = np.linalg.norm(rel - along[..., None] * seg[:, :, None], axis=-1)
    near = (gap < radius + spread[..., None]) & present[:, :, None] & present[:, None, :]
    near &= ~np.eye(n_people, dtype=bool)
    ti, pi, qi = np.nonzero(near)
    if not len(ti):
        return hidden, occluder
    d = kp[ti, pi] - centre  # (M, 17, 3)
    f = centre[:2] - axis[ti, qi][:, None]  # (M, 1, 2)
    a = np.maximum((d[..., :2] ** 2).sum(-1), 1e-12)
    b = 2 * (d[..., :2] * f).sum(-1)
    c = (f**2).sum(-1) - radius**2
    disc = b * b - 4 * a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    s1, s2 = (-b - root) / (2 * a), (-b + root) / (2 * a)
    dz = d[..., 2]
    dz = np.where(np.abs(dz) < 1e-9, -1e-9, dz)
    sa, sb = -centre[2] / dz, (top[ti, qi][:, None] - centre[2]) / dz
    s_end = 1 - 0.05 / np.maximum(np.linalg.norm(d, axis=-1), 0.1)
    start = np.maximum(np.maximum(s1, np.minimum(sa, sb)), 0.0)
    stop = np.minimum(np.minimum(s2, np.maximum(sa, sb)), s_end)
    occluded = (disc > 0) & (start < stop)
    np.logical_or.at(hidden, (ti, pi), occluded)
    # Per (t, p), the one hiding the most keypoints: the last of its pairs sorted by count.
    count = occluded.sum(-1)
    some = count > 0
    if some.any():
        key, by, count = (ti * n_people + pi)[some], qi[some], count[some]
        order = np.lexsort((count, key))
        key, by = key[order], by[order]
        last = np.append(key[1:] != key[:-1], True)
        occluder.reshape(-1)[key[last]] = by[last]
    return hidden, occluder


def _face_visible(centre: FloatArray, kp: FloatArray) -> BoolArray:
    """Keypoints ``(..., 17)`` not hidden by the head itself (the face from behind, far ears)."""
    left = kp[..., KP["left_ear"], :] - kp[..., KP["right_ear"], :]
    left /= np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    fwd = np.cross(left, _UP)
    to_cam = centre - head_centre(kp)
    to_cam /= np.maximum(np.linalg.norm(to_cam, axis=-1, keepdims=True), 1e-9)
    facing = (to_cam * fwd).sum(-1)
    side = (to_cam * left).sum(-1)
    ok = np.ones(kp.shape[:-1], dtype=bool)
    ok[..., _FACE] = (facing >= -0.25)[..., None]
    ok[..., KP["left_ear"]] = side >= -0.35
    ok[..., KP["right_ear"]] = side <= 0.35
    return ok


class VisionRenderer:
    """Renders the cameras' messages of one simulated run, window by window.

    ``mode`` picks what the vision system reports: ``pose`` (per-camera 2-D skeletons) or
    ``track`` (3-D heads and hands under stable ids). ``sightings`` add ``product`` messages.
    """

    def __init__(
        self,
        store: Store,
        people: Sequence[PersonTrack],
        *,
        mode: VisionMode = "pose",
        sightings: Sequence[ProductSighting] = (),
        seed: int = 0,
        params: VisionParams | None = None,
    ) -> None:
        self.store = store
        self.mode = mode
        self.seed = seed
        self.params = params or VisionParams()
        self.people = list(people)
        self.motions = [BodyMotion.from_track(p) for p in self.people]
        self.ids = [track_id(p.person, seed) for p in self.people]
        self.sightings = sorted(sightings, key=lambda s: s.t)
        self._sighting_t = np.array([s.t for s in self.sightings])
        setup = np.random.default_rng([seed, _SETUP])
        self.phases = self.params.camera_phase_s * setup.random(len(store.cameras))
        self.looks = self._looks()
        self._distractors: dict[str, list[str]] = {}

    @cached_property
    def views(self) -> list[CameraView]:
        """The cameras' geometry, built on first use (track mode without products needs none)."""
        prisms = occluders(self.store)
        cell = self.params.occlusion_cell_px
        return [CameraView.build(cam, prisms, cell) for cam in self.store.cameras]

    def render(self, t0: float, t1: float) -> LineChunk:
        """The messages with times in ``[t0, t1)``, sorted by time."""
        key = round(t0 * 1000)
        times: list[float] = []
        lines: list[bytes] = []
        if self.mode == "pose":
            rng = np.random.default_rng([self.seed, _POSE, key])
            looks = np.random.default_rng([self.seed, _APPEARANCE, key])
            self._render_pose(t0, t1, rng, looks, times, lines)
        else:
            rng = np.random.default_rng([self.seed, _TRACK, key])
            self._render_track(t0, t1, rng, times, lines)
        self._render_products(
            t0, t1, np.random.default_rng([self.seed, _PRODUCT, key]), times, lines
        )
        order = np.argsort(np.asarray(times), kind="stable")
        return LineChunk(np.asarray(times)[order], [lines[i] for i in order])

    def _looks(self) -> FloatArray:
        """Each person's appearance as each camera sees it, ``(people, cameras, dims)``: their
        outfit (one of a few common ones) plus their own variation and the camera's side."""
        par = self.params
        dims, n_cams = par.appearance_dims, len(self.store.cameras)
        if not dims:
            return np.zeros((len(self.people), n_cams, 0))
        rng = np.random.default_rng([self.seed, _APPEARANCE])
        outfits = _unit(rng.normal(size=(par.appearance_outfits, dims)))
        looks = np.zeros((len(self.people), n_cams, dims))
        for i, person in enumerate(self.people):
            own = np.random.default_rng([self.seed, _APPEARANCE, person.person])
            outfit = outfits[own.integers(par.appearance_outfits)]
            look = outfit + par.appearance_own * own.normal(size=dims) / np.sqrt(dims)
            side = par.appearance_view * own.normal(size=(n_cams, dims)) / np.sqrt(dims)
            looks[i] = _unit(_unit(look) + side)
        return looks

    def _appearance(
        self,
        cam: int,
        people: IntArray,
        hidden: FloatArray,
        occluder: IntArray,
        rng: np.random.Generator,
    ) -> FloatArray:
        """Descriptors ``(T, P, dims)`` of people (indices ``(P,)``) seen by camera ``cam``: a
        person hidden by a share ``hidden (T, P)`` of their keypoints behind another
        (``occluder (T, P)``, a column of ``people``; -1: none) looks that much like them."""
        par = self.params
        if not par.appearance_dims:
            return np.zeros((*hidden.shape, 0))
        own = self.looks[people, cam]  # (P, dims)
        other = np.where(
            (occluder >= 0)[..., None], own[np.maximum(occluder, 0)], own[None]
        )  # (T, P, dims)
        mixed = (1 - hidden[..., None]) * own[None] + hidden[..., None] * other
        noise = rng.normal(size=mixed.shape) * (par.appearance_noise / np.sqrt(own.shape[-1]))
        return _unit(mixed + noise)

    # -- pose ------------------------------------------------------------------------------

    def _active(self, t0: float, t1: float) -> list[int]:
        return [i for i, m in enumerate(self.motions) if m.t[0] < t1 and m.t[-1] >= t0]

    def _extent(self, p: int, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        """A box around everything of person ``p`` between ``t0`` and ``t1``."""
        m = self.motions[p]
        i0 = max(int(np.searchsorted(m.t, t0)) - 1, 0)
        i1 = int(np.searchsorted(m.t, t1)) + 1
        xy = np.concatenate([m.xy[i0:i1], m.hands[i0:i1, :, :2].reshape(-1, 2)])
        pad = 0.5
        lo = np.append(xy.min(axis=0) - pad, 0.0)
        hi = np.append(xy.max(axis=0) + pad, max(m.height_m, float(m.hands[i0:i1, :, 2].max())))
        return lo, hi + 0.1

    def _render_pose(
        self,
        t0: float,
        t1: float,
        rng: np.random.Generator,
        looks: np.random.Generator,
        times: list[float],
        lines: list[bytes],
    ) -> None:
        """Pose frames of every camera; ``looks`` draws the appearance noise alone, so that the
        keypoints are the same with descriptors or without."""
        par = self.params
        active = self._active(t0 - par.frame_jitter_s, t1 + par.frame_jitter_s)
        in_view = np.zeros((len(self.views), len(active)), dtype=bool)
        if active:
            ext = [self._extent(p, t0, t1) for p in active]
            lo, hi = np.array([e[0] for e in ext]), np.array([e[1] for e in ext])
            in_view = np.array([v.sees(lo, hi) for v in self.views]).reshape(in_view.shape)
        grids: dict[tuple[float, float], tuple[FloatArray, BoolArray]] = {}
        for c, view in enumerate(self.views):
            fps, phase = view.cam.fps, float(self.phases[c])
            k = np.arange(
                np.ceil((t0 - phase - par.frame_jitter_s) * fps),
                np.floor((t1 - phase + par.frame_jitter_s) * fps) + 1,
            ).astype(np.int64)
            nominal = k / fps + phase
            if (fps, phase) not in grids:
                grids[fps, phase] = self._skeletons(active, nominal)
            frame_t = nominal + par.frame_jitter_s * (2 * _hash_unit(self.seed, c, k) - 1)
            keep = (frame_t >= t0) & (frame_t < t1)
            kp_all, present_all = grids[fps, phase]
            cand = np.flatnonzero(in_view[c])
            kp = kp_all[keep][:, cand]
            out, detected, hidden, occluder = self._detect(
                view, kp, present_all[keep][:, cand], rng
            )
            people = np.asarray(active, dtype=np.int64)[cand]
            app = self._appearance(c, people, hidden, occluder, looks)
            self._emit_frames(view, frame_t[keep], out, detected, app, rng, looks, times, lines)

    def _skeletons(self, active: list[int], nominal: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Keypoints ``(T, P, 17, 3)`` and presence ``(T, P)`` of the active people."""
        kp = np.zeros((len(nominal), len(active), 17, 3))
        present = np.zeros((len(nominal), len(active)), dtype=bool)
        for j, p in enumerate(active):
            m = self.motions[p]
            present[:, j] = m.present(nominal)
            if present[:, j].any():
                kp[present[:, j], j] = m.keypoints(nominal[present[:, j]])
        return kp, present

    def _detect(
        self, view: CameraView, kp: FloatArray, present: BoolArray, rng: np.random.Generator
    ) -> tuple[FloatArray, BoolArray, FloatArray, IntArray]:
        """One camera's detector output ``(T, P, 17, 3)``, which people it reports, the share
        of each one's keypoints in sight that others hide ``(T, P)`` and who hides the most
        (-1: nobody)."""
        par = self.params
        shape = kp.shape[:3]
        uv, visible = project(view.cam, kp)
        visible &= present[..., None]
        visible &= view.unhidden(kp, uv, par.fixture_see_in_m)
        visible &= _face_visible(view.centre, kp)
        behind, occluder = occlusion_by_people(view.centre, kp, present, par.body_radius_m)
        hidden = (visible & behind).sum(-1) / np.maximum(visible.sum(-1), 1)
        visible &= ~behind
        visible &= rng.random(shape) >= par.keypoint_drop
        detected = (visible.sum(-1) >= par.min_keypoints) & (rng.random(shape[:2]) >= par.miss_rate)
        lo, hi = par.score_range
        base = rng.uniform(lo + 0.5 * (hi - lo), hi, shape[:2])[..., None]
        score = np.clip(base + rng.normal(0.0, 0.07, shape), lo, hi)
        out = np.zeros((*shape, 3))
        out[..., :2] = self._noisy_pixels(view.cam, uv, score, rng)
        out[..., 2] = score
        out[~visible] = 0.0
        return _round_kp(out), detected, hidden, occluder

    def _noisy_pixels(
        self, cam: Camera, uv: FloatArray, score: FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        lo, hi = self.params.score_range
        sd_hi, sd_lo = self.params.pixel_sd
        sd = sd_hi + (sd_lo - sd_hi) * (hi - score) / (hi - lo)
        noisy = uv + rng.normal(0.0, 1.0, uv.shape) * sd[..., None]
        noisy[..., 0] = np.clip(noisy[..., 0], 0.0, cam.width - 0.05)
        noisy[..., 1] = np.clip(noisy[..., 1], 0.0, cam.height - 0.05)
        return noisy

    def _false_people(self, view: CameraView, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` attempts at invented skeletons ``(n, 17, 3)``; failed ones have no keypoints."""
        cam, par = view.cam, self.params
        pix = rng.uniform((0.0, 0.3 * cam.height), (cam.width, cam.height), (n, 2))
        origin, dirs = pixel_rays(cam, pix)
        down = np.minimum(dirs[:, 2], -1e-3)
        xy = origin[:2] + (-origin[2] / down)[:, None] * dirs[:, :2]
        heading = rng.uniform(0.0, 2 * np.pi, n)
        height = rng.uniform(1.5, 1.9, n)
        kp3 = skeleton(xy, heading, hanging_hands(xy, heading, height), height)
        uv, visible = project(cam, kp3)
        visible &= (dirs[:, 2] < -0.05)[:, None]
        score = np.clip(rng.uniform(0.3, 0.6, (n, 1)) + rng.normal(0.0, 0.08, (n, 17)), 0.05, 0.9)
        out = np.zeros((n, 17, 3))
        out[..., :2] = self._noisy_pixels(cam, uv, np.minimum(score, par.score_range[1]), rng)
        out[..., 2] = score
        enough = visible.sum(-1) >= par.min_keypoints
        out[~(visible & enough[:, None])] = 0.0
        return _round_kp(out)

    def _emit_frames(
        self,
        view: CameraView,
        frame_t: FloatArray,
        out: FloatArray,
        detected: BoolArray,
        app: FloatArray,
        rng: np.random.Generator,
        looks: np.random.Generator,
        times: list[float],
        lines: list[bytes],
    ) -> None:
        n_frames, n_people = detected.shape
        dims = app.shape[-1]
        app = np.round(app, 3)
        order = np.argsort(rng.random((n_frames, n_people)), axis=1)
        fake_frames = np.flatnonzero(rng.random(n_frames) < self.params.false_rate)
        fakes: dict[int, FloatArray] = {}
        if len(fake_frames):
            invented = self._false_people(view, len(fake_frames), rng)
            fakes = dict(zip(fake_frames.tolist(), invented, strict=True))
        slots = rng.integers(0, n_people + 1, n_frames)
        cam_id = view.cam.id
        for i in range(n_frames):
            people: list[dict[str, Any]] = [
                {"kp": out[i, j], "app": app[i, j]} if dims else {"kp": out[i, j]}
                for j in order[i]
                if detected[i, j]
            ]
            fake = fakes.get(i)
            if fake is not None and fake[:, 2].any():
                ghost: dict[str, Any] = {"kp": fake}
                if dims:
                    ghost["app"] = np.round(_unit(looks.normal(size=(dims,))), 3)
                people.insert(min(int(slots[i]), len(people)), ghost)
            t = float(frame_t[i])
            msg = {"type": "pose", "camera": cam_id, "t": round(t, 3), "people": people}
            times.append(t)
            lines.append(orjson.dumps(msg, option=_NUMPY))

    # -- track -----------------------------------------------------------------------------

    def _render_track(
        self, t0: float, t1: float, rng: np.random.Generator, times: list[float], lines: list[bytes]
    ) -> None:
        par = self.params
        k = np.arange(np.ceil(t0 * par.track_hz), np.ceil(t1 * par.track_hz))
        grid = k / par.track_hz
        grid = grid[(grid >= t0) & (grid < t1)]
        frames: list[list[dict[str, Any]]] = [[] for _ in grid]
        for p in self._active(t0, t1):
            m = self.motions[p]
            present = np.flatnonzero(m.present(grid))
            if not len(present):
                continue
            kp = m.keypoints(grid[present])
            points = np.concatenate([head_centre(kp)[:, None], kp[:, WRISTS]], axis=1)
            points = np.round(points + rng.normal(0.0, par.track_sd_m, points.shape), 3)
            keep = rng.random((len(present), 2)) >= par.track_hand_drop
            for row, i in enumerate(present.tolist()):
                frames[i].append(
                    {"id": self.ids[p], "head": points[row, 0], "hands": points[row, 1:][keep[row]]}
                )
        for t, people in zip(grid.tolist(), frames, strict=True):
            times.append(t)
            msg = {"type": "track", "t": round(t, 3), "people": people}
            lines.append(orjson.dumps(msg, option=_NUMPY))

    # -- product ---------------------------------------------------------------------------

    def _render_products(
        self, t0: float, t1: float, rng: np.random.Generator, times: list[float], lines: list[bytes]
    ) -> None:
        i0, i1 = np.searchsorted(self._sighting_t, [t0, t1])
        if i1 <= i0 or not self.store.cameras:
            return
        batch = self.sightings[i0:i1]
        at = np.array([s.at for s in batch], dtype=float)
        dist = np.full((len(self.views), len(batch)), np.inf)
        pixels = np.zeros((len(self.views), len(batch), 2))
        for c, view in enumerate(self.views):
            uv, visible = project(view.cam, at)
            visible &= view.unhidden(at, uv, self.params.fixture_see_in_m)
            dist[c] = np.where(visible, np.linalg.norm(at - view.centre, axis=-1), np.inf)
            pixels[c] = uv
        best = dist.argmin(axis=0)
        for s, (sighting, c) in enumerate(zip(batch, best.tolist(), strict=True)):
            if not np.isfinite(dist[c, s]) or rng.random() < self.params.product_missing:
                continue
            view = self.views[c]
            uv = pixels[c, s] + rng.normal(0.0, self.params.product_pixel_sd, 2)
            uv = np.clip(uv, 0.0, (view.cam.width - 0.05, view.cam.height - 0.05))
            msg = {
                "type": "product",
                "camera": view.cam.id,
                "t": round(sighting.t, 3),
                "at": np.round(uv, 1),
                "scores": self._product_scores(sighting.sku, rng),
            }
            times.append(sighting.t)
            lines.append(orjson.dumps(msg, option=_NUMPY))

    def _product_scores(self, sku: str, rng: np.random.Generator) -> dict[str, float]:
        """The recogniser's scores: the true sku first (mostly) and 1–3 look-alikes."""
        par = self.params
        pool = self._distractor_pool(sku)
        n = min(int(rng.integers(1, 4)), len(pool))
        others = [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]
        top = float(rng.uniform(*par.product_score_range))
        spread = (1 - top) * rng.uniform(0.3, 1.0)
        shares = rng.dirichlet(np.ones(n)) * spread if n else np.zeros(0)
        scored = [(s, float(v)) for s, v in zip(others, shares, strict=True)]
        if others and rng.random() < par.product_wrong:
            # A distractor wins; the true product scores low or not at all.
            winner, _ = scored.pop(0)
            scored = [(winner, top), *scored]
            if rng.random() < 0.5:
                scored.append((sku, float(rng.uniform(0.01, 1 - top))))
        else:
            scored = [(sku, top), *scored]
        return {s: max(round(v, 2), 0.01) for s, v in scored}

    def _distractor_pool(self, sku: str) -> list[str]:
        """Products a recogniser may confuse with ``sku``: those sharing a tag, else any."""
        pool = self._distractors.get(sku)
        if pool is None:
            tags = set(self.store.product(sku).tags)
            others = [p for p in self.store.products if p.sku != sku]
            alike = [p.sku for p in others if tags & set(p.tags)]
            pool = alike if len(alike) >= 3 else [p.sku for p in others]
            self._distractors[sku] = pool
        return pool


def _unit(v: FloatArray) -> FloatArray:
    """Vectors along the last axis scaled to length 1."""
    out: FloatArray = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return out


def _round_kp(kp: FloatArray) -> FloatArray:
    """Pixels to 0.1 and scores to 0.01, as the recording format writes them."""
    out = np.empty_like(kp)
    out[..., :2] = np.round(kp[..., :2], 1)
    out[..., 2] = np.round(kp[..., 2], 2)
    return out

"""Where every shopper is, and where their hands were: the engine's people side.

:class:`PeopleTracker` follows people from either kind of vision message (PROTOCOL section 2):

- ``pose``: anonymous per-camera COCO-17 detections. Frames are gathered into windows of about
  one frame interval; each detection is matched to a track by how close its keypoint rays pass
  to the track's predicted skeleton (constant velocity, Hungarian assignment per camera frame),
  the matched rays are triangulated per keypoint with outlier rejection (rays shifted by the
  track's motion, so unsynchronised cameras agree). Depth along a single ray is unknown: body
  keypoints only one camera saw are placed where their rays pass the body's upright axis, and
  one camera's view of a person is placed by fitting floor point and height together (a short
  person cut at average keypoint heights lands a metre off at a grazing angle). Unmatched
  detections of at least two cameras whose keypoint rays meet at plausible heights start
  tentative tracks; one camera alone starts none. A tentative track is confirmed near an entry
  gate after a few windows, elsewhere only after being seen for longer (and then it may resume
  a track that was lost nearby), and dropped if it stops being seen. A position update that
  jumps farther than a person walks is damped (it is mostly a neighbour's keypoints), and two
  confirmed people never merge: where their updates would land within a body's width, the one
  drawn farther from its prediction coasts instead.
- ``track``: people tracked elsewhere, under external ids.

It keeps ~30 s of head and hand history per person for attribution (:meth:`hands_near`,
:meth:`position`), binds app tokens scanned at entry gates to the people who walk through
(:meth:`pop_bindings`, :meth:`token_of`) and reports people leaving through exit gates
(:meth:`pop_exits`); an unbound person leaving also reports a shopper's track that was lost
in the store leaving (its person most likely walked on untracked). Such losses are reported
as they happen (:meth:`pop_losses`), and so is an unbound track found to have taken over the
lost one's person while it faded (:meth:`pop_continuations`). Time comes only from messages.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import attrgetter

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from walkout.domain.geometry import points_in_polygon
from walkout.domain.messages import (
    COCO_KEYPOINTS,
    LEFT_WRIST,
    RIGHT_WRIST,
    GateMsg,
    PersonFields,
    PoseFrame,
    PosePerson,
    TrackMsg,
)
from walkout.domain.store import Gate, Store
from walkout.engine.triangulate import (
    CameraBank,
    FloatArray,
    IntArray,
    RayBundle,
    across,
    projectors,
    ray_gaps,
    row_dot,
    row_norm,
    solve3,
)

_N_KP = len(COCO_KEYPOINTS)
_keypoints = attrgetter("kp")
_KP = {name: i for i, name in enumerate(COCO_KEYPOINTS)}
_HEAD = np.array([_KP[k] for k in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")])
_TORSO = np.array([_KP[k] for k in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")])
_WRISTS = np.array([LEFT_WRIST, RIGHT_WRIST])
_SHOULDERS = np.array([_KP["left_shoulder"], _KP["right_shoulder"]])
#: Typical keypoint heights of an adult (metres) and how much each says about floor position.
_NOMINAL_Z = np.array(
    [1.58, 1.61, 1.61, 1.60, 1.60, 1.40, 1.40, 1.08, 1.08, 0.85, 0.85, 0.92, 0.92, 0.49, 0.49,
     0.07, 0.07]
)  # fmt: skip
#: How much each keypoint says about a person's floor position and height (arms nothing).
_FLOOR_WEIGHT = np.array([0.4] * 5 + [1, 1, 0, 0, 0, 0, 1, 1, 0.5, 0.5, 1, 1], dtype=float)
#: A typical adult's height, the keypoints' heights as fractions of it, and how strongly a
#: detection's height estimate is pulled to it.
_HEIGHT, _HEIGHT_WEIGHT = 1.72, 0.3
_FRACTION = _NOMINAL_Z / _HEIGHT
#: The floor fit's keypoint k at A_k u with u = (x, y, height), A_k = diag(1, 1, fraction_k):
#: the diagonals ``(17, 3)``, their outer products ``(17, 3, 3)``, and the prior's pull on
#: u (the nominal height, and very weakly the floor below the camera).
_FLOOR_A = np.stack([np.ones(len(_FRACTION)), np.ones(len(_FRACTION)), _FRACTION], axis=-1)
_FLOOR_AA = _FLOOR_A[:, :, None] * _FLOOR_A[:, None, :]
_FLOOR_REG = np.array([1e-4, 1e-4, _HEIGHT_WEIGHT])
_FLOOR_PULL = np.diag(_FLOOR_REG)
#: Rays of two cameras that meet this far from a keypoint's expected height are no match.
_HEIGHT_SLACK_M = 0.4
#: Prediction coasts at most this long; a keypoint unseen this long is stale.
_COAST_S, _STALE_S = 0.5, 1.0
#: Detections are compared keypoint by keypoint only with tracks whose body centre (at about
#: ``_BODY_Z`` above the floor) is this close to the detection's mean ray.
_COMPARE_M, _BODY_Z = 1.2, 1.0
#: Keypoints that stand for a person's floor position when the torso is not seen: all but
#: the arms.
_LIMBS = (_KP["left_elbow"], _KP["right_elbow"], LEFT_WRIST, RIGHT_WRIST)
_BODY = np.array([k for k in range(_N_KP) if k not in _LIMBS])
_IS_BODY = np.isin(np.arange(_N_KP), _BODY)
_ANKLES = np.array([_KP["left_ankle"], _KP["right_ankle"]])
#: Triangulation pull towards a body's upright axis (x, y) rather than a height (z).
_AXIS_REG = (1e-2, 1e-2, 1e-6)
#: Rays flatter than this (the vertical part of a unit ray) are not cut at a height.
_CUT_DZ = 0.3


@dataclass(frozen=True)
class TrackerConfig:
    """Tuning of :class:`PeopleTracker` (distances in metres, times in seconds)."""

    #: Pose frames of all cameras within one window are fused as one instant.
    window_s: float = 0.1
    #: A detection matches a track if its keypoint rays pass this close to the skeleton.
    match_m: float = 0.4
    #: The same for detections judged only by their floor position.
    match_floor_m: float = 0.7
    #: A triangulated keypoint's ray that misses the others by more is an outlier.
    outlier_m: float = 0.15
    #: Unmatched detections of different cameras whose keypoint rays pass this close to each
    #: other (on average) are one new person.
    cluster_m: float = 0.25
    #: New people closer than this to a known track are its duplicates, and two people whose
    #: updates land this close follow one body (the one drawn farther keeps its old state).
    duplicate_m: float = 0.3
    #: A detection needs this many keypoints to count.
    min_keypoints: int = 5
    #: Windows seen before a new track near an entry gate is confirmed ...
    confirm_windows: int = 4
    #: ... and anywhere else.
    confirm_windows_elsewhere: int = 15
    #: A new track is "near an entry gate" within this distance of its area.
    entry_reach_m: float = 1.2
    #: A tentative track missing for more windows than this is dropped.
    tentative_misses: int = 2
    #: A confirmed track unseen this long is lost; in an exit area, it has left.
    lost_after_s: float = 3.0
    exit_after_s: float = 1.0
    #: A track confirmed away from the gates resumes a track lost this recently nearby.
    resume_s: float = 10.0
    #: A shopper's track lost in the store (not resumed) stands in for someone who will leave
    #: untracked: an unbound person leaving through an exit reports it leaving too, for this
    #: long after it was lost.
    lost_exit_s: float = 1800.0
    #: How far a person walks per second, for resuming lost tracks and clamping velocities.
    max_speed: float = 2.5
    #: Gate areas are grown by this margin.
    gate_margin_m: float = 0.3
    #: A scan binds the first person to pass through the gate up to this long after it ...
    bind_within_s: float = 10.0
    #: ... or this long before it (clock skew), once the passage is this old and the person
    #: has been seen this many times.
    bind_early_s: float = 1.0
    bind_settle_s: float = 1.0
    bind_min_hits: int = 20
    #: A person first seen inside, within ``late_entry_m`` of an entry gate's area and at most
    #: ``late_entry_s`` after a scan there that no one has answered yet, passed that gate
    #: unseen (a group's members hide one another at the gate): they answer the scan in turn.
    #: ``late_entry_m`` 0 turns this off.
    late_entry_m: float = 4.0
    late_entry_s: float = 5.0
    #: Hand and head history kept per person.
    history_s: float = 30.0
    #: Body height as an identity cue (people differ by several centimetres): each track's
    #: height is the median of its last ``height_samples`` triangulated head heights, known
    #: after ``height_min_samples``. A detection's fitted height (only where it shows a foot)
    #: that differs from a known track's adds ``height_weight`` metres of match cost per metre
    #: (counted up to ``height_cap_m``: a crouch is not another person), and a lost track is
    #: resumed only by a track of its height within ``resume_height_m`` (either unknown: any),
    #: or of the median of its last ``height_recent`` samples: the median of 64 lags where the
    #: first were measured wrong (dev busy 2001: a lost track's 64 gave 1.62 m, its last 20
    #: 1.78 m, the shopper's true height 1.79 m, and the track that took over the shopper was
    #: refused). ``height_weight`` 0 turns the cue off.
    height_weight: float = 1.0
    height_cap_m: float = 0.2
    height_samples: int = 64
    height_min_samples: int = 10
    resume_height_m: float = 0.08
    height_recent: int = 16
    #: Appearance as an identity cue, where pose detections carry descriptors (``app``, an
    #: extension of the protocol): each track's look is the running mean of its detections'
    #: unit descriptors (each window weighs 1/n, at least ``1 / app_learn``), known after
    #: ``app_min_samples`` windows and from then on learnt only while no other track is within
    #: ``app_alone_m`` (in a crowd a detection may show a neighbour). A detection whose
    #: descriptor's cosine to a known look falls below ``1 - app_slack`` adds ``app_weight``
    #: metres of match cost per unit of the shortfall (at most ``app_cap_m``); a lost track is
    #: resumed, or said to have left, only by a track whose look is within cosine
    #: ``resume_app_cos`` of its own (either unknown: any). ``app_weight`` 0 turns the cue off.
    app_weight: float = 0.75
    app_slack: float = 0.2
    app_cap_m: float = 0.35
    app_learn: int = 50
    app_alone_m: float = 0.7
    app_min_samples: int = 5
    resume_app_cos: float = 0.5
    #: A shopper lost in the store longer ago than ``resume_s`` (up to ``resume_look_s``) is
    #: resumed by a new track whose look is this alike (cosine) to theirs.
    resume_look_s: float = 120.0
    resume_look_cos: float = 0.85
    #: Each camera sees a shopper from its own side and in its own light, so a track also
    #: learns a look per camera (the same way, from the same windows). A detection is compared
    #: with the look its camera has learnt once that camera has taught it ``app_camera_min``
    #: windows, else with the look over all cameras; 0 compares with the latter alone.
    app_camera_min: int = 10
    #: A shopper's track fading out while a new track takes over their person: the new one,
    #: confirmed away from the gates, is not resumed, since the old one was still seen when it
    #: began. When the old one is lost, an unbound confirmed track that began at most
    #: ``heir_before_s`` before the old one was last seen (or after), within ``heir_m`` (plus
    #: what a person walks meanwhile) of where the old one was then, of its height and look,
    #: and seen since, continues it: it shops on the old one's token. 0 m: never.
    heir_m: float = 1.5
    heir_before_s: float = 3.0
    #: An unbound person leaving through an exit is taken for a shopper lost in the store
    #: (:meth:`PeopleTracker._exit_lost`); with at most this many lost, they are taken to have
    #: continued that shopper's track, at a chance of one in that many (what they did while
    #: unbound goes on that bill). With more, the choice is a guess: on dev pose runs (corner,
    #: seeds 2000-2009) it was right for 5 of 7 leavers with three or fewer shoppers lost,
    #: and 11 of 42 with four or more (all in rush). 0: never.
    left_lost_max: int = 3
    #: A shopper lost in a crowd often walks on under a new, unbound track for minutes, and
    #: what they take goes on no bill. Once such a track (not one in through the gate lately,
    #: whom a scan may yet bind) has learnt its look over ``relook_looks`` windows, that look
    #: tells people apart far better than the few windows a new track is resumed on: when it
    #: is at least ``relook_cos`` alike to one shopper lost in the store, and more alike to
    #: them by ``relook_margin`` than to any other shopper lost or tracked, it continues that
    #: shopper at a chance of ``relook_p``. The shopper went unseen in between, so their
    #: visit stays in doubt. On dev pose runs (corner; rush 2000-2002, adversarial
    #: 2000-2003, busy 2000-2015) such a rule chose the right shopper for 31 tracks and a
    #: wrong one for 1. 0 windows: never.
    relook_looks: int = 40
    relook_cos: float = 0.93
    relook_margin: float = 0.12
    relook_p: float = 0.9
    #: Where a person seen by one camera stands, when no feet show: their body keypoints' rays
    #: cut at the keypoints' usual heights for the track's measured height (this needs a
    #: known height and rays steep enough), else the prediction. Depth along one camera's ray
    #: is unknown; a stature fixes it, where a prediction lets a shopper who stopped run on.
    stature_cut: bool = True
    #: A wrist seen by one camera lies somewhere on that camera's ray, at a depth the tracker
    #: can only guess (on dev busy pose runs such wrists were placed a median 0.16 m, and a
    #: tenth of them over a metre, from the true ones). How near such a hand came to a box is
    #: measured from the stretch of its ray within ``arm_m`` of the person's shoulder: where
    #: the hand may have been. (A shoulder-to-wrist length is about a third of a person's
    #: height; 0 turns this off: the guessed point counts.)
    arm_m: float = 0.65

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.history_s <= 0 or self.min_keypoints < 1:
            raise ValueError("window_s, history_s and min_keypoints must be positive")
        if not 0.0 < self.relook_p <= 1.0:
            raise ValueError(f"relook_p must be in (0, 1], got {self.relook_p}")


@dataclass(frozen=True, slots=True)
class HandEvidence:
    """How near one person's hands came to a box during a time span."""

    track: str
    token: str | None
    #: Closest approach of either hand in metres (0: inside the box); for a hand one camera
    #: alone saw, of where on its ray within arm's reach it may have been.
    distance: float
    #: Time with a hand inside the box, in seconds.
    inside_s: float
    #: Hand observations in the span.
    samples: int
    #: Closest approach of a hand whose place is known (several cameras saw it, or a tracker
    #: placed it), not a stretch of one camera's ray; inf if none came.
    placed: float


@dataclass(slots=True)
class PoseArrays:
    """A pose frame as arrays: the values of a :class:`PoseFields` whose people all have a
    descriptor of one length, or none (a recording's frames parsed in compiled code,
    :mod:`walkout.engine.bulk`). Not frozen, though nothing changes one: one is made per
    frame, and a frozen dataclass takes five times as long to make."""

    t: float
    camera: str
    #: The people's keypoints ``(P, 17, 3)``: x, y and confidence.
    kp: FloatArray
    #: Their appearance descriptors ``(P, D)``, or None.
    app: FloatArray | None


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One observation of a person: floor position, head and hands (left, right; None = unseen)."""

    track: str
    t: float
    xy: tuple[float, float]
    head: tuple[float, float, float] | None
    hands: tuple[tuple[float, float, float] | None, tuple[float, float, float] | None]


@dataclass(frozen=True, slots=True)
class TrackState:
    """A person being tracked now."""

    track: str
    token: str | None
    xy: tuple[float, float]
    velocity: tuple[float, float]
    last_seen: float


@dataclass(frozen=True, slots=True)
class Binding:
    """A token scanned at ``gate`` was bound to ``track``, who passed through at ``t``;
    ``first`` is False for further people on the same token."""

    track: str
    token: str
    gate: str
    t: float
    first: bool


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """``track`` left through ``gate``; last seen at ``t``."""

    track: str
    token: str | None
    gate: str
    t: float


@dataclass(frozen=True, slots=True)
class LostTrack:
    """A shopper's ``track`` (bound to ``token``) was lost in the store, away from the exits,
    last seen at ``t``: its person walks on unseen or under another track. ``height`` is the
    track's standing height (NaN: unknown), ``recent`` that of its last samples
    (``TrackerConfig.height_recent``; NaN: too few), ``look`` its appearance (a unit vector;
    empty: unknown)."""

    track: str
    token: str
    t: float
    height: float
    look: tuple[float, ...] = ()
    recent: float = math.nan


@dataclass(frozen=True, slots=True)
class Continuation:
    """``track``, unbound, took over the person of a shopper's track ``lost`` (bound to
    ``token``), found at ``t``: it shops on that token from now on. ``p`` is the chance that
    it did: 1 for a track that began where the lost one faded (``TrackerConfig.heir_m``),
    1/k for an unbound person leaving who is taken for one of the k shoppers lost in the
    store (``left_lost_max``), ``relook_p`` for one who came to look like one of them
    (``relook_looks``)."""

    track: str
    lost: str
    token: str
    t: float
    p: float = 1.0
    #: Taken for the lost shopper after they went unseen (on leaving, ``left_lost_max``, or
    #: by look, ``relook_looks``), not found where the lost track faded.
    after_gap: bool = False


@dataclass(slots=True)
class TrackerStats:
    """Counts of what the tracker saw and skipped."""

    pose_messages: int = 0
    empty_frames: int = 0
    detections: int = 0
    weak_detections: int = 0
    unknown_camera: int = 0
    late_messages: int = 0
    track_messages: int = 0
    gate_messages: int = 0
    unknown_gate: int = 0
    non_entry_scans: int = 0
    expired_scans: int = 0
    confirmed: int = 0
    resumed: int = 0
    continued: int = 0
    #: Unbound people taken, by their learnt look, for shoppers lost in the store.
    relooked: int = 0
    #: People first seen just inside an entry gate who answered a waiting scan there.
    late_entries: int = 0
    dropped_tentative: int = 0


class _History:
    """A person's observations in time order, trimmed to a time span (amortised O(1) append)."""

    def __init__(self, span_s: float, capacity: int = 256) -> None:
        self.span_s = span_s
        self.t = np.empty(capacity)
        self.xy = np.empty((capacity, 2))
        self.head = np.empty((capacity, 3))
        self.hands = np.empty((capacity, 2, 3))
        #: Where each hand may have been: the ends of a stretch (equal where known as a point).
        self.reach = np.empty((capacity, 2, 2, 3))
        self.start = 0
        self.n = 0

    def append(
        self, t: float, xy: FloatArray, head: FloatArray, hands: FloatArray, reach: FloatArray
    ) -> None:
        if self.n == len(self.t):
            self._compact()
        i = self.n
        self.t[i], self.xy[i], self.head[i], self.hands[i] = t, xy, head, hands
        self.reach[i] = reach
        self.n += 1
        while self.t[self.start] < t - self.span_s:
            self.start += 1

    def extend(self, other: _History) -> None:
        for i in range(other.start, other.n):
            self.append(
                float(other.t[i]), other.xy[i], other.head[i], other.hands[i], other.reach[i]
            )

    def _compact(self) -> None:
        live = self.n - self.start
        if live > len(self.t) // 2:
            grow = 2 * len(self.t)
            for name in ("t", "xy", "head", "hands", "reach"):
                old = getattr(self, name)
                new = np.empty((grow, *old.shape[1:]))
                new[:live] = old[self.start : self.n]
                setattr(self, name, new)
        else:
            for name in ("t", "xy", "head", "hands", "reach"):
                arr = getattr(self, name)
                arr[:live] = arr[self.start : self.n]
        self.start, self.n = 0, live

    def span(self, t0: float, t1: float) -> slice:
        times = self.t[self.start : self.n]
        lo = int(np.searchsorted(times, t0, side="left"))
        hi = int(np.searchsorted(times, t1, side="right"))
        return slice(self.start + lo, self.start + hi)

    def nearest(self, t: float) -> int | None:
        if self.n == self.start:
            return None
        times = self.t[self.start : self.n]
        j = int(np.searchsorted(times, t))
        best = min((k for k in (j - 1, j) if 0 <= k < len(times)), key=lambda k: abs(times[k] - t))
        return self.start + best


@dataclass(eq=False)
class _Track:
    serial: int
    pos: FloatArray
    t: float
    history: _History
    id: str = ""
    external: str | None = None
    confirmed: bool = False
    vel: FloatArray = field(default_factory=lambda: np.zeros(2))
    skel: FloatArray = field(default_factory=lambda: np.zeros((_N_KP, 3)))
    skel_t: FloatArray = field(default_factory=lambda: np.full(_N_KP, -np.inf))
    hits: int = 0
    misses: int = 0
    born_xy: FloatArray | None = None
    born_t: float = math.nan
    token: str | None = None
    passage: tuple[str, float] | None = None
    exit_gate: str | None = None
    #: Recent standing heights from triangulated heads (oldest first), the same in ascending
    #: order (for a cheap running median), and their median (NaN: too few).
    heights: list[float] = field(default_factory=list)
    ranked_heights: list[float] = field(default_factory=list)
    height: float = float("nan")
    #: Appearance: running mean of unit descriptors (None: none yet) and windows learnt; the
    #: same per camera is the tracker's :class:`_CameraLooks` row ``slot`` (-1: none yet).
    look: FloatArray | None = None
    looks: int = 0
    slot: int = -1

    def predict(self, t: float) -> FloatArray:
        return _predict(self.pos, self.vel, t - self.t)


class _CameraLooks:
    """The active tracks' looks as each camera sees them, in shared arrays: running means of
    unit descriptors ``look (K, C, D)`` and how many windows taught each ``count (K, C)``, row
    ``k`` a track's ``slot``. Row 0 stays empty: the row of every track without its own.

    Each window reads them for all active tracks and updates a few; the rows of tracks that
    left are taken back when the rows run out (only active tracks' camera looks are read)."""

    def __init__(self, n_cams: int) -> None:
        self.look = np.zeros((1, n_cams, 0))
        self.count = np.zeros((1, n_cams), dtype=np.intp)
        self._owner: list[_Track | None] = [None]
        self._free: list[int] = []

    def slots(self, tracks: Sequence[_Track]) -> IntArray:
        """The rows of ``tracks`` (0 for those without their own)."""
        return np.maximum(np.fromiter([tr.slot for tr in tracks], np.intp, len(tracks)), 0)

    def claim(self, tracks: Sequence[_Track], active: Sequence[_Track], dims: int) -> IntArray:
        """The rows of ``tracks`` (all of them ``active``), giving an empty one to each
        without: first those of tracks no longer active, else new ones."""
        if self.look.shape[2] != dims:
            self.look = np.zeros((len(self._owner), self.count.shape[1], dims))
        for tr in tracks:
            if tr.slot > 0:
                continue
            if not self._free:
                self._reclaim(active)
            k = self._free.pop()
            self.look[k], self.count[k] = 0.0, 0
            self._owner[k], tr.slot = tr, k
        return self.slots(tracks)

    def _reclaim(self, active: Sequence[_Track]) -> None:
        live = {id(tr) for tr in active}
        for k, tr in enumerate(self._owner):
            if tr is not None and id(tr) not in live:
                tr.slot, self._owner[k] = -1, None
                self._free.append(k)
        if not self._free:  # every row in use: twice as many
            n = len(self._owner)
            self.look = np.concatenate([self.look, np.zeros_like(self.look)])
            self.count = np.concatenate([self.count, np.zeros_like(self.count)])
            self._owner += [None] * n
            self._free = list(range(2 * n - 1, n - 1, -1))


@dataclass(frozen=True)
class _Scan:
    t: float
    gate: str
    token: str


class _GateArea:
    """A gate's area, with a fast test of floor points near it."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.poly = np.asarray(gate.area, dtype=float)
        # The bounding box as plain floats: comparing numpy scalars costs far more.
        self.x0, self.y0 = self.poly.min(axis=0).tolist()
        self.x1, self.y1 = self.poly.max(axis=0).tolist()

    def distance(self, xy: FloatArray) -> float:
        """Distance from a floor point to the area (0 inside)."""
        if bool(points_in_polygon(xy, self.gate.area)):
            return 0.0
        a, b = self.poly, np.roll(self.poly, -1, axis=0)
        ab = b - a
        s = np.clip(((xy - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
        return float(np.min(np.linalg.norm(a + s[:, None] * ab - xy, axis=-1)))

    def near(self, xy: FloatArray, reach: float) -> bool:
        """Whether a floor point is within ``reach`` of the area."""
        x, y = xy.tolist()
        if not (
            self.x0 - reach <= x <= self.x1 + reach and self.y0 - reach <= y <= self.y1 + reach
        ):
            return False
        return self.distance(xy) <= reach


def box_distance(points: FloatArray, box: Sequence[Sequence[float]] | FloatArray) -> FloatArray:
    """Distances ``(...)`` from points ``(..., 3)`` to an axis-aligned box (0 inside)."""
    lo, hi = np.asarray(box[0], dtype=float), np.asarray(box[1], dtype=float)
    gap = np.maximum(lo - points, 0.0) + np.maximum(points - hi, 0.0)
    return row_norm(gap)


def segment_box_distance(
    a: FloatArray, b: FloatArray, box: Sequence[Sequence[float]] | FloatArray
) -> FloatArray:
    """Distances ``(...)`` from segments ``[a, b]`` (``(..., 3)`` each) to an axis-aligned box
    (0 where they meet it; NaN where an end is).

    The squared distance along a segment is convex and, between the places where a coordinate
    crosses a face's plane, a quadratic: its least is at one of those places, at an end, or at
    a piece's vertex."""
    lo, hi = np.asarray(box[0], dtype=float), np.asarray(box[1], dtype=float)
    d = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.concatenate([(lo - a) / d, (hi - a) / d], axis=-1)
    cross = np.clip(np.nan_to_num(cross, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
    ends = np.broadcast_to([0.0, 1.0], (*a.shape[:-1], 2))
    knots = np.sort(np.concatenate([ends, cross], axis=-1), axis=-1)  # (..., 8)
    left, right = knots[..., :-1], knots[..., 1:]
    mid = a[..., None, :] + (0.5 * (left + right))[..., None] * d[..., None, :]
    # On each piece the coordinates outside the box pull towards the face they are beyond.
    face = np.where(mid < lo, lo, hi)
    pulled = (mid < lo) | (mid > hi)
    gap = np.where(pulled, a[..., None, :] - face, 0.0)
    dd = np.where(pulled, d[..., None, :], 0.0)
    den = (dd * dd).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(den > 0, -(gap * dd).sum(-1) / den, left)
    vertex = np.clip(vertex, left, right)
    s = np.concatenate([knots, vertex], axis=-1)
    near = box_distance(a[..., None, :] + s[..., None] * d[..., None, :], box).min(-1)
    out: FloatArray = np.where(near < 1e-9, 0.0, near)  # 0 where a crossing's rounding is off
    return out


def _hand_distances(hands: FloatArray, box: FloatArray) -> FloatArray:
    """Distances ``(N, 2)`` from observed hands ``(N, 2, 3)`` to a box; inf where unseen (a
    hand is seen with all three coordinates or none)."""
    out: FloatArray = box_distance(hands, box)  # NaN where unseen
    out[np.isnan(out)] = np.inf
    return out


def _reach_distances(reach: FloatArray, box: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Distances ``(N, 2)`` from where hands may have been (stretches ``(N, 2, 2, 3)``, points
    where both ends are equal) to a box, inf where unseen; and which hands were stretches."""
    a, b = reach[..., 0, :], reach[..., 1, :]
    out = _hand_distances(a, box)
    stretch = (a != b).any(-1) & ~np.isnan(a[..., 0])
    if stretch.any():
        out[stretch] = segment_box_distance(a[stretch], b[stretch], box)
    return out, stretch


class PeopleTracker:
    """Tracks people from ``pose`` or ``track`` messages and binds them to gate scans."""

    def __init__(self, store: Store, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.cameras = CameraBank(store.cameras)
        self._gates = {g.id: _GateArea(g) for g in store.gates}
        self._entries = [a for a in self._gates.values() if a.gate.admits]
        self._exits = [a for a in self._gates.values() if a.gate.releases]
        # The gates' bounding boxes grown by the farthest reach of any gate check: a person
        # outside every one is near no gate (most people, most of the time).
        reach = max(self.config.gate_margin_m, self.config.entry_reach_m)
        boxes = np.array([(a.x0, a.y0, a.x1, a.y1) for a in self._gates.values()]).reshape(-1, 4)
        self._gate_lo, self._gate_hi = boxes[:, :2] - reach, boxes[:, 2:] + reach
        self._stats = TrackerStats()
        self._active: list[_Track] = []
        self._retired: list[_Track] = []  # confirmed tracks that ended, kept for history
        self._lost: list[LostTrack] = []  # bound tracks lost in the store, oldest first
        self._by_id: dict[str, _Track] = {}
        self._by_external: dict[str, _Track] = {}
        self._serial = 0
        self._next_id = 1
        self._scans: list[_Scan] = []
        # No track expires before this stream time: most messages skip the scan of every
        # track (set by _expire, reset whenever a track is seen or confirmed).
        self._quiet_until = -math.inf
        self._members: dict[str, list[str]] = {}
        self._bindings: list[Binding] = []
        self._exits_out: list[ExitEvent] = []
        self._losses_out: list[LostTrack] = []
        self._continued_out: list[Continuation] = []
        # Pose frames waiting for their window: times, camera indices, keypoints (P, 17, 3)
        # and descriptors (P, D), None for a frame without any.
        self._frame_t: list[float] = []
        self._frame_cam: list[int] = []
        self._frame_kp: list[FloatArray] = []
        self._frame_app: list[FloatArray | None] = []
        self._window: int | None = None  # index of the open pose window
        self._app_dims: int | None = None  # the length of appearance descriptors
        self._cam_looks = _CameraLooks(len(self.cameras))

    # -- input -----------------------------------------------------------------------------

    def feed_pose(self, msg: PoseFrame | PoseArrays) -> None:
        """One camera frame. Frames must come in time order (windows before it are closed)."""
        st = self._stats
        st.pose_messages += 1
        w = self.config.window_s
        if self._window is None:
            self._window = int(msg.t // w)
        elif msg.t >= (self._window + 1) * w:
            self.advance(msg.t)
        if msg.t < self._window * w:
            st.late_messages += 1
            return
        if not (len(msg.kp) if isinstance(msg, PoseArrays) else msg.people):
            st.empty_frames += 1
            return
        cam = self.cameras.index.get(msg.camera)
        if cam is None:
            st.unknown_camera += 1
            return
        self._frame_t.append(msg.t)
        self._frame_cam.append(cam)
        if isinstance(msg, PoseArrays):
            self._frame_kp.append(msg.kp)
            self._frame_app.append(self._descriptors(msg.app))
        else:
            people = msg.people
            values = chain.from_iterable(chain.from_iterable(map(_keypoints, people)))
            kp = np.fromiter(values, float, len(people) * _N_KP * 3).reshape(-1, _N_KP, 3)
            self._frame_kp.append(kp)
            self._frame_app.append(self._person_descriptors(people))

    def feed_track(self, msg: TrackMsg) -> None:
        """People tracked in 3-D by an external system, under its ids."""
        self._stats.track_messages += 1
        self.advance(msg.t)
        if not msg.people:
            return
        seen: list[_Track] = []
        for person in msg.people:
            tr = self._by_external.get(person.id)
            if tr is None:
                tr = self._new_track(np.asarray(person.head[:2], dtype=float), msg.t)
                tr.external = person.id
                self._by_external[person.id] = tr
                self._confirm(tr, msg.t)
                self._active.append(tr)
            seen.append(tr)
        head = np.array([p.head for p in msg.people], dtype=float)
        hands = np.full((len(head), 2, 3), np.nan)
        for i, person in enumerate(msg.people):
            if person.hands:
                hands[i, : len(person.hands)] = person.hands
        self._commit(seen, msg.t, head[:, :2], head, hands)

    def feed_gate(self, msg: GateMsg) -> None:
        """A token scanned at a gate: it binds the next person through that gate."""
        st = self._stats
        st.gate_messages += 1
        self.advance(msg.t)
        area = self._gates.get(msg.gate)
        if area is None:
            st.unknown_gate += 1
        elif not area.gate.admits:
            st.non_entry_scans += 1
        else:
            self._scans.append(_Scan(msg.t, msg.gate, msg.token))

    def advance(self, t: float) -> None:
        """Close every pose window that ends by stream time ``t``; lose, bind and expire."""
        w = self.config.window_s
        if (
            t < self._quiet_until
            and not self._scans
            and (self._window is None or t < (self._window + 1) * w)
        ):  # most calls: no window to close, nothing due to expire, no scan to bind
            return
        while self._window is not None and t >= (self._window + 1) * w:
            start, end = self._window * w, (self._window + 1) * w
            n = int(np.searchsorted(self._frame_t, end, side="left"))
            if n:
                self._process_window(start, end, n)
                self._window += 1
            else:  # nothing buffered before `end`: jump to the window of the next frame or t
                nxt = self._frame_t[0] if self._frame_t else t
                self._window = max(self._window + 1, int(nxt // w))
            self._expire(self._window * w)
            self._relook(self._window * w)
        self._expire(t)
        self._bind(t)

    # -- queries ---------------------------------------------------------------------------

    @property
    def stats(self) -> TrackerStats:
        """A copy of the counters."""
        return replace(self._stats)

    def tracks(self) -> list[TrackState]:
        """The confirmed people in the store now."""
        return [
            TrackState(
                tr.id,
                tr.token,
                (float(tr.pos[0]), float(tr.pos[1])),
                (float(tr.vel[0]), float(tr.vel[1])),
                tr.t,
            )
            for tr in self._active
            if tr.confirmed
        ]

    def token_of(self, track_id: str) -> str | None:
        """The token a person shops on (None: not bound, or forgotten ``history_s`` after
        the track ended)."""
        tr = self._by_id.get(track_id)
        return tr.token if tr else None

    def members(self, token: str) -> list[str]:
        """The tracks bound to a token, in the order they entered."""
        return list(self._members.get(token, ()))

    def pop_bindings(self) -> list[Binding]:
        """Tokens bound to people since the last call."""
        out, self._bindings = self._bindings, []
        return out

    def pop_exits(self) -> list[ExitEvent]:
        """People who left through an exit gate since the last call."""
        out, self._exits_out = self._exits_out, []
        return out

    def pop_losses(self) -> list[LostTrack]:
        """Shoppers' tracks lost in the store (not at an exit) since the last call. Only pose
        tracking loses people this way: an external tracker's ids are its own."""
        out, self._losses_out = self._losses_out, []
        return out

    def pop_continuations(self) -> list[Continuation]:
        """Unbound tracks found, since the last call, to continue a lost shopper's track
        (``TrackerConfig.heir_m``)."""
        out, self._continued_out = self._continued_out, []
        return out

    def position(self, track_id: str, t: float, within_s: float = 0.5) -> TrackPoint | None:
        """The person's observation nearest to ``t`` (None if none within ``within_s``)."""
        tr = self._by_id.get(track_id)
        i = tr.history.nearest(t) if tr else None
        if tr is None or i is None or abs(tr.history.t[i] - t) > within_s:
            return None
        h = tr.history

        def point(p: FloatArray) -> tuple[float, float, float] | None:
            return None if np.isnan(p[0]) else (float(p[0]), float(p[1]), float(p[2]))

        return TrackPoint(
            tr.id,
            float(h.t[i]),
            (float(h.xy[i, 0]), float(h.xy[i, 1])),
            point(h.head[i]),
            (point(h.hands[i, 0]), point(h.hands[i, 1])),
        )

    def hand_at(
        self,
        track_id: str,
        box: Sequence[Sequence[float]] | FloatArray,
        t0: float,
        t1: float,
        reach: float,
    ) -> tuple[float, float, float] | None:
        """Where the person's hand was at ``box`` in ``[t0, t1]``: the mean of the observations
        of their nearer hand that came within ``reach`` of it (None: none came that near)."""
        tr = self._by_id.get(track_id)
        if tr is None:
            return None
        hands = tr.history.hands[tr.history.span(t0, t1)]
        d = _hand_distances(hands, np.asarray(box, dtype=float))
        nearer = np.argmin(d, axis=1)
        rows = np.arange(len(hands))
        close = d[rows, nearer] <= reach
        if not close.any():
            return None
        mean = hands[rows[close], nearer[close]].mean(axis=0)
        return (float(mean[0]), float(mean[1]), float(mean[2]))

    def hands_near(
        self, box: Sequence[Sequence[float]], t0: float, t1: float
    ) -> list[HandEvidence]:
        """For each person with hands seen in ``[t0, t1]``: how near they came to ``box``
        (``[min corner, max corner]``, as a plate's) and how long a hand was in it, a hand
        that one camera alone saw counting from anywhere it may have been on its ray
        (``TrackerConfig.arm_m``). Nearest first."""
        # The engine asks this several times per check for every plate whose load is in
        # doubt: the people's observations in the span are gathered and measured at once.
        seen_in = self._observed(t0, t1)
        if not seen_in:
            return []
        found = [tr for tr, _ in seen_in]
        reach = [tr.history.reach[sl] for tr, sl in seen_in]
        times = [tr.history.t[sl] for tr, sl in seen_in]
        sizes = np.array([len(x) for x in times])
        ends = np.cumsum(sizes)
        starts = ends - sizes
        d, on_ray = _reach_distances(np.concatenate(reach), np.asarray(box, dtype=float))
        placed = np.minimum.reduceat(np.where(on_ray, np.inf, d).min(axis=1), starts)
        seen = np.add.reduceat(np.isfinite(d).sum(axis=1), starts)
        nearest = np.minimum.reduceat(d.min(axis=1), starts)
        # Each observation stands for the time to the next one (at most 0.25 s; the last for
        # as long as the one before it; a lone one for a window).
        t = np.concatenate(times)
        step = np.empty(len(t))
        step[:-1] = np.diff(t)
        last = ends - 1
        several = sizes > 1
        step[last[several]] = step[last[several] - 1]
        step = np.minimum(step, 0.25)
        step[last[~several]] = self.config.window_s
        inside = (d == 0).any(axis=1)
        inside_n = np.add.reduceat(inside, starts)
        out: list[HandEvidence] = []
        for i, tr in enumerate(found):
            if not seen[i]:
                continue
            inside_s = 0.0
            if inside_n[i]:
                a, b = starts[i], ends[i]
                inside_s = float(step[a:b][inside[a:b]].sum())
            out.append(
                HandEvidence(
                    tr.id, tr.token, float(nearest[i]), inside_s, int(seen[i]), float(placed[i])
                )
            )
        out.sort(key=lambda e: (e.distance, -e.inside_s, e.track))
        return out

    def hands_away(
        self, box: Sequence[Sequence[float]], t0: float, t1: float, beyond_m: float
    ) -> dict[str, float]:
        """For each person observed in ``[t0, t1]``: the share of those observations in which
        both hands were seen farther than ``beyond_m`` from ``box`` (a hand one camera alone saw
        wherever on its ray within arm's reach it may have been)."""
        seen_in = self._observed(t0, t1)
        if not seen_in:
            return {}
        sizes = np.array([sl.stop - sl.start for _, sl in seen_in])
        starts = np.cumsum(sizes) - sizes
        reach = np.concatenate([tr.history.reach[sl] for tr, sl in seen_in])
        d, _ = _reach_distances(reach, np.asarray(box, dtype=float))
        away = ((d > beyond_m) & np.isfinite(d)).all(axis=1)
        share = np.add.reduceat(away, starts) / sizes
        return dict(zip((tr.id for tr, _ in seen_in), share.tolist(), strict=True))

    def _observed(self, t0: float, t1: float) -> list[tuple[_Track, slice]]:
        """The confirmed people observed in ``[t0, t1]``, with the span of their history."""
        found: list[tuple[_Track, slice]] = []
        for tr in self._confirmed():
            h = tr.history
            if h.n == h.start or h.t[h.start] > t1 or h.t[h.n - 1] < t0:
                continue
            sl = h.span(t0, t1)
            if sl.start < sl.stop:
                found.append((tr, sl))
        return found

    def _confirmed(self) -> list[_Track]:
        return [tr for tr in self._active if tr.confirmed] + self._retired

    # -- pose windows ----------------------------------------------------------------------

    def _process_window(self, t0: float, t1: float, n_frames: int) -> None:
        """Fuse the first ``n_frames`` buffered frames (those in ``[t0, t1)``) as one instant."""
        cfg = self.config
        frame_t = np.asarray(self._frame_t[:n_frames])
        cams = np.asarray(self._frame_cam[:n_frames], dtype=np.intp)
        kps, apps = self._frame_kp[:n_frames], self._frame_app[:n_frames]
        del self._frame_t[:n_frames], self._frame_cam[:n_frames]
        del self._frame_kp[:n_frames], self._frame_app[:n_frames]
        counts = [len(k) for k in kps]
        kp = np.concatenate(kps)
        app = self._window_descriptors(apps, counts)
        frame = np.repeat(np.arange(n_frames), counts)
        seen = kp[..., 2] > 0
        strong = seen.sum(-1) >= cfg.min_keypoints
        self._stats.detections += len(kp)
        if not strong.all():
            self._stats.weak_detections += int(len(kp) - strong.sum())
            kp, frame, seen = kp[strong], frame[strong], seen[strong]
            app = None if app is None else app[strong]
            if not len(kp):
                self._settle_tentative(0.5 * (t0 + t1))
                return
        weights = kp[..., 2]
        cam = cams[frame]
        t_ref = 0.5 * (t0 + t1)
        dt = frame_t[frame] - t_ref
        bounds = np.searchsorted(frame, np.arange(n_frames + 1))
        dirs = self.cameras.rays(cam, kp[..., :2])
        centres = self.cameras.centres[cam]
        proj = projectors(dirs)  # shared by the floor fit and triangulation
        floor, floor_ok, height = _floor_points(centres, dirs, proj, seen)

        tracks = list(self._active)
        state = _Predicted.of(tracks, t_ref)
        owner = np.full(len(kp), -1)
        cost = np.zeros((len(kp), 0))
        if tracks:
            cost = _match_cost(state, cfg, dt, centres, dirs, seen, floor, floor_ok)
            # Only a detection that shows a foot has a fitted height to compare: from the
            # upper body alone the fit leans on the nominal height.
            mismatch = _height_cost(tracks, cfg, height, floor_ok & seen[:, _ANKLES].any(-1))
            if app is not None:
                mismatch = mismatch + _look_cost(tracks, cfg, app, cam, self._cam_looks)
            _assign(cost + mismatch, frame, bounds, cfg.match_m, owner)
        # A new person: unmatched detections beyond every confirmed track's match gate. In a
        # crowd, someone first seen beside a tracked shopper is someone else; with a wider
        # margin (1.5 gates), people first seen 0.4-0.6 m from a track went untracked (pose
        # rush held out: a fifth of people's time) and their picks went to their neighbours.
        lone = floor_ok
        if state.confirmed.any():
            lone = lone & (cost[:, state.confirmed].min(axis=1) > cfg.match_m)
        free = np.flatnonzero((owner < 0) & lone)
        if free.size > 1:
            known = state.pos[state.confirmed]
            born, heights = self._start_tracks(
                free, frame, cam, centres, dirs, seen, height, known, owner, t_ref
            )
            if born:
                tracks += born
                state = state.extended(np.array([tr.pos for tr in born]), heights)
        used = owner >= 0
        if used.any():
            taken = np.bincount(owner[used], minlength=len(tracks)) > 0
            users = np.flatnonzero(taken)
            group = (np.cumsum(taken) - 1)[owner[used]]
            origins = centres[used] - state.vel3[users][group] * dt[used, None]
            bundle = RayBundle(
                np.broadcast_to(origins[:, None, :], dirs[used].shape),
                dirs[used],
                weights[used],
                group,
                len(users),
                proj[used],
            )
            prior = state.prior[users]
            points, views = bundle.solve(prior, outlier_m=cfg.outlier_m, rounds=3)
            ok = views > 0
            pairs = np.zeros((len(users), len(self.cameras)), dtype=bool)
            pairs[group, cam[used]] = True
            cameras = pairs.sum(-1)  # the cameras that saw each person
            one = (views == 1) | (cameras < 2)[:, None]
            # Depth along a single ray is unknown. Body keypoints seen by one ray go where it
            # passes the body's upright axis (from the keypoints several cameras saw, else
            # from the detections' own floor fit where they show the feet, else from their
            # rays cut at the heights of the person's known stature, else the prediction);
            # arms keep the heights last triangulated.
            stand = state.pos[users]
            if cfg.stature_cut:
                stature = np.array([tracks[i].height for i in users])
                cut, cut_ok = _height_cut(origins, dirs[used], seen[used], group, stature)
                stand = np.where(cut_ok[:, None], cut, stand)
            axis = _body_axis(points, ~one & ok, group, floor[used], seen[used], stand)
            single = one & ok & _IS_BODY
            if single.any():
                upright = prior.copy()
                upright[:, _BODY, :2] = axis[:, None, :]
                placed, _ = bundle.solve(
                    upright, reg=_AXIS_REG, outlier_m=cfg.outlier_m, only=single
                )
                points = np.where(single[..., None], placed, points)
            fixed = np.where((one & ~_IS_BODY)[..., None], [1.0, 1.0, 0.0], 1.0)
            xy, head, hands = _summarise(points, ok, axis)
            reach = _arm_reach(hands, points, ok, bundle, cam[used], cfg.arm_m)
            jump = np.linalg.norm(xy - state.pos[users], axis=-1)
            keep = _distinct(xy, jump, state.confirmed[users], cfg.duplicate_m)
            moved = [tracks[i] for i, k in zip(users, keep, strict=True) if k]
            stature = _stature(points, ~one & ok)[keep].tolist()
            seen_now = ok[keep]
            new = (fixed * points + (1 - fixed) * prior)[keep]
            skel = np.where(seen_now[..., None], new, np.array([tr.skel for tr in moved]))
            skel_t = np.where(seen_now, t_ref, np.array([tr.skel_t for tr in moved]))
            for tr, sk, sk_t, height in zip(moved, skel, skel_t, stature, strict=True):
                tr.skel, tr.skel_t = sk, sk_t
                if not math.isnan(height):
                    self._measure(tr, height)
            if app is not None:
                self._learn_looks(
                    moved, xy[keep], users[keep], state.pos, app[used], group, keep, cam[used]
                )
            self._commit(moved, t_ref, xy[keep], head[keep], hands[keep], reach[keep])
        for tr in tracks:
            if tr.t < t_ref:
                tr.misses += 1
        self._settle_tentative(t_ref)

    def _person_descriptors(self, people: Sequence[PosePerson | PersonFields]) -> FloatArray | None:
        """A frame's descriptors as rows ``(P, D)`` (NaN: none, or not of the length the first
        one had), or None when none has one or the cue is off."""
        if self.config.app_weight <= 0 or all(p.app is None for p in people):
            return None
        apps = [p.app for p in people]
        try:  # usually every detection has one of the same length: one conversion
            return self._descriptors(np.array(apps, dtype=float).reshape(len(people), -1))
        except (TypeError, ValueError):  # None, or lengths that differ
            pass
        if self._app_dims is None:
            self._app_dims = next(len(a) for a in apps if a is not None)
        out = np.full((len(people), self._app_dims), np.nan)
        for i, a in enumerate(apps):
            if a is not None and len(a) == self._app_dims:
                out[i] = a
        return out

    def _descriptors(self, app: FloatArray | None) -> FloatArray | None:
        """A frame's descriptors ``(P, D)`` as :meth:`_person_descriptors` gives them."""
        if app is None or self.config.app_weight <= 0:
            return None
        if self._app_dims is None:
            self._app_dims = app.shape[1]
        if app.shape[1] != self._app_dims:
            return np.full((len(app), self._app_dims), np.nan)
        return app

    def _window_descriptors(
        self, apps: Sequence[FloatArray | None], counts: Sequence[int]
    ) -> FloatArray | None:
        """A window's descriptors as unit rows ``(N, D)`` (NaN: none), or None when no frame
        has any."""
        if all(a is None for a in apps):
            return None
        dims = self._app_dims or 0  # (known once a frame had descriptors)
        rows = zip(apps, counts, strict=True)
        out = np.concatenate([np.full((n, dims), np.nan) if a is None else a for a, n in rows])
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        unit: FloatArray = out / np.where(norm > 1e-9, norm, np.nan)
        return unit

    def _learn_looks(
        self,
        moved: list[_Track],
        xy: FloatArray,
        users: IntArray,
        pos: FloatArray,
        app: FloatArray,
        group: IntArray,
        keep: NDArray[np.bool_],
        cam: IntArray,
    ) -> None:
        """Fold this window's descriptors ``app (U, D)`` of the used detections (of person
        ``group (U,)``, an index into ``keep``; seen by camera ``cam (U,)``) into the looks,
        overall and per camera, of the tracks ``moved`` (at ``xy``, track indices ``users``)
        that stand apart from every other track (``pos``), or whose look is not known yet."""
        cfg = self.config
        has = ~np.isnan(app[:, 0])
        sums = np.zeros((len(moved), app.shape[1]))
        n = np.zeros(len(moved), dtype=np.intp)
        alone = np.zeros(len(moved), dtype=bool)
        _window_looks(app, group, keep, xy, users, pos, cfg.app_alone_m, sums, n, alone)
        new = np.array([tr.looks < cfg.app_min_samples for tr in moved], dtype=bool)
        learn = np.flatnonzero((alone | new) & (n > 0)).tolist()
        if learn:
            learners = [moved[i] for i in learn]
            none = np.zeros(app.shape[1])
            old = np.array([none if tr.look is None else tr.look for tr in learners])
            count = np.array([tr.looks for tr in learners])
            looks = _fold_looks(old, count, sums[learn] / n[learn, None], cfg.app_learn)
            for tr, look in zip(learners, looks, strict=True):
                tr.look = look
                tr.looks += 1
        if cfg.app_camera_min <= 0:
            return
        eligible = np.zeros(len(keep), dtype=bool)
        eligible[np.flatnonzero(keep)] = alone | new
        rows = np.flatnonzero(has & eligible[group])
        if rows.size:
            which = (np.cumsum(keep) - 1)[group[rows]]  # index into moved
            self._learn_camera_looks(moved, which, cam[rows], app[rows])

    def _learn_camera_looks(
        self, moved: list[_Track], which: IntArray, cam: IntArray, app: FloatArray
    ) -> None:
        """Fold descriptors ``app (R, D)`` of camera ``cam (R,)`` into the per-camera looks of
        the tracks ``moved[which]``: each track's per camera with the mean of its rows."""
        book = self._cam_looks
        slots = book.claim(moved, self._active, app.shape[1])
        _fold_camera_looks(book.look, book.count, slots[which], cam, app, self.config.app_learn)

    def _start_tracks(
        self,
        free: IntArray,
        frame: IntArray,
        cam: IntArray,
        origins: FloatArray,
        dirs: FloatArray,
        seen: NDArray[np.bool_],
        height: FloatArray,
        known: FloatArray,
        owner: IntArray,
        t: float,
    ) -> tuple[list[_Track], FloatArray]:
        """Start tentative tracks from unmatched detections that other cameras confirm: a new
        person needs detections of at least two cameras whose keypoint rays meet at plausible
        heights (one camera alone cannot tell where a person stands). ``known (K, 2)`` are
        people already tracked; a new person on one of them is a duplicate. The members'
        ``owner`` becomes the new tracks' indices after the active ones. Returns the new tracks
        and their heights."""
        cfg = self.config
        gap, mid, ok = _pair_gaps(free, cam, origins, dirs, seen, height)
        mean_gap = np.where(ok.sum(-1) >= 3, (gap * ok).sum(-1) / np.maximum(ok.sum(-1), 1), np.inf)
        left = sorted(range(len(free)), key=lambda i: (-int(seen[free[i]].sum()), i))
        born: list[_Track] = []
        heights: list[float] = []
        while left:
            seed = left.pop(0)
            members, frames, cams = [seed], {frame[free[seed]]}, {cam[free[seed]]}
            for j in sorted(left, key=lambda j: mean_gap[seed, j]):
                if mean_gap[seed, j] > cfg.cluster_m:
                    break
                if frame[free[j]] not in frames:
                    members.append(j)
                    frames.add(frame[free[j]])
                    cams.add(cam[free[j]])
            if len(cams) < 2:
                continue
            left = [j for j in left if j not in members]
            pairs = ok[seed, members[1:]][..., _BODY]
            points = mid[seed, members[1:]][..., _BODY, :2]
            xy = (points * pairs[..., None]).sum((0, 1)) / max(int(pairs.sum()), 1)
            if len(known) and np.linalg.norm(known - xy, axis=-1).min() < cfg.duplicate_m:
                continue
            tr = self._new_track(xy, t)
            owner[free[members]] = len(self._active)
            self._active.append(tr)
            born.append(tr)
            heights.append(float(np.median(height[free[members]])))
        return born, np.asarray(heights)

    def _settle_tentative(self, t: float) -> None:
        """Confirm tentative tracks seen long enough; drop those unseen for a few windows and
        those standing on an older track (a duplicate of the same person)."""
        cfg = self.config
        keep: list[_Track] = []
        taken: set[int] = set()  # stale tracks that tracks confirmed now resumed (serials)
        # Confirming may take a resumed stale track out of self._active: go over a copy.
        for tr in list(self._active):
            if tr.serial in taken:
                continue
            if not tr.confirmed:
                if tr.misses > cfg.tentative_misses or any(
                    old.serial < tr.serial
                    and abs(old.pos[0] - tr.pos[0]) < cfg.duplicate_m
                    and abs(old.pos[1] - tr.pos[1]) < cfg.duplicate_m
                    and np.hypot(*(old.pos - tr.pos)) < cfg.duplicate_m
                    for old in keep
                ):
                    self._stats.dropped_tentative += 1
                    continue
                born = tr.born_xy if tr.born_xy is not None else tr.pos
                near_entry = any(a.near(born, cfg.entry_reach_m) for a in self._entries)
                if near_entry and tr.hits >= cfg.confirm_windows:
                    self._confirm(tr, t)
                elif tr.hits >= cfg.confirm_windows_elsewhere:
                    lost = self._confirm(tr, t, resume=True)
                    if lost is not None:
                        taken.add(lost.serial)
                    elif tr.token is None:
                        self._late_passage(tr)
            keep.append(tr)
        self._active = [tr for tr in keep if tr.serial not in taken] if taken else keep

    def _late_passage(self, tr: _Track) -> None:
        """A new person, confirmed away from the gates and no one lost, who was first seen just
        inside an entry gate soon after a scan there that is still waiting for its person, is
        that person: scanned, then hidden behind the others of their group while stepping in
        (``TrackerConfig.late_entry_m``). They pass the gate when first seen, and the scans
        bind them in turn (:meth:`_bind`)."""
        cfg = self.config
        if cfg.late_entry_m <= 0 or not self._scans or tr.born_xy is None:
            return
        start = float(tr.history.t[tr.history.start])  # first seen (confirmed 1.5 s on)
        for scan in sorted(self._scans, key=lambda s: s.t):
            area = self._gates[scan.gate]
            if (
                self._members.get(scan.token)  # a group's scan: some of it passed already
                and scan.t <= start <= scan.t + cfg.late_entry_s
                and area.near(tr.born_xy, cfg.late_entry_m)
            ):
                tr.passage = (scan.gate, start)
                self._stats.late_entries += 1
                return

    # -- track life ------------------------------------------------------------------------

    def _new_track(self, xy: FloatArray, t: float) -> _Track:
        self._serial += 1
        cfg = self.config
        tr = _Track(self._serial, np.array(xy, dtype=float), t, _History(cfg.history_s, 64))
        tr.born_xy, tr.born_t = tr.pos.copy(), t
        return tr

    def _confirm(self, tr: _Track, t: float, resume: bool = False) -> _Track | None:
        """Confirm a track; with ``resume``, as the continuation of a track lost nearby
        lately, if any (it takes that one's id, token and history). Returns the track resumed."""
        lost = self._resumable(tr) if resume else None
        tr.confirmed = True
        self._quiet_until = -math.inf
        if lost is None:
            tr.id = f"p{self._next_id}"
            self._next_id += 1
            self._stats.confirmed += 1
        elif isinstance(lost, LostTrack):  # lost so long ago that only its token is left
            self._lost.remove(lost)
            tr.id, tr.token = lost.track, lost.token
            self._stats.resumed += 1
            self._by_id[tr.id] = tr
            return None
        else:
            if lost in self._retired:
                self._retired.remove(lost)
                self._lost = [x for x in self._lost if x.track != lost.id]
            else:
                self._active.remove(lost)
            lost.history.extend(tr.history)
            tr.history, tr.id, tr.token = lost.history, lost.id, lost.token
            tr.passage = lost.passage
            self._stats.resumed += 1
        self._by_id[tr.id] = tr
        return lost

    def _resumable(self, tr: _Track) -> _Track | LostTrack | None:
        """The track that ``tr``, confirmed away from the gates, continues, if any: of the
        tracks lost lately (``resume_s``) near enough to have walked to where ``tr`` began, of
        its height and (where known) look, the most alike by appearance, else the latest lost;
        failing those, by appearance alone (cosine ``resume_look_cos`` or more), the most alike
        shopper lost in the store within ``resume_look_s``."""
        cfg = self.config
        start = float(tr.history.t[tr.history.start])
        xy = tr.history.xy[tr.history.start]
        look = _known_look(tr, cfg)
        stale = [o for o in self._active if o.confirmed and start - o.t >= 0.5]
        feasible = [
            old
            for old in (*stale, *self._retired)
            if old.exit_gate is None
            and old.external is None
            and old.t <= start <= old.t + cfg.resume_s
            and np.linalg.norm(old.pos - xy) <= 1.0 + cfg.max_speed * (start - old.t)
            and _as_tall(cfg, tr.height, old)
            and _alike(cfg, look, old)
        ]
        if look is None or cfg.app_weight <= 0:
            return min(feasible, key=lambda o: (start - o.t, o.serial), default=None)
        scored: list[tuple[float, _Track | LostTrack]] = [
            (float(look @ theirs), old)
            for old in feasible
            if (theirs := _known_look(old, cfg)) is not None
        ]
        if scored:
            return max(scored, key=lambda s: s[0])[1]
        if feasible:
            return min(feasible, key=lambda o: (start - o.t, o.serial))
        retired = {old.id: old for old in self._retired}
        for x in self._lost:
            if not (
                x.look and x.t <= start <= x.t + cfg.resume_look_s and _as_tall(cfg, tr.height, x)
            ):
                continue
            cos = float(look @ np.asarray(x.look))
            if cos >= cfg.resume_look_cos:
                scored.append((cos, retired.get(x.track, x)))
        return max(scored, key=lambda s: s[0], default=(0.0, None))[1]

    def _measure(self, tr: _Track, stature: float) -> None:
        """Add one standing-height sample to a track and update its running median."""
        cfg = self.config
        ranked = tr.ranked_heights
        tr.heights.append(stature)
        bisect.insort(ranked, stature)
        if len(tr.heights) > cfg.height_samples:
            del ranked[bisect.bisect_left(ranked, tr.heights.pop(0))]
        if len(ranked) >= cfg.height_min_samples:
            tr.height = _median(ranked)

    def _commit(
        self,
        tracks: list[_Track],
        t: float,
        xy: FloatArray,
        head: FloatArray,
        hands: FloatArray,
        reach: FloatArray | None = None,
    ) -> None:
        """Record one observation of each track (``xy (G, 2)``, ``head (G, 3)``, ``hands
        (G, 2, 3)``, NaN = unseen; ``reach (G, 2, 2, 3)``: the ends of the stretch where each
        hand may be, default the hand's point): filter position and velocity, keep history,
        watch gates."""
        cfg = self.config
        if reach is None:
            reach = np.stack([hands, hands], axis=-2)
        self._quiet_until = -math.inf
        pos = np.array([tr.pos for tr in tracks])
        vel = np.array([tr.vel for tr in tracks])
        dt = t - np.array([tr.t for tr in tracks])
        fresh = np.array([tr.hits == 0 for tr in tracks])
        resid = xy - _predict(pos, vel, dt)
        # A step farther than a person can walk is mostly a neighbour's keypoints: damp it.
        stride = 0.05 + 1.5 * np.maximum(dt, cfg.window_s)
        size = np.linalg.norm(resid, axis=-1)
        resid *= np.minimum(1.0, stride / np.maximum(size, 1e-9))[:, None]
        pos = np.where(fresh[:, None], xy, _predict(pos, vel, dt) + 0.6 * resid)
        gain = np.where(fresh | (dt <= 1e-6), 0.0, 0.25 / np.maximum(dt, cfg.window_s))
        vel = vel + gain[:, None] * resid
        speed = np.linalg.norm(vel, axis=-1)
        vel *= np.minimum(1.0, cfg.max_speed / np.maximum(speed, 1e-9))[:, None]
        at = pos[:, None, :]
        boxed = (at >= self._gate_lo) & (at <= self._gate_hi)
        by_gate: list[bool] = np.any(np.all(boxed, axis=-1), axis=-1).tolist()
        for g, tr in enumerate(tracks):
            tr.pos, tr.vel = pos[g], vel[g]
            tr.t = max(t, tr.t)
            tr.hits += 1
            tr.misses = 0
            tr.history.append(t, tr.pos, head[g], hands[g], reach[g])
            if by_gate[g]:
                self._watch_gates(tr, t)
            else:
                tr.exit_gate = None

    def _watch_gates(self, tr: _Track, t: float) -> None:
        margin = self.config.gate_margin_m
        if tr.passage is None:
            # A person has passed an entry gate once inside its area: a scan opens the gate
            # for the one who steps in next, however long the crowd inside keeps them there.
            inside = next((a.gate.id for a in self._entries if a.near(tr.pos, margin)), None)
            if inside is not None:
                tr.passage = (inside, t)
            elif tr.hits == 1:
                reach = self.config.entry_reach_m
                first = next((a.gate.id for a in self._entries if a.near(tr.pos, reach)), None)
                if first is not None:
                    tr.passage = (first, t)
        tr.exit_gate = next((a.gate.id for a in self._exits if a.near(tr.pos, margin)), None)

    def _expire(self, t: float) -> None:
        """Retire confirmed tracks unseen for long (sooner in an exit area); forget old ones."""
        if t < self._quiet_until:
            return
        cfg = self.config
        keep: list[_Track] = []
        due = math.inf  # when the next track could expire
        for tr in self._active:
            wait = cfg.exit_after_s if tr.exit_gate is not None else cfg.lost_after_s
            if tr.confirmed and t - tr.t > wait:
                self._retired.append(tr)
                if tr.exit_gate is not None:
                    self._exits_out.append(ExitEvent(tr.id, tr.token, tr.exit_gate, tr.t))
                    if tr.token is None:
                        self._exit_lost(tr, tr.exit_gate)
                elif tr.token is not None and tr.external is None:
                    look = _known_look(tr, cfg)
                    seen = () if look is None else tuple(look.tolist())
                    recent = _recent_height(tr, cfg)
                    lost = LostTrack(tr.id, tr.token, tr.t, tr.height, seen, recent)
                    self._losses_out.append(lost)
                    heir = self._heir(tr)
                    if heir is None:
                        self._lost.append(lost)
                    else:
                        self._continue(heir, tr.id, tr.token, t)
                if tr.external is not None:
                    del self._by_external[tr.external]
            else:
                keep.append(tr)
                if tr.confirmed:
                    due = min(due, tr.t + wait)
        self._active = keep
        old = [tr for tr in self._retired if t - tr.t > cfg.history_s]
        for tr in old:
            self._retired.remove(tr)
            if self._by_id.get(tr.id) is tr:
                del self._by_id[tr.id]
        due = min(due, min((tr.t for tr in self._retired), default=math.inf) + cfg.history_s)
        # The margin, far above rounding, keeps the skip exact: `t - tr.t > wait` cannot hold
        # before `tr.t + wait - 1e-6`.
        self._quiet_until = due - 1e-6

    def _heir(self, old: _Track) -> _Track | None:
        """The unbound track that took over ``old``'s person while it faded, if any
        (``TrackerConfig.heir_m``): the nearest to where ``old`` was when it began."""
        cfg = self.config
        if cfg.heir_m <= 0:
            return None
        look = _known_look(old, cfg)
        best: tuple[float, _Track] | None = None
        for tr in self._active:
            if not tr.confirmed or tr.token is not None or tr.passage is not None:
                continue
            if tr.external is not None or tr.t <= old.t or tr.born_xy is None:
                continue
            start = float(tr.history.t[tr.history.start])
            if not old.t - cfg.heir_before_s <= start <= old.t + cfg.resume_s:
                continue
            if not _as_tall(cfg, tr.height, old) or not _alike(cfg, look, tr):
                continue
            k = old.history.nearest(start)
            then = old.pos if k is None else old.history.xy[k]
            gap = float(np.linalg.norm(tr.born_xy - then))
            near = gap <= cfg.heir_m + cfg.max_speed * max(0.0, start - old.t)
            if near and (best is None or gap < best[0]):
                best = (gap, tr)
        return None if best is None else best[1]

    def _continue(
        self,
        heir: _Track,
        lost: str,
        token: str,
        t: float,
        p: float = 1.0,
        after_gap: bool = False,
    ) -> None:
        """``heir`` shops on the token of lost track ``lost`` from now on, in its place."""
        heir.token = token
        members = self._members.setdefault(token, [])
        members[:] = [heir.id if m == lost else m for m in members]
        self._stats.continued += 1
        self._continued_out.append(Continuation(heir.id, lost, token, t, p, after_gap))

    def _relook(self, t: float) -> None:
        """Unbound people (not in through the gate lately) whose learnt look is clearly one
        lost shopper's continue that shopper (``TrackerConfig.relook_looks``)."""
        cfg = self.config
        if cfg.relook_looks <= 0 or cfg.app_weight <= 0 or not self._lost:
            return
        ready = [
            (tr, mine)
            for tr in self._active
            if tr.confirmed
            and tr.token is None
            and tr.external is None
            and tr.looks >= cfg.relook_looks
            and (mine := tr.look) is not None
            # Not someone who came in through the gate lately: a scan may yet bind them.
            and (tr.passage is None or t > tr.passage[1] + cfg.bind_within_s)
        ]
        if not ready:
            return
        tracked = [
            (other, look)
            for other in self._active
            if other.confirmed and (look := _known_look(other, cfg)) is not None
        ]
        for tr, mine in ready:
            # Someone tracked until long after this person was first seen is someone else.
            lost = [x for x in self._lost if x.look and x.t <= tr.born_t + cfg.heir_before_s]
            if not lost:
                continue
            cos = np.array([x.look for x in lost]) @ mine
            best = int(np.argmax(cos))
            rivals = [float(c) for i, c in enumerate(cos) if i != best] + [
                float(look @ mine) for other, look in tracked if other is not tr
            ]
            pick = lost[best]
            if (
                cos[best] >= cfg.relook_cos
                and cos[best] - max(rivals, default=-1.0) >= cfg.relook_margin
                and _as_tall(cfg, tr.height, pick)
            ):
                self._lost.remove(pick)
                self._stats.relooked += 1
                self._continue(tr, pick.track, pick.token, t, cfg.relook_p, after_gap=True)

    def _exit_lost(self, tr: _Track, gate: str) -> None:
        """An unbound person left through ``gate``: most likely a shopper whose own track was
        lost in a crowd and never resumed (the person walked on under a new, unbound track).
        Report the lost track leaving too, so its visit closes when its person leaves rather
        than at closing time. The lost track of the nearest height is chosen (within
        ``resume_height_m`` where both are known; unknown counts as that far), the longest
        lost on a tie, among those it may be by appearance (``resume_app_cos``). A wrong choice
        changes no receipt's lines: the person of a lost track shops on untracked, so it only
        closes one stranded visit instead of another (a group's visit still waits for its
        members who are tracked). With few shoppers lost (``left_lost_max``) the leaver is
        taken to have continued the chosen one (:meth:`pop_continuations`), and what it did
        while unbound goes on that bill too; among many lost in a crowd the choice is right
        too rarely for that (ADR 15)."""
        reach = self.config.resume_height_m
        self._lost = [x for x in self._lost if tr.t - x.t <= self.config.lost_exit_s]

        def gap(x: LostTrack) -> float:
            d = abs(x.height - tr.height)
            return reach if np.isnan(d) else d

        look = _known_look(tr, self.config)
        fits = [
            x for x in self._lost if x.t < tr.t and gap(x) <= reach and _alike(self.config, look, x)
        ]
        if fits:
            pick = min(fits, key=lambda x: (gap(x), x.t))
            lost = sum(1 for x in self._lost if x.t < tr.t)
            self._lost.remove(pick)
            if lost <= self.config.left_lost_max:
                self._continue(tr, pick.track, pick.token, tr.t, 1.0 / lost, after_gap=True)
            self._exits_out.append(ExitEvent(pick.track, pick.token, gate, tr.t))

    def _bind(self, now: float) -> None:
        """Give each pending scan, in time order, the first person through its gate after it.

        A person counts once seen for ``bind_min_hits`` observations (short-lived ghosts never
        do) and ``bind_settle_s`` after passing; until then the gate's scans wait for them."""
        if not self._scans:  # nothing to bind
            return
        cfg = self.config
        free = sorted(
            (
                tr
                for tr in self._confirmed()
                if tr.token is None
                and tr.passage is not None
                and (tr.hits >= cfg.bind_min_hits or tr in self._active)
            ),
            key=lambda tr: (tr.passage[1] if tr.passage else 0.0, tr.serial),
        )
        waiting: list[_Scan] = []
        for scan in sorted(self._scans, key=lambda s: s.t):
            if any(w.gate == scan.gate for w in waiting):
                waiting.append(scan)
                continue
            match = next(
                (
                    tr
                    for tr in free
                    if tr.passage is not None
                    and tr.passage[0] == scan.gate
                    and scan.t - cfg.bind_early_s <= tr.passage[1] <= scan.t + cfg.bind_within_s
                ),
                None,
            )
            if match is None or match.passage is None:
                if now > scan.t + cfg.bind_within_s:
                    self._stats.expired_scans += 1
                else:
                    waiting.append(scan)
            elif match.hits < cfg.bind_min_hits or now < match.passage[1] + cfg.bind_settle_s:
                waiting.append(scan)
            else:
                free.remove(match)
                match.token = scan.token
                members = self._members.setdefault(scan.token, [])
                members.append(match.id)
                self._bindings.append(
                    Binding(match.id, scan.token, scan.gate, match.passage[1], len(members) == 1)
                )
        self._scans = waiting


def _predict(pos: FloatArray, vel: FloatArray, dt: FloatArray | float) -> FloatArray:
    """Constant-velocity prediction ``dt`` seconds ahead, coasting at most half a second."""
    ahead = np.minimum(dt, _COAST_S)
    out: FloatArray = pos + vel * (ahead[..., None] if isinstance(ahead, np.ndarray) else ahead)
    return out


@dataclass(frozen=True)
class _Predicted:
    """Every active track at one instant, stacked: predicted floor position ``pos (M, 2)``,
    velocity ``vel3 (M, 3)``, keypoint ``prior (M, 17, 3)`` (the last skeleton moved with the
    body; nominal where ``valid`` is False because a keypoint has not been seen for a second)."""

    pos: FloatArray
    vel3: FloatArray
    prior: FloatArray
    valid: NDArray[np.bool_]
    confirmed: NDArray[np.bool_]

    @classmethod
    def of(cls, tracks: Sequence[_Track], t: float) -> _Predicted:
        if not tracks:
            return cls(np.zeros((0, 2)), np.zeros((0, 3)), np.zeros((0, _N_KP, 3)),
                       np.zeros((0, _N_KP), bool), np.zeros(0, bool))  # fmt: skip
        pos0 = np.array([tr.pos for tr in tracks])
        vel = np.array([tr.vel for tr in tracks])
        pos = _predict(pos0, vel, t - np.array([tr.t for tr in tracks]))
        valid = t - np.array([tr.skel_t for tr in tracks]) < _STALE_S
        prior = np.array([tr.skel for tr in tracks])
        prior[..., :2] += (pos - pos0)[:, None, :]
        prior = np.where(valid[..., None], prior, _nominal(pos))
        vel3 = np.concatenate([vel, np.zeros((len(vel), 1))], axis=1)
        confirmed = np.array([tr.confirmed for tr in tracks])
        return cls(pos, vel3, prior, valid, confirmed)

    def extended(self, xy: FloatArray, height: FloatArray) -> _Predicted:
        """With new tracks standing still at ``xy (B, 2)``, nominal skeletons of ``height (B,)``,
        not confirmed."""
        n = len(xy)
        return _Predicted(
            np.concatenate([self.pos, xy]),
            np.concatenate([self.vel3, np.zeros((n, 3))]),
            np.concatenate([self.prior, _nominal(xy, height)]),
            np.concatenate([self.valid, np.zeros((n, _N_KP), bool)]),
            np.concatenate([self.confirmed, np.zeros(n, bool)]),
        )


def _nominal(xy: FloatArray, height: FloatArray | None = None) -> FloatArray:
    """Nominal skeletons ``(M, 17, 3)``: every keypoint above the floor point at its usual
    height (for people of ``height (M,)``, by default :data:`_HEIGHT`)."""
    out = np.empty((len(xy), _N_KP, 3))
    out[..., :2] = xy[:, None, :]
    out[..., 2] = _NOMINAL_Z if height is None else height[:, None] * _FRACTION
    return out


def _pair_gaps(
    free: IntArray,
    cam: IntArray,
    origins: FloatArray,
    dirs: FloatArray,
    seen: NDArray[np.bool_],
    height: FloatArray,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """For each pair of the detections ``free (F,)``: the gaps ``(F, F, 17)`` between their
    keypoint rays, the midpoints ``(F, F, 17, 3)``, and where they count: the keypoint seen by
    both, of different cameras, meeting ahead of both at about the height where the detections'
    fitted heights put it."""
    o, d, s = origins[free][:, None, None, :], dirs[free], seen[free]
    gap, mid, ok = ray_gaps(o, d[:, None], origins[free][None, :, None, :], d[None])
    expected = 0.5 * (height[free][:, None] + height[free][None])[..., None] * _FRACTION
    ok &= s[:, None] & s[None] & (cam[free][:, None] != cam[free][None])[..., None]
    ok &= np.abs(mid[..., 2] - expected) < _HEIGHT_SLACK_M
    return gap, mid, ok


def _match_cost(
    state: _Predicted,
    cfg: TrackerConfig,
    dt: FloatArray,
    centres: FloatArray,
    dirs: FloatArray,
    seen: NDArray[np.bool_],
    floor: FloatArray,
    floor_ok: NDArray[np.bool_],
) -> FloatArray:
    """Match costs ``(N, M)`` in metres of N detections (taken ``dt`` after the window's
    instant) to M tracks: the mean distance of the detection's keypoint rays to the track's
    predicted skeleton or, with fewer than 3 shared keypoints, the floor distance scaled to the
    same gate. Keypoints are compared only where the detection's mean ray passes within
    ``_COMPARE_M`` of the track's body centre. Tentative tracks cost a little more, so known
    people get their detections first.
    """
    out = np.empty((len(dirs), len(state.pos)))
    _match_costs(
        state.pos, state.vel3, state.prior, state.valid, state.confirmed, dt, centres, dirs,
        seen, floor, floor_ok, cfg.match_m, cfg.match_floor_m, out,
    )  # fmt: skip
    return out


@numba.njit(cache=True, nogil=True)
def _match_costs(
    pos: np.ndarray,
    vel3: np.ndarray,
    prior: np.ndarray,
    valid: np.ndarray,
    confirmed: np.ndarray,
    dt: np.ndarray,
    centres: np.ndarray,
    dirs: np.ndarray,
    seen: np.ndarray,
    floor: np.ndarray,
    floor_ok: np.ndarray,
    match_m: float,
    match_floor_m: float,
    out: np.ndarray,
) -> None:
    """:func:`_match_cost` into ``out (N, M)``."""
    n_kp = dirs.shape[1]
    mid = np.empty(3)  # a detection's mean ray
    for n in range(len(dirs)):
        cx, cy, cz = centres[n, 0], centres[n, 1], centres[n, 2]
        mid[:] = 0.0
        for k in range(n_kp):
            if seen[n, k]:
                mid += dirs[n, k]
        norm = max(math.sqrt(mid[0] * mid[0] + mid[1] * mid[1] + mid[2] * mid[2]), 1e-9)
        mid /= norm
        for m in range(len(pos)):
            sx, sy = vel3[m, 0] * dt[n], vel3[m, 1] * dt[n]
            ax, ay = pos[m, 0] + sx, pos[m, 1] + sy
            if floor_ok[n]:
                ox, oy = floor[n, 0] - ax, floor[n, 1] - ay
                cost = math.sqrt(ox * ox + oy * oy) * (match_m / match_floor_m)
            else:
                cost = math.inf
            # Keypoints are compared where the mean ray passes near the body's centre.
            if across(ax - cx, ay - cy, _BODY_Z - cz, mid) < _COMPARE_M:
                count = 0
                total = 0.0
                for k in range(n_kp):
                    if not (seen[n, k] and valid[m, k]):
                        continue
                    w = prior[m, k]
                    dist = across(w[0] - cx + sx, w[1] - cy + sy, w[2] - cz, dirs[n, k])
                    total += min(dist, 2 * match_m)
                    count += 1
                if count >= 3:
                    cost = total / count
            out[n, m] = cost + (0.0 if confirmed[m] else 0.05)


def _known_look(tr: _Track | LostTrack, cfg: TrackerConfig) -> FloatArray | None:
    """A track's look once learnt from enough windows (None: not yet, or none)."""
    if isinstance(tr, LostTrack):
        return np.asarray(tr.look) if tr.look else None
    return tr.look if tr.looks >= cfg.app_min_samples else None


def _recent_height(tr: _Track, cfg: TrackerConfig) -> float:
    """The median of a track's last ``height_recent`` height samples (NaN: fewer than
    ``height_min_samples``)."""
    recent = sorted(tr.heights[-cfg.height_recent :])
    return _median(recent) if len(recent) >= cfg.height_min_samples else math.nan


def _median(ranked: Sequence[float]) -> float:
    """The median of values in ascending order, as ``np.median`` computes it."""
    n = len(ranked)
    return ranked[n // 2] if n % 2 else (ranked[n // 2 - 1] + ranked[n // 2]) / 2


def _as_tall(cfg: TrackerConfig, height: float, old: _Track | LostTrack) -> bool:
    """Whether a standing ``height`` may be the lost track ``old``'s person's: like its height
    (:func:`_tall_alike`), or like that of its last samples, where known."""
    if _tall_alike(cfg, height, old.height):
        return True
    recent = old.recent if isinstance(old, LostTrack) else _recent_height(old, cfg)
    return not math.isnan(recent) and _tall_alike(cfg, height, recent)


def _tall_alike(cfg: TrackerConfig, height: float, other: float) -> bool:
    """Whether two standing heights (NaN: unknown) may be one person's: within
    ``resume_height_m`` (either unknown, or the cue off: yes)."""
    return not (cfg.height_weight > 0 and abs(height - other) > cfg.resume_height_m)


def _alike(cfg: TrackerConfig, look: FloatArray | None, other: _Track | LostTrack) -> bool:
    """Whether ``look`` (None: unknown) may be ``other``'s person by appearance (either
    unknown, or the cue off: yes)."""
    theirs = _known_look(other, cfg)
    if cfg.app_weight <= 0 or look is None or theirs is None:
        return True
    return float(look @ theirs) >= cfg.resume_app_cos


def _look_cost(
    tracks: Sequence[_Track],
    cfg: TrackerConfig,
    app: FloatArray,
    cam: IntArray,
    cam_looks: _CameraLooks,
) -> FloatArray:
    """Extra match costs ``(N, M)`` of N detections with unit descriptors ``app (N, D)`` (NaN:
    none) of cameras ``cam (N,)`` to M tracks: ``app_weight`` metres per unit that the cosine
    to the track's look (as the detection's camera sees it, once known) falls short of
    ``1 - app_slack``, at most ``app_cap_m`` (0 where either look is unknown)."""
    known = np.full((len(tracks), app.shape[1]), np.nan)
    for m, tr in enumerate(tracks):
        look = _known_look(tr, cfg)
        if look is not None:
            known[m] = look
    out = np.empty((len(app), len(tracks)))
    _look_costs(
        app, cam, known, cam_looks.slots(tracks), cam_looks.look, cam_looks.count,
        cfg.app_camera_min, cfg.app_slack, cfg.app_weight, cfg.app_cap_m, out,
    )  # fmt: skip
    return out


@numba.njit(cache=True, nogil=True)
def _look_costs(
    app: np.ndarray,
    cam: np.ndarray,
    known: np.ndarray,
    slots: np.ndarray,
    look: np.ndarray,
    count: np.ndarray,
    camera_min: int,
    slack: float,
    weight: float,
    cap: float,
    out: np.ndarray,
) -> None:
    """:func:`_look_cost` into ``out (N, M)``, given the tracks' looks ``known (M, D)`` (NaN:
    not known) and their rows ``slots (M,)`` of the per-camera looks ``look`` and ``count``."""
    for n in range(len(app)):
        c = cam[n]
        for m in range(len(known)):
            s = slots[m]
            ref = look[s, c] if 0 < camera_min <= count[s, c] else known[m]
            cos = 0.0
            for d in range(app.shape[1]):
                cos += app[n, d] * ref[d]
            short = max((1 - slack) - cos, 0.0)
            out[n, m] = 0.0 if cos != cos else min(weight * short, cap)


@numba.njit(cache=True, nogil=True)
def _fold_looks(look: np.ndarray, n: np.ndarray, obs: np.ndarray, learn: int) -> np.ndarray:
    """Running means ``look (L, D)`` of ``n (L,)`` unit descriptors each with one more
    observation ``obs (L, D)`` folded in (:func:`_fold_into`), as new rows."""
    out = np.empty_like(look)
    for r in range(len(look)):
        _fold_into(out[r], look[r], n[r], obs[r], learn)
    return out


@numba.njit(cache=True, nogil=True)
def _fold_into(out: np.ndarray, look: np.ndarray, n: int, obs: np.ndarray, learn: int) -> None:
    """Into ``out (D,)``: the running mean ``look`` of ``n`` unit descriptors with one more
    observation ``obs`` folded in (weighing ``1 / (n + 1)``, at least ``1 / learn``), as a unit
    vector; bit for bit the numpy arithmetic (the norm's sum of squares in numpy's order)."""
    rate = max(1.0 / (n + 1), 1.0 / learn)
    mean = (1 - rate) * look + rate * obs
    norm = math.sqrt(_pairwise_sum(mean * mean, 0, len(mean)))
    out[:] = mean / max(norm, 1e-9)


@numba.njit(cache=True, nogil=True)
def _window_looks(
    app: np.ndarray,
    group: np.ndarray,
    keep: np.ndarray,
    xy: np.ndarray,
    users: np.ndarray,
    pos: np.ndarray,
    alone_m: float,
    sums: np.ndarray,
    n: np.ndarray,
    alone: np.ndarray,
) -> None:
    """For :meth:`PeopleTracker._learn_looks`, into ``sums (K, D)``, ``n (K,)`` and ``alone
    (K,)`` (zeros) for the K people of ``keep``: the sum of their descriptors ``app`` (rows of
    person ``group``, an index into ``keep``; NaN: none), in order, and how many; and whether
    each, at ``xy (K, 2)``, stands ``alone_m`` or farther from every other track ``pos (M, 2)``
    (its own: ``users (K,)``)."""
    kept = np.cumsum(keep) - 1
    for r in range(len(app)):
        g = group[r]
        if keep[g] and app[r, 0] == app[r, 0]:
            sums[kept[g]] += app[r]
            n[kept[g]] += 1
    for k in range(len(xy)):
        nearest = np.inf
        for m in range(len(pos)):
            if m != users[k]:
                dx, dy = xy[k, 0] - pos[m, 0], xy[k, 1] - pos[m, 1]
                gap = math.sqrt(dx * dx + dy * dy)
                if gap < nearest or gap != gap:  # (NaN stays, as numpy's min keeps it)
                    nearest = gap
        alone[k] = nearest >= alone_m


@numba.njit(cache=True, nogil=True)
def _fold_camera_looks(
    look: np.ndarray, count: np.ndarray, slot: np.ndarray, cam: np.ndarray, app: np.ndarray,
    learn: int,
) -> None:  # fmt: skip
    """:func:`_fold_into` in place on ``look (K, C, D)`` and ``count (K, C)``: each row
    ``(slot, cam)`` that descriptors ``app (R, D)`` name, with their mean, summed in order."""
    n_cams, dims = count.shape[1], app.shape[1]
    key = slot * n_cams + cam
    order = np.argsort(key, kind="mergesort")  # stable: each pair's rows in order
    obs = np.empty(dims)
    i = 0
    while i < len(order):
        k, j = key[order[i]], i
        obs[:] = 0.0
        while j < len(order) and key[order[j]] == k:
            obs += app[order[j]]
            j += 1
        obs /= j - i
        s, c = k // n_cams, k % n_cams
        _fold_into(look[s, c], look[s, c], count[s, c], obs, learn)
        count[s, c] += 1
        i = j


@numba.njit(cache=True, nogil=True)
def _pairwise_sum(a: np.ndarray, lo: int, hi: int) -> float:
    """``a[lo:hi].sum()`` added in numpy's order, so that the compiled code's sums are
    numpy's to the bit: a run of up to 128 in eight running sums, a longer one as the sum of
    its two halves (numpy recurses; here a stack of the runs still to add, and of marks
    where two sums wait to be added)."""
    todo = [(lo, hi)]  # (lo, -1): add the last two sums
    sums = [0.0]
    sums.pop()
    while todo:
        lo, hi = todo.pop()
        n = hi - lo
        if hi < 0:
            right = sums.pop()
            sums.append(sums.pop() + right)
        elif n < 8:
            res = 0.0
            for i in range(lo, hi):
                res += a[i]
            sums.append(res)
        elif n <= 128:
            r = a[lo : lo + 8].copy()
            i = lo + 8
            while i < hi - n % 8:
                r += a[i : i + 8]
                i += 8
            res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < hi:
                res += a[i]
                i += 1
            sums.append(res)
        else:
            half = n // 2
            half -= half % 8
            todo += [(lo, -1), (lo + half, hi), (lo, lo + half)]
    return sums[0]


def _height_cost(
    tracks: Sequence[_Track], cfg: TrackerConfig, height: FloatArray, fitted: NDArray[np.bool_]
) -> FloatArray:
    """Extra match costs ``(N, M)`` of N detections with fitted ``height (N,)`` (where
    ``fitted``) to M tracks: ``height_weight`` times the gap to each track's known height, at
    most ``height_cap_m`` (0 where either height is unknown). Two neighbours whose keypoint rays
    fit both nearly as well usually differ in height, so this keeps each on their own track."""
    out = np.zeros((len(height), len(tracks)))
    if cfg.height_weight > 0:
        known = np.fromiter([tr.height for tr in tracks], float, len(tracks))
        _height_costs(height, fitted, known, cfg.height_weight, cfg.height_cap_m, out)
    return out


@numba.njit(cache=True, nogil=True)
def _height_costs(
    height: np.ndarray, fitted: np.ndarray, known: np.ndarray, weight: float, cap: float,
    out: np.ndarray,
) -> None:  # fmt: skip
    """:func:`_height_cost` into ``out (N, M)`` (zeros), given the tracks' heights ``known``."""
    for n in range(len(height)):
        if not fitted[n]:
            continue
        for m in range(len(known)):
            gap = abs(height[n] - known[m])
            if gap == gap:  # (either unknown: NaN, no cost)
                out[n, m] = weight * (gap if gap < cap else cap)


def _stature(points: FloatArray, multi: NDArray[np.bool_]) -> FloatArray:
    """Standing height ``(G,)`` of G triangulated skeletons ``points (G, 17, 3)``: their head
    keypoints that several cameras saw (``multi``, at least two) divided by those keypoints'
    usual fractions of height; NaN with fewer."""
    m = multi[:, _HEAD]
    count = m.sum(-1)
    ratio = points[:, _HEAD, 2] / _FRACTION[_HEAD]
    mean = (ratio * m).sum(-1) / np.maximum(count, 1)
    out: FloatArray = np.where(count >= 2, mean, np.nan)
    return out


def _arm_reach(
    hands: FloatArray,
    points: FloatArray,
    ok: NDArray[np.bool_],
    bundle: RayBundle,
    cam: IntArray,
    arm_m: float,
) -> FloatArray:
    """Where each of the people's wrists ``hands (G, 2, 3)`` may have been: the ends ``(G, 2,
    2, 3)`` of a stretch. A wrist that one camera alone saw lies somewhere on that camera's
    (mean) ray: the stretch of it within ``arm_m`` of the shoulder on its side (else the other
    shoulder) of the triangulated ``points``. A wrist several cameras saw, or whose ray misses
    that reach, or with no shoulder seen, stays its point (both ends), as with ``arm_m`` 0.
    ``bundle`` holds the rays of the detections, ``cam`` their cameras."""
    reach: FloatArray = np.stack([hands, hands], axis=-2)
    w = bundle.weights[:, _WRISTS]  # (N, 2)
    if arm_m <= 0 or not w.any():
        return reach
    det, side = np.nonzero(w)
    by_camera = np.zeros((len(hands), 2, int(cam.max()) + 1), dtype=bool)
    by_camera[bundle.group[det], side, cam[det]] = True
    single = (by_camera.sum(-1) == 1) & ok[:, _WRISTS]
    if not single.any():
        return reach
    member = bundle.member  # (G, N)
    total = member @ w
    origin = np.einsum("gn,nj,njc->gjc", member, w, bundle.origins[:, _WRISTS])
    origin /= np.maximum(total, 1e-12)[..., None]
    direction = np.einsum("gn,nj,njc->gjc", member, w, bundle.dirs[:, _WRISTS])
    direction /= np.maximum(row_norm(direction), 1e-12)[..., None]
    has = ok[:, _SHOULDERS]
    shoulder = np.where(has[..., None], points[:, _SHOULDERS], points[:, _SHOULDERS[::-1]])
    has = has | has[:, ::-1]
    # |origin + s direction - shoulder| = arm_m at s = -b ± root.
    off = origin - shoulder
    b = row_dot(direction, off)
    disc = b * b - row_dot(off, off) + arm_m * arm_m
    use = single & has & (disc > 0)
    root = np.sqrt(np.maximum(disc, 0.0))
    near = origin + np.maximum(-b - root, 0.0)[..., None] * direction
    far = origin + np.maximum(-b + root, 0.0)[..., None] * direction
    reach[use, 0] = near[use]
    reach[use, 1] = far[use]
    return reach


def _body_axis(
    points: FloatArray,
    multi: NDArray[np.bool_],
    group: IntArray,
    floor: FloatArray,
    seen: NDArray[np.bool_],
    fallback: FloatArray,
) -> FloatArray:
    """Where each of G people stands ``(G, 2)``: the mean of their body keypoints ``points
    (G, 17, 3)`` triangulated by several cameras (``multi``), if at least two; else the mean
    floor fit ``floor (N, 2)`` of their detections (``group (N,)``) that show an ankle; else
    ``fallback``."""
    m = multi[:, _BODY]
    n_multi = m.sum(-1)
    mean_multi = (points[:, _BODY, :2] * m[..., None]).sum(1) / np.maximum(n_multi, 1)[:, None]
    feet = seen[:, _ANKLES].any(-1).astype(float)
    n_feet = np.bincount(group, feet, minlength=len(points))
    sums = np.stack([np.bincount(group, feet * floor[:, i], len(points)) for i in (0, 1)], -1)
    mean_feet = sums / np.maximum(n_feet, 1)[:, None]
    out: FloatArray = np.where(
        (n_multi >= 2)[:, None], mean_multi, np.where((n_feet > 0)[:, None], mean_feet, fallback)
    )
    return out


def _height_cut(
    origins: FloatArray,
    dirs: FloatArray,
    seen: NDArray[np.bool_],
    group: IntArray,
    stature: FloatArray,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Where each of G people of known standing height ``stature (G,)`` (NaN: unknown) stands,
    from one camera's view ``(G, 2)``, and whether that is known: each seen body keypoint's ray
    (``origins (N, 3)``, ``dirs (N, 17, 3)``, detection n of person ``group[n]``) cut at the
    keypoint's usual height for that stature, the points weighed by the square of the ray's
    steepness (a metre of height moves a grazing ray's cut far across the floor); rays flatter
    than :data:`_CUT_DZ` are not used."""
    out = np.empty((len(stature), 2))
    ok = np.empty(len(stature), dtype=np.bool_)
    _cut_fit(origins, dirs, seen, group, stature, _FRACTION, _IS_BODY, _CUT_DZ, out, ok)
    return out, ok


@numba.njit(cache=True, nogil=True)
def _cut_fit(
    origins: np.ndarray,
    dirs: np.ndarray,
    seen: np.ndarray,
    group: np.ndarray,
    stature: np.ndarray,
    fraction: np.ndarray,
    body: np.ndarray,
    min_dz: float,
    out: np.ndarray,
    ok: np.ndarray,
) -> None:
    """:func:`_height_cut` into ``out (G, 2)`` and ``ok (G,)``: per person, the mean of the
    cut points of its detections' steep body rays, weighed by ``dz²``."""
    n = len(stature)
    total = np.zeros(n)
    sums = np.zeros((n, 2))
    for d in range(len(origins)):
        g = group[d]
        ox, oy, oz = origins[d, 0], origins[d, 1], origins[d, 2]
        w_sum = x_sum = y_sum = 0.0
        for k in range(dirs.shape[1]):
            dz = dirs[d, k, 2]
            if not (seen[d, k] and body[k] and abs(dz) > min_dz):
                continue
            s = (stature[g] * fraction[k] - oz) / dz
            if s > 0.0:  # False for NaN: a stature not known
                w = dz * dz
                w_sum += w
                x_sum += w * (ox + s * dirs[d, k, 0])
                y_sum += w * (oy + s * dirs[d, k, 1])
        total[g] += w_sum
        sums[g, 0] += x_sum
        sums[g, 1] += y_sum
    for g in range(n):
        norm = max(total[g], 1e-12)
        out[g, 0] = sums[g, 0] / norm
        out[g, 1] = sums[g, 1] / norm
        ok[g] = total[g] > 0.0


def _distinct(
    xy: FloatArray, jump: FloatArray, confirmed: NDArray[np.bool_], apart_m: float
) -> NDArray[np.bool_]:
    """Which of G updated people keep their update ``xy (G, 2)``: where two confirmed people
    would land closer than ``apart_m``, they are following one body, and the one drawn farther
    from its prediction (``jump (G,)``, metres) keeps its old state instead, so two live people
    never merge into one (the neighbour's keypoints pull a track off its own person)."""
    keep = np.ones(len(xy), dtype=bool)
    gap = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    close = (gap < apart_m) & confirmed[:, None] & confirmed[None]
    for i, j in zip(*np.nonzero(np.triu(close, 1)), strict=True):
        if keep[i] and keep[j]:
            keep[j if (jump[j], j) > (jump[i], i) else i] = False
    return keep


def _summarise(
    points: FloatArray, ok: NDArray[np.bool_], fallback: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Floor position ``(G, 2)``, head ``(G, 3)`` and wrists ``(G, 2, 3)`` of triangulated
    skeletons whose keypoints are seen where ``ok``. The floor position is the torso's centre
    (or the mean of other body keypoints, else ``fallback``); unseen heads and wrists are NaN."""

    def mean(idx: IntArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        m = ok[:, idx]
        count = m.sum(-1)
        avg = (points[:, idx] * m[..., None]).sum(1) / np.maximum(count, 1)[:, None]
        return avg, count > 0

    torso, has_torso = mean(_TORSO)
    body, has_body = mean(_BODY)
    xy = np.where(
        has_torso[:, None], torso[:, :2], np.where(has_body[:, None], body[:, :2], fallback)
    )
    head, has_head = mean(_HEAD)
    head[~has_head] = np.nan
    hands = np.where(ok[:, _WRISTS, None], points[:, _WRISTS], np.nan)
    return xy, head, hands


def _floor_points(
    centres: FloatArray, dirs: FloatArray, proj: FloatArray, seen: NDArray[np.bool_]
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
    """Each detection's floor position ``(N, 2)``, whether it has one, and the person's height
    ``(N,)``. Body keypoints stand upright above the floor point at fixed fractions of the
    height (:data:`_FRACTION`); floor point and height are fitted to the keypoint rays by least
    squares, with the height pulled towards :data:`_HEIGHT`. (Cutting each ray at a nominal
    height instead errs by a metre for a short person seen at a grazing angle.) ``proj`` are
    the keypoint rays' :func:`projectors`."""
    u = np.empty((len(centres), 3))
    ok = np.empty(len(centres), dtype=np.bool_)
    _floor_fit(centres, dirs, proj, seen, _FLOOR_WEIGHT, _FLOOR_A, _FLOOR_AA, _FLOOR_REG, u, ok)
    return u[:, :2], ok, u[:, 2]


@numba.njit(cache=True, nogil=True)
def _floor_fit(
    centres: np.ndarray,
    dirs: np.ndarray,
    proj: np.ndarray,
    seen: np.ndarray,
    weight: np.ndarray,
    a: np.ndarray,
    aa: np.ndarray,
    reg: np.ndarray,
    u: np.ndarray,
    ok: np.ndarray,
) -> None:
    """:func:`_floor_points` into ``u (N, 3)`` (x, y, height) and ``ok (N,)``: the residual
    of keypoint k is ``w_k P_k (A_k u - c)`` (``P_k`` its ray's projector, ``A_k = diag(a_k)``,
    ``aa`` their outer products, ``c`` the camera centre), so u solves ``(Σ w_k A_k P_k A_k +
    R) u = Σ w_k A_k P_k c + R u0`` with the prior's pull ``R = diag(reg)`` towards ``u0 =
    (c_x, c_y, nominal height)``. A fit counts when a seen keypoint lies ahead of its camera
    and the height is a person's."""
    gram = np.empty((3, 3))
    rhs = np.empty(3)
    for n in range(len(centres)):
        c = centres[n]
        gram[:] = 0.0
        rhs[:] = 0.0
        for k in range(proj.shape[1]):
            if not seen[n, k] or weight[k] == 0.0:
                continue
            w = weight[k]
            pk = proj[n, k]
            for i in range(3):
                wp0, wp1, wp2 = w * pk[i, 0], w * pk[i, 1], w * pk[i, 2]
                rhs[i] += a[k, i] * (wp0 * c[0] + wp1 * c[1] + wp2 * c[2])
                gram[i, 0] += wp0 * aa[k, i, 0]
                gram[i, 1] += wp1 * aa[k, i, 1]
                gram[i, 2] += wp2 * aa[k, i, 2]
        for i in range(3):
            gram[i, i] += reg[i]
        rhs[0] += reg[0] * c[0]
        rhs[1] += reg[1] * c[1]
        rhs[2] += reg[2] * _HEIGHT
        x = solve3(gram, rhs)
        for i in range(3):
            u[n, i] = x[i]
        ahead = False
        for k in range(proj.shape[1]):
            if seen[n, k] and weight[k] > 0.0:
                along = 0.0
                for i in range(3):
                    along += (x[i] * a[k, i] - c[i]) * dirs[n, k, i]
                if along > 0.0:
                    ahead = True
                    break
        ok[n] = ahead and 0.8 < x[2] < 2.4


def _assign(
    cost: FloatArray, frame: IntArray, bounds: IntArray, gate: float, owner: IntArray
) -> None:
    """Assign each camera frame's detections to tracks (at most one per track and frame,
    minimum total cost, each pair within ``gate``). ``frame (N,)`` numbers each detection's
    frame, whose rows are ``bounds[f]:bounds[f + 1]``. Where every detection of a frame has its
    own best track, that is the optimum; other frames go to the Hungarian method."""
    best = cost.argmin(axis=1)
    ok = cost[np.arange(len(best)), best] <= gate
    key = frame[ok] * cost.shape[1] + best[ok]
    uniq, counts = np.unique(key, return_counts=True)
    clash = np.unique(uniq[counts > 1] // cost.shape[1])
    owner[ok] = best[ok]
    for f in clash.tolist():
        lo, hi = bounds[f], bounds[f + 1]
        sub = cost[lo:hi]
        rows, cols = linear_sum_assignment(np.where(sub <= gate, sub, 1e6))
        good = sub[rows, cols] <= gate
        owner[lo:hi] = -1
        owner[lo + rows[good]] = cols[good]

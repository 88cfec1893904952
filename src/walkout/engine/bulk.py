"""Recordings in bulk: weight lines of plates at rest, and pose frames, in compiled code.

Nineteen lines in twenty of a store's recording are weight messages, and nearly all of them
find their plate at rest: the engine only checks the mean of the message against the plate's
baseline and updates the plate's noise estimate (:meth:`PlateDetector.feed`'s fast path). In
Python that check, with parsing the line and passing it through the reorder buffer, is most of
a replay's time. :class:`BlockScanner` does it for a whole block of raw lines in one call of a
function that numba compiles (:func:`_scan`): it parses each line that has exactly the form
the recorder writes (``{"type":"weight","plate":...,"t":...,"hz":...,"g":[...]}``), and when
the message's plate is at rest and stays so, applies it there and then: a message with null
samples too (a load cell missed some), as the detector's slow path would, keeping its usable
samples for the plate's trace until the plate goes back. Pose frames, most of
the rest and the largest lines, it parses there too when they have exactly the recorder's form
(``{"type":"pose","camera":...,"t":...,"people":[{"kp":[[x,y,c],...],"app":[...]},...]}``),
into arrays: the engine takes each, in order, as a :class:`PoseArrays` (the tracker fuses
frames as arrays), without a Python object per keypoint. Every other line (a gate scan, a
weight message that starts a change, anything it does not parse) stops the scan and goes to
the engine, which handles it as :meth:`Engine.feed_line` does, after the frames before it.

The result is the same, bit for bit, as feeding the lines one by one
(``tests/test_engine_bulk.py``):

- **Same arithmetic.** The compiled check is the Python fast path's, operation for
  operation (IEEE doubles, no fused or reordered operations; the sum of the samples as the
  running Python's ``sum`` adds floats), and so is the slow path's for a message with null
  samples (the usable samples' ``math.fsum``, exactly as CPython rounds it); numbers are
  parsed only where a double is exact to get (at most 15 digits and no exponent: the
  quotient of two exact doubles, correctly rounded); any other number sends its line to the
  engine.
- **Same checks.** A line is parsed here only when the engine's own parser would accept it
  with the same values (17 keypoints, confidences in [0, 1], 1 to 512 descriptor values), and
  a frame only when its people all have a descriptor of one length, or none has.
- **Same order where it matters.** A line the engine would queue behind a later one (out of
  order), or one far ahead of the stream, goes to the engine, which first catches up with
  the messages applied meanwhile (what is late depends on them). A message applied at once
  instead of after the reorder window changes nothing that anyone reads in between: a plate at
  rest is read by no one else (waiting picks and rises read the plates that changed, and the
  checks of waiting changes fall on a fixed grid of stream time, not on messages). The one
  order that cannot be kept: a plate's message that comes after a later one of the same plate
  already applied (the engine would have processed the two in time order). That raises
  :class:`OutOfOrder`, and such a stream is fed line by line (``walkout replay`` does so).
  Recorders write each plate's messages in order.
- **One owner per plate.** A plate's state at rest lives either in the detector (Python) or
  in this class's arrays (compiled), never both: a plate is *lent* here only when it is at
  rest, none of its messages waits in the engine's buffer and no change of it awaits a charge;
  it is handed back, with its state and the samples kept for its trace, as soon as any of its
  messages goes to the engine (ADR 20).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numba
import numpy as np

# The bounds that parse_fast checks (and the models): a line beyond them goes to the engine.
from walkout.domain.messages import _HZ_MAX, _SAMPLES_MAX, APP_MAX, COCO_KEYPOINTS
from walkout.engine.people import PoseArrays
from walkout.engine.shelf import (
    MAX_ABS_G,
    STILL_MESSAGES,
    PlateDetector,
    ShelfParams,
    ShelfStats,
    StillState,
    range_factor,
)

#: Plate (or camera) ids as compiled code looks them up (:func:`_id_table`).
_Ids = tuple[np.ndarray, np.ndarray, np.ndarray]
#: The state of lent plates (a row a plate): floats, integers, the ring of still messages'
#: times and means, and the usable samples (times, values) of messages with null samples.
_State = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Columns of the float state of a lent plate; the last two: the newest time of the samples
# kept for traces (StillState.trace_end, then here), and the time of the newest message with
# null samples applied here.
_HZ, _LAST, _GAP, _INV_N, _BASE, _TRIG, _SD, _INV_D2, _KEPT_END, _NULLS_T = range(10)
# Columns of its integer state; the last: how many samples it keeps for traces here.
_N_REF, _STILL_I, _LENT, _N_KEPT = range(4)
#: The samples of messages with null samples kept here for a plate's trace, at most (those
#: older than the trace are let go; with more, its next such message goes to the engine).
_KEPT_MAX = 64
# The detectors' parameters.
_ALPHA, _BETA, _TRIG_K, _TRIG_MIN, _TRACE_S = range(5)
# The stream's scalars shared with the engine's reorder buffer.
_LATEST, _QUEUE_T, _MAX_JUMP = range(3)
# Counters: messages applied here, and the null and bad samples in them.
_N_APPLIED, _N_NULL, _N_BAD = range(3)

#: The pose frames a scan parsed: integers (a row a frame), floats (a row a frame),
#: keypoints of their people ``(P, 17, 3)`` and their descriptors' values end to end.
_Frames = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Columns of the integers: the frame's camera, and where its people and their descriptors'
# values end (they start where the previous frame's end; every person has as many values).
_E_CAMERA, _E_PEOPLE_END, _E_APP_END = range(3)
# Columns of the floats: the frame's time, and the engine's newest message time and newest
# queued time before it.
_T_T, _T_LATEST, _T_QUEUE = range(3)
# How many frames, people and descriptor values a scan parses before it hands them over.
_FRAMES, _PEOPLE, _APP_VALUES = 2048, 8192, 8192 * 16

# What :func:`_pose` makes of a line.
_TAKEN, _OTHER, _FULL = range(3)
# What :func:`_scan` returns: the block is done (up to an unfinished last line), a line
# for the engine, or no room for more frames.
_DONE, _HAND, _MORE = 0, 1, 2

_N_KP = len(COCO_KEYPOINTS)
_PREFIX = np.frombuffer(b'{"type":"weight","plate":"', dtype=np.uint8)
_NULL = np.frombuffer(b"null", dtype=np.uint8)
_POSE_PREFIX = np.frombuffer(b'{"type":"pose","camera":"', dtype=np.uint8)
_T_KEY = np.frombuffer(b'","t":', dtype=np.uint8)
_HZ_KEY = np.frombuffer(b',"hz":', dtype=np.uint8)
_G_KEY = np.frombuffer(b',"g":[', dtype=np.uint8)
_PEOPLE_KEY = np.frombuffer(b',"people":[', dtype=np.uint8)
_KP_KEY = np.frombuffer(b'{"kp":[', dtype=np.uint8)
_APP_KEY = np.frombuffer(b',"app":[', dtype=np.uint8)
#: Powers of ten that a double holds exactly.
_POW10 = np.array([10.0**k for k in range(23)])
#: CPython's ``sum`` of floats adds with Neumaier's compensation from 3.12 on.
_COMPENSATED_SUM = sys.version_info >= (3, 12)


#: FNV-1a's start and multiplier: ids are hashed in unsigned 64-bit arithmetic that wraps.
_FNV_START, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True, inline="always")
def _fnv(h: np.uint64, b: int) -> np.uint64:
    """FNV-1a's hash ``h`` with one more byte ``b``."""
    return (h ^ np.uint64(b)) * _FNV_PRIME


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(h: np.uint64, mask: int) -> int:
    """The table slot of an id's FNV-1a hash ``h``: its high bits folded into the low ones
    that the table's ``mask`` keeps."""
    return int((h ^ (h >> np.uint64(29))) & np.uint64(0x7FFFFFFF)) & mask


@numba.njit(cache=True, nogil=True)
def _hash_slot(key: np.ndarray, mask: int) -> int:
    """The table slot of the id ``key`` (bytes), as :func:`_plate` finds it."""
    h = _FNV_START
    for b in key:
        h = _fnv(h, b)
    return _slot(h, mask)


@numba.njit(cache=True, nogil=True)
def _matches(buf: np.ndarray, i: int, end: int, pattern: np.ndarray) -> bool:
    n = len(pattern)
    if i + n > end:
        return False
    for k in range(n):  # noqa: SIM110  (a plain loop compiles best)
        if buf[i + k] != pattern[k]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _number(buf: np.ndarray, i: int, end: int) -> tuple[float, int]:
    """The JSON number at ``buf[i:]`` and the index after it; index -1 where it is not one
    that a double holds exactly as parsed here (an exponent, more than 15 digits)."""
    neg = False
    if i < end and buf[i] == 45:  # '-'
        neg = True
        i += 1
    if i >= end or not 48 <= buf[i] <= 57:
        return 0.0, -1
    if buf[i] == 48 and i + 1 < end and 48 <= buf[i + 1] <= 57:  # a leading zero
        return 0.0, -1
    mant = 0
    digits = 0
    while i < end and 48 <= buf[i] <= 57:
        mant = mant * 10 + (buf[i] - 48)
        if mant:
            digits += 1
        i += 1
    frac = 0
    if i < end and buf[i] == 46:  # '.'
        i += 1
        if i >= end or not 48 <= buf[i] <= 57:
            return 0.0, -1
        while i < end and 48 <= buf[i] <= 57:
            mant = mant * 10 + (buf[i] - 48)
            if mant:
                digits += 1
            frac += 1
            i += 1
            if frac > 22:
                return 0.0, -1
    if digits > 15 or (i < end and (buf[i] == 101 or buf[i] == 69)):  # 'e', 'E'
        return 0.0, -1
    if not frac:  # an integer, which becomes its float (so -0 is 0.0)
        return float(-mant if neg else mant), i
    value = mant / _POW10[frac]
    return (-value if neg else value), i


@numba.njit(cache=True, nogil=True)
def _plate(buf: np.ndarray, i: int, end: int, ids: _Ids) -> tuple[int, int]:
    """The index of the plate (or camera) whose id starts at ``buf[i]`` and ends before the
    next ``"``, and the index of that quote; -1 for an unknown or escaped id (``ids``: see
    :func:`_id_table`). The id is hashed as it is read."""
    keys, offsets, table = ids
    h = _FNV_START
    j = i
    while j < end:
        b = buf[j]
        if b == 34:  # '"'
            break
        if b == 92:  # '\\': an escaped id
            return -1, j
        h = _fnv(h, b)
        j += 1
    mask = len(table) - 1
    slot = _slot(h, mask)
    n = j - i
    while table[slot] >= 0:
        p = table[slot]
        a = offsets[p]
        if offsets[p + 1] - a == n:
            k = 0
            while k < n and keys[a + k] == buf[i + k]:
                k += 1
            if k == n:
                return int(p), j
        slot = (slot + 1) & mask
    return -1, j


@numba.njit(cache=True, nogil=True)
def _id_and_time(
    buf: np.ndarray, i: int, end: int, prefix: np.ndarray, ids: _Ids
) -> tuple[int, float, int]:
    """The id's index, the time and the index after it, when the line ``buf[i:end]`` starts
    with ``prefix``, an id of ``ids`` (unescaped), ``","t":`` and a number; else an index
    after it of -1."""
    if not _matches(buf, i, end, prefix):
        return -1, 0.0, -1
    p, j = _plate(buf, i + len(prefix), end, ids)
    if p < 0 or not _matches(buf, j, end, _T_KEY):
        return -1, 0.0, -1
    t, i = _number(buf, j + len(_T_KEY), end)
    return p, t, i


@numba.njit(cache=True, nogil=True)
def _weight(
    buf: np.ndarray,
    i: int,
    end: int,
    ids: _Ids,
    state: _State,
    stream: np.ndarray,
    params: np.ndarray,
    samples: np.ndarray,
    factors: np.ndarray,
    counts: np.ndarray,
) -> bool:
    """Apply the line ``buf[i:end]`` if it is a weight message of a lent plate at rest that
    the engine would take in order and that leaves the plate at rest; else change nothing."""
    p, t, i = _id_and_time(buf, i, end, _PREFIX, ids)
    if i < 0 or state[1][p, _LENT] == 0 or not _matches(buf, i, end, _HZ_KEY):
        return False
    hz, i = _number(buf, i + len(_HZ_KEY), end)
    if i < 0 or not _matches(buf, i, end, _G_KEY):
        return False
    i += len(_G_KEY)
    n = nulls = 0
    while True:
        if n == len(samples):  # more than _SAMPLES_MAX
            return False
        if _matches(buf, i, end, _NULL):
            x, i = np.nan, i + len(_NULL)  # (no number parses as NaN)
            nulls += 1
        else:
            x, i = _number(buf, i, end)
            if i < 0:
                return False  # a number parsed elsewhere
        samples[n] = x
        n += 1
        if i < end and buf[i] == 44:  # ','
            i += 1
            continue
        break
    if i + 2 != end or buf[i] != 93 or buf[i + 1] != 125:  # ']}' and the line's end
        return False
    if not _in_order(t, stream) or not 0.0 < hz <= _HZ_MAX or not _in_step(p, t, hz, n, state):
        return False
    if nulls:
        if not _at_rest_with_nulls(p, t, hz, samples, n, state, params, factors, counts):
            return False
    elif not _at_rest(p, t, samples, n, state, params):
        return False
    _taken(t, stream)
    return True


@numba.njit(cache=True, nogil=True)
def _in_order(t: float, stream: np.ndarray) -> bool:
    """Whether the engine takes a message at ``t`` into its buffer in order (Engine._admit):
    not before the newest queued, nor far ahead of the newest."""
    return t >= 0.0 and t >= stream[_QUEUE_T] and t <= stream[_LATEST] + stream[_MAX_JUMP]


@numba.njit(cache=True, nogil=True)
def _taken(t: float, stream: np.ndarray) -> None:
    """A message at ``t`` taken in order (applied here, or queued by the engine)."""
    stream[_QUEUE_T] = t
    if t > stream[_LATEST]:
        stream[_LATEST] = t


@numba.njit(cache=True, nogil=True)
def _in_step(p: int, t: float, hz: float, n: int, state: _State) -> bool:
    """Whether a message at ``t`` of ``n`` samples at ``hz`` goes on lent plate ``p``'s stream
    as the detector's paths at rest take it: of the shape it knows, after its last message and
    within a gap of it."""
    fs, ints = state[0], state[1]
    return bool(n == ints[p, _N_REF] and hz == fs[p, _HZ] and 0.0 < t - fs[p, _LAST] <= fs[p, _GAP])


@numba.njit(cache=True, nogil=True)
def _at_rest(
    p: int, t: float, samples: np.ndarray, n: int, state: _State, params: np.ndarray
) -> bool:
    """The detector's fast path (PlateDetector.feed), operation for operation, on the samples
    ``samples[:n]`` of lent plate ``p`` (a message :func:`_in_step`): applied, or False (the
    plate would leave its rest; nothing changed)."""
    fs, ints, ring_t, ring_g = state[0], state[1], state[2], state[3]
    total = samples[0]
    comp = 0.0
    lo = hi = samples[0]
    for k in range(1, n):
        x = samples[k]
        s = total + x
        if _COMPENSATED_SUM:
            if abs(total) >= abs(x):
                comp += (total - s) + x
            else:
                comp += (x - s) + total
        total = s
        if x > hi:
            hi = x
        if x < lo:
            lo = x
    if _COMPENSATED_SUM and comp != 0.0 and np.isfinite(comp):
        total += comp
    mean = total * fs[p, _INV_N]
    base = fs[p, _BASE]
    d = mean - base
    trig = fs[p, _TRIG]
    if not (-trig <= d <= trig):
        return False
    fs[p, _LAST] = t
    k = ints[p, _STILL_I]
    ring_t[p, k] = t
    ring_g[p, k] = mean
    ints[p, _STILL_I] = (k + 1) & (ring_t.shape[1] - 1)
    fs[p, _BASE] = base + params[_ALPHA] * d
    sd = fs[p, _SD]
    sd += params[_BETA] * ((hi - lo) * fs[p, _INV_D2] - sd)
    fs[p, _SD] = sd
    trig = sd * params[_TRIG_K]
    fs[p, _TRIG] = trig if trig > params[_TRIG_MIN] else params[_TRIG_MIN]
    return True


@numba.njit(cache=True, nogil=True)
def _at_rest_with_nulls(
    p: int,
    t: float,
    hz: float,
    samples: np.ndarray,
    n: int,
    state: _State,
    params: np.ndarray,
    factors: np.ndarray,
    counts: np.ndarray,
) -> bool:
    """The detector's slow path (PlateDetector._slow), operation for operation, on a message
    of lent plate ``p`` (one :func:`_in_step`) with null samples (NaN in ``samples[:n]``)
    that leaves the plate at rest: applied (its usable samples kept for traces here, as the
    slow path keeps them, and its null and bad samples counted), or False (it would not leave
    the plate at rest, or its samples do not fit: nothing changed)."""
    fs, ints, kept_t, kept_g = state[0], state[1], state[4], state[5]
    # (False for a NaN end: see StillState.trace_end; else the trace's times stay in order.)
    if not t > fs[p, _KEPT_END]:
        return False
    # The kept samples that the slow path would have let go by now (older than its trace).
    kept = ints[p, _N_KEPT]
    old = 0
    while old < kept and kept_t[p, old] < t - params[_TRACE_S]:
        old += 1
    usable = nulls = 0
    lo, hi = np.inf, -np.inf
    for k in range(n):
        x = samples[k]
        if x != x:
            nulls += 1
        elif _usable(x):
            usable += 1
            lo, hi = min(lo, x), max(hi, x)
    if usable == 0 or kept - old + usable > kept_t.shape[1]:
        return False  # (the first: a blind span opens)
    mean = _usable_sum(samples, n) / usable
    base = fs[p, _BASE]
    d = mean - base
    if not abs(d) <= fs[p, _TRIG]:
        return False
    counts[_N_NULL] += nulls
    counts[_N_BAD] += n - nulls - usable
    kept -= old
    if old:
        kept_t[p, :kept] = kept_t[p, old : old + kept].copy()
        kept_g[p, :kept] = kept_g[p, old : old + kept].copy()
    dt = 1.0 / hz
    for k in range(n):
        x = samples[k]
        if _usable(x):
            kept_t[p, kept] = t + k * dt
            kept_g[p, kept] = x
            kept += 1
    ints[p, _N_KEPT] = kept
    fs[p, _KEPT_END] = kept_t[p, kept - 1]
    fs[p, _NULLS_T] = t
    fs[p, _LAST] = t
    fs[p, _BASE] = base + params[_ALPHA] * d
    if usable >= 2:
        sd = fs[p, _SD]
        sd = sd + params[_BETA] * ((hi - lo) / factors[usable] - sd)
        fs[p, _SD] = sd
        trig = params[_TRIG_K] * sd
        fs[p, _TRIG] = params[_TRIG_MIN] if params[_TRIG_MIN] >= trig else trig
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def _usable(x: float) -> bool:
    """Whether a sample counts, as the detector's slow path says: within ``MAX_ABS_G`` (not
    NaN)."""
    return -MAX_ABS_G < x < MAX_ABS_G


@numba.njit(cache=True, nogil=True)
def _usable_sum(samples: np.ndarray, n: int) -> float:
    """``math.fsum`` of the usable samples of ``samples[:n]`` (those within ``MAX_ABS_G``,
    not NaN), as CPython computes it: Shewchuk's exact partial sums, rounded once, half to
    even across partials."""
    partials = np.empty(n + 1)
    m = 0
    for k in range(n):
        v = float(samples[k])
        if not _usable(v):
            continue
        i = 0
        for j in range(m):
            y = float(partials[j])
            if abs(v) < abs(y):
                v, y = y, v
            hi = v + y
            lo = y - (hi - v)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            v = hi
        m = i
        if v != 0.0:
            partials[m] = v
            m += 1
    if m == 0:
        return 0.0
    m -= 1
    hi = float(partials[m])
    lo = 0.0
    while m > 0:
        v = hi
        m -= 1
        y = float(partials[m])
        hi = v + y
        lo = y - (hi - v)
        if lo != 0.0:
            break
    if m > 0 and ((lo < 0.0 and partials[m - 1] < 0.0) or (lo > 0.0 and partials[m - 1] > 0.0)):
        y = lo * 2.0
        v = hi + y
        if y == v - hi:
            hi = v
    return hi


@numba.njit(cache=True, nogil=True)
def _pose(
    buf: np.ndarray,
    i: int,
    end: int,
    cams: _Ids,
    stream: np.ndarray,
    frames: _Frames,
    e: int,
    used: np.ndarray,
) -> int:
    """The line ``buf[i:end]`` as a pose frame: TAKEN (a frame as the recorder writes it, of
    a known camera, that the engine takes in order: entry ``e`` of ``frames`` now holds it,
    its people after those of the entry before, or after those ``used`` holds, and the
    stream's times move on), OTHER (anything else: nothing changed) or FULL (its people do
    not fit in what is left of ``frames``: nothing changed)."""
    c, t, i = _id_and_time(buf, i, end, _POSE_PREFIX, cams)
    if i < 0 or not _matches(buf, i, end, _PEOPLE_KEY):
        return _OTHER
    i += len(_PEOPLE_KEY)
    entries, times, kp, app = frames
    person = entries[e - 1, _E_PEOPLE_END] if e else used[0]
    a = entries[e - 1, _E_APP_END] if e else used[1]
    dims = -1  # the frame's descriptor length (0: none), the same for all its people
    if i < end and buf[i] == 93:  # ']': no one
        i += 1
    else:
        while True:
            if person == len(kp):
                return _FULL
            if not _matches(buf, i, end, _KP_KEY):
                return _OTHER
            i += len(_KP_KEY)
            for k in range(_N_KP):
                if i >= end or buf[i] != 91:  # '['
                    return _OTHER
                i += 1
                for m in range(3):
                    x, i = _number(buf, i, end)
                    if i < 0 or i >= end or buf[i] != (44 if m < 2 else 93):  # ',' / ']'
                        return _OTHER
                    i += 1
                    kp[person, k, m] = x
                if not 0.0 <= kp[person, k, 2] <= 1.0:
                    return _OTHER
                if i >= end or buf[i] != (44 if k < _N_KP - 1 else 93):
                    return _OTHER
                i += 1
            n = 0
            if _matches(buf, i, end, _APP_KEY):
                i += len(_APP_KEY)
                while True:
                    if a == len(app):
                        return _FULL
                    if n == APP_MAX:
                        return _OTHER
                    x, i = _number(buf, i, end)
                    if i < 0:
                        return _OTHER
                    app[a] = x
                    a += 1
                    n += 1
                    if i < end and buf[i] == 44:  # ','
                        i += 1
                        continue
                    break
                if i >= end or buf[i] != 93:  # ']'
                    return _OTHER
                i += 1
            if dims >= 0 and n != dims:
                return _OTHER
            dims = n
            if i >= end or buf[i] != 125:  # '}'
                return _OTHER
            i += 1
            person += 1
            if i < end and buf[i] == 44:  # ','
                i += 1
                continue
            if i < end and buf[i] == 93:  # ']'
                i += 1
                break
            return _OTHER
    if i + 1 != end or buf[i] != 125 or not _in_order(t, stream):  # '}' and the line's end
        return _OTHER
    _taken(t, stream)
    entries[e, _E_CAMERA] = c
    entries[e, _E_PEOPLE_END] = person
    entries[e, _E_APP_END] = a
    times[e, _T_T] = t
    return _TAKEN


@numba.njit(cache=True, nogil=True)
def _scan(
    buf: np.ndarray,
    pos: int,
    final: bool,
    ids: _Ids,
    cams: _Ids,
    state: _State,
    stream: np.ndarray,
    counts: np.ndarray,
    params: np.ndarray,
    samples: np.ndarray,
    factors: np.ndarray,
    frames: _Frames,
    used: np.ndarray,
) -> tuple[int, int, int, int]:
    """Go through the lines of ``buf`` from ``pos`` on, applying weight messages of plates at
    rest and parsing pose frames into ``frames`` (after the people and descriptor values
    ``used`` holds), until the block is done: (DONE, where its unfinished last line starts
    (the block's end when ``final``), -, frames), a line needs the engine: (HAND, its start, its
    end, frames), or there is no room for more frames: (MORE, where the next line starts, -,
    frames)."""
    end = len(buf)
    times = frames[1]
    e = 0
    while pos < end:
        nl = pos
        while nl < end and buf[nl] != 10:  # '\n'
            nl += 1
        if nl == end and not final:
            return _DONE, pos, 0, e
        if nl > pos:
            if _weight(buf, pos, nl, ids, state, stream, params, samples, factors, counts):
                counts[_N_APPLIED] += 1
            else:  # (nothing changed: the stream's times are still those before the line)
                latest, queue_t = stream[_LATEST], stream[_QUEUE_T]
                if e == len(times):
                    return _MORE, pos, 0, e
                got = _pose(buf, pos, nl, cams, stream, frames, e, used)
                if got == _FULL:  # (a frame too large to record goes to the engine)
                    return (_MORE, pos, 0, e) if e else (_HAND, pos, nl, e)
                if got == _OTHER:
                    return _HAND, pos, nl, e
                times[e, _T_LATEST] = latest
                times[e, _T_QUEUE] = queue_t
                e += 1
        pos = nl + 1
    return _DONE, end, 0, e


class OutOfOrder(RuntimeError):
    """A plate's message came after a later one of the same plate that was applied at once:
    fed line by line, the engine would have processed the two in time order."""


@dataclass(slots=True)
class Taken:
    """A pose frame that the engine takes into its buffer in order, parsed by a scan (not
    frozen, as :class:`PoseArrays`, to be cheap to make)."""

    frame: PoseArrays
    latest: float
    queue_t: float
    """The engine's newest message time and newest queued time before it (with the messages
    applied in compiled code up to it)."""


@dataclass(frozen=True, slots=True)
class Scanned:
    """What one call of :meth:`BlockScanner.scan` did."""

    taken: list[Taken]
    """The frames for the engine to take in order, in the block's order (before the line
    for the engine, if any)."""
    done: bool
    """The block is done; ``start`` is where its unfinished last line begins."""
    start: int
    stop: int
    """Else, when ``stop`` > ``start``, the line ``[start, stop)`` is for the engine next (not
    surely in order, or not parsed here); when not, the scan goes on at ``start``."""
    applied: int
    """Messages applied in compiled code: admitted in order, each the newest."""
    latest: float
    queue_t: float
    """The engine's newest message time and newest queued time after all of them."""


def _id_table(ids: Iterable[str]) -> _Ids:
    """Plate ids for lookups in compiled code: their bytes end to end, where each starts, and
    an open-addressing hash table of their indices (-1: empty)."""
    encoded = [i.encode() for i in ids]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    size = 1 << max(4, (2 * len(encoded)).bit_length())
    table = np.full(size, -1, dtype=np.int64)
    for p, key in enumerate(encoded):
        slot = _hash_slot(np.frombuffer(key, dtype=np.uint8), size - 1)
        while table[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        table[slot] = p
    keys = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8).copy()
    return keys, offsets, table


class BlockScanner:
    """The still-path state of the plates lent to compiled code, and the scan over a block."""

    def __init__(
        self,
        plates: dict[str, PlateDetector],
        params: ShelfParams,
        stats: ShelfStats,
        cameras: Sequence[str],
        max_jump_s: float,
        queued: Mapping[str, int],
    ) -> None:
        """``stats``: the plates' counts (of the null and bad samples of messages applied
        here); ``cameras``: the ids of the cameras whose frames are parsed here (others go to
        the engine); ``queued``: how many messages of each plate wait in the engine's buffer
        now."""
        self._stats = stats
        self._cameras = list(cameras)
        self._camera_table = _id_table(self._cameras)
        self._ids = list(plates)
        self._index = {pid: p for p, pid in enumerate(self._ids)}
        self._detectors = list(plates.values())
        n = len(self._ids)
        self._table = _id_table(self._ids)
        self._state: _State = (
            np.zeros((n, 10)),
            np.zeros((n, 4), dtype=np.int64),
            np.zeros((n, STILL_MESSAGES)),
            np.zeros((n, STILL_MESSAGES)),
            np.zeros((n, _KEPT_MAX)),
            np.zeros((n, _KEPT_MAX)),
        )
        #: How many messages of each plate wait in the engine's buffer.
        self._queued = [queued.get(pid, 0) for pid in self._ids]
        self._stream = np.array([-np.inf, -np.inf, max_jump_s])
        self._counts = np.zeros(3, dtype=np.int64)
        self._params = np.array(
            [params.baseline_alpha, params.noise_beta, params.trigger_k, params.trigger_min_g,
             params.trace_s]
        )  # fmt: skip
        self._samples = np.zeros(_SAMPLES_MAX)
        #: ``range_factor(k)`` at ``k``, for up to as many samples as a lent plate's messages.
        self._factors = np.ones(_SAMPLES_MAX + 1)
        self._factors_upto = 1
        self._frames = self._frame_arrays()
        #: People and descriptor values of ``_frames`` in frames handed over.
        self._used = np.zeros(2, dtype=np.int64)

    def scan(
        self, buf: np.ndarray, pos: int, final: bool, latest: float, queue_t: float
    ) -> Scanned:
        """Go through what can be of the lines of ``buf`` from ``pos`` on (see :func:`_scan`),
        given the engine's newest message time and newest queued time."""
        stream = self._stream
        stream[_LATEST], stream[_QUEUE_T] = latest, queue_t
        counts = self._counts
        counts[:] = 0
        used = self._used
        if used[0] > _PEOPLE // 2 or used[1] > _APP_VALUES // 2:
            # Frames handed over are views of these arrays: fresh ones, not overwritten.
            self._frames = self._frame_arrays()
            used[:] = 0
        frames = self._frames
        code, start, stop, n = _scan(
            buf, pos, final, self._table, self._camera_table, self._state, stream, counts,
            self._params, self._samples, self._factors, frames, used,
        )  # fmt: skip
        applied, nulls, bad = counts.tolist()
        if nulls or bad:
            self._stats.null_samples += nulls
            self._stats.bad_samples += bad
        taken = self._taken(frames, n)
        if n:
            used[0], used[1] = frames[0][n - 1, _E_PEOPLE_END], frames[0][n - 1, _E_APP_END]
        return Scanned(
            taken,
            code == _DONE,
            start,
            stop if code == _HAND else start,
            applied,
            float(stream[_LATEST]),
            float(stream[_QUEUE_T]),
        )

    @staticmethod
    def _frame_arrays() -> _Frames:
        return (
            np.empty((_FRAMES, 3), dtype=np.int64),
            np.empty((_FRAMES, 3)),
            np.empty((_PEOPLE, _N_KP, 3)),
            np.empty(_APP_VALUES),
        )

    def _taken(self, frames: _Frames, n: int) -> list[Taken]:
        """The first ``n`` frames parsed into ``frames``."""
        entries, times, kp, app = frames
        cameras = self._cameras
        out: list[Taken] = []
        people, values = self._used.tolist()
        for (cam, people_end, app_end), (t, latest, queue_t) in zip(
            entries[:n].tolist(), times[:n].tolist(), strict=True
        ):
            count = people_end - people
            dims = (app_end - values) // count if count else 0
            descriptors = app[values:app_end].reshape(count, dims) if dims else None
            frame = PoseArrays(t, cameras[cam], kp[people:people_end], descriptors)
            out.append(Taken(frame, latest, queue_t))
            people, values = people_end, app_end
        return out

    def handed(self, plate: str, t: float) -> None:
        """A message of ``plate`` at ``t`` goes into the engine's buffer: the plate's state
        goes back to its detector first, if it was lent. Raises :class:`OutOfOrder` if a
        message of the plate later than ``t`` was applied here."""
        p = self._index.get(plate)
        if p is None:
            return
        # The newest message applied here stays in the column after the plate is handed back
        # (and lending it again writes its detector's newest, which is later): a message
        # older than that and not late would have been processed before it.
        fs = self._state[0]
        if t < fs[p, _LAST]:
            raise OutOfOrder(
                f"a message of plate {plate} at t={t} came after one at "
                f"t={fs[p, _LAST]} (applied at once): feed this stream line by line"
            )
        self._queued[p] += 1
        if self._state[1][p, _LENT]:
            self._give_back(p)

    def processed(self, plate: str, busy: Callable[[str], bool]) -> None:
        """The engine processed a message of ``plate``: lend the plate if it can be, at rest
        with no other message of it in the engine's buffer and no change of it awaiting a
        charge (``busy``: its weight trace is read then)."""
        p = self._index.get(plate)
        if p is None:
            return
        self._queued[p] -= 1
        det = self._detectors[p]
        if self._queued[p] == 0 and det.at_rest and not busy(plate):
            s = det.still_state()
            fs, ints, ring_t, ring_g = self._state[:4]
            f, i = fs[p], ints[p]
            f[_HZ], f[_LAST], f[_GAP], f[_INV_N] = s.hz, s.last_msg_t, s.gap_s, s.inv_n
            f[_BASE], f[_TRIG], f[_SD], f[_INV_D2] = s.base, s.trig, s.sd, s.inv_d2
            f[_KEPT_END] = s.trace_end
            i[_N_REF], i[_STILL_I], i[_LENT], i[_N_KEPT] = s.n_ref, s.still_i, 1, 0
            ring_t[p] = s.still_t
            ring_g[p] = s.still_g
            while self._factors_upto < min(s.n_ref, _SAMPLES_MAX):
                self._factors_upto += 1
                self._factors[self._factors_upto] = range_factor(self._factors_upto)

    def give_back_all(self) -> None:
        """Hand every lent plate back (at the end of the stream)."""
        for p in np.flatnonzero(self._state[1][:, _LENT]).tolist():
            self._give_back(p)

    def _give_back(self, p: int) -> None:
        fs, ints, ring_t, ring_g, kept_t, kept_g = self._state
        ints[p, _LENT] = 0
        f, i = fs[p].tolist(), ints[p].tolist()
        det = self._detectors[p]
        det.set_still_state(
            StillState(
                hz=f[_HZ], last_msg_t=f[_LAST], gap_s=f[_GAP], inv_n=f[_INV_N], base=f[_BASE],
                trig=f[_TRIG], sd=f[_SD], inv_d2=f[_INV_D2], n_ref=i[_N_REF],
                still_i=i[_STILL_I], still_t=ring_t[p].tolist(), still_g=ring_g[p].tolist(),
                trace_end=f[_KEPT_END],
            )
        )  # fmt: skip
        if n := i[_N_KEPT]:
            det.keep_samples(kept_t[p, :n].tolist(), kept_g[p, :n].tolist(), f[_NULLS_T])

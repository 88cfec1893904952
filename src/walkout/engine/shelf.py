"""Shelf events from load-cell streams: when did a plate's load change, and by how much.

One :class:`PlateDetector` per plate follows its ``weight`` messages. While the plate is
still, each message costs one cheap check in pure Python: the mean of its samples against a
slowly tracked baseline (which absorbs tare drift), plus an update of the plate's noise
estimate from the samples' range. When the mean leaves the baseline band an *episode* starts
and samples are buffered until the load is flat again for ``settle_s``. The episode's net
change (settled level minus the level before) becomes a :class:`ShelfEvent` when it is at
least ``max(event_min_g, event_k x noise SD)``:

- a drop is emitted as soon as the load settles (picks must reach the cart fast);
- a rise is held for ``rise_confirm_s`` first: a hand resting on the shelf looks like a put
  until it leaves, and a rest that ends where it began is no event at all. Whoever sees the
  hands may confirm it sooner (:meth:`ShelfDetector.confirm`): once the hand has left and the
  load stays up, it was a put;
- a press, a touch, a rest or a single wild sample that returns to the old level is no event.

Changes inside one episode merge: two hands on one plate at once give one event with the net
change, and a pick made while a hand rests on the plate is the pick alone (``hold_seen``).
Each plate also keeps recent readings for the weight trace that staff see when they review a
change (:meth:`PlateDetector.trace`): the means of its last ``STILL_MESSAGES`` still messages,
in a fixed ring of doubles (no allocation on the fast path), and every sample of the last
``trace_s`` that was not still (a change and its settling).

Time comes from the messages only. Bad input (nulls, NaN, unknown plates, repeated or
backward messages, gaps) is counted in :class:`ShelfStats` and never raises.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache

import numpy as np

from walkout.domain.events import WeightTrace
from walkout.domain.messages import WeightMsg
from walkout.domain.store import Store

#: Samples beyond this magnitude (grams) are treated as garbage, like NaN.
MAX_ABS_G = 1e7
#: Still messages whose means are kept per plate for weight traces (a power of two): about
#: 3 s at 5 messages a second, the level before a change.
STILL_MESSAGES = 16
_STILL_MASK = STILL_MESSAGES - 1


@dataclass(frozen=True, slots=True)
class ShelfParams:
    """Tuning of the detector; thresholds scale with each plate's estimated noise SD."""

    trigger_k: float = 2.5
    trigger_min_g: float = 1.5
    """A message whose mean is this far from the baseline starts an episode."""
    event_k: float = 3.0
    event_min_g: float = 3.0
    """Smallest net change reported: ``max(event_min_g, event_k x noise SD)``."""
    settle_s: float = 0.3
    settle_k: float = 6.0
    settle_min_g: float = 0.6
    settle_trend_k: float = 2.0
    """The load is settled when ``settle_s`` of samples span at most ``settle_k`` SD + min and
    the means of the window's halves differ by at most ``settle_trend_k`` SD + min / 2."""
    rise_confirm_s: float = 7.0
    """A rise must hold this long before it is reported: a resting hand is not a put (the
    simulated ones rest 2-6 s)."""
    confirm_hold_s: float = 0.15
    """An early confirmation needs the raised load seen this long after the hand left."""
    max_episode_s: float = 20.0
    """An episode that never settles is dropped after this long and the plate re-learnt."""
    press_window_s: float = 0.4
    press_k: float = 5.0
    press_min_g: float = 8.0
    put_overshoot: float = 0.15
    """A peak this far above both levels early in an episode flags a press (plus this share of
    a rise, which may overshoot)."""
    baseline_alpha: float = 0.05
    noise_beta: float = 0.02
    warmup_messages: int = 5
    """Still messages that a plate's first level and noise are learnt from; no events before."""
    initial_sd_g: float = 1.0
    gap_factor: float = 1.5
    """A message later than this many message spans after the previous one marks a gap."""
    level_corr: float = 2.5
    """Variance inflation of a level estimate for sample-to-sample noise correlation."""
    trace_s: float = 12.0
    """Samples of changes kept per plate for weight traces: a rise confirmed after
    ``rise_confirm_s`` still has its start."""


@dataclass(slots=True)
class ShelfStats:
    """Counters of what the detectors saw, for health checks and reports."""

    messages: int = 0
    unknown_plate: int = 0
    null_samples: int = 0
    bad_samples: int = 0
    duplicates: int = 0
    backwards: int = 0
    gaps: int = 0
    episodes: int = 0
    quiet_episodes: int = 0
    abandoned: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True)
class ShelfEvent:
    """A settled change of one plate's load. Times are stream seconds; grams are signed."""

    plate: str
    t_start: float
    """When the load began to change (a hand touched); after lost messages or null samples,
    the earliest time it may have begun."""
    t_end: float
    """When the load reached its new level."""
    t_emit: float
    """Stream time at which the detector decided (its last sample, or the flush time)."""
    delta_g: float
    """Settled level after minus before: negative when units were taken."""
    sd_g: float
    """Standard deviation of ``delta_g`` as measured (not counting product weight spread)."""
    noise_sd_g: float
    """The plate's estimated sample noise SD at the time."""
    press_seen: bool = False
    hold_seen: bool = False
    """The load rested above both levels for a while (a hand leaning during the change)."""


@dataclass(frozen=True, slots=True)
class PendingRise:
    """A rise that has settled but is not reported yet (it may still be a resting hand)."""

    plate: str
    t_start: float
    t_settled: float
    """When the load reached its raised level."""
    t_last: float
    """Time of the latest sample seen at that level."""
    delta_g: float


@dataclass(slots=True)
class StillState:
    """What the paths of a plate at rest that leave it at rest read and write
    (:meth:`PlateDetector.feed`; :meth:`PlateDetector._slow` for a message with null samples,
    which also keeps its usable samples for traces): lent to compiled code while a
    recording's lines are fed in bulk (:mod:`walkout.engine.bulk`)."""

    hz: float
    last_msg_t: float
    gap_s: float
    inv_n: float
    base: float
    trig: float
    sd: float
    inv_d2: float
    n_ref: int
    still_i: int
    still_t: list[float]
    still_g: list[float]
    trace_end: float
    """The newest time of the samples the slow path keeps for traces (-inf: none); NaN while
    a blind span is open (the last message had no usable sample) or those times are out of
    order: a message with null samples then takes the slow path itself."""


class _State(IntEnum):
    WARMUP = 0
    IDLE = 1
    ACTIVE = 2
    PENDING = 3


#: The states the per-message paths test, as module constants (an enum member lookup on the
#: class costs ten times a global's).
_IDLE = _State.IDLE
_PENDING = _State.PENDING


@cache
def range_factor(n: int) -> float:
    """Expected range of ``n`` independent standard normal samples (the control-chart d2)."""
    if n < 2:
        return 1.0
    x = np.linspace(-9.0, 9.0, 3601)
    phi = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    integrand = 1.0 - phi**n - (1.0 - phi) ** n
    return float(np.sum(integrand) * (x[1] - x[0]))


def _valid(
    t: float, dt: float, g: Sequence[float | None], stats: ShelfStats
) -> tuple[list[float], list[float]]:
    """Times and values of the usable samples of one message, counting the rest."""
    ts: list[float] = []
    gs: list[float] = []
    for i, x in enumerate(g):
        if x is None:
            stats.null_samples += 1
        elif -MAX_ABS_G < x < MAX_ABS_G:  # False for NaN too
            ts.append(t + i * dt)
            gs.append(float(x))
        else:
            stats.bad_samples += 1
    return ts, gs


class PlateDetector:
    """Streaming load-change detector for one plate; see the module docstring."""

    # Slots keep a plate's state in one block: with thousands of plates, each message finds
    # its plate cold in the processor's cache.
    __slots__ = (
        "_alpha", "_base", "_beta", "_blind_from", "_buf_g", "_buf_t", "_early_peak", "_gap_s",
        "_hz", "_inv_d2", "_inv_n", "_last_msg_t", "_level", "_level_n", "_level_sum",
        "_mid_s", "_moving_g", "_moving_t", "_n_ref", "_plateau_max", "_pre", "_rising", "_sd",
        "_state", "_still_g", "_still_i", "_still_t", "_t_active", "_t_level_last",
        "_t_settled", "_t_start", "_trace_s", "_trig", "_trig_k", "_trig_min", "_warm",
        "params", "plate", "stats",
    )  # fmt: skip

    def __init__(
        self,
        plate: str,
        params: ShelfParams | None = None,
        stats: ShelfStats | None = None,
        rising: set[str] | None = None,
    ) -> None:
        """``stats`` and ``rising`` (the ids of plates with a settled rise awaiting
        confirmation, kept up to date by the slow path) may be shared by many plates."""
        self.plate = plate
        self.params = params or ShelfParams()
        self.stats = stats if stats is not None else ShelfStats()
        self._rising = rising if rising is not None else set()
        p = self.params
        self._state = _State.WARMUP
        self._warm = 0
        self._base = math.nan
        self._sd = p.initial_sd_g
        self._trig = p.trigger_min_g
        self._alpha = p.baseline_alpha
        self._beta = p.noise_beta
        self._trig_k = p.trigger_k
        self._trig_min = p.trigger_min_g
        # Message shape seen so far (the fast path assumes it).
        self._n_ref = 0
        self._hz = 0.0
        self._inv_n = 0.0
        self._inv_d2 = 0.0
        self._gap_s = math.inf
        self._mid_s = 0.0  # from a message's first sample to its middle
        self._last_msg_t = -math.inf
        self._trace_s = p.trace_s
        # Readings for traces: still messages' times and means in a ring, and the samples of
        # the slow path. Arrays of doubles: storing one allocates nothing.
        self._still_t = array("d", [-math.inf] * STILL_MESSAGES)
        self._still_g = array("d", [0.0] * STILL_MESSAGES)
        self._still_i = 0
        self._moving_t = array("d")
        self._moving_g = array("d")
        self._blind_from: float | None = None
        # Episode state.
        self._pre = 0.0
        self._t_start = 0.0
        self._t_active = 0.0
        self._buf_t: list[float] = []
        self._buf_g: list[float] = []
        self._early_peak = -math.inf
        self._plateau_max = -math.inf
        self._level = 0.0
        self._level_sum = 0.0
        self._level_n = 0
        self._t_settled = 0.0
        self._t_level_last = 0.0

    @property
    def noise_sd(self) -> float:
        """Current estimate of the plate's sample noise SD in grams."""
        return self._sd

    @property
    def baseline(self) -> float:
        """Current resting load estimate (tare included); NaN before the first sample."""
        return self._base

    @property
    def pending(self) -> PendingRise | None:
        """The settled rise awaiting confirmation, if any."""
        if self._state is not _State.PENDING:
            return None
        return PendingRise(
            self.plate, self._t_start, self._t_settled, self._t_level_last, self._level - self._pre
        )

    def confirm(self, t_free: float, t_now: float) -> ShelfEvent | None:
        """No hand has been at the plate since ``t_free`` (it is ``t_now``): report the pending
        rise if its level was still seen ``confirm_hold_s`` after that (a resting hand has gone
        by then)."""
        if (
            self._state is _State.PENDING
            and self._t_level_last >= t_free + self.params.confirm_hold_s
        ):
            self._rising.discard(self.plate)
            return self._emit(self._level, self._t_settled, t_now)
        return None

    @property
    def open_since(self) -> float | None:
        """Start of the change in progress (not yet reported), or None when the plate is still."""
        return self._t_start if self._state >= _State.ACTIVE else None

    @property
    def at_rest(self) -> bool:
        """Whether the plate is still, with its level and noise learnt (no change open)."""
        return self._state is _IDLE

    def still_state(self) -> StillState:
        """The state of the paths at rest (see :class:`StillState`)."""
        times = np.frombuffer(self._moving_t)
        if self._blind_from is not None or (times[1:] < times[:-1]).any():
            end = math.nan
        else:
            end = float(times[-1]) if len(times) else -math.inf
        return StillState(
            self._hz, self._last_msg_t, self._gap_s, self._inv_n, self._base, self._trig,
            self._sd, self._inv_d2, self._n_ref, self._still_i, self._still_t.tolist(),
            self._still_g.tolist(), end,
        )  # fmt: skip

    def set_still_state(self, s: StillState) -> None:
        """Take the state at rest back from where it was lent (the plate is at rest; the
        samples kept meanwhile come with :meth:`keep_samples`)."""
        self._hz, self._last_msg_t, self._gap_s, self._inv_n = s.hz, s.last_msg_t, s.gap_s, s.inv_n
        self._base, self._trig, self._sd, self._inv_d2 = s.base, s.trig, s.sd, s.inv_d2
        self._n_ref, self._still_i = s.n_ref, s.still_i
        self._still_t = array("d", s.still_t)
        self._still_g = array("d", s.still_g)

    def keep_samples(self, ts: Sequence[float], gs: Sequence[float], t: float) -> None:
        """The usable samples (times ``ts``, after those kept, and values ``gs``) of messages
        with null samples that the plate took at rest while its state was lent, the newest
        at ``t``: kept for traces as the slow path would have kept them."""
        self._moving_t.extend(ts)
        self._moving_g.extend(gs)
        self._trim_trace(t)

    def feed(self, t: float, hz: float, g: Sequence[float | None]) -> ShelfEvent | None:
        """Consume one message (first sample at ``t``); return an event if one completed."""
        if (
            self._state is _IDLE
            and len(g) == self._n_ref
            and hz == self._hz
            and 0.0 < t - self._last_msg_t <= self._gap_s
        ):
            try:
                mean = sum(g) * self._inv_n  # type: ignore[arg-type]
            except TypeError:  # a null sample
                return self._feed_slow(t, hz, g)
            base = self._base
            d = mean - base
            if -self._trig <= d <= self._trig:  # False for NaN
                self._last_msg_t = t
                i = self._still_i
                self._still_t[i] = t  # its middle is _mid_s later
                self._still_g[i] = mean
                self._still_i = (i + 1) & _STILL_MASK
                self._base = base + self._alpha * d
                sd = self._sd
                sd += self._beta * ((max(g) - min(g)) * self._inv_d2 - sd)  # type: ignore[type-var, operator]
                self._sd = sd
                trig = sd * self._trig_k
                self._trig = trig if trig > self._trig_min else self._trig_min
                return None
        return self._feed_slow(t, hz, g)

    def flush(self, t: float) -> ShelfEvent | None:
        """End of stream at ``t``: report a change still open if its final level is known."""
        state = self._state
        if state is _State.PENDING:
            return self._emit(self._level, self._t_settled, t)
        if state is _State.ACTIVE and len(self._buf_g) >= 3:
            window = self._buf_g[-max(3, len(self._buf_g) // 2) :]
            if self._flat(window):
                level = math.fsum(window) / len(window)
                if abs(level - self._pre) >= self._event_threshold():
                    return self._emit(level, self._level_start(level, len(self._buf_g)), t)
        if state >= _State.ACTIVE:
            self._to_idle(self._buf_g[-1] if self._buf_g else self._pre)
        return None

    # Slow path ----------------------------------------------------------------------------

    def _feed_slow(self, t: float, hz: float, g: Sequence[float | None]) -> ShelfEvent | None:
        # Only this path changes the state (the fast one runs on still plates and keeps them
        # so): keep the shared set of plates with a pending rise up to date here.
        event = self._slow(t, hz, g)
        if self._state is _PENDING:
            self._rising.add(self.plate)
        elif self._rising:
            self._rising.discard(self.plate)
        return event

    def _slow(self, t: float, hz: float, g: Sequence[float | None]) -> ShelfEvent | None:
        if not (hz > 0.0 and math.isfinite(t)):
            self.stats.bad_samples += len(g)
            return None
        if t <= self._last_msg_t:
            if t == self._last_msg_t:
                self.stats.duplicates += 1
            else:
                self.stats.backwards += 1
            return None
        if t - self._last_msg_t > self._gap_s:
            self.stats.gaps += 1
        dt = 1.0 / hz
        if len(g) != self._n_ref or hz != self._hz:
            self._n_ref, self._hz = len(g), hz
            self._inv_n = 1.0 / len(g) if g else 0.0
            self._inv_d2 = 1.0 / range_factor(len(g))
            self._gap_s = self.params.gap_factor * len(g) * dt
            self._mid_s = 0.5 * (len(g) - 1) * dt
        prev_last = self._last_msg_t + (self._n_ref - 1) * dt
        self._last_msg_t = t
        ts, gs = _valid(t, dt, g, self.stats)
        if not gs:
            if self._blind_from is None:
                self._blind_from = prev_last
            return None
        if self._blind_from is not None:  # the last sample seen was before a run of nulls
            prev_last, self._blind_from = self._blind_from, None
        self._trim_trace(t)
        self._moving_t.extend(ts)
        self._moving_g.extend(gs)
        state = self._state
        if state is _State.ACTIVE:
            return self._active(ts, gs, dt)
        mean = math.fsum(gs) / len(gs)
        if state is _State.PENDING:
            return self._pending(ts, gs, mean, dt)
        if state is _State.WARMUP:
            self._warmup(gs, mean)
            return None
        d = mean - self._base
        if abs(d) <= self._trig:
            self._base += self._alpha * d
            self._learn_noise(gs)
            return None
        return self._start(ts, gs, prev_last, dt)

    def _trim_trace(self, t: float) -> None:
        """Let go of the slow path's samples older than the trace kept at ``t``."""
        moving_t = self._moving_t
        if moving_t and moving_t[0] < t - self._trace_s:
            old = bisect.bisect_left(moving_t, t - self._trace_s)
            del moving_t[:old], self._moving_g[:old]

    def _warmup(self, gs: list[float], mean: float) -> None:
        """Learn the first level and noise; a change meanwhile restarts the learning."""
        p = self.params
        self._warm += 1
        if self._warm > 1 and abs(mean - self._base) > self._trig:
            self._warm = 1
        if self._warm == 1:
            self._base = mean
            if len(gs) >= 2:
                self._set_sd(max(0.05, (max(gs) - min(gs)) / range_factor(len(gs))))
        else:
            self._base += (mean - self._base) / self._warm
            self._learn_noise(gs, 1.0 / self._warm)
        if self._warm >= p.warmup_messages:
            self._state = _State.IDLE

    def _learn_noise(self, gs: list[float], rate: float = 0.0) -> None:
        """Move the noise estimate toward this message's range-based SD (needs 2+ samples)."""
        if len(gs) < 2:
            return
        target = (max(gs) - min(gs)) / range_factor(len(gs))
        self._set_sd(self._sd + (rate or self._beta) * (target - self._sd))

    def _set_sd(self, sd: float) -> None:
        self._sd = sd
        self._trig = max(self._trig_min, self._trig_k * sd)

    def _start(
        self, ts: list[float], gs: list[float], prev_last: float, dt: float
    ) -> ShelfEvent | None:
        """Open an episode at the first sample that leaves the baseline."""
        self.stats.episodes += 1
        self._state = _State.ACTIVE
        self._pre = self._base
        tol = 3.0 * self._sd + self.params.settle_min_g
        first = next((i for i, x in enumerate(gs) if abs(x - self._pre) > tol), 0)
        self._t_start = min(ts[first], prev_last + dt) if first == 0 else ts[first]
        self._t_active = ts[0]
        self._buf_t, self._buf_g = [], []
        self._early_peak = -math.inf
        self._plateau_max = -math.inf
        return self._active(ts, gs, dt)

    def _active(self, ts: list[float], gs: list[float], dt: float) -> ShelfEvent | None:
        p = self.params
        bt, bg = self._buf_t, self._buf_g
        bt += ts
        bg += gs
        t_now = ts[-1]
        early_end = self._t_start + p.press_window_s
        for x, ti in zip(gs, ts, strict=True):
            if ti <= early_end and x > self._early_peak:
                self._early_peak = x
        i0 = len(bt)
        t_from = t_now - p.settle_s + 0.5 * dt
        while i0 > 0 and bt[i0 - 1] >= t_from:
            i0 -= 1
        window = bg[i0:]
        if len(window) >= 0.8 * p.settle_s / dt and self._flat(window):
            return self._settled(math.fsum(window) / len(window), i0, t_now)
        if t_now - self._t_active > p.max_episode_s:
            self._abandon()
            return None
        keep = max(4 * (len(bg) - i0), 64)
        if len(bg) > 2 * keep:
            del bt[:-keep], bg[:-keep]
        return None

    def _settled(self, level: float, i0: int, t_now: float) -> ShelfEvent | None:
        """The load is flat at ``level`` from buffer index ``i0``: decide what it was."""
        delta = level - self._pre
        if abs(delta) < self._event_threshold():
            self.stats.quiet_episodes += 1
            self._to_idle(level)
            return None
        t_end = self._level_start(level, i0)
        if delta < 0.0:
            return self._emit(level, t_end, t_now)
        self._state = _State.PENDING
        self._level = level
        window = self._buf_g[i0:]
        self._level_sum, self._level_n = math.fsum(window), len(window)
        self._t_settled = t_end
        self._t_level_last = t_now
        return None

    def _pending(
        self, ts: list[float], gs: list[float], mean: float, dt: float
    ) -> ShelfEvent | None:
        """A rise has settled: wait for it to hold, or to move on (a hand lifting off)."""
        if abs(mean - self._level) <= self._trig:
            self._level_sum += math.fsum(gs)
            self._level_n += len(gs)
            self._level = self._level_sum / self._level_n
            self._t_level_last = ts[-1]
            if ts[-1] - self._t_settled >= self.params.rise_confirm_s:
                return self._emit(self._level, self._t_settled, ts[-1])
            return None
        self._plateau_max = max(self._plateau_max, self._level)
        self._state = _State.ACTIVE
        self._t_active = ts[0]
        self._buf_t, self._buf_g = [], []
        return self._active(ts, gs, dt)

    def _level_start(self, level: float, i0: int) -> float:
        """Time of the first sample of the final run at ``level`` that ends the buffer."""
        tol = 4.0 * self._sd + self.params.settle_min_g
        bt, bg = self._buf_t, self._buf_g
        j = i0
        while j > 0 and abs(bg[j - 1] - level) <= tol:
            j -= 1
        return max(bt[min(j, len(bt) - 1)], self._t_start)

    def _emit(self, level: float, t_end: float, t_emit: float) -> ShelfEvent:
        p = self.params
        top = max(self._pre, level)
        # A put may overshoot its new level a little: that is no press.
        overshoot = p.put_overshoot * max(0.0, level - self._pre)
        press_thr = max(p.press_min_g, p.press_k * self._sd) + overshoot
        n_after = max(self._level_n, round(p.settle_s * self._hz))
        n_before = self._n_ref * (2.0 / p.baseline_alpha - 1.0)
        sd = self._sd * math.sqrt(p.level_corr * (1.0 / n_after + 1.0 / n_before))
        event = ShelfEvent(
            plate=self.plate,
            t_start=self._t_start,
            t_end=t_end,
            t_emit=t_emit,
            delta_g=level - self._pre,
            sd_g=sd,
            noise_sd_g=self._sd,
            press_seen=self._early_peak > top + press_thr,
            hold_seen=self._plateau_max > top + self._event_threshold(),
        )
        self.stats.events += 1
        self._to_idle(level)
        return event

    def _to_idle(self, level: float) -> None:
        self._state = _State.IDLE
        self._base = level
        self._level_n = 0
        self._buf_t, self._buf_g = [], []

    def _abandon(self) -> None:
        """Give up on an episode that never settled: re-learn the plate from its last samples."""
        self.stats.abandoned += 1
        bg = self._buf_g
        n = max(2, self._n_ref)
        ranges = [max(bg[i : i + n]) - min(bg[i : i + n]) for i in range(0, len(bg) - n + 1, n)]
        if ranges:
            self._set_sd(max(self._sd, float(np.median(ranges)) / range_factor(n)))
        self._to_idle(float(np.median(bg[-n:])))

    def _flat(self, window: list[float]) -> bool:
        """Samples at one level: a small range, and no trend between the window's halves."""
        p = self.params
        if max(window) - min(window) > p.settle_k * self._sd + p.settle_min_g:
            return False
        h = len(window) // 2
        trend = math.fsum(window[h:]) / (len(window) - h) - math.fsum(window[:h]) / h
        return abs(trend) <= p.settle_trend_k * self._sd + 0.5 * p.settle_min_g

    def _event_threshold(self) -> float:
        return max(self.params.event_min_g, self.params.event_k * self._sd)

    def trace(self, t0: float, t1: float, dt: float) -> WeightTrace | None:
        """The plate's load from ``t0`` to ``t1`` every ``dt`` seconds, within what is still
        kept (the last ``trace_s``); None when fewer than two readings fall in the span."""
        still_t = np.frombuffer(self._still_t) + self._mid_s
        times = np.concatenate([still_t, np.frombuffer(self._moving_t)])
        grams = np.concatenate([np.frombuffer(self._still_g), np.frombuffer(self._moving_g)])
        keep = (times >= t0 - dt) & (times <= t1 + dt)
        order = np.argsort(times[keep], kind="stable")
        times, grams = times[keep][order], grams[keep][order]
        if len(times) < 2:
            return None
        start = max(t0, float(times[0]))
        n = int((min(t1, float(times[-1])) - start) / dt) + 1
        grid = start + dt * np.arange(max(n, 1))
        values = np.round(np.interp(grid, times, grams), 1)
        return WeightTrace(t0=round(start, 3), dt=dt, grams=[float(v) for v in values])


class ShelfDetector:
    """All plates of a store: weight messages in, :class:`ShelfEvent` s out."""

    def __init__(self, plates: Iterable[str], params: ShelfParams | None = None) -> None:
        self.params = params or ShelfParams()
        self.stats = ShelfStats()
        self._pending: set[str] = set()
        self._plates = {
            pid: PlateDetector(pid, self.params, self.stats, self._pending) for pid in plates
        }

    @classmethod
    def for_store(cls, store: Store, params: ShelfParams | None = None) -> ShelfDetector:
        return cls((p.id for p in store.plates), params)

    @property
    def detectors(self) -> dict[str, PlateDetector]:
        """Every plate's detector, by plate id."""
        return self._plates

    def plate(self, plate_id: str) -> PlateDetector:
        return self._plates[plate_id]

    def feed(self, msg: WeightMsg) -> list[ShelfEvent]:
        """Consume one weight message; messages for unknown plates are counted and ignored."""
        event = self.feed_weight(msg.plate, msg.t, msg.hz, msg.g)
        return [] if event is None else [event]

    def feed_weight(
        self, plate: str, t: float, hz: float, g: Sequence[float | None]
    ) -> ShelfEvent | None:
        """:meth:`feed` for a message's fields (the engine's fast path): the event, if one
        completed."""
        self.stats.messages += 1
        det = self._plates.get(plate)
        if det is None:
            self.stats.unknown_plate += 1
            return None
        return det.feed(t, hz, g)  # which keeps self._pending (plates with a pending rise)

    def pending(self) -> list[PendingRise]:
        """Every settled rise awaiting confirmation, by plate id."""
        out = [self._plates[pid].pending for pid in sorted(self._pending)]
        return [r for r in out if r is not None]

    def confirm(self, plate_id: str, t_free: float, t_now: float) -> ShelfEvent | None:
        """See :meth:`PlateDetector.confirm`."""
        return self._plates[plate_id].confirm(t_free, t_now)

    def flush(self, t: float) -> list[ShelfEvent]:
        """End of stream at ``t``: the events still open that have a known final level."""
        events = [det.flush(t) for det in self._plates.values()]
        self._pending.clear()
        return [e for e in events if e is not None]

    def trace(self, plate_id: str, t0: float, t1: float, dt: float) -> WeightTrace | None:
        """See :meth:`PlateDetector.trace`; None for an unknown plate."""
        det = self._plates.get(plate_id)
        return None if det is None else det.trace(t0, t1, dt)

    def open_since(self, plate_id: str) -> float | None:
        """When the unreported change on a plate began, or None (also for unknown plates)."""
        det = self._plates.get(plate_id)
        return None if det is None else det.open_since

"""Shelf load cells: render :class:`PlateContact` s as PROTOCOL ``weight`` messages.

The model is calibrated against real "nanostore" recordings. Each plate reads its total load
plus an arbitrary tare (300–3000 g) that drifts as a slow random walk. It samples at the plate's
``hz`` and sends a batch of 12 samples about every 0.2 s, with ±0.02 s jitter on the message
time; plates are out of phase. Noise is mildly autocorrelated (AR(1)), its SD drawn per plate
from the measured quantiles (median 0.8 g, 90 % 3 g, 99 % 6 g), and the ADC sometimes repeats
its last reading. A few samples are null and a few messages never arrive. Optional
:class:`LoadCellFaults` add dead plates, bursts of lost messages and single-sample glitches.

Contacts superpose on their plate: a press of ``press_g`` first (about 0.1 s), then a smooth
step of ``delta_g`` (about 0.2 s; puts overshoot a little), all squeezed to end by ``t_end``;
``hold_g`` rests on the plate from ``t_start`` to ``t_end`` with soft edges.

:class:`LoadCellRenderer` is stateful and renders window by window. Internally it works in
fixed blocks of time (vectorised over plates), so its output depends only on the seed, never on
the windows it is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np
import orjson
from numpy.typing import NDArray
from scipy.signal import lfilter

from walkout.domain.store import Plate, Store
from walkout.sim.timeline import FloatArray, LineChunk, PlateContact

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class LoadCellParams:
    """The signal model, with defaults calibrated against real shelf recordings."""

    samples_per_message: int = 12
    jitter_s: float = 0.02
    """Message times are uniform within ±jitter_s of the nominal schedule."""
    tare_g: tuple[float, float] = (300.0, 3000.0)
    noise_sd_quantiles: tuple[tuple[float, float], ...] = (
        (0.0, 0.2),
        (0.1, 0.35),
        (0.5, 0.8),
        (0.9, 3.0),
        (0.99, 6.0),
        (1.0, 9.0),
    )
    """(quantile, noise SD in g) knots of the per-plate noise SD, interpolated in log SD."""
    noise_ar: float = 0.3
    """Lag-one autocorrelation of the sample noise."""
    repeat_prob: float = 0.05
    """Chance that a sample repeats the previous reading exactly."""
    drift_g_per_sqrt_s: float = 0.07
    """Tare random walk: about 3 g RMS after 30 minutes."""
    null_prob: float = 0.002
    drop_prob: float = 0.002
    press_s: float = 0.1
    step_s: float = 0.2
    overshoot: float = 0.05
    """A put overshoots its new level by this fraction of ``delta_g``, for ``overshoot_s``."""
    overshoot_s: float = 0.1
    edge_s: float = 0.15
    """Soft edges of a resting hand's ``hold_g``."""
    block_s: float = 10.0
    """Internal rendering block. Output does not depend on render windows, only on this."""


@dataclass(frozen=True)
class LoadCellFaults:
    """Sensor faults for hard scenarios; all off by default. Rates are per plate."""

    dead_per_hour: float = 0.0
    dead_s: tuple[float, float] = (2.0, 20.0)
    """A dead plate sends messages of nulls for a duration uniform in this range."""
    burst_per_hour: float = 0.0
    burst_s: tuple[float, float] = (1.0, 10.0)
    """Every message of a plate in a burst is lost."""
    glitch_prob: float = 0.0
    """Chance per sample of a single wild reading, off by ± ``glitch_g``."""
    glitch_g: tuple[float, float] = (50.0, 2000.0)


def smooth_ramp(t: FloatArray, a: float, d: float) -> FloatArray:
    """0 before ``a``, 1 from ``a + d`` on, a smoothstep between (a hard step when d is 0)."""
    if d <= 0:
        return (t >= a).astype(np.float64)
    x = np.clip((t - a) / d, 0.0, 1.0)
    out: FloatArray = x * x * (3.0 - 2.0 * x)
    return out


def plateau(t: FloatArray, a: float, b: float, edge: float) -> FloatArray:
    """1 on [a, b] with smooth edges of ``edge`` inside it, 0 outside."""
    edge = min(edge, (b - a) / 2)
    return smooth_ramp(t, a, edge) - smooth_ramp(t, b - edge, edge)


def contact_load(c: PlateContact, t: FloatArray, params: LoadCellParams) -> FloatArray:
    """The load a contact adds to its plate at times ``t``: 0 before it, ``delta_g`` after it."""
    press = params.press_s if c.press_g > 0 else 0.0
    step = params.step_s if c.delta_g != 0 else 0.0
    over = params.overshoot_s if c.delta_g > 0 and params.overshoot > 0 else 0.0
    total = press + step + over
    duration = c.t_end - c.t_start
    scale = min(1.0, duration / total) if total > 0 else 1.0
    press, step, over = press * scale, step * scale, over * scale
    t_step = c.t_start + press
    out = c.delta_g * smooth_ramp(t, t_step, step)
    if press > 0:
        out += c.press_g * plateau(t, c.t_start, t_step, 0.3 * press)
    if over > 0:
        t_over = t_step + step
        out += params.overshoot * c.delta_g * plateau(t, t_over, t_over + over, 0.5 * over)
    if c.hold_g != 0:
        out += c.hold_g * plateau(t, c.t_start, c.t_end, params.edge_s)
    return out


def _noise_sds(u: FloatArray, knots: Sequence[tuple[float, float]]) -> FloatArray:
    q = np.array([k[0] for k in knots])
    log_sd = np.log(np.array([k[1] for k in knots]))
    sds: FloatArray = np.exp(np.interp(u, q, log_sd))
    return sds


def _json_number(x: float) -> bytes:
    return b"%d" % x if float(x).is_integer() else orjson.dumps(x)


class _PlateGroup:
    """The plates that share one sample rate, rendered together block by block."""

    def __init__(
        self,
        plates: Sequence[Plate],
        setup: _PlateSetup,
        contacts: Sequence[PlateContact],
        start: float,
        rng: np.random.Generator,
        params: LoadCellParams,
        faults: LoadCellFaults,
    ) -> None:
        self.params, self.faults, self.rng = params, faults, rng
        n = len(plates)
        hz = plates[0].hz
        k = params.samples_per_message
        self.period = k / hz
        self.n_msgs = max(1, round(params.block_s / self.period))
        self.sample_offsets = np.arange(k) / hz
        self.start = start
        self.block = 0
        # Keep the jitter below half a period so that each plate's messages stay in order.
        self.jitter = min(params.jitter_s, 0.45 * self.period)
        self.base = start + self.jitter + setup.phase * self.period
        self.tare = setup.tare
        self.noise_sd = setup.noise_sd
        self.level = setup.level.copy()
        self.drift = np.zeros(n)
        self.ar_state = np.zeros((n, 1))
        self.dead_until = np.full(n, -math.inf)
        self.dead_from = np.full(n, -math.inf)
        self.burst_until = np.full(n, -math.inf)
        self.burst_from = np.full(n, -math.inf)
        self.row = {p.id: i for i, p in enumerate(plates)}
        self.contacts = sorted(contacts, key=lambda c: c.t_start)
        self.next_contact = 0
        self.active: list[PlateContact] = []
        hz_bytes = _json_number(hz)
        body = b'","t":%.3f,"hz":' + hz_bytes + b',"g":[' + b",".join([b"%.1f"] * k) + b"]}"
        self.heads = [b'{"type":"weight","plate":' + orjson.dumps(p.id)[:-1] for p in plates]
        self.templates = [h.replace(b"%", b"%%") + body for h in self.heads]

    @property
    def horizon(self) -> float:
        """No message of a later block is earlier than this."""
        return self.start + self.block * self.n_msgs * self.period

    def render_block(self) -> tuple[FloatArray, list[bytes]]:
        """The next block of messages of every plate: their times and serialised lines."""
        p, f, rng = self.params, self.faults, self.rng
        n, m, k = len(self.templates), self.n_msgs, p.samples_per_message
        idx = self.block * m + np.arange(m)
        span = (self.horizon, self.horizon + m * self.period)
        self.block += 1

        jitter = rng.uniform(-self.jitter, self.jitter, (n, m))
        t_msg = np.round(self.base[:, None] + idx * self.period + jitter, 3)
        t = (t_msg[:, :, None] + self.sample_offsets).reshape(n, m * k)

        # Tare drift: a random walk per message, interpolated linearly over its samples.
        steps = rng.standard_normal((n, m)) * (p.drift_g_per_sqrt_s * math.sqrt(self.period))
        walk = self.drift[:, None] + np.cumsum(steps, axis=1)
        prev = np.concatenate([self.drift[:, None], walk[:, :-1]], axis=1)
        frac = np.arange(k) / k
        drift = prev[:, :, None] + (walk - prev)[:, :, None] * frac
        self.drift = walk[:, -1].copy()

        a = p.noise_ar
        white = rng.standard_normal((n, m * k))
        noise, self.ar_state = lfilter([math.sqrt(1 - a * a)], [1, -a], white, 1, self.ar_state)
        g = noise * self.noise_sd[:, None] + drift.reshape(n, m * k)
        g += (self.tare + self.level)[:, None]
        self._add_contacts(g, t)

        flat = g.reshape(-1)
        size = flat.size
        # The ADC repeats its last reading (never across a plate's block boundary).
        rep = rng.integers(0, size, rng.binomial(size, p.repeat_prob))
        rep = rep[rep % (m * k) != 0]
        src = np.arange(size)
        src[rep] = 0
        flat[:] = flat[np.maximum.accumulate(src)]
        if f.glitch_prob > 0:
            at = rng.integers(0, size, rng.binomial(size, f.glitch_prob))
            flat[at] += rng.choice([-1.0, 1.0], at.size) * rng.uniform(*f.glitch_g, at.size)
        flat[rng.integers(0, size, rng.binomial(size, p.null_prob))] = np.nan

        keep = np.ones((n, m), dtype=bool)
        keep.reshape(-1)[rng.integers(0, n * m, rng.binomial(n * m, p.drop_prob))] = False
        if f.dead_per_hour > 0:
            self._fault_events(self.dead_from, self.dead_until, f.dead_per_hour, f.dead_s, span)
            dead = (t >= self.dead_from[:, None]) & (t < self.dead_until[:, None])
            g[dead] = np.nan
        if f.burst_per_hour > 0:
            self._fault_events(self.burst_from, self.burst_until, f.burst_per_hour, f.burst_s, span)
            keep &= ~((t_msg >= self.burst_from[:, None]) & (t_msg < self.burst_until[:, None]))
        return self._serialise(t_msg, g.reshape(n, m, k), keep)

    def _add_contacts(self, g: FloatArray, t: FloatArray) -> None:
        """Add every contact that overlaps this block; fold finished ones into the level."""
        block_end = float(t.max())
        while (
            self.next_contact < len(self.contacts)
            and self.contacts[self.next_contact].t_start <= block_end
        ):
            self.active.append(self.contacts[self.next_contact])
            self.next_contact += 1
        still: list[PlateContact] = []
        for c in self.active:
            row = self.row[c.plate]
            if c.t_end <= t[row, 0]:
                self.level[row] += c.delta_g
                g[row] += c.delta_g
            else:
                g[row] += contact_load(c, t[row], self.params)
                still.append(c)
        self.active = still

    def _fault_events(
        self,
        t_from: FloatArray,
        t_until: FloatArray,
        per_hour: float,
        duration: tuple[float, float],
        span: tuple[float, float],
    ) -> None:
        """Start new fault intervals (in place) for plates that get one in this block."""
        hits = self.rng.poisson(per_hour * (span[1] - span[0]) / 3600, len(t_from))
        for row in np.flatnonzero(hits):
            begin = self.rng.uniform(*span)
            t_from[row], t_until[row] = begin, begin + self.rng.uniform(*duration)

    def _serialise(
        self, t_msg: FloatArray, g: FloatArray, keep: BoolArray
    ) -> tuple[FloatArray, list[bytes]]:
        """Format every message through its plate's template, in message-major order."""
        n = len(self.templates)
        times, values = t_msg.T.tolist(), g.transpose(1, 0, 2).tolist()
        lines: list[bytes] = []
        for tk, vk in zip(times, values, strict=True):
            lines += [f % (tt, *v) for f, tt, v in zip(self.templates, tk, vk, strict=True)]
        # Nulls were formatted as nan: rewrite those few lines (after the plate id).
        for i in np.flatnonzero(np.isnan(g).any(axis=2).T).tolist():
            head = self.heads[i % n]
            lines[i] = head + lines[i][len(head) :].replace(b"nan", b"null")
        kept = keep.T.reshape(-1)
        return t_msg.T.reshape(-1)[kept], list(compress(lines, kept.tolist()))


@dataclass(frozen=True)
class _PlateSetup:
    """Fixed per-plate properties, drawn once in store order."""

    phase: FloatArray
    tare: FloatArray
    noise_sd: FloatArray
    level: FloatArray

    def take(self, rows: Sequence[int]) -> _PlateSetup:
        i = np.asarray(rows, dtype=np.int64)
        return _PlateSetup(self.phase[i], self.tare[i], self.noise_sd[i], self.level[i])


class LoadCellRenderer:
    """Renders the weight messages of every plate of a store, window by window.

    Call :meth:`render` with consecutive windows; tare drift, noise state and message clocks
    carry over. Same seed, same bytes, whatever the window sizes.
    """

    def __init__(
        self,
        store: Store,
        initial_load_g: Mapping[str, float],
        contacts: Sequence[PlateContact],
        *,
        start: float,
        seed: int,
        params: LoadCellParams | None = None,
        faults: LoadCellFaults | None = None,
    ) -> None:
        params = params or LoadCellParams()
        faults = faults or LoadCellFaults()
        ids = [p.id for p in store.plates]
        known = set(ids)
        unknown = sorted(set(initial_load_g) - known | {c.plate for c in contacts} - known)
        if unknown:
            raise ValueError(f"unknown plate(s): {', '.join(unknown[:5])}")
        bad = [c for c in contacts if not c.t_end >= c.t_start]
        if bad:
            raise ValueError(f"contact on {bad[0].plate} ends before it starts")
        seeds = np.random.SeedSequence(seed).spawn(2)
        setup_rng = np.random.default_rng(seeds[0])
        n = len(ids)
        setup = _PlateSetup(
            phase=setup_rng.random(n),
            tare=setup_rng.uniform(*params.tare_g, n),
            noise_sd=_noise_sds(setup_rng.random(n), params.noise_sd_quantiles),
            level=np.array([float(initial_load_g.get(i, 0.0)) for i in ids]),
        )
        by_hz: dict[float, list[int]] = {}
        for i, plate in enumerate(store.plates):
            by_hz.setdefault(plate.hz, []).append(i)
        group_seeds = seeds[1].spawn(len(by_hz))
        self._groups: list[_PlateGroup] = []
        for (_, rows), group_seed in zip(sorted(by_hz.items()), group_seeds, strict=True):
            members = {ids[r] for r in rows}
            self._groups.append(
                _PlateGroup(
                    [store.plates[r] for r in rows],
                    setup.take(rows),
                    [c for c in contacts if c.plate in members],
                    start,
                    np.random.default_rng(group_seed),
                    params,
                    faults,
                )
            )
        self._pending_t: list[FloatArray] = []
        self._pending_lines: list[bytes] = []
        self._t = start

    def render(self, t0: float, t1: float) -> LineChunk:
        """The lines whose message time is in [t0, t1), sorted by time.

        Windows must move forward; lines before ``t0`` not yet returned are discarded.
        """
        if t0 < self._t or t1 < t0:
            raise ValueError(f"window [{t0}, {t1}) does not follow {self._t}")
        self._t = t1
        for group in self._groups:
            while group.horizon < t1:
                times, lines = group.render_block()
                self._pending_t.append(times)
                self._pending_lines += lines
        t = np.concatenate(self._pending_t) if self._pending_t else np.zeros(0)
        order = np.argsort(t, kind="stable")
        t = t[order]
        lo, hi = np.searchsorted(t, [t0, t1])
        pending = self._pending_lines
        out = LineChunk(t[lo:hi], [pending[i] for i in order[lo:hi].tolist()])
        self._pending_t = [t[hi:]]
        self._pending_lines = [pending[i] for i in order[hi:].tolist()]
        return out

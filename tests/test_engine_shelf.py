"""The shelf-event detector on synthetic load-cell streams (and on the simulator's, if present).

``render`` below is this file's own small signal model, deliberately independent of
``walkout.sim.loadcell``: 60 Hz samples in messages of 12 with jittered stamps, AR(1) noise,
repeated readings, tare drift, press spikes, linear steps, resting hands, nulls and drops.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from walkout.domain.messages import WeightMsg, parse_message
from walkout.domain.store import Store
from walkout.engine.shelf import (
    PlateDetector,
    ShelfDetector,
    ShelfEvent,
    ShelfParams,
    ShelfStats,
    range_factor,
)
from walkout.sim.timeline import PlateContact

T0 = 1_700_000_000.0
HZ = 60.0
N = 12
PERIOD = N / HZ
PARAMS = ShelfParams()


@dataclass(frozen=True)
class Signal:
    """How one plate's stream looks apart from its contacts."""

    sd: float = 0.8
    tare: float = 1500.0
    drift_g_per_min: float = 0.0
    walk_g_per_sqrt_s: float = 0.0
    ar: float = 0.3
    repeat_rate: float = 0.05
    null_rate: float = 0.0
    drop_rate: float = 0.0
    jitter: float = 0.02


def _ramp(t: np.ndarray, a: float, b: float) -> np.ndarray:
    if b <= a:
        return (t >= a).astype(float)
    return np.clip((t - a) / (b - a), 0.0, 1.0)


def contact_profile(c: PlateContact, t: np.ndarray) -> np.ndarray:
    """Press (a 0.1 s half sine), then a linear step to ``delta_g`` by ``t_end``, plus a rest
    of ``hold_g`` with 0.15 s edges over the whole contact."""
    out = np.zeros_like(t)
    t_step = c.t_start
    if c.press_g:
        t_step = c.t_start + min(0.1, 0.4 * (c.t_end - c.t_start))
        inside = (t >= c.t_start) & (t < t_step)
        out += np.where(
            inside, c.press_g * np.sin(np.pi * (t - c.t_start) / (t_step - c.t_start)), 0
        )
    out += c.delta_g * _ramp(t, t_step, c.t_end)
    if c.hold_g:
        edge = min(0.15, (c.t_end - c.t_start) / 2)
        up = _ramp(t, c.t_start, c.t_start + edge)
        down = _ramp(t, c.t_end - edge, c.t_end)
        out += c.hold_g * (up - down)
    return out


def render(
    contacts: Sequence[PlateContact],
    duration: float,
    sig: Signal,
    seed: int,
    plate: str = "P1",
) -> list[WeightMsg]:
    """The weight messages of one plate over ``duration`` seconds from ``T0``."""
    rng = np.random.default_rng(seed)
    m = int(duration / PERIOD)
    t_nom = T0 + np.arange(m) * PERIOD + rng.uniform(0, PERIOD)
    t = t_nom[:, None] + np.arange(N) / HZ
    load = sig.tare + sig.drift_g_per_min * (t - T0) / 60.0
    walk = np.cumsum(rng.standard_normal(m)) * sig.walk_g_per_sqrt_s * math.sqrt(PERIOD)
    load = load + walk[:, None]
    for c in contacts:
        load = load + contact_profile(c, t)
    white = rng.standard_normal(m * N)
    noise = lfilter([math.sqrt(1 - sig.ar**2)], [1, -sig.ar], white) * sig.sd
    g = np.round(load.reshape(-1) + noise, 1)
    for i in np.flatnonzero(rng.random(m * N) < sig.repeat_rate).tolist():
        if i:
            g[i] = g[i - 1]
    values: list[float | None] = list(g.tolist())
    for i in np.flatnonzero(rng.random(m * N) < sig.null_rate).tolist():
        values[i] = None
    stamps = np.round(t_nom + rng.uniform(-sig.jitter, sig.jitter, m), 3)
    keep = rng.random(m) >= sig.drop_rate
    return [
        WeightMsg(plate=plate, t=float(stamps[k]), hz=HZ, g=values[k * N : (k + 1) * N])
        for k in range(m)
        if keep[k]
    ]


def run(
    msgs: Sequence[WeightMsg], params: ShelfParams = PARAMS, plates: Sequence[str] = ("P1",)
) -> tuple[list[ShelfEvent], ShelfDetector]:
    det = ShelfDetector(plates, params)
    events = [e for m in msgs for e in det.feed(m)]
    end = max((m.t for m in msgs), default=T0) + 1.0
    return events + det.flush(end), det


def pick(t: float, delta: float, press: float = 30.0, hold: float = 0.0) -> PlateContact:
    return PlateContact("P1", t, t + 0.3, delta, press_g=press, hold_g=hold, kind="pick")


def put(t: float, delta: float) -> PlateContact:
    return PlateContact("P1", t, t + 0.3, delta, kind="put")


def min_step(sd: float) -> float:
    """The smallest change the detector must find on a plate with noise ``sd``."""
    return max(5.0, 5.0 * sd)


def assert_matches(event: ShelfEvent, c: PlateContact, sd: float) -> None:
    """One event explains one contact: size, timing and latency."""
    assert event.delta_g == pytest.approx(c.delta_g, abs=1.5 * sd + 0.5)
    assert abs(event.delta_g - c.delta_g) <= 5.0 * event.sd_g + 0.5
    assert c.t_start - 0.25 <= event.t_start <= c.t_start + 0.3
    assert c.t_end - 0.2 <= event.t_end <= c.t_end + 0.3
    wait = PARAMS.rise_confirm_s if c.delta_g > 0 else 0.0
    assert event.t_emit - c.t_end <= wait + 0.7


NOISES = [0.3, 0.8, 3.0, 6.0]


@pytest.mark.parametrize("sd", NOISES)
@pytest.mark.parametrize("factor", [1.0, 3.0, 40.0])
@pytest.mark.parametrize("sign", [-1, 1])
def test_one_event_per_step(sd: float, factor: float, sign: int) -> None:
    c = (pick if sign < 0 else put)(10.0 + T0, sign * factor * min_step(sd))
    events, det = run(render([c], 25.0, Signal(sd=sd), seed=int(sd * 10 + factor)))
    assert len(events) == 1, events
    assert_matches(events[0], c, sd)
    # A 30 g press stands out of noise up to ~3 g SD; a put's overshoot is no press.
    if sign > 0 or sd <= 3.0:
        assert events[0].press_seen == (sign < 0)
    assert det.stats.events == 1


@pytest.mark.parametrize("sd", NOISES)
def test_pure_noise_and_fast_drift_give_no_event(sd: float) -> None:
    # Drift 10x faster than real plates, plus a random walk, nulls and lost messages.
    sig = Signal(
        sd=sd, drift_g_per_min=2.0, walk_g_per_sqrt_s=0.2, null_rate=0.005, drop_rate=0.005
    )
    events, det = run(render([], 600.0, sig, seed=7))
    assert events == []
    assert det.stats.null_samples > 0
    assert det.stats.gaps > 0


@pytest.mark.parametrize("sd", NOISES)
def test_noise_is_estimated(sd: float) -> None:
    _, det = run(render([], 60.0, Signal(sd=sd), seed=3))
    # The range of correlated, repeated readings slightly understates the marginal SD.
    assert 0.7 * sd <= det.plate("P1").noise_sd <= 1.1 * sd


@pytest.mark.parametrize("hold", [150.0, 400.0])
@pytest.mark.parametrize("seconds", [1.0, 3.0, 5.5])
def test_resting_hand_is_no_event(hold: float, seconds: float) -> None:
    c = PlateContact("P1", T0 + 5.0, T0 + 5.0 + seconds, 0.0, hold_g=hold, kind="lean")
    events, det = run(render([c], 20.0, Signal(sd=1.0), seed=11))
    assert events == []
    assert det.stats.quiet_episodes >= 1


@pytest.mark.parametrize("press", [10.0, 30.0, 80.0])
def test_touch_without_taking_is_no_event(press: float) -> None:
    c = PlateContact("P1", T0 + 5.0, T0 + 5.15, 0.0, press_g=press, kind="touch")
    events, det = run(render([c], 12.0, Signal(sd=0.8), seed=12))
    assert events == []
    assert det.stats.episodes == (press >= 30.0)


def test_single_wild_sample_is_no_event() -> None:
    msgs = render([], 10.0, Signal(sd=0.8), seed=5)
    g = list(msgs[20].g)
    g[4] = (g[4] or 0.0) + 900.0
    msgs[20] = msgs[20].model_copy(update={"g": g})
    events, det = run(msgs)
    assert events == []
    assert det.stats.episodes == 1


def test_two_hands_at_once_give_their_net_change() -> None:
    a = pick(T0 + 5.0, -200.0)
    b = PlateContact("P1", T0 + 5.1, T0 + 5.5, -120.0, press_g=20.0, kind="pick")
    events, _ = run(render([a, b], 15.0, Signal(sd=0.8), seed=13))
    assert len(events) == 1
    assert events[0].delta_g == pytest.approx(-320.0, abs=1.5)
    assert events[0].t_start <= a.t_start + 0.1
    assert events[0].t_end >= b.t_end - 0.2


def test_back_to_back_picks_are_two_events() -> None:
    a, b = pick(T0 + 5.0, -200.0), pick(T0 + 6.5, -50.0)
    events, _ = run(render([a, b], 15.0, Signal(sd=0.8), seed=14))
    assert [round(e.delta_g) for e in events] == [-200, -50]


def test_pick_while_a_hand_rests_is_the_pick_alone() -> None:
    lean = PlateContact("P1", T0 + 5.0, T0 + 9.0, 0.0, hold_g=350.0, kind="lean")
    take = pick(T0 + 6.5, -120.0, press=0.0)
    events, _ = run(render([lean, take], 20.0, Signal(sd=0.8), seed=15))
    assert len(events) == 1
    assert events[0].delta_g == pytest.approx(-120.0, abs=1.5)
    assert events[0].hold_seen
    assert events[0].t_emit - lean.t_end <= 0.7


def test_put_that_is_taken_back_soon_is_no_event() -> None:
    # A rise that returns within the confirmation window is indistinguishable from a rest.
    events, _ = run(render([put(T0 + 5.0, 300.0), pick(T0 + 8.0, -300.0)], 20.0, Signal(), seed=16))
    assert events == []


def test_a_put_is_confirmed_once_the_hand_has_left() -> None:
    c = put(T0 + 5.0, 250.0)
    det = ShelfDetector(["P1", "P2"])
    t_free = c.t_end + 0.4  # the hand left then (someone watching the hands says so)
    early = None
    for m in render([c], 12.0, Signal(), seed=22):
        assert det.feed(m) == []  # the timer alone would wait rise_confirm_s
        if m.t > c.t_end + 0.4 and early is None:
            (rise,) = det.pending()
            assert rise.plate == "P1"
            assert rise.delta_g == pytest.approx(250.0, abs=1.5)
            assert c.t_end - 0.2 <= rise.t_settled <= c.t_end + 0.3
            assert det.confirm("P2", t_free, m.t) is None  # a still plate has nothing pending
            event = det.confirm("P1", t_free, m.t)
            if rise.t_last < t_free + PARAMS.confirm_hold_s:
                assert event is None  # the raised load is not seen long enough after yet
                continue
            assert event is not None
            early = event
            assert event.delta_g == pytest.approx(250.0, abs=1.5)
            assert event.t_emit == m.t
            assert det.pending() == []
    assert early is not None
    assert early.t_emit - c.t_end <= 1.0
    assert det.flush(T0 + 13.0) == []


def test_a_resting_hand_is_never_confirmed() -> None:
    lean = PlateContact("P1", T0 + 5.0, T0 + 8.0, 0.0, hold_g=300.0, kind="lean")
    det = ShelfDetector(["P1"])
    seen_pending = False
    for m in render([lean], 14.0, Signal(), seed=23):
        assert det.feed(m) == []
        seen_pending |= bool(det.pending())
        # The hand leaves at 8 s: from then on there is nothing left to confirm.
        if m.t > lean.t_end + 0.4:
            assert det.pending() == []
            assert det.confirm("P1", lean.t_end + 0.1, m.t) is None
    assert seen_pending
    assert det.flush(T0 + 15.0) == []


def test_pick_across_lost_messages() -> None:
    c = pick(T0 + 5.0, -80.0)
    msgs = [m for m in render([c], 12.0, Signal(sd=0.8), seed=17) if not T0 + 4.7 < m.t < T0 + 5.6]
    events, det = run(msgs)
    assert len(events) == 1
    assert events[0].delta_g == pytest.approx(-80.0, abs=1.5)
    assert events[0].t_start <= c.t_start
    assert det.stats.gaps == 1


def test_dead_plate_then_pick() -> None:
    msgs = render([pick(T0 + 8.0, -60.0)], 15.0, Signal(sd=0.8), seed=18)
    msgs = [m.model_copy(update={"g": [None] * N}) if T0 + 3 < m.t < T0 + 6 else m for m in msgs]
    events, det = run(msgs)
    assert [round(e.delta_g) for e in events] == [-60]
    assert det.stats.null_samples >= 14 * N


def test_bad_messages_are_counted_and_dropped() -> None:
    c = pick(T0 + 5.0, -40.0)
    msgs = render([c], 10.0, Signal(sd=0.5), seed=19)
    stream = list(msgs[:10])
    stream.append(msgs[9])  # a duplicate
    stream.append(msgs[3])  # time going backwards
    stream.append(WeightMsg(plate="nope", t=T0 + 3.0, hz=HZ, g=[1.0] * N))
    garbage = msgs[10].model_copy(update={"g": [math.nan, math.inf, None, -1e12, *msgs[10].g[4:]]})
    stream.append(garbage)
    stream += msgs[11:]
    events, det = run(stream)
    assert [round(e.delta_g) for e in events] == [-40]
    s = det.stats
    assert (s.duplicates, s.backwards, s.unknown_plate) == (1, 1, 1)
    assert s.bad_samples == 3
    assert s.null_samples == 1
    assert s.messages == len(stream)


def test_flush_reports_an_unconfirmed_put_and_nothing_on_a_still_plate() -> None:
    msgs = render([put(T0 + 5.0, 250.0)], 7.0, Signal(), seed=20)
    det = ShelfDetector(["P1", "P2"])
    assert [e for m in msgs for e in det.feed(m)] == []
    assert det.open_since("P1") == pytest.approx(T0 + 5.0, abs=0.2)
    assert det.open_since("P2") is None
    events = det.flush(T0 + 7.5)
    assert [round(e.delta_g) for e in events] == [250]
    assert events[0].t_emit == T0 + 7.5
    assert det.flush(T0 + 8.0) == []
    assert det.open_since("P1") is None


def test_many_plates_interleaved() -> None:
    streams = []
    for i in range(5):
        pid = f"P{i}"
        c = PlateContact(pid, T0 + 3 + i, T0 + 3.3 + i, -(i + 1) * 50.0, press_g=20.0)
        streams += render([c], 12.0, Signal(sd=0.5 + i), seed=30 + i, plate=pid)
    streams.sort(key=lambda m: m.t)
    events, _ = run(streams, plates=[f"P{i}" for i in range(5)])
    assert sorted(e.plate for e in events) == [f"P{i}" for i in range(5)]
    for e in events:
        i = int(e.plate[1:])
        assert e.delta_g == pytest.approx(-(i + 1) * 50.0, abs=1.5 * (0.5 + i) + 0.5)


def test_range_factor_matches_known_values() -> None:
    # Control-chart constants d2 for n = 2, 5 and 12.
    assert range_factor(2) == pytest.approx(1.128, abs=1e-3)
    assert range_factor(5) == pytest.approx(2.326, abs=1e-3)
    assert range_factor(12) == pytest.approx(3.258, abs=1e-3)


# Properties -------------------------------------------------------------------------------


@st.composite
def stepped_streams(draw: st.DrawFn) -> tuple[list[PlateContact], float, int]:
    sd = draw(st.floats(0.3, 6.0))
    n = draw(st.integers(1, 3))
    contacts = []
    for k in range(n):
        size = min_step(sd) * draw(st.floats(1.0, 60.0))
        sign = draw(st.sampled_from([-1, 1]))
        t = T0 + 4.0 + 9.0 * k + draw(st.floats(0.0, 1.0))
        contacts.append((pick if sign < 0 else put)(t, sign * size))
    return contacts, sd, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=30, deadline=None)
@given(stepped_streams())
def test_property_every_step_found_once(case: tuple[list[PlateContact], float, int]) -> None:
    contacts, sd, seed = case
    sig = Signal(sd=sd, walk_g_per_sqrt_s=0.07, null_rate=0.003, drop_rate=0.003)
    events, _ = run(render(contacts, 9.0 * len(contacts) + 10.0, sig, seed))
    assert len(events) == len(contacts)
    for e, c in zip(events, contacts, strict=True):
        assert e.delta_g == pytest.approx(c.delta_g, abs=1.5 * sd + 0.5)
        # Within the hand's contact (a press can hide where a near-threshold change began).
        assert c.t_start - 0.3 <= e.t_start <= c.t_end + 0.3


@settings(max_examples=20, deadline=None)
@given(
    st.floats(0.2, 8.0),
    st.floats(-5.0, 5.0),
    st.floats(0.0, 0.3),
    st.integers(0, 2**32 - 1),
)
def test_property_no_event_on_noise_and_drift(
    sd: float, drift: float, walk: float, seed: int
) -> None:
    sig = Signal(sd=sd, drift_g_per_min=drift, walk_g_per_sqrt_s=walk, null_rate=0.003)
    events, _ = run(render([], 60.0, sig, seed))
    assert events == []


garbage_samples = st.lists(
    st.one_of(
        st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**9), 10**9)
    ),
    min_size=0,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-1e12, 1e12), st.just(math.nan), st.just(math.inf)),
            st.one_of(st.floats(-100.0, 1e4), st.just(60.0)),
            garbage_samples,
        ),
        max_size=40,
    )
)
def test_property_garbage_never_crashes(
    msgs: list[tuple[float, float, list[float | None]]],
) -> None:
    stats = ShelfStats()
    det = PlateDetector("P1", stats=stats)
    for t, hz, g in msgs:
        event = det.feed(t, hz, g)
        assert event is None or math.isfinite(event.delta_g)
    last = det.flush(1e13)
    assert last is None or math.isfinite(last.delta_g)
    assert stats.events <= len(msgs) + 1


# Against the simulator's load-cell model ----------------------------------------------------


def _small_store(n: int) -> Store:
    return Store.model_validate(
        {
            "version": 1,
            "id": "s",
            "name": "S",
            "currency": "USD",
            "floor": [[0, 0], [10, 0], [10, 10], [0, 10]],
            "gates": [{"id": "g", "kind": "both", "area": [[0, 0], [1, 0], [1, 1]]}],
            "products": [{"sku": "a", "name": "A", "price": 1, "weight_g": 300}],
            "plates": [{"id": f"P{i}", "box": [[0, 0, 0], [1, 1, 1]]} for i in range(n)],
            "facings": [{"sku": "a", "plates": [f"P{i}" for i in range(n)]}],
        }
    )


def test_finds_exactly_the_simulated_contacts() -> None:
    loadcell = pytest.importorskip("walkout.sim.loadcell")
    n = 8
    store = _small_store(n)
    contacts = []
    for i in range(n):
        t, pid = T0 + 5.0 + 0.7 * i, f"P{i}"
        size = 40.0 + 45.0 * i
        contacts += [
            PlateContact(pid, t, t + 0.3, -size, press_g=25.0, kind="pick"),
            PlateContact(pid, t + 10, t + 13, 0.0, hold_g=250.0, kind="lean"),
            PlateContact(pid, t + 20, t + 20.12, 0.0, press_g=20.0, kind="touch"),
            PlateContact(pid, t + 30, t + 30.3, size, kind="put"),
        ]
    renderer = loadcell.LoadCellRenderer(store, {}, contacts, start=T0, seed=4)
    msgs = [parse_message(line) for line in renderer.render(T0, T0 + 50.0).lines]
    det = ShelfDetector.for_store(store)
    events = [e for m in msgs if isinstance(m, WeightMsg) for e in det.feed(m)]
    events += det.flush(T0 + 50.0)
    expected = sorted((c.plate, c.delta_g) for c in contacts if c.delta_g)
    found = sorted((e.plate, e.delta_g) for e in events)
    assert [p for p, _ in found] == [p for p, _ in expected]
    for (_, got), (_, want) in zip(found, expected, strict=True):
        # The simulator's noise SD reaches ~9 g on rare plates.
        assert got == pytest.approx(want, abs=max(1.5, 0.02 * abs(want)) + 3.0)
    for e in events:
        c = next(c for c in contacts if c.plate == e.plate and c.delta_g * e.delta_g > 0)
        wait = PARAMS.rise_confirm_s if c.delta_g > 0 else 0.0
        assert e.t_emit - c.t_end <= wait + 0.7


# Speed report -----------------------------------------------------------------------------


def test_speed_report_still_plates(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints CPU µs per message for still plates, without and with JSON parsing (run with -s
    to see it); asserts no timing."""
    msgs: list[WeightMsg] = []
    for i in range(40):
        sig = Signal(sd=[0.3, 0.8, 3.0][i % 3], null_rate=0.002, walk_g_per_sqrt_s=0.07)
        msgs += render([], 60.0, sig, seed=100 + i, plate=f"P{i}")
    msgs.sort(key=lambda m: m.t)
    lines = [m.model_dump_json().encode() for m in msgs]
    split = len(msgs) // 4
    det = ShelfDetector(f"P{i}" for i in range(40))
    for m in msgs[:split]:
        det.feed(m)
    feed = det.feed
    start = time.process_time()
    for m in msgs[split:]:
        feed(m)
    detect = (time.process_time() - start) / (len(msgs) - split)
    det = ShelfDetector(f"P{i}" for i in range(40))
    feed = det.feed
    start = time.process_time()
    for line in lines:
        msg = parse_message(line)
        if isinstance(msg, WeightMsg):
            feed(msg)
    total = (time.process_time() - start) / len(lines)
    assert det.stats.events == 0
    assert det.stats.messages == len(lines)
    with capsys.disabled():
        print(
            f"\nshelf detector, still plates: {detect * 1e6:.2f} µs/message;"
            f" with parse_message: {total * 1e6:.2f} µs/message ({len(lines)} messages)"
        )


def test_params_are_used() -> None:
    # A stricter threshold hides a step the default finds.
    c = pick(T0 + 5.0, -20.0)
    msgs = render([c], 10.0, Signal(sd=0.5), seed=21)
    assert len(run(msgs)[0]) == 1
    assert run(msgs, replace(PARAMS, event_min_g=30.0))[0] == []

"""The engine's live floor and the evidence staff review: weight traces and who was near.

One short simulated run (track mode, one gondola of the corner store) is replayed with a review
threshold above 1, so that every change is "uncertain" and carries the review evidence; the
evidence is checked against the recording and the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from test_engine_replay import STORE
from walkout.domain.events import CartEvent, ItemAdded, ItemRemoved, VisitOpened
from walkout.domain.floor import FloorView
from walkout.domain.messages import GateMsg, WeightMsg, parse_message
from walkout.engine.core import Engine, EngineConfig
from walkout.engine.shelf import STILL_MESSAGES, PlateDetector, ShelfParams
from walkout.recording import find_recording, iter_lines
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario


@dataclass(frozen=True)
class Played:
    events: list[CartEvent]
    views: list[FloorView]
    weights: dict[str, list[WeightMsg]]
    tokens: set[str]


def play(run: Path, config: EngineConfig) -> Played:
    """Replay ``run``, taking a floor view every half second of stream time."""
    engine = Engine(STORE, config)
    events: list[CartEvent] = []
    views: list[FloorView] = []
    weights: dict[str, list[WeightMsg]] = {}
    tokens: set[str] = set()
    next_view = 0.0
    for line in iter_lines(find_recording(run)):
        msg = parse_message(line)
        if isinstance(msg, WeightMsg):
            weights.setdefault(msg.plate, []).append(msg)
        elif isinstance(msg, GateMsg):
            tokens.add(msg.token)
        events += engine.feed(msg)
        if msg.t >= next_view:
            views.append(engine.floor())
            next_view = msg.t + 0.5
    events += engine.finish()
    return Played(events, views, weights, tokens)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("floor")
    simulate(STORE, get_scenario("quiet"), 7, out, minutes=0.5, shoppers=3, vision="track")
    return out


@pytest.fixture(scope="module")
def reviewed(run: Path) -> Played:
    """Every change below the threshold: every one carries the review evidence."""
    return play(run, EngineConfig(review_threshold=1.01))


def items(played: Played) -> list[ItemAdded | ItemRemoved]:
    return [e for e in played.events if isinstance(e, ItemAdded | ItemRemoved)]


def test_the_floor_shows_tracked_people_with_their_gate_tokens(reviewed: Played) -> None:
    busy = [v for v in reviewed.views if v.people]
    assert busy, "shoppers were on the floor"
    assert all(v.t >= 0 for v in reviewed.views)
    times = [v.t for v in reviewed.views]
    assert times == sorted(times)
    tokens = {p.token for v in busy for p in v.people if p.token is not None}
    assert tokens
    assert tokens <= reviewed.tokens
    xs = [p.x for v in busy for p in v.people]
    ys = [p.y for v in busy for p in v.people]
    (x0, y0), (x1, y1) = np.min(STORE.floor, axis=0), np.max(STORE.floor, axis=0)
    assert x0 - 0.5 <= min(xs)
    assert max(xs) <= x1 + 0.5
    assert y0 - 0.5 <= min(ys)
    assert max(ys) <= y1 + 0.5


def test_an_engine_without_messages_shows_an_empty_floor() -> None:
    assert Engine(STORE).floor() == FloorView(t=0.0, people=[])


def test_each_uncertain_change_carries_its_weight_trace_showing_the_change(
    reviewed: Played,
) -> None:
    changes = items(reviewed)
    assert len(changes) >= 3
    for event in changes:
        ev = event.evidence
        trace = ev.trace
        assert trace is not None, event
        assert trace.dt == pytest.approx(0.05)
        assert trace.t0 <= ev.t_start
        assert trace.t0 + trace.dt * (len(trace.grams) - 1) >= ev.t_end
        before = [g for i, g in enumerate(trace.grams) if trace.t0 + i * trace.dt < ev.t_start]
        after = trace.grams[-3:]
        assert len(before) >= 5
        step = float(np.median(after) - np.median(before[:5]))
        assert step == pytest.approx(ev.delta_g, abs=max(3.0, 0.05 * abs(ev.delta_g)))


def test_the_trace_is_the_plates_recorded_load(reviewed: Played) -> None:
    event = items(reviewed)[0]
    trace = event.evidence.trace
    assert trace is not None
    msgs = reviewed.weights[event.evidence.plate]
    times = np.concatenate([m.t + np.arange(len(m.g)) / m.hz for m in msgs])
    grams = np.concatenate([[np.nan if g is None else g for g in m.g] for m in msgs])
    for i, g in enumerate(trace.grams):
        t = trace.t0 + i * trace.dt
        near = grams[(np.abs(times - t) <= 0.25) & ~np.isnan(grams)]
        assert near.min() - 0.1 <= g <= near.max() + 0.1


def test_the_people_near_name_the_attributed_person_with_their_chance(reviewed: Played) -> None:
    for event in items(reviewed):
        ev = event.evidence
        assert ev.people is not None
        chosen = [p for p in ev.people if p.person == ev.person]
        assert len(chosen) == 1, ev.people
        assert chosen[0].p == pytest.approx(ev.person_p, abs=1e-4)
        assert chosen[0].hand_m is not None
        assert chosen[0].hand_m <= 0.3
        assert sum(p.p or 0.0 for p in ev.people if p.person != ev.person) <= 1.0


def test_sure_changes_carry_no_review_evidence_and_the_events_are_the_same(
    run: Path, reviewed: Played
) -> None:
    plain = play(run, EngineConfig(review_threshold=0.0))
    assert all(e.evidence.trace is None and e.evidence.people is None for e in items(plain))
    bare = {"trace": None, "people": None}
    stripped = [
        e.model_copy(update={"evidence": e.evidence.model_copy(update=bare)})
        for e in items(reviewed)
    ]
    assert stripped == items(plain)
    assert sum(isinstance(e, VisitOpened) for e in plain.events) >= 2


def test_a_plate_keeps_the_level_before_a_change_and_the_last_trace_s_of_changes() -> None:
    det = PlateDetector("p", ShelfParams(trace_s=2.0))
    for i in range(50):  # 10 s of a still plate, 5 messages a second
        det.feed(i * 0.2, 60.0, [500.0] * 12)
    assert det.trace(2.0, 6.0, 0.1) is None  # only the last STILL_MESSAGES are kept
    still = det.trace(0.2 * (50 - STILL_MESSAGES), 10.0, 0.1)
    assert still is not None
    assert set(still.grams) == {500.0}
    for i in range(50, 100):  # then 10 s of a load that never settles
        det.feed(i * 0.2, 60.0, [500.0 + 100.0 * (i % 2)] * 12)
    assert det.trace(11.0, 17.5, 0.1) is None  # older samples of the change are gone
    moving = det.trace(18.0, 20.0, 0.1)
    assert moving is not None
    assert (min(moving.grams), max(moving.grams)) == (500.0, 600.0)

"""The reorder buffer (a queue for messages in order, a heap for late ones): messages that
arrive shuffled within ``reorder_window_s`` give exactly the events of the ordered stream, and
the fast weight path gives exactly what the models give."""

from __future__ import annotations

import numpy as np
import pytest

from test_engine_replay import STORE
from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent
from walkout.domain.messages import parse_message
from walkout.engine.core import Engine
from walkout.recording import find_recording, iter_lines
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = tmp_path_factory.mktemp("reorder")
    simulate(STORE, get_scenario("busy"), 11, out, minutes=0.5, shoppers=4, vision="track")
    return list(iter_lines(find_recording(out)))


def play(feed_lines: list[bytes], engine: Engine) -> list[bytes]:
    events: list[CartEvent] = []
    for line in feed_lines:
        events += engine.feed_line(line)
    events += engine.finish()
    return [CART_EVENT_ADAPTER.dump_json(e) for e in events]


def test_the_run_has_cart_events(lines: list[bytes]) -> None:
    assert any(b'"item_added"' in e for e in play(lines, Engine(STORE)))


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_within_the_window_gives_the_same_events(lines: list[bytes], seed: int) -> None:
    """Each distinct time is delayed by up to 0.15 s (messages of one time keep their order,
    which breaks ties): many messages arrive after later ones, none too late."""
    rng = np.random.default_rng(seed)
    times = np.array([float(parse_message(line).t) for line in lines])
    distinct, group = np.unique(times, return_inverse=True)
    arrival = times + rng.uniform(0.0, 0.15, len(distinct))[group]
    order = np.argsort(arrival, kind="stable")
    shuffled = [lines[i] for i in order]
    assert np.sum(np.diff(times[order]) < 0) > len(lines) // 10

    ordered_engine, shuffled_engine = Engine(STORE), Engine(STORE)
    expected = play(lines, ordered_engine)
    assert play(shuffled, shuffled_engine) == expected
    assert shuffled_engine.stats == ordered_engine.stats
    assert shuffled_engine.shelf.stats == ordered_engine.shelf.stats
    assert shuffled_engine.stats.late == 0


def test_the_fast_path_gives_what_the_models_give(lines: list[bytes]) -> None:
    fast, model = Engine(STORE), Engine(STORE)
    events: list[CartEvent] = []
    for line in lines:
        events += model.feed(parse_message(line))
    events += model.finish()
    assert play(lines, fast) == [CART_EVENT_ADAPTER.dump_json(e) for e in events]
    assert fast.stats == model.stats
    assert fast.shelf.stats == model.shelf.stats

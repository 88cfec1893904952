"""Feeding a recording in blocks (``Engine.feed_block``: plates at rest and pose frames in
compiled code) gives exactly what feeding it line by line gives: the same events, byte for byte,
and the same counts, on simulated stores and on streams of every fault the engine knows."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_engine_fuzz import PLATES, STORE, T0, weight_line
from test_engine_reorder import lines  # noqa: F401  (a fixture: a short simulated run)
from walkout.domain.events import CART_EVENT_ADAPTER, CartEvent
from walkout.engine import bulk
from walkout.engine.bulk import OutOfOrder, _number
from walkout.engine.core import Engine
from walkout.recording import find_recording, iter_lines
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario


def by_line(feed: list[bytes], engine: Engine) -> list[bytes]:
    events: list[CartEvent] = []
    for line in feed:
        if line and not line.isspace():
            events += engine.feed_line(line)
    events += engine.finish()
    return [CART_EVENT_ADAPTER.dump_json(e) for e in events]


def by_block(data: bytes, size: int, engine: Engine) -> list[bytes]:
    events: list[CartEvent] = []
    for i in range(0, len(data), size):
        events += engine.feed_block(data[i : i + size])
    events += engine.finish()
    return [CART_EVENT_ADAPTER.dump_json(e) for e in events]


@pytest.fixture(scope="module")
def pose_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Half a minute of a busy corner store, people seen as camera poses with descriptors."""
    out = tmp_path_factory.mktemp("pose")
    simulate(STORE, get_scenario("busy"), 12, out, minutes=0.5, shoppers=4, vision="pose")
    return list(iter_lines(find_recording(out)))


def assert_same(feed: list[bytes], size: int, sep: bytes = b"\n") -> Engine:
    one, bulk = Engine(STORE), Engine(STORE)
    expected = by_line(feed, one)
    try:
        assert by_block(sep.join(feed), size, bulk) == expected
    except OutOfOrder:  # only where a plate's messages go back in time
        assert plate_goes_back(feed)
        return bulk
    assert bulk.stats == one.stats
    assert bulk.shelf.stats == one.shelf.stats
    assert bulk.people.stats == one.people.stats
    assert bulk.receipts() == one.receipts()
    return bulk


def plate_goes_back(feed: list[bytes]) -> bool:
    last: dict[str, float] = {}
    for line in feed:
        try:
            msg = orjson.loads(line)
            plate, t = msg["plate"], float(msg["t"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if t < last.get(plate, -math.inf):
            return True
        last[plate] = max(t, last.get(plate, -math.inf))
    return False


@pytest.mark.parametrize("size", [301, 65_536, 1 << 22])
def test_a_simulated_store_in_blocks_gives_what_it_gives_line_by_line(
    lines: list[bytes],  # noqa: F811
    size: int,
) -> None:
    engine = assert_same(lines, size)
    assert engine.stats.shelf_events > 0
    assert engine.receipts().receipts


def test_shuffled_within_the_window_in_blocks(lines: list[bytes]) -> None:  # noqa: F811
    rng = np.random.default_rng(3)
    times = np.array([orjson.loads(line)["t"] for line in lines])
    order = np.argsort(times + rng.uniform(0.0, 0.15, len(times)), kind="stable")
    shuffled = [lines[i] for i in order]
    engine = assert_same(shuffled, 8192)
    assert engine.stats.late == 0


def test_most_weight_lines_of_a_store_at_rest_never_reach_python(
    lines: list[bytes],  # noqa: F811
) -> None:
    """What the block path is for: weights of plates at rest are applied in compiled code,
    those with null samples too (their usable samples kept for traces)."""
    engine = Engine(STORE)
    parsed = parsed_gaps = 0
    feed_line = engine.feed_line

    def counting(line: bytes) -> list[CartEvent]:
        nonlocal parsed, parsed_gaps
        weight = line.startswith(b'{"type":"weight"')
        parsed += weight
        parsed_gaps += weight and b"null" in line
        return feed_line(line)

    engine.feed_line = counting  # type: ignore[method-assign]
    engine.feed_block(b"\n".join(lines), final=True)
    weights = [line for line in lines if line.startswith(b'{"type":"weight"')]
    gaps = sum(1 for line in weights if b"null" in line)
    assert parsed < len(weights) / 4
    assert gaps > 100
    assert parsed_gaps < gaps / 4
    assert engine.shelf.stats.null_samples >= gaps


@pytest.mark.parametrize("size", [301, 1 << 22])
def test_a_store_seen_in_poses_in_blocks_gives_what_it_gives_line_by_line(
    pose_lines: list[bytes], size: int
) -> None:
    engine = assert_same(pose_lines, size)
    assert engine.people.stats.detections > 0
    assert engine.receipts().receipts


def test_pose_frames_as_the_recorder_writes_them_never_reach_python(
    pose_lines: list[bytes],
) -> None:
    """What the frames' compiled path is for: no pose line is parsed in Python but the first
    (no message before it: nothing to measure its lead against)."""
    engine = Engine(STORE)
    parsed = []
    feed_line = engine.feed_line

    def counting(line: bytes) -> list[CartEvent]:
        if line.startswith(b'{"type":"pose"'):
            parsed.append(line)
        return feed_line(line)

    engine.feed_line = counting  # type: ignore[method-assign]
    engine.feed_block(b"\n".join(pose_lines), final=True)
    engine.finish()
    frames = [line for line in pose_lines if line.startswith(b'{"type":"pose"')]
    assert len(frames) > 1000
    assert parsed == frames[:1] or not parsed
    assert engine.people.stats.pose_messages == len(frames)


def test_frames_when_few_fit_at_once(
    pose_lines: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Room for two frames, three people and twenty descriptor values a scan: frames that do
    not fit wait for the next scan, and one that never fits goes to the engine whole."""
    monkeypatch.setattr(bulk, "_FRAMES", 2)
    monkeypatch.setattr(bulk, "_PEOPLE", 3)
    monkeypatch.setattr(bulk, "_APP_VALUES", 20)
    assert_same(pose_lines[: len(pose_lines) // 3], 65_536)


# -- every fault, formatted every way -----------------------------------------------------------


def number(draw: st.DrawFn, x: float) -> str:
    """``x`` as JSON, written one of the ways a device might."""
    how = draw(st.sampled_from(["repr", "fixed", "exp", "int", "long"]))
    if how == "fixed":
        return f"{x:.1f}"
    if how == "exp":
        return f"{x:e}"
    if how == "int" and x == int(x):
        return str(int(x))
    if how == "long":
        return f"{x:.12f}"
    return repr(x)


@st.composite
def weight_lines(draw: st.DrawFn) -> list[bytes]:
    """Plates resting at a level, lifted and put back, with nulls, repeats, gaps, times going
    backwards, unknown plates and lines that are not JSON at all."""
    out = []
    levels = {p: draw(st.floats(100.0, 20_000.0)) for p in PLATES}
    noise = draw(st.floats(0.0, 3.0))
    k = 0
    for _ in range(draw(st.integers(20, 80))):
        k += draw(st.sampled_from([1, 1, 1, 1, 2, 0, -1]))
        t = T0 + 0.2 * k + draw(st.sampled_from([0.0, 0.0, 0.001, 0.0004]))
        for p in PLATES:
            if draw(st.integers(0, 30)) == 0:
                levels[p] += draw(st.sampled_from([-350.0, 350.0, -2.0, 40.0]))
            rng = np.random.default_rng(draw(st.integers(0, 2**16)))
            g: list[float | None] = [
                round(levels[p] + noise * float(z), 1) for z in rng.standard_normal(12)
            ]
            if draw(st.integers(0, 40)) == 0:
                g[draw(st.integers(0, 11))] = None
            plate = p if draw(st.integers(0, 60)) else "nowhere"
            samples = ",".join("null" if x is None else number(draw, x) for x in g)
            line = f'{{"type":"weight","plate":"{plate}","t":{t!r},"hz":60,"g":[{samples}]}}'
            fault = draw(st.integers(0, 80))
            if fault == 0:
                line = line[: draw(st.integers(1, len(line) - 1))]
            elif fault == 1:
                line = line.replace('"hz":60', '"hz":"60"')
            elif fault == 2:
                line = line.replace('{"type":"weight",', '{ "type": "weight", ')
            out.append(line.encode())
        if k % 5 == 0:
            people = [{"id": "7", "head": [1.0, 4.0, 1.7], "hands": [[1.2, 4.0, 1.0]]}]
            out.append(orjson.dumps({"type": "track", "t": T0 + 0.2 * k, "people": people}))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feed=weight_lines(), size=st.integers(50, 5000), sep=st.sampled_from([b"\n", b"\r\n"]))
def test_any_stream_in_blocks_gives_what_it_gives_line_by_line(
    feed: list[bytes], size: int, sep: bytes
) -> None:
    gate = orjson.dumps({"type": "gate", "gate": "entry-1", "t": T0, "token": "T1"})
    assert_same([gate, *feed], size, sep)


@pytest.mark.parametrize("every", [1, 15])
def test_null_samples_at_rest_in_blocks_keep_the_trace_line_by_line_keeps(every: int) -> None:
    """Plates at rest with null samples in every message, or every 3 s (their usable samples
    kept in compiled code: more than fit, and older than the trace), a message of nulls only
    (a blind span), one out of the range of a load cell, then a lift and a put-back: the same
    events, counts and traces (every sample kept) as line by line."""
    rng = np.random.default_rng(every)
    feed = [orjson.dumps({"type": "gate", "gate": "entry-1", "t": T0, "token": "T1"})]
    for k in range(250):
        t = T0 + 0.2 * k
        for i, plate in enumerate(PLATES[:2]):
            level = 1000.0 + 500 * i - (350.0 if 150 <= k < 190 and i == 0 else 0.0)
            g: list[float | None] = np.round(level + rng.normal(0, 1.5, 12), 1).tolist()
            if k % every == 0:
                for j in rng.choice(12, size=rng.integers(1, 4), replace=False).tolist():
                    g[j] = None
            if k == 100:
                g = [None] * 12
            if k == 120:
                g[5] = 5e7
            msg = {"type": "weight", "plate": plate, "t": round(t, 3), "hz": 60, "g": g}
            feed.append(orjson.dumps(msg))
    bulk = assert_same(feed, 4096)
    one = Engine(STORE)
    by_line(feed, one)
    assert bulk.shelf.stats.null_samples > 250 // every
    assert bulk.shelf.stats.events >= 2
    for plate in PLATES[:2]:
        for t0 in (T0, T0 + 25.0, T0 + 38.0):
            assert bulk.shelf.trace(plate, t0, T0 + 50.0, 0.01) == one.shelf.trace(
                plate, t0, T0 + 50.0, 0.01
            )


def test_a_plate_message_behind_one_applied_at_once_is_refused_even_after_a_hand_back() -> None:
    """A plate at rest is lent; its message at 3.0 s is applied at once; one at 3.1 s with a
    sample fewer hands the plate back; then one at 2.95 s comes, within the window. Line by
    line it would be processed before the other two: in blocks that order is lost."""
    plate, other = PLATES[0], PLATES[1]
    stream = []
    for k in range(12):  # messages further apart than the reorder window, and another
        # plate's between them: the engine processes each before the next comes
        stream += [weight_line(plate, T0 + 0.25 * k, 1000.0)]
        stream += [weight_line(other, T0 + 0.25 * k + 0.22, 500.0)]
    shorter = orjson.loads(weight_line(plate, T0 + 3.1, 1000.0))
    del shorter["g"][3]
    stream += [
        weight_line(plate, T0 + 3.0, 1000.0),
        orjson.dumps(shorter),
        weight_line(plate, T0 + 2.95, 1000.0),
    ]
    with pytest.raises(OutOfOrder):
        Engine(STORE).feed_block(b"\n".join(stream) + b"\n")
    assert plate_goes_back(stream)


def test_switching_to_blocks_mid_stream_gives_the_same(lines: list[bytes]) -> None:  # noqa: F811
    one, mixed = Engine(STORE), Engine(STORE)
    expected = by_line(lines, one)
    half = len(lines) // 2
    events: list[CartEvent] = []
    for line in lines[:half]:
        events += mixed.feed_line(line)
    events += mixed.feed_block(b"\n".join(lines[half:]) + b"\n")
    events += mixed.finish()
    assert [CART_EVENT_ADAPTER.dump_json(e) for e in events] == expected
    assert mixed.stats == one.stats


FRAME_FAULTS = (
    "spaces", "order", "extra", "conf", "exp", "int", "digits", "app-null", "app-short",
    "app-none", "camera", "escaped", "back", "jump", "empty", "truncate", "crowd",
)  # fmt: skip


def mutate_frame(draw: st.DrawFn, line: bytes) -> bytes:
    """A pose frame written another way a device might, or broken."""
    msg = orjson.loads(line)
    people = msg["people"]
    how = draw(st.sampled_from(FRAME_FAULTS))
    person = people[draw(st.integers(0, len(people) - 1))] if people else None
    if how == "spaces":
        return orjson.dumps(msg).replace(b'","', b'", "').replace(b":", b": ")
    if how == "order":
        return orjson.dumps({"t": msg["t"], **msg})
    if how == "extra":
        return orjson.dumps({**msg, "frame": 7})
    if how == "truncate":
        return line[: draw(st.integers(1, len(line) - 1))]
    if how == "back":
        msg["t"] -= draw(st.sampled_from([0.05, 0.15, 5.0]))
    elif how == "jump":
        msg["t"] += 3600.0
    elif how == "empty":
        msg["people"] = []
    elif how == "camera":
        msg["camera"] = "nowhere"
    elif how == "escaped":
        return line.replace(b'"camera":"cam-', b'"camera":"cam\\u002d', 1)
    elif how == "crowd":
        msg["people"] = people * draw(st.integers(2, 9))
    elif person is not None:
        k = draw(st.integers(0, 16))
        if how == "conf":
            person["kp"][k][2] = draw(st.sampled_from([1.5, -0.25, 1.0, 0.0]))
        elif how in ("exp", "int", "digits"):
            x = float(person["kp"][k][0])
            text = {"exp": f"{x:e}", "int": str(round(x)), "digits": f"{x:.16f}"}[how]
            data = orjson.dumps(msg)
            old = orjson.dumps(person["kp"][k])
            new = old.replace(orjson.dumps(person["kp"][k][0]), text.encode(), 1)
            return data.replace(old, new, 1)
        elif how == "app-null":
            person["app"] = None
        elif how == "app-short" and person.get("app"):
            person["app"] = person["app"][:4]
        elif how == "app-none":
            person.pop("app", None)
    return orjson.dumps(msg)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), size=st.integers(200, 20_000), sep=st.sampled_from([b"\n", b"\n", b"\r\n"]))
def test_any_frames_in_blocks_give_what_they_give_line_by_line(
    pose_lines: list[bytes], data: st.DataObject, size: int, sep: bytes
) -> None:
    """A stretch of the pose run with frames written every way, broken, late or far ahead."""
    start = data.draw(st.integers(0, len(pose_lines) - 600))
    feed = list(pose_lines[start : start + 600])
    frames = [i for i, line in enumerate(feed) if line.startswith(b'{"type":"pose"')]
    for i in data.draw(st.lists(st.sampled_from(frames), max_size=12, unique=True)):
        feed[i] = mutate_frame(data.draw, feed[i])
    assert_same(feed, size, sep)


# -- numbers ------------------------------------------------------------------------------------


@given(x=st.floats(allow_nan=False, allow_infinity=False), digits=st.integers(0, 17))
def test_a_number_is_parsed_exactly_or_left_to_the_engine(x: float, digits: int) -> None:
    for text in (repr(x), f"{x:.{digits}f}", f"{x:.{digits}e}"):
        data = text.encode()
        value, end = _number(np.frombuffer(data, dtype=np.uint8), 0, len(data))
        if end >= 0:
            assert end == len(data)
            expected = msgspec.json.decode(data, type=float)
            assert value == expected
            assert math.copysign(1.0, value) == math.copysign(1.0, expected)


@given(x=st.integers(-(10**12), 10**12), decimals=st.integers(0, 3))
def test_readings_as_devices_write_them_are_parsed_here(x: int, decimals: int) -> None:
    text = f"{x / 10**decimals:.{decimals}f}".encode()
    value, end = _number(np.frombuffer(text, dtype=np.uint8), 0, len(text))
    assert end == len(text)
    assert value == float(text)

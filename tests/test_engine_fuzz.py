"""The engine never crashes on bad input: it rejects, counts and carries on."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walkout.engine.core import Engine
from walkout.storefile import load_store

STORE = load_store(Path(__file__).resolve().parents[1] / "examples" / "stores" / "corner.json")
PLATES = [p.id for p in STORE.plates[:4]]
T0 = 1_767_261_600.0


def weight_line(plate: str, t: float, grams: float) -> bytes:
    return orjson.dumps({"type": "weight", "plate": plate, "t": t, "hz": 60, "g": [grams] * 12})


def valid_stream(seconds: float = 3.0) -> list[bytes]:
    lines = [orjson.dumps({"type": "gate", "gate": "entry-1", "t": T0, "token": "T1"})]
    k = 0
    while k * 0.2 < seconds:
        t = T0 + k * 0.2
        lines += [weight_line(p, t, 1000.0 + i) for i, p in enumerate(PLATES)]
        people = [{"id": "7", "head": [1.0, 4.0, 1.7], "hands": [[1.2, 4.0, 1.0]]}]
        lines.append(orjson.dumps({"type": "track", "t": t, "people": people}))
        k += 1
    return lines


def mutate(line: bytes, how: str, data: st.DataObject) -> bytes:
    if how == "truncate":
        return line[: data.draw(st.integers(0, max(0, len(line) - 1)))]
    obj = orjson.loads(line)
    if how == "nan":
        return line.replace(b'"t":', b'"t":NaN,"x":', 1)
    if how == "wrong_type":
        key = data.draw(st.sampled_from(sorted(obj)))
        obj[key] = data.draw(st.sampled_from(["text", None, [], {}, -1, True]))
    elif how == "unknown_plate" and obj["type"] == "weight":
        obj["plate"] = "no-such-plate"
    elif how == "backwards":
        obj["t"] = obj["t"] - data.draw(st.floats(1.0, 1e6))
    elif how == "huge":
        obj["t"] = 1e300
    return orjson.dumps(obj)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_recordings_never_crash_and_rejections_are_counted(data: st.DataObject) -> None:
    lines = valid_stream()
    hows = ["truncate", "nan", "wrong_type", "unknown_plate", "backwards", "huge"]
    picks = data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=25, unique=True))
    kinds = {i: data.draw(st.sampled_from(hows)) for i in picks}
    fed = [mutate(line, kinds[i], data) if i in kinds else line for i, line in enumerate(lines)]
    engine = Engine(STORE)
    for line in fed:
        engine.feed_line(line)
    engine.finish()
    st_ = engine.stats
    assert st_.messages + st_.rejected == len(fed)
    assert st_.rejected >= sum(1 for how in kinds.values() if how in ("truncate", "nan"))
    for receipt in engine.receipts().receipts:
        assert math.isfinite(receipt.confidence)
        assert all(n > 0 for n in receipt.items.values())


def test_late_messages_are_counted_and_dropped() -> None:
    engine = Engine(STORE)
    for line in valid_stream(2.0):
        engine.feed_line(line)
    engine.feed_line(weight_line(PLATES[0], T0 - 50.0, 1000.0))
    assert engine.stats.late == 1


def test_a_clock_fault_does_not_poison_the_stream() -> None:
    engine = Engine(STORE)
    lines = valid_stream(3.0)
    for line in lines[:10]:
        engine.feed_line(line)
    engine.feed_line(weight_line(PLATES[0], T0 + 1e6, 1000.0))
    for line in lines[10:]:
        engine.feed_line(line)
    assert engine.stats.time_jumps == 1
    assert engine.stats.late == 0


def test_malformed_lines_are_counted_by_reason() -> None:
    engine = Engine(STORE)
    assert engine.feed_line(b'{"type": "weight", "plate": "x"') == []
    assert engine.feed_line(b'{"type": "spaceship", "t": 1}') == []
    assert engine.stats.rejected == 2
    assert sum(engine.stats.reject_reasons.values()) == 2

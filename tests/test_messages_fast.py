"""The fast path (``parse_fast``) agrees with the models (``parse_message``) exactly: what it
accepts the model accepts with the same values, bit for bit; it takes the weight and pose lines
the simulator, real plates and cameras write; whatever it declines, the engine still rejects
and counts as the model says."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walkout.domain.messages import (
    MessageError,
    PersonFields,
    PoseFields,
    PoseMsg,
    WeightFields,
    WeightMsg,
    parse_fast,
    parse_message,
)
from walkout.engine.core import Engine
from walkout.storefile import load_store

STORE = load_store(Path(__file__).resolve().parents[1] / "examples" / "stores" / "corner.json")

#: JSON number texts, including forms floats and big integers take.
NUMBER = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)


@st.composite
def valid_weight_line(draw: st.DrawFn) -> bytes:
    """A weight line the model accepts, with numbers written in varied forms."""
    t = draw(
        st.floats(0, 4e9).map(orjson.dumps)
        | st.integers(0, 2**62).map(orjson.dumps)
        | st.sampled_from([b"0", b"-0.0", b"1767261600.006", b"1.7e9"])
    )
    hz = draw(
        st.floats(0, 10_000, exclude_min=True).map(orjson.dumps)
        | st.integers(1, 10_000).map(orjson.dumps)
        | st.sampled_from([b"60", b"1e4", b"10000.0"])
    )
    plate = draw(st.text(min_size=1, max_size=128))
    sample = st.none() | st.floats(-1e12, 1e12).map(orjson.dumps) | st.just(b"-0.0")
    sample_texts = draw(st.lists(sample, min_size=1, max_size=24))
    g = b",".join(b"null" if s is None else s for s in sample_texts)
    fields = [
        b'"type":"weight"',
        b'"plate":' + orjson.dumps(plate),
        b'"t":' + t,
        b'"hz":' + hz,
        b'"g":[' + g + b"]",
    ]
    if draw(st.booleans()):
        fields.append(b'"extra":' + orjson.dumps(draw(JSON_VALUE)))
    order = draw(st.permutations(fields))
    return b"{" + b",".join(order) + b"}"


def number(lo: float, hi: float) -> st.SearchStrategy[bytes]:
    """A JSON number in ``[lo, hi]``, as a float or an integer."""
    return st.floats(lo, hi).map(orjson.dumps) | st.integers(int(lo), int(hi)).map(orjson.dumps)


@st.composite
def valid_pose_line(draw: st.DrawFn) -> bytes:
    """A pose line the model accepts: detections of 17 keypoints, some with descriptors."""
    people = []
    for _ in range(draw(st.integers(0, 3))):
        kp = [
            b"["
            + draw(number(-1e6, 1e6))
            + b","
            + draw(number(-1e6, 1e6))
            + b","
            + draw(number(0, 1))
            + b"]"
            for _ in range(17)
        ]
        person = [b'"kp":[' + b",".join(kp) + b"]"]
        app = draw(st.none() | st.lists(number(-10, 10), min_size=1, max_size=8))
        if app is not None or draw(st.booleans()):
            person.append(b'"app":' + (b"null" if app is None else b"[" + b",".join(app) + b"]"))
        people.append(b"{" + b",".join(draw(st.permutations(person))) + b"}")
    fields = [
        b'"type":"pose"',
        b'"camera":' + orjson.dumps(draw(st.text(min_size=1, max_size=128))),
        b'"t":' + draw(number(0, 4e9)),
        b'"people":[' + b",".join(people) + b"]",
    ]
    if draw(st.booleans()):
        fields.append(b'"extra":' + orjson.dumps(draw(JSON_VALUE)))
    return b"{" + b",".join(draw(st.permutations(fields))) + b"}"


@st.composite
def corrupted_pose_line(draw: st.DrawFn) -> bytes:
    """A pose line with a field, a detection or a keypoint replaced, or its bytes damaged."""
    line = draw(valid_pose_line())
    obj = orjson.loads(line)
    how = draw(st.sampled_from(["field", "person", "keypoint", "bytes"]))
    bad = draw(
        JSON_VALUE
        | st.sampled_from([True, "1", -0.5, 1.5, [], [0.1] * 513, [[0.0, 0.0, 0.5]] * 16, ""])
    )
    if how == "bytes":
        at = draw(st.integers(0, len(line) - 1))
        junk = draw(st.sampled_from([b"", b"NaN", b"Infinity", b"true", b'"', b"]", b"1e999"]))
        return line[:at] + junk + line[at + 1 :]
    if how == "field" or not obj["people"]:
        obj[draw(st.sampled_from(["type", "t", "camera", "people"]))] = bad
    elif how == "person":
        obj["people"][0][draw(st.sampled_from(["kp", "app"]))] = bad
    else:
        kp = obj["people"][0]["kp"]
        kp[draw(st.integers(0, 16))][draw(st.integers(0, 2))] = bad
    return orjson.dumps(obj)


@st.composite
def corrupted_weight_line(draw: st.DrawFn) -> bytes:
    """A weight line with one field replaced, removed or repeated, or its bytes damaged."""
    line = draw(valid_weight_line())
    how = draw(st.sampled_from(["replace", "drop", "repeat", "bytes", "number", "bounds"]))
    if how == "bytes":
        at = draw(st.integers(0, len(line) - 1))
        junk = draw(st.sampled_from([b"", b"NaN", b"Infinity", b"true", b'"', b"]", b"1e999"]))
        return line[:at] + junk + line[at + 1 :]
    obj = orjson.loads(line)
    key = draw(st.sampled_from(["type", "t", "hz", "plate", "g"]))
    if how == "drop":
        del obj[key]
        return orjson.dumps(obj)
    if how == "repeat":  # the same key twice: the last one counts
        text = orjson.dumps(obj)[:-1]
        return text + b"," + orjson.dumps(key) + b":" + orjson.dumps(draw(JSON_VALUE)) + b"}"
    if how == "number":  # a number where one goes, in any form, or a sample that is one
        num = draw(NUMBER).encode()
        if key == "g":
            num = b"[" + num + b"," + orjson.dumps(obj["g"])[1:]
        obj[key] = "@@"
        return orjson.dumps(obj).replace(b'"@@"', num, 1)
    if how == "bounds":
        edge: object = draw(
            st.sampled_from(
                [0, -1e-300, -0.0, 10_000.0000001, 10_001, "", "x" * 129, [], [0.5] * 10_001]
            )
        )
        obj[key] = edge
        return orjson.dumps(obj)
    obj[key] = draw(JSON_VALUE | st.just("weight") | st.just(True) | st.just([1, 2.5, None]))
    return orjson.dumps(obj)


def model_fields(line: bytes) -> WeightFields | PoseFields | None:
    """What the model makes of ``line``: a weight or pose message's fields, or None."""
    try:
        msg = parse_message(line)
    except MessageError:
        return None
    if isinstance(msg, WeightMsg):
        return WeightFields.of(msg)
    if isinstance(msg, PoseMsg):
        people = [PersonFields(list(p.kp), p.app) for p in msg.people]
        return PoseFields(msg.t, msg.camera, people)
    return None


def floats(fields: WeightFields | PoseFields) -> list[object]:
    """Every number a message's fields hold, in order."""
    if isinstance(fields, WeightFields):
        return [fields.t, fields.hz, *fields.g]
    out: list[object] = [fields.t]
    for p in fields.people:
        out += [v for k in p.kp for v in k] + list(p.app or [])
    return out


def same(a: WeightFields | PoseFields, b: WeightFields | PoseFields) -> bool:
    """Equal to the bit (repr tells -0.0 from 0.0) and of the same types."""
    return repr(a) == repr(b) and [type(x) for x in floats(a)] == [type(x) for x in floats(b)]


@settings(max_examples=400, deadline=None)
@given(valid_weight_line() | valid_pose_line())
def test_fast_path_takes_valid_lines_with_the_models_values(line: bytes) -> None:
    fast = parse_fast(line)
    model = model_fields(line)
    assert model is not None
    assert fast is not None
    assert all(type(x) is float for x in floats(fast) if x is not None)
    assert same(fast, model)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_weight_line() | valid_weight_line() | corrupted_pose_line() | valid_pose_line())
def test_fast_path_accepts_only_what_the_model_accepts(line: bytes) -> None:
    fast = parse_fast(line)
    if fast is not None:
        model = model_fields(line)
        assert model is not None, line
        assert same(fast, model), line


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"weight","plate":"p","t":1,"hz":60,"g":[3]}',  # [3.0]
        b'{"type":"\\u0077eight","plate":"p","t":1.0,"hz":60.0,"g":[1.0]}',  # a weight
        b'{"t":1,"plate":"p","hz":60,"g":[1.0],"type":"weight","t":2}',  # type last, t 2.0
        b'{"type":"pose","camera":"c","t":1,"people":[]}',
        b' {"type":"pose","camera":"c","t":1,"people":[],"more":{"a":[1,null]}} ',
        b'{"type":"weight","plate":"\xc3\xa9","t":1,"hz":60,"g":[1.0],"\xc3\xa9":0}',
    ],
)
def test_fast_path_takes_what_the_model_takes_in_any_form(line: bytes) -> None:
    fast = parse_fast(line)
    model = model_fields(line)
    assert fast is not None
    assert model is not None
    assert same(fast, model)


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"weight","plate":"p","t":true,"hz":60,"g":[1.0]}',  # model: 1.0
        b'{"type":"weight","plate":"p","t":"5","hz":60,"g":[1.0]}',  # model: 5.0
        b'{"type":"weight","plate":"p","t":1,"hz":60,"g":[NaN]}',  # model: not finite
        b'{"type":"weight","plate":"p","plate":"","t":1,"hz":60,"g":[1.0]}',  # last is empty
        b'{"type":"pose","camera":"c","t":1,"people":[{"kp":[[0,0,1]]}]}',  # 1 keypoint
        b'{"type":"pose","camera":"c","t":-1,"people":[]}',
        b'{"type":"gate","gate":"g","t":1,"token":"x"}',  # another type: the model's
        # Not UTF-8, in a key msgspec skips (the model rejects the line):
        b'{"type":"weight","plate":"p","t":1,"hz":60,"g":[1.0],"x":{"\xc2":null}}',
        b"[]",
        b"not json",
    ],
)
def test_fast_path_leaves_doubtful_lines_to_the_model(line: bytes) -> None:
    assert parse_fast(line) is None


@pytest.mark.parametrize(
    "line",
    [
        '{"type":"weight","plate":"\ud800","t":1,"hz":60,"g":[1.0]}',
        '{"type":"weight","plate":"p","t":1,"hz":60,"g":[1.0],"\udcff":0}',
    ],
)
def test_a_text_line_with_a_lone_surrogate_is_rejected_and_counted(line: str) -> None:
    # Such a str cannot be encoded as UTF-8 (one decoded with errors="surrogateescape"):
    # neither the fast path nor the engine may raise on it.
    assert parse_fast(line) is None
    engine = Engine(STORE)
    assert engine.feed_line(line) == []
    assert engine.stats.rejected == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        corrupted_weight_line() | valid_weight_line() | corrupted_pose_line() | valid_pose_line(),
        min_size=1,
        max_size=30,
    )
)
def test_engine_counts_the_same_with_and_without_the_fast_path(lines: list[bytes]) -> None:
    plates = [p.id for p in STORE.plates[:3]]
    stream = [
        orjson.dumps(
            {"type": "weight", "plate": plates[i % 3], "t": 100.0 + 0.2 * i, "hz": 60, "g": [5.0]}
        )
        for i in range(30)
    ]
    stream[5:5] = lines
    fast, model = Engine(STORE), Engine(STORE)
    rejected = 0
    for line in stream:
        fast.feed_line(line)
        try:
            msg = parse_message(line)
        except MessageError:
            rejected += 1
            continue
        model.feed(msg)
    fast.finish()
    model.finish()
    assert fast.stats.rejected == sum(fast.stats.reject_reasons.values()) == rejected
    assert replace(fast.stats, rejected=0, reject_reasons={}) == model.stats
    assert fast.shelf.stats == model.shelf.stats
    assert fast.people.stats == model.people.stats

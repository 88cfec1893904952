"""Protocol message parsing: valid lines parse, bad ones raise a one-line MessageError."""

from __future__ import annotations

import pytest

from walkout.domain.messages import (
    GateMsg,
    MessageError,
    PoseMsg,
    TrackMsg,
    WeightMsg,
    parse_message,
)

SPEC_EXAMPLES = [
    (
        b'{"type": "weight", "plate": "G4-S1-P1", "t": 1587531996.955, "hz": 60,'
        b' "g": [1203.4, 1203.1, null, 1202.8]}',
        WeightMsg,
    ),
    (
        b'{"type": "track", "t": 1587531994.630, "people": [{"id": "3325379692103139202",'
        b' "head": [1.32, 0.22, 1.66], "hands": [[1.34, 0.17, 1.55], [1.27, 0.28, 1.35]]}]}',
        TrackMsg,
    ),
    (
        b'{"type": "gate", "gate": "entry-1", "t": 1587531990.100, "token": "opaque string"}',
        GateMsg,
    ),
]


@pytest.mark.parametrize(("line", "kind"), SPEC_EXAMPLES)
def test_spec_examples_parse(line: bytes, kind: type) -> None:
    assert isinstance(parse_message(line), kind)


def test_pose_needs_17_keypoints() -> None:
    kp = [[1.0, 2.0, 0.5]] * 17
    line = PoseMsg.model_validate({"camera": "c", "t": 1.0, "people": [{"kp": kp}]})
    ok = parse_message(line.model_dump_json())
    assert isinstance(ok, PoseMsg)
    short = b'{"type": "pose", "camera": "c", "t": 1.0, "people": [{"kp": [[1, 2, 0.5]]}]}'
    with pytest.raises(MessageError, match=r"people\.0\.kp"):
        parse_message(short)


def test_pose_people_may_carry_an_appearance_descriptor() -> None:
    kp = [[1.0, 2.0, 0.5]] * 17
    msg = parse_message(
        PoseMsg.model_validate(
            {"camera": "c", "t": 1.0, "people": [{"kp": kp, "app": [0.5, -0.25, 1]}, {"kp": kp}]}
        ).model_dump_json()
    )
    assert isinstance(msg, PoseMsg)
    assert [p.app for p in msg.people] == [[0.5, -0.25, 1.0], None]


_KP17 = b"[" + b",".join([b"[1, 2, 0.5]"] * 17) + b"]"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"type": "weight", "plate": "p", "t": 1, "hz": 60, "g": [NaN]}', "finite"),
        (
            b'{"type": "pose", "camera": "c", "t": 1, "people": [{"kp": '
            + _KP17
            + b', "app": [1, NaN]}]}',
            "people.0.app.1",
        ),
        (
            b'{"type": "pose", "camera": "c", "t": 1, "people": [{"kp": '
            + _KP17
            + b', "app": []}]}',
            "people.0.app",
        ),
        (
            b'{"type": "pose", "camera": "c", "t": 1, "people": [{"kp": '
            + _KP17
            + b', "app": "red"}]}',
            "people.0.app",
        ),
        (
            b'{"type": "pose", "camera": "c", "t": 1, "people": [{"kp": '
            + _KP17
            + b', "app": ['
            + b",".join([b"0.1"] * 513)
            + b"]}]}",
            "people.0.app",
        ),
        (b'{"type": "weight", "plate": "p", "t": 1, "hz": 60, "g": "12"}', "g"),
        (b'{"type": "weight", "plate": "p", "t": 1, "hz": 60, "g": [1.0', "json"),
        (b'{"type": "teleport", "t": 1}', "tag"),
        (b'{"type": "gate", "gate": "e", "t": -5, "token": "x"}', "t"),
        (b"[]", "object"),
    ],
)
def test_bad_lines_raise_clear_errors(line: bytes, reason: str) -> None:
    with pytest.raises(MessageError) as info:
        parse_message(line)
    message = str(info.value)
    assert "\n" not in message
    assert reason.lower() in message.lower()

"""Sensor messages (PROTOCOL section 2): the one vocabulary of what hardware says.

Parsing is strict about what the protocol requires (types, finiteness, 17 keypoints) and
lenient about unknown keys, so that recordings from later versions, which may carry optional
fields we do not know yet, still replay. A line that does not parse raises
:class:`MessageError` with a one-line reason; callers count and skip it.

Weight lines are the vast majority of a recording (every plate, five times a second), so they
have a fast path, :func:`parse_weight`: orjson and a hand-written check of :class:`WeightMsg`'s
constraints, giving a tuple rather than a model (cheaper to make and to read; see
docs/benchmarks.md). It only ever accepts what the model accepts, with the same values;
anything it is not sure of (another type, a bool or string where a number goes, an integer
sample, a bad line) it leaves to :func:`parse_message`, so rejections and their reasons stay
the model's.
"""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

#: Bounds of the models, shared with the fast path :func:`parse_weight`.
_ID_MAX = 128
_HZ_MAX = 10_000
_SAMPLES_MAX = 10_000

Finite = Annotated[float, Field(allow_inf_nan=False)]
Point3 = tuple[Finite, Finite, Finite]
Id = Annotated[str, Field(min_length=1, max_length=_ID_MAX)]

#: COCO-17 keypoint names, in protocol order.
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
LEFT_WRIST = COCO_KEYPOINTS.index("left_wrist")
RIGHT_WRIST = COCO_KEYPOINTS.index("right_wrist")


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    t: Annotated[float, Field(allow_inf_nan=False, ge=0)]


class WeightMsg(_Message):
    type: Literal["weight"] = "weight"
    plate: Id
    hz: Annotated[float, Field(gt=0, le=_HZ_MAX, allow_inf_nan=False)]
    g: Annotated[list[Finite | None], Field(min_length=1, max_length=_SAMPLES_MAX)]


Keypoint = tuple[Finite, Finite, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]


#: Longest appearance descriptor a pose detection may carry.
APP_MAX = 512


class PosePerson(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kp: Annotated[list[Keypoint], Field(min_length=17, max_length=17)]
    #: walkout's optional extension: the detector's appearance descriptor of the person (a
    #: re-identification embedding; compared by cosine, so its scale does not matter).
    app: Annotated[list[Finite], Field(min_length=1, max_length=APP_MAX)] | None = None


class PoseMsg(_Message):
    type: Literal["pose"] = "pose"
    camera: Id
    people: list[PosePerson]


class TrackPerson(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id
    head: Point3
    hands: Annotated[list[Point3], Field(max_length=2)]


class TrackMsg(_Message):
    type: Literal["track"] = "track"
    people: list[TrackPerson]


class GateMsg(_Message):
    type: Literal["gate"] = "gate"
    gate: Id
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    #: Extension: the gate, which checks each token with the store service, says whose it is.
    role: Literal["shopper", "staff"] | None = None


class ProductMsg(_Message):
    type: Literal["product"] = "product"
    camera: Id
    at: tuple[Finite, Finite]
    scores: dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]


Message = Annotated[
    WeightMsg | PoseMsg | TrackMsg | GateMsg | ProductMsg, Field(discriminator="type")
]
MESSAGE_TYPES: tuple[str, ...] = ("weight", "pose", "track", "gate", "product")

_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


class MessageError(ValueError):
    """A recording line or live payload that is not a valid protocol message."""


def _reason(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err['msg']}{more}" if where else f"{err['msg']}{more}"


def parse_message(raw: str | bytes) -> Message:
    """Parse one JSON line into a typed message, or raise :class:`MessageError`."""
    try:
        return _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise MessageError(_reason(exc)) from None


class WeightFields(NamedTuple):
    """A weight message's fields as :func:`parse_weight` gives them: the values a
    :class:`WeightMsg` would hold, without building one (a tuple is far cheaper)."""

    t: float
    plate: str
    hz: float
    g: list[float | None]

    @staticmethod
    def of(msg: WeightMsg) -> WeightFields:
        """The fields of a message already parsed (``Engine.feed``)."""
        return WeightFields(msg.t, msg.plate, msg.hz, msg.g)


#: The types a sample may have on the fast path (orjson gives no NaN or infinity: it rejects
#: such lines, so a float from it is finite).
_SAMPLE_TYPES = frozenset((float, type(None)))


def parse_weight(raw: str | bytes) -> WeightFields | None:
    """The fast path for weight lines: their fields when ``raw`` is a weight message that
    :func:`parse_message` accepts, else None (not a weight line, or not surely valid: call
    :func:`parse_message` for the message or the reason). Accepts exactly the same values:
    ``t`` finite and >= 0, ``hz`` in (0, 10000], a plate id of 1-128 characters, 1-10000
    samples, each a finite float or null; unknown keys are ignored and a repeated key's last
    value counts, as in pydantic-core. Integers (JSON ``60``) become floats, as the model's lax
    mode makes them, except in samples (the fast path leaves those to the model)."""
    # Other lines (pose frames of a few kB above all) are told apart without parsing them: a
    # weight line names its type (most start with it), and one that spells it with escapes
    # goes to the model.
    if isinstance(raw, bytes):
        if not raw.startswith(b'{"type":"weight"') and b'"weight"' not in raw:
            return None
    elif not raw.startswith('{"type":"weight"') and '"weight"' not in raw:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or obj.get("type") != "weight":
        return None
    try:
        t, hz, plate, g = obj["t"], obj["hz"], obj["plate"], obj["g"]
    except KeyError:
        return None
    # ``type(x) is int`` leaves out bools, which the model would take as numbers: not sure.
    if type(t) is int:
        t = float(t)
    elif type(t) is not float:
        return None
    if type(hz) is int:
        hz = float(hz)
    elif type(hz) is not float:
        return None
    if (
        t >= 0.0
        and 0.0 < hz <= _HZ_MAX
        and type(plate) is str
        and 0 < len(plate) <= _ID_MAX
        and type(g) is list
        and 0 < len(g) <= _SAMPLES_MAX
        and _SAMPLE_TYPES.issuperset(map(type, g))
    ):
        return WeightFields(t, plate, hz, g)
    return None

"""Sensor messages (PROTOCOL section 2): the one vocabulary of what hardware says.

Parsing is strict about what the protocol requires (types, finiteness, 17 keypoints) and
lenient about unknown keys, so that recordings from later versions, which may carry optional
fields we do not know yet, still replay. A line that does not parse raises
:class:`MessageError` with a one-line reason; callers count and skip it.

Weight and pose lines are nearly all of a recording (every plate five times a second, every
camera ten), so they have a fast path, :func:`parse_fast`: msgspec decodes them straight into
:class:`WeightFields` and :class:`PoseFields`, plain structs with the models' fields and
constraints, about four times faster than orjson and a hand-written check and three times
faster than the models (see docs/benchmarks.md). msgspec is stricter than the models' lax mode
(no bool or string where a number goes), so the fast path only ever accepts what the model
accepts, with the same values; anything else (another type, a doubtful or bad line) it leaves
to :func:`parse_message`, so rejections and their reasons stay the model's.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

#: Bounds of the models, shared with the fast path :func:`parse_fast`.
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


# -- the fast path ------------------------------------------------------------------------
# The structs mirror the models' fields and bounds exactly; JSON has no NaN or infinity and
# msgspec rejects a number out of a float's range, so every float they hold is finite.

_FastId = Annotated[str, Meta(min_length=1, max_length=_ID_MAX)]
_FastT = Annotated[float, Meta(ge=0)]


class WeightFields(msgspec.Struct, frozen=True, tag_field="type", tag="weight"):
    """A weight message's fields as :func:`parse_fast` gives them: the values a
    :class:`WeightMsg` would hold, without building one (a struct is far cheaper)."""

    t: _FastT
    plate: _FastId
    hz: Annotated[float, Meta(gt=0, le=_HZ_MAX)]
    g: Annotated[list[float | None], Meta(min_length=1, max_length=_SAMPLES_MAX)]

    @staticmethod
    def of(msg: WeightMsg) -> WeightFields:
        """The fields of a message already parsed (``Engine.feed``)."""
        return WeightFields(msg.t, msg.plate, msg.hz, msg.g)


class PersonFields(msgspec.Struct, frozen=True):
    """One detection of a :class:`PoseFields` frame: :class:`PosePerson`'s fields."""

    kp: Annotated[
        list[tuple[float, float, Annotated[float, Meta(ge=0, le=1)]]],
        Meta(min_length=len(COCO_KEYPOINTS), max_length=len(COCO_KEYPOINTS)),
    ]
    app: Annotated[list[float], Meta(min_length=1, max_length=APP_MAX)] | None = None


class PoseFields(msgspec.Struct, frozen=True, tag_field="type", tag="pose"):
    """A pose message's fields as :func:`parse_fast` gives them: :class:`PoseMsg`'s."""

    t: _FastT
    camera: _FastId
    people: list[PersonFields]


#: A frame of one camera, as a model or from the fast path (the tracker reads either).
PoseFrame = PoseMsg | PoseFields

_FAST = msgspec.json.Decoder(WeightFields | PoseFields)


def parse_fast(raw: str | bytes) -> WeightFields | PoseFields | None:
    """The fast path for weight and pose lines: their fields when ``raw`` is such a message
    that :func:`parse_message` accepts, else None (another type, or not surely valid: call
    :func:`parse_message` for the message or the reason). Accepts exactly the same values:
    unknown keys are ignored and a repeated key's last value counts, as in pydantic-core;
    integers become floats, as the model's lax mode makes them. msgspec does not check the
    UTF-8 of what it skips (an unknown key), so bytes that are not all ASCII are checked first."""
    try:
        if not raw.isascii() and isinstance(raw, bytes):
            raw.decode()
        return _FAST.decode(raw)
    except (msgspec.DecodeError, UnicodeError):  # ValidationError too: a subclass
        return None
